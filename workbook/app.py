"""Import the learner's Bookshelf package afresh and build its app."""

import importlib
import logging
import shutil
import sys
import traceback
from pathlib import Path

from .errors import InstallError, LearnerError

PACKAGE = "bookshelf"
TEST_CONFIG = {"TESTING": True, "SECRET_KEY": "test"}
# the packages the workbook installs for Bookshelf: missing one means a broken installation, not a typo
WORKBOOK_DEPENDENCIES = {
    "flask", "werkzeug", "jinja2", "itsdangerous", "click", "sqlalchemy", "flask_sqlalchemy", "flask_migrate",
    "alembic", "flask_login", "flask_wtf", "wtforms", "flask_mail", "flask_principal", "flask_restx", "flask_limiter",
    "limits", "flask_talisman",
}


def syntax_problem(error: SyntaxError, folder: Path, default: Path) -> str:
    """Say where a syntax error is, from the learner's folder: "bookshelf/main.py, line 3: invalid syntax"."""
    where = Path(error.filename or default)
    shown = where.relative_to(folder).as_posix() if where.is_relative_to(folder) else where
    return f"{shown}, line {error.lineno}: {error.msg}"


def forget_package(folder: Path) -> None:
    """Drop every imported Bookshelf module and its bytecode, so the next import reads the files."""
    for name in list(sys.modules):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            del sys.modules[name]
    # a file rewritten within the same second and at the same size can look unchanged to a .pyc
    for cache in (folder / PACKAGE).rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    importlib.invalidate_caches()


def learner_location(error: BaseException, folder: Path) -> str:
    """Name the deepest place in the learner's files that an exception passed through."""
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename)
        if path.is_absolute() and path.is_relative_to(folder):
            where = f"{path.relative_to(folder).as_posix()}, line {frame.lineno}"
    return where


def is_blank_exercise(error: BaseException, where: str) -> bool:
    """Tell the blank exercise's bare `raise NotImplementedError()` in a learner's file from any other error."""
    # one with a message (`NotImplementedError("abstract")`) is the learner's own
    return isinstance(error, NotImplementedError) and not error.args and bool(where)


def explain(error: BaseException, folder: Path) -> str:
    """Say in one line what an exception from the learner's code was, and where it was raised."""
    where = learner_location(error, folder)
    if is_blank_exercise(error, where):
        return f"{where} still raises NotImplementedError: this exercise is not written yet."
    try:
        message = f"{type(error).__name__}: {error}".strip().rstrip(":")
    except Exception:
        message = type(error).__name__
    return message + (f" (in {where})" if where else "")


class MigrateErrors(logging.Filter):
    """Keep the exception behind Flask-Migrate's "Error: ..." log line, which it turns into exit status 1."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder
        self.last: BaseException | None = None

    def clear(self) -> None:
        self.last = None

    def filter(self, record: logging.LogRecord) -> bool:
        error = sys.exc_info()[1]
        if error is not None and str(record.msg).startswith("Error: "):
            self.last = error
            # "Error: " alone is all a blank migration prints: name the file and line instead
            record.msg, record.args = f"Error: {explain(error, self.folder)}", ()
        return True


def package_signature(folder: Path) -> tuple:
    """Return what identifies the package's files as they are now: each file's path, size and modification time."""
    found = []
    for path in sorted((folder / PACKAGE).rglob("*.py")):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


# the package a check imported last, by folder: its tests create many apps from files that do not change
_imported: dict[Path, tuple[tuple, object, object]] = {}


def load_create_app(folder: Path, reuse: bool = False):
    """Import bookshelf from the folder afresh and return its create_app, or say what to fix.

    With reuse, a package this process imported from the same, unchanged files is used again (as Flask's own test
    suites do: one import, an app per test); a notebook's fresh_app() always reads the files anew."""
    folder = Path(folder).resolve()
    init = folder / PACKAGE / "__init__.py"
    if not init.exists():
        raise LearnerError(
            f"There is no {PACKAGE}/__init__.py in {folder}. Run the chapter's first code cell "
            "(start_chapter) and the %%writefile cells above this one, then try again."
        )
    signature = package_signature(folder) if reuse else ()
    if reuse and folder in _imported:
        seen, package, create_app = _imported[folder]
        if seen == signature and sys.modules.get(PACKAGE) is package:
            return create_app
    forget_package(folder)
    if sys.path[:1] != [str(folder)]:
        sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
    except SyntaxError as error:
        raise LearnerError(
            f"{syntax_problem(error, folder, init)}. "
            "Fix the %%writefile cell that writes this file, run it, then run this cell again."
        ) from None
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith(PACKAGE):
            raise LearnerError(
                f"Bookshelf imports {error.name}, which has not been written yet. "
                "Run the %%writefile cells above (or start_chapter at the top of the notebook), then try again."
            ) from None
        top = (error.name or "").split(".")[0]
        where = learner_location(error, folder)
        if top in WORKBOOK_DEPENDENCIES:
            raise InstallError(f"Bookshelf imports {error.name}, which this Python does not have.") from None
        raise LearnerError(
            f"Bookshelf imports {error.name}, which is not installed"
            + (f" ({where})" if where else "") + ": check the name, or use a package this chapter introduces."
        ) from None
    if package.__file__ is None or not Path(package.__file__).resolve().is_relative_to(folder):
        raise LearnerError(f"`import {PACKAGE}` found {package.__file__}, not the package in {folder}.")
    create_app = getattr(package, "create_app", None)
    if not callable(create_app):
        raise LearnerError(
            f"{PACKAGE}/__init__.py has no create_app() function. "
            "Write the application factory there (the %%writefile cell of chapter 01), then try again."
        )
    if reuse:
        _imported[folder] = (signature, package, create_app)
    return create_app


def fresh_app(test_config: dict | None = None):
    """Return create_app(test config) from the current files, with TESTING on."""
    create_app = load_create_app(Path.cwd())
    return create_app({**TEST_CONFIG, **(test_config or {})})
