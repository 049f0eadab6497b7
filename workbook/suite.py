"""Run a learner's own test suite (their tests/ folder) on Bookshelves of the workbook's, as chapter 10's check grades it.

Each run is the reference Bookshelf with a few lines of its source changed: rewritten in other words (the suite must
still pass) or broken on purpose (it must fail). Nothing else differs between the runs, so a suite can only tell them
apart by testing what the app does. Each run is a fresh process forked by a warm worker (workbook.worker), under the
grader's guard (workbook.guard) with the limits a suite needs: it may import pytest and its own conftest.py, and
nothing of the workbook's. A probe plugin, registered before the suite's conftest.py, records each test's outcome.
When the grader runs a check, the runs are asked of its SuiteService (workbook.suite_service), which reads the suite
from the student's folder itself and the changes from its own copy of the tests.
"""

import ast
import contextlib
import itertools
import json
import os
import queue
import re
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import chapters, files, reference, runner
from .results import RESULT_CLASSES, plain, typed

# a run's processor time, and its time on the clock: two rounds of runs fit a check's own limit of 120 s
CPU_LIMIT = 30.0
WALL_LIMIT = 50.0
FIXTURES = ("app", "client", "runner", "auth")
WORKERS = 2
MEMORY_LIMIT = 2 << 30
# given to a graded check's process: where the grader's SuiteService listens, and which job's suite is asked for
PORT_VARIABLE = "WORKBOOK_GRADING_SUITE_PORT"
TOKEN_VARIABLE = "WORKBOOK_GRADING_SUITE_TOKEN"
# a terminal's colour and cursor codes (ESC [ ... letter), which a verdict shows as raw text: "\x1b[32m."
ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
AS_WRITTEN = "as written"
# set in a check's process that forked suite workers (workbook.worker.start_suite_workers): their pipes' fds
SUITE_WORKERS_VARIABLE = "WORKBOOK_SUITE_WORKERS"

# a Bookshelf a suite runs on: for each file, its lines as the reference writes them and the lines instead
Changes = list[tuple[str, str, str]]


