"""Judge a run: an exercise's status and points from its public checks and hidden tests, as plain values."""

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WorkbookBug
from ..results import CheckRun
from ..verdict import verdict

STATUSES = ("passed", "failed", "missing", "error", "flagged")
# under --partial, the public checks earn at most this share of an exercise's points, the hidden tests the rest
PUBLIC_SHARE = 0.5


@dataclass
class Result:
    """One student's verdict on one exercise."""

    student: str
    exercise: str
    max_points: float
    status: str = "missing"
    points: float = 0
    lines: list[str] = field(default_factory=list)
    hidden: str = ""
    # what each failed hidden test checks, read by the grader from tests/hidden, never from the run
    hidden_failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the shares of public checks and hidden tests that passed (for --partial)
    public_passed: float = 0.0
    hidden_passed: float = 0.0
    override: str = ""


@functools.cache
def hidden_tests(test_file: Path) -> dict[str, dict[str, str]]:
    """Return, by exercise, each hidden test's name and the first line of its docstring, read from the file itself."""
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(test_file.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "exercise" and decorator.args \
                    and isinstance(decorator.args[0], ast.Constant):
                doc = (ast.get_docstring(node) or node.name.replace("_", " ")).partition("\n")[0].strip()
                found.setdefault(decorator.args[0].value, {})[node.name] = doc
    return found


def judge_public(result: Result, run: CheckRun) -> None:
    """Set an exercise's status and feedback from its public checks: the same verdict as the learner's check()."""
    try:
        passed, text = verdict(run)
    except WorkbookBug as error:
        result.status, result.lines = "error", [f"The grader could not run the checks of {result.exercise}: {error}"]
        return
    result.lines = text.splitlines() + [f"Note: your code raised a warning: {w}" for w in run.warnings]
    counted = [test for test in run.tests if test.outcome != "skipped"]
    if run.flagged:
        result.status = "flagged"
    elif passed:
        result.status = "passed"
    elif run.timed_out or run.crash:
        result.status = "error"
    else:
        result.status = "failed"
    if result.status in ("passed", "failed") and counted:
        result.public_passed = sum(test.outcome == "passed" for test in counted) / len(counted)


def judge_hidden(result: Result, run: CheckRun, expected: dict[str, str], log: list[str], partial: bool) -> None:
    """Count the hidden tests that passed, by the grader's own list of them; nothing the run printed is kept."""
    if run.flagged:
        result.status = "flagged"
        result.hidden, result.public_passed = "The grader stopped your code while the hidden tests ran.", 0.0
        log.append(f"{result.student} {result.exercise} (hidden tests): {run.flagged}")
        return
    outcomes = {test.name: test.outcome for test in run.tests if test.name in expected}
    passed = [name for name in expected if outcomes.get(name) == "passed"]
    if run.timed_out or run.crash or run.interruption or not outcomes:
        result.hidden = "The hidden tests could not finish."
        if result.status == "passed":
            result.status = "error" if (run.timed_out or run.crash) else "failed"
        return
    result.hidden = f"{len(passed)} of {len(expected)} hidden tests passed."
    result.hidden_passed = len(passed) / len(expected)
    result.hidden_failed = [doc for name, doc in expected.items() if name not in passed]
    if len(passed) < len(expected) and result.status == "passed":
        result.status = "failed"
        if not partial:
            log.append(f"{result.student} {result.exercise}: public checks passed, {result.hidden}")


def score(result: Result, partial: bool, has_hidden: bool) -> None:
    """Set the points: all or nothing, or under --partial a share for the public checks and one for the hidden tests."""
    if result.status == "passed":
        result.points = result.max_points
    elif not partial or result.status not in ("failed", "passed"):
        result.points = 0
    else:
        public = PUBLIC_SHARE if has_hidden else 1.0
        share = public * result.public_passed + (1 - public) * result.hidden_passed
        result.points = round(result.max_points * share, 2)
        if result.points:
            result.notes.append(f"Partial credit: {round(result.public_passed * 100)}% of the checks you can run "
                                f"and {round(result.hidden_passed * 100)}% of the hidden tests passed.")
