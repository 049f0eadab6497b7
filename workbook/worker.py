"""Run exercise checks in a warm process: libraries imported once, a clean forked child per check.

The kernel talks to `python -P -m workbook.worker` through one JSON line per request and per answer.
Bookshelf itself is never imported here, only in the child, which runs on a temporary copy of the
learner's folder, so every check reads the files as they are and none can change them.
The worker enforces the time limit, reads the child's answer from a file once the child has exited,
and then ends every process the child left behind (on Linux the worker is a child subreaper, so
even a double-forked daemon comes back to it). `--once` answers a single request the same way.
"""

import ctypes
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

from workbook.collector import run_pytest, text_of
from workbook.results import CheckRun

PRELOAD = (
    "pytest", "_pytest.assertion.rewrite", "_pytest.python", "_pytest.fixtures",
    "flask", "flask.testing", "werkzeug", "jinja2", "itsdangerous",
    "sqlalchemy", "flask_sqlalchemy", "flask_migrate", "alembic",
    "flask_wtf", "wtforms", "flask_login", "flask_mail", "flask_principal", "flask_restx",
    "workbook.app", "workbook.sql",
)
# what the copy of the learner's folder leaves out: the notebooks, the workbook's own records, backups
NOT_COPIED = {"backups", ".workbook", ".ipynb_checkpoints", "__pycache__", ".git"}
LINUX_SUBREAPER, LINUX_DEATH_SIGNAL = 36, 1  # prctl(2) options
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


def copy_folder(folder: Path, target: Path) -> Path:
    """Copy what a check needs of the learner's folder (not the notebooks, backups or top-level modules)."""
    copy = target / "folder"
    copy.mkdir()
    for entry in folder.iterdir():
        if entry.name in NOT_COPIED or entry.suffix in (".ipynb", ".py"):
            continue  # a learner's inspect.py or pytest.py beside the notebook must not shadow the real one
        try:
            if entry.is_dir():
                shutil.copytree(entry, copy / entry.name, ignore_dangling_symlinks=True,
                                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            elif entry.is_file():
                shutil.copyfile(entry, copy / entry.name)
        except OSError:
            pass  # an unreadable stray file: the check finds whatever it really needs missing
    return copy


def prctl(option: int, value: int) -> None:
    """Call Linux's prctl(2); do nothing elsewhere."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def silence_stdio() -> None:
    """Point fds 0-2 at the null device, so a print in the learner's code reaches nobody."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)


def child_main(request: dict, folder: Path, answer: Path) -> None:
    """In the forked child: run the check and write the answer file; never return."""
    try:
        os.setpgid(0, 0)  # a killpg in the learner's code reaches this group only
        prctl(LINUX_DEATH_SIGNAL, signal.SIGKILL)  # if the worker dies, so does the check
        if ANSWERS_FD is not None:
            os.close(ANSWERS_FD)
        silence_stdio()
        try:
            run = run_pytest(request, folder)
        except BaseException as error:  # noqa: B902 - whatever happens must reach the kernel as an answer
            run = CheckRun(request.get("exercise", ""), crash=f"the check could not run: {type(error).__name__}: {text_of(error)}")
        data = json.dumps(run.to_dict())
        partial = answer.with_suffix(".partial")
        partial.write_text(data, encoding="utf-8")
        os.replace(partial, answer)
    finally:
        os._exit(0)


def end_descendants(pgid: int) -> None:
    """Kill the check's process group and every process left behind, and reap them all."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    me = psutil.Process()
    for _ in range(200):  # a fork loop may add processes while they are killed
        try:
            left = me.children(recursive=True)
        except psutil.Error:
            left = []
        for process in left:
            try:
                process.kill()
            except psutil.Error:
                pass
        reap()
        if not left:
            return
        time.sleep(0.005)


def reap() -> None:
    """Collect every child of the worker that has exited."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class KernelGone(Exception):
    """The kernel closed the worker's input: it was restarted, killed or shut down."""


def wait_for_child(pid: int, deadline: float, watch_stdin: bool) -> int | None:
    """Wait for the child until the deadline; return its wait status, or None at the deadline."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    try:
        with selectors.DefaultSelector() as selector:
            if pidfd is not None:
                selector.register(pidfd, selectors.EVENT_READ, "child")
            if watch_stdin:
                selector.register(0, selectors.EVENT_READ, "kernel")
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return status
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                for key, _ in selector.select(timeout=min(left, 0.05 if pidfd is None else left)):
                    if key.data == "kernel" and not os.read(0, 1 << 16):
                        raise KernelGone
    finally:
        if pidfd is not None:
            os.close(pidfd)


def run_in_child(request: dict, watch_stdin: bool = False) -> dict:
    """Run a check in a forked child on a copy of the folder, within its time limit; return the answer."""
    timeout = float(request.get("timeout", 120))
    with tempfile.TemporaryDirectory(prefix="workbook-check-") as scratch:
        folder = copy_folder(Path(request["folder"]), Path(scratch))
        answer = Path(scratch) / "answer.json"
        pid = os.fork()
        if pid == 0:
            child_main(request, folder, answer)
        try:
            status = wait_for_child(pid, time.monotonic() + timeout, watch_stdin)
        finally:
            end_descendants(pid)
        run = answer_of(request, answer, status)
        shown = str(folder)
        # the learner reads paths relative to their own folder, never the temporary copy's
        return json.loads(json.dumps(run.to_dict()).replace(shown + os.sep, "").replace(shown, "."))


def answer_of(request: dict, answer: Path, status: int | None) -> CheckRun:
    """Read the child's answer once it has exited, or say why there is none."""
    exercise = request.get("exercise", "")
    if status is None:
        return CheckRun(exercise, timed_out=True)
    try:
        return CheckRun.from_dict(json.loads(answer.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    if os.WIFSIGNALED(status):
        ended = f"was ended by signal {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        ended = f"exited with status {os.waitstatus_to_exitcode(status)}"
    return CheckRun(exercise, crash=f"the check process {ended} before it reported")


def run_in_process(request: dict) -> dict:
    """Run a check in this process (where fork is missing): same copy, no isolation from the code."""
    with tempfile.TemporaryDirectory(prefix="workbook-check-") as scratch:
        folder = copy_folder(Path(request["folder"]), Path(scratch))
        try:
            run = run_pytest(request, folder)
        except BaseException as error:  # noqa: B902
            run = CheckRun(request.get("exercise", ""), crash=f"the check could not run: {type(error).__name__}: {text_of(error)}")
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
    os.dup2(2, 1)  # a stray print must never corrupt the answers
    sys.stdout = sys.stderr
    prctl(LINUX_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
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
    request = json.loads(sys.stdin.readline())
    answers = answers_channel()
    prctl(LINUX_SUBREAPER, 1)
    answers.write(json.dumps({"id": request.get("id"), "run": answer(request, watch_stdin=False)}) + "\n")
    answers.flush()


if __name__ == "__main__":
    once() if "--once" in sys.argv[1:] else serve()
