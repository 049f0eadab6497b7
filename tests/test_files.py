"""The helpers write only inside the learner's folder and explain every failure in one sentence."""

import errno
import os

import pytest

from workbook import files
from workbook.errors import LearnerError, WorkbookBug

links = pytest.mark.skipif(os.name == "nt", reason="creating symlinks needs developer mode on Windows")


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "notebooks").mkdir()
    return tmp_path / "notebooks"


@pytest.fixture
def outside(tmp_path):
    (tmp_path / "outside").mkdir()
    return tmp_path / "outside"


def test_text_is_written_as_utf8_with_its_newlines(folder):
    files.write_text(folder, "bookshelf/templates/base.html", "ünï\r\nline\n")
    assert (folder / "bookshelf/templates/base.html").read_bytes() == "ünï\r\nline\n".encode()


def test_rewriting_replaces_the_text_and_leaves_no_temporary_file(folder):
    files.write_text(folder, "bookshelf/x.py", "old\n")
    files.write_text(folder, "bookshelf/x.py", "new\n")
    assert (folder / "bookshelf/x.py").read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in (folder / "bookshelf").iterdir()] == ["x.py"]


@links
def test_a_link_to_a_file_outside_is_refused_and_the_file_untouched(folder, outside):
    (outside / "secret.py").write_text("keep\n", encoding="utf-8")
    (folder / "bookshelf").mkdir()
    (folder / "bookshelf/x.py").symlink_to(outside / "secret.py")
    with pytest.raises(LearnerError, match=r"^bookshelf/x.py is a link to .*secret.py; .*remove the link"):
        files.write_text(folder, "bookshelf/x.py", "overwritten\n")
    assert (outside / "secret.py").read_text(encoding="utf-8") == "keep\n"


@links
def test_a_dangling_link_is_refused_and_its_target_not_created(folder, outside):
    (folder / "bookshelf").mkdir()
    (folder / "bookshelf/x.py").symlink_to(outside / "made.py")
    with pytest.raises(LearnerError, match="bookshelf/x.py is a link to"):
        files.write_text(folder, "bookshelf/x.py", "text\n")
    assert not (outside / "made.py").exists()


@links
def test_a_dangling_folder_link_is_refused_and_its_target_not_created(folder, outside):
    (folder / "bookshelf").symlink_to(outside / "elsewhere")
    with pytest.raises(LearnerError, match="^bookshelf is a link to"):
        files.write_text(folder, "bookshelf/x.py", "text\n")
    assert not (outside / "elsewhere").exists()


@links
@pytest.mark.parametrize("linked", ["bookshelf", "migrations", "instance"])
def test_a_folder_that_is_a_link_to_a_folder_is_written_into(folder, outside, linked):
    (folder / linked).symlink_to(outside, target_is_directory=True)
    files.write_text(folder, f"{linked}/inner/x.py", "text\n")
    assert (outside / "inner/x.py").read_text(encoding="utf-8") == "text\n"
    assert (folder / linked).is_symlink()


def test_a_file_where_a_folder_belongs_gets_one_sentence(folder):
    # fails for root too: no permission bit lets anyone create a file inside a file
    (folder / "bookshelf").write_text("not a folder\n", encoding="utf-8")
    with pytest.raises(LearnerError, match="^bookshelf is a file where the workbook needs a folder"):
        files.write_text(folder, "bookshelf/x.py", "text\n")


def test_a_folder_where_a_file_belongs_gets_one_sentence(folder):
    (folder / "bookshelf/x.py").mkdir(parents=True)
    with pytest.raises(LearnerError, match="^bookshelf/x.py is a folder where the workbook writes a file"):
        files.write_text(folder, "bookshelf/x.py", "text\n")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_gets_one_sentence(folder):
    folder.chmod(0o555)
    try:
        with pytest.raises(LearnerError, match="^bookshelf cannot be written here .*make the folder writable"):
            files.write_text(folder, "bookshelf/x.py", "text\n")
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("code, message", [
    (errno.EACCES, "^bookshelf/x.py cannot be written here .*make the folder writable"),
    (errno.EROFS, "^bookshelf/x.py cannot be written here"),
    (errno.ENOSPC, "^The disk is full, so bookshelf/x.py could not be written: free some space"),
])
def test_an_os_error_while_writing_gets_one_sentence_and_keeps_the_old_file(folder, monkeypatch, code, message):
    # root ignores mode bits and this disk is not full: the error comes from the write itself, where it would
    files.write_text(folder, "bookshelf/x.py", "old\n")

    class Failing:
        def __init__(self, handle, mode):
            os.close(handle)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, "fdopen", Failing)
    with pytest.raises(LearnerError, match=message):
        files.write_text(folder, "bookshelf/x.py", "new\n")
    assert (folder / "bookshelf/x.py").read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in (folder / "bookshelf").iterdir()] == ["x.py"]


