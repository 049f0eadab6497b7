"""The student bundle holds no unreleased answer, says what it releases, and works as a student uses it."""

import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from workbook import bundle, chapters, folder, generate
from workbook.errors import LearnerError, WorkbookBug

EVERY_EXERCISE = [e.id for c in chapters.all_chapters() for e in c.exercises]
NOT_RELEASED = "is not released in this copy of the workbook"
# one student process: a chapter start, a check and a catch_up, on a busy machine
STUDENT_SECONDS = 120


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """Write the three bundles the tests open: no answers, answers through 02, and chapters through 02 only."""
    folder = tmp_path_factory.mktemp("bundles")
    made = {}
    for name, options in {
        "blank": {},
        "answers02": {"answers_through": "02"},
        "chapters02": {"chapters_through": "2"},
    }.items():
        out = folder / f"{name}.zip"
        made[name] = (out, bundle.write_bundle(out, **options))
    return made


def members(path: Path) -> dict[str, bytes]:
    """Return the bundle's files by their path under its one top folder, after checking that folder."""
    with zipfile.ZipFile(path) as opened:
        names = opened.namelist()
        tops = {name.split("/", 1)[0] for name in names}
        assert tops == {path.stem}, f"a bundle unpacks into one folder named after it, not {tops}"
        return {name.split("/", 1)[1]: opened.read(name) for name in names}


def text_of(name: str, data: bytes) -> str:
    """Return a member's text; a notebook's is all its strings, unescaped, so that JSON hides nothing."""
    text = data.decode("utf-8", "replace")
    if not name.endswith(".ipynb"):
        return text
    strings = []

    def collect(value):
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict | list):
            for item in value.values() if isinstance(value, dict) else value:
                collect(item)

    collect(json.loads(text))
    return "\n".join(strings)


@functools.cache
def student_notebooks() -> dict[str, str]:
    """Return the text of every student notebook as generation writes it (not notebooks/, where someone may work)."""
    return {path.name: text_of(path.name, text.encode("utf-8")) for path, text in generate.expected_notebooks().items()}


def given_text(numbers: list[str]) -> str:
    """Return all the text of the student notebooks of these chapters: their given cells, stubs and prose."""
    return "\n".join(text for name, text in student_notebooks().items() if name[:2] in numbers)


def searchable(exercise_id: str, given: str) -> list[str]:
    """Return the answer's lines that tell it apart: not in the student notebooks, and naming two things or more."""
    lines = chapters.answer_lines(chapters.exercise(exercise_id))
    return [line for line in lines if line not in given and bundle.distinctive(line)]


def released_in(lines: list[str]) -> list[str]:
    """Read the exercises a bundle released from the first line write_bundle returned."""
    shown = lines[0].rpartition("answers released: ")[2].rstrip(".")
    return [] if shown == "none" else shown.replace(" and ", ", ").split(", ")


@pytest.mark.parametrize("name", ["blank", "answers02", "chapters02"])
def test_no_unreleased_answer_is_anywhere_in_the_bundle(bundles, name):
    """Every line that tells an unreleased answer apart is searched for in every file of the zip."""
    path, lines = bundles[name]
    found = members(path)
    handed_out = sorted(name.split("/")[1][:2] for name in found if name.startswith("notebooks/"))
    given = given_text(handed_out)
    unreleased = [exercise_id for exercise_id in EVERY_EXERCISE if exercise_id not in released_in(lines)]
    assert unreleased
    texts = {member: text_of(member, data) for member, data in found.items()}
    for exercise_id in unreleased:
        wanted = searchable(exercise_id, given)
        assert wanted, f"exercise {exercise_id} has no line to search for: the search would prove nothing"
        leaks = [(line, member) for line in wanted for member, text in texts.items() if line in text]
        assert not leaks, f"the answer of unreleased exercise {exercise_id} is in the bundle: {leaks}"


