"""Run exercise checks in a warm process: libraries imported once, a clean forked child per check.

The kernel talks to `python -P -m workbook.worker` through one JSON line per request and per answer.
Bookshelf itself is never imported here, only in the child, which runs on a temporary copy of the
learner's folder, so every check reads the files as they are and none can change them.
The worker enforces the time limit, reads the child's answer from a file once the child has exited,
and then ends every process the child left behind (on Linux the worker is a child subreaper, so
even a double-forked daemon comes back to it). `--once` answers a single request the same way.
"""

import gc
import importlib
import json
import os
import selectors
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import psutil

from workbook import chapters, guard
from workbook.guard import SUITE_VERDICT_MODULES
from workbook.collector import run_pytest, text_of
from workbook.processes import become_subreaper, die_with_parent, end_descendants, end_group
from workbook.results import CheckRun

PRELOAD = (
    "pytest", "_pytest.assertion.rewrite", "_pytest.python", "_pytest.fixtures",
    "flask", "flask.testing", "werkzeug", "jinja2", "itsdangerous",
    "sqlalchemy", "flask_sqlalchemy", "flask_migrate", "alembic",
    "flask_wtf", "wtforms", "flask_login", "flask_mail", "flask_principal", "flask_restx",
    "workbook.app", "workbook.sql", "workbook.check_fixtures", "workbook.guard", "workbook.mailbox", "workbook.suite",
)
SCRATCH_PREFIX = "workbook-check-"
# a check's answer file is read up to this size: a run's results are a few kilobytes
ANSWER_LIMIT = 8 << 20
# the worker's end of the answers pipe: a check's child closes it, so nothing it leaves behind holds the pipe open
ANSWERS_FD: int | None = None


def preload() -> None:
    """Import the libraries every check needs, skipping the ones a chapter has not installed yet."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # an optional extension that is missing or broken is found by the check itself
            pass
    # pytest collects garbage at the end of a run: leave the preloaded libraries out of it (and share their pages)
    gc.freeze()


def copied_names() -> set[str]:
    """Return the top-level names of the learner's folder that a check may need: what the chapters write or make."""
    names = {"bookshelf", "instance", "migrations"}
    for chapter in chapters.all_chapters():
        names.update(Path(written.path).parts[0] for written in chapter.files)
        names.update(Path(created).parts[0] for created in chapter.creates)
    return names


