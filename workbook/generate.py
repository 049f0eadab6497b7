"""Generate the student notebooks from the solutions with nbgrader's own preprocessors."""

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import chapters, files
from .errors import InstallError

CELL_METADATA_DROPPED = ("execution", "collapsed", "scrolled")
# what generation wrote last time, as a fingerprint per notebook (.workbook/ is git-ignored)
WRITTEN = Path(".workbook") / "generated.json"


def student_notebook(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the student version: solutions stubbed, hidden tests removed, outputs cleared, cells locked."""
    # nbgrader is an instructor's extra: import it only when generating
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, LockCells

    notebook = copy.deepcopy(solution)
    resources: dict = {}
    for preprocessor in (ClearSolutions(), ClearHiddenTests(), ClearOutput(), LockCells()):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    for cell in notebook.cells:
        for key in CELL_METADATA_DROPPED:
            cell.metadata.pop(key, None)
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    """Serialise a notebook exactly as it is written to disk."""
    return nbformat.writes(notebook) + "\n"


def read_solution(path: Path) -> nbformat.NotebookNode:
    """Read a solution notebook, or say in one sentence which one is damaged."""
    # the same check as a chapter start, so a damaged file gets the same sentence here
    chapters.read_notebook(path)
    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InstallError(f"The solution notebook {path.name} is damaged: nbformat cannot read it ({error}).") from None


def expected_notebooks() -> dict[Path, str]:
    """Return, for every chapter, the student notebook's path and the text it should have."""
    return {
        chapters.NOTEBOOKS / path.name: render(student_notebook(read_solution(path)))
        for path in sorted(chapters.SOLUTIONS.glob("*.ipynb"))
        if chapters.CHAPTER_FILE.match(path.name)
    }


def stale_notebooks() -> list[Path]:
    """Return the student notebooks that differ from what generation would write, or are extra."""
    expected = expected_notebooks()
    stale = [p for p, text in expected.items()
             if not p.exists() or p.read_text(encoding="utf-8", errors="surrogateescape") != text]
    extra = [p for p in chapters.NOTEBOOKS.glob("*.ipynb") if p not in expected]
    return stale + extra


def holds_learner_work(existing: str, expected: str) -> bool:
    """Tell whether a student notebook holds what a learner did: outputs, run counts, answers or cells of their own."""
    try:
        cells = json.loads(existing)["cells"]
        generated = {cell["id"]: cell for cell in json.loads(expected)["cells"]}
        for cell in cells:
            if cell.get("outputs") or cell.get("execution_count") is not None:
                return True
            written = generated.get(cell.get("id"))
            if written is None:
                # a cell the learner added (or one the solutions dropped since: then a backup costs nothing)
                return True
            if chapters.is_solution_cell(cell) and chapters.source(cell) != chapters.source(written):
                return True
    except (ValueError, KeyError, TypeError, AttributeError):
        # a notebook that cannot be read may still be someone's only copy of their work
        return True
    return False


@dataclass
class Generation:
    """What `generate` wrote, and where it first saved the learner's work it replaced."""

    written: list[Path]
    backed_up: list[Path]
    backup: Path | None = None


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def written_last_time() -> dict[str, str]:
    """Return the fingerprint of each notebook as generation last wrote it, or none if unknown."""
    try:
        record = json.loads((chapters.NOTEBOOKS / WRITTEN).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_notebooks() -> Generation:
    """Write the student notebooks that changed, after backing up any that hold a learner's work.

    A notebook that is no longer what generation wrote last time (its fingerprint is kept in
    notebooks/.workbook/generated.json) was edited since, so it is backed up. Without that record (a fresh
    clone) it is backed up when it shows a learner's traces: outputs, run counts, edited answers, added cells.
    Generation backs up rather than refuses: a learner who pulls an update and regenerates gets the new
    notebooks and keeps their work in notebooks/backups/ (as start_chapter's reset does), and a false alarm
    costs a folder, where a refusal with --force would stop every maintainer and teach everyone to type --force.
    """
    last_time, expected = written_last_time(), expected_notebooks()
    changed = {}
    for path, text in expected.items():
        existing = path.read_text(encoding="utf-8", errors="surrogateescape") if path.exists() else None
        if existing != text:
            changed[path] = (existing, text)
    backed_up = [
        path for path, (existing, text) in changed.items()
        if existing is not None and (
            fingerprint(existing) != last_time[path.name] if path.name in last_time
            else holds_learner_work(existing, text)
        )
    ]
    backup = files.back_up(chapters.NOTEBOOKS, [path.name for path in backed_up]) if backed_up else None
    for path, (existing, text) in changed.items():
        files.write_text(chapters.NOTEBOOKS, path.name, text)
    record = {path.name: fingerprint(text) for path, text in expected.items()}
    files.write_text(chapters.NOTEBOOKS, WRITTEN.as_posix(), json.dumps(record, indent=1, sort_keys=True) + "\n")
    return Generation(list(changed), backed_up, backup)
