"""Build the reference Bookshelf in a folder by replaying a chapter's cells: its files and its commands."""

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import chapters, files
from .errors import WorkbookBug


def write(folder: Path, relative: str, text: str) -> None:
    """Write one reference file into the folder, never through a link."""
    files.write_text(folder, relative, text)


def replay(folder: Path, step: chapters.Replay) -> None:
    """Run a command cell (like `flask("db init")`) in the folder, as the notebook does."""
    completed = subprocess.run([sys.executable, "-c", step.script], cwd=folder, capture_output=True, text=True)
    if completed.returncode or "(exit status" in completed.stdout:
        raise WorkbookBug(f"Replaying `{step.source.strip()}` failed:\n{completed.stdout}{completed.stderr}")


def build(
    folder: Path, number: str, until_cell: int | None = None,
    text_of: Callable[[chapters.WrittenFile], str] = lambda written: written.text,
) -> None:
    """Write the files a chapter starts from, then replay its cells in order (up to until_cell)."""
    chapter = chapters.chapter(number)
    for relative, text in chapters.state_before(chapter.number).items():
        write(folder, relative, text)
    for step in sorted([*chapter.files, *chapter.replays], key=lambda step: step.cell_index):
        if until_cell is not None and step.cell_index > until_cell:
            break
        if isinstance(step, chapters.Replay):
            replay(folder, step)
        else:
            write(folder, step.path, text_of(step))


def restore_created(folder: Path, number: str) -> list[str]:
    """Rebuild what earlier chapters made by command (like migrations/) where the folder lacks it; return it."""
    restored = []
    start = chapters.chapter(number).number
    for earlier in chapters.all_chapters():
        if earlier.number >= start:
            break
        missing = [path for path in earlier.creates if not (folder / path).exists()]
        if not earlier.replays or not missing:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            build(Path(scratch), earlier.number)
            for path in missing:
                source = Path(scratch) / path
                if source.exists():
                    files.copy_into(source, folder, path)
                    restored.append(path)
    return restored
