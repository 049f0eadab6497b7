"""Bring the learner's folder to the state a chapter expects, keeping every file safe."""

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import chapters
from . import reference as reference_files
from .errors import LearnerError

BACKUPS = "backups"


@dataclass
class Preparation:
    """What start_chapter did to the folder."""

    restored: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    backup: Path | None = None

    def summary(self, chapter: "chapters.Chapter") -> str:
        lines = [f"Chapter {chapter.number} is ready: {chapter.title}"]
        if self.rebuilt:
            lines.append(f"  rebuilt with the commands of earlier chapters: {', '.join(self.rebuilt)}")
        if self.restored:
            lines.append(f"  restored from the reference: {', '.join(self.restored)}")
        if self.reset:
            lines.append(f"  reset to the reference: {', '.join(self.reset)}")
        if self.backup:
            lines.append(f"  your versions were saved in {self.backup.as_posix()}/")
        if self.kept:
            lines.append(f"  kept your own version of: {', '.join(self.kept)}")
            lines.append(f'  (to replace them with the reference, run start_chapter("{chapter.number}", reset=True))')
        return "\n".join(lines)


def ensure_workbook_folder(folder: Path) -> None:
    """Refuse folders where a chapter would scatter files the learner does not expect."""
    if (folder / "pyproject.toml").exists() and (folder / "workbook").is_dir():
        raise LearnerError(
            f"This notebook is running in the workbook's top folder ({folder}). "
            "Open the chapters from notebooks/ instead, so that Bookshelf is written there."
        )
    if not any(folder.glob("*.ipynb")):
        raise LearnerError(
            f"There is no notebook in {folder}, so this is not a chapter's folder. "
            "Open the chapter notebook from the folder where it is saved (notebooks/) and run it there."
        )


def new_backup_folder(folder: Path) -> Path:
    """Create and return an unused timestamped folder under backups/."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    for attempt in range(1000):
        candidate = folder / BACKUPS / (stamp if attempt == 0 else f"{stamp}_{attempt}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
    raise LearnerError(f"Could not create a new backup folder in {folder / BACKUPS}; please tidy it up.")


def back_up(folder: Path, copied: list[str], moved: list[str] = ()) -> Path:
    """Copy (or move) these files and folders into a new timestamped backup folder and return it."""
    target = new_backup_folder(folder)
    for relative in [*copied, *moved]:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if relative in moved:
            shutil.move(folder / relative, destination)
        else:
            destination.write_bytes((folder / relative).read_bytes())
    return target


def missing_and_differing(folder: Path, reference: dict[str, str]) -> tuple[list[str], list[str]]:
    """Return the reference files that the folder lacks, and those whose text differs there."""
    missing, differing = [], []
    for relative, text in reference.items():
        path = folder / relative
        if not path.exists():
            missing.append(relative)
        elif path.read_text(encoding="utf-8", errors="replace") != text:
            differing.append(relative)
    return missing, differing


def carry_out(folder: Path, reference: dict[str, str], done: Preparation) -> Preparation:
    """Back up what is to be reset or set aside, then write the reference files to restore or reset."""
    if done.reset or done.set_aside:
        done.backup = back_up(folder, done.reset, done.set_aside).relative_to(folder)
    for relative in done.restored + done.reset:
        reference_files.write(folder, relative, reference[relative])
    return done


def fresh_start(folder: Path, number: str) -> Preparation:
    """Move what a chapter's commands create into a backup, and put back the reference files they read."""
    chapter = chapters.chapter(number)
    reference = {relative: chapters.state_before(chapter.number)[relative] for relative in chapter.resets}
    missing, differing = missing_and_differing(folder, reference)
    set_aside = [relative for relative in chapter.creates if (folder / relative).exists()]
    return carry_out(folder, reference, Preparation(restored=missing, reset=differing, set_aside=set_aside))


def catch_up(folder: Path, exercise_id: str) -> Preparation:
    """Put the reference answer of one exercise in place, after backing up the learner's differing files."""
    exercise = chapters.exercise(exercise_id)
    answer = {
        written.path: written.text
        for written in chapters.chapter(exercise.chapter).files
        if written.cell_index in exercise.solution_cells
    }
    missing, differing = missing_and_differing(folder, answer)
    return carry_out(folder, answer, Preparation(restored=missing, reset=differing))


def prepare(folder: Path, number: str, reset: bool = False) -> Preparation:
    """Restore missing reference files for a chapter; replace differing ones only on reset, after a backup."""
    chapter = chapters.chapter(number)
    reference = chapters.state_before(chapter.number)
    # first what earlier chapters made by command: their replay needs the folder as they left it
    rebuilt = reference_files.restore_created(folder, chapter.number)
    missing, differing = missing_and_differing(folder, reference)
    done = Preparation(restored=missing, rebuilt=rebuilt)
    if reset:
        done.reset = differing
    else:
        done.kept = differing
    carry_out(folder, reference, done)
    # %%writefile does not create folders: make the ones this chapter writes into,
    # except inside what a command of the chapter creates (`flask db init` wants no migrations/ yet)
    for written in chapter.files:
        if not any(Path(written.path).is_relative_to(created) for created in chapter.creates):
            (folder / written.path).parent.mkdir(parents=True, exist_ok=True)
    return done