def copy_folder(folder: Path, target: Path) -> Path:
    """Copy what a check needs of the learner's folder: Bookshelf and what the chapters make, nothing else."""
    # not the notebooks, backups, a virtual environment or a learner's inspect.py that would shadow the real one
    copy = target / "folder"
    copy.mkdir()
    for name in sorted(copied_names()):
        entry = folder / name
        try:
            if entry.is_dir():
                shutil.copytree(entry, copy / name, ignore_dangling_symlinks=True,
                                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            elif entry.is_file():
                shutil.copyfile(entry, copy / name)
        except OSError:
            pass  # an unreadable file: the check finds whatever it really needs missing
    return copy


def silence_stdio() -> None:
    """Point fds 0-2 at the null device, so a print in the learner's code reaches nobody."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)


def child_main(request: dict, folder: Path, answer: Path, worker: int, channel=None) -> None:
    """In the forked child: run the check and write the answer file; never return."""
    try:
        os.setpgid(0, 0)  # a killpg in the learner's code reaches this group only
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the worker's own handler is not the check's
        die_with_parent(worker)  # if the worker dies, so does the check
        if ANSWERS_FD is not None:
            os.close(ANSWERS_FD)
        if channel is not None:
            enter_sandbox(request, folder, answer, channel)
        silence_stdio()
        if not request.get("guard") and not request.get("suite") and runs_suites(request):
            start_suite_workers()
        # the grader's word to this check alone (the key under which it may ask for the student's suite to be run)
        os.environ.update({str(name): str(value) for name, value in request.get("environment", {}).items()})
        finish = guard_submission(request, folder) if request.get("guard") else None
        try:
            run = run_suite(folder) if request.get("suite") else run_pytest(request, folder)
        except BaseException as error:  # noqa: B902 - whatever happens must reach the kernel as an answer
            run = failed_run(request, crash=f"the check could not run: {type(error).__name__}: {text_of(error)}")
        # no timer or signal handler of the student's may run from here on: the answer is the run's own
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(timer, 0)
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        if finish is not None:
            late = finish()  # always: it also ends the watch, so the answer below can be written
            run.flagged = run.flagged or late
        data = json.dumps(run.to_dict())
        partial = answer.with_suffix(".partial")
        partial.write_text(data, encoding="utf-8")
        os.replace(partial, answer)
    finally:
        os._exit(0)


def runs_suites(request: dict) -> bool:
    """Tell whether the check runs the learner's own test suite (chapter 10's SUITES), which needs suite workers."""
    try:
        exercise = chapters.exercise(request["exercise"])
        return exercise.id in chapters.declared(chapters.chapter(exercise.chapter).check_file(), "SUITES", [])
    except Exception:  # an unknown exercise is the check's own error to report
        return False


def start_suite_workers(count: int = 2) -> None:
    """Fork the workers that run a check's suites now, while this process is still the warm worker's copy.

    A suite worker started as a new program loads every library again: seconds on each check of chapter 10.3. A fork
    of this process has them loaded already. Each answers the suite runs that workbook.suite.SuiteRunner asks of it,
    one at a time, forking a child per run as the warm worker does; it ends with this check."""
    from workbook import suite

    check = os.getpid()
    ends = []
    for _ in range(count):
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        if os.fork() == 0:
            os.close(requests_write)
            os.close(answers_read)
            for fd in (end for pair in ends for end in pair):
                os.close(fd)
            serve_suites(check, requests_read, answers_write)
        os.close(requests_read)
        os.close(answers_write)
        ends.append((requests_write, answers_read))
    os.environ[suite.SUITE_WORKERS_VARIABLE] = ";".join(f"{write},{read}" for write, read in ends)


def serve_suites(check: int, requests_fd: int, answers_fd: int) -> None:
    """In a suite worker: answer each suite run asked on requests_fd, in a child of its own; never return."""
    try:
        die_with_parent(check)
        become_subreaper()
        with os.fdopen(requests_fd, "rb") as requests, os.fdopen(answers_fd, "wb", buffering=0) as answers:
            for line in requests:
                request = json.loads(line)
                reply = run_in_child(request)
                answers.write(json.dumps({"id": request.get("id"), "run": reply}).encode() + b"\n")
    finally:
        os._exit(0)


def enter_sandbox(request: dict, folder: Path, answer: Path, channel) -> None:
    """Build the run's sandbox (workbook.sandbox) around this process; if it cannot be built, report that and end."""
    from workbook import mailbox, sandbox, suite

    ports = [int(os.environ[name]) for name in (mailbox.GRADING_PORT_VARIABLE, suite.PORT_VARIABLE)
             if os.environ.get(name, "").isdigit()]
    try:
        sandbox.enter(folder.parent, list(request["guard"].get("readable", [])), ports, channel)
    except BaseException as error:  # noqa: B902 - no student code runs outside the sandbox
        run = failed_run(request, crash=f"the grading sandbox could not be built ({type(error).__name__}: {error})")
        answer.write_text(json.dumps(run.to_dict()), encoding="utf-8")
        os._exit(0)


def guard_submission(request: dict, folder: Path):
    """Limit a graded submission's process and start watching it (workbook.guard); return the guard's finish()."""
    import resource

    settings = request["guard"]
    scratch = folder.parent
    cpu = int(float(request.get("cpu_limit") or float(request.get("timeout", 60)) + 5))
    # processor time: SIGXCPU at the soft limit (reported as a timeout), SIGKILL two seconds later if it is caught
    limits = [(resource.RLIMIT_AS, int(settings.get("memory", 2 << 30)), 0), (resource.RLIMIT_CORE, 0, 0),
              (resource.RLIMIT_FSIZE, int(settings.get("file_size", 64 << 20)), 0), (resource.RLIMIT_CPU, cpu, 2)]
    for limit, value, grace in limits:
        try:
            resource.setrlimit(limit, (value, value + grace))
        except (ValueError, OSError):
            pass  # a limit the system does not allow lowering: the time limit still holds
    own_tmp = scratch / "tmp"
    own_tmp.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(own_tmp)
    tempfile.tempdir = str(own_tmp)  # cached by the worker: pytest's tmp_path must land in this check's folder
    if settings.get("hook") is False:
        return None  # the tests' switch: the sandbox alone must hold
    # a learner's test suite imports pytest and its own conftest, and may patch any library but the verdict's
    suite = {"verdict_modules": SUITE_VERDICT_MODULES, "patch_libraries": True} if settings.get("suite") else {}
    return guard.install(
        learner_roots=[folder, own_tmp], readable_roots=[scratch, *(Path(path) for path in settings.get("readable", []))],
        protected_roots=[Path(path) for path in settings.get("protected", [])], flag_file=scratch / "flag",
        sandboxed=bool(settings.get("sandbox")), **suite,
    )


