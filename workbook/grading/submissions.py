"""Read a student's submission: the chapter notebooks at any depth of their folders, zips and files, and each answer.

The rule, in order: a notebook is a file named `NN_*.ipynb` for a chapter NN of the workbook; folders named
`chapters`, `backups`, `.ipynb_checkpoints` or `__MACOSX`, and hidden ones, are skipped (a zip of a whole bundle folder
holds `chapters/` copies of every notebook). Where one chapter still has several notebooks, the one under a
`notebooks/` folder wins, then the one nearest the top, then the one with the chapter's own file name, then the newest;
the student's feedback says which one was taken and why.
"""

import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import chapters
from .. import folder as folders

NOTEBOOK = re.compile(r"^(?P<number>\d\d)_[^/\\]*\.ipynb$", re.ASCII)
SKIPPED_FOLDERS = {"chapters", "backups", ".ipynb_checkpoints", "__MACOSX", "__pycache__", "node_modules"}
PREFERRED_FOLDER = "notebooks"
NOTEBOOK_LIMIT = 20 << 20  # bytes: a chapter notebook is well under 1 MB; anything bigger is not one
ENTRY_LIMIT = 10_000  # files and folders looked at per submission (a whole .venv is not a hand-in)
DEPTH_LIMIT = 8
# a zip member that unpacks to more than this many times its packed size is refused: notebooks pack about 4-10 times
RATIO_LIMIT = 100
LIMITS = (f"at most {ENTRY_LIMIT:,} files per submission, {DEPTH_LIMIT} folders deep, {NOTEBOOK_LIMIT >> 20} MB per "
          f"notebook, and a zip member may unpack to at most {RATIO_LIMIT} times its packed size")


@dataclass
class Candidate:
    """One file that may be a chapter's notebook, and how to read it."""

    number: str
    shown: str  # where it was found, as the student would name it
    parts: tuple[str, ...]
    size: int
    mtime: float
    source: Path
    member: str = ""  # inside a zip: the member's name

    def rank(self, filename: str) -> tuple:
        return (PREFERRED_FOLDER not in self.parts[:-1], len(self.parts), self.parts[-1] != filename, -self.mtime,
                self.shown)

    def read(self) -> bytes | str:
        """Return the notebook's bytes, or a sentence saying why it cannot be read."""
        if self.size > NOTEBOOK_LIMIT:
            return f"it is larger than {NOTEBOOK_LIMIT >> 20} MB"
        try:
            if not self.member:
                with open(self.source, "rb") as stream:
                    data = stream.read(NOTEBOOK_LIMIT + 1)
            else:
                with zipfile.ZipFile(self.source) as archive, archive.open(self.member) as stream:
                    data = stream.read(NOTEBOOK_LIMIT + 1)
        except Exception as error:  # noqa: BLE001 - an encrypted member, a damaged stream: this notebook only
            return f"it could not be read ({type(error).__name__}: {error})"
        return data if len(data) <= NOTEBOOK_LIMIT else f"it is larger than {NOTEBOOK_LIMIT >> 20} MB unpacked"


