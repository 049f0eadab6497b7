"""What a learner sees: set-up cells re-run midway or in a later folder, catch_up, blank migrations, skipped cells."""

import pytest

from helpers import ALL_EXERCISES, chapter_folder, folder_at_check, run, write_files
from workbook import catch_up, chapters, check, flask, reference, start_chapter
from workbook.errors import CheckFailed


def exercise(exercise_id):
    return next(e for e in ALL_EXERCISES if e.id == exercise_id)


@pytest.fixture
def in_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_blank_migration_names_the_learners_file_not_systemexit(in_folder):
    passed, text = run(folder_at_check(in_folder, exercise("03.1"), blank=True), "03.1")
    assert not passed
    assert "SystemExit" not in text
    assert "migrations/versions/0002_book_language_and_slug.py, line" in text and "NotImplementedError" in text


def test_flask_db_upgrade_on_a_blank_migration_names_the_file_and_line(in_folder, capsys):
    folder_at_check(in_folder, exercise("03.1"), blank=True)
    flask("db upgrade")
    out = capsys.readouterr().out
    assert "migrations/versions/0002_book_language_and_slug.py, line" in out
    assert "still raises NotImplementedError: this exercise is not written yet." in out
    assert str(in_folder) not in out, "paths are shown relative to the notebook's folder"


def test_rerunning_the_set_up_cell_midway_does_not_call_the_chapters_own_files_yours(in_folder, capsys):
    folder_at_check(in_folder, exercise("02.1"))  # the chapter's cells have rewritten bookshelf/__init__.py
    start_chapter("02")
    out = capsys.readouterr().out
    assert "already written by this chapter's cells (kept): bookshelf/__init__.py" in out
    assert "kept your own version" not in out and "reset=True" not in out


def test_the_learners_own_edit_is_kept_and_reset_is_explained(in_folder, capsys):
    chapter_folder(in_folder, "02_database.ipynb")
    start_chapter("02")
    (in_folder / "bookshelf" / "main.py").write_text("# mine\n", encoding="utf-8")
    capsys.readouterr()
    start_chapter("02")
    out = capsys.readouterr().out
    assert "kept your own version of: bookshelf/main.py" in out and 'start_chapter("02", reset=True)' in out


def test_an_earlier_chapter_in_a_later_folder_warns_and_keeps_a_copy(in_folder, capsys):
    chapter_folder(in_folder, "03_migrations.ipynb")
    reference.build(in_folder, "03")
    later_init = (in_folder / "bookshelf" / "__init__.py").read_text(encoding="utf-8")
    start_chapter("01")
    out = capsys.readouterr().out
    assert "Careful: this folder holds Bookshelf from a later chapter (03)" in out
    assert "bookshelf/__init__.py" in out
    backup = in_folder / out.split("A copy of them is in ")[1].split("/.")[0]
    assert (backup / "bookshelf" / "__init__.py").read_text(encoding="utf-8") == later_init
    assert (backup / "migrations" / "env.py").exists()


def test_a_chapter_started_in_its_own_folder_gives_no_warning(in_folder, capsys):
    chapter_folder(in_folder, "01_flask.ipynb")
    start_chapter("01")
    assert "Careful" not in capsys.readouterr().out


def test_a_skipped_given_cell_is_pointed_at(in_folder, capsys):
    folder = folder_at_check(in_folder, exercise("01.2"))
    # the learner skipped the cell that registers the api blueprint: __init__.py is still the earlier version
    first_init = next(f.text for f in chapters.chapter("01").files if f.path == "bookshelf/__init__.py")
    write_files(folder, {"bookshelf/__init__.py": first_init})
    with pytest.raises(CheckFailed):
        check("01.2")
    out = capsys.readouterr().out
    assert out.startswith("First: bookshelf/__init__.py is not what the given cell `%%writefile bookshelf/__init__.py` above writes")


def test_catch_up_shows_the_answer_and_warns_about_the_exercise_cell(in_folder, capsys):
    chapter_folder(in_folder, "01_flask.ipynb")
    start_chapter("01")
    capsys.readouterr()
    catch_up("01.1")
    out = capsys.readouterr().out
    assert out.startswith("Exercise 01.1: the reference answer is in place in bookshelf/main.py.")
    assert "The answer in bookshelf/main.py:" in out and "abort(404)" in out
    assert "Running the exercise's %%writefile cell again would write its own text back" in out


def test_the_verdict_is_shown_even_when_progress_cannot_be_recorded(in_folder, capsys):
    folder = folder_at_check(in_folder, exercise("00.1"))
    (folder / ".workbook").write_text("not a folder", encoding="utf-8")
    check("00.1")
    out = capsys.readouterr().out
    assert out.startswith("Exercise 00.1: all 3 checks passed.")
    assert ".workbook" in out.split("Well done!")[1]


def test_the_blank_versions_the_helpers_know_are_the_student_notebooks():
    import nbformat

    from workbook import folder as folders

    for chapter in chapters.all_chapters():
        student = nbformat.read(chapters.NOTEBOOKS / chapter.filename, as_version=4)
        known = folders.versions(chapter.number)
        for cell in student.cells:
            found = chapters.writefile_cell(cell)
            if found:
                assert chapters.file_text(found[1]) in known[found[0]], (chapter.number, found[0])


def test_another_exercises_stub_is_named_as_that_exercise(in_folder):
    folder = folder_at_check(in_folder, exercise("01.3"), blank=True)  # 01.3's stub sits in the 404 handler
    passed, text = run(folder, "01.1")
    assert not passed
    assert text.startswith("Exercise 01.1 cannot be checked yet: bookshelf/errors.py, line")
    assert 'exercise 01.3. Solve it first, or run catch_up("01.3")' in text


def test_files_left_at_an_earlier_chapters_version_are_brought_up_to_date(in_folder, capsys):
    chapter_folder(in_folder, "03_migrations.ipynb")
    reference.build(in_folder, "01")  # as if chapter 01's cells had been run again in this folder
    start_chapter("03")
    out = capsys.readouterr().out
    assert "brought up to this chapter's start (they held an earlier chapter's version): bookshelf/__init__.py" in out
    assert "kept your own version" not in out
    assert (in_folder / "bookshelf" / "__init__.py").read_text(encoding="utf-8") == chapters.state_before("03")[
        "bookshelf/__init__.py"]


def test_an_empty_folder_gets_one_message_and_no_notes(in_folder, capsys):
    chapter_folder(in_folder, "01_flask.ipynb")
    with pytest.raises(CheckFailed):
        check("01.2")
    out = capsys.readouterr().out
    assert "There is no bookshelf/__init__.py" in out and "First:" not in out and "Note:" not in out


def test_the_generated_migration_environment_raises_no_note(in_folder, capsys):
    folder_at_check(in_folder, exercise("03.1"))
    check("03.1")
    assert "Note:" not in capsys.readouterr().out


@pytest.mark.parametrize(("places", "said"), [
    (["bookshelf/login.py, line 18"], "bookshelf/login.py, line 18 still raises"),
    (["bookshelf/models.py, line 55", "bookshelf/models.py, line 60"], "bookshelf/models.py, lines 55 and 60 still raise"),
    (["a.py, line 100", "a.py, line 9", "b.py, line 2"], "a.py, lines 9 and 100; b.py, line 2 still raise"),
])
def test_stubs_are_named_once_per_file(places, said):
    from workbook.verdict import stubs_at

    assert stubs_at(places) == said
