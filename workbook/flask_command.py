"""Run `flask --app bookshelf ...` from a notebook: its real output, with a failure cut down to the error.

main() is what the process that flask() starts runs: Flask's own command line,
in a child of its own (so learner code that kills its parent never reaches the kernel) and makes
Flask-Migrate's bare "Error: " line name the learner's file and line.
"""

import logging
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import LearnerError

TRACEBACK = "Traceback (most recent call last):"
# Alembic 1.17+ lists every autogenerate plugin it loads: noise that says nothing about the migration
PLUGIN_NOISE = "INFO  [alembic.runtime.plugins] setting up autogenerate plugin"
# commands that serve or wait for typing: they would block the notebook
WAITING_COMMANDS = {"run", "shell"}
DEFAULT_TIMEOUT = 120.0
LONGEST_ARGUMENTS = 10_000
# `-m workbook.flask_command` would import this module twice (the package imports it too)
ENTRY = "import sys; from workbook.flask_command import main; sys.exit(main(sys.argv[1:]))"


def shorten(output: str) -> str:
    """Keep what a command printed before a traceback, and the final exception, without the frames."""
    if TRACEBACK not in output:
        return output
    before, _, tail = output.partition(TRACEBACK)
    last = tail.rsplit(TRACEBACK, 1)[-1].splitlines()
    error = [line for line in last if line and not line.startswith(" ")]
    shortened = "(traceback shortened: run the command in a terminal to see all of it)"
    return before + "\n".join([*error, shortened]) + "\n"


def relative_paths(output: str, folder: Path) -> str:
    """Show the notebook folder's paths relative to it, as the learner sees them."""
    return output.replace(f"{folder}{os.sep}", "").replace(str(folder), ".")


def split(arguments: str) -> list[str]:
    """Split a command line like a shell, or say in one sentence what is wrong with it."""
    if not isinstance(arguments, str):
        raise LearnerError(f'flask() takes the command as one string, like flask("db upgrade"), not {type(arguments).__name__}.')
    if len(arguments) > LONGEST_ARGUMENTS:
        raise LearnerError(f"That flask command is {len(arguments):,} characters long: give a shorter one.")
    try:
        return shlex.split(arguments)
    except ValueError as error:
        raise LearnerError(f"The flask command {arguments[:80]!r} could not be read ({error}): check its quotes.") from None


def stop(process: subprocess.Popen) -> None:
    """Stop a command: its first process ends what the command started; then its whole group is killed."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL) if hasattr(os, "killpg") else process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def flask(arguments: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Run `flask --app bookshelf <arguments>` in this folder and print what it printed, and its status if it failed."""
    words = split(arguments)
    print(f"$ flask --app bookshelf {arguments}")
    if WAITING_COMMANDS & set(words):
        print("This command waits for you and would block the notebook: run it in a terminal in this folder.")
        return
    here = Path.cwd()
    from .runner import clean_environment  # the same clean start as a check's

    # the output goes to a file, not a pipe: a process the command leaves running must not hold the notebook
    with tempfile.TemporaryFile() as captured:
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", ENTRY, *words], cwd=here, stdout=captured, stderr=subprocess.STDOUT,
            start_new_session=True,
            # a secret key of the command's own where the kernel has none, as serve() gives its server, and a host
            # name for links: chapter 10's create_app() refuses the development key and a missing SERVER_NAME outside
            # debug, and a command signs nothing and serves no request
            env={"SECRET_KEY": secrets.token_hex(32), "SERVER_NAME": "localhost", **clean_environment(),
                 "PYTHONDONTWRITEBYTECODE": "1",
                 "FLASK_DEBUG": "0", "PYTHONIOENCODING": "utf-8"},
        )
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop(process)
        except BaseException:
            stop(process)
            raise
        finally:
            captured.seek(0)
            output = captured.read().decode("utf-8", errors="replace")
    output = "".join(line for line in output.splitlines(keepends=True) if not line.startswith(PLUGIN_NOISE))
    print(relative_paths(shorten(output), here).rstrip("\n"))
    if timed_out:
        print(f"The command ran for more than {timeout:.0f} s and was stopped: does it wait for something?")
    elif process.returncode:
        print(f"(exit status {process.returncode})")


def main(words: list[str]) -> int:
    """Run Flask's command line on bookshelf in a child process, end what it leaves, and return its exit status."""
    if hasattr(os, "fork"):
        from .processes import become_subreaper, die_with_parent, end_descendants, exit_status

        become_subreaper()  # what the command leaves running comes back here, and is ended below
        parent = os.getpid()
        pid = os.fork()
        if pid:
            def stopped(*_):  # flask() stops a command that ran too long: end it and all it started
                end_descendants()
                os._exit(128 + signal.SIGTERM)

            signal.signal(signal.SIGTERM, stopped)
            _, status = os.waitpid(pid, 0)
            end_descendants()
            return exit_status(status)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        die_with_parent(parent)
    from flask.cli import main as flask_main

    from .app import MigrateErrors

    logging.getLogger("flask_migrate").addFilter(MigrateErrors(Path.cwd()))
    sys.argv = ["flask", "--app", "bookshelf", *words]
    try:
        flask_main()
        code = 0
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)  # sys.exit("message"): Python would print it on its way out
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    if hasattr(os, "fork"):
        os._exit(code)
    return code
