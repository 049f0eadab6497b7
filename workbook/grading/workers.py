"""Run the jobs: verified copies of the library and tests, warm worker processes, and the grader's services."""

import hashlib
import itertools
import os
import queue
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import chapters, mailbox, reference, suite
from ..errors import WorkbookBug
from ..results import CheckRun
from ..runner import Worker
from ..suite_service import SuiteService
from .plan import build_base

MEMORY_LIMIT = 2 << 30
# tests only: "1" grades without the audit hook, to prove that the sandbox alone holds
NO_HOOK_VARIABLE = "WORKBOOK_GRADE_WITHOUT_HOOK"
SUITE_ROUNDS = 2
# -I: no PYTHON* variables, no user site, no current folder on the path. The editable install's finder would hand
# out the installed workbook package whatever sys.path says: it is removed, so the verified copy is imported. The
# editable install's .pth puts the workbook's folder on sys.path: it is taken off too, as the guard protects that
# folder (a graded import that misses would list it) and the verified copy is the one to import.
BOOT = (
    "import os, sys; library = sys.argv[1]; "
    "sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, '__module__', '').startswith('__editable__')]; "
    "sys.path[:] = [p for p in sys.path if not os.path.isfile(os.path.join(p, 'workbook', '__init__.py'))]; "
    "sys.path.insert(0, library); "
    "import workbook, workbook.worker; "
    "assert workbook.__file__.startswith(library), workbook.__file__; "
    "workbook.worker.serve()"
)


@dataclass
class Job:
    """One run of one exercise's tests (public or hidden) on one student's answer."""

    student: str
    exercise: chapters.Exercise
    folder: Path
    hidden: bool = False
    run: CheckRun | None = None
    # the key under which the job's check may ask the grader's SuiteService to run the student's test suite
    suite_token: str = ""
    # lower runs first: the order of the first student whose grade waits for it
    priority: int = 0
    order: int = field(default_factory=itertools.count().__next__)