@dataclass
class Found:
    """A submission's chapter notebooks (bytes, or why one cannot be read), and what the grader noticed."""

    notebooks: dict[str, bytes | str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # the newest file time of a notebook taken from a zip: the student's computer sets it, in no time zone
    newest: datetime | None = None


def find_notebooks(sources: list[tuple[str, Path]]) -> Found:
    """Find each chapter's notebook in a student's sources (folders, zips and single files), by the module's rule."""
    found = Found()
    candidates: list[Candidate] = []
    for given, path in sources:
        try:
            candidates += candidates_in(given, path, found)
        except Exception as error:  # noqa: BLE001 - one unreadable source is that source's problem, not the class's
            found.problems.append(f"{given} could not be read ({type(error).__name__}: {error})")
    known = {c.number: c for c in chapters.all_chapters()}
    by_chapter: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.number in known:
            by_chapter.setdefault(candidate.number, []).append(candidate)
    for number, competing in sorted(by_chapter.items()):
        filename = known[number].filename
        competing.sort(key=lambda c: c.rank(filename))
        taken = competing[0]
        found.notebooks[number] = taken.read()
        if taken.member:
            stamp = datetime.fromtimestamp(taken.mtime)
            found.newest = max(found.newest or stamp, stamp)
        found.names[number] = taken.shown
        if len(competing) > 1:
            found.notes.append(f"Chapter {number}: graded {taken.shown} ({why_first(taken, competing[1], filename)}); "
                               f"not graded: {', '.join(c.shown for c in competing[1:])}.")
    return found


def why_first(taken: Candidate, next_best: Candidate, filename: str) -> str:
    """Say why one notebook was taken over the next best."""
    reasons = ["it is in a notebooks/ folder", "it is nearer the top", "it has the chapter's own file name",
               "it is the newest", "it comes first by name"]
    first, second = taken.rank(filename), next_best.rank(filename)
    return next(reason for reason, a, b in zip(reasons, first, second) if a != b) if first != second else reasons[-1]


def skipped(parts: tuple[str, ...]) -> bool:
    return any(part in SKIPPED_FOLDERS or part.startswith(".") for part in parts[:-1]) or parts[-1].startswith(".")


def candidates_in(given: str, path: Path, found: Found) -> list[Candidate]:
    """Return the notebooks in one source: a folder (walked), a zip (its members) or one file."""
    info = path.lstat()
    if stat.S_ISDIR(info.st_mode):
        return candidates_in_folder(given, path, found)
    if not stat.S_ISREG(info.st_mode):
        found.problems.append(f"{given} is a link or not a regular file")
        return []
    if given.lower().endswith(".zip"):
        return candidates_in_zip(given, path, found)
    match = NOTEBOOK.match(given)
    if not match:
        found.notes.append(f"{given} is not a chapter notebook (NN_name.ipynb) and was not graded.")
        return []
    return [Candidate(match["number"], given, (given,), info.st_size, info.st_mtime, path)]


def candidates_in_folder(given: str, root: Path, found: Found) -> list[Candidate]:
    result, seen = [], 0
    for here, folder_names, file_names in os.walk(root):
        relative = Path(here).relative_to(root).parts
        folder_names[:] = sorted(name for name in folder_names
                                 if name not in SKIPPED_FOLDERS and not name.startswith(".") and len(relative) < DEPTH_LIMIT)
        seen += len(folder_names) + len(file_names)
        if seen > ENTRY_LIMIT:
            found.problems.append(f"{given} holds more than {ENTRY_LIMIT:,} files: only the first were looked at")
            break
        for name in sorted(file_names):
            match = NOTEBOOK.match(name)
            if not match or name.startswith("."):
                continue
            path = Path(here) / name
            info = path.lstat()
            parts = (*relative, name)
            if not stat.S_ISREG(info.st_mode):
                found.notes.append(f"{given}/{'/'.join(parts)} is a link or not a regular file, and was not graded.")
                continue
            result.append(Candidate(match["number"], "/".join((given, *parts)), parts, info.st_size, info.st_mtime, path))
    return result


def candidates_in_zip(given: str, path: Path, found: Found) -> list[Candidate]:
    result = []
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > ENTRY_LIMIT:
            found.problems.append(f"{given} holds more than {ENTRY_LIMIT:,} files: only the first were looked at")
            members = members[:ENTRY_LIMIT]
        for member in members:
            parts = tuple(part for part in member.filename.replace("\\", "/").split("/") if part not in ("", "."))
            if member.is_dir() or not parts or ".." in parts or len(parts) > DEPTH_LIMIT + 1 or skipped(parts):
                continue
            match = NOTEBOOK.match(parts[-1])
            if not match:
                continue
            shown = f"{given}: {'/'.join(parts)}"
            if member.compress_size and member.file_size > (1 << 20) and member.file_size > RATIO_LIMIT * member.compress_size:
                found.notes.append(f"{shown} unpacks to {member.file_size / member.compress_size:.0f} times its size, "
                                   "so it is not a notebook, and was not graded.")
                continue
            try:
                mtime = datetime(*member.date_time).timestamp()
            except (ValueError, OverflowError):
                mtime = 0.0
            result.append(Candidate(match["number"], shown, parts, member.file_size, mtime, path, member.filename))
    return result


# ---- a notebook's answers ----------------------------------------------------------------------------


def parse_notebook(data: bytes | str) -> tuple[list, str]:
    """Return a notebook's cells, or a sentence saying why there are none."""
    if isinstance(data, str):
        return [], data
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return [], "it is not UTF-8 text"
    except json.JSONDecodeError as error:
        return [], f"it is not valid JSON ({error.msg} at line {error.lineno})"
    except (ValueError, RecursionError) as error:
        return [], f"it is not valid JSON ({type(error).__name__})"
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return [], "it is not a notebook (no list of cells)"
    return notebook["cells"], ""


def grade_id(cell: dict) -> str:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    found = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return found if isinstance(found, str) else ""


def answer_texts(cells: list, exercise: chapters.Exercise) -> tuple[dict[int, str], str, str]:
    """Return an exercise's answer texts from a submitted notebook's cells by solution cell, or a status and why not."""
    reference_cells = folders.cells_of(exercise.chapter)
    texts = {}
    for index in exercise.solution_cells:
        wanted = grade_id(reference_cells[index])
        path = chapters.writefile_cell(reference_cells[index])[0]
        found = [cell for cell in cells if grade_id(cell) == wanted]
        if not found:
            return {}, "missing", f"The notebook has no exercise cell `{wanted}` (for {path}): was it deleted?"
        if len(found) > 1:
            return {}, "error", f"The notebook has {len(found)} cells named `{wanted}`: keep only the exercise's own."
        try:
            written = chapters.writefile_cell(found[0])
        except (AttributeError, TypeError):
            written = None
        if not written or written[0] != path:
            return {}, "failed", (f"The exercise cell `{wanted}` no longer starts with `%%writefile {path}`, "
                                  "so it writes no answer: put that line back at its top.")
        text = chapters.file_text(written[1])
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return {}, "error", f"The exercise cell `{wanted}` holds characters that cannot be saved as UTF-8 text."
        texts[index] = text
    return texts, "", ""