def run_suite(folder: Path):
    """Run a learner's own test suite on the Bookshelf beside it (chapter 10's last exercise)."""
    from workbook.suite import run_here

    return run_here(folder)


def failed_run(request: dict, **why):
    """Return the result of a run that did not report: a SuiteRun for a suite, else a CheckRun."""
    if request.get("suite"):
        from workbook.suite import SuiteRun

        return SuiteRun(**why)
    return CheckRun(request.get("exercise", ""), **why)


class KernelGone(Exception):
    """The kernel closed the worker's input: it was restarted, killed or shut down."""


def has_exited(pid: int) -> bool:
    """Tell whether the child has exited, without reaping it: its pid and group stay ours until it is reaped."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def wait_for_child(pid: int, deadline: float, watch_stdin: bool, channel=None) -> bool:
    """Wait until the child exits (True) or the deadline passes (False), without reaping it.

    With a channel (a sandboxed run), relay the run's connections to the grader's services meanwhile."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    relay = None
    try:
        with selectors.DefaultSelector() as selector:
            if pidfd is not None:
                selector.register(pidfd, selectors.EVENT_READ, "child")
            if watch_stdin:
                selector.register(0, selectors.EVENT_READ, "kernel")
            if channel is not None:
                from workbook.sandbox import Relay

                relay = Relay(channel, selector, services())
            while True:
                if has_exited(pid):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                for key, _ in selector.select(timeout=min(left, 0.05 if pidfd is None else left)):
                    # the kernel sends nothing while a check runs: input now can only be its end
                    if key.data == "kernel" and not os.read(0, 1 << 16):
                        raise KernelGone
                    if key.data is relay and relay is not None:
                        relay.handle(key.fileobj)
    finally:
        if relay is not None:
            relay.close()
        if pidfd is not None:
            os.close(pidfd)


def services() -> dict[int, tuple[str, int]]:
    """Return the grader's services a sandboxed run may reach, by port: the SMTP server and the suite service."""
    from workbook import mailbox, suite

    ports = [os.environ.get(name, "") for name in (mailbox.GRADING_PORT_VARIABLE, suite.PORT_VARIABLE)]
    return {int(port): ("127.0.0.1", int(port)) for port in ports if port.isdigit()}


def scratch_folder():
    """Return a temporary folder for one check, named after this worker so that a later one can tidy it up."""
    return tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", ignore_cleanup_errors=True)


def remove_orphaned_scratch() -> None:
    """Remove the temporary folders of workers that were killed before they could remove them."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        owner = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not psutil.pid_exists(int(owner)):
            shutil.rmtree(path, ignore_errors=True)


def run_in_child(request: dict, watch_stdin: bool = False) -> dict:
    """Run a check in a forked child on a copy of the folder, within its time limit; return the answer."""
    timeout = float(request.get("timeout", 120))
    with scratch_folder() as scratch:
        # resolved: macOS's temporary folder is behind a link, and tracebacks name the real path
        scratch = Path(scratch).resolve()
        if request.get("suite"):
            folder = suite_copy(request, scratch)
        elif request.get("guard"):
            folder, request = graded_copy(request, scratch)
        else:
            folder = copy_folder(Path(request["folder"]), scratch)
        answer = scratch / "answer.json"
        worker = os.getpid()
        outside = inside = None
        if request.get("guard", {}).get("sandbox"):
            import socket

            outside, inside = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            if outside is not None:
                outside.close()
            child_main(request, folder, answer, worker, inside)
        if inside is not None:
            inside.close()
        exited = False
        try:
            exited = wait_for_child(pid, time.monotonic() + timeout, watch_stdin, outside)
        finally:
            end_group(pid)  # the child is not reaped yet, so its group id is still the check's own
            _, status = os.waitpid(pid, 0)
            end_descendants()
        run = answer_of(request, answer, status if exited else None)
        flag = scratch / "flag"
        if flag.exists() and flag.stat().st_size:
            run = failed_run(request, flagged=flag.read_bytes()[:500].decode("utf-8", "replace"))
        shown = str(folder)
        # the learner reads paths relative to their own folder, never the temporary copy's
        return json.loads(json.dumps(run.to_dict()).replace(shown + os.sep, "").replace(shown, "."))


# every file of a graded run has this modification time: a run cannot tell one Bookshelf from another by file times
GRADED_FILE_TIME = 1577836800  # 2020-01-01


def copy_regular(source: Path, target: Path) -> None:
    """Copy a folder's regular files and folders only: no links, pipes or devices; every file at one fixed time."""
    target.mkdir()
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        path = target / entry.name
        if entry.is_dir(follow_symlinks=False):
            copy_regular(Path(entry.path), path)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, path, follow_symlinks=False)
            os.utime(path, (GRADED_FILE_TIME, GRADED_FILE_TIME))
    os.utime(target, (GRADED_FILE_TIME, GRADED_FILE_TIME))


