"""Write the zip a student gets: the notebooks, the helper library, the public checks, only released answers and
the course manifest the grader reads."""

import json
import keyword
import os
import re
import stat
import tempfile
import zipfile
from pathlib import Path

from . import chapters, generate
from .errors import LearnerError, WorkbookBug

# copied as they are, relative to the workbook's folder (the Makefile is replaced: its test target needs tests/*.py);
# requirements/learner.txt pins the versions for the whole class
SETUP_FILES = ("pyproject.toml", "environment.yml", "start", "start.ps1", "requirements/learner.txt")
FOLDERS = ("workbook", "tests/checks", "jupyter")
SKIPPED_NAMES = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")
SKIPPED_SUFFIXES = (".pyc", ".pyo")
EXECUTABLE = 0o755
READABLE = 0o644
# one fixed time for every member: the same workbook and options give the same zip, byte for byte
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
NAME = re.compile(r"[A-Za-z_]\w*")
# the course manifest: in the zip as <top>/course.json, and beside it (class.zip gives class.course.json)
MANIFEST = "course.json"
MANIFEST_FORMAT = 1
WORKBOOK_NAME = "flask-extensions-workbook"

MAKEFILE = """\
# make lab: open the workbook (creates .venv on first use); make handin: write handin.zip, your work to upload;
# make clean: remove .venv (your notebooks, bookshelf/ and backups/ stay)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# options of `python -m venv` (the workbook's tests, which replace pip, pass --without-pip)
VENV_OPTIONS :=
# the versions of every package, the same for the whole class on Linux, macOS and Windows
LOCK := requirements/learner.txt
# the stamp records the Python that made .venv
STAMP := $(VENV)/.installed

.PHONY: lab handin clean FORCE

# Which Python: PYTHON=... if given; else the one that made .venv, then python3, every python3.N on PATH (newest
# first), python. Each is run and asked its version, as a name on PATH may not run (a pyenv shim exits with 127).
ASK := 'import sys; print(sys.version_info >= (3, 11), "Python %d.%d.%d at" % sys.version_info[:3], sys.executable)'
MADE_BY := $(shell cat $(STAMP) 2>/dev/null)
NUMBERED := $(shell IFS=:; for d in $$PATH; do ls "$$d" 2>/dev/null; done \\
  | grep -E '^python3\\.[0-9]+$$' | sort -t. -k2,2nr -u)
CANDIDATES := $(or $(PYTHON),$(wordlist 4,99,$(MADE_BY)) python3 $(NUMBERED) python)
FOUND := $(shell for n in $(CANDIDATES); do $$n -c $(ASK) 2>/dev/null | grep '^True ' && break; done)
# "Python 3.12.3 at /usr/bin/python3.12": what the stamp records
PY_ID := $(wordlist 2,99,$(FOUND))
PY := $(wordlist 5,99,$(FOUND))
NO_PYTHON := The workbook needs Python 3.11 or newer: on Ubuntu, sudo add-apt-repository ppa:deadsnakes/ppa and \\
sudo apt install python3.12-venv (or uv python install 3.12); on macOS, the installer from python.org or brew \\
install python@3.12; on Windows, python.org or winget install Python.Python.3.12; then make again, or \\
PYTHON=/path/to/python3.12.

# a .venv made by another Python (or by an install that stopped) is made again, whatever the stamp's date
ifneq ($(MADE_BY),$(PY_ID))
$(STAMP): FORCE
endif

$(STAMP): pyproject.toml $(LOCK)
\t@$(if $(PY),,for n in $(CANDIDATES); do \\
\t  echo "$$n: $$($$n -c 'import sys; print("Python", sys.version.split()[0])' 2>/dev/null || echo does not run)"; \\
\tdone; echo "$(NO_PYTHON)"; exit 1)
\t@if [ -e $(VENV) ] && [ "$(MADE_BY)" != "$(PY_ID)" ]; then \\
\t  echo "$(VENV) was made by $(or $(MADE_BY),an install that did not finish or did not record its Python);" \\
\t    "making it again with $(PY_ID)"; \\
\t  rm -rf $(VENV); fi
\t@echo "Installing the workbook's packages (requirements/learner.txt) into $(VENV) with $(PY_ID): about 320 MB,"
\t@echo "a minute or two the first time (less when pip has them cached). pip lists each package as it goes."
\t[ -x $(BIN)/python ] || $(strip $(PY) -m venv $(VENV_OPTIONS) $(VENV))
\t$(PIP) install --upgrade pip
\t$(PIP) install -r $(LOCK) -e .
\t@echo "$(PY_ID)" > $@

FORCE:

# start adds the settings in jupyter/ (no nbgrader, no news prompt, root allowed); run by bash, as some unzip tools
# drop its x bit
lab: $(STAMP)
\tbash start $(BIN)/jupyter lab notebooks/00_welcome.ipynb

# checks your chapter notebooks and writes them into handin.zip (a previous one is kept, renamed with its time)
handin: $(STAMP)
\t$(BIN)/python -m workbook handin

# removes the environment only: your bookshelf/, backups/ and progress stay where they are
clean:
\trm -rf $(VENV)
"""

