"""The solution notebooks pass nbval, alone and twice in a row; the student notebooks fail only where expected."""

import shutil
import subprocess
import sys

import pytest

from workbook import chapters
from workbook.execute import execute

SANITIZE = chapters.ROOT / "tests" / "nbval_sanitize.cfg"
CHAPTERS = chapters.all_chapters()


def nbval(notebook, folder) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE}",
         "-p", "no:cacheprovider", "-p", "no:xdist", "--rootdir", str(folder), "-q", str(notebook)],
        cwd=folder, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_solution_passes_nbval_alone_and_twice(tmp_path, chapter):
    notebook = tmp_path / chapter.filename
    shutil.copyfile(chapters.SOLUTIONS / chapter.filename, notebook)
    for attempt in ("in an empty folder", "again in the same folder"):
        result = nbval(notebook, tmp_path)
        assert result.returncode == 0, f"nbval failed {attempt}:\n{result.stdout[-6000:]}"
        assert " passed" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_student_notebook_fails_only_in_exercises_and_checks(tmp_path, chapter):
    notebook = execute(chapters.NOTEBOOKS / chapter.filename, tmp_path, allow_errors=True)
    checks = {e.check_cell for e in chapter.exercises}
    exercises = {i for e in chapter.exercises for i in e.solution_cells}
    failing = {i for i, cell in enumerate(notebook.cells) if any(o.output_type == "error" for o in cell.get("outputs", []))}
    assert failing <= checks | exercises, [notebook.cells[i].source[:80] for i in sorted(failing - checks - exercises)]
    assert checks <= failing, "a check passed on the blank student notebook"