def tree_digest(*roots: Path) -> str:
    """Return one digest of every file under the roots (names and bytes), to prove that nothing changed them."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Grader:
    """One grading run: a workspace, verified copies of the library and tests, and the worker processes."""

    def __init__(self, submissions: Path, out: Path, jobs: int, timeout: float, sandbox: bool = True):
        self.submissions, self.out, self.jobs, self.timeout = submissions.resolve(), out.resolve(), jobs, timeout
        # every run inside an OS sandbox (workbook.sandbox); the audit hook as well, unless a test switches it off
        self.sandbox = sandbox
        self.hook = os.environ.get(NO_HOOK_VARIABLE) != "1"
        self.workspace = Path(tempfile.mkdtemp(prefix="workbook-grade-")).resolve()
        self.library = self.workspace / "library"
        self.tests = self.workspace / "tests"
        shutil.copytree(chapters.ROOT / "workbook", self.library / "workbook",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copytree(chapters.CHECKS, self.tests / "checks", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copytree(chapters.HIDDEN, self.tests / "hidden", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        self.digest = tree_digest(self.library, self.tests)
        self.originals = tree_digest(chapters.ROOT / "workbook", chapters.CHECKS, chapters.HIDDEN)
        self.bases: dict[str, Path] = {}
        self.counter = itertools.count()
        self.log: list[str] = []
        self.workers: list[Worker] = []
        self.mail_server = None  # started with the workers: chapter 06's hidden tests send to it
        self.suite_service: SuiteService | None = None  # started with the workers when a test suite is graded
        self.runs_made = 0  # test runs made: equal answers share theirs
        self.lock = threading.Lock()
        # the whole workbook (solutions, hidden tests, .git) and the grading files; Python's own files stay readable
        self.protected = [self.submissions, self.out, self.workspace, chapters.ROOT]
        self.readable = [self.library, Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]

    def verify_copies(self, job: Job) -> None:
        """Flag a run after which the copies of the library or the tests differ, and put them back as they were."""
        with self.lock:
            if tree_digest(self.library, self.tests) == self.digest:
                return
            job.run = CheckRun(job.exercise.id, flagged="changed the grader's copy of the helper library or the tests")
            self.log.append(f"{job.student} {job.exercise.id}: the copies of the library or tests changed; restored")
            for target, source in ((self.library / "workbook", chapters.ROOT / "workbook"),
                                   (self.tests / "checks", chapters.CHECKS), (self.tests / "hidden", chapters.HIDDEN)):
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            self.digest = tree_digest(self.library, self.tests)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.mail_server is not None:
            self.mail_server.stop()
        if self.suite_service is not None:
            self.suite_service.stop()
        shutil.rmtree(self.workspace, ignore_errors=True)

    def prepare(self, exercises: list[chapters.Exercise], suites: set[str] = frozenset()) -> None:
        """Start the workers and build every exercise's blank folder meanwhile, several at once."""
        if any(exercise.id in suites for exercise in exercises):
            self.start_suite_service()
        self.start_workers(self.jobs)
        # a folder of chapter 03 on replays `flask db init`, a second or two each: the workers boot meanwhile
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for exercise, folder in zip(exercises, pool.map(self.build, exercises)):
                self.bases[exercise.id] = folder

    def build(self, exercise: chapters.Exercise) -> Path:
        folder = self.workspace / "base" / exercise.id
        folder.mkdir(parents=True)
        build_base(folder, exercise)
        return folder

    def base(self, exercise: chapters.Exercise) -> Path:
        if exercise.id not in self.bases:
            self.bases[exercise.id] = self.build(exercise)
        return self.bases[exercise.id]

    def job_folder(self, exercise: chapters.Exercise, texts: dict[int, str]) -> Path:
        """Copy the exercise's blank folder and write the student's answers into it."""
        folder = self.workspace / "jobs" / str(next(self.counter))
        shutil.copytree(self.base(exercise), folder)
        chapter = chapters.chapter(exercise.chapter)
        for index, text in texts.items():
            path = next(w.path for w in chapter.files if w.cell_index == index)
            reference.write(folder, path, text)
        return folder

    def job(self, student: str, exercise: chapters.Exercise, folder: Path, suites: set[str],
            hidden: bool = False) -> Job:
        """Return a job; one whose answer is a test suite gets a token for the SuiteService."""
        token = self.suite_service.register(folder, exercise.chapter) if exercise.id in suites else ""
        return Job(student, exercise, folder, hidden=hidden, suite_token=token)

    def request(self, job: Job) -> dict:
        chapter = chapters.chapter(job.exercise.chapter)
        tests = self.tests / ("hidden" if job.hidden else "checks")
        return {
            # a suite's check waits for two rounds of runs, each with the time limit of a check
            "folder": str(job.folder), "exercise": job.exercise.id,
            "timeout": self.timeout * (SUITE_ROUNDS + 1) if job.suite_token else self.timeout,
            "test_file": str(tests / chapter.check_file().name),
            "environment": {suite.TOKEN_VARIABLE: job.suite_token} if job.suite_token else {},
            "guard": {**self.guard_settings(), "settings_file": str(self.tests / "checks" / "pytest.ini")},
        }

    def guard_settings(self) -> dict:
        """Return what a graded run's child is told: what it may read, its limits, the sandbox and the hook."""
        return {"protected": [str(p) for p in self.protected], "readable": [str(p) for p in self.readable],
                "memory": MEMORY_LIMIT, "sandbox": self.sandbox, "hook": self.hook}

    def start_worker(self, number: int) -> Worker:
        home = self.workspace / f"worker-{number}"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        environment = {"PATH": os.defpath, "HOME": str(home), "TMPDIR": str(home / "tmp"), "LANG": "C.UTF-8",
                       "PYTHONDONTWRITEBYTECODE": "1", mailbox.GRADING_PORT_VARIABLE: str(self.mail_port())}
        if self.suite_service is not None:
            environment[suite.PORT_VARIABLE] = str(self.suite_service.port)
        return Worker(command=[sys.executable, "-I", "-c", BOOT, str(self.library)], environment=environment, cwd=home)

    def start_suite_service(self) -> None:
        """Start the service that runs students' test suites, with warm workers of its own, under the same guard."""
        if self.suite_service is not None:
            return
        home = self.workspace / "suites"
        (home / "tmp").mkdir(parents=True)
        environment = {"PATH": os.defpath, "HOME": str(home), "TMPDIR": str(home / "tmp"), "LANG": "C.UTF-8",
                       "PYTHONDONTWRITEBYTECODE": "1"}
        # the Bookshelves a suite may be run on, from the verified copies of the tests: never from a request
        runs: dict[str, suite.Changes] = {}
        for test_file in sorted((self.tests / "checks").glob("test_*.py")) + sorted((self.tests / "hidden").glob("test_*.py")):
            for name, changes in chapters.declared(test_file, "SUITE_RUNS", {}).items():
                if runs.setdefault(name, changes) != changes:
                    raise WorkbookBug(f"two test files name different Bookshelves {name!r} (SUITE_RUNS)")
        guard = self.guard_settings()
        # two workers per grading worker (eight at most, each holds the libraries in memory): a check's four runs take
        # two rounds, each within the check's time limit; a run that never ends uses up a third of it in processor
        # time, so that it slows the honest runs beside it little
        runner = suite.SuiteRunner(workers=min(2 * self.jobs, 8), command=[sys.executable, "-I", "-c", BOOT, str(self.library)],
                                   environment=environment, guard=guard, cpu_limit=self.timeout / 3,
                                   wall_limit=self.timeout, scratch=home)
        self.suite_service = SuiteService(runs, runner)

    def mail_port(self) -> int:
        """Return the port of the grader's SMTP server, started at the first call."""
        if self.mail_server is None:
            self.mail_server = mailbox.GradingMailServer()
        return self.mail_server.port

    def start_workers(self, count: int) -> None:
        while len(self.workers) < count:
            self.workers.append(self.start_worker(len(self.workers)))
            self.workers[-1].start()  # all start loading their libraries at once

    def run_all(self, jobs: list[Job], finished) -> None:
        """Run the jobs on the workers, most urgent first; `finished(job)` returns the jobs that follow from it."""
        pending: queue.PriorityQueue = queue.PriorityQueue()
        outstanding = [0]
        lock = threading.Lock()

        def add(more: list[Job]) -> None:
            with lock:
                outstanding[0] += len(more)
            for job in more:
                pending.put((job.priority, job.hidden is False, job.order, job))

        def work(worker: Worker) -> None:
            while True:
                with lock:
                    if not outstanding[0]:
                        return
                try:
                    job = pending.get(timeout=0.05)[-1]
                except queue.Empty:
                    continue
                try:
                    with lock:
                        self.runs_made += 1
                    job.run = self.run_one(worker, job)
                    self.verify_copies(job)
                    add(finished(job))
                finally:
                    with lock:
                        outstanding[0] -= 1

        add(jobs)
        self.start_workers(min(self.jobs, max(len(jobs), 1)))
        threads = [threading.Thread(target=work, args=(worker,), daemon=True) for worker in self.workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def run_one(self, worker: Worker, job: Job) -> CheckRun:
        try:
            run = self.run_on(worker, job)
        except Exception as error:  # noqa: BLE001 - one run that cannot start must not stop the class
            self.log.append(f"{job.student} {job.exercise.id}: the run could not start: {type(error).__name__}: {error}")
            return CheckRun(job.exercise.id, crash=f"the grader could not run it ({type(error).__name__})")
        # the guard stopped the student's suite in the service's process: the check itself only saw a failed run
        reason = self.suite_service.flagged(job.suite_token) if job.suite_token and self.suite_service else ""
        return CheckRun(job.exercise.id, flagged=f"its test suite {reason}") if reason else run

    def run_on(self, worker: Worker, job: Job) -> CheckRun:
        payload = self.request(job)
        for attempt in range(2):
            try:
                answer = worker.request(payload, payload["timeout"])
            except TimeoutError:
                return CheckRun(job.exercise.id, timed_out=True)
            if answer is not None:
                try:
                    return CheckRun.from_dict(answer)
                except ValueError as error:
                    return CheckRun(job.exercise.id, crash=f"its run's answer could not be read ({error})")
            errors = worker.startup_error()
            worker.stop()
            if attempt and errors:
                self.log.append(f"a grading worker could not start: {errors}")
        return CheckRun(job.exercise.id, crash="the grading process ended while it ran this exercise")
