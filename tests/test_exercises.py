"""Every exercise's check passes on the solution and fails on the blank student version."""

import ast
import json

import nbformat
import pytest

from helpers import ALL_EXERCISES, folder_at_check, run, write_files
from workbook import chapters, reference
from workbook.chapters import declared

SUITES = {e for c in chapters.all_chapters() for e in declared(c.check_file(), "SUITES", [])}


def test_every_chapter_has_exercises():
    assert ALL_EXERCISES, "no check() cells were found in solutions/"


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda e: e.id)
def test_check_passes_on_solution(tmp_path, exercise):
    passed, text = run(folder_at_check(tmp_path, exercise), exercise.id)
    assert passed, text


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda e: e.id)
def test_check_fails_on_blank_exercise(tmp_path, exercise):
    assert exercise.solution_cells, f"exercise {exercise.id} has no solution cell before its check"
    passed, text = run(folder_at_check(tmp_path, exercise, blank=True), exercise.id)
    assert not passed, text
    # a blank test suite (10.3) cannot raise where a check calls it: its verdict shows pytest's collection errors
    assert "not started yet" in text or (exercise.id in SUITES and "NotImplementedError" in text), text


def earlier_exercises_blank(number: str) -> dict[str, str]:
    """Return the files whose last writer before chapter `number` is an exercise cell, as its student notebook has them."""
    last: dict[str, str | None] = {}
    for earlier in chapters.all_chapters():
        if earlier.number >= number:
            break
        student = nbformat.read(chapters.NOTEBOOKS / earlier.filename, as_version=4)
        exercise_cells = {index for exercise in earlier.exercises for index in exercise.solution_cells}
        for written in earlier.files:
            if written.cell_index in exercise_cells:
                last[written.path] = chapters.file_text(chapters.writefile_cell(student.cells[written.cell_index])[1])
            else:
                last[written.path] = None
    return {path: text for path, text in last.items() if text is not None}


@pytest.mark.parametrize("chapter", [c for c in chapters.all_chapters() if c.number > "00"], ids=lambda c: c.name)
def test_chapter_passes_its_checks_with_earlier_exercises_blank(tmp_path, chapter):
    """A student bundle can start any chapter from the blank earlier exercises, not the released answers."""
    reference.build(tmp_path, chapter.number)
    (tmp_path / "exercise.ipynb").write_text("{}", encoding="utf-8")
    own = {written.path for written in chapter.files}
    blanks = {path: text for path, text in earlier_exercises_blank(chapter.number).items() if path not in own}
    # chapter 01 has no earlier exercises, and chapter 02 rewrites every file that 01's exercises write
    assert blanks or chapter.number in ("01", "02"), f"expected earlier exercises left blank before {chapter.number}"
    write_files(tmp_path, blanks)
    for exercise in chapter.exercises:
        passed, text = run(tmp_path, exercise.id)
        assert passed, f"{exercise.id} with {sorted(blanks)} blank:\n{text}"


@pytest.mark.parametrize("chapter", chapters.all_chapters(), ids=lambda c: c.name)
def test_points_beside_the_checks_agree_with_the_notebook(chapter):
    """Each exercise's points are declared once beside its tests, and nbgrader's check cell says the same."""
    cells = json.loads((chapters.SOLUTIONS / chapter.filename).read_text(encoding="utf-8"))["cells"]
    in_notebook = {exercise.id: cells[exercise.check_cell]["metadata"]["nbgrader"]["points"] for exercise in chapter.exercises}
    assert declared(chapter.check_file(), "POINTS") == in_notebook
    assert all(isinstance(points, int) and points > 0 for points in in_notebook.values())


def earlier_in_chapter(exercise: chapters.Exercise) -> list[str]:
    ids = [other.id for other in chapters.chapter(exercise.chapter).exercises]
    return ids[:ids.index(exercise.id)]


@pytest.mark.parametrize("exercise", [e for e in ALL_EXERCISES if earlier_in_chapter(e)], ids=lambda e: e.id)
def test_an_exercise_needs_exactly_the_earlier_ones_it_declares(tmp_path, exercise):
    """Its check passes with every earlier exercise of the chapter blank but the declared NEEDS, and fails without any
    one of them: the rule grading follows is measured, not assumed."""
    needs = declared(chapters.chapter(exercise.chapter).check_file(), "NEEDS").get(exercise.id, [])
    earlier = earlier_in_chapter(exercise)
    assert set(needs) <= set(earlier), f"{exercise.id} can only need earlier exercises of its chapter"
    unneeded = frozenset(earlier) - set(needs)
    passed, text = run(folder_at_check(tmp_path / "needed", exercise, blank_others=unneeded), exercise.id)
    assert passed, f"{exercise.id} with {sorted(unneeded)} blank:\n{text}"
    for need in needs:
        passed, text = run(folder_at_check(tmp_path / need, exercise, blank_others=unneeded | {need}), exercise.id)
        assert not passed, f"{exercise.id} passed with {need} blank: it does not need it"
        # the learner is told which exercise to solve first, not shown a failure that looks like their own
        assert "cannot be checked yet" in text and f"that is exercise {need}" in text, text


@pytest.mark.parametrize("chapter", chapters.all_chapters(), ids=lambda c: c.name)
def test_every_public_check_says_what_it_checks(chapter):
    """check() prints a check's docstring as the behaviour it checks: never a bare function name."""
    tree = ast.parse(chapter.check_file().read_text(encoding="utf-8"))
    nameless = [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
                and not ast.get_docstring(node)]
    assert not nameless, f"{chapter.check_file().name}: {nameless}"
