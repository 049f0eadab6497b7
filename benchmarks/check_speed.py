"""Print how long check() takes: warm worker vs a fresh interpreter, for a small app and the full extension stack."""

import contextlib
import importlib.util
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from workbook import check, reference, runner, start_chapter

EXTENSIONS = {  # module: the line that binds it in the factory
    "flask_sqlalchemy": "SQLAlchemy(app)",
    "flask_migrate": None,
    "flask_login": "LoginManager(app).user_loader(lambda user_id: None)",
    "flask_wtf": "CSRFProtect(app)",
    "flask_mail": "Mail(app)",
    "flask_principal": "Principal(app)",
    "flask_restx": 'Api(app, doc="/api/docs")',
}
STACK = {"flask_sqlalchemy": "SQLAlchemy", "flask_migrate": "Migrate", "flask_login": "LoginManager",
         "flask_wtf": "CSRFProtect", "flask_mail": "Mail", "flask_principal": "Principal", "flask_restx": "Api"}


def solved_chapter01(folder: Path) -> None:
    """Write Bookshelf as it stands at the end of chapter 01."""
    reference.build(folder, "01")


def add_extension_stack(folder: Path) -> list[str]:
    """Make the factory import and bind every installed extension; return their names."""
    present = [name for name in STACK if importlib.util.find_spec(name)]
    lines = [f"from {name} import {STACK[name]}" for name in present]
    lines += ["", "", "def bind_all(app):", '    """Bind every extension to the app."""',
              '    app.config.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite:///:memory:")']
    for name in present:
        call = EXTENSIONS[name]
        if call:
            lines.append(f"    {call}")
    (folder / "bookshelf" / "stack.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    init = folder / "bookshelf" / "__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8").replace(
            "    return app\n", "    from .stack import bind_all\n\n    bind_all(app)\n    return app\n"
        ),
        encoding="utf-8",
    )
    return present


def timed_checks(exercise_id: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            check(exercise_id)
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float]) -> None:
    print(f"{label:<52} median {statistics.median(times) * 1000:7.0f} ms"
          f"   min {min(times) * 1000:5.0f}   max {max(times) * 1000:5.0f}   (n={len(times)})")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, check('01.1'), {runs} runs each\n")
    with tempfile.TemporaryDirectory() as small, tempfile.TemporaryDirectory() as full:
        small, full = Path(small), Path(full)
        for folder in (small, full):
            solved_chapter01(folder)
        present = add_extension_stack(full)
        print(f"full stack app binds: {', '.join(present)}\n")

        os.chdir(small)
        start = time.perf_counter()
        timed_checks("01.1", 1)
        report("first check, worker started cold", [time.perf_counter() - start])
        runner._worker.stop()
        (small / "01_flask.ipynb").write_text("{}", encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()):
            start_chapter("01")  # starts the worker in the background, as a chapter's set-up cell does
        # a learner reads the chapter's first cells before the first check: a few seconds at least
        time.sleep(3)
        report("first check, 3 s after start_chapter()", timed_checks("01.1", 1))
        for label, folder in (("warm worker, chapter 01 app", small), ("warm worker, full extension stack", full)):
            os.chdir(folder)
            report(label, timed_checks("01.1", runs))

        os.environ["WORKBOOK_WARM_WORKER"] = "0"
        for label, folder in (("fresh interpreter, chapter 01 app", small),
                              ("fresh interpreter, full extension stack", full)):
            os.chdir(folder)
            report(label, timed_checks("01.1", max(3, runs // 3)))
        runner._worker.stop()


if __name__ == "__main__":
    main()
