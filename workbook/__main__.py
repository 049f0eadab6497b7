"""Command line: `generate [--check]`, `execute [NN ...]`, `grade SUBMISSIONS --out OUT` and `bundle OUT.zip`."""

import argparse
import sys
from pathlib import Path

from . import chapters
from .errors import WorkbookError


def shown(path) -> str:
    """Name a path relative to the workbook when it is inside it."""
    return path.relative_to(chapters.ROOT).as_posix() if path.is_relative_to(chapters.ROOT) else str(path)


def positive(text: str) -> float:
    """Read a positive number from the command line."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 10**6:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return int(value) if value.is_integer() else value


def count(text: str) -> int:
    """Read a whole number of at least 1 from the command line."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 256, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """Run a command; a problem with the files is one sentence on stderr and exit status 1."""
    try:
        return run(argv)
    except WorkbookError as error:
        print(f"{error.heading}: {error}", file=sys.stderr)
        return 1


def run(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write notebooks/ from solutions/")
    generate.add_argument("--check", action="store_true", help="write nothing; exit 1 if notebooks/ is stale")
    execute = commands.add_parser("execute", help="re-run solution notebooks in empty folders and store outputs")
    execute.add_argument("chapters", nargs="*", help="two-digit chapter numbers (default: all)")
    grade = commands.add_parser("grade", help="grade a folder of student submissions (one folder or .zip per student)")
    grade.add_argument("submissions", type=Path, help="a folder with one folder or .zip per student, named by the student's id")
    grade.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ are written")
    grade.add_argument("-j", "--jobs", type=count, default=None, help="exercises graded at once (default: the core count)")
    grade.add_argument("--timeout", type=positive, default=60.0, help="seconds one exercise's tests may run (default: 60)")
    bundle = commands.add_parser("bundle", help="write the zip a student gets: notebooks, helper library, public checks")
    bundle.add_argument("out", type=Path, help="the zip file to write")
    bundle.add_argument("--answers-through", metavar="NN", help="release the answers of chapters up to NN")
    bundle.add_argument("--chapters-through", metavar="NN", help="hand out only chapters up to NN (default: all)")
    bundle.add_argument("--force", action="store_true", help="replace an existing OUT.zip")
    args = parser.parse_args(argv)

    if args.command == "grade":
        from .grading import grade_class

        return grade_class(args.submissions, args.out, jobs=args.jobs, timeout=args.timeout)
    if args.command == "bundle":
        from .bundle import write_bundle

        for line in write_bundle(args.out, answers_through=args.answers_through,
                                 chapters_through=args.chapters_through, force=args.force):
            print(line)
        return 0

    from .generate import stale_notebooks, write_notebooks

    if args.command == "generate" and args.check:
        stale = stale_notebooks()
        for path in stale:
            print(f"stale: {shown(path)}")
        if stale:
            print("Run `python -m workbook generate` and commit the result.")
        return 1 if stale else 0
    if args.command == "execute":
        from .execute import store_outputs

        for path in store_outputs(args.chapters):
            print(f"stored outputs: {shown(path)}")
    generation = write_notebooks()
    if generation.backup:
        names = ", ".join(path.name for path in generation.backed_up)
        print(f"saved the work found in {names} to {shown(generation.backup)}/ before replacing it")
    for path in generation.written:
        print(f"wrote {shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
