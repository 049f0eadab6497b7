"""What a learner calls from a notebook, and every message it prints: chapters, checks and progress."""

import os
import sys
from pathlib import Path

from . import chapters, folder as folders, runner
from . import progress as progress_store
from .display import show_verdict
from .errors import CheckFailed, WorkbookBug
from .results import NOT_STARTED, SETUP, CheckRun, TestResult

MARKS = {"passed": "✔", "failed": "✘", "skipped": "-", "not run": "?"}


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
    for path, answers in folders.answer_regions(exercise.id).items():
        lines.append(f"\nThe answer in {path}:")
        lines += ["    " + line for answer in answers for line in answer.split("\n")]
    lines.append(
        "\nRunning the exercise's %%writefile cell again would write its own text back over this answer: "
        "copy the answer into that cell first if you want to run it again."
    )
    print("\n".join(lines))


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


def owner_of(where: str, exercise_id: str) -> str:
    """Return the id of another exercise whose answer cell writes the file named in `where`, or ""."""
    path = where.split(",")[0]
    # the exercise that wrote the file last before this one's chapter ends, not a later chapter's rewrite of it
    chapter = chapters.exercise(exercise_id).chapter
    owners = [
        other.id for found in chapters.all_chapters() if found.number <= chapter for other in found.exercises
        for written in found.files if written.path == path and written.cell_index in other.solution_cells
    ]
    return "" if not owners or exercise_id in owners else owners[-1]


def verdict(run: CheckRun) -> tuple[bool, str]:
    """Turn what a check run found into (passed, the lines a learner reads)."""
    name = f"Exercise {run.exercise}"
    if run.flagged:
        return False, f"{name}: the grader stopped your code because it {run.flagged}. This earns no points."
    if run.timed_out:
        return False, (
            f"{name}: the check ran for more than its time limit and was stopped. "
            "Look for a loop that never ends or a request that waits forever in your code, then run the check again."
        )
    if run.crash:
        return False, (
            f"{name}: the check stopped before it could report: {run.crash}. "
            "Does your code call os._exit(), end the process or kill one?"
        )
    if run.collection_errors:
        raise WorkbookBug(f"The checks for exercise {run.exercise} could not be loaded:\n" + "\n".join(run.collection_errors))
    if run.interruption:
        where = f" (in {run.interruption.where})" if run.interruption.where else ""
        return False, f"{name}: your code stopped the checks before they finished: {run.interruption.message}{where}"
    if not run.tests or run.exit_code in (4, 5):
        raise WorkbookBug(f"No checks were found for exercise {run.exercise}.")
    if all(test.outcome == "skipped" for test in run.tests):
        return False, (
            f"{name}: every check was skipped, so nothing was checked. If your code does not call pytest.skip(), "
            "this is the workbook's fault: please report it."
        )
    failed = [test for test in run.tests if test.outcome == "failed"]
    problems = [test.problem for test in failed if test.problem]
    if problems and all(problem.kind == NOT_STARTED for problem in problems):
        places = sorted({problem.where for problem in problems})
        others = sorted({owner_of(place, run.exercise) for place in places} - {""})
        where = stubs_at(places)
        if others:
            return False, (
                f"{name} cannot be checked yet: {where} NotImplementedError, "
                f"and that is exercise {', '.join(others)}. Solve it first, or run catch_up(\"{others[0]}\") to go on."
            )
        return False, (
            f"{name}: not started yet. {where} NotImplementedError: "
            "replace `# YOUR CODE HERE` and `raise NotImplementedError()` with your code, as the exercise asks."
        )
    setup_messages = {problem.message for problem in problems if problem.kind == SETUP}
    if problems and len(failed) == len(run.tests) and len(setup_messages) == 1 and len(problems) == len(failed) \
            and all(problem.kind == SETUP for problem in problems):
        # one problem stops every test (the app does not load, a migration fails): say it once
        problem = problems[0]
        where = f" (in {problem.where})" if problem.where and problem.where not in problem.message else ""
        if problem.where.startswith("migrations/"):
            # the migration is the exercise: it ran, and failed
            return False, f"{name}: every check stopped at the same error.\n  {problem.message}{where}"
        return False, f"{name}: the checks could not start.\n  {problem.message}{where}"
    if run.passed:
        lines = [f"{name}: all {len(run.tests)} checks passed. Well done!"]
    elif failed:
        lines = [f"{name}: {len(failed)} of {len(run.tests)} checks failed."]
    else:
        lines = [f"{name}: the checks did not all finish, so the exercise does not count as solved."]
    first = True
    for test in run.tests:
        cases = f" ({test.cases} cases)" if test.cases > 1 else ""
        lines.append(f"  {MARKS.get(test.outcome, '?')} {test.summary}{cases}")
        if test.outcome == "failed" and first:
            first = False
            lines += failure_details(test)
    return run.passed, "\n".join(lines)


def stubs_at(places: list[str]) -> str:
    """Say where stubs still raise: "a.py, line 3 still raises" or "a.py, lines 3 and 9 still raise"."""
    lines_in: dict[str, list[str]] = {}
    for place in places:
        path, found, line = place.rpartition(", line ")
        lines_in.setdefault(path if found else place, []).append(line if found else "")
    parts = []
    for path, lines in lines_in.items():
        lines = sorted(filter(None, lines), key=lambda line: int(line) if line.isdigit() else 0)
        if not lines:
            parts.append(path)
        elif len(lines) == 1:
            parts.append(f"{path}, line {lines[0]}")
        else:
            parts.append(f"{path}, lines {', '.join(lines[:-1])} and {lines[-1]}")
    return f"{'; '.join(parts)} still {'raises' if len(places) == 1 else 'raise'}"


def failure_details(test: TestResult) -> list[str]:
    """Return the indented lines under the first failing test: the case, a hint, and what went wrong."""
    lines = []
    if test.failed_case:
        lines.append(f"      Failed for: {test.failed_case}")
    problem = test.problem
    if problem is None:
        return lines
    if problem.kind == NOT_STARTED:
        lines.append(f"      {problem.where} still raises NotImplementedError: this part is not written yet.")
        return lines
    if test.hint:
        lines.append(f"      Hint: {test.hint}")
    where = f" (in {problem.where})" if problem.where and problem.where not in problem.message else ""
    lines += ["      " + line for line in f"{problem.message}{where}".splitlines()]
    return lines


# ---- progress ---------------------------------------------------------------------------------------


def progress() -> None:
    """Print a table of every chapter's exercises: passed, not yet, or not tried."""
    print(progress_store.table(Path.cwd()))

