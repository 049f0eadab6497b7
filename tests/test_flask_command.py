"""flask() runs the real flask command and cuts a failure down to its error."""

import pytest

from helpers import write_files
from workbook.flask_command import flask, shorten

APP = '''
import click
from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)

    @app.cli.command("hello")
    def hello():
        click.echo("Hello from the CLI")

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


def test_commands_that_wait_for_the_user_are_refused(app_folder, capsys):
    flask("run --debug")
    assert "would block the notebook: run it in a terminal" in capsys.readouterr().out
