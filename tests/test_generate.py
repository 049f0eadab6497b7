"""Student notebooks are generated exactly, and notebooks/ is what generation would write."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from workbook import chapters
from workbook.__main__ import main
from workbook.generate import WRITTEN, fingerprint, render, stale_notebooks, student_notebook


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


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """A notebooks/ folder as generation writes it."""
    monkeypatch.setattr(chapters, "NOTEBOOKS", tmp_path)
    assert main(["generate"]) == 0
    return tmp_path


def worked_in(path, change):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    change(notebook["cells"])
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path.read_bytes()


def first_solution_cell(cells):
    return next(cell for cell in cells if cell["metadata"].get("nbgrader", {}).get("solution"))


def answered(cells):
    first_solution_cell(cells)["source"] = "def answer():\n    return 'mine'\n"


def ran(cells):
    next(cell for cell in cells if cell["cell_type"] == "code")["execution_count"] = 1


def printed(cells):
    code = next(cell for cell in cells if cell["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hello\n"}]


def added(cells):
    cells.append({"cell_type": "markdown", "id": "my-notes", "metadata": {}, "source": "my notes"})


def reworded(cells):
    cells[0]["source"] = "# 01 · An older title"


def fresh_clone(folder):
    """Forget what generation wrote last time, as in a fresh clone."""
    (folder / WRITTEN).unlink()


@pytest.mark.parametrize("change", [answered, ran, printed, added])
@pytest.mark.parametrize("forget", [False, True], ids=["remembered", "fresh-clone"])
def test_a_notebook_a_learner_worked_in_is_backed_up_before_it_is_replaced(generated, capsys, change, forget):
    path = generated / "01_flask.ipynb"
    expected = path.read_bytes()
    mine = worked_in(path, change)
    if forget:
        fresh_clone(generated)
    capsys.readouterr()
    assert main(["generate"]) == 0
    backups = list((generated / "backups").iterdir())
    assert len(backups) == 1 and (backups[0] / "01_flask.ipynb").read_bytes() == mine
    assert path.read_bytes() == expected
    assert f"saved the work found in 01_flask.ipynb to {backups[0]}/ before replacing it" in capsys.readouterr().out


def test_a_notebook_edited_by_hand_since_generation_is_backed_up(generated):
    mine = worked_in(generated / "01_flask.ipynb", reworded)
    assert main(["generate"]) == 0
    assert (next((generated / "backups").iterdir()) / "01_flask.ipynb").read_bytes() == mine


def test_a_damaged_student_notebook_is_backed_up_too(generated):
    path = generated / "01_flask.ipynb"
    mine = path.read_bytes()[:100] + b"\xff"
    path.write_bytes(mine)
    fresh_clone(generated)
    assert main(["generate"]) == 0
    assert (next((generated / "backups").iterdir()) / "01_flask.ipynb").read_bytes() == mine


def test_a_notebook_generation_wrote_from_older_solutions_is_replaced_without_a_backup(generated, capsys):
    path = generated / "01_flask.ipynb"
    expected = path.read_bytes()
    # as if the solutions changed since generation wrote this notebook: the record says it is generation's own
    older = worked_in(path, reworded).decode("utf-8")
    record = json.loads((generated / WRITTEN).read_text(encoding="utf-8"))
    (generated / WRITTEN).write_text(json.dumps({**record, path.name: fingerprint(older)}), encoding="utf-8")
    capsys.readouterr()
    assert main(["generate"]) == 0
    assert path.read_bytes() == expected
    assert not (generated / "backups").exists()
    assert capsys.readouterr().out == f"wrote {path}\n"


def test_without_a_record_changed_prose_alone_is_not_a_learners_work(generated):
    worked_in(generated / "01_flask.ipynb", reworded)
    fresh_clone(generated)
    assert main(["generate"]) == 0
    assert not (generated / "backups").exists()


def test_regenerating_an_up_to_date_folder_writes_nothing(generated, capsys):
    capsys.readouterr()
    assert main(["generate"]) == 0
    assert capsys.readouterr().out == "" and not (generated / "backups").exists()


def test_a_damaged_solution_is_one_sentence_not_a_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01_flask.ipynb").write_text('{"cells": [', encoding="utf-8")
    monkeypatch.setattr(chapters, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(chapters, "NOTEBOOKS", tmp_path / "notebooks")
    assert main(["generate"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("Installation problem: The solution notebook ") and "01_flask.ipynb is damaged" in error
    assert error.count("\n") == 1