def test_a_bundle_that_would_hold_an_unreleased_answer_is_not_written(tmp_path, monkeypatch):
    """The command searches its own zip before writing it: a fault that leaks an answer stops it."""
    every_answer = bundle.chapter_notebook
    monkeypatch.setattr(bundle, "chapter_notebook", lambda chapter, released: every_answer(chapter, set(EVERY_EXERCISE)))
    with pytest.raises(WorkbookBug, match="^The bundle would hold the answer of unreleased exercises: 00.1 in chapters/"):
        bundle.write_bundle(tmp_path / "out.zip", chapters_through="00")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["blank", "answers02", "chapters02"])
def test_the_bundle_holds_no_solutions_hidden_tests_nor_the_workbooks_own_tests(bundles, name):
    found = members(bundles[name][0])
    assert not [m for m in found if m.startswith("solutions/") or "/solutions/" in m]
    assert not [m for m in found if m.startswith("tests/") and not m.startswith("tests/checks/")]
    assert not [m for m in found if Path(m).name.startswith("test_") and not m.startswith("tests/checks/")]
    assert not [m for m in found if "__pycache__" in m or m.endswith(".pyc")]
    for needed in ("README.md", "Makefile", "course.json", "pyproject.toml", "environment.yml", "start",
                   "workbook/__init__.py", "workbook/handin.py",
                   "tests/checks/conftest.py", "notebooks/00_welcome.ipynb", "chapters/00_welcome.ipynb"):
        assert needed in found
    with zipfile.ZipFile(bundles[name][0]) as opened:
        assert opened.getinfo(f"{name}/start").external_attr >> 16 & 0o111, "start must stay executable"


def test_no_hidden_test_is_named_in_the_bundle(bundles):
    hidden = {match for path in chapters.HIDDEN.glob("test_*.py")
              for match in re.findall(r"def (test_\w+)", path.read_text(encoding="utf-8"))}
    assert len(hidden) > 10
    found = members(bundles["blank"][0])
    assert not [(test, member) for member, data in found.items() for test in hidden if test in data.decode("utf-8", "replace")]


def test_released_answers_are_in_the_library_and_the_rest_is_listed_as_unreleased(bundles):
    path, lines = bundles["answers02"]
    found = members(path)
    assert released_in(lines) == [e for e in EVERY_EXERCISE if e < "03"] + ["04.2"]
    library = json.loads(found["chapters/02_database.ipynb"])
    assert library["metadata"]["workbook"]["unreleased"] == []
    text = text_of("chapters/02_database.ipynb", found["chapters/02_database.ipynb"])
    assert all(line in text for line in chapters.answer_lines(chapters.exercise("02.4")))
    assert json.loads(found["chapters/03_migrations.ipynb"])["metadata"]["workbook"]["unreleased"] == [
        "03.1", "03.2", "03.3"]
    # the student notebooks stay blank: the answers are for catch_up
    assert "### BEGIN SOLUTION" not in found["notebooks/02_database.ipynb"].decode()
    readme = found["README.md"].decode()
    assert "Exercises 00.1, 01.1, 01.2, 01.3, 02.1, 02.2, 02.3, 02.4 and 04.2." in readme


def test_answers_given_away_by_a_chapter_handed_out_are_released_and_said(bundles):
    lines = bundles["blank"][1]
    assert released_in(lines) == ["02.1", "04.2"]
    assert lines[1:-1] == [
        "Chapter 03's given cells repeat the answer of exercise 02.1, so this bundle releases it too.",
        "Chapter 05's given cells repeat the answer of exercise 04.2, so this bundle releases it too.",
    ]
    # answers through 02 already release 02.1: only chapter 05's gift is news
    assert bundles["answers02"][1][1:-1] == bundles["blank"][1][2:-1]


