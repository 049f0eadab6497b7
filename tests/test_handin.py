"""`python -m workbook handin` zips exactly a student's chapter notebooks, each readable, and never loses a hand-in."""

import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from workbook import bundle, chapters
from workbook.__main__ import main

COURSE = ["00_welcome.ipynb", "01_flask.ipynb", "02_database.ipynb"]
UPLOAD = "Upload handin.zip as your submission."


@pytest.fixture(scope="module")
def class_zip(tmp_path_factory) -> Path:
    """Write the bundle of chapters 00-02 the students unpack."""
    out = tmp_path_factory.mktemp("bundle") / "class.zip"
    bundle.write_bundle(out, chapters_through="02")
    return out


@pytest.fixture
def student(class_zip, tmp_path) -> Path:
    """Return a student's unpacked bundle, its notebooks answered with the solutions."""
    with zipfile.ZipFile(class_zip) as opened:
        opened.extractall(tmp_path)
    root = tmp_path / "class"
    for name in COURSE:
        shutil.copyfile(chapters.SOLUTIONS / name, root / "notebooks" / name)
    return root


def handin(monkeypatch, capsys, folder: Path, *options: str) -> tuple[int, str, str]:
    """Run the command in a folder and return its exit status, its output and its errors."""
    monkeypatch.chdir(folder)
    status = main(["handin", *options])
    out, err = capsys.readouterr()
    return status, out, err


def zipped(path: Path) -> dict[str, bytes]:
    """Return a zip's files by name."""
    with zipfile.ZipFile(path) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def notebooks_of(root: Path, names: list[str]) -> dict[str, bytes]:
    """Return the files a hand-in of these notebooks must hold."""
    return {f"notebooks/{name}": (root / "notebooks" / name).read_bytes() for name in names}


def test_the_zip_holds_exactly_the_courses_notebooks(student, monkeypatch, capsys):
    notebooks = student / "notebooks"
    for other in ("bookshelf/__init__.py", "backups/2024-01-01_10-00-00/01_flask.ipynb", "Untitled.ipynb",
                  ".ipynb_checkpoints/01_flask-checkpoint.ipynb", "03_migrations.ipynb", "01_flask_old.ipynb"):
        (notebooks / other).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebooks / "01_flask.ipynb", notebooks / other)
    status, out, err = handin(monkeypatch, capsys, student)
    assert (status, err) == (0, "")
    assert zipped(student / "handin.zip") == notebooks_of(student, COURSE)
    assert out.splitlines() == [
        f"Handing in the chapter notebooks in {notebooks}.",
        f"Wrote {student / 'handin.zip'} with 3 notebooks:",
        *(f"  notebooks/{name}" for name in COURSE),
        UPLOAD,
    ]


def test_a_previous_hand_in_is_kept_under_its_time(student, monkeypatch, capsys):
    handin_zip = student / "handin.zip"
    written = time.mktime((2025, 3, 14, 9, 26, 53, 0, 0, -1))
    kept = []
    for run in range(3):
        shutil.copyfile(student / "chapters" / COURSE[run], student / "notebooks" / COURSE[run])
        status, out, _ = handin(monkeypatch, capsys, student)
        assert status == 0
        assert zipped(handin_zip) == notebooks_of(student, COURSE)
        if kept:
            assert f"Moved the previous hand-in handin.zip to {kept[-1][0]}, so that it is not lost." in out
        kept.append(("handin-20250314-092653.zip" if run == 0 else "handin-20250314-092653-2.zip",
                     handin_zip.read_bytes()))
        # the next run finds this hand-in written at the same second as the last one
        os.utime(handin_zip, (written, written))
    assert sorted(path.name for path in student.glob("handin*.zip")) == [
        "handin-20250314-092653-2.zip", "handin-20250314-092653.zip", "handin.zip"]
    for name, data in kept[:2]:
        assert (student / name).read_bytes() == data


@pytest.mark.parametrize("text, reason", [
    ('{"cells": [', "it is not valid JSON (Expecting value at line 1)"),
    ("[]", "it is not a notebook of format 4, the one JupyterLab saves"),
    (json.dumps({"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "source": ""}], "metadata": {},
                 "nbformat": 4, "nbformat_minor": 5}),
     "it does not follow the notebook format in cell 1: 'outputs' is a required property"),
])
def test_a_broken_notebook_is_named_and_nothing_is_written(student, monkeypatch, capsys, text, reason):
    (student / "notebooks" / "01_flask.ipynb").write_text(text, encoding="utf-8")
    (student / "handin.zip").write_bytes(b"the previous hand-in")
    before = sorted(student.iterdir())
    status, out, err = handin(monkeypatch, capsys, student)
    assert (status, out) == (1, "")
    assert err == (f"Something to fix: notebooks/01_flask.ipynb is not a notebook the grader can read: {reason}; "
                   "fix it or put back its copy from notebooks/.ipynb_checkpoints/, then hand in again "
                   "(nothing was written).\n")
    assert sorted(student.iterdir()) == before
    assert (student / "handin.zip").read_bytes() == b"the previous hand-in"


