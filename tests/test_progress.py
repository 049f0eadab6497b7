"""progress.json keeps every result, sets a damaged file aside, and never hides a verdict."""

import importlib
import json
import os
import subprocess
import sys

import pytest

# the package re-exports the function progress() under the module's name
progress = importlib.import_module("workbook.progress")

RECORDS_EACH = 400
# one kernel recording many results as fast as it can
RECORDER = """
import importlib, sys
from pathlib import Path
progress = importlib.import_module("workbook.progress")
folder, prefix, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.stdin.readline()  # start together
for number in range(count):
    note = progress.record(folder, f"{prefix}.{number}", number % 2 == 0)
    if note:
        print(note, flush=True)
"""


def stored(folder):
    return json.loads((folder / progress.STATE).read_text(encoding="utf-8"))


def test_a_result_is_recorded_and_replaced(tmp_path):
    assert progress.record(tmp_path, "01.1", False) is None
    assert progress.record(tmp_path, "01.1", True) is None
    assert progress.record(tmp_path, "01.2", False) is None
    assert stored(tmp_path) == {"01.1": "passed", "01.2": "failed"}


def test_two_kernels_recording_at_once_keep_every_result(tmp_path):
    kernels = [
        subprocess.Popen(
            [sys.executable, "-c", RECORDER, str(tmp_path), prefix, str(RECORDS_EACH)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for prefix in ("A", "B")
    ]
    for kernel in kernels:
        kernel.stdin.write("go\n")
        kernel.stdin.flush()
    outputs = [kernel.communicate(timeout=120) for kernel in kernels]
    assert [kernel.returncode for kernel in kernels] == [0, 0], outputs
    assert outputs == [("", ""), ("", "")]
    results = stored(tmp_path)
    assert len(results) == 2 * RECORDS_EACH
    assert results["A.0"] == results["B.398"] == "passed" and results["B.399"] == "failed"
    assert sorted(p.name for p in (tmp_path / ".workbook").iterdir()) == ["progress.json", "progress.lock"]


@pytest.mark.parametrize("damage", ['{"01.1": "passed", "01.2"', "[1, 2]", '{"01.1": 3}', "\udcff"])
def test_a_damaged_file_is_moved_aside_with_a_note(tmp_path, damage):
    (tmp_path / ".workbook").mkdir()
    damaged_bytes = damage.encode("utf-8", "surrogateescape")
    (tmp_path / progress.STATE).write_bytes(damaged_bytes)
    note = progress.record(tmp_path, "01.3", True)
    aside = [p for p in (tmp_path / ".workbook").iterdir() if p.name.startswith("progress.json.damaged-")]
    assert len(aside) == 1 and aside[0].read_bytes() == damaged_bytes
    assert note == (
        f".workbook/progress.json was damaged, so it was moved to .workbook/{aside[0].name} "
        "and your progress is recorded afresh from this result."
    )
    assert stored(tmp_path) == {"01.3": "passed"}


def test_the_table_says_when_the_file_cannot_be_read(tmp_path):
    (tmp_path / ".workbook").mkdir()
    (tmp_path / progress.STATE).write_text("{", encoding="utf-8")
    assert "could not be read" in progress.table(tmp_path)
    assert "could not be read" not in progress.table(tmp_path / "elsewhere")


def test_an_unwritable_place_gives_a_note_not_an_exception(tmp_path):
    # .workbook as a file fails for root too, unlike a read-only mode
    (tmp_path / ".workbook").write_text("not a folder\n", encoding="utf-8")
    note = progress.record(tmp_path, "01.1", True)
    assert note.startswith("This result was not saved for progress(): .workbook is a file")
    assert "\n" not in note


def test_a_full_disk_gives_a_note_and_keeps_the_earlier_results(tmp_path, monkeypatch):
    progress.record(tmp_path, "01.1", True)

    def full(*args, **kwargs):
        raise OSError(28, os.strerror(28))

    # the disk fills as the new file is written: files.write_text turns that into one sentence
    monkeypatch.setattr(progress.files.os, "replace", full)
    note = progress.record(tmp_path, "01.2", True)
    assert note.startswith("This result was not saved for progress()") and "full" in note.lower(), note
    assert stored(tmp_path) == {"01.1": "passed"}


@pytest.mark.skipif(os.name == "nt", reason="creating symlinks needs developer mode on Windows")
def test_a_lock_file_that_is_a_link_is_not_followed(tmp_path):
    (tmp_path / ".workbook").mkdir()
    (tmp_path / progress.LOCK).symlink_to(tmp_path / "elsewhere.lock")
    note = progress.record(tmp_path, "01.1", True)
    assert note.startswith("This result was not saved for progress()")
    assert not (tmp_path / "elsewhere.lock").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_gives_a_note_not_an_exception(tmp_path):
    tmp_path.chmod(0o555)
    try:
        note = progress.record(tmp_path, "01.1", True)
    finally:
        tmp_path.chmod(0o755)
    assert note.startswith("This result was not saved for progress(): .workbook cannot be written here")
