"""The helper library of the Flask Extensions Workbook: start a chapter, check an exercise, see progress."""

import os
import sys
from pathlib import Path

from . import folder as _folder
from . import runner as _runner
from .app import fresh_app
from .chapters import chapter as _chapter
from .checks import check
from .cli import flask
from .errors import CheckFailed, LearnerError
from .progress import progress

__all__ = [
    "start_chapter", "fresh_start", "catch_up", "fresh_app", "check", "flask", "progress", "CheckFailed", "LearnerError",
]


def start_chapter(number: str, reset: bool = False) -> None:
    """Bring the Bookshelf folder here to the state chapter `number` expects, and say what changed."""
    here = Path.cwd()
    _folder.ensure_workbook_folder(here)
    # `!flask ...` cells must find this environment's flask even when JupyterLab was started without activating it
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    done = _folder.prepare(here, number, reset=reset)
    _runner.warm_up()
    print(done.summary(_chapter(number)))


def fresh_start(number: str) -> None:
    """Before a chapter's commands build something from scratch, move an earlier run's result into backups/."""
    here = Path.cwd()
    _folder.ensure_workbook_folder(here)
    done = _folder.fresh_start(here, number)
    if not (done.set_aside or done.reset or done.restored):
        print("Nothing from an earlier run is in the way.")
        return
    lines = []
    if done.set_aside:
        lines.append(f"Moved into {done.backup.as_posix()}/: {', '.join(done.set_aside)}")
    if done.reset or done.restored:
        lines.append(f"Put the reference version back: {', '.join(done.reset + done.restored)}")
    if done.reset:
        lines.append("(your version is in the backup too)")
    print("\n".join(lines))


def catch_up(exercise_id: str) -> None:
    """Put the reference answer of one exercise in place (yours goes to backups/), to carry on with the chapter."""
    here = Path.cwd()
    _folder.ensure_workbook_folder(here)
    done = _folder.catch_up(here, exercise_id)
    changed = done.reset + done.restored
    if not changed:
        print(f"Your files already hold the reference answer of exercise {exercise_id}.")
        return
    print(f"Exercise {exercise_id}: the reference answer is in place in {', '.join(changed)}.")
    if done.backup:
        print(f"Your version is in {done.backup.as_posix()}/.")