CHAPTERS_README = """\
These are the chapter notebooks as the helper library reads them (what each chapter's set-up cell restores).
Exercises whose answers are not released here are as blank as in notebooks/. Work in notebooks/, not here.
"""

README = """\
# Flask Extensions Workbook

You build one real Flask application, **Bookshelf** (a shared reading list), adding one Flask extension per
notebook. Every exercise has a `check()` that tests your code and tells you at once what works.

Chapters in this copy: {chapter_list}.

## Install and open

You need Python 3.11 or newer, with pip and venv, and `make`
(on Debian and Ubuntu: `sudo apt install python3-venv make`). In this folder:

```
make lab     # creates .venv on first use, then opens JupyterLab at chapter 00
```

The first time, it installs the workbook's packages (about 320 MB, a minute or two) at the versions in
`requirements/learner.txt`, the same for the whole class. It uses the first Python 3.11 or newer it finds;
`make lab PYTHON=python3.12` chooses one, and `make clean` removes `.venv` to start the install over (your
notebooks stay). If your Python is too old, `make` says where to get a newer one.

Windows, one command in PowerShell or `cmd`:

```powershell
powershell -ExecutionPolicy Bypass -File start.ps1
```

Or step by step, in PowerShell:

```powershell
py -3 -m venv .venv
.venv\\Scripts\\python -m pip install -r requirements\\learner.txt -e .
$env:JUPYTER_CONFIG_PATH = "$PWD\\jupyter"
.venv\\Scripts\\jupyter lab notebooks/00_welcome.ipynb
```

or in `cmd`:

```bat
py -3 -m venv .venv
.venv\\Scripts\\python -m pip install -r requirements\\learner.txt -e .
set JUPYTER_CONFIG_PATH=%CD%\\jupyter
.venv\\Scripts\\jupyter lab notebooks/00_welcome.ipynb
```

`py -3` must be Python 3.11 or newer (`py --list` shows yours; without `py`, use `python`).

conda: `conda env create -f environment.yml`, `conda activate flask-workbook`, then
`bash start jupyter lab notebooks/00_welcome.ipynb`.

## Working through it

Start at `notebooks/00_welcome.ipynb` and run each chapter top to bottom. Fill in the cells that say
`# YOUR CODE HERE`: Bookshelf is written into `notebooks/bookshelf/`, an ordinary Flask package.

- `check("01.2")` tests your answer to exercise 01.2 on a copy of your files and lists what passed, with a hint.
- `progress()` shows every exercise: passed, not yet, or not tried.
- `start_chapter("03")` (each chapter's first cell) restores what the earlier chapters would have written, so you
  can open any chapter directly. Your own files are never overwritten without a copy in `notebooks/backups/`.
- `catch_up("01.2")` puts an exercise's answer in place and shows it, so that you can go on, but only for the
  exercises whose answers are released in this copy (below).

## Answers released in this copy

{released}

For any other exercise, `catch_up` says that its answer is not released: solve it, or ask your instructor.
A chapter started with `start_chapter` gets the blank version of an earlier exercise whose answer is not
released; every chapter's own exercises can be solved and checked from there.
The folder `chapters/` is what the helper library reads; it holds no other answers. Work in `notebooks/`.

## Handing in

In this folder, run

```
make handin        # or, with the workbook's environment active: python -m workbook handin
```

On Windows: `.venv\\Scripts\\python -m workbook handin`. It checks that each chapter notebook can be read and writes
them into `handin.zip` (a previous `handin.zip` is kept as `handin-<date>-<time>.zip`). Upload `handin.zip` to the
course page (Canvas, Moodle, ...) exactly as it is: hand in the whole zip, and do not rename the notebooks, as the
grader finds each chapter by its file name.

The grader runs hidden tests in addition to the checks you see: a check that passes earns its points unless your
answer only fits the check's examples (the hidden tests use other inputs, never other rules).
"""


