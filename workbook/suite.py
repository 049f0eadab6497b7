"""Run a learner's own test suite (their tests/ folder) on a Bookshelf, as chapter 10's check grades it.

The suite runs in a fresh `python -m pytest` in a copy of a folder: on the workbook's reference Bookshelf it must pass,
and on the same Bookshelf broken on purpose it must fail. A breakage is a pytest plugin loaded before the suite's
conftest.py: it wraps create_app() or patches a model, so that the suite cannot tell which run it is in but by testing.
What counts is read by a plugin of the workbook's own, which records every test's final report.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import chapters, files, reference

# within a check's own limit (120 s), with room for the runs beside it
TIMEOUT = 90.0
FIXTURES = ("app", "client", "runner", "auth")
# loaded with -p in every run, so that every run looks the same to the suite
BREAKAGE_MODULE = "workbook_breakage"
PROBE_MODULE = "workbook_suite_probe"
NO_BREAKAGE = '"""Nothing is broken in this run."""\n'
PROBE = '''"""Record each test's last word, after every hook of the suite had its say."""
import json
import os

import pytest

OUTCOMES = []


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    if report.failed or report.when == "call" or report.skipped:
        OUTCOMES.append({"test": report.nodeid, "when": report.when, "outcome": report.outcome,
                         "xfail": hasattr(report, "wasxfail")})


@pytest.hookimpl(trylast=True)
def pytest_collectreport(report):
    if report.failed:
        OUTCOMES.append({"test": report.nodeid, "when": "collect", "outcome": "failed", "xfail": False})


def pytest_unconfigure(config):
    with open(os.environ["WORKBOOK_SUITE_RECORD"], "w", encoding="utf-8") as record:
        json.dump(OUTCOMES, record)
'''


@dataclass
class SuiteRun:
    """What one run of the learner's suite gave: pytest's exit status, each test's outcome, and the output's end."""

    exit_code: int
    outcomes: list[dict] = field(default_factory=list)
    output: str = ""

    def passed(self) -> list[str]:
        return sorted({o["test"] for o in self.outcomes if o["when"] == "call" and o["outcome"] == "passed"
                       and not o["xfail"]})

    def failed(self) -> list[str]:
        return sorted({o["test"] for o in self.outcomes if o["outcome"] == "failed"})

    def dodged(self) -> list[str]:
        """Tests that neither passed nor failed: skipped, xfail or xpass."""
        return sorted({o["test"] for o in self.outcomes if o["outcome"] == "skipped" or o["xfail"]})

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


def suite_files(folder: Path) -> dict[str, str]:
    """Return the learner's tests/ folder, path to text: conftest.py and the test_*.py files."""
    tests = folder / "tests"
    if not tests.is_dir():
        return {}
    return {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(tests.glob("*.py")) if path.is_file()}


def fixtures_defined(conftest: str) -> list[str]:
    """Return the names of the functions conftest.py defines with @pytest.fixture (or @fixture)."""
    try:
        tree = ast.parse(conftest)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name == "fixture":
                    found.append(node.name)
    return found


def asserting_tests(text: str) -> list[str]:
    """Return the test functions of a file that hold an assert statement of their own."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
            and any(isinstance(inner, ast.Assert) for inner in ast.walk(node))]


def reference_bookshelf(folder: Path, number: str) -> None:
    """Write the workbook's reference Bookshelf, as chapter `number` ends, into folder (its bookshelf package)."""
    with tempfile.TemporaryDirectory() as scratch:
        chapter = chapters.chapter(number)
        reference.build(Path(scratch), chapter.number)
        # the chapter's own exercises may be blank (a student bundle): the suite's app, made for testing, skips them
        own = {written.path for written in chapter.files}
        unfinished = sorted(relative for path in (Path(scratch) / "bookshelf").rglob("*.py")
                            if (relative := path.relative_to(scratch).as_posix()) not in own
                            and "raise NotImplementedError()" in path.read_text(encoding="utf-8"))
        if unfinished:
            # a student bundle before every answer is released: there is no whole Bookshelf to run the suite on
            raise RuntimeError("this copy of the workbook does not hold the whole reference Bookshelf yet "
                               f"({', '.join(unfinished)} not released): ask your instructor")
        shutil.copytree(Path(scratch) / "bookshelf", folder / "bookshelf")


def run_suites(suite: dict[str, str], breakages: list[str], number: str) -> list[SuiteRun]:
    """Run the suite once per breakage (NO_BREAKAGE: the reference as it is), two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda breakage: run_suite(suite, breakage, number), breakages))


def run_suite(suite: dict[str, str], breakage: str = NO_BREAKAGE, number: str = "10") -> SuiteRun:
    """Run the suite in a fresh folder with the reference Bookshelf of chapter `number` and the breakage plugin."""
    with tempfile.TemporaryDirectory(prefix="workbook-suite-") as scratch:
        folder = Path(scratch)
        reference_bookshelf(folder, number)
        for relative, text in suite.items():
            files.write_text(folder, relative, text)
        plugins = folder / "plugins"
        plugins.mkdir()
        (plugins / f"{BREAKAGE_MODULE}.py").write_text(breakage, encoding="utf-8")
        (plugins / f"{PROBE_MODULE}.py").write_text(PROBE, encoding="utf-8")
        record = folder / "plugins" / "record.json"
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith(("PYTEST_", "FLASK_", "SECRET_KEY", "DATABASE_URL"))}
        # only the plugins named on the command line: an installed one (xdist, hypothesis, nbval) must not change a verdict
        environment.update(PYTHONPATH=os.pathsep.join([str(plugins), str(folder)]), PYTHONDONTWRITEBYTECODE="1",
                           PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
                           WORKBOOK_SUITE_RECORD=str(record))
        command = [sys.executable, "-m", "pytest", "tests", "-p", PROBE_MODULE, "-p", BREAKAGE_MODULE,
                   "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "--no-header", "-rN", "-o", "addopts=",
                   "--rootdir", str(folder)]
        try:
            completed = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True,
                                       timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return SuiteRun(-1, [], f"the suite ran for more than {TIMEOUT:.0f} s and was stopped")
        outcomes = json.loads(record.read_text(encoding="utf-8")) if record.exists() else []
        return SuiteRun(completed.returncode, outcomes, completed.stdout + completed.stderr)
