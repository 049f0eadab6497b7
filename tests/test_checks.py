"""check() gives short, friendly verdicts, runs out of the kernel, and survives broken code."""

import os
import signal
import sys
import types

import pytest

from helpers import run, write_files
from workbook import chapters, check, runner
from workbook.errors import CheckFailed, LearnerError

WRONG_GREETING = '''
from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(test_config or {})

    @app.get("/")
    def index():
        return "Hello"

    return app
'''


@pytest.fixture
def chapter00(tmp_path, monkeypatch):
    (tmp_path / "00_welcome.ipynb").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_failing_check_is_short_and_gives_the_hint(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING})
    passed, text = run(chapter00, "00.1")
    assert not passed
    lines = text.splitlines()
    assert lines[0] == "Exercise 00.1: 1 of 3 checks failed."
    assert "  ✔ GET / answers 200 OK." in lines
    assert "  ✘ The page says \"Welcome to Bookshelf!\", and nothing else." in lines
    hint = next(line.strip() for line in lines if line.strip().startswith("Hint: "))
    assert "Welcome to Bookshelf!" not in hint, "a hint nudges; it does not hand over the answer"
    assert any("'Hello'" in line for line in lines), "the learner sees what their page said"
    assert len(lines) <= 10 and "Traceback" not in text


def test_check_raises_and_records_progress(chapter00, capsys):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING})
    with pytest.raises(CheckFailed) as raised:
        check("00.1")
    assert raised.value._render_traceback_() == [
        "Not solved yet: exercise 00.1. Change the cell(s) above, run them, then run this check again."
    ]
    assert "1 of 3 checks failed" in capsys.readouterr().out
    assert (chapter00 / ".workbook" / "progress.json").read_text(encoding="utf-8").count('"failed"') == 1


def test_kernel_state_cannot_make_a_check_pass(chapter00, monkeypatch):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING})
    fake = types.ModuleType("bookshelf")
    fake.create_app = lambda test_config=None: pytest.fail("the check used the kernel's module")
    monkeypatch.setitem(sys.modules, "bookshelf", fake)
    assert run(chapter00, "00.1")[0] is False


def test_syntax_error_is_one_clear_sentence(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": "def create_app(:\n    pass\n"})
    passed, text = run(chapter00, "00.1")
    assert not passed
    assert text.splitlines()[0] == "Exercise 00.1: the checks could not start."
    assert "bookshelf/__init__.py, line 1: " in text and "Fix the %%writefile cell" in text


def test_missing_create_app_is_explained(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": "app = None\n"})
    assert "has no create_app() function" in run(chapter00, "00.1")[1]


def test_missing_package_is_explained(chapter00):
    assert "There is no bookshelf/__init__.py" in run(chapter00, "00.1")[1]


def test_exception_in_learner_code_names_the_file_and_line(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace('return "Hello"', "return 1 / 0")})
    text = run(chapter00, "00.1")[1]
    assert "ZeroDivisionError: division by zero (in bookshelf/__init__.py, line 11)" in text


def test_endless_view_is_stopped_and_the_worker_recovers(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace('return "Hello"', "while True: pass")})
    passed, text = run(chapter00, "00.1", timeout=2)
    assert not passed and "ran for more than its time limit and was stopped" in text
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace("Hello", "Welcome to Bookshelf!")})
    assert run(chapter00, "00.1")[0] is True


def test_worker_killed_between_checks_is_restarted(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace("Hello", "Welcome to Bookshelf!")})
    assert run(chapter00, "00.1")[0] is True
    os.kill(runner._worker.process.pid, signal.SIGKILL)
    runner._worker.process.wait()
    assert run(chapter00, "00.1")[0] is True


def test_fresh_interpreter_fallback_gives_the_same_verdict(chapter00, monkeypatch):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING})
    warm = run(chapter00, "00.1")
    monkeypatch.setenv("WORKBOOK_WARM_WORKER", "0")
    assert run(chapter00, "00.1") == warm


def test_unknown_exercise_lists_the_real_ones(chapter00):
    with pytest.raises(LearnerError, match="the exercises are 00.1, 01.1"):
        check("00.9")


def test_progress_table_lists_every_exercise(chapter00, capsys):
    from workbook import progress

    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace("Hello", "Welcome to Bookshelf!")})
    check("00.1")
    capsys.readouterr()
    progress()
    table = capsys.readouterr().out
    total = sum(len(c.exercises) for c in chapters.all_chapters())
    assert "00.1      ✔ passed" in table and "01.1      · not tried" in table
    assert table.rstrip().endswith(f"1 of {total} exercises solved.")


def test_blank_exercise_points_at_the_stub(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace('return "Hello"', "raise NotImplementedError()")})
    text = run(chapter00, "00.1")[1]
    assert text.startswith("Exercise 00.1: not started yet. bookshelf/__init__.py, line 11 still raises NotImplementedError")
    assert "Hint" not in text


def test_an_interrupted_check_never_answers_the_next_one(chapter00, monkeypatch):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING})
    run(chapter00, "00.1")  # the worker is up
    real_read_line = runner.Worker._read_line

    def interrupted(self, deadline):
        monkeypatch.setattr(runner.Worker, "_read_line", real_read_line)
        raise KeyboardInterrupt  # the learner pressed the stop button while the check ran

    monkeypatch.setattr(runner.Worker, "_read_line", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(chapter00, "00.1")
    assert runner._worker.process is None
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace("Hello", "Welcome to Bookshelf!")})
    assert run(chapter00, "00.1")[0] is True


def test_an_app_that_cannot_be_built_gives_one_message_and_no_unrelated_hint(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING.replace("app = Flask(__name__)", "app = Flaks(__name__)")})
    passed, text = run(chapter00, "00.1")
    assert not passed
    assert text.splitlines()[0] == "Exercise 00.1: the checks could not start."
    assert "NameError: name 'Flaks' is not defined (in bookshelf/__init__.py, line 6)" in text
    assert "Hint" not in text


def test_assertion_details_leave_out_pytests_where_lines(chapter00):
    write_files(chapter00, {"bookshelf/__init__.py": WRONG_GREETING})
    text = run(chapter00, "00.1")[1]
    assert "+  where" not in text and "where" not in text.split("Hint")[0]
    assert "'Hello'" in text
