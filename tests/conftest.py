"""Helpers for the workbook's own tests: Bookshelf folders built from the reference or the student notebooks."""

from pathlib import Path

import nbformat

from workbook import chapters, reference, runner
from workbook.checks import verdict


def write_files(folder: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        reference.write(folder, relative, text)


def folder_at_check(folder: Path, exercise: chapters.Exercise, blank: bool = False) -> Path:
    """Build the folder a learner has when reaching an exercise's check: solved, or with that exercise left blank."""
    chapter = chapters.chapter(exercise.chapter)
    student = nbformat.read(chapters.NOTEBOOKS / chapter.filename, as_version=4)

    def text_of(written: chapters.WrittenFile) -> str:
        if not (blank and written.cell_index in exercise.solution_cells):
            return written.text
        path, body = chapters.writefile_cell(student.cells[written.cell_index])
        assert path == written.path, "notebooks/ is out of step with solutions/"
        return chapters.file_text(body)

    (folder / "exercise.ipynb").write_text("{}", encoding="utf-8")  # a chapter folder holds a notebook
    reference.build(folder, chapter.number, until_cell=exercise.check_cell, text_of=text_of)
    return folder


def run(folder: Path, exercise_id: str, **kwargs) -> tuple[bool, str]:
    """Run an exercise's check on a folder and return (passed, the text a learner would read)."""
    exercise = chapters.exercise(exercise_id)
    result = runner.run_check(folder, exercise_id, chapters.chapter(exercise.chapter).check_file(), **kwargs)
    return verdict(exercise_id, result)


ALL_EXERCISES = [e for c in chapters.all_chapters() for e in c.exercises]

