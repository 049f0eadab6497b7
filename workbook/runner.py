"""Send checks to the warm worker process, restarting it when it dies, with a plain fallback."""

import atexit
import itertools
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from .errors import LearnerError

CHECK_TIMEOUT = float(os.environ.get("WORKBOOK_CHECK_TIMEOUT", "120"))
COMMAND = [sys.executable, "-m", "workbook.worker"]


def warm_worker_wanted() -> bool:
    """Use the forking worker where the platform can fork, unless WORKBOOK_WARM_WORKER=0."""
    return hasattr(os, "fork") and os.environ.get("WORKBOOK_WARM_WORKER", "1") != "0"


class Worker:
    """One long-lived `python -m workbook.worker` process owned by this kernel."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        self._pending = b""
        self._ids = itertools.count(1)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the worker in the background if it is not running; do not wait for it."""
        if self.alive():
            return
        self.stop()  # reap a worker that died, and close its pipes
        self.process = subprocess.Popen(
            COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True,  # so that stop() can end the worker and any child it forked
        )
        self._pending = b""

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
        self.process = None

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
        deadline = time.monotonic() + timeout
        payload = {**payload, "id": next(self._ids)}
        try:
            self.process.stdin.write((json.dumps(payload) + "\n").encode())
            self.process.stdin.flush()
            while True:
                line = self._read_line(deadline)
                if line is None:
                    self.stop()
                    return None
                answer = json.loads(line)
                # skip the worker's "ready" line, and any answer to a request that was given up
                if answer.get("id") == payload["id"]:
                    return answer
        except BrokenPipeError:
            self.stop()
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
            [*COMMAND, "--once"], input=(json.dumps(payload) + "\n").encode(),
            capture_output=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError from None
    lines = completed.stdout.decode().strip().splitlines()
    if not lines:
        tail = completed.stderr.decode(errors="replace").strip()[-500:]
        return {"crash": f"the check process exited with status {completed.returncode}: {tail}"}
    return json.loads(lines[-1])


def run_check(folder: Path, exercise_id: str, test_file: Path, timeout: float = CHECK_TIMEOUT) -> dict:
    """Run one exercise's tests against a folder and return the worker's results."""
    payload = {"folder": str(folder), "exercise": exercise_id, "test_file": str(test_file)}
    try:
        if warm_worker_wanted():
            for _ in range(2):  # a worker that died is restarted once
                answer = _worker.request(payload, timeout)
                if answer is not None:
                    return answer
        return run_once(payload, timeout)
    except TimeoutError:
        raise LearnerError(
            f"The check of exercise {exercise_id} ran for more than {timeout:.0f} s and was stopped. "
            "Look for a loop that never ends or a request that waits forever in your code, then run the check again."
        ) from None