@pytest.mark.parametrize("below", ["notebooks", "notebooks/bookshelf"])
def test_run_below_the_workbook_it_finds_the_folder_above_and_says_so(student, monkeypatch, capsys, below):
    (student / below).mkdir(exist_ok=True)
    status, out, _ = handin(monkeypatch, capsys, student / below)
    assert status == 0
    assert out.startswith(f"Handing in the chapter notebooks in {student / 'notebooks'}.\n")
    assert zipped(student / below / "handin.zip") == notebooks_of(student, COURSE)


def test_a_missing_chapter_is_a_warning_and_the_rest_is_handed_in(student, monkeypatch, capsys):
    notebooks = student / "notebooks"
    (notebooks / "02_database.ipynb").rename(notebooks / "02_database_v2.ipynb")
    status, out, err = handin(monkeypatch, capsys, student)
    assert (status, err) == (0, "")
    assert ("Warning: there is no notebooks/02_database.ipynb, so chapter 02 is not handed in; "
            "if 02_database_v2.ipynb is your work, rename it 02_database.ipynb.") in out.splitlines()
    assert f"Wrote {student / 'handin.zip'} with 2 notebooks:" in out
    assert zipped(student / "handin.zip") == notebooks_of(student, COURSE[:2])


def test_a_notebook_with_nothing_answered_gets_a_note(class_zip, student, monkeypatch, capsys):
    with zipfile.ZipFile(class_zip) as opened:
        (student / "notebooks" / "01_flask.ipynb").write_bytes(opened.read("class/notebooks/01_flask.ipynb"))
    status, out, _ = handin(monkeypatch, capsys, student)
    assert status == 0
    assert [line for line in out.splitlines() if line.startswith("Note:")] == [
        "Note: notebooks/01_flask.ipynb has no exercise answered yet; it is handed in as it is."]
    assert zipped(student / "handin.zip") == notebooks_of(student, COURSE)


def test_in_a_clone_without_a_course_manifest_every_chapter_notebook_is_handed_in(student, monkeypatch, capsys):
    (student / "course.json").unlink()
    notebooks = student / "notebooks"
    shutil.copyfile(chapters.SOLUTIONS / "03_migrations.ipynb", notebooks / "03_migrations.ipynb")
    (notebooks / "Untitled.ipynb").write_bytes((notebooks / "00_welcome.ipynb").read_bytes())
    status, _, _ = handin(monkeypatch, capsys, student)
    assert status == 0
    assert zipped(student / "handin.zip") == notebooks_of(student, [*COURSE, "03_migrations.ipynb"])


def test_a_broken_course_manifest_is_one_sentence(student, monkeypatch, capsys):
    (student / "course.json").write_text('{"format": 1, "workbook": "flask-extensions-workbook", "chapters": ["42"]}',
                                         encoding="utf-8")
    status, out, err = handin(monkeypatch, capsys, student)
    assert (status, out) == (1, "")
    assert err.startswith(f"Something to fix: The course manifest {student / 'course.json'} names chapter '42'; ")
    assert not (student / "handin.zip").exists()


@pytest.mark.parametrize("folder, options, message", [
    ("notebooks/bookshelf/templates", [], "There is no notebooks/ folder in {cwd} nor in the 2 folders above it: "
     "run the command in the workbook's folder, the one with notebooks/ and README.md."),
    (".", ["--out", "mine.txt"], "The hand-in is a zip file: name it with .zip at the end, not mine.txt."),
    (".", ["--out", "notebooks"], "The hand-in is a zip file: name it with .zip at the end, not notebooks."),
    (".", ["--out", "missing/handin.zip"],
     "There is no folder missing: create it first, or write the hand-in elsewhere."),
])
def test_a_wrong_folder_or_output_is_one_sentence(student, monkeypatch, capsys, folder, options, message):
    (student / folder).mkdir(parents=True, exist_ok=True)
    status, out, err = handin(monkeypatch, capsys, student / folder, *options)
    assert (status, out) == (1, "")
    assert err == f"Something to fix: {message.format(cwd=(student / folder).resolve())}\n"
    assert not list(student.rglob("*.zip"))


def test_a_notebook_whose_cells_have_no_ids_is_handed_in_as_it_is(student, monkeypatch, capsys):
    path = student / "notebooks" / "00_welcome.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        del cell["id"]
    # nbformat warns about such cells (older Jupyter saved them): the grader reads them all the same
    path.write_text(json.dumps(notebook), encoding="utf-8")
    status, _, err = handin(monkeypatch, capsys, student)
    assert (status, err) == (0, "")
    assert zipped(student / "handin.zip") == notebooks_of(student, COURSE)
