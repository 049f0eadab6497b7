"""Generate the student notebooks from the solutions with nbgrader's own preprocessors."""

import copy
from pathlib import Path

import nbformat

from . import chapters

CELL_METADATA_DROPPED = ("execution", "collapsed", "scrolled")


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


def expected_notebooks() -> dict[Path, str]:
    """Return, for every chapter, the student notebook's path and the text it should have."""
    return {
        chapters.NOTEBOOKS / path.name: render(student_notebook(nbformat.read(path, as_version=4)))
        for path in sorted(chapters.SOLUTIONS.glob("*.ipynb"))
        if chapters.CHAPTER_FILE.match(path.name)
    }


def stale_notebooks() -> list[Path]:
    """Return the student notebooks that differ from what generation would write, or are extra."""
    expected = expected_notebooks()
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in chapters.NOTEBOOKS.glob("*.ipynb") if p not in expected]
    return stale + extra


def write_notebooks() -> list[Path]:
    """Write the student notebooks that changed; return them. Safe to run again and again."""
    written = []
    for path, text in expected_notebooks().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
            written.append(path)
    return written