@dataclass
class SuiteRun:
    """What one run of the learner's suite gave: pytest's exit status, each test's outcome, and the output's end."""

    exit_code: int = -1
    outcomes: list[dict] = field(default_factory=list)
    output: str = ""
    timed_out: bool = False
    crash: str = ""
    # why the guard stopped the suite (it reached for the grader, another submission or the system), or ""
    flagged: str = ""

    def passed(self) -> list[str]:
        return sorted({o["test"] for o in self.outcomes if o["when"] == "call" and o["outcome"] == "passed"
                       and not o["xfail"]})

    def failed(self) -> list[str]:
        return sorted({o["test"] for o in self.outcomes if o["outcome"] == "failed"})

    def dodged(self) -> list[str]:
        """Tests that neither passed nor failed: skipped, xfail or xpass."""
        return sorted({o["test"] for o in self.outcomes if o["outcome"] == "skipped" or o["xfail"]})

    def tail(self, lines: int = 15) -> str:
        """Return the end of pytest's output, or why the run has none."""
        if self.flagged:
            return f"the grader stopped your tests: they {self.flagged}"
        if self.timed_out:
            return "your tests ran for longer than their time limit and were stopped"
        if self.crash:
            return f"your tests could not finish: {self.crash}"
        # pytest runs with --color=no; a suite may still print colours of its own, which a verdict cannot show
        return "\n".join(ANSI_CODE.sub("", self.output).strip().splitlines()[-lines:])

    def to_dict(self) -> dict:
        return plain(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SuiteRun":
        """Rebuild a run from plain data, checking its types (ValueError if malformed)."""
        run = typed(cls, data)
        # the outcomes come from the suite's own process: keep only well-formed ones
        run.outcomes = [o for o in run.outcomes if type(o) is dict and all(
            type(o.get(key)) is str for key in ("test", "when", "outcome")) and type(o.get("xfail")) is bool]
        return run


RESULT_CLASSES.add(SuiteRun)


# ---- reading the suite ---------------------------------------------------------------------------------


def suite_files(folder: Path) -> dict[str, str]:
    """Return the learner's tests/ folder, path to text: conftest.py and the test_*.py files."""
    tests = folder / "tests"
    if not tests.is_dir():
        return {}
    return {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(tests.glob("*.py")) if path.is_file() and not path.is_symlink()}


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


# ---- the Bookshelves a suite runs on -------------------------------------------------------------------


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


def change(folder: Path, changes: Changes) -> None:
    """Change the reference Bookshelf in folder, each change in place of lines found exactly once.

    A change names the lines it replaces, or "def Class.method" for a function's body (its docstring kept): the
    public checks ship to students, and must not quote an exercise's answer to say what they change."""
    for relative, before, after in changes:
        path = folder / relative
        text = path.read_text(encoding="utf-8")
        if before.startswith("def ") and "\n" not in before:
            text = with_body(text, before[4:], after, relative)
        elif text.count(before) != 1:
            raise ValueError(f"{relative} holds {text.count(before)} copies of the lines a suite run changes: "
                             f"{before.strip().splitlines()[0]!r}")
        else:
            text = text.replace(before, after)
        path.write_text(text, encoding="utf-8")


def with_body(text: str, qualified_name: str, body: str, relative: str) -> str:
    """Return the module's text with the body of the function named (like "PasswordMixin.check_password") replaced."""
    scope: list[ast.stmt] = ast.parse(text).body
    node = None
    for name in qualified_name.split("."):
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name), None)
        if node is None:
            raise ValueError(f"{relative} defines no {qualified_name}, whose body a suite run changes")
        scope = node.body
    statements = scope[1:] if ast.get_docstring(node) is not None else scope
    if not isinstance(node, ast.FunctionDef) or not statements:
        raise ValueError(f"{qualified_name} in {relative} is not a function with a body to change")
    lines = text.splitlines(keepends=True)
    indent = " " * statements[0].col_offset
    replaced = "".join(indent + line if line.strip() else line for line in body.strip("\n").splitlines(keepends=True))
    return "".join(lines[:statements[0].lineno - 1]) + replaced.rstrip("\n") + "\n" + "".join(lines[node.end_lineno:])


def run_folder(template: Path, target: Path, suite: dict[str, str], changes: Changes) -> Path:
    """Lay out one run: the Bookshelf, changed, the suite beside it, and settings that load no other pytest file."""
    target.mkdir(parents=True)
    shutil.copytree(template / "bookshelf", target / "bookshelf")
    change(target, changes)
    for relative, text in suite.items():
        files.write_text(target, relative, text)
    (target / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return target


# ---- running a suite in a worker's child -------------------------------------------------------------


class Tail:
    """A text stream that keeps only the end of what is written to it: pytest's output, however much a suite prints."""

    def __init__(self, limit: int = 64 << 10):
        self.limit, self.text = limit, ""
        self.encoding, self.errors = "utf-8", "replace"

    def write(self, text: str) -> int:
        self.text = (self.text + text)[-self.limit:]
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("pytest's output is kept in memory")


class Probe:
    """Record each test's last word, after every hook of the suite had its say."""

    def __init__(self):
        self.outcomes: list[dict] = []

    def record(self, test: str, when: str, outcome: str, xfail: bool) -> None:
        self.outcomes.append({"test": str(test), "when": str(when), "outcome": str(outcome), "xfail": bool(xfail)})

    # trylast: pluggy calls these after every implementation of the suite's own, so the record is the final word
    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report):
        if report.failed or report.when == "call" or report.skipped:
            self.record(report.nodeid, report.when, report.outcome, hasattr(report, "wasxfail"))

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report):
        if report.failed:
            self.record(report.nodeid, "collect", "failed", False)


