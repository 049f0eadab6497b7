"""Run exercise checks in a warm process: libraries imported once, a clean forked child per check.

The kernel talks to `python -m workbook.worker` through one JSON line per request and per answer.
Bookshelf itself is never imported here, only in the child, so every check reads the files as they are.
`python -m workbook.worker --once` runs a single request without forking (the fallback where fork is missing).
"""

import importlib
import inspect
import json
import os
import sys
from pathlib import Path

import pytest

from workbook.app import learner_location
from workbook.errors import WorkbookError

PRELOAD = (
    "pytest", "_pytest.assertion.rewrite", "_pytest.python", "_pytest.fixtures",
    "flask", "flask.testing", "werkzeug", "jinja2", "itsdangerous",
    "sqlalchemy", "flask_sqlalchemy", "flask_migrate", "alembic",
    "flask_wtf", "wtforms", "flask_login", "flask_mail", "flask_principal", "flask_restx",
    "workbook.app", "workbook.sql",
)


def preload() -> None:
    """Import the libraries every check needs, skipping the ones a chapter has not installed yet."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # an optional extension that is missing or broken is found by the check itself
            pass


def describe(error: BaseException, folder: Path) -> dict:
    """Reduce an exception to what a learner needs: the message, and where in their files it came from."""
    if isinstance(error, WorkbookError):
        return {"message": str(error), "setup": True}
    if isinstance(error, AssertionError):
        # keep the assert message and the compared values, not pytest's "+  where ..." explanations
        lines = [line for line in str(error).strip().splitlines() if not line.lstrip().startswith("+")]
        return {"message": "\n".join(lines[:4] or ["assertion failed"])[:600]}
    where = learner_location(error, folder)
    if isinstance(error, NotImplementedError) and where:
        return {"message": f"{where} still raises NotImplementedError: replace those two lines with your code."}
    message = f"{type(error).__name__}: {error}".strip().rstrip(":")
    return {"message": message[:600] + (f" (in {where})" if where else "")}


class Collector:
    """A pytest plugin that records each test's outcome, docstring and failure."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.tests: dict[str, dict] = {}
        self.problems: list[str] = []

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.append(str(report.longrepr)[-3000:])

    def pytest_runtest_makereport(self, item, call):
        # the cases of a parametrized test share one entry: the learner reads one line per behaviour
        function = getattr(item, "function", None)
        entry = self.tests.setdefault(
            getattr(item, "originalname", item.name),
            {"doc": inspect.getdoc(function) or item.name, "outcome": "passed", "cases": 0},
        )
        if call.when == "setup":
            entry["cases"] += 1
        if call.excinfo is not None and entry["outcome"] != "failed":
            if call.excinfo.errisinstance(pytest.skip.Exception):
                entry["outcome"] = "skipped"
            else:
                case = item.callspec.id if hasattr(item, "callspec") else ""
                entry.update(outcome="failed", case=case, **describe(call.excinfo.value, self.folder))
                # an error while building the app or the fixtures stops the test before it checks anything
                entry["setup"] = entry.get("setup", False) or call.when == "setup"


def run_check(request: dict) -> dict:
    """Run one exercise's tests on a folder with pytest and return the collected results."""
    from workbook.chapters import ROOT

    folder = Path(request["folder"])
    os.chdir(folder)
    sys.dont_write_bytecode = True  # keep __pycache__ out of the learner's folder
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    collector = Collector(folder)
    args = [
        request["test_file"], "--bookshelf", str(folder), "--exercise", request["exercise"],
        "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), "-o", "addopts=",
        "--confcutdir", str(Path(request["test_file"]).parent),
        "-p", "no:cacheprovider", "-q", "--no-header", "-p", "no:randomly",
    ]
    exit_code = pytest.main(args, plugins=[collector])
    return {"exit": int(exit_code), "tests": list(collector.tests.values()), "problems": collector.problems}


def _silence_stdio() -> int:
    """Point fds 0-2 at the null device and return a duplicate of the original stdout."""
    answer = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    return answer


def _guarded(request: dict) -> dict:
    try:
        return run_check(request)
    except BaseException as error:  # noqa: B902 - whatever happens must reach the kernel as an answer
        return {"crash": f"{type(error).__name__}: {error}"}


def run_forked(request: dict) -> dict:
    """Run a check in a forked child, so nothing it imports or changes outlives it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        _silence_stdio()
        data = json.dumps(_guarded(request)).encode()
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return {"crash": f"the check process ended before it reported (exit status {status}); "
                         "does Bookshelf's code call os._exit() or crash the interpreter?"}
    return json.loads(data)


def serve() -> None:
    """Answer requests from stdin until it closes (when the kernel goes away)."""
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # a stray print must never corrupt the answers
    preload()
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            answers.write(json.dumps({**run_forked(request), "id": request.get("id")}) + "\n")
            answers.flush()


def once() -> None:
    """Answer a single request in this process (used where fork is not available)."""
    request = json.loads(sys.stdin.readline())
    answer = os.fdopen(_silence_stdio(), "w", encoding="utf-8")
    answer.write(json.dumps(_guarded(request)) + "\n")
    answer.flush()


if __name__ == "__main__":
    once() if "--once" in sys.argv[1:] else serve()
