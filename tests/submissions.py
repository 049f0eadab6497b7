"""Build students' submissions for the grader: solved, blank, half-done, broken and hostile notebooks.

Used by tests/test_grade.py and benchmarks/grading.py (import with `sys.path.insert(0, "tests")`).
"""

import copy
import json
import zipfile
from pathlib import Path

from workbook import chapters


def notebook(number: str, solved: bool) -> dict:
    """Return a chapter's notebook as a student hands it in: the solution, or the blank student version."""
    chapter = chapters.chapter(number)
    folder = chapters.SOLUTIONS if solved else chapters.NOTEBOOKS
    return json.loads((folder / chapter.filename).read_text(encoding="utf-8"))


def exercise_cell(book: dict, exercise_id: str, part: int = 0) -> dict:
    """Return the submitted cell that holds an exercise's answer (its part-th solution cell)."""
    exercise = chapters.exercise(exercise_id)
    wanted = chapters.read_notebook(chapters.SOLUTIONS / chapters.chapter(exercise.chapter).filename)["cells"][
        exercise.solution_cells[part]]["metadata"]["nbgrader"]["grade_id"]
    return next(cell for cell in book["cells"] if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == wanted)


def cell_text(book: dict, exercise_id: str) -> str:
    """Return the file text an exercise cell writes (without its %%writefile line)."""
    return chapters.source(exercise_cell(book, exercise_id)).partition("\n")[2]


def with_answer(book: dict, exercise_id: str, text: str) -> dict:
    """Return a copy of the notebook whose exercise cell writes `text` to the exercise's file."""
    changed = copy.deepcopy(book)
    cell = exercise_cell(changed, exercise_id)
    first = chapters.source(cell).partition("\n")[0]
    cell["source"] = f"{first}\n{text}"
    return changed


def with_cell_source(book: dict, exercise_id: str, source: str) -> dict:
    """Return a copy of the notebook whose exercise cell's whole source is replaced (its %%writefile line too)."""
    changed = copy.deepcopy(book)
    exercise_cell(changed, exercise_id)["source"] = source
    return changed


def with_extra_cell(book: dict, source: str, at: int = 1) -> dict:
    """Return a copy of the notebook with one more code cell."""
    changed = copy.deepcopy(book)
    changed["cells"].insert(at, {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                 "source": source})
    return changed


def solved_text(exercise_id: str) -> str:
    number = exercise_id.split(".")[0]
    return cell_text(notebook(number, solved=True), exercise_id)


def blank_text(exercise_id: str) -> str:
    number = exercise_id.split(".")[0]
    return cell_text(notebook(number, solved=False), exercise_id)


def write_student(submissions: Path, student: str, notebooks: dict[str, dict | bytes], as_zip: bool = False) -> Path:
    """Hand in notebooks (file name to notebook JSON, or raw bytes) as a student's folder or zip."""
    submissions.mkdir(parents=True, exist_ok=True)
    data = {name: book if isinstance(book, bytes) else json.dumps(book, indent=1).encode() for name, book in notebooks.items()}
    if as_zip:
        path = submissions / f"{student}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in data.items():
                archive.writestr(f"{student}/{name}", content)
        return path
    folder = submissions / student
    folder.mkdir()
    for name, content in data.items():
        (folder / name).write_bytes(content)
    return folder


def whole_workbook(solved: bool) -> dict[str, dict]:
    """Return every chapter notebook, solved or blank, by file name."""
    return {c.filename: notebook(c.number, solved) for c in chapters.all_chapters()}


def half_done() -> dict[str, dict]:
    """Return a workbook with every other exercise solved (the others blank)."""
    books = whole_workbook(solved=False)
    ids = [e.id for c in chapters.all_chapters() for e in c.exercises]
    for exercise_id in ids[::2]:
        name = chapters.chapter(exercise_id[:2]).filename
        exercise = chapters.exercise(exercise_id)
        for part in range(len(exercise.solution_cells)):
            solved_cell = exercise_cell(notebook(exercise_id[:2], solved=True), exercise_id, part)
            exercise_cell(books[name], exercise_id, part)["source"] = chapters.source(solved_cell)
    return books
