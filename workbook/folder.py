"""Bring the learner's folder to the state a chapter expects, keeping every file safe."""

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import chapters, files
from . import reference as reference_files
from .errors import LearnerError

SOLUTION_REGION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n(?P<answer>.*?)^[ \t]*### END SOLUTION[^\n]*", re.S | re.M)
# what nbgrader's ClearSolutions leaves in place of an answer in a Python cell
STUB = "{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()"


@dataclass
class FolderChanges:
    """What start_chapter, fresh_start or catch_up found in the folder and did to it."""

    restored: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    # files that differ from the chapter's start because the learner changed them
    kept: list[str] = field(default_factory=list)
    # files that differ because this chapter's own cells already wrote them (a re-run after a restart)
    current: list[str] = field(default_factory=list)
    # files and folders that a later chapter wrote: this chapter's cells would take them back
    ahead: list[str] = field(default_factory=list)
    ahead_of: str = ""
    ahead_backup: Path | None = None
    # files that still hold an earlier chapter's version (an earlier chapter was run here): updated after a backup
    updated: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    backup: Path | None = None


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


@functools.cache
def _cells(number: str, stamp: int) -> tuple:
    """Return a chapter's solution cells (none for a chapter without a notebook, as in tests)."""
    path = chapters.SOLUTIONS / chapters.chapter(number).filename
    return tuple(chapters.read_notebook(path)["cells"]) if stamp else ()


def cells_of(number: str) -> tuple:
    path = chapters.SOLUTIONS / chapters.chapter(number).filename
    return _cells(chapters.chapter(number).number, path.stat().st_mtime_ns if path.exists() else 0)


def texts_of(number: str, written: chapters.WrittenFile, blanks: bool = True) -> set[str]:
    """Return what one %%writefile cell writes: its answer, and (by default) its blank exercise."""
    texts = {written.text}
    cells = cells_of(number)
    found = chapters.writefile_cell(cells[written.cell_index]) if blanks and cells else None
    if found:
        blank = SOLUTION_REGION.sub(lambda match: STUB.format(indent=match["indent"]), found[1])
        texts.add(chapters.file_text(blank))
    return texts


def versions(number: str, blanks: bool = True) -> dict[str, frozenset[str]]:
    """Return every text chapter `number`'s cells write, per path: given files, answers and (by default) blanks."""
    path = chapters.SOLUTIONS / chapters.chapter(number).filename
    return _versions(chapters.chapter(number).number, path.stat().st_mtime_ns if path.exists() else 0, blanks)


@functools.cache
def _versions(number: str, stamp: int, blanks: bool) -> dict[str, frozenset[str]]:
    # read once per version of the solution notebook: start_chapter asks for every later chapter's texts
    found: dict[str, set[str]] = {}
    for written in chapters.chapter(number).files:
        found.setdefault(written.path, set()).update(texts_of(number, written, blanks))
    return {path: frozenset(texts) for path, texts in found.items()}


def read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def missing_and_differing(folder: Path, reference: dict[str, str]) -> tuple[list[str], list[str]]:
    """Return the reference files that the folder lacks, and those whose text differs there."""
    missing, differing = [], []
    for relative, text in reference.items():
        path = folder / relative
        if not path.exists():
            missing.append(relative)
        elif read(path) != text:
            differing.append(relative)
    return missing, differing


def later_work(folder: Path, number: str) -> tuple[list[str], str]:
    """Return the paths in the folder that a later chapter wrote or made, and the latest such chapter."""
    own = versions(number)
    ahead, latest = [], ""
    for later in chapters.all_chapters():
        if later.number <= number:
            continue
        found = [path for path in later.creates if (folder / path).exists()]
        for path, texts in versions(later.number).items():
            text = read(folder / path)
            if text is not None and text in texts and text not in own.get(path, ()):
                found.append(path)
        if found:
            latest = later.number
            ahead.extend(path for path in found if path not in ahead)
    return ahead, latest


def earlier_versions(number: str) -> dict[str, set[str]]:
    """Return the given files and answers that the chapters before `number` write, per path (no blank exercises)."""
    texts: dict[str, set[str]] = {}
    for earlier in chapters.all_chapters():
        if earlier.number >= number:
            break
        for path, found in versions(earlier.number, blanks=False).items():
            texts.setdefault(path, set()).update(found)
    return texts


