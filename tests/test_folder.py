"""start_chapter restores what is missing and never loses a learner's file."""

import pytest

from workbook import chapters, folder, fresh_start, start_chapter
from workbook.errors import LearnerError

INIT = "bookshelf/__init__.py"


@pytest.fixture
def chapter_folder(tmp_path, monkeypatch):
    (tmp_path / "01_flask.ipynb").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_missing_files_are_restored_from_the_reference(chapter_folder, capsys):
    start_chapter("01")
    assert (chapter_folder / INIT).read_text(encoding="utf-8") == chapters.state_before("01")[INIT]
    assert "restored from the reference: bookshelf/__init__.py" in capsys.readouterr().out


def test_folders_the_chapter_writes_into_exist(chapter_folder):
    start_chapter("01")
    assert (chapter_folder / "bookshelf" / "templates" / "main").is_dir()


def test_learner_file_is_kept_without_reset(chapter_folder, capsys):
    (chapter_folder / "bookshelf").mkdir()
    (chapter_folder / INIT).write_text("# mine\n", encoding="utf-8")
    start_chapter("01")
    assert (chapter_folder / INIT).read_text(encoding="utf-8") == "# mine\n"
    assert "kept your own version of: bookshelf/__init__.py" in capsys.readouterr().out
    assert not (chapter_folder / "backups").exists()


def test_reset_backs_up_before_replacing(chapter_folder):
    (chapter_folder / "bookshelf").mkdir()
    mine = "# mine, with ünïcode\r\n".encode()
    (chapter_folder / INIT).write_bytes(mine)
    done = folder.prepare(chapter_folder, "01", reset=True)
    assert (chapter_folder / done.backup / INIT).read_bytes() == mine
    assert (chapter_folder / INIT).read_text(encoding="utf-8") == chapters.state_before("01")[INIT]


def test_two_resets_in_one_second_keep_both_backups(chapter_folder):
    (chapter_folder / "bookshelf").mkdir()
    backups = []
    for version in ("# first\n", "# second\n"):
        (chapter_folder / INIT).write_text(version, encoding="utf-8")
        backups.append(folder.prepare(chapter_folder, "01", reset=True).backup)
    assert backups[0] != backups[1]
    assert [(chapter_folder / b / INIT).read_text(encoding="utf-8") for b in backups] == ["# first\n", "# second\n"]


def test_reset_of_an_unchanged_folder_makes_no_backup(chapter_folder):
    folder.prepare(chapter_folder, "01")
    assert folder.prepare(chapter_folder, "01", reset=True).backup is None


def test_workbook_top_folder_is_refused(monkeypatch):
    monkeypatch.chdir(chapters.ROOT)
    with pytest.raises(LearnerError, match="Open the chapters from notebooks/"):
        start_chapter("01")


def test_folder_without_notebook_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LearnerError, match="not a chapter's folder"):
        start_chapter("01")
    assert list(tmp_path.iterdir()) == []


def test_unknown_chapter_names_the_real_ones(chapter_folder):
    with pytest.raises(LearnerError, match="the chapters are 00, 01"):
        start_chapter("42")


def test_file_text_matches_what_writefile_writes():
    body = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    assert chapters.file_text(body) == "def f():\n    return 1\n"


def test_chapter_start_puts_this_environments_scripts_on_path(chapter_folder, monkeypatch):
    import os
    import sys
    from pathlib import Path

    monkeypatch.setenv("PATH", "/usr/bin")
    start_chapter("01")
    assert os.environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)


