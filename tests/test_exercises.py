"""Every exercise's check passes on the solution and fails on the blank student version."""

import pytest

from helpers import ALL_EXERCISES, folder_at_check, run


def test_every_chapter_has_exercises():
    assert ALL_EXERCISES, "no check() cells were found in solutions/"


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda e: e.id)
def test_check_passes_on_solution(tmp_path, exercise):
    passed, text = run(folder_at_check(tmp_path, exercise), exercise.id)
    assert passed, text


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda e: e.id)
def test_check_fails_on_blank_exercise(tmp_path, exercise):
    assert exercise.solution_cells, f"exercise {exercise.id} has no solution cell before its check"
    passed, text = run(folder_at_check(tmp_path, exercise, blank=True), exercise.id)
    assert not passed, text
    assert "✘" in text or "the checks could not start" in text or "not started yet" in text
