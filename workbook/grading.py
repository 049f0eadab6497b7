"""Grade a class: each exercise's answer from each submitted notebook, checked in a guarded process of its own.

The submitted notebooks are never run. Each exercise's answer is the text of its solution cell (found by nbgrader's
grade_id), written into a folder built from the chapter's given cells, the blank versions of every other exercise and
the student's own answers to the exercises it builds on (NEEDS, beside the checks). Its public checks, then its
hidden tests, run in warm worker processes that import a verified copy of the helper library and fork one guarded
process per run (workbook.guard): its own temporary folder, time and memory limits, and no way to read another
submission, the grader's files or the answers. An answer that is a test suite (chapter 10's last exercise) is run by
the grader's SuiteService (workbook.suite_service), which its check asks, under the same guard.
"""

import ast
import csv
import hashlib
import html
import io
import itertools
import json
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
import tokenize
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import chapters, mailbox, reference, suite
from . import folder as folders
from .errors import WorkbookBug, WorkbookError
from .learner import verdict
from .results import CheckRun
from .runner import Worker
from .suite_service import SuiteService

STATUSES = ("passed", "failed", "missing", "error", "flagged")
NOTEBOOK_LIMIT = 20 << 20  # bytes: a chapter notebook is well under 1 MB; anything bigger is not one
MEMORY_LIMIT = 2 << 30
SUITE_ROUNDS = 2
# -I: no PYTHON* variables, no user site, no current folder on the path. The editable install's finder would hand
# out the installed workbook package whatever sys.path says: it is removed, so the verified copy is imported.
BOOT = (
    "import sys; library = sys.argv[1]; "
    "sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, '__module__', '').startswith('__editable__')]; "
    "sys.path.insert(0, library); "
    "import workbook, workbook.worker; "
    "assert workbook.__file__.startswith(library), workbook.__file__; "
    "workbook.worker.serve()"
)


class SubmissionsError(WorkbookError):
    heading = "Cannot grade"


@dataclass
class Result:
    """One student's verdict on one exercise."""

    student: str
    exercise: str
    max_points: int
    status: str = "missing"
    points: int = 0
    lines: list[str] = field(default_factory=list)
    hidden: str = ""


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


# ---- what the workbook declares ----------------------------------------------------------------------


