"""Student notebooks are generated exactly, and notebooks/ is what generation would write."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from workbook import chapters
from workbook.__main__ import main
from workbook.generate import render, stale_notebooks, student_notebook


def test_notebooks_folder_is_up_to_date():
    assert stale_notebooks() == [], "run `python -m workbook generate` and commit notebooks/"


def test_generate_check_exits_nonzero_when_stale(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(chapters, "NOTEBOOKS", tmp_path)
    assert main(["generate", "--check"]) == 1
    assert "stale: " in capsys.readouterr().out


def sample_solution():
    solution = new_code_cell(
        "def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION",
        metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "ex99_1", "locked": False,
                               "schema_version": 3, "task": False}},
        execution_count=3,
        outputs=[new_output("stream", name="stdout", text="noise\n")],
    )
    graded = new_code_cell(
        'check("99.1")\n### BEGIN HIDDEN TESTS\nassert answer() == 42\n### END HIDDEN TESTS',
        metadata={"nbgrader": {"grade": True, "grade_id": "check99_1", "points": 1, "solution": False,
                               "locked": True, "schema_version": 3, "task": False}},
    )
    notebook = new_notebook(cells=[new_markdown_cell("# 99 · Sample"), solution, graded])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    return notebook


def test_solution_region_becomes_a_stub_at_its_indentation():
    student = student_notebook(sample_solution())
    assert student.cells[1].source == "def answer():\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def test_hidden_tests_outputs_and_counts_are_removed():
    student = student_notebook(sample_solution())
    assert student.cells[2].source.strip() == 'check("99.1")'
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None


def test_check_cells_are_locked():
    graded = student_notebook(sample_solution()).cells[2]
    assert graded.metadata["editable"] is False and graded.metadata["deletable"] is False


def test_generation_is_byte_identical_on_rerun():
    solution = sample_solution()
    assert render(student_notebook(solution)) == render(student_notebook(solution))


def test_solution_is_not_changed_by_generation():
    solution = sample_solution()
    before = render(solution)
    student_notebook(solution)
    assert render(solution) == before


def test_student_notebooks_carry_no_solution_and_no_output():
    for path in chapters.NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            assert "BEGIN SOLUTION" not in cell.source and "BEGIN HIDDEN TESTS" not in cell.source, path
            assert not cell.get("outputs"), path
