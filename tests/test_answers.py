"""Every exercise's check accepts correct answers written in other words, and refuses plausible wrong ones."""

import importlib
import itertools
import json
import pkgutil
import re
import shutil

import pytest

import answers
from helpers import folder_at_check, run, write_files
from workbook import chapters

REGION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?### END SOLUTION[^\n]*", re.S | re.M)
# a case the checks get wrong today, by (kind, exercise id, number within that kind and exercise): the reason
KNOWN_WRONG_VERDICTS: dict[tuple[str, str, int], str] = {}


def cases(kind: str) -> list:
    """Return the answers of this kind ("CORRECT" or "WRONG") of every chapter, as pytest params."""
    params = []
    for module in sorted(info.name for info in pkgutil.iter_modules(answers.__path__)):
        numbered: dict[str, int] = {}
        for exercise_id, answer in getattr(importlib.import_module(f"answers.{module}"), kind):
            number = numbered[exercise_id] = numbered.get(exercise_id, 0) + 1
            reason = KNOWN_WRONG_VERDICTS.get((kind, exercise_id, number))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(exercise_id, answer, id=f"{exercise_id}-{number}", marks=marks))
    return params


def with_answer(exercise: chapters.Exercise, answer: str) -> dict[str, str]:
    """Return the exercise's files with its solution region replaced by this answer."""
    chapter = chapters.chapter(exercise.chapter)
    cells = json.loads((chapters.SOLUTIONS / chapter.filename).read_text(encoding="utf-8"))["cells"]
    files = {}
    for index in exercise.solution_cells:
        path, body = chapters.writefile_cell(cells[index])
        # an answer is one text, or one text per solution region of the cell (05.4 has one in login and one in logout)
        parts = iter(answer) if isinstance(answer, tuple) else itertools.repeat(answer)
        replaced = REGION.sub(lambda m: "\n".join(m["indent"] + line for line in next(parts).split("\n")), body)
        files[path] = chapters.file_text(replaced)
    return files


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Return a function that builds an exercise's folder at its check once, and copies it for each answer."""
    folders = {}

    def copy_for(exercise: chapters.Exercise, destination):
        if exercise.id not in folders:
            # chapter 03's folder replays flask db commands: seconds each, so build it once per exercise
            folders[exercise.id] = folder_at_check(tmp_path_factory.mktemp(f"at-{exercise.id}"), exercise)
        return shutil.copytree(folders[exercise.id], destination, symlinks=True)

    return copy_for


def answered_folder(built, tmp_path, exercise_id: str, answer: str):
    """Return a folder at the exercise's check with this answer in place of the reference."""
    exercise = chapters.exercise(exercise_id)
    folder = built(exercise, tmp_path / "bookshelf-folder")
    files = with_answer(exercise, answer)
    last = answer[-1] if isinstance(answer, tuple) else answer
    assert files and all(last.split("\n")[-1].strip() in text for text in files.values()), "the answer was not placed"
    write_files(folder, files)
    return folder


@pytest.mark.parametrize(("exercise_id", "answer"), cases("CORRECT"))
def test_correct_answer_passes(built, tmp_path, exercise_id, answer):
    passed, text = run(answered_folder(built, tmp_path, exercise_id, answer), exercise_id)
    assert passed, text


@pytest.mark.parametrize(("exercise_id", "answer"), cases("WRONG"))
def test_plausible_wrong_answer_fails(built, tmp_path, exercise_id, answer):
    passed, text = run(answered_folder(built, tmp_path, exercise_id, answer), exercise_id)
    assert not passed, text


def test_every_exercise_has_two_correct_and_two_wrong_answers():
    for kind in ("CORRECT", "WRONG"):
        counted = {exercise.id: 0 for chapter in chapters.all_chapters() for exercise in chapter.exercises}
        for param in cases(kind):
            counted[param.values[0]] += 1
        assert {exercise_id for exercise_id, count in counted.items() if count < 2} == set(), kind