def test_a_bundle_of_the_first_chapters_hands_out_only_those(bundles):
    path, lines = bundles["chapters02"]
    found = members(path)
    assert lines == [f"Wrote {path}: chapters 00, 01 and 02; answers released: none.",
                     f"Wrote the course manifest, which the grader reads, to {path.parent / 'chapters02.course.json'} "
                     "and to chapters02/course.json in the zip."]
    assert sorted(m for m in found if m.startswith("notebooks/")) == [
        "notebooks/00_welcome.ipynb", "notebooks/01_flask.ipynb", "notebooks/02_database.ipynb"]
    assert sorted(m for m in found if m.startswith("tests/checks/test_")) == [
        "tests/checks/test_00_welcome.py", "tests/checks/test_01_flask.py", "tests/checks/test_02_database.py"]
    assert "None: every exercise is yours to solve." in found["README.md"].decode()


def student_environment(root: Path, scratch: Path) -> Path:
    """Return the python of a new environment that sees the bundle's workbook and this one's packages, not its workbook.

    A check's worker drops PYTHONPATH, so the bundle is put on sys.path the way `pip install -e .` would."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(scratch)], check=True, timeout=60)
    site = Path(subprocess.run(
        [str(scratch / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip())
    # a plain path line: the .pth files in this environment's site-packages (its editable workbook) are not read
    (site / "student_bundle.pth").write_text(f"{root}\n{sysconfig.get_paths()['purelib']}\n", encoding="utf-8")
    return scratch / "bin" / "python"


STUDENT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import workbook
    from workbook import catch_up, chapters, check, start_chapter

    print("library:", Path(workbook.__file__).parent, "chapters:", chapters.SOLUTIONS)
    start_chapter("05")
    def files():
        return {p.as_posix(): p.read_bytes() for p in Path(".").rglob("*") if p.is_file()}
    before = files()
    catch_up("02.2")
    print("catch_up changed:", sorted(p for p in set(before) | set(files()) if before.get(p) != files().get(p)))
    check("05.3")
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the student environment is built for POSIX paths")
def test_a_student_starts_a_later_chapter_checks_an_answer_and_cannot_catch_up_an_unreleased_one(bundles, tmp_path):
    with zipfile.ZipFile(bundles["blank"][0]) as opened:
        opened.extractall(tmp_path)
    root = tmp_path / "blank"
    python = student_environment(root, tmp_path / "venv")
    notebooks = root / "notebooks"
    # the answer comes from the real solutions, not from the bundle
    for relative, text in folder.answer_files("05.3").items():
        (notebooks / relative).parent.mkdir(parents=True, exist_ok=True)
        (notebooks / relative).write_text(text, encoding="utf-8")
    done = subprocess.run([str(python), "-c", STUDENT], cwd=notebooks, capture_output=True, text=True, check=False,
                          timeout=STUDENT_SECONDS, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert f"library: {root / 'workbook'} chapters: {root / 'chapters'}" in out
    assert "Chapter 05 is ready" in out and "rebuilt with the commands of earlier chapters: migrations" in out
    assert f"The answer of exercise 02.2 {NOT_RELEASED}: solve it, or ask your instructor how to go on." in out
    assert "catch_up changed: []" in out
    assert "Exercise 05.3: all 4 checks passed." in out
    # earlier chapters start from their blank versions: 02.2's file holds the stub, not the answer
    main = (notebooks / "bookshelf" / "main.py").read_text(encoding="utf-8")
    assert "raise NotImplementedError()" in main
    assert not [line for line in searchable("02.2", given_text(["02"])) if line in main]


def test_catch_up_of_a_released_answer_in_a_bundle_puts_it_in_place(bundles, tmp_path):
    with zipfile.ZipFile(bundles["answers02"][0]) as opened:
        opened.extractall(tmp_path)
    root = tmp_path / "answers02"
    python = student_environment(root, tmp_path / "venv")
    done = subprocess.run([str(python), "-c", "from workbook import catch_up; catch_up('01.2')"],
                          cwd=root / "notebooks", capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Exercise 01.2: the reference answer is in place in bookshelf/api.py." in done.stdout
    assert (root / "notebooks/bookshelf/api.py").read_text(encoding="utf-8") == folder.answer_files("01.2")[
        "bookshelf/api.py"]


@pytest.mark.parametrize("options, message", [
    ({"answers_through": "99"}, "There is no chapter '99'; the chapters are 00, "),
    ({"chapters_through": "x"}, "There is no chapter 'x'; the chapters are 00, "),
])
def test_an_unknown_chapter_gets_one_sentence_and_writes_nothing(tmp_path, options, message):
    with pytest.raises(LearnerError, match=f"^{message}"):
        bundle.write_bundle(tmp_path / "out.zip", **options)
    assert not list(tmp_path.iterdir())


def test_a_bad_output_path_gets_one_sentence(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "folder.zip").mkdir()
    cases = {
        tmp_path / "notes.txt": "The bundle is a zip file: name it with .zip at the end, not ",
        tmp_path / "missing" / "out.zip": "There is no folder ",
        tmp_path / "notes.txt" / "out.zip": "There is no folder ",
        tmp_path / "folder.zip": " is a folder: name a zip file to write the bundle to.",
    }
    for out, message in cases.items():
        with pytest.raises(LearnerError, match=message.replace(".", r"\.")):
            bundle.write_bundle(out, force=True)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_existing_bundle_is_replaced_only_when_asked(bundles, tmp_path):
    out = tmp_path / "class.zip"
    out.write_bytes(bundles["chapters02"][0].read_bytes())
    with pytest.raises(LearnerError, match="class.zip exists already: choose another name, or pass --force"):
        bundle.write_bundle(out, chapters_through="00")
    assert out.read_bytes() == bundles["chapters02"][0].read_bytes()
    (tmp_path / "other.zip").write_text("not a zip", encoding="utf-8")
    with pytest.raises(LearnerError, match="other.zip exists and is not a zip file: it is not replaced"):
        bundle.write_bundle(tmp_path / "other.zip", force=True)
    bundle.write_bundle(out, chapters_through="00", force=True)
    assert sorted(m for m in members(out) if m.startswith("notebooks/")) == ["notebooks/00_welcome.ipynb"]
    assert bundle.read_manifest(tmp_path / "class.course.json")["chapters"] == ["00"]
    # the zip and its manifest are written beside the old ones and then put in their place: nothing half-written is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class.course.json", "class.zip", "other.zip"]
    # a manifest left beside a removed zip records what went out: it too is replaced only when asked
    out.unlink()
    with pytest.raises(LearnerError, match="class.course.json exists already: choose another name, or pass --force"):
        bundle.write_bundle(out, chapters_through="01")
    assert not out.exists() and bundle.read_manifest(tmp_path / "class.course.json")["chapters"] == ["00"]


def test_the_command_line_says_a_bad_chapter_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "workbook", "bundle", str(tmp_path / "out.zip"),
                           "--chapters-through", "12"], cwd=chapters.ROOT, capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode == 1
    known = ", ".join(c.number for c in chapters.all_chapters())
    assert done.stderr == f"Something to fix: There is no chapter '12'; the chapters are {known}.\n"
    assert not list(tmp_path.iterdir())



@pytest.fixture(scope="module")
def manifests(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """Write the bundles whose manifests the tests read: chapters 00-05 with no answers, and answers through 01."""
    made = {}
    for name, options in {"upto05": {"chapters_through": "05"}, "answers01": {"answers_through": "01"}}.items():
        out = tmp_path_factory.mktemp(name) / f"{name}.zip"
        made[name] = (out, bundle.write_bundle(out, **options))
    return made


@pytest.mark.parametrize("name, handed_out, released", [
    ("upto05", ["00", "01", "02", "03", "04", "05"], []),
    ("answers01", [c.number for c in chapters.all_chapters()], ["00.1", "01.1", "01.2", "01.3"]),
])
def test_the_manifest_beside_the_bundle_is_the_one_in_it_and_says_what_it_releases(manifests, name, handed_out,
                                                                                    released):
    path, lines = manifests[name]
    beside = path.with_name(f"{name}.course.json")
    expected = {"format": 1, "workbook": "flask-extensions-workbook", "bundle": f"{name}.zip", "chapters": handed_out,
                "released": released, "given_away": ["02.1", "04.2"]}
    assert beside.read_text(encoding="utf-8") == json.dumps(expected, indent=1) + "\n"
    assert members(path)["course.json"] == beside.read_bytes()
    assert bundle.read_manifest(beside) == expected
    assert lines[-1] == (f"Wrote the course manifest, which the grader reads, to {beside} "
                         f"and to {name}/course.json in the zip.")


def test_the_same_options_write_the_same_bundle_and_manifest_byte_for_byte(manifests, tmp_path):
    first = manifests["upto05"][0]
    again = tmp_path / first.name
    bundle.write_bundle(again, chapters_through="05")
    assert again.read_bytes() == first.read_bytes()
    assert again.with_suffix(".course.json").read_bytes() == first.with_suffix(".course.json").read_bytes()


GOOD_MANIFEST = {"format": 1, "workbook": "flask-extensions-workbook", "bundle": "class.zip",
                 "chapters": ["00", "01", "02"], "released": ["01.1"], "given_away": []}


def broken(**changes) -> str:
    """Return the text of the good manifest with some keys changed."""
    return json.dumps({**GOOD_MANIFEST, **changes})


@pytest.mark.parametrize("text, message", [
    ("{'format': 1}", "is not JSON (Expecting property name enclosed in double quotes at line 1)."),
    ("[]", "is not a JSON object."),
    (broken(format=2), "has format 2, not 1."),
    (broken(workbook="django"), "is for the workbook 'django', not 'flask-extensions-workbook'."),
    (broken(chapters=["00", "42"]), "names chapter '42'; the workbook's chapters are "
                                    f"{', '.join(c.number for c in chapters.all_chapters())}."),
    (broken(chapters=["01", "00"]), "lists its chapters out of order or twice."),
    (broken(released=["03.1"]), "lists '03.1' under 'released', which is no exercise of its chapters."),
    (broken(given_away="02.1"), "has no list of exercise ids under 'given_away'."),
    (broken(given_away=["01.1"]), "lists exercise 01.1 both under 'released' and under 'given_away'."),
])
def test_a_broken_manifest_is_refused_in_one_sentence(tmp_path, text, message):
    path = tmp_path / "class.course.json"
    path.write_text(json.dumps(GOOD_MANIFEST), encoding="utf-8")
    assert bundle.read_manifest(path) == GOOD_MANIFEST
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LearnerError) as refused:
        bundle.read_manifest(path)
    assert str(refused.value) == f"The course manifest {path} {message}"


def test_the_student_readme_says_how_to_hand_in(bundles):
    readme = members(bundles["blank"][0])["README.md"].decode()
    section = readme.partition("\n## Handing in\n")[2]
    for said in ("make handin", "python -m workbook handin", r".venv\Scripts\python -m workbook handin",
                 "Upload `handin.zip` to the\ncourse page (Canvas, Moodle, ...) exactly as it is",
                 "hand in the whole zip",
                 "do not rename the notebooks", "hidden tests use other inputs, never other rules"):
        assert said in section


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_handin_in_the_bundle_runs_the_handin_command(bundles, tmp_path):
    found = members(bundles["blank"][0])
    for name in ("Makefile", "pyproject.toml", "requirements/learner.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(found[name])
    # --no-print-directory: under `make test`, make would take itself for a sub-make and name the folder
    dry_run = ["make", "--no-print-directory", "--dry-run", "handin", f"PYTHON={sys.executable}"]
    # the first time it creates the environment, as `make lab` does
    done = subprocess.run(dry_run, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{sys.executable} -m venv .venv\n" in done.stdout
    assert done.stdout.endswith("\n.venv/bin/python -m workbook handin\n")
    # the stamp records the Python that made .venv: with the same Python, nothing is installed again
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".installed").write_text(f"Python {platform.python_version()} at {sys.executable}\n")
    done = subprocess.run(dry_run, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60)
    assert (done.returncode, done.stdout) == (0, ".venv/bin/python -m workbook handin\n"), done.stderr
