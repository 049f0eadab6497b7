"""What an instructor sees while a class is graded: a first line at once, a bar that only moves forward, a line per
student as each one finishes (in a terminal or not), and a closing summary."""

import sys
import threading
import time


class Progress:
    """A progress bar on stderr (tqdm) over a total known from the start, and plain lines that a log file keeps."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.bar = None

    def say(self, line: str) -> None:
        """Print one line now, above the bar when there is one."""
        with self.lock:
            if self.bar is not None:
                self.bar.write(line, file=self.stream)
            else:
                print(line, file=self.stream, flush=True)

    def start(self, total: int) -> None:
        """Show a bar over every run slot: each answer's public checks and its hidden tests, counted up front."""
        from tqdm import tqdm

        with self.lock:
            # disable=None: a bar only in a terminal; redirected output keeps the plain lines alone
            self.bar = tqdm(total=total, unit="run", desc="grading", file=self.stream, disable=None,
                            dynamic_ncols=True, leave=False)

    def step(self, count: int = 1) -> None:
        with self.lock:
            if self.bar is not None and count:
                self.bar.update(count)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        with self.lock:
            if self.bar is not None:
                self.bar.close()
                self.bar = None
