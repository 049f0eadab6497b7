"""flask() runs the real flask command and cuts a failure down to its error."""

import sys
import time

import psutil
import pytest

from helpers import write_files
from workbook.errors import LearnerError
from workbook.flask_command import flask, shorten

APP = '''
import click
from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)

    @app.cli.command("hello")
    def hello():
        click.echo("Hello from the CLI")

    @app.cli.command("wait")
    def wait():
        import time
        time.sleep(1000)

    @app.cli.command("leave-daemon")
    @click.option("--then-wait", is_flag=True)
    def leave_daemon(then_wait):
        import subprocess, time
        daemon = subprocess.Popen(["sleep", "1000"], start_new_session=True)
        open("daemon.pid", "w").write(str(daemon.pid))
        click.echo("started")
        if then_wait:
            time.sleep(1000)

    @app.cli.command("kill-parent")
    def kill_parent():
        import os, signal
        os.kill(os.getppid(), signal.SIGKILL)

    @app.cli.command("where")
    def where():
        import os
        click.echo(os.path.join(os.getcwd(), "migrations"))

    @app.cli.command("boom")
    def boom():
        click.echo("about to fail")
        raise RuntimeError("the real error")

    return app
'''


@pytest.fixture
def app_folder(tmp_path, monkeypatch):
    write_files(tmp_path, {"bookshelf/__init__.py": APP})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_success_shows_the_command_and_its_output(app_folder, capsys):
    flask("hello")
    assert capsys.readouterr().out == "$ flask --app bookshelf hello\nHello from the CLI\n"


def test_failure_shows_the_error_without_frames(app_folder, capsys):
    flask("boom")
    out = capsys.readouterr().out
    assert "about to fail\nRuntimeError: the real error\n(traceback shortened" in out
    assert 'File "' not in out and out.rstrip().endswith("(exit status 1)")


def test_chained_traceback_keeps_the_last_exception():
    output = (
        "Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'x'\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "Traceback (most recent call last):\n  File \"b.py\", line 2\n    raise\nValueError: bad\n[SQL: SELECT 1]\n"
    )
    assert shorten(output).splitlines()[:2] == ["ValueError: bad", "[SQL: SELECT 1]"]


@pytest.mark.parametrize("command", ["run --debug", "--debug run", "shell", "run"])
def test_commands_that_wait_for_the_user_are_refused(app_folder, capsys, command):
    flask(command)
    assert "would block the notebook: run it in a terminal" in capsys.readouterr().out


def test_a_command_that_never_ends_is_stopped(app_folder, capsys):
    flask("wait", timeout=2)
    assert "ran for more than 2 s and was stopped" in capsys.readouterr().out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux ends what a command leaves; elsewhere best effort")
@pytest.mark.parametrize("arguments", ["leave-daemon", "leave-daemon --then-wait"])
def test_a_process_a_command_leaves_running_ends_with_it(app_folder, capsys, arguments):
    start = time.monotonic()
    flask(arguments, timeout=5)
    assert time.monotonic() - start < 20, "flask() waited for what the command left running"
    assert "started" in capsys.readouterr().out
    daemon = int((app_folder / "daemon.pid").read_text(encoding="utf-8"))
    deadline = time.monotonic() + 5
    while psutil.pid_exists(daemon) and psutil.Process(daemon).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the command's daemon is still running"
        time.sleep(0.05)


def test_a_command_that_kills_its_parent_does_not_reach_the_kernel(app_folder, capsys):
    flask("kill-parent")  # this test process plays the kernel: it must still be here
    flask("hello")
    assert "Hello from the CLI" in capsys.readouterr().out


def test_paths_are_shown_relative_to_the_notebook_folder(app_folder, capsys):
    flask("where")
    out = capsys.readouterr().out
    assert out.splitlines()[1] == "migrations" and str(app_folder) not in out


@pytest.mark.parametrize(("arguments", "message"), [
    ('db migrate -m "unbalanced', "could not be read"),
    ("x" * 20_000, "characters long"),
    (["db", "upgrade"], "takes the command as one string"),
])
def test_a_command_line_that_cannot_be_run_gets_one_sentence(app_folder, arguments, message):
    with pytest.raises(LearnerError, match=message):
        flask(arguments)