def run_here(folder: Path) -> SuiteRun:
    """Run the suite in folder/tests with pytest in this process (a worker's child, already under the guard)."""
    os.chdir(folder)
    sys.path.insert(0, str(folder))  # the suite imports bookshelf, as after `pip install -e .`
    sys.dont_write_bytecode = True
    # only the plugins named here: an installed one (xdist, hypothesis, nbval) must not change a verdict
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    probe, output = Probe(), Tail()
    sys.stdout = output
    args = ["tests", "--rootdir", str(folder), "-c", str(folder / "pytest.ini"), "-p", "no:cacheprovider",
            "-p", "no:debugging", "-q", "--no-header", "-rN", "--tb=short", "--color=no"]
    try:
        with quick_as_a_check():
            exit_code = int(pytest.main(args, plugins=[probe]))
    finally:
        sys.stdout = sys.__stdout__
    return SuiteRun(exit_code, probe.outcomes, output.text)


@contextlib.contextmanager
def quick_as_a_check():
    """Run a suite with the shortcuts the checks take, none of which changes what the app does: password hashes at a
    low cost, URL builders compiled once, SQLite without waiting for the disk (workbook.check_fixtures)."""
    from .check_fixtures import cheap_password_hashes, sqlite_files_unsynced, url_builders_reused

    with cheap_password_hashes(), url_builders_reused(), sqlite_files_unsynced():
        yield


# ---- running suites from a check ---------------------------------------------------------------------


class ForkedWorker:
    """A suite worker that the check's own process forked (workbook.worker.start_suite_workers), asked through pipes."""

    def __init__(self, requests_fd: int, answers_fd: int):
        self.requests_fd, self.answers_fd = requests_fd, answers_fd
        self.ids = itertools.count()
        self.pending = b""

    def start(self) -> None:
        pass  # it runs since the check began

    def request(self, payload: dict, timeout: float) -> dict | None:
        """Send one run and return its answer, or None if the worker has ended; TimeoutError past the timeout."""
        payload = {**payload, "id": next(self.ids)}
        deadline = time.monotonic() + timeout + 5  # the run keeps its own time limit: this is a last resort
        try:
            os.write(self.requests_fd, json.dumps(payload).encode() + b"\n")
        except OSError:
            return None
        while True:
            while b"\n" in self.pending:
                line, _, self.pending = self.pending.partition(b"\n")
                answer = json.loads(line)
                if answer.get("id") == payload["id"]:
                    return answer["run"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.answers_fd], [], [], left)[0]:
                raise TimeoutError("the suite worker did not answer in time")
            chunk = os.read(self.answers_fd, 1 << 16)
            if not chunk:
                return None
            self.pending += chunk

    def startup_error(self) -> str:
        return "the check's suite worker has ended"

    def stop(self) -> None:
        pass  # it ends with the check


