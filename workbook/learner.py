"""What a learner calls from a notebook, and every message it prints: chapters, checks and progress."""

import os
import re
import sys
from pathlib import Path

from . import chapters, folder as folders, runner
from . import progress as progress_store
from .display import show_verdict
from .errors import CheckFailed
from .verdict import verdict


def _here() -> Path:
    here = Path.cwd()
    folders.ensure_workbook_folder(here)
    return here


# ---- starting a chapter -----------------------------------------------------------------------------


def start_chapter(number: str, reset: bool = False) -> None:
    """Bring the Bookshelf folder here to the state chapter `number` expects, and say what changed."""
    here = _here()
    chapter = chapters.chapter(number)
    # `!flask ...` cells must find this environment's flask even when JupyterLab was started without activating it
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    done = folders.prepare(here, chapter.number, reset=reset)
    runner.warm_up()
    print(chapter_summary(chapter, done))


def chapter_summary(chapter: chapters.Chapter, done: folders.FolderChanges) -> str:
    """Say what start_chapter found and did, and what the learner may want to do about it."""
    lines = [f"Chapter {chapter.number} is ready: {chapter.title}"]
    if done.rebuilt:
        lines.append(f"  rebuilt with the commands of earlier chapters: {', '.join(done.rebuilt)}")
    if done.restored:
        lines.append(f"  restored from the reference: {', '.join(done.restored)}")
    if done.reset:
        lines.append(f"  reset to the reference: {', '.join(done.reset)}")
    if done.updated:
        lines.append(f"  brought up to this chapter's start (they held an earlier chapter's version): {few(done.updated)}")
    if done.backup:
        lines.append(f"  your versions were saved in {done.backup.as_posix()}/")
    if done.current:
        lines.append(f"  already written by this chapter's cells (kept): {', '.join(done.current)}")
    if done.kept:
        lines.append(f"  kept your own version of: {', '.join(done.kept)}")
        lines.append(
            f'  (start_chapter("{chapter.number}", reset=True) would replace them with the versions this chapter '
            "starts from, after a backup; then run this chapter's cells again)"
        )
    if done.ahead:
        lines += [
            f"Careful: this folder holds Bookshelf from a later chapter ({done.ahead_of}): {few(done.ahead)}.",
            f"  Running this chapter's cells would replace those files with chapter {chapter.number}'s versions.",
            f"  A copy of them is in {done.ahead_backup.as_posix()}/. To go back, copy them from there into this folder,",
            f'  or open chapter {done.ahead_of} and run start_chapter("{done.ahead_of}", reset=True) for its reference files.',
        ]
    return "\n".join(lines)


def few(paths: list[str], shown: int = 6) -> str:
    """Name paths briefly: those inside a named folder are left out, and at most `shown` are listed."""
    tops = sorted(p for p in paths if not any(p != other and p.startswith(other + "/") for other in paths))
    more = f" and {len(tops) - shown} more" if len(tops) > shown else ""
    return ", ".join(tops[:shown]) + more


def fresh_start(number: str) -> None:
    """Before a chapter's commands build something from scratch, move an earlier run's result into backups/."""
    done = folders.fresh_start(_here(), number)
    if not (done.set_aside or done.reset or done.restored):
        print("Nothing from an earlier run is in the way.")
        return
    lines = []
    if done.set_aside:
        lines.append(f"Moved into {done.backup.as_posix()}/: {', '.join(done.set_aside)}")
    if done.reset or done.restored:
        lines.append(f"Put the reference version back: {', '.join(done.reset + done.restored)}")
    if done.reset:
        lines.append("(your version is in the backup too)")
    print("\n".join(lines))


def catch_up(exercise_id: str) -> None:
    """Put the reference answer of one exercise in place (yours goes to backups/), to carry on with the chapter."""
    here = _here()
    exercise = chapters.exercise(exercise_id)
    if not chapters.is_released(exercise.id):
        print(f"The answer of exercise {exercise.id} is not released in this copy of the workbook: "
              "solve it, or ask your instructor how to go on.")
        return
    done = folders.catch_up(here, exercise.id)
    changed = done.reset + done.restored
    if not changed:
        print(f"Your files already hold the reference answer of exercise {exercise.id}.")
        return
    lines = [f"Exercise {exercise.id}: the reference answer is in place in {', '.join(changed)}."]
    if done.backup:
        lines.append(f"Your version is in {done.backup.as_posix()}/.")
    texts = folders.answer_files(exercise.id)
    for path, answers in folders.answer_regions(exercise.id).items():
        lines += answer_shown(path, answers, texts.get(path, ""))
    lines.append(
        "\nRunning the exercise's %%writefile cell again would write its own text back over this answer: "
        "copy the answer into that cell first if you want to run it again."
    )
    print("\n".join(lines))