def write_bundle(out: Path, answers_through: str | None = None, chapters_through: str | None = None,
                 force: bool = False) -> list[str]:
    """Write the student bundle to `out` (a .zip) and return the lines that say what it releases."""
    out = Path(out)
    check_output(out, force)
    handed_out = chapters_up_to(chapters_through)
    last_answered = chapters.chapter(answers_through).number if answers_through is not None else ""
    answered = {e.id for c in handed_out if c.number <= last_answered for e in c.exercises}
    released = set(answered)
    lines = []
    for given in handed_out:
        extra = [exercise_id for exercise_id in chapters.answers_given_away(given.number) if exercise_id not in released]
        if extra:
            released.update(extra)
            lines.append(f"Chapter {given.number}'s given cells repeat the answer of exercise{'s' * (len(extra) > 1)} "
                         f"{and_list(extra)}, so this bundle releases {'them' if len(extra) > 1 else 'it'} too.")
    manifest = manifest_text(out.name, handed_out, in_order(handed_out, answered),
                             in_order(handed_out, released - answered)).encode("utf-8")
    members = {**bundle_members(handed_out, released), MANIFEST: (manifest, READABLE)}
    leaks = leaked_answers(members, released)
    if leaks:
        raise WorkbookBug(f"The bundle would hold the answer of unreleased exercises: {'; '.join(leaks)}.")
    write_zip(out, out.stem, members)
    replace_file(manifest_beside(out), manifest)
    shown = in_order(handed_out, released)
    numbers = and_list([c.number for c in handed_out])
    return [f"Wrote {out}: chapters {numbers}; answers released: {and_list(shown) if shown else 'none'}.", *lines,
            f"Wrote the course manifest, which the grader reads, to {manifest_beside(out)} and to "
            f"{out.stem}/{MANIFEST} in the zip."]


def manifest_beside(out: Path) -> Path:
    """Return where a bundle's manifest is written beside it: class.zip gives class.course.json."""
    return out.with_name(f"{out.stem}.{MANIFEST}")


def manifest_text(bundle_name: str, handed_out: list[chapters.Chapter], answered: list[str],
                  given_away: list[str]) -> str:
    """Return the course manifest: the chapters handed out and the exercises whose answers are released."""
    manifest = {"format": MANIFEST_FORMAT, "workbook": WORKBOOK_NAME, "bundle": bundle_name,
                "chapters": [c.number for c in handed_out], "released": answered, "given_away": given_away}
    return json.dumps(manifest, indent=1) + "\n"


