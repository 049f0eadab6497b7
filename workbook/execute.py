"""Run the solution notebooks in empty folders and store their outputs (a maintainer's command)."""

import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import chapters
from .generate import CELL_METADATA_DROPPED, render


def execute(path: Path, workdir: Path, allow_errors: bool = False, timeout: int = 300) -> nbformat.NotebookNode:
    """Copy a notebook into workdir, run it there top to bottom, and return it with outputs."""
    target = workdir / path.name
    shutil.copyfile(path, target)
    notebook = nbformat.read(target, as_version=4)
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        record_timing=False, resources={"metadata": {"path": str(workdir)}},
    ).execute()
    for cell in notebook.cells:
        for key in CELL_METADATA_DROPPED:
            cell.metadata.pop(key, None)
    return notebook


def store_outputs(numbers: list[str] | None = None) -> list[Path]:
    """Re-run the chosen solution notebooks (all by default), each alone, and save them with outputs."""
    stored = []
    for chapter in chapters.all_chapters():
        if numbers and chapter.number not in numbers:
            continue
        path = chapters.SOLUTIONS / chapter.filename
        with tempfile.TemporaryDirectory() as workdir:
            notebook = execute(path, Path(workdir))
        path.write_text(render(notebook), encoding="utf-8", newline="\n")
        stored.append(path)
    return stored
