"""Remember which exercises passed in a folder, and show them chapter by chapter."""

import contextlib
import json
import os
import threading
import time
from pathlib import Path

from . import chapters, files
from .errors import LearnerError

STATE = Path(".workbook") / "progress.json"
LOCK = Path(".workbook") / "progress.lock"
MARKS = {"passed": "✔ passed", "failed": "✘ not yet", None: "· not tried"}
# a record takes milliseconds; a kernel that holds the lock longer is stuck, and the verdict matters more
LOCK_WAIT_SECONDS = 10
# file locks do not exclude two threads of one process on every system (POSIX record locks are per process)
THREAD_LOCK = threading.Lock()


class Damaged(ValueError):
    """progress.json is not the mapping of exercise ids to results that the workbook writes."""


def parse(text: str) -> dict[str, str]:
    """Return the results in progress.json's text, or raise Damaged."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise Damaged(str(error)) from None
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and value in ("passed", "failed") for key, value in data.items()
    ):
        raise Damaged("not a mapping of exercise ids to results")
    return data


@contextlib.contextmanager
def locked(path: Path):
    """Hold an exclusive lock on a file for the block, waiting a few seconds at most."""
    with THREAD_LOCK:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | files.NO_FOLLOW, 0o666)
        try:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while not try_lock(handle):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{LOCK.as_posix()} stayed locked by another kernel")
                # polling: neither fcntl nor msvcrt can wait with a time limit
                time.sleep(0.005)
            yield
        finally:
            # closing the file releases its lock
            os.close(handle)


def try_lock(handle: int) -> bool:
    """Take the lock on an open file if no other process has it."""
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            # lockf rather than flock: it also works on the NFS home folders of a JupyterHub
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    except OSError as error:
        # msvcrt says "already locked" with EDEADLOCK (36 on Windows)
        if os.name == "nt" and error.errno in (13, 36):
            return False
        raise
    return True


def set_aside(folder: Path) -> Path:
    """Rename a damaged progress.json so that nothing in it is lost, and return its new name."""
    path = folder / STATE
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    for attempt in range(100):
        damaged = path.with_name(f"{path.name}.damaged-{stamp}" + (f"_{attempt}" if attempt else ""))
        if not damaged.exists() and not damaged.is_symlink():
            os.replace(path, damaged)
            return damaged
    raise FileExistsError(f"too many {path.name}.damaged-{stamp}* files")


def store(folder: Path, exercise_id: str, result: str) -> str | None:
    """Merge one result into progress.json under the lock; return a note when the old file was set aside."""
    files.make_folders(folder, STATE.parent.as_posix())
    path = folder / STATE
    note = None
    with locked(folder / LOCK):
        # read under the lock, so that another kernel's result written meanwhile is kept
        try:
            data = parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (UnicodeDecodeError, Damaged):
            damaged = set_aside(folder)
            data = {}
            note = (
                f"{STATE.as_posix()} was damaged, so it was moved to {files.shown(folder, damaged)} "
                "and your progress is recorded afresh from this result."
            )
        data[exercise_id] = result
        files.write_text(folder, STATE.as_posix(), json.dumps(data, indent=1, sort_keys=True))
    return note


def record(folder: Path, exercise_id: str, passed: bool) -> str | None:
    """Store the latest result of an exercise; return a one-line note for the learner if something went wrong."""
    try:
        return store(folder, exercise_id, "passed" if passed else "failed")
    except LearnerError as error:
        # one sentence naming the path already (a read-only folder, .workbook that is a file, a full disk)
        return f"This result was not saved for progress(): {error}"
    except OSError as error:
        return (
            f"This result was not saved for progress() ({error.strerror or error}): "
            f"check that {STATE.parent.as_posix()}/ in this folder is writable, then run the check again."
        )


def table(folder: Path) -> str:
    """Return every chapter's exercises with their latest result, as aligned text."""
    results, unreadable = {}, False
    try:
        results = parse((folder / STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError, Damaged):
        unreadable = True
    rows, solved, total = [], 0, 0
    for chapter in chapters.all_chapters():
        for position, exercise in enumerate(chapter.exercises):
            # the notebook's name ("02 database") is short enough for a table, unlike the title
            name = chapter.name.replace("_", " ", 1) if position == 0 else ""
            rows.append(f"{name:<24}{exercise.id:<10}{MARKS[results.get(exercise.id)]}")
            solved += results.get(exercise.id) == "passed"
            total += 1
    header = f"{'Chapter':<24}{'Exercise':<10}Result"
    footer = [f"{solved} of {total} exercises solved."]
    if unreadable:
        footer.append(f"({STATE.as_posix()} could not be read; the next check moves it aside and starts it afresh.)")
    return "\n".join([header, *rows, *footer])
