"""Command line: `python -m workbook generate [--check]` and `python -m workbook execute [NN ...]`."""

import argparse
import sys

from . import chapters
from .errors import WorkbookError


def shown(path) -> str:
    """Name a path relative to the workbook when it is inside it."""
    return path.relative_to(chapters.ROOT).as_posix() if path.is_relative_to(chapters.ROOT) else str(path)


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
    args = parser.parse_args(argv)

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
