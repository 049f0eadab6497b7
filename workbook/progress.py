"""Remember which exercises passed in a folder, and show them chapter by chapter."""

import json
import os
from pathlib import Path

from . import chapters

STATE = Path(".workbook") / "progress.json"
MARKS = {"passed": "✔ passed", "failed": "✘ not yet", None: "· not tried"}


def load(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(folder: Path, exercise_id: str, passed: bool) -> None:
    """Store the latest result of an exercise, replacing the file in one step."""
    data = load(folder)
    data[exercise_id] = "passed" if passed else "failed"
    path = folder / STATE
    path.parent.mkdir(exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def table(folder: Path) -> str:
    """Return every chapter's exercises with their latest result, as aligned text."""
    results = load(folder)
    rows, solved, total = [], 0, 0
    for chapter in chapters.all_chapters():
        for position, exercise in enumerate(chapter.exercises):
            # the notebook's name ("02 database") is short enough for a table, unlike the title
            name = chapter.name.replace("_", " ", 1) if position == 0 else ""
            rows.append(f"{name:<24}{exercise.id:<10}{MARKS[results.get(exercise.id)]}")
            solved += results.get(exercise.id) == "passed"
            total += 1
    header = f"{'Chapter':<24}{'Exercise':<10}Result"
    return "\n".join([header, *rows, f"{solved} of {total} exercises solved."])


def progress() -> None:
    """Print a table of every chapter's exercises: passed, not yet, or not tried."""
    print(table(Path.cwd()))