def declared(check_file: Path, name: str, default=None):
    """Return a literal that a check file declares at its top level (POINTS, NEEDS), without importing it."""
    for node in ast.parse(check_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    if default is not None:
        return default
    raise WorkbookBug(f"{check_file.name} declares no {name}")


def grade_id(cell: dict) -> str:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    found = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return found if isinstance(found, str) else ""


def blank_text(number: str, written: chapters.WrittenFile) -> str:
    """Return what an exercise's %%writefile cell writes in the student notebook: the answer is a stub."""
    body = chapters.writefile_cell(folders.cells_of(number)[written.cell_index])[1]
    return chapters.file_text(folders.SOLUTION_REGION.sub(lambda m: folders.STUB.format(indent=m["indent"]), body))


def exercise_cells(chapter: chapters.Chapter) -> set[int]:
    return {index for exercise in chapter.exercises for index in exercise.solution_cells}


def build_base(folder: Path, exercise: chapters.Exercise) -> None:
    """Build the folder a learner has at an exercise's check, with every exercise of every chapter blank."""
    chapter = chapters.chapter(exercise.chapter)
    files: dict[str, str] = {}
    for earlier in chapters.all_chapters():
        if earlier.number >= chapter.number:
            break
        answers = exercise_cells(earlier)
        for written in earlier.files:
            files[written.path] = blank_text(earlier.number, written) if written.cell_index in answers else written.text
        for retired in earlier.removes:
            files.pop(retired, None)
    for relative, text in files.items():
        reference.write(folder, relative, text)
    answers = exercise_cells(chapter)
    for step in sorted([*chapter.files, *chapter.replays], key=lambda step: step.cell_index):
        if step.cell_index > exercise.check_cell:
            break
        if isinstance(step, chapters.Replay):
            reference.replay(folder, step)
        else:
            reference.write(folder, step.path, blank_text(chapter.number, step) if step.cell_index in answers else step.text)


def answer_cells(exercise: chapters.Exercise, needs: dict[str, list[str]]) -> list[int]:
    """Return the solution cells whose student text goes into an exercise's folder: its own and those it builds on."""
    chapter = chapters.chapter(exercise.chapter)
    wanted = [exercise.id, *needs.get(exercise.id, [])]
    cells = sorted(i for other in chapter.exercises if other.id in wanted for i in other.solution_cells)
    # a student's text is laid over the blank folder: that is the folder the learner had only if nothing after the
    # cell (before the check) writes the same file or runs a command that reads it
    for index in cells:
        path = next(w.path for w in chapter.files if w.cell_index == index)
        later = [s for s in (*chapter.files, *chapter.replays) if index < s.cell_index <= exercise.check_cell
                 and (isinstance(s, chapters.Replay) or s.path == path)]
        if later:
            raise WorkbookBug(f"Exercise {exercise.id} cannot be graded from its answer: cell {later[0].cell_index} "
                              f"changes what cell {index} wrote before the check")
    return cells


# ---- reading the submissions -------------------------------------------------------------------------


def notebooks_of(entry: Path) -> tuple[dict[str, bytes | str], str]:
    """Return a submission's chapter notebooks (file name to bytes, or to why it cannot be read), and a problem."""
    found: dict[str, bytes | str] = {}
    pattern = re.compile(r"^\d\d_[^/\\]*\.ipynb$", re.ASCII)
    if entry.is_dir():
        for path in sorted(entry.iterdir()):
            if not pattern.match(path.name):
                continue
            if path.is_symlink() or not path.is_file():
                found[path.name] = "it is a link or not a regular file"
            elif path.stat().st_size > NOTEBOOK_LIMIT:
                found[path.name] = f"it is larger than {NOTEBOOK_LIMIT >> 20} MB"
            else:
                try:
                    found[path.name] = path.read_bytes()
                except OSError as error:
                    found[path.name] = f"it could not be read ({error.strerror or error})"
        return found, ""
    try:
        with zipfile.ZipFile(entry) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
            tops = {m.filename.split("/")[0] for m in members}
            # a zip of the student's folder holds the notebooks one level down
            prefix = f"{tops.pop()}/" if len(tops) == 1 and all("/" in m.filename for m in members) else ""
            for member in members:
                name = member.filename[len(prefix):] if member.filename.startswith(prefix) else ""
                if not pattern.match(name):
                    continue
                if member.file_size > NOTEBOOK_LIMIT:
                    found[name] = f"it is larger than {NOTEBOOK_LIMIT >> 20} MB unpacked"
                    continue
                with archive.open(member) as stream:
                    data = stream.read(NOTEBOOK_LIMIT + 1)
                found[name] = data if len(data) <= NOTEBOOK_LIMIT else f"it is larger than {NOTEBOOK_LIMIT >> 20} MB unpacked"
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as error:
        return {}, f"{entry.name} is not a zip file that can be read ({type(error).__name__}: {error})"
    return found, ""


def parse_notebook(data: bytes | str) -> tuple[list, str]:
    """Return a notebook's cells, or a sentence saying why there are none."""
    if isinstance(data, str):
        return [], data
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return [], "it is not UTF-8 text"
    except json.JSONDecodeError as error:
        return [], f"it is not valid JSON ({error.msg} at line {error.lineno})"
    except (ValueError, RecursionError) as error:
        return [], f"it is not valid JSON ({type(error).__name__})"
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return [], "it is not a notebook (no list of cells)"
    return notebook["cells"], ""


def chapter_notebook(notebooks: dict[str, bytes | str], chapter: chapters.Chapter) -> tuple[bytes | str | None, str]:
    """Pick a chapter's notebook: its own name, else the only NN_*.ipynb of that chapter."""
    if chapter.filename in notebooks:
        return notebooks[chapter.filename], chapter.filename
    others = sorted(name for name in notebooks if name.startswith(f"{chapter.number}_"))
    if len(others) == 1:
        return notebooks[others[0]], others[0]
    if others:
        return f"there are {len(others)} notebooks for chapter {chapter.number} ({', '.join(others)}) and none is " \
               f"named {chapter.filename}", ""
    return None, ""


# ---- screening an answer's text ----------------------------------------------------------------------

# names an answer to these exercises never needs, and that reach into the grader, the interpreter or the system
SCREENED_NAMES = {
    "_pytest", "pytest", "pluggy", "workbook", "conftest", "importlib", "__import__", "ctypes", "gc", "_getframe",
    "currentframe", "_current_frames", "walk_stack", "walk_tb", "f_back", "f_locals", "f_globals", "f_builtins",
    "tb_frame", "gi_frame", "cr_frame", "__globals__", "__code__", "__closure__", "__subclasses__", "__builtins__",
    "builtins", "settrace", "setprofile", "subprocess", "atexit", "_exit", "co_filename", "CodeType", "FunctionType",
    "__closure__", "cell_contents", "pluginmanager", "get_plugins", "hookimpl", "_reprcompare",
}
# compile is left to the run's guard: `from re import compile` is an answer's own business
BUILTINS_RUNNING_TEXT = {"exec", "eval", "breakpoint"}
# in strings only the words no text of an answer holds: "workbook" or "pytest" may well be in a docstring
SCREENED_IN_STRINGS = ("_pytest", "pluggy", "__globals__", "__code__", "__builtins__", "__subclasses__", "__import__",
                       "__closure__", "cell_contents", "f_back", "f_locals", "tb_frame", "ctypes")
# a test suite imports pytest and its conftest; it never needs to read the app's source instead of testing the app
SCREENED_IN_SUITES = (SCREENED_NAMES - {"pytest", "conftest"}) | {
    "inspect", "getsource", "getsourcelines", "linecache", "__wrapped__", "__module__", "__qualname__", "co_code",
    "co_consts", "co_names",
}


def screen(text: str, is_suite: bool = False) -> str:
    """Return why an answer's text reaches into the grader (a name it uses), or "" when it does not."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # a syntax error: the check says so; the words still say whether it tried
        tokens = [tokenize.TokenInfo(tokenize.NAME, word, (0, 0), (0, 0), "") for word in re.findall(r"\w+", text)]
    previous = None
    for token in tokens:
        if token.type == tokenize.NAME:
            if token.string in (SCREENED_IN_SUITES if is_suite else SCREENED_NAMES):
                return f"uses `{token.string}`, which no answer needs and which reaches into the grader"
            if token.string in BUILTINS_RUNNING_TEXT and not (previous and previous.string == "."):
                return f"calls `{token.string}`, which runs code from text"
            if token.string == "modules" and previous and previous.string == ".":
                return "uses `sys.modules`, which reaches into the grader"
        elif token.type == tokenize.STRING:
            hit = next((word for word in SCREENED_IN_STRINGS if word in token.string), None)
            if hit:
                return f"names `{hit}` in a string, which reaches into the grader"
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            previous = token
    return ""


def answer_texts(cells: list, exercise: chapters.Exercise) -> tuple[dict[int, str], str, str]:
    """Return an exercise's answer texts from a submitted notebook's cells by solution cell, or a status and why not."""
    reference_cells = folders.cells_of(exercise.chapter)
    texts = {}
    for index in exercise.solution_cells:
        wanted = grade_id(reference_cells[index])
        path = chapters.writefile_cell(reference_cells[index])[0]
        found = [cell for cell in cells if grade_id(cell) == wanted]
        if not found:
            return {}, "missing", f"The notebook has no exercise cell `{wanted}` (for {path}): was it deleted?"
        if len(found) > 1:
            return {}, "error", f"The notebook has {len(found)} cells named `{wanted}`: keep only the exercise's own."
        try:
            written = chapters.writefile_cell(found[0])
        except (AttributeError, TypeError):
            written = None
        if not written or written[0] != path:
            return {}, "failed", (f"The exercise cell `{wanted}` no longer starts with `%%writefile {path}`, "
                                  "so it writes no answer: put that line back at its top.")
        text = chapters.file_text(written[1])
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return {}, "error", f"The exercise cell `{wanted}` holds characters that cannot be saved as UTF-8 text."
        texts[index] = text
    return texts, "", ""


# ---- running the jobs --------------------------------------------------------------------------------


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

    def __init__(self, submissions: Path, out: Path, jobs: int, timeout: float):
        self.submissions, self.out, self.jobs, self.timeout = submissions.resolve(), out.resolve(), jobs, timeout
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
        self.runs = 0  # test runs made: equal answers share theirs
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
            "guard": {"protected": [str(p) for p in self.protected], "readable": [str(p) for p in self.readable], "memory": MEMORY_LIMIT,
                      "settings_file": str(self.tests / "checks" / "pytest.ini")},
        }

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
            for name, changes in declared(test_file, "SUITE_RUNS", {}).items():
                if runs.setdefault(name, changes) != changes:
                    raise WorkbookBug(f"two test files name different Bookshelves {name!r} (SUITE_RUNS)")
        guard = {"protected": [str(p) for p in self.protected], "readable": [str(p) for p in self.readable],
                 "memory": MEMORY_LIMIT}
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

    def run_all(self, jobs: list[Job], progress) -> None:
        """Run the jobs on the workers, in parallel, and store each one's CheckRun."""
        pending: queue.Queue = queue.Queue()
        for job in jobs:
            pending.put(job)

        def work(worker: Worker) -> None:
            while True:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    return
                job.run = self.run_one(worker, job)
                self.verify_copies(job)
                if job.hidden:  # the last run on this folder
                    shutil.rmtree(job.folder, ignore_errors=True)
                progress()

        self.start_workers(min(self.jobs, len(jobs)))
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
                return CheckRun.from_dict(answer)
            errors = worker.startup_error()
            worker.stop()
            if attempt and errors:
                self.log.append(f"a grading worker could not start: {errors}")
        return CheckRun(job.exercise.id, crash="the grading process ended while it ran this exercise")


# ---- grading the class -------------------------------------------------------------------------------


def students_in(submissions: Path) -> list[tuple[str, Path]]:
    """Return (student id, folder or zip) for every submission, in name order."""
    if not submissions.is_dir():
        raise SubmissionsError(f"{submissions} is not a folder of submissions (one folder or .zip per student).")
    found: dict[str, Path] = {}
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            found[entry.name] = entry
        elif entry.suffix.lower() == ".zip" and entry.is_file() and not entry.is_symlink():
            if entry.stem in found:
                print(f"{entry.name}: {entry.stem} also has a folder, which is graded instead", file=sys.stderr)
            found.setdefault(entry.stem, entry)
    return sorted(found.items())


def grade_class(submissions: Path, out: Path, jobs: int | None = None, timeout: float = 60.0) -> int:
    """Grade every submission; write OUT/grades.csv and OUT/feedback/<student>.html; return the exit status."""
    jobs = jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    students = students_in(submissions)
    if out.resolve().is_relative_to(submissions.resolve()):
        raise SubmissionsError(f"The output folder {out} is inside the submissions: choose a folder outside it.")
    started = time.monotonic()
    grader = Grader(submissions, out, int(jobs), timeout)
    try:
        results = grade(grader, students)
    finally:
        grader.close()
    changed = tree_digest(chapters.ROOT / "workbook", chapters.CHECKS, chapters.HIDDEN) != grader.originals
    write_report(out, results, grader.log)
    seconds = time.monotonic() - started
    print(f"graded {len(students)} submissions ({len(results)} exercise grades, {grader.runs} test runs) "
          f"in {seconds:.1f} s: {out / 'grades.csv'}, {out / 'feedback'}/", file=sys.stderr)
    if changed:
        print("WARNING: the workbook's own files changed while grading: compare them with git.", file=sys.stderr)
        return 1
    return 0


def grade(grader: Grader, students: list[tuple[str, Path]]) -> list[Result]:
    """Grade each student's exercises: public checks for all, hidden tests for those whose public checks pass."""
    all_chapters = chapters.all_chapters()
    points = {e: p for c in all_chapters for e, p in declared(c.check_file(), "POINTS").items()}
    needs = {e: n for c in all_chapters for e, n in declared(c.check_file(), "NEEDS").items()}
    cells_for = {e.id: answer_cells(e, needs) for c in all_chapters for e in c.exercises}
    # exercises whose answer is a test suite of the student's own: screened as one, run by the SuiteService
    suites = {e for c in all_chapters for e in declared(c.check_file(), "SUITES", [])}
    results: dict[tuple[str, str], Result] = {}
    graded: dict[tuple[str, str], dict[int, str]] = {}  # the texts each (student, exercise) is run on
    for student, entry in students:
        texts_by_exercise = answers_of(student, entry, all_chapters, points, results)
        for chapter in all_chapters:
            for exercise in chapter.exercises:
                own = texts_by_exercise.get(exercise.id)
                if own is None:
                    continue
                result = results[(student, exercise.id)]
                reason = next(filter(None, (screen(text, exercise.id in suites) for text in own.values())), "")
                if reason:
                    result.status, result.lines = "flagged", [f"Exercise {exercise.id}: your answer {reason}."]
                    continue
                texts = dict(own)
                for need in needs.get(exercise.id, []):
                    texts.update(texts_by_exercise.get(need, {}))
                graded[(student, exercise.id)] = {i: t for i, t in texts.items() if i in cells_for[exercise.id]}
    wanted = {exercise_id for _, exercise_id in graded}
    grader.prepare([e for c in all_chapters for e in c.exercises if e.id in wanted], suites)
    # equal answers get equal runs: the folder, the tests and so the verdict are the same (many students hand in
    # the same untouched cells), so each distinct answer is run once and its verdict given to all who wrote it
    runs: dict[tuple, Job] = {}
    decided_by: dict[tuple[str, str], Job] = {}
    for (student, exercise_id), texts in graded.items():
        key = (exercise_id, tuple(sorted(texts.items())))
        if key not in runs:
            exercise = chapters.exercise(exercise_id)
            runs[key] = grader.job(student, exercise, grader.job_folder(exercise, texts), suites)
        decided_by[(student, exercise_id)] = runs[key]
    public = list(runs.values())
    progress = Progress(len(public))
    grader.run_all(public, progress.step)
    for key, job in decided_by.items():
        judge_public(results[key], job.run)
    hidden = {id(job): grader.job(job.student, job.exercise, job.folder, suites, hidden=True)
              for job in public if results[(job.student, job.exercise.id)].status == "passed"}
    progress.more(len(hidden))
    grader.run_all(list(hidden.values()), progress.step)
    progress.close()
    for key, job in decided_by.items():
        if id(job) in hidden:
            judge_hidden(results[key], hidden[id(job)].run, grader.log)
    grader.runs = len(public) + len(hidden)
    for (student, exercise_id), result in results.items():
        building_on = [n for n in needs.get(exercise_id, []) if results[(student, n)].status != "passed"]
        if result.status in ("failed", "error") and building_on:
            result.lines.append(f"Exercise {exercise_id} builds on {', '.join(building_on)}, which "
                                f"{'does' if len(building_on) == 1 else 'do'} not pass: fix "
                                f"{'it' if len(building_on) == 1 else 'them'} first.")
        result.points = result.max_points if result.status == "passed" else 0
    return list(results.values())


def answers_of(student: str, entry: Path, all_chapters: list[chapters.Chapter], points: dict[str, int],
               results: dict[tuple[str, str], Result]) -> dict[str, dict[int, str]]:
    """Read a student's answer texts by exercise; record a Result for every exercise, with why where there is none."""
    notebooks, problem = notebooks_of(entry)
    texts_by_exercise: dict[str, dict[int, str]] = {}
    for chapter in all_chapters:
        data, name = chapter_notebook(notebooks, chapter) if not problem else (problem, "")
        cells, why = parse_notebook(data) if data is not None else ([], "")
        for exercise in chapter.exercises:
            result = results[(student, exercise.id)] = Result(student, exercise.id, points[exercise.id])
            if data is None:
                result.lines = [f"No notebook for chapter {chapter.number} ({chapter.filename}) was submitted."]
                continue
            if why:
                result.status = "error"
                result.lines = [f"{name or chapter.filename} cannot be graded: {why}."]
                continue
            texts, status, message = answer_texts(cells, exercise)
            if status:
                result.status, result.lines = status, [message]
                continue
            texts_by_exercise[exercise.id] = texts
    return texts_by_exercise


def judge_public(result: Result, run: CheckRun) -> None:
    """Set an exercise's status and feedback from its public checks: the same verdict as the learner's check()."""
    try:
        passed, text = verdict(run)
    except WorkbookBug as error:
        result.status, result.lines = "error", [f"The grader could not run the checks of {result.exercise}: {error}"]
        return
    result.lines = text.splitlines() + [f"Note: your code raised a warning: {w}" for w in run.warnings]
    if run.flagged:
        result.status = "flagged"
    elif passed:
        result.status = "passed"
    elif run.timed_out or run.crash:
        result.status = "error"
    else:
        result.status = "failed"


def judge_hidden(result: Result, run: CheckRun, log: list[str]) -> None:
    """Count the hidden tests that passed; nothing they or the code under them printed or raised is kept."""
    if run.flagged:
        result.status = "flagged"
        result.hidden = "The grader stopped your code while the hidden tests ran."
        log.append(f"{result.student} {result.exercise} (hidden tests): {run.flagged}")
        return
    total = len(run.tests)
    passed = sum(test.outcome == "passed" for test in run.tests)
    if run.timed_out or run.crash or run.interruption or not total:
        result.status = "error" if (run.timed_out or run.crash) else "failed"
        result.hidden = "The hidden tests could not finish."
        return
    result.hidden = f"{passed} of {total} hidden tests passed."
    if not run.passed:
        result.status = "failed"


class Progress:
    """A progress bar on stderr (tqdm), counting exercise runs."""

    def __init__(self, total: int):
        from tqdm import tqdm

        self.lock = threading.Lock()
        self.bar = tqdm(total=total, unit="run", desc="grading", file=sys.stderr, disable=None, dynamic_ncols=True)

    def step(self) -> None:
        with self.lock:
            self.bar.update(1)

    def more(self, count: int) -> None:
        with self.lock:
            self.bar.total += count
            self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


# ---- the report --------------------------------------------------------------------------------------


def safe_name(student: str) -> str:
    """Return a file name for a student's feedback: letters, digits, dot, dash and underscore only.

    An id that had to change gets a short digest of itself, so that "a b" and "a_b" keep a page each."""
    name = re.sub(r"[^\w.-]", "_", student, flags=re.ASCII).strip(".") or "student"
    return name if name == student else f"{name}-{hashlib.sha256(student.encode('utf-8', 'replace')).hexdigest()[:8]}"


def write_report(out: Path, results: list[Result], log: list[str]) -> None:
    """Write grades.csv and one feedback page per student; a previous run's report is moved aside first."""
    out.mkdir(parents=True, exist_ok=True)
    previous = [p for p in (out / "grades.csv", out / "feedback", out / "grading-log.txt") if p.exists()]
    if previous:
        backup = Path(tempfile.mkdtemp(prefix=f"previous-{time.strftime('%Y%m%d-%H%M%S')}-", dir=out))
        for path in previous:
            shutil.move(str(path), backup / path.name)
    # a student's code chooses the text of its error messages: one that is not UTF-8 must not lose the report
    with open(out / "grades.csv", "w", newline="", encoding="utf-8", errors="replace") as stream:
        table = csv.writer(stream)
        table.writerow(["student", "exercise", "points", "max_points", "status"])
        for result in results:
            # a spreadsheet runs a cell that starts with = + - @: a student's id must stay text
            student = "'" + result.student if result.student[:1] in "=+-@" else result.student
            table.writerow([student, result.exercise, result.points, result.max_points, result.status])
    feedback = out / "feedback"
    feedback.mkdir()
    by_student: dict[str, list[Result]] = {}
    for result in results:
        by_student.setdefault(result.student, []).append(result)
    for student, rows in by_student.items():
        (feedback / f"{safe_name(student)}.html").write_text(feedback_page(student, rows), encoding="utf-8",
                                                             errors="replace")
    (out / "grading-log.txt").write_text("\n".join(log) + ("\n" if log else ""), encoding="utf-8", errors="replace")


def feedback_page(student: str, rows: list[Result]) -> str:
    """Return a student's feedback page: each exercise's points, status, verdict lines and hidden tests' count."""
    total, most = sum(r.points for r in rows), sum(r.max_points for r in rows)
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Feedback for {html.escape(student)}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}pre{white-space:pre-wrap;"
        "background:#f6f6f6;padding:.5rem}.passed{color:#176b2c}.failed,.error,.flagged,.missing{color:#a4161a}</style>",
        "</head><body>", f"<h1>Feedback for {html.escape(student)}</h1>", f"<p>Total: {total} of {most} points.</p>",
    ]
    for row in rows:
        parts.append(f'<h2>Exercise {html.escape(row.exercise)}: {row.points} of {row.max_points} points, '
                     f'<span class="{row.status}">{row.status}</span></h2>')
        if row.lines:
            parts.append(f"<pre>{html.escape(chr(10).join(row.lines))}</pre>")
        if row.hidden:
            parts.append(f"<p>Hidden tests: {html.escape(row.hidden)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