def suite_copy(request: dict, scratch: Path) -> Path:
    """Copy the whole folder a suite runs in (its Bookshelf, its tests and its settings)."""
    folder = scratch / "folder"
    if request.get("guard"):
        copy_regular(Path(request["folder"]), folder)
    else:
        shutil.copytree(request["folder"], folder, symlinks=False)
    return folder


def graded_copy(request: dict, scratch: Path) -> tuple[Path, dict]:
    """Copy a graded job's folder and its one test file (with the checks' conftest and settings) into the scratch."""
    folder = scratch / "folder"
    copy_regular(Path(request["folder"]), folder)
    tests = scratch / "tests"
    tests.mkdir()
    test_file = Path(request["test_file"])
    for source in (test_file, test_file.parent / "conftest.py", Path(request["guard"]["settings_file"])):
        shutil.copyfile(source, tests / source.name)
    return folder, {**request, "test_file": str(tests / test_file.name)}


def answer_of(request: dict, answer: Path, status: int | None):
    """Read the child's answer once it has exited, or say why there is none."""
    if status is None:
        return failed_run(request, timed_out=True)
    try:
        with open(answer, "rb") as stream:
            text = stream.read(ANSWER_LIMIT + 1)
        if len(text) > ANSWER_LIMIT:
            return failed_run(request, crash=f"the check's answer was larger than {ANSWER_LIMIT >> 20} MB")
        data = json.loads(text.decode("utf-8"))
        if request.get("suite"):
            from workbook.suite import SuiteRun

            return SuiteRun.from_dict(data)
        return CheckRun.from_dict(data)
    except (OSError, ValueError, TypeError):
        pass
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        return failed_run(request, timed_out=True)  # its processor time was up
    if os.WIFSIGNALED(status):
        ended = f"was ended by signal {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        ended = f"exited with status {os.waitstatus_to_exitcode(status)}"
    return failed_run(request, crash=f"the check process {ended} before it reported")


def run_in_process(request: dict) -> dict:
    """Run a check in this process (where fork is missing): same copy, no isolation from the code."""
    with scratch_folder() as scratch:
        scratch = Path(scratch).resolve()
        folder = suite_copy(request, scratch) if request.get("suite") else copy_folder(Path(request["folder"]), scratch)
        try:
            # a suite runs here only in a fresh interpreter of its own (`--once`): the Bookshelf it imports differs
            run = run_suite(folder) if request.get("suite") else run_pytest(request, folder)
        except BaseException as error:  # noqa: B902
            run = failed_run(request, crash=f"the check could not run: {type(error).__name__}: {text_of(error)}")
        finally:
            os.chdir(tempfile.gettempdir())  # Windows cannot remove the folder a process stands in
        return run.to_dict()


def answer(request: dict, watch_stdin: bool) -> dict:
    """Run one check request, forked where the platform can fork."""
    if hasattr(os, "fork"):
        return run_in_child(request, watch_stdin)
    return run_in_process(request)


def answers_channel():
    """Return a text stream to the kernel on a copy of stdout, and point stdout itself at stderr."""
    global ANSWERS_FD
    ANSWERS_FD = os.dup(1)
    os.dup2(2, 1)  # a stray print must never corrupt the answers
    sys.stdout = sys.stderr
    return os.fdopen(ANSWERS_FD, "w", encoding="utf-8")


def serve() -> None:
    """Answer requests from stdin until it closes (when the kernel goes away)."""
    answers = answers_channel()
    become_subreaper()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    remove_orphaned_scratch()
    preload()
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    pending = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return
        pending += chunk
        while b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            if not line.strip():
                continue
            request = json.loads(line)
            try:
                reply = answer(request, watch_stdin=True)
            except KernelGone:
                return
            answers.write(json.dumps({"id": request.get("id"), "run": reply}) + "\n")
            answers.flush()


def once() -> None:
    """Answer a single request (a fresh interpreter per check, used where fork is not available)."""
    die_with_parent(os.getppid())  # a kernel that dies takes this check with it
    request = json.loads(sys.stdin.readline())
    answers = answers_channel()
    become_subreaper()
    answers.write(json.dumps({"id": request.get("id"), "run": answer(request, watch_stdin=False)}) + "\n")
    answers.flush()


if __name__ == "__main__":
    once() if "--once" in sys.argv[1:] else serve()
