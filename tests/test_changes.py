"""The diff cells above given cells that rewrite a file: in sync, never an answer, same cells for learner and solution."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from workbook import changes, chapters
from workbook.__main__ import main
from workbook.generate import render, student_notebook

SECRET = "the_unreleased_answer_42"


def test_the_diff_cells_of_the_repository_are_in_sync(capsys):
    assert main(["changes", "--check"]) == 0, capsys.readouterr().out


def diff_cells(cells):
    return [cell for cell in cells if changes.is_diff_cell(cell)]


@pytest.mark.parametrize("path", sorted(chapters.SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.stem[:2])
def test_learner_and_solution_notebooks_have_the_same_cells(path):
    solution = json.loads(path.read_text(encoding="utf-8"))["cells"]
    student = json.loads((chapters.NOTEBOOKS / path.name).read_text(encoding="utf-8"))["cells"]
    assert [cell["id"] for cell in student] == [cell["id"] for cell in solution]
    assert [chapters.source(c) for c in diff_cells(student)] == [chapters.source(c) for c in diff_cells(solution)]


def test_every_given_rewrite_of_the_repository_has_its_diff_just_above():
    for path in sorted(chapters.SOLUTIONS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        chapter = chapters.read_chapter(path)
        for index, cell in enumerate(cells):
            if changes.is_diff_cell(cell):
                below = cells[index + 1]
                assert chapters.writefile_cell(below) and not chapters.is_solution_cell(below), (path.name, index)
                assert chapters.writefile_cell(below)[0] in chapters.source(cell)
        # a diff cell is markdown: the exercises' check cells and solution cells are still found
        assert all(chapters.CHECK_CALL.search(chapters.source(cells[e.check_cell])) for e in chapter.exercises)


# ---- a made-up workbook of two chapters ---------------------------------------------------------------------


def exercise_cell(path, body, grade_id):
    return new_code_cell(f"%%writefile {path}\n{body}", metadata={"nbgrader": {
        "solution": True, "grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "task": False}})


def check_cell(exercise_id):
    return new_code_cell(f'check("{exercise_id}")', metadata={"nbgrader": {
        "grade": True, "grade_id": f"check{exercise_id}", "points": 1, "solution": False, "locked": True,
        "schema_version": 3, "task": False}})


def chapter_notebook(title, cells):
    notebook = new_notebook(cells=[new_markdown_cell(f"# {title}"), *cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    for index, cell in enumerate(notebook.cells):
        cell.id = f"c{index:03d}"
    return notebook


LONG = "".join(f"line_{i} = {i}\n" for i in range(60))


@pytest.fixture
def workbook(tmp_path, monkeypatch):
    """Solutions of two chapters: exercises write answers, given cells rewrite the same files later."""
    folder = tmp_path / "solutions"
    folder.mkdir()
    first = chapter_notebook("98 · First", [
        exercise_cell("app/core.py", f"def answer():\n    ### BEGIN SOLUTION\n    return '{SECRET}'\n    ### END SOLUTION\n",
                      "ex98_1"),
        check_cell("98.1"),
        new_code_cell("%%writefile app/notes.txt\nfirst\nsecond\n"),
        new_markdown_cell("The notes change."),
        new_code_cell("%%writefile app/notes.txt\nfirst\nsecond, better\n"),
        new_code_cell("%%writefile app/long.py\n" + LONG),
    ])
    second = chapter_notebook("99 · Second", [
        new_markdown_cell("A given cell rewrites the exercise's file: the learner's version had a blank."),
        new_code_cell(f"%%writefile app/core.py\ndef answer():\n    return 'given now'\n\n\ndef more():\n    return 1\n"),
        # an exercise that rewrites a file gets no diff, and its blank form is the next diff's 'before'
        exercise_cell("app/core.py", f"def answer():\n    ### BEGIN SOLUTION\n    return '{SECRET}!'\n"
                                     "    ### END SOLUTION\n\n\ndef more():\n    return 2\n", "ex99_1"),
        check_cell("99.1"),
        new_code_cell("%%writefile app/core.py\ndef answer():\n    return 'given at last'\n\n\ndef more():\n    return 2\n"),
        new_code_cell("%%writefile app/long.py\n" + LONG.replace("= 3", "= 'three'").replace("= 50", "= 'fifty'")),
    ])
    nbformat.write(first, folder / "98_first.ipynb")
    nbformat.write(second, folder / "99_second.ipynb")
    monkeypatch.setattr(chapters, "SOLUTIONS", folder)
    return folder


def read(path):
    return nbformat.read(path, as_version=4)


def test_given_rewrites_get_a_diff_and_exercises_do_not(workbook):
    assert changes.stale_solutions() == [workbook / "98_first.ipynb", workbook / "99_second.ipynb"]
    changes.write_solutions()
    first, second = read(workbook / "98_first.ipynb"), read(workbook / "99_second.ipynb")
    [notes] = [first.cells[i + 1] for i, c in enumerate(first.cells) if changes.is_diff_cell(c)]
    assert chapters.writefile_cell(notes)[0] == "app/notes.txt" and not chapters.is_solution_cell(notes)
    [notes_diff] = [c for c in diff_cells(first.cells) if "notes.txt" in c.source]
    assert "-second\n+second, better" in notes_diff.source and "since its version above" in notes_diff.source
    assert "long.py" not in "".join(c.source for c in diff_cells(first.cells))  # written once in 98: no diff
    below = [second.cells[i + 1] for i, c in enumerate(second.cells) if changes.is_diff_cell(c)]
    assert [chapters.is_solution_cell(c) for c in below] == [False, False, False]
    assert [chapters.writefile_cell(c)[0] for c in below] == ["app/core.py", "app/core.py", "app/long.py"]


def test_a_diff_never_shows_an_answer(workbook):
    changes.write_solutions()
    shown = "".join(c.source for path in workbook.glob("*.ipynb") for c in diff_cells(read(path).cells))
    assert SECRET not in shown
    # the learner's previous version is the blank exercise: that is what the diff starts from
    assert "-    # YOUR CODE HERE\n-    raise NotImplementedError()\n+    return 'given now'" in shown
    assert "-    raise NotImplementedError()\n+    return 'given at last'" in shown
    assert "since chapter 98" in shown and "since its version above" in shown


def test_a_long_diff_is_folded_and_a_short_one_is_not(workbook):
    changes.write_solutions()
    cells = diff_cells(read(workbook / "99_second.ipynb").cells)
    [long_diff] = [c.source for c in cells if "long.py" in c.source]
    assert long_diff.startswith("<details><summary>") and long_diff.endswith("</details>")
    assert "\n\n```diff\n" in long_diff  # a blank line after the summary, so the fence is still markdown
    assert all(c.source.startswith("What changed in `app/core.py`") for c in cells if "core.py" in c.source)


def test_writing_twice_changes_nothing_and_ids_are_stable(workbook):
    assert changes.write_solutions() == [workbook / "98_first.ipynb", workbook / "99_second.ipynb"]
    once = {p.name: p.read_bytes() for p in workbook.glob("*.ipynb")}
    assert changes.write_solutions() == []
    assert {p.name: p.read_bytes() for p in workbook.glob("*.ipynb")} == once
    assert changes.stale_solutions() == []
    ids = [c.id for c in diff_cells(read(workbook / "99_second.ipynb").cells)]
    assert ids == [changes.Change("99", 0, "app/core.py", n, "", "", "").cell_id for n in (1, 3)] + [ids[2]]
    assert ids[2].startswith("diff-app-long-py-")


def test_student_and_solution_keep_the_same_cells(workbook):
    changes.write_solutions()
    for path in workbook.glob("*.ipynb"):
        solution = read(path)
        student = student_notebook(solution)
        assert [c.id for c in student.cells] == [c.id for c in solution.cells]
        assert [c.source for c in diff_cells(student.cells)] == [c.source for c in diff_cells(solution.cells)]


def test_check_finds_a_missing_an_edited_and_an_extra_diff_cell(workbook, capsys):
    changes.write_solutions()
    assert main(["changes", "--check"]) == 0
    path = workbook / "99_second.ipynb"
    good = path.read_text(encoding="utf-8")
    for spoil in (
        lambda cells: cells.pop(next(i for i, c in enumerate(cells) if changes.is_diff_cell(c))),
        lambda cells: setattr(next(c for c in cells if changes.is_diff_cell(c)), "source", "an old diff"),
        lambda cells: cells.insert(1, changes.Change("99", 0, "app/other.py", 1, "", "a\n", "b\n").cell()),
    ):
        notebook = read(path)
        spoil(notebook.cells)
        path.write_text(render(notebook), encoding="utf-8")
        capsys.readouterr()
        assert main(["changes", "--check"]) == 1
        assert f"stale diff cells: {path}" in capsys.readouterr().out
        changes.write_solutions()
        assert path.read_text(encoding="utf-8") == good


def test_stats_report_lines_read_per_changed_line(workbook):
    changes.write_solutions()
    table = changes.stats()
    assert table[0].split()[:3] == ["chapter", "rewrites", "given"]
    assert table[-3].split()[0] == "all"