class SuiteRunner:
    """Run suites on changed Bookshelves, each in a guarded child of a warm worker, several at once."""

    def __init__(self, workers: int = WORKERS, command: list[str] | None = None,
                 environment: dict[str, str] | None = None, guard: dict | None = None, cpu_limit: float = CPU_LIMIT,
                 wall_limit: float = WALL_LIMIT, scratch: Path | None = None):
        # processor time is what a suite that never ends uses up; the clock also counts waiting for a busy processor
        self.cpu_limit, self.wall_limit = cpu_limit, wall_limit
        self.guard = guard or {"protected": [], "readable": [], "memory": MEMORY_LIMIT}
        self.scratch = Path(tempfile.mkdtemp(prefix="workbook-suites-", dir=scratch)).resolve()
        self.templates: dict[str, Path] = {}
        self.lock = threading.Lock()
        self.free: queue.Queue = queue.Queue()
        forked = os.environ.get(SUITE_WORKERS_VARIABLE, "") if command is None else ""
        if forked and runner.warm_worker_wanted():
            # a check of the learner's: the workers its process forked before the check began (workbook.worker)
            self.workers = [ForkedWorker(*map(int, pair.split(","))) for pair in forked.split(";")]
        else:
            self.workers = [runner.Worker(command=command, environment=environment)
                            for _ in range(workers if runner.warm_worker_wanted() else 0)]
        for worker in self.workers:
            worker.start()  # they load their libraries while the reference Bookshelf is built
            self.free.put(worker)
        self.counter = itertools.count()

    def reference(self, number: str) -> Path:
        """Return a folder with the reference Bookshelf of chapter `number`, built at the first call."""
        with self.lock:
            if number not in self.templates:
                template = self.scratch / f"reference-{number}"
                template.mkdir()
                reference_bookshelf(template, number)
                self.templates[number] = template
            return self.templates[number]

    def run(self, suite: dict[str, str], changes: Changes, number: str = "10") -> SuiteRun:
        """Run the suite once on the reference Bookshelf of chapter `number` with these changes."""
        template = self.reference(number)
        with self.lock:
            folder = run_folder(template, self.scratch / f"run-{next(self.counter)}", suite, changes)
        payload = {"suite": True, "folder": str(folder), "exercise": "suite", "timeout": self.wall_limit,
                   "cpu_limit": self.cpu_limit, "guard": {**self.guard, "suite": True}}
        if not self.workers:  # no fork here: a fresh interpreter for each run
            try:
                return SuiteRun.from_dict(runner.run_once(payload, self.wall_limit))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        worker = self.free.get()
        try:
            for _ in range(2):  # a worker that died is started again, once
                try:
                    answer = worker.request(payload, self.wall_limit)
                except TimeoutError:
                    return SuiteRun(timed_out=True)
                if answer is not None:
                    return SuiteRun.from_dict(answer)
                errors = worker.startup_error()
                worker.stop()
            return SuiteRun(crash=f"the process that runs suites could not start: {errors or 'no message'}")
        finally:
            self.free.put(worker)
            shutil.rmtree(folder, ignore_errors=True)

    def run_all(self, suite: dict[str, str], changes: list[Changes], number: str = "10") -> list[SuiteRun]:
        """Run the suite on each changed Bookshelf, as many at once as there are workers."""
        with ThreadPoolExecutor(max_workers=max(1, len(self.workers))) as pool:
            return list(pool.map(lambda each: self.run(suite, each, number), changes))

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)


def run_suites(suite: dict[str, str], runs: dict[str, Changes], number: str = "10",
               workers: SuiteRunner | None = None) -> list[SuiteRun]:
    """Run the suite on each named Bookshelf, in order, with these workers (or workers of its own); the grader's
    own service runs them when it grades."""
    if os.environ.get(PORT_VARIABLE):
        return ask_grader(list(runs))
    if workers is not None:
        return workers.run_all(suite, list(runs.values()), number)
    with suite_runner() as runs_here:
        return runs_here.run_all(suite, list(runs.values()), number)


@contextlib.contextmanager
def suite_runner():
    """Yield a SuiteRunner whose workers serve every run_suites call given it, so that they start once; None where
    the grader runs the suites (its SuiteService has workers of its own)."""
    if os.environ.get(PORT_VARIABLE):
        yield None
        return
    runner = SuiteRunner()
    try:
        yield runner
    finally:
        runner.close()


def ask_grader(names: list[str]) -> list[SuiteRun]:
    """Ask the grader's SuiteService to run this job's suite on the named Bookshelves."""
    request = {"token": os.environ.get(TOKEN_VARIABLE, ""), "runs": names}
    with socket.create_connection(("127.0.0.1", int(os.environ[PORT_VARIABLE]))) as connection:
        connection.sendall(json.dumps(request).encode() + b"\n")
        with connection.makefile("rb") as answers:
            answer = json.loads(answers.readline() or b"{}")
    if "error" in answer or not isinstance(answer.get("runs"), list):
        raise RuntimeError(f"the grader could not run the suite: {answer.get('error', 'no answer')}")
    return [SuiteRun.from_dict(run) for run in answer["runs"]]
