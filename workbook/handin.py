"""Write handin.zip, the file a student uploads: their chapter notebooks, each checked to be one the grader reads."""

import json
import os
import stat
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import nbformat

from . import chapters
from .bundle import MANIFEST, READABLE, read_manifest
from .errors import LearnerError

NOTEBOOKS = "notebooks"
# run from notebooks/ or notebooks/bookshelf/, the command finds the folder holding notebooks/ above it
LEVELS_UP = 2
# what an exercise cell holds until it is answered (nbgrader's stub)
STUB = "raise NotImplementedError()"
# a validation message longer than this is the notebook's own JSON quoted back: it is left out
SHORT_MESSAGE = 100


def write_handin(out: Path = Path("handin.zip")) -> list[str]:
    """Check the chapter notebooks, write them into the zip `out` and return the lines that say what it holds."""
    out = Path(out)
    check_output(out)
    root = workbook_folder(Path.cwd())
    lines = [f"Handing in the chapter notebooks in {root / NOTEBOOKS}."]
    found, missing = chapter_notebooks(root)
    lines += missing
    if not found:
        raise LearnerError(f"There is no chapter notebook (NN_name.ipynb) in {root / NOTEBOOKS}: nothing to hand in.")
    contents = {path: checked_notebook(path) for path in found}
    lines += [f"Note: {NOTEBOOKS}/{path.name} has no exercise answered yet; it is handed in as it is."
              for path, (_, notebook) in contents.items() if answers_nothing(notebook)]
    if out.exists():
        lines.append(f"Moved the previous hand-in {out} to {keep_previous(out)}, so that it is not lost.")
    write_zip(out, {path: data for path, (data, _) in contents.items()})
    return [*lines, f"Wrote {out.resolve()} with {len(found)} notebook{'s' * (len(found) > 1)}:",
            *(f"  {NOTEBOOKS}/{path.name}" for path in found), f"Upload {out} as your submission."]


def check_output(out: Path) -> None:
    """Refuse an output path that is not a .zip file in an existing folder."""
    if out.suffix.lower() != ".zip":
        raise LearnerError(f"The hand-in is a zip file: name it with .zip at the end, not {out}.")
    if not out.parent.is_dir():
        raise LearnerError(f"There is no folder {out.parent}: create it first, or write the hand-in elsewhere.")
    if out.is_dir():
        raise LearnerError(f"{out} is a folder: name a zip file to write the hand-in to.")


def workbook_folder(start: Path) -> Path:
    """Return the folder holding notebooks/: the one the command runs in, or one of the two above it."""
    for folder in [start, *start.parents][:LEVELS_UP + 1]:
        if (folder / NOTEBOOKS).is_dir():
            return folder
    raise LearnerError(f"There is no {NOTEBOOKS}/ folder in {start} nor in the {LEVELS_UP} folders above it: "
                       f"run the command in the workbook's folder, the one with {NOTEBOOKS}/ and README.md.")


def chapter_notebooks(root: Path) -> tuple[list[Path], list[str]]:
    """Return the notebooks of the course's chapters (or every chapter notebook) and a warning for each one missing."""
    folder = root / NOTEBOOKS
    if not (root / MANIFEST).exists():
        return sorted(p for p in folder.iterdir() if chapters.CHAPTER_FILE.match(p.name) and p.is_file()), []
    found, missing = [], []
    for number in read_manifest(root / MANIFEST)["chapters"]:
        name = chapters.chapter(number).filename
        if (folder / name).is_file():
            found.append(folder / name)
            continue
        others = sorted(path.name for path in folder.glob(f"{number}_*.ipynb"))
        renamed = f"; if {' or '.join(others)} is your work, rename it {name}" if others else ""
        missing.append(f"Warning: there is no {NOTEBOOKS}/{name}, so chapter {number} is not handed in{renamed}.")
    return found, missing


def checked_notebook(path: Path) -> tuple[bytes, dict]:
    """Return a notebook's bytes and JSON, or raise LearnerError naming it and saying why the grader cannot read it."""
    try:
        data = path.read_bytes()
        notebook = json.loads(data.decode("utf-8"))
        reason = notebook_problem(notebook)
    except OSError as error:
        reason = f"it could not be read ({error.strerror or error})"
    except UnicodeDecodeError:
        reason = "it is not UTF-8 text"
    except json.JSONDecodeError as error:
        reason = f"it is not valid JSON ({error.msg} at line {error.lineno})"
    except (ValueError, RecursionError) as error:
        reason = f"it is not valid JSON ({type(error).__name__})"
    if reason:
        raise LearnerError(f"{NOTEBOOKS}/{path.name} is not a notebook the grader can read: {reason}; fix it or put "
                           f"back its copy from {NOTEBOOKS}/.ipynb_checkpoints/, then hand in again "
                           "(nothing was written).")
    return data, notebook


def notebook_problem(notebook) -> str:
    """Return why a notebook's JSON is not a valid notebook of format 4 (the one JupyterLab saves), or ""."""
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4:
        return "it is not a notebook of format 4, the one JupyterLab saves"
    try:
        with warnings.catch_warnings():
            # a cell without an id is repaired by nbformat with a warning: the grader reads it all the same
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(notebook))
    except nbformat.ValidationError as error:
        place = list(getattr(error, "absolute_path", None) or [])[:2]
        where = f" in cell {place[1] + 1}" if len(place) == 2 and place[0] == "cells" else ""
        message = getattr(error, "message", "") or str(error)
        shown = f": {message}" if len(message) <= SHORT_MESSAGE and not message.startswith(("{", "[")) else ""
        return f"it does not follow the notebook format{where}{shown}"
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        return f"it does not follow the notebook format ({type(error).__name__})"
    return ""


def answers_nothing(notebook: dict) -> bool:
    """Tell whether every exercise cell of a notebook still holds its stub."""
    stubbed = [STUB in chapters.source(cell) for cell in notebook["cells"] if is_exercise_cell(cell)]
    return bool(stubbed) and all(stubbed)


def is_exercise_cell(cell: dict) -> bool:
    """Tell whether a cell is one the student answers in (nbgrader's solution cell)."""
    mark = cell["metadata"].get("nbgrader")
    return isinstance(mark, dict) and bool(mark.get("solution"))


def keep_previous(out: Path) -> Path:
    """Move an earlier hand-in aside, named after the time it was written, and return its new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(out.stat().st_mtime))
    kept, number = out.with_name(f"{out.stem}-{stamp}{out.suffix}"), 1
    while kept.exists():
        number += 1
        kept = out.with_name(f"{out.stem}-{stamp}-{number}{out.suffix}")
    os.replace(out, kept)
    return kept


def write_zip(out: Path, notebooks: dict[Path, bytes]) -> None:
    """Write the notebooks as notebooks/NN_name.ipynb into a new zip beside `out`, then put it in out's place."""
    handle, scratch = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".new", dir=out.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as handin:
            for path, data in notebooks.items():
                info = zipfile.ZipInfo.from_file(path, f"{NOTEBOOKS}/{path.name}", strict_timestamps=False)
                info.external_attr = (stat.S_IFREG | READABLE) << 16
                handin.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        os.chmod(scratch, READABLE)
        os.replace(scratch, out)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
