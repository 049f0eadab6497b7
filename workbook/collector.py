"""Inside a check's process: run an exercise's tests with pytest and record what a learner needs to read."""

import inspect
import logging
import os
import sys
from pathlib import Path

import pytest

from workbook.app import MigrateErrors, is_blank_exercise, learner_location
from workbook.errors import WorkbookError
from workbook.results import FAILED, INTERRUPTED, NOT_STARTED, SETUP, CheckRun, Problem, TestResult

# pytest's own advice, which a learner cannot act on from a notebook
PYTEST_JARGON = ("use -v", "Use -v", "Omitting ", "Full diff:", "Differing items:", "Left contains", "Right contains")


def text_of(error: BaseException) -> str:
    """Return str(error), or a stand-in when the exception's own __str__ fails."""
    try:
        return str(error)
    except BaseException as broken:  # noqa: B902 - a learner's __str__ may raise anything
        return f"(its message could not be shown: its __str__ raised {type(broken).__name__})"


def clip(text: str, limit: int = 1500) -> str:
    """Cut text to at most `limit` characters at a word's end, marking the cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip() + " …"


def plain_assertion(text: str) -> str:
    """Keep an assertion's own message, or else its compared values; drop pytest's "+ where" lines and advice."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if lines and not lines[0].startswith("assert "):
        # `assert x, "expected ..., got ..."`: the check's sentence says it all; pytest's explanation follows it
        lines = lines[:next((i for i, line in enumerate(lines) if line.startswith("assert ")), len(lines))]
    kept = [line for line in lines if not line.lstrip().startswith("+") and not any(j in line for j in PYTEST_JARGON)]
    return clip("\n".join(kept[:12])) or "assertion failed"


def describe(error: BaseException, folder: Path, kind: str = FAILED) -> Problem:
    """Reduce an exception to what a learner needs: the message, and where in their files it came from."""
    try:
        where = learner_location(error, folder)
    except Exception:
        where = ""
    if isinstance(error, WorkbookError):
        return Problem(SETUP, text_of(error), where)
    if is_blank_exercise(error, where):
        return Problem(NOT_STARTED, "NotImplementedError", where)
    if isinstance(error, AssertionError):
        return Problem(kind, plain_assertion(text_of(error)), where)
    message = f"{type(error).__name__}: {text_of(error)}".strip().rstrip(":")
    return Problem(kind, clip(message), where)


def hooks_of(config) -> tuple:
    """Return which plugins are registered and which functions implement each hook: what the verdict is made by."""
    manager = config.pluginmanager
    callers = sorted((name, caller) for name, caller in vars(manager.hook).items() if hasattr(caller, "get_hookimpls"))
    return (frozenset(map(id, manager.get_plugins())),
            tuple((name, tuple(id(impl.function) for impl in caller.get_hookimpls())) for name, caller in callers))


# what a test item runs; a submission that rebinds one on the item decides its own outcome
ITEM_PARTS = ("runtest", "setup", "teardown", "_obj", "obj", "ihook", "reportinfo", "repr_failure")


def parts_of(item) -> dict[str, int]:
    own = vars(item)
    return {name: id(own[name]) for name in ITEM_PARTS if name in own}