def read_manifest(path: Path) -> dict:
    """Return a course manifest, or raise LearnerError saying in one sentence what is wrong with it."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise LearnerError(f"The course manifest {path} could not be read ({error.strerror or error}).") from None
    except UnicodeDecodeError:
        raise LearnerError(f"The course manifest {path} is damaged: it is not UTF-8 text.") from None
    except (ValueError, RecursionError) as error:
        reason = type(error).__name__
        if isinstance(error, json.JSONDecodeError):
            reason = f"{error.msg} at line {error.lineno}"
        raise LearnerError(f"The course manifest {path} is not JSON ({reason}).") from None
    problem = manifest_problem(manifest)
    if problem:
        raise LearnerError(f"The course manifest {path} {problem}.")
    return manifest


def manifest_problem(manifest) -> str:
    """Return what makes a manifest's JSON wrong, as the end of a sentence, or "" when it is right."""
    if not isinstance(manifest, dict):
        return "is not a JSON object"
    if type(manifest.get("format")) is not int or manifest["format"] != MANIFEST_FORMAT:
        return f"has format {chapters.shown_value(manifest.get('format'))}, not {MANIFEST_FORMAT}"
    if manifest.get("workbook") != WORKBOOK_NAME:
        return f"is for the workbook {chapters.shown_value(manifest.get('workbook'))}, not {WORKBOOK_NAME!r}"
    numbers = manifest.get("chapters")
    if not isinstance(numbers, list) or not all(isinstance(number, str) for number in numbers):
        return "has no list of chapter numbers (strings like \"01\") under 'chapters'"
    known = {c.number: c for c in chapters.all_chapters()}
    unknown = [number for number in numbers if number not in known]
    if unknown:
        return f"names chapter {chapters.shown_value(unknown[0])}; the workbook's chapters are {', '.join(known)}"
    if numbers != sorted(set(numbers)):
        return "lists its chapters out of order or twice"
    exercise_ids = {e.id for number in numbers for e in known[number].exercises}
    for key in ("released", "given_away"):
        ids = manifest.get(key)
        if not isinstance(ids, list) or not all(isinstance(exercise_id, str) for exercise_id in ids):
            return f"has no list of exercise ids under {key!r}"
        strangers = [exercise_id for exercise_id in ids if exercise_id not in exercise_ids]
        if strangers:
            return f"lists {chapters.shown_value(strangers[0])} under {key!r}, which is no exercise of its chapters"
    twice = [exercise_id for exercise_id in manifest["given_away"] if exercise_id in manifest["released"]]
    if twice:
        return f"lists exercise {twice[0]} both under 'released' and under 'given_away'"
    return ""


def in_order(handed_out: list[chapters.Chapter], released: set[str]) -> list[str]:
    """Return the released exercises of the chapters handed out, in the workbook's order."""
    return [e.id for c in handed_out for e in c.exercises if e.id in released]


def and_list(items: list[str]) -> str:
    """Join names as a sentence does: "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def check_output(out: Path, force: bool) -> None:
    """Refuse an output path that is not a new .zip in an existing folder (an existing one only with force)."""
    if out.suffix.lower() != ".zip":
        raise LearnerError(f"The bundle is a zip file: name it with .zip at the end, not {out}.")
    if not out.parent.is_dir():
        raise LearnerError(f"There is no folder {out.parent}: create it first, or write the bundle elsewhere.")
    if out.is_dir():
        raise LearnerError(f"{out} is a folder: name a zip file to write the bundle to.")
    if out.exists() and not force:
        raise LearnerError(f"{out} exists already: choose another name, or pass --force to replace it.")
    if out.exists() and not zipfile.is_zipfile(out):
        raise LearnerError(f"{out} exists and is not a zip file: it is not replaced; choose another name.")
    beside = manifest_beside(out)
    if beside.is_dir():
        raise LearnerError(f"{beside} is a folder: the bundle's manifest would be written there; choose another name.")
    if beside.exists() and not force:
        raise LearnerError(f"{beside} exists already: choose another name, or pass --force to replace it.")


def chapters_up_to(chapters_through: str | None) -> list[chapters.Chapter]:
    """Return the chapters handed out: all of them, or those up to a chapter number."""
    last = chapters.chapter(chapters_through).number if chapters_through is not None else "99"
    return [c for c in chapters.all_chapters() if c.number <= last]


def chapter_notebook(chapter: chapters.Chapter, released: set[str]) -> tuple[str, str]:
    """Return the student notebook and the library's version of it, which keeps only the released answers."""
    solution = generate.read_solution(chapters.SOLUTIONS / chapter.filename)
    student = generate.student_notebook(solution)
    student_text = generate.render(student)
    if len(student.cells) != len(solution.cells):
        raise WorkbookBug(f"Generating the student version of {chapter.filename} changed its number of cells.")
    for exercise in chapter.exercises:
        if exercise.id in released:
            for index in exercise.solution_cells:
                student.cells[index].source = solution.cells[index].source
    unreleased = [e.id for e in chapter.exercises if e.id not in released]
    student.metadata.setdefault("workbook", {})["unreleased"] = unreleased
    return student_text, generate.render(student)


