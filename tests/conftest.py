"""Helpers for the workbook's own tests: Bookshelf folders built from the reference or the student notebooks."""

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


def folder_at_check(folder: Path, exercise: chapters.Exercise, blank: bool = False) -> Path:
    """Write the files a learner has when reaching an exercise's check: solved, or with that exercise left blank."""
    chapter = chapters.chapter(exercise.chapter)
    write_files(folder, chapters.state_before(chapter.number))
    student = nbformat.read(chapters.NOTEBOOKS / chapter.filename, as_version=4)
    for written in chapter.files:
        if written.cell_index > exercise.check_cell:
            break
        text = written.text
        if blank and written.cell_index in exercise.solution_cells:
            path, body = chapters.writefile_cell(student.cells[written.cell_index])
            assert path == written.path, "notebooks/ is out of step with solutions/"
            text = chapters.file_text(body)
        write_files(folder, {written.path: text})
    (folder / "exercise.ipynb").write_text("{}", encoding="utf-8")  # a chapter folder holds a notebook
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
