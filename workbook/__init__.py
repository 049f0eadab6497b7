"""The helper library of the Flask Extensions Workbook: start a chapter, check an exercise, see progress."""

import os
import sys
from pathlib import Path

from . import folder as _folder
from . import runner as _runner
from .app import fresh_app
from .chapters import chapter as _chapter
from .checks import check
from .errors import CheckFailed, LearnerError
from .progress import progress

__all__ = ["start_chapter", "fresh_app", "check", "progress", "CheckFailed", "LearnerError"]


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
