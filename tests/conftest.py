"""Helpers for the workbook's own tests: Bookshelf folders built from the reference or the student notebooks."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from workbook import chapters, runner
from workbook.checks import verdict


def write_files(folder: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def replay(folder: Path, step: chapters.Replay) -> None:
    """Run a replayed cell (like `flask("db init")`) in the folder, as the notebook would."""
    completed = subprocess.run([sys.executable, "-c", step.script], cwd=folder, capture_output=True, text=True)
    assert completed.returncode == 0 and "(exit status" not in completed.stdout, completed.stdout + completed.stderr


def folder_at_check(folder: Path, exercise: chapters.Exercise, blank: bool = False) -> Path:
    """Build the folder a learner has when reaching an exercise's check: solved, or with that exercise left blank."""
    chapter = chapters.chapter(exercise.chapter)
    write_files(folder, chapters.state_before(chapter.number))
    (folder / "exercise.ipynb").write_text("{}", encoding="utf-8")  # a chapter folder holds a notebook
    student = nbformat.read(chapters.NOTEBOOKS / chapter.filename, as_version=4)
    steps = sorted([*chapter.files, *chapter.replays], key=lambda step: step.cell_index)
    for step in steps:
        if step.cell_index > exercise.check_cell:
            break
        if isinstance(step, chapters.Replay):
            replay(folder, step)
            continue
        text = step.text
        if blank and step.cell_index in exercise.solution_cells:
            path, body = chapters.writefile_cell(student.cells[step.cell_index])
            assert path == step.path, "notebooks/ is out of step with solutions/"
            text = chapters.file_text(body)
        write_files(folder, {step.path: text})
    return folder


def run(folder: Path, exercise_id: str, **kwargs) -> tuple[bool, str]:
    """Run an exercise's check on a folder and return (passed, the text a learner would read)."""
    exercise = chapters.exercise(exercise_id)
    result = runner.run_check(folder, exercise_id, chapters.chapter(exercise.chapter).check_file(), **kwargs)
    return verdict(exercise_id, result)


ALL_EXERCISES = [e for c in chapters.all_chapters() for e in c.exercises]


@pytest.fixture
def solved(tmp_path):
    """Return a function that builds a folder solved up to an exercise's check."""
    return lambda exercise_id: folder_at_check(tmp_path, chapters.exercise(exercise_id))
