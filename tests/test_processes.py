"""Processes end when they should: nothing a check starts outlives it, and nothing it does reaches the kernel."""

import hashlib
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from helpers import chapter00_app, chapter_folder, run, write_files
from workbook import runner
from workbook.errors import LearnerError

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return chapter_folder(tmp_path / "notebooks")


def wait_until_gone(pids, seconds=5.0) -> list[int]:
    """Return the pids still running (not zombies) after waiting up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def pids_in(path: Path) -> list[int]:
    return [int(line) for line in path.read_text(encoding="utf-8").split()] if path.exists() else []


# what learner code might leave running; each writes the pids it started into PIDS
LEFT_RUNNING = {
    "a thread": "import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()",
    "a child process": "import subprocess\np = subprocess.Popen(['sleep', '1000'])\nopen(PIDS, 'a').write(f'{p.pid}\\n')",
    "a child in a new session": "import subprocess\np = subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
                                "open(PIDS, 'a').write(f'{p.pid}\\n')",
    "a double-forked daemon": "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                              "        open(PIDS, 'a').write(f'{os.getpid()}\\n')\n        time.sleep(1000)\n    os._exit(0)\n"
                              "while not os.path.exists(PIDS):\n    time.sleep(0.01)",
}


@pytest.mark.skipif(not LINUX, reason="Linux ends every process a check leaves; elsewhere it is best effort")
@pytest.mark.parametrize("left", LEFT_RUNNING, ids=list(LEFT_RUNNING))
def test_what_a_check_leaves_running_ends_with_it_and_does_not_delay_it(here, tmp_path, left):
    pids = tmp_path / "pids"
    factory = f"PIDS = {str(pids)!r}\n{LEFT_RUNNING[left]}"
    write_files(here, {"bookshelf/__init__.py": chapter00_app(factory=factory)})
    start = time.monotonic()
    passed, text = run(here, "00.1", timeout=30)
    assert passed, text
    assert time.monotonic() - start < 15, "the check waited for what the learner's code left running"
    assert left == "a thread" or pids_in(pids), "the learner's code started no process"
    assert wait_until_gone(pids_in(pids)) == []


def test_learner_code_that_kills_its_parent_does_not_reach_the_kernel(here):
    view = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nreturn 'x'"
    write_files(here, {"bookshelf/__init__.py": chapter00_app(view)})
    passed, text = run(here, "00.1", timeout=30)
    assert not passed and "before it could report" in text
    # this test process plays the kernel: it is still here, and the next check works
    write_files(here, {"bookshelf/__init__.py": chapter00_app()})
    assert run(here, "00.1")[0] is True


@pytest.mark.skipif(not LINUX, reason="Linux ends every process a check leaves; elsewhere it is best effort")
def test_when_the_kernel_dies_its_worker_and_the_check_end(here, tmp_path):
    pids = tmp_path / "pids"
    view = f"import os, time\nopen({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\ntime.sleep(1000)"
    write_files(here, {"bookshelf/__init__.py": chapter00_app(view)})
    kernel = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys
        from pathlib import Path
        from workbook import chapters, runner
        runner.warm_up()
        print(runner._worker.process.pid, flush=True)
        runner.run_check(Path.cwd(), "00.1", chapters.chapter("00").check_file(), timeout=600)
    """)], cwd=here, stdout=subprocess.PIPE, text=True)
    worker = int(kernel.stdout.readline())
    deadline = time.monotonic() + 60
    while not pids_in(pids):
        assert time.monotonic() < deadline, "the check never started"
        time.sleep(0.05)
    kernel.kill()
    kernel.wait()
    kernel.stdout.close()
    assert wait_until_gone([worker, *pids_in(pids)], seconds=10) == []


def test_a_check_never_changes_the_learners_files(here):
    # a factory that ignores the test configuration and writes into its instance folder and the package
    factory = ("import os, sqlite3\nos.makedirs(app.instance_path, exist_ok=True)\n"
               "sqlite3.connect(os.path.join(app.instance_path, 'bookshelf.sqlite')).execute('CREATE TABLE IF NOT EXISTS t (x)')\n"
               "open(os.path.join(app.root_path, 'written.txt'), 'w').write('x')")
    write_files(here, {"bookshelf/__init__.py": chapter00_app(factory=factory)})
    (here / "instance").mkdir()
    (here / "instance" / "bookshelf.sqlite").write_bytes(b"")

    def snapshot():
        return {p.relative_to(here).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(here.rglob("*")) if p.is_file()}

    before = snapshot()
    assert run(here, "00.1")[0] is True
    assert snapshot() == before


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "1e400"])
def test_a_check_timeout_that_is_not_a_positive_number_gets_one_sentence(monkeypatch, value):
    monkeypatch.setenv("WORKBOOK_CHECK_TIMEOUT", value)
    with pytest.raises(LearnerError, match="WORKBOOK_CHECK_TIMEOUT is .* not a number of seconds"):
        runner.check_timeout()


def test_the_stop_button_ends_the_check_and_what_it_started(here, tmp_path):
    pids = tmp_path / "pids"
    view = f"import os, time\nopen({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\ntime.sleep(1000)"
    write_files(here, {"bookshelf/__init__.py": chapter00_app(view)})

    def press_stop_once_the_check_runs():
        deadline = time.monotonic() + 60
        while not pids_in(pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Kernel > Interrupt sends SIGINT, which Python turns into KeyboardInterrupt in the main thread
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=press_stop_once_the_check_runs, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run(here, "00.1", timeout=120)
    assert pids_in(pids), "the check never started"
    assert runner._worker.process is None
    assert wait_until_gone(pids_in(pids)) == []
