"""Every exercise's check accepts correct answers written in other words, and refuses plausible wrong ones;
every hidden test passes on the reference and fails on a plausible half-answer, which the public check refuses too."""

import ast
import importlib
import itertools
import json
import pkgutil
import re
import shutil

import pytest

import answers
from helpers import ALL_EXERCISES, folder_at_check, run, write_files
from workbook import chapters, runner
from workbook.verdict import verdict

REGION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?### END SOLUTION[^\n]*", re.S | re.M)
# a case the checks get wrong today, by (kind, exercise id, number within that kind and exercise): the reason
KNOWN_WRONG_VERDICTS: dict[tuple[str, str, int], str] = {}
# a wrong or half answer that fits only the public checks' inputs, by (kind, exercise id, number): why no public check
# of the same rule can refuse it. A hidden test may then fail it where check() said "Well done!". There should be none.
FITS_ONLY_PUBLIC_INPUTS: dict[tuple[str, str, int], str] = {}
# an exercise whose public checks do not yet test every rule its hidden tests do: the reason (strict: once its checks
# catch every half-answer, the entry must go)
PUBLIC_CHECKS_MISS_A_RULE: dict[str, str] = {}


def cases(kind: str) -> list:
    """Return the answers of this kind ("CORRECT" or "WRONG") of every chapter, as pytest params."""
    params = []
    for module in sorted(info.name for info in pkgutil.iter_modules(answers.__path__)):
        numbered: dict[str, int] = {}
        for exercise_id, answer in getattr(importlib.import_module(f"answers.{module}"), kind, []):
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
        # an answer is one text, or one text per solution region of the cell (05.4 has one in login and one in logout),
        # or, for an exercise of several files (10.3's test suite), a text per file's path
        if isinstance(answer, dict):
            text = answer[path]
            parts = iter(text) if isinstance(text, tuple) else itertools.repeat(text)
        else:
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
    if isinstance(answer, dict):
        last_lines = {path: (text[-1] if isinstance(text, tuple) else text).split("\n")[-1].strip()
                      for path, text in answer.items()}
        assert files and all(last_lines[path] in text for path, text in files.items()), "the answer was not placed"
    else:
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


def hidden_tests(exercise: chapters.Exercise) -> set[str]:
    """Return the names of the hidden tests of an exercise, read from its chapter's hidden file."""
    path = chapters.chapter(exercise.chapter).hidden_file()
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body if path.exists() else []:
        for decorator in getattr(node, "decorator_list", []):
            if (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.exercise"
                    and ast.literal_eval(decorator.args[0]) == exercise.id):
                names.add(node.name)
    return names


def hidden_run(folder, exercise: chapters.Exercise):
    return runner.run_check(folder, exercise.id, chapters.chapter(exercise.chapter).hidden_file())


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda e: e.id)
def test_hidden_tests_pass_on_the_reference(tmp_path, exercise):
    assert hidden_tests(exercise), f"exercise {exercise.id} has no hidden test in tests/hidden/"
    run = hidden_run(folder_at_check(tmp_path, exercise), exercise)
    assert run.passed, verdict(run)[1]


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda e: e.id)
def test_every_hidden_test_fails_on_a_half_answer(built, tmp_path, exercise):
    """Each hidden test fails on at least one half-answer: no hidden test is there for nothing."""
    half_answers = [param.values[1] for param in cases("HIDDEN") if param.values[0] == exercise.id]
    assert half_answers, f"expected half-answers of {exercise.id} in tests/answers (HIDDEN)"
    caught = set()
    for number, answer in enumerate(half_answers):
        folder = answered_folder(built, tmp_path / str(number), exercise.id, answer)
        hidden = hidden_run(folder, exercise)
        assert not hidden.passed, f"half-answer {number + 1} of {exercise.id} passed the hidden tests"
        caught |= {test.name for test in hidden.tests if test.outcome == "failed"}
    assert hidden_tests(exercise) <= caught, f"no half-answer fails {sorted(hidden_tests(exercise) - caught)}"


def wrong_and_half_answers(exercise_id: str) -> list[tuple[str, int, object]]:
    """Return the WRONG and HIDDEN answers of an exercise as (kind, number within that kind and exercise, answer)."""
    found = []
    for kind in ("WRONG", "HIDDEN"):
        numbered = [param.values[1] for param in cases(kind) if param.values[0] == exercise_id]
        found += [(kind, number, answer) for number, answer in enumerate(numbered, start=1)]
    return found


def test_the_exceptions_name_exercises_and_answers_that_exist():
    """Each exercise excused from the rule below is one of the workbook's, and each answer excused is in tests/answers."""
    assert set(PUBLIC_CHECKS_MISS_A_RULE) <= {exercise.id for exercise in ALL_EXERCISES}
    for kind, exercise_id, number in FITS_ONLY_PUBLIC_INPUTS:
        assert (kind, number) in {(k, n) for k, n, _ in wrong_and_half_answers(exercise_id)}, (kind, exercise_id, number)


@pytest.mark.parametrize("exercise", [
    pytest.param(exercise, marks=[pytest.mark.xfail(strict=True, reason=PUBLIC_CHECKS_MISS_A_RULE[exercise.id])]
                 if exercise.id in PUBLIC_CHECKS_MISS_A_RULE else [])
    for exercise in ALL_EXERCISES
], ids=lambda e: e.id)
def test_public_checks_catch_what_the_hidden_tests_catch(built, tmp_path, exercise):
    """Every wrong or half answer that a hidden test fails also fails the public check: the hidden tests use other
    inputs, never another rule, so a learner whose check() says "Well done!" keeps the points (unless the answer fits
    only the public inputs, FITS_ONLY_PUBLIC_INPUTS).

    A wrong answer's public check is run by test_plausible_wrong_answer_fails, which asserts that it fails: only the
    wrong answers it excuses (KNOWN_WRONG_VERDICTS) are run here again, with every half-answer."""
    answers_of = wrong_and_half_answers(exercise.id)
    assert answers_of, f"expected wrong answers of {exercise.id} in tests/answers"
    escaped = []
    for kind, number, answer in answers_of:
        if kind == "WRONG" and (kind, exercise.id, number) not in KNOWN_WRONG_VERDICTS:
            continue
        folder = answered_folder(built, tmp_path / f"{kind}-{number}", exercise.id, answer)
        passed, _ = run(folder, exercise.id)
        if passed and (kind, exercise.id, number) not in FITS_ONLY_PUBLIC_INPUTS:
            hidden = hidden_run(folder, exercise)
            if not hidden.passed:
                failed = sorted(test.name for test in hidden.tests if test.outcome == "failed")
                escaped.append(f"{kind} {exercise.id}-{number} passes check() and fails {', '.join(failed)}")
    assert not escaped, "\n".join(escaped)


def test_check_never_runs_a_hidden_test():
    """check() runs the public file only, and no public check file names a hidden test."""
    for chapter in chapters.all_chapters():
        assert chapter.check_file().parent == chapters.CHECKS and chapter.hidden_file().parent == chapters.HIDDEN
        public = chapter.check_file().read_text(encoding="utf-8")
        for exercise in chapter.exercises:
            assert not any(f"def {name}(" in public for name in hidden_tests(exercise))


@pytest.mark.parametrize(("exercise_id", "answer"), cases("CORRECT"))
def test_correct_answer_passes_the_hidden_tests(built, tmp_path, exercise_id, answer):
    """A hidden test never fails a correct answer written in other words than the reference."""
    run_ = hidden_run(answered_folder(built, tmp_path, exercise_id, answer), chapters.exercise(exercise_id))
    assert run_.passed, verdict(run_)[1]
