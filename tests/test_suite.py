"""A learner's own test suite (chapter 10's last exercise), run on Bookshelves that differ only in their source."""

import shutil
from pathlib import Path

import pytest

from submissions import exercise_cell, notebook
from workbook import chapters, grading, suite

SUITE_FILES = [chapters.CHECKS / "test_10_ship_it.py", chapters.HIDDEN / "test_10_ship_it.py"]
# a test that fails on purpose, with a digest of each thing a suite could look at to tell one run from another
SPY = '''import hashlib
import json
import os
import sys

import pytest


def digest(value):
    here = os.getcwd()
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.replace(here, "<run>").replace(os.path.dirname(here), "<scratch>").encode()).hexdigest()[:12]


def test_what_a_suite_can_see(request):
    here = os.getcwd()
    seen = {
        "argv": digest(sys.argv),
        "environment": digest(sorted(os.environ.items())),
        "modules": digest(sorted(sys.modules)),
        "path": digest(sys.path),
        "files": digest(sorted(os.path.relpath(os.path.join(top, name), here)
                               for top, _, names in os.walk(os.path.dirname(here)) for name in names)),
        "options": digest(vars(request.config.option)),
        "plugins": digest(sorted(type(plugin).__name__ for plugin in request.config.pluginmanager.get_plugins())),
    }
    assert False, "SEEN " + json.dumps(seen, sort_keys=True)
'''


def declared_runs() -> dict[str, suite.Changes]:
    runs: dict[str, suite.Changes] = {}
    for path in SUITE_FILES:
        runs.update(chapters.declared(path, "SUITE_RUNS", {}))
    return runs


def reference_suite() -> dict[str, str]:
    """Return chapter 10's solved suite: the given conftest.py and the two answer files."""
    book = notebook("10", solved=True)
    written = dict(chapters.writefile_cell(cell) for cell in book["cells"]
                   if cell["cell_type"] == "code" and chapters.writefile_cell(cell))
    answers = [chapters.writefile_cell(exercise_cell(book, "10.3", part)) for part in (0, 1)]
    return {path: chapters.file_text(text) for path, text in [("tests/conftest.py", written["tests/conftest.py"]), *answers]}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """Two warm workers that run suites under the guard, as check("10.3") does in a learner's kernel."""
    started = suite.SuiteRunner(scratch=tmp_path_factory.mktemp("suites"))
    yield started
    started.close()


def test_every_change_is_found_once_in_the_reference_and_changes_it(tmp_path, runner):
    template = runner.reference("10")
    runs = declared_runs()
    assert {"as written", "in other words", "rewritten again"} <= set(runs) and len(runs) >= 6
    for number, (name, changes) in enumerate(runs.items()):
        folder = tmp_path / str(number)
        shutil.copytree(template / "bookshelf", folder / "bookshelf")
        suite.change(folder, changes)
        changed = [relative for relative, _, _ in changes
                   if (folder / relative).read_text() != (template / relative).read_text()]
        assert sorted(set(changed)) == sorted({relative for relative, _, _ in changes}), name


def test_a_change_that_is_not_in_the_reference_is_the_workbooks_error(tmp_path, runner):
    shutil.copytree(runner.reference("10") / "bookshelf", tmp_path / "bookshelf")
    with pytest.raises(ValueError, match="bookshelf/main.py holds 0 copies"):
        suite.change(tmp_path, [("bookshelf/main.py", "def no_such_view():\n", "")])
    with pytest.raises(ValueError, match="bookshelf/passwords.py defines no PasswordMixin.no_such_method"):
        suite.change(tmp_path, [("bookshelf/passwords.py", "def PasswordMixin.no_such_method", "return 1")])


def test_a_functions_body_is_replaced_by_name_and_its_docstring_kept(tmp_path, runner):
    shutil.copytree(runner.reference("10") / "bookshelf", tmp_path / "bookshelf")
    suite.change(tmp_path, [("bookshelf/passwords.py", "def PasswordMixin.check_password", "found = 1\nreturn found")])
    text = (tmp_path / "bookshelf" / "passwords.py").read_text()
    method = text[text.index("    def check_password"):]
    assert method.splitlines()[2:] == ["        found = 1", "        return found"]
    assert '"""Say whether the password' in method.splitlines()[1] and "def set_password" in text


def test_the_runs_differ_only_in_the_bookshelfs_source(runner):
    """Whatever a suite looks at besides the app (its environment, modules, files, pytest's options), each run is
    the same: only testing what the app does tells the Bookshelves apart."""
    files = {**reference_suite(), "tests/test_spy.py": SPY}
    runs = declared_runs()
    seen = {}
    for name, run in zip(runs, runner.run_all(files, list(runs.values()))):
        assert not run.flagged and not run.crash, (name, run.tail())
        assert "tests/test_spy.py::test_what_a_suite_can_see" in run.failed(), (name, run.tail())
        seen[name] = next(line for line in run.output.splitlines() if "SEEN {" in line).split("SEEN ", 1)[1]
    assert len(set(seen.values())) == 1, seen