def test_a_path_out_of_the_folder_is_the_workbooks_bug(folder):
    with pytest.raises(WorkbookBug):
        files.write_text(folder, "../escaped.py", "text\n")
    assert not (folder.parent / "escaped.py").exists()


def test_back_up_copies_and_moves_into_a_new_folder(folder):
    files.write_text(folder, "bookshelf/x.py", "mine\n")
    files.write_text(folder, "migrations/env.py", "env\n")
    backup = files.back_up(folder, ["bookshelf/x.py"], ["migrations"])
    assert backup.parent == folder / "backups"
    assert (backup / "bookshelf/x.py").read_text(encoding="utf-8") == "mine\n"
    assert (folder / "bookshelf/x.py").exists()
    assert (backup / "migrations/env.py").read_text(encoding="utf-8") == "env\n"
    assert not (folder / "migrations").exists()


def test_two_backups_in_one_second_get_two_folders(folder):
    assert files.new_backup_folder(folder) != files.new_backup_folder(folder)


def test_backups_that_is_a_file_gets_one_sentence(folder):
    files.write_text(folder, "bookshelf/x.py", "mine\n")
    (folder / "backups").write_text("oops\n", encoding="utf-8")
    with pytest.raises(LearnerError, match="^backups is a file where the workbook needs a folder"):
        files.back_up(folder, ["bookshelf/x.py"])


@links
def test_backups_that_is_a_link_to_a_folder_is_used(folder, outside):
    files.write_text(folder, "bookshelf/x.py", "mine\n")
    (folder / "backups").symlink_to(outside, target_is_directory=True)
    backup = files.back_up(folder, ["bookshelf/x.py"])
    assert (outside / backup.name / "bookshelf/x.py").read_text(encoding="utf-8") == "mine\n"


@links
def test_a_moved_link_stays_a_link(folder, outside):
    (folder / "migrations").symlink_to(outside, target_is_directory=True)
    (outside / "env.py").write_text("env\n", encoding="utf-8")
    backup = files.back_up(folder, [], ["migrations"])
    assert (backup / "migrations").is_symlink() and (outside / "env.py").exists()


def test_copy_into_restores_a_tree(folder, tmp_path):
    source = tmp_path / "built/migrations"
    (source / "versions").mkdir(parents=True)
    (source / "env.py").write_text("env\n", encoding="utf-8")
    (source / "versions/1_first.py").write_text("first\n", encoding="utf-8")
    files.copy_into(source, folder, "migrations")
    assert (folder / "migrations/versions/1_first.py").read_text(encoding="utf-8") == "first\n"
    files.copy_into(source / "env.py", folder, "other/env.py")
    assert (folder / "other/env.py").read_text(encoding="utf-8") == "env\n"


@links
def test_copy_into_refuses_a_dangling_link_in_its_place(folder, outside, tmp_path):
    source = tmp_path / "built/migrations"
    source.mkdir(parents=True)
    (source / "env.py").write_text("env\n", encoding="utf-8")
    (folder / "migrations").symlink_to(outside / "gone")
    with pytest.raises(LearnerError, match="^migrations is a link to"):
        files.copy_into(source, folder, "migrations")
    assert not (outside / "gone").exists()


@links
def test_copy_into_copies_links_as_links_even_dangling_ones(folder, outside, tmp_path):
    source = tmp_path / "learner/migrations"
    source.mkdir(parents=True)
    (source / "gone.py").symlink_to(outside / "gone.py")
    (source / "elsewhere").symlink_to(outside, target_is_directory=True)
    files.copy_into(source, folder, "backups/1/migrations")
    copied = folder / "backups/1/migrations"
    assert os.readlink(copied / "gone.py") == str(outside / "gone.py") and not (outside / "gone.py").exists()
    assert (copied / "elsewhere").is_symlink()


def test_copy_into_names_a_source_it_cannot_read(folder, tmp_path):
    with pytest.raises(LearnerError, match="could not be read to copy it"):
        files.copy_into(tmp_path / "missing.py", folder, "x.py")
