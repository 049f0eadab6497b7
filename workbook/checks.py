"""check(): run an exercise's tests on the learner's folder and show a short verdict."""

from pathlib import Path

from . import chapters, progress, runner
from .display import show_verdict
from .errors import CheckFailed, WorkbookError


def _indent(text: str, prefix: str) -> list[str]:
    return [prefix + line for line in text.splitlines()]


def verdict(exercise_id: str, result: dict) -> tuple[bool, str]:
    """Turn the worker's results into (passed, the lines a learner reads)."""
    if "crash" in result:
        raise WorkbookError(f"The check of exercise {exercise_id} stopped before it could report: {result['crash']}")
    if result.get("problems") or not result.get("tests"):
        detail = "\n".join(result.get("problems", [])) or "no checks were found"
        raise WorkbookError(
            f"The checks for exercise {exercise_id} could not run. This is the workbook's fault, not yours: "
            f"please report it.\n{detail}"
        )
    tests = result["tests"]
    failed = [t for t in tests if t["outcome"] == "failed"]
    setup_messages = {t["message"] for t in failed if t.get("setup")}
    if all(t["outcome"] == "skipped" for t in tests):
        raise WorkbookError(f"Every check of exercise {exercise_id} was skipped. This is the workbook's fault: please report it.")
    if failed and len(setup_messages) == 1 and len(failed) == len(tests):
        # one problem stops every test (the app does not load, a folder is missing): say it once
        return False, f"Exercise {exercise_id}: the checks could not start.\n  {setup_messages.pop()}"
    lines = []
    if failed:
        lines.append(f"Exercise {exercise_id}: {len(failed)} of {len(tests)} checks failed.")
    else:
        lines.append(f"Exercise {exercise_id}: all {len(tests)} checks passed. Well done!")
    first_failure = True
    for test in tests:
        summary, _, hint = test["doc"].partition("\n")
        mark = {"passed": "✔", "failed": "✘", "skipped": "-"}[test["outcome"]]
        cases = f" ({test['cases']} cases)" if test.get("cases", 1) > 1 else ""
        lines.append(f"  {mark} {summary.strip()}{cases}")
        if test["outcome"] == "failed" and first_failure:
            first_failure = False
            if test.get("case"):
                lines.append(f"      Failed for: {test['case']}")
            if hint.strip():
                lines.extend(_indent(f"Hint: {hint.strip()}", "      "))
            lines.extend(_indent(test["message"], "      "))
    return not failed and not any(t["outcome"] == "skipped" for t in tests), "\n".join(lines)


def check(exercise_id: str) -> None:
    """Run the checks of one exercise on the Bookshelf folder here; raise CheckFailed if any fails."""
    exercise = chapters.exercise(exercise_id)
    chapter = chapters.chapter(exercise.chapter)
    folder = Path.cwd()
    result = runner.run_check(folder, exercise.id, chapter.check_file())
    passed, text = verdict(exercise.id, result)
    progress.record(folder, exercise.id, passed)
    show_verdict(passed, text)
    if not passed:
        raise CheckFailed(f"exercise {exercise.id}. Change the cell(s) above, run them, then run this check again.")