def test_the_reference_suite_passes_rewritten_and_fails_broken(runner):
    runs = declared_runs()
    for name, run in zip(runs, runner.run_all(reference_suite(), list(runs.values()))):
        broken = name not in ("as written", "in other words", "rewritten again")
        assert (run.exit_code, bool(run.failed())) == ((1, True) if broken else (0, False)), (name, run.tail())
        assert not run.dodged() and len(run.passed()) >= 4, (name, run.tail())


def test_a_suite_may_use_its_conftest_and_pytests_fixtures(runner):
    files = {**reference_suite(), "tests/test_own.py": (
        "import flask_mail\n\nfrom conftest import EMAIL\n\n\n"
        "def test_what_a_suite_of_its_own_does(client, auth, monkeypatch, tmp_path, caplog):\n"
        "    sent = []\n"
        "    monkeypatch.setattr(flask_mail.Mail, 'send', lambda self, message: sent.append(message))\n"
        "    monkeypatch.setenv('BOOKSHELF_NOTE', 'x')\n"
        "    (tmp_path / 'note.txt').write_text(EMAIL)\n"
        "    assert auth.login().status_code == 302 and (tmp_path / 'note.txt').read_text() == EMAIL\n")}
    (run,) = runner.run_all(files, [[]])
    assert run.exit_code == 0 and not run.flagged and "tests/test_own.py::test_what_a_suite_of_its_own_does" in run.passed(), run.tail()


@pytest.mark.parametrize(("test", "reason"), [
    ("open('/tmp/workbook-suite-escape', 'w').write('x')", "wrote to /tmp/workbook-suite-escape, outside its own folder"),
    ("import subprocess\n    subprocess.run(['true'])", "ran another program (subprocess)"),
    ("import threading\n    threading.Thread(target=print).start()", "started a thread"),
    ("import workbook.grading", "imported workbook.grading"),
    ("import socket\n    socket.create_connection(('192.0.2.1', 80), timeout=1)", "opened a network connection"),
])
def test_a_suite_that_reaches_outside_its_folder_is_stopped_with_the_reason(runner, test, reason):
    files = {**reference_suite(), "tests/test_reach.py": f"def test_reach():\n    {test}\n    assert True\n"}
    (run,) = runner.run_all(files, [[]])
    assert run.flagged == reason and run.exit_code == -1, run
    assert run.tail() == f"the grader stopped your tests: they {reason}"
    assert not Path("/tmp/workbook-suite-escape").exists()


def test_a_suite_that_never_ends_is_stopped_by_its_processor_time(tmp_path):
    quick = suite.SuiteRunner(workers=1, cpu_limit=3, wall_limit=60, scratch=tmp_path)
    try:
        (run,) = quick.run_all({**reference_suite(), "tests/test_forever.py": "def test_forever():\n    while True:\n        pass\n"}, [[]])
    finally:
        quick.close()
    assert run.timed_out and run.tail() == "your tests ran for longer than their time limit and were stopped"


def test_a_suite_that_prints_megabytes_keeps_only_the_end_of_its_output(runner):
    files = {**reference_suite(), "tests/test_loud.py": "def test_loud():\n    print('x' * 20_000_000)\n    assert False, 'the end'\n"}
    (run,) = runner.run_all(files, [[]])
    assert run.exit_code == 1 and "tests/test_loud.py::test_loud" in run.failed() and not run.crash
    assert len(run.output) <= 64 << 10 and "1 failed, 7 passed" in run.tail(1)


def test_without_warm_workers_each_run_gets_a_fresh_interpreter(tmp_path, monkeypatch):
    """Where the warm worker is off (no fork, or WORKBOOK_WARM_WORKER=0), the verdicts are the same."""
    monkeypatch.setenv("WORKBOOK_WARM_WORKER", "0")
    cold = suite.SuiteRunner(scratch=tmp_path)
    try:
        assert not cold.workers
        good, broken = cold.run_all(reference_suite(), [declared_runs()["as written"], declared_runs()["any password logs in"]])
    finally:
        cold.close()
    assert (good.exit_code, good.failed(), len(good.passed())) == (0, [], 7), good.tail()
    assert broken.exit_code == 1 and broken.failed() == ["tests/test_auth.py::test_a_wrong_password_is_refused"], broken.tail()


def test_a_check_of_a_suite_forks_its_suite_workers_and_leaves_none_behind(tmp_path):
    """check("10.3") runs the suites in workers its own process forked (no new interpreter to load the libraries),
    and they end with the check; a check of another exercise forks none."""
    import psutil

    from helpers import folder_at_check, run
    from workbook import runner, worker

    assert worker.runs_suites({"exercise": "10.3"}) and not worker.runs_suites({"exercise": "10.2"})
    assert not worker.runs_suites({"exercise": "no such exercise"})
    folder = folder_at_check(tmp_path / "solved", chapters.exercise("10.3"))
    passed, text = run(folder, "10.3")
    assert passed, text
    warm = psutil.Process(runner._worker.process.pid)
    assert warm.children(recursive=True) == [], "a suite worker outlived its check"