class Collector:
    """A pytest plugin that records each test's outcome, docstring and failure, and how the run ended."""

    def __init__(self, folder: Path, run: CheckRun, migrate_errors: MigrateErrors, watch: bool = False):
        self.folder, self.run, self.migrate_errors, self.watch = folder, run, migrate_errors, watch
        self.by_name: dict[str, TestResult] = {}
        self.phases: dict[str, dict[str, str]] = {}
        # grading: the plugins, hook functions and test items as collected, before the learner's code ran
        self.config = None
        self.hooks: tuple = ()
        self.items: dict[str, tuple] = {}
        self.finished = False

    def tampered(self, nodeid: str = "") -> str:
        """Say what the learner's code changed in pytest's plugins, hooks or this test's item, or ""."""
        if self.config is None:
            return ""
        if hooks_of(self.config) != self.hooks:
            return "registered a pytest plugin or changed pytest's hooks"
        if nodeid in self.items and parts_of(self.items[nodeid][0]) != self.items[nodeid][1]:
            return f"changed what the test {nodeid.rsplit('::', 1)[-1]} runs"
        return ""

    def pytest_collectreport(self, report):
        if report.failed:
            self.run.collection_errors.append(text_of(report.longrepr)[-3000:])

    def pytest_collection_finish(self, session):
        if self.watch:
            self.config = session.config
            self.hooks = hooks_of(session.config)
            self.items = {item.nodeid: (item, parts_of(item)) for item in session.items}
        self.run.selected = len(session.items)
        for item in session.items:
            # the cases of a parametrized test share one entry: the learner reads one line per behaviour
            name = getattr(item, "originalname", item.name)
            if name not in self.by_name:
                doc = inspect.getdoc(getattr(item, "function", None)) or name
                self.by_name[name] = TestResult(name, doc, outcome="not run")
                self.run.tests.append(self.by_name[name])
            self.by_name[name].cases += 1

    def pytest_runtest_setup(self, item):
        self.migrate_errors.clear()

    def pytest_runtest_makereport(self, item, call):
        if call.excinfo is None or call.excinfo.errisinstance(pytest.skip.Exception):
            return
        entry = self.by_name.get(getattr(item, "originalname", item.name))
        if entry is None or entry.problem is not None:
            return
        # Flask-Migrate logs the real error and exits 1: show the learner's error, not SystemExit
        error = self.migrate_errors.last or call.excinfo.value
        problem = describe(error, self.folder)
        if call.when == "setup" and problem.kind == FAILED:
            # an error while building the app or the fixtures stops the test before it checks anything
            problem.kind = SETUP
        entry.problem = problem
        entry.failed_case = item.callspec.id if hasattr(item, "callspec") else ""

    def pytest_runtest_logreport(self, report):
        self.phases.setdefault(report.nodeid, {})[report.when] = report.outcome
        self.run.flagged = self.run.flagged or self.tampered(report.nodeid)

    def pytest_sessionfinish(self, session):
        self.run.flagged = self.run.flagged or self.tampered()
        self.finished = True

    def pytest_keyboard_interrupt(self, excinfo):
        self.run.interruption = describe(excinfo.value, self.folder, kind=INTERRUPTED)

    def pytest_internalerror(self, excrepr, excinfo):
        problem = describe(excinfo.value, self.folder, kind=INTERRUPTED)
        problem.message = f"pytest could not report an error raised by your code: {problem.message}"
        self.run.interruption = problem

    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        path = Path(warning_message.filename)
        if path.is_absolute() and path.is_relative_to(self.folder):
            note = (f"{path.relative_to(self.folder).as_posix()}, line {warning_message.lineno}: "
                    f"{warning_message.category.__name__}: {text_of(warning_message.message)}")
            if note not in self.run.warnings and len(self.run.warnings) < 5:
                self.run.warnings.append(note[:500])

    def finish(self) -> None:
        """Merge the phase reports into each test's outcome; passed needs setup, call and teardown passed."""
        completed = 0
        outcome_of: dict[str, list[str]] = {}
        for nodeid, phases in self.phases.items():
            # a parameter's id may itself hold "::" (an IPv6 address), so cut it off first
            name = nodeid.split("[", 1)[0].rsplit("::", 1)[-1]
            if phases.get("setup") == "passed" and phases.get("call") == "passed" and phases.get("teardown") == "passed":
                completed += 1
                outcome_of.setdefault(name, []).append("passed")
            elif "failed" in phases.values():
                outcome_of.setdefault(name, []).append("failed")
            elif "skipped" in phases.values():
                outcome_of.setdefault(name, []).append("skipped")
        self.run.completed = completed
        for entry in self.run.tests:
            outcomes = outcome_of.get(entry.name, [])
            if "failed" in outcomes or entry.problem is not None:
                entry.outcome = "failed"
            elif "skipped" in outcomes:
                entry.outcome = "skipped"
            elif len(outcomes) == entry.cases and entry.cases:
                entry.outcome = "passed"
            else:
                entry.outcome = "not run"


def run_pytest(request: dict, folder: Path) -> CheckRun:
    """Run one exercise's tests on a folder with pytest and return what they found."""
    from workbook.chapters import CHECKS

    run = CheckRun(request["exercise"])
    tests = Path(request["test_file"]).resolve().parent
    # grading copies the checks' settings beside the test file it runs; check() uses them where they are
    settings = tests / "pytest.ini" if (tests / "pytest.ini").exists() else CHECKS / "pytest.ini"
    os.chdir(folder)
    sys.dont_write_bytecode = True  # keep __pycache__ out of the folder
    # only the plugins named here: an installed plugin (hypothesis, xdist, ...) must not change a verdict
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    migrate_errors = MigrateErrors(folder)
    logging.getLogger("flask_migrate").addFilter(migrate_errors)
    collector = Collector(folder, run, migrate_errors, watch=bool(request.get("guard")))
    args = [
        # --bookshelf=DIR as one word: pytest reads a lone DIR before the option is known as a path to test,
        # and would load the conftest.py of DIR/tests (chapter 10's learner writes one)
        request["test_file"], f"--bookshelf={folder}", "--exercise", request["exercise"],
        # the public checks' settings, and the conftest beside the test file (tests/checks or tests/hidden)
        "--rootdir", str(tests), "-c", str(settings), "--confcutdir", str(tests),
        "-p", "no:cacheprovider", "-p", "no:debugging", "-p", "no:randomly",
        # a learner reads the collector's own account of a failure: pytest's long tracebacks and its end-of-run
        # garbage collection (for unraisable exceptions) cost more than half of a short check
        "--tb=native", "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:xdist", "-vv", "--no-header",
    ]
    run.exit_code = int(pytest.main(args, plugins=[collector]))
    collector.finish()
    if run.exit_code == 0 and collector.config is not None and not collector.finished:
        run.flagged = run.flagged or "kept pytest from reporting the end of the run"
    return run