def test_what_a_chapter_creates_afresh_is_set_aside_not_lost(chapter_folder, monkeypatch, capsys):
    import dataclasses

    original = chapters.chapter("01")
    monkeypatch.setattr(chapters, "chapter", lambda number: dataclasses.replace(original, creates=("migrations",)))
    (chapter_folder / "migrations" / "versions").mkdir(parents=True)
    (chapter_folder / "migrations" / "versions" / "0001_mine.py").write_text("# mine\n", encoding="utf-8")
    start_chapter("01")
    assert (chapter_folder / "migrations" / "versions" / "0001_mine.py").exists(), "start_chapter must not move it"
    capsys.readouterr()
    fresh_start("01")
    assert not (chapter_folder / "migrations").exists()
    moved = capsys.readouterr().out
    assert moved.startswith("Moved into backups/") and moved.rstrip().endswith("/: migrations")
    backup = chapter_folder / moved.split()[2].rstrip(":")
    assert (backup / "migrations" / "versions" / "0001_mine.py").read_text(encoding="utf-8") == "# mine\n"
    fresh_start("01")
    assert capsys.readouterr().out == "Nothing from an earlier run is in the way.\n"


def test_a_retired_file_is_not_restored_by_later_chapters(monkeypatch):
    first = chapters.Chapter("10", "10_a", "A", (chapters.WrittenFile(0, "bookshelf/old.py", "x\n"),), ())
    second = chapters.Chapter("11", "11_b", "B", (chapters.WrittenFile(0, "bookshelf/new.py", "y\n"),), (),
                              removes=("bookshelf/old.py",))
    third = chapters.Chapter("12", "12_c", "C", (), ())
    monkeypatch.setattr(chapters, "all_chapters", lambda: (first, second, third))
    assert chapters.state_before("11") == {"bookshelf/old.py": "x\n"}
    assert chapters.state_before("12") == {"bookshelf/new.py": "y\n"}


def test_a_file_the_commands_read_is_reset_after_a_backup(chapter_folder, monkeypatch):
    import dataclasses

    original = chapters.chapter("01")
    monkeypatch.setattr(chapters, "chapter", lambda number: dataclasses.replace(original, resets=(INIT,)))
    (chapter_folder / "bookshelf").mkdir()
    (chapter_folder / INIT).write_text("# a later version\n", encoding="utf-8")
    assert folder.prepare(chapter_folder, "01").kept == [INIT]
    done = folder.fresh_start(chapter_folder, "01")
    assert (chapter_folder / INIT).read_text(encoding="utf-8") == chapters.state_before("01")[INIT]
    assert (chapter_folder / done.backup / INIT).read_text(encoding="utf-8") == "# a later version\n"


def test_a_later_chapter_rebuilds_what_earlier_commands_made(tmp_path, monkeypatch):
    real = chapters.all_chapters()
    later = chapters.Chapter("99", "99_later", "Later", (), ())
    monkeypatch.setattr(chapters, "all_chapters", lambda: (*real, later))
    (tmp_path / "99_later.ipynb").write_text("{}", encoding="utf-8")
    done = folder.prepare(tmp_path, "99")
    assert "migrations" in done.rebuilt
    assert (tmp_path / "migrations" / "env.py").exists()
    # 0001 comes from replaying `flask db migrate`; the others are written by chapters' %%writefile cells
    written = {f.path.rsplit("/", 1)[1] for c in real for f in c.files if f.path.startswith("migrations/versions/")}
    assert {"0002_book_language_and_slug.py", "0003_book_slugs.py", "0004_book_slug_required.py"} <= written
    assert [p.name for p in sorted((tmp_path / "migrations" / "versions").glob("*.py"))] == sorted(
        {"0001_create_tables.py"} | written)


def test_catch_up_puts_the_reference_answer_in_place_after_a_backup(chapter_folder, capsys):
    from workbook import catch_up

    start_chapter("01")
    main = chapter_folder / "bookshelf" / "main.py"
    main.write_text("# my attempt\n", encoding="utf-8")
    capsys.readouterr()
    catch_up("01.1")
    answer = next(f.text for f in chapters.chapter("01").files if f.path == "bookshelf/main.py")
    assert main.read_text(encoding="utf-8") == answer
    backup = next((chapter_folder / "backups").iterdir())
    assert (backup / "bookshelf" / "main.py").read_text(encoding="utf-8") == "# my attempt\n"
    assert capsys.readouterr().out.startswith("Exercise 01.1: the reference answer is in place in bookshelf/main.py.")
    catch_up("01.1")
    assert "already hold the reference answer" in capsys.readouterr().out