def answer_shown(path: str, answers: list[str], text: str) -> list[str]:
    """Return the lines that show a file's reference answer: each region apart, named by the function it is in,
    when the file has several (07.1's tokens.py has one in reset_token and one in member_to_reset)."""
    if len(answers) == 1:
        return [f"\nThe answer in {path}:", *("    " + line for line in answers[0].split("\n"))]
    lines = [f"\nThe answer in {path}, in {len(answers)} places:"]
    for number, answer in enumerate(answers, start=1):
        function = enclosing_function(text, answer)
        lines.append(f"  {number}. in {function}():" if function else f"  {number}.")
        lines += ["    " + line for line in answer.split("\n")]
    return lines


def enclosing_function(text: str, answer: str) -> str:
    """Return the name of the function whose body holds this answer in the file's text, or "" if it is not found."""
    wanted = [line.strip() for line in answer.split("\n")]
    file_lines = text.split("\n")
    for index in range(len(file_lines) - len(wanted) + 1):
        if [line.strip() for line in file_lines[index:index + len(wanted)]] == wanted:
            for above in reversed(file_lines[:index]):
                found = re.match(r"\s*(?:async\s+)?def\s+(\w+)", above)
                if found:
                    return found[1]
            return ""
    return ""


# ---- checking an exercise ---------------------------------------------------------------------------


def check(exercise_id: str) -> None:
    """Run the checks of one exercise on a copy of the Bookshelf folder here; raise CheckFailed if any fails."""
    exercise = chapters.exercise(exercise_id)
    chapter = chapters.chapter(exercise.chapter)
    here = Path.cwd()
    run = runner.run_check(here, exercise.id, chapter.check_file())
    passed, text = verdict(run)
    lines = [text, *(f"Note: your code raised a warning: {warning}" for warning in run.warnings)]
    if not passed:
        # a skipped given cell explains a failure better than any hint about the answer: say it first
        lines[:0] = [
            f"First: {path} is not what the given cell `%%writefile {path}` above writes. "
            "Run that cell (and the cells after it) again, then this check."
            for path in given_files_out_of_date(here, exercise)
        ]
    show_verdict(passed, "\n".join(lines))
    # the verdict is shown first: a progress file that cannot be written never hides it
    trouble = progress_store.record(here, exercise.id, passed)
    if trouble:
        print(trouble)
    if not passed:
        raise CheckFailed(f"exercise {exercise.id}. Change the cell(s) above, run them, then run this check again.")


def given_files_out_of_date(here: Path, exercise: chapters.Exercise) -> list[str]:
    """Return the files that a given (not exercise) cell before the check wrote last, and that differ now."""
    if not (here / "bookshelf" / "__init__.py").exists():
        return []  # nothing of the chapter is there yet: the verdict already says what to run
    chapter = chapters.chapter(exercise.chapter)
    answer_cells = {index for other in chapter.exercises for index in other.solution_cells}
    last_write: dict[str, chapters.WrittenFile] = {}
    written_later: dict[str, set[str]] = {}
    for written in chapter.files:
        if written.cell_index < exercise.check_cell:
            last_write[written.path] = written
        else:
            written_later.setdefault(written.path, set()).update(folders.texts_of(chapter.number, written))
    for later in chapters.all_chapters():
        if later.number > chapter.number:
            for path, texts in folders.versions(later.number).items():
                written_later.setdefault(path, set()).update(texts)
    out_of_date = []
    for path, written in last_write.items():
        text = folders.read(here / path)
        # a file that a later cell or chapter wrote means the learner went on, not that a cell was skipped
        if written.cell_index not in answer_cells and text != written.text and text not in written_later.get(path, ()):
            out_of_date.append(path)
    return out_of_date


# ---- progress ---------------------------------------------------------------------------------------


def progress() -> None:
    """Print a table of every chapter's exercises: passed, not yet, or not tried."""
    print(progress_store.table(Path.cwd()))

