"""A check passes only when pytest ran every selected test to a pass: whatever the learner's code raises or exits with."""

import os
import subprocess
import sys
import textwrap

import pytest

from helpers import chapter00_app, chapter_folder, run, write_files
from workbook import chapters, runner
from workbook.verdict import verdict
from workbook.results import CheckRun, TestResult

CORRECT = chapter00_app()


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return chapter_folder(tmp_path)


def verdict_of(folder, app_source):
    write_files(folder, {"bookshelf/__init__.py": app_source})
    return run(folder, "00.1")


@pytest.mark.parametrize(("name", "view"), [
    ("KeyboardInterrupt", "raise KeyboardInterrupt"),
    ("pytest.exit", "import pytest\npytest.exit('bye')"),
    ("os._exit(0)", "import os\nos._exit(0)"),
    ("sys.exit(0)", "import sys\nsys.exit(0)"),
    ("pytest.skip", "import pytest\npytest.skip('not today')"),
    ("a message that cannot be shown", "class Broken(Exception):\n    def __str__(self):\n        return self.nme\nraise Broken()"),
])
def test_an_unearned_pass_is_never_reported(here, name, view):
    passed, text = verdict_of(here, chapter00_app(view))
    assert not passed, text
    assert "passed. Well done" not in text


def test_an_exception_whose_message_raises_while_the_app_is_built_is_described(here):
    broken = "class ConfigError(Exception):\n    def __str__(self):\n        return self.name\n"
    passed, text = verdict_of(here, chapter00_app(factory="raise ConfigError()", top=broken))
    assert not passed
    assert "ConfigError" in text and "could not be shown" in text


def test_keyboard_interrupt_names_the_learners_line(here):
    passed, text = verdict_of(here, chapter00_app("raise KeyboardInterrupt"))
    assert text.startswith("Exercise 00.1: your code stopped the checks before they finished: KeyboardInterrupt")
    assert "bookshelf/__init__.py, line 11" in text


def test_a_skipped_test_is_never_counted_as_passed():
    run = CheckRun("00.1", exit_code=0, selected=2, completed=1, tests=[
        TestResult("test_a", "GET / answers 200 OK.", "passed", 1), TestResult("test_b", "The page says hello.", "skipped", 1)])
    passed, text = verdict(run)
    assert not passed and not run.passed
    assert "passed. Well done" not in text and "  - The page says hello." in text


def test_a_run_that_pytest_did_not_finish_is_not_solved():
    tests = [TestResult("test_a", "GET / answers 200 OK.", "passed", 1)]
    for unfinished in (CheckRun("00.1", tests=tests, exit_code=2, selected=1, completed=1),
                       CheckRun("00.1", tests=tests, exit_code=0, selected=2, completed=1),
                       CheckRun("00.1", tests=tests, exit_code=None, selected=1, completed=1)):
        assert verdict(unfinished)[0] is False


def test_a_correct_answer_passes_beside_files_that_shadow_pytests_modules(here):
    for name in ("pytest.py", "inspect.py", "selectors.py", "json.py"):
        (here / name).write_text("raise ImportError('the learner module was imported')\n", encoding="utf-8")
    passed, text = verdict_of(here, CORRECT)
    assert passed, text


def test_the_kernels_environment_does_not_change_a_verdict(here, monkeypatch):
    runner._worker.stop()  # the worker starts with the kernel's environment of the moment
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x -p no:python --co")
    monkeypatch.setenv("PYTEST_PLUGINS", "no_such_plugin")
    monkeypatch.setenv("PYTHONOPTIMIZE", "2")  # would strip every assert of the checks
    monkeypatch.setenv("PYTHONPATH", "/nonexistent")
    monkeypatch.setenv("PYTHONWARNINGS", "error")
    try:
        assert verdict_of(here, chapter00_app('return "Hello"'))[0] is False
        assert verdict_of(here, CORRECT)[0] is True
    finally:
        runner._worker.stop()


def test_a_warning_from_the_learners_code_is_a_note_not_a_failure(here):
    view = 'import warnings\nwarnings.warn("index() is old", DeprecationWarning)\nreturn "Welcome to Bookshelf!"'
    passed, text = verdict_of(here, chapter00_app(view))
    assert passed, text
    result = runner.run_check(here, "00.1", chapters.chapter("00").check_file())
    assert result.warnings == ["bookshelf/__init__.py, line 12: DeprecationWarning: index() is old"]


def test_check_shows_the_warning_under_the_verdict(here, capsys):
    from workbook import check

    view = 'import warnings\nwarnings.warn("index() is old", DeprecationWarning)\nreturn "Welcome to Bookshelf!"'
    write_files(here, {"bookshelf/__init__.py": chapter00_app(view)})
    check("00.1")
    out = capsys.readouterr().out
    assert "all 3 checks passed" in out
    assert "Note: your code raised a warning: bookshelf/__init__.py, line 12: DeprecationWarning: index() is old" in out


