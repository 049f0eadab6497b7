"""The verdict of a check run: passed or not, and the lines a learner reads (the same in check() and grading)."""

from . import chapters
from .errors import WorkbookBug
from .results import NOT_STARTED, SETUP, CheckRun, TestResult

MARKS = {"passed": "✔", "failed": "✘", "skipped": "-", "not run": "?"}


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
