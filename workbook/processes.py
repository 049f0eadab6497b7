"""End what learner code leaves running: the processes a check or a flask command started, and their children.

On Linux the process that runs learner code in a child becomes a child subreaper, so that every process the
learner's code starts (in a new session, double-forked) comes back to it when its parent ends, and can be ended.
Elsewhere the child's process group is ended: best effort.
"""

import ctypes
import os
import signal
import sys
import time

import psutil

LINUX_SUBREAPER, LINUX_DEATH_SIGNAL = 36, 1  # prctl(2) options


def prctl(option: int, value: int) -> None:
    """Call Linux's prctl(2); do nothing elsewhere."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def become_subreaper() -> None:
    """Make orphaned descendants of this process its children (Linux), so end_descendants() reaches them."""
    prctl(LINUX_SUBREAPER, 1)


def die_with_parent(parent: int) -> None:
    """Be killed when the parent process ends (Linux); end now if it has ended already."""
    prctl(LINUX_DEATH_SIGNAL, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the death signal was armed
        os._exit(1)


def end_group(pgid: int) -> None:
    """Kill a process group, if there still is one."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def end_descendants() -> None:
    """Kill every process below this one, and reap them all."""
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
    """Collect every child of this process that has exited."""
    while hasattr(os, "waitpid"):
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def exit_status(status: int) -> int:
    """Return a wait status as a shell would: the exit code, or 128 + the signal."""
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)
