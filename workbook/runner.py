"""Send checks from the kernel to the warm worker process, restarting it when it dies, with a plain fallback."""

import atexit
import itertools
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .errors import InstallError, LearnerError, WorkbookBug
from .results import CheckRun

DEFAULT_TIMEOUT = 120.0
# -P: the notebook's folder is not on sys.path, so a learner's pytest.py or inspect.py cannot shadow the real one.
# Not -I, which would also drop the user site that a `pip install --user -e .` (JupyterHub) relies on.
COMMAND = [sys.executable, "-P", "-m", "workbook.worker"]
# the worker answers within its own time limit; this is how much longer the kernel waits before giving up on it
GRACE = 15.0
# variables of the kernel that would change how Python or pytest behave in the check (PYTHONOPTIMIZE strips asserts)
KEPT_PYTHON_VARIABLES = {"PYTHONUSERBASE", "PYTHONNOUSERSITE", "PYTHONHOME", "PYTHONUTF8", "PYTHONIOENCODING"}


def check_timeout() -> float:
    """Return the time limit of a check in seconds: WORKBOOK_CHECK_TIMEOUT, or 120."""
    given = os.environ.get("WORKBOOK_CHECK_TIMEOUT", "").strip()
    if not given:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(given)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < 24 * 3600:
        raise LearnerError(
            f"WORKBOOK_CHECK_TIMEOUT is {given[:40]!r}, not a number of seconds between 0 and 86400: "
            "set it to a positive number (like 300), or unset it to get the default of 120."
        )
    return seconds


def clean_environment() -> dict[str, str]:
    """Return the kernel's environment without the PYTHON* and PYTEST_* variables that would change a verdict."""
    return {
        name: value for name, value in os.environ.items()
        if not (name.startswith("PYTEST_") or (name.startswith("PYTHON") and name not in KEPT_PYTHON_VARIABLES))
    }


def warm_worker_wanted() -> bool:
    """Use the forking worker where the platform can fork, unless WORKBOOK_WARM_WORKER=0."""
    return hasattr(os, "fork") and os.environ.get("WORKBOOK_WARM_WORKER", "1") != "0"


class Worker:
    """One long-lived `python -P -m workbook.worker` process owned by this kernel (or by the grader)."""

    def __init__(self, command: list[str] | None = None, environment: dict[str, str] | None = None,
                 cwd: Path | None = None):
        self.command, self.environment, self.cwd = command or COMMAND, environment, cwd
        self.process: subprocess.Popen | None = None
        self.errors = None
        self._pending = b""
        self._ids = itertools.count(1)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the worker in the background if it is not running; do not wait for it."""
        if self.alive():
            return
        self.stop()  # reap a worker that died, and close its pipes
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
            cwd=self.cwd or tempfile.gettempdir(), env=self.environment or clean_environment(),
            start_new_session=True,  # the learner's stop button (SIGINT to the kernel's group) does not reach it
        )
        self._pending = b""

    def stop(self) -> None:
        """End the worker: closing its input makes it end its check's processes and exit; kill it if it does not."""
        if self.process is None:
            return
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
        self.process.stdout.close()
        self.process = None
        if self.errors is not None:
            self.errors.close()
            self.errors = None

    def startup_error(self) -> str:
        """Return the end of what the worker wrote to stderr (why it could not start)."""
        if self.errors is None:
            return ""
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace").strip()[-800:]

    def _read_line(self, deadline: float) -> str | None:
        """Read one answer line, or None if the worker closed; raise TimeoutError at the deadline."""
        fd = self.process.stdout.fileno()
        while b"\n" not in self._pending:
            with selectors.DefaultSelector() as selector:
                selector.register(fd, selectors.EVENT_READ)
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode()

    def request(self, payload: dict, timeout: float) -> dict | None:
        """Send one request and return its answer, or None if the worker died on the way."""
        self.start()
        deadline = time.monotonic() + timeout + GRACE
        payload = {**payload, "id": next(self._ids)}
        try:
            self.process.stdin.write((json.dumps(payload) + "\n").encode())
            self.process.stdin.flush()
            while True:
                line = self._read_line(deadline)
                if line is None:
                    return None
                answer = json.loads(line)
                # skip the worker's "ready" line, and any answer to a request that was given up
                if answer.get("id") == payload["id"]:
                    return answer["run"]
        except BrokenPipeError:
            return None
        except BaseException:
            # a timeout or an interrupt (the learner's stop button) leaves the worker busy: end it
            self.stop()
            raise


_worker = Worker()
atexit.register(_worker.stop)


def warm_up() -> None:
    """Start the worker early, so the first check of a chapter is already fast."""
    if warm_worker_wanted():
        _worker.start()


def run_once(payload: dict, timeout: float) -> dict:
    """Run a check in a fresh interpreter: slower, but works everywhere."""
    try:
        completed = subprocess.run(
            [*COMMAND, "--once"], input=(json.dumps(payload) + "\n").encode(), capture_output=True,
            timeout=timeout + GRACE, cwd=tempfile.gettempdir(), env=clean_environment(),
        )
    except subprocess.TimeoutExpired:
        return {"exercise": payload["exercise"], "timed_out": True}
    lines = completed.stdout.decode().strip().splitlines()
    if lines:
        return json.loads(lines[-1])["run"]
    errors = completed.stderr.decode(errors="replace").strip()[-800:]
    if "ModuleNotFoundError" in errors or "ImportError" in errors:
        raise InstallError(f"The check process could not start (exit status {completed.returncode}): {errors}")
    # without fork the learner's code runs in this process: os._exit() or a kill ends it without an answer
    return {"exercise": payload["exercise"],
            "crash": f"the check process exited with status {completed.returncode} before it reported"}


def run_check(folder: Path, exercise_id: str, test_file: Path, timeout: float | None = None) -> CheckRun:
    """Run one exercise's tests against a copy of a folder and return what they found."""
    timeout = check_timeout() if timeout is None else timeout
    payload = {"folder": str(folder), "exercise": exercise_id, "test_file": str(test_file), "timeout": timeout}
    if not warm_worker_wanted():
        return CheckRun.from_dict(run_once(payload, timeout))
    for attempt in range(2):  # a worker that had died since the last check is restarted once
        try:
            answer = _worker.request(payload, timeout)
        except TimeoutError:  # the worker did not keep its own time limit: it has been ended
            return CheckRun(exercise_id, timed_out=True)
        if answer is not None:
            return CheckRun.from_dict(answer)
        errors = _worker.startup_error()
        _worker.stop()  # also drops its error file: read it first
        if attempt == 0:
            continue
        if "ModuleNotFoundError" in errors or "ImportError" in errors:
            raise InstallError(f"The check process could not start: {errors}")
        if "Traceback" in errors:
            raise WorkbookBug(f"The check process failed: {errors}")
    return CheckRun(exercise_id, crash="the check process was ended while it ran your code")
