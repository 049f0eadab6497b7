"""Run `flask --app bookshelf ...` from a notebook: its real output, with a failure cut down to the error."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

TRACEBACK = "Traceback (most recent call last):"
# Alembic 1.17+ lists every autogenerate plugin it loads: noise that says nothing about the migration
PLUGIN_NOISE = "INFO  [alembic.runtime.plugins] setting up autogenerate plugin"


def shorten(output: str) -> str:
    """Keep what a command printed before a traceback, and the final exception, without the frames."""
    if TRACEBACK not in output:
        return output
    before, _, tail = output.partition(TRACEBACK)
    last = tail.rsplit(TRACEBACK, 1)[-1].splitlines()
    error = [line for line in last if line and not line.startswith(" ")]
    shortened = "(traceback shortened: run the command in a terminal to see all of it)"
    return before + "\n".join([*error, shortened]) + "\n"


def flask(arguments: str) -> None:
    """Run `flask --app bookshelf <arguments>` in this folder and print what it printed, and its status if it failed."""
    print(f"$ flask --app bookshelf {arguments}")
    if shlex.split(arguments)[:1] in (["run"], ["shell"]):
        print("This command waits for you and would block the notebook: run it in a terminal in this folder.")
        return
    completed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bookshelf", *shlex.split(arguments)],
        cwd=Path.cwd(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "FLASK_DEBUG": "0"},
    )
    output = "".join(line for line in completed.stdout.splitlines(keepends=True) if not line.startswith(PLUGIN_NOISE))
    print(shorten(output).rstrip("\n"))
    if completed.returncode:
        print(f"(exit status {completed.returncode})")