def folder_files(relative: str) -> dict[str, Path]:
    """Return the files under a folder of the workbook, without caches."""
    found = {}
    for path in sorted((chapters.ROOT / relative).rglob("*")):
        parts = path.relative_to(chapters.ROOT).parts
        if path.is_file() and not any(part in SKIPPED_NAMES for part in parts) and path.suffix not in SKIPPED_SUFFIXES:
            found["/".join(parts)] = path
    return found


def bundle_members(handed_out: list[chapters.Chapter], released: set[str]) -> dict[str, tuple[bytes, int]]:
    """Return every file of the bundle: its path in the zip, its bytes and its permissions."""
    members: dict[str, tuple[bytes, int]] = {}
    for relative in SETUP_FILES:
        path = chapters.ROOT / relative
        members[relative] = (path.read_bytes(), EXECUTABLE if os.access(path, os.X_OK) else READABLE)
    numbers = {c.number for c in handed_out}
    for folder in FOLDERS:
        for relative, path in folder_files(folder).items():
            # the checks of a chapter not handed out stay behind with it
            found = chapters.CHAPTER_CHECK.match(Path(relative).name)
            if folder == "tests/checks" and found and found["number"] not in numbers:
                continue
            members[relative] = (path.read_bytes(), EXECUTABLE if os.access(path, os.X_OK) else READABLE)
    for given in handed_out:
        student_text, library_text = chapter_notebook(given, released)
        members[f"notebooks/{given.filename}"] = (student_text.encode("utf-8"), READABLE)
        members[f"chapters/{given.filename}"] = (library_text.encode("utf-8"), READABLE)
    shown = in_order(handed_out, released)
    readme = README.format(
        chapter_list=", ".join(f"{c.number} {c.title}" for c in handed_out),
        released=("Exercises " + and_list(shown) + "." if shown else "None: every exercise is yours to solve."),
    )
    members["README.md"] = (readme.encode("utf-8"), READABLE)
    members["chapters/README.md"] = (CHAPTERS_README.encode("utf-8"), READABLE)
    members["Makefile"] = (MAKEFILE.encode("utf-8"), READABLE)
    return members


def member_text(name: str, data: bytes) -> str:
    """Return a member's text; a notebook's is every string in it, so that JSON's escapes hide nothing."""
    text = data.decode("utf-8", "replace")
    if not name.endswith(".ipynb"):
        return text
    found, pending = [], [json.loads(text)]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return "\n".join(found)


def distinctive(line: str) -> bool:
    """Tell whether a line names two things or more: `return found` or `else:` is in every program."""
    return len({word for word in NAME.findall(line) if not keyword.iskeyword(word)}) >= 2


def searchable_lines(exercise: chapters.Exercise, given_text: str) -> list[str]:
    """Return an answer's distinctive lines that the student notebooks do not hold: finding one finds the answer."""
    return [line for line in chapters.answer_lines(exercise) if distinctive(line) and line not in given_text]


def leaked_answers(members: dict[str, tuple[bytes, int]], released: set[str]) -> list[str]:
    """Return "exercise in file" for each unreleased exercise whose answer text a member holds."""
    texts = {name: member_text(name, data) for name, (data, _) in members.items()}
    # the student notebooks are what nbgrader hands out: their given cells, stubs and prose are no leak
    given_text = "\n".join(text for name, text in texts.items() if name.startswith("notebooks/"))
    leaks = []
    for exercise in (e for c in chapters.all_chapters() for e in c.exercises if e.id not in released):
        lines = searchable_lines(exercise, given_text)
        leaks += [f"{exercise.id} in {name}" for name, text in texts.items() if any(line in text for line in lines)]
    return leaks


def write_zip(out: Path, top: str, members: dict[str, tuple[bytes, int]]) -> None:
    """Write the members under one top folder into a new zip beside `out`, then put it in out's place."""
    handle, scratch = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".new", dir=out.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name in sorted(members):
                data, mode = members[name]
                info = zipfile.ZipInfo(f"{top}/{name}", date_time=ZIP_TIME)
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, data)
        os.chmod(scratch, READABLE)
        os.replace(scratch, out)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)


def replace_file(out: Path, data: bytes) -> None:
    """Write a file beside `out`, then put it in out's place: nothing half-written is ever left there."""
    handle, scratch = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".new", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(scratch, READABLE)
        os.replace(scratch, out)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
