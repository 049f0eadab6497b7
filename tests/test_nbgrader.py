"""nbgrader stays compatible: a course built from the workbook grades the solutions full and the blank notebooks zero.

One assignment holds chapters 00-05, as a learner's notebooks/ folder does: nbgrader runs its notebooks in name
order in one folder, so each chapter finds the bookshelf/ the one before it left, and a course pays nbgrader's start
(the gradebook, the alembic check) once per student rather than once per chapter.

nbgrader re-runs every cell of a notebook: a student of chapters 00-05 takes it 90-130 s here, so grading a solved
and a blank class of all six would take this test 4-5 minutes on two shared cores. Every chapter is generated (its
metadata read, its points counted); the students hand in chapters 00 and 03 only (about 50 s each): 00 is the
cheapest chapter (and gets the wrong answer), 03 the one whose cells run `flask db` commands, and 03 after 00 in one
folder is the learner who skipped chapters, whose start cell restores what 01-02 wrote.
"""

import json

import nbformat

from nbgrader_course import ASSIGNMENT, autograde, cell_scores, generate, make_course, submit
from workbook import chapters

HANDED_IN = ("00", "03")
WRONG_WELCOME = ('return "Welcome to Bookshelf!"', 'return "Welcome to Bookshelf"')


def points_in(notebook) -> dict[str, float]:
    """Return each graded cell's points, by grade_id, as the notebook's nbgrader metadata declares them."""
    return {
        cell.metadata.nbgrader.grade_id: cell.metadata.nbgrader.points
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }


def with_wrong_welcome(solution, folder):
    """Write chapter 00's solution with a plausible wrong answer to 00.1 (the "!" left out) and return its path."""
    notebook = nbformat.read(solution, as_version=4)
    (answer,) = [cell for cell in notebook.cells if WRONG_WELCOME[0] in cell.source]
    answer.source = answer.source.replace(*WRONG_WELCOME)
    path = folder / solution.name
    nbformat.write(notebook, path)
    return path


def cell_sources(path) -> list[str]:
    return [cell["source"] for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]


def test_nbgrader_gives_solutions_full_marks_blank_notebooks_none_and_a_wrong_answer_less(tmp_path):
    course = make_course(tmp_path / "course")
    solutions = {path.name: path for path in sorted((course / "source" / ASSIGNMENT).glob("*.ipynb"))}
    assert sorted(solutions) == [chapter.filename for chapter in chapters.all_chapters()]
    release = generate(course)
    blanks = {name: release / name for name in solutions}
    for name, path in blanks.items():
        # what nbgrader hands out is what the workbook's own generation wrote into notebooks/
        assert cell_sources(path) == cell_sources(chapters.NOTEBOOKS / name), name

    handed_in = [chapters.chapter(number).filename for number in HANDED_IN]
    submit(course, "solved", {name: solutions[name] for name in handed_in})
    submit(course, "blank", {name: blanks[name] for name in handed_in})
    welcome = chapters.chapter("00").filename
    submit(course, "wrong", {welcome: with_wrong_welcome(solutions[welcome], tmp_path)})
    grades = autograde(course, timeout=600)

    declared = {name: points_in(nbformat.read(path, as_version=4)) for name, path in solutions.items()}
    maxima = {name: sum(points.values()) for name, points in declared.items()}
    # nbgrader counts every chapter's points; a notebook not handed in scores nothing
    assert grades["solved"] == {name: (maxima[name] if name in handed_in else 0, maxima[name]) for name in maxima}
    assert grades["blank"] == {name: (0, maximum) for name, maximum in maxima.items()}
    # the wrong answer loses 00.1's point; the notebooks it did not hand in score nothing
    by_cell = cell_scores(course)["wrong"]
    assert by_cell["check00_1"] == (0, declared[welcome]["check00_1"])
    assert sum(score for score, _ in by_cell.values()) == 0