def test_comparison_failures_carry_no_pytest_jargon(here, tmp_path):
    long_text = " ".join(f"word{n}" for n in range(200))
    passed, text = verdict_of(here, chapter00_app(f'return "{long_text}"'))
    assert not passed
    for jargon in ("-v", "-vv", "Omitting", "Full diff", "+  where"):
        assert jargon not in text, text
    assert "Welcome to Bookshelf!" in text


def test_the_check_process_finds_a_user_site_install(tmp_path):
    """The README's JupyterHub route: `pip install --user -e .`; -P keeps the user site, -I would drop it."""
    base = subprocess.run([sys.executable, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True)
    python = os.path.join(base.stdout.strip(), "bin", "python3")
    if not os.path.exists(python) or sys.prefix == sys.base_prefix:
        pytest.skip("needs a venv whose base interpreter has a user site")
    user_base = tmp_path / "userbase"
    site = subprocess.run([python, "-c", "import site; print(site.getusersitepackages())"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONUSERBASE": str(user_base)}).stdout.strip()
    os.makedirs(site)
    # what `pip install --user -e .` leaves: a .pth naming the workbook; the venv's packages stand in for its dependencies
    venv_site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    with open(os.path.join(site, "workbook.pth"), "w", encoding="utf-8") as pth:
        pth.write(f"{chapters.ROOT}\n{venv_site}\n")
    folder = chapter_folder(tmp_path / "notebooks")
    write_files(folder, {"bookshelf/__init__.py": CORRECT})
    script = textwrap.dedent("""
        from pathlib import Path
        from workbook import chapters, runner
        from workbook.verdict import verdict
        run = runner.run_check(Path.cwd(), "00.1", chapters.chapter("00").check_file())
        print(verdict(run)[0])
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    completed = subprocess.run([python, "-c", script], cwd=folder, capture_output=True, text=True, timeout=120,
                               env={**env, "PYTHONUSERBASE": str(user_base)})
    assert completed.stdout.strip() == "True", completed.stderr[-2000:]


@pytest.mark.parametrize(("module", "says"), [
    ("flsk", "Bookshelf imports flsk, which is not installed (bookshelf/__init__.py, line 2): check the name"),
    ("bookshelf.nothing", "Bookshelf imports bookshelf.nothing, which has not been written yet"),
])
def test_an_import_that_fails_says_who_acts(here, module, says):
    passed, text = verdict_of(here, chapter00_app(top=f"import {module}"))
    assert not passed and says in text


def test_a_learners_own_not_implemented_error_is_not_a_blank_exercise(here):
    passed, text = verdict_of(here, chapter00_app('raise NotImplementedError("abstract")'))
    assert not passed and "not started" not in text and "NotImplementedError: abstract" in text


def test_a_temporary_folder_behind_a_link_changes_nothing(here, tmp_path, monkeypatch):
    """macOS keeps temporary files in /var/folders, a link to /private/var/folders."""
    (tmp_path / "real-tmp").mkdir()
    (tmp_path / "linked-tmp").symlink_to(tmp_path / "real-tmp")
    runner._worker.stop()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "linked-tmp"))
    try:
        passed, text = verdict_of(here, chapter00_app("raise NotImplementedError()"))
        assert text.startswith("Exercise 00.1: not started yet. bookshelf/__init__.py, line 11"), text
        view = 'import warnings\nwarnings.warn("index() is old", DeprecationWarning)\nreturn "Welcome to Bookshelf!"'
        write_files(here, {"bookshelf/__init__.py": chapter00_app(view)})
        assert runner.run_check(here, "00.1", chapters.chapter("00").check_file()).warnings
    finally:
        runner._worker.stop()


def test_a_worker_that_misses_its_own_time_limit_gives_a_verdict_not_a_traceback(here, monkeypatch):
    write_files(here, {"bookshelf/__init__.py": chapter00_app("while True:\n    pass")})
    monkeypatch.setattr(runner, "GRACE", -29.0)  # the kernel gives up 1 s in, long before the worker's 30 s
    passed, text = run(here, "00.1", timeout=30)
    assert not passed and "ran for more than its time limit" in text
    assert runner._worker.process is None


def test_a_killed_workers_temporary_copies_are_removed_by_the_next_worker(here):
    import tempfile
    from pathlib import Path

    orphan = Path(tempfile.gettempdir()) / "workbook-check-999999999-abc"
    (orphan / "folder" / "instance").mkdir(parents=True, exist_ok=True)
    runner._worker.stop()
    assert verdict_of(here, CORRECT)[0] is True
    assert not orphan.exists()


def test_a_case_whose_id_holds_double_colons_counts_for_its_test(tmp_path):
    """A parametrized case named after an IPv6 address ("http://[::1") is still its test's case, not a stray one."""
    from workbook.collector import Collector

    run = CheckRun("04.1", tests=[TestResult("test_link", "Links are checked.", "not run", 2)])
    collector = Collector(tmp_path, run, migrate_errors=None)
    for case in ("http://[::1", "plain"):
        collector.phases[f"tests/checks/test_04.py::test_link[{case}]"] = dict.fromkeys(("setup", "call", "teardown"), "passed")
    collector.finish()
    assert (run.completed, run.tests[0].outcome) == (2, "passed")