def carry_out(folder: Path, reference: dict[str, str], done: FolderChanges) -> FolderChanges:
    """Back up what is to be reset or set aside, then write the reference files to restore or reset."""
    if done.reset or done.set_aside or done.updated:
        done.backup = files.back_up(folder, done.reset + done.updated, done.set_aside).relative_to(folder)
    for relative in done.restored + done.reset + done.updated:
        files.write_text(folder, relative, reference[relative])
    return done


def fresh_start(folder: Path, number: str) -> FolderChanges:
    """Move what a chapter's commands create into a backup, and put back the reference files they read."""
    chapter = chapters.chapter(number)
    reference = {relative: chapters.state_before(chapter.number)[relative] for relative in chapter.resets}
    missing, differing = missing_and_differing(folder, reference)
    set_aside = [relative for relative in chapter.creates if (folder / relative).exists()]
    return carry_out(folder, reference, FolderChanges(restored=missing, reset=differing, set_aside=set_aside))


def answer_files(exercise_id: str) -> dict[str, str]:
    """Return the files an exercise's solution cells write, path to reference text."""
    exercise = chapters.exercise(exercise_id)
    return {
        written.path: written.text
        for written in chapters.chapter(exercise.chapter).files
        if written.cell_index in exercise.solution_cells
    }


def answer_regions(exercise_id: str) -> dict[str, list[str]]:
    """Return, per file, the reference answers of an exercise: the code between the solution markers."""
    exercise = chapters.exercise(exercise_id)
    chapter = chapters.chapter(exercise.chapter)
    cells = cells_of(chapter.number)
    regions: dict[str, list[str]] = {}
    for index in exercise.solution_cells:
        found = chapters.writefile_cell(cells[index])
        if found:
            for match in SOLUTION_REGION.finditer(found[1]):
                lines = match["answer"].rstrip("\n").split("\n")
                regions.setdefault(found[0], []).append("\n".join(line[len(match["indent"]):] for line in lines))
    return regions


def catch_up(folder: Path, exercise_id: str) -> FolderChanges:
    """Put the reference answer of one exercise in place, after backing up the learner's differing files."""
    answer = answer_files(exercise_id)
    missing, differing = missing_and_differing(folder, answer)
    return carry_out(folder, answer, FolderChanges(restored=missing, reset=differing))


def prepare(folder: Path, number: str, reset: bool = False) -> FolderChanges:
    """Restore missing reference files for a chapter; replace differing ones only on reset, after a backup."""
    chapter = chapters.chapter(number)
    reference = chapters.state_before(chapter.number)
    done = FolderChanges()
    # before anything is written: a later chapter's work is copied into a backup, so a way back exists
    done.ahead, done.ahead_of = later_work(folder, chapter.number)
    if done.ahead:
        copy = files.back_up(folder, [p for p in done.ahead if (folder / p).is_file()])
        done.ahead_backup = copy.relative_to(folder)
        for created in (p for p in done.ahead if (folder / p).is_dir()):
            files.copy_into(folder / created, folder, f"{done.ahead_backup.as_posix()}/{created}")
    # first what earlier chapters made by command: their replay needs the folder as they left it
    done.rebuilt = reference_files.restore_created(folder, chapter.number)
    missing, differing = missing_and_differing(folder, reference)
    done.restored = missing
    if reset:
        done.reset = differing
    else:
        own, older = versions(chapter.number), earlier_versions(chapter.number)
        for path in differing:
            text = read(folder / path)
            if text in own.get(path, ()):
                done.current.append(path)
            elif text in older.get(path, ()):
                done.updated.append(path)
            elif path not in done.ahead:
                done.kept.append(path)
    carry_out(folder, reference, done)
    # %%writefile does not create folders: make the ones this chapter writes into,
    # except inside what a command of the chapter creates (`flask db init` wants no migrations/ yet)
    for written in chapter.files:
        if not any(Path(written.path).is_relative_to(created) for created in chapter.creates):
            files.make_folders(folder, Path(written.path).parent.as_posix())
    return done
