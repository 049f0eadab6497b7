"""Command line: `generate [--check]`, `changes [--check] [--stats]`, `prose`, `execute [NN ...]`, `grade SUBMISSIONS --out OUT`, `merge`, `bundle OUT.zip`
and `handin`."""

import argparse
import sys
from datetime import datetime
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


def deadline(text: str) -> datetime:
    """Read a deadline with its time zone: 2027-01-15T23:59+01:00."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"expected a date and time with its time zone, like 2027-01-15T23:59+01:00, "
                                         f"got {text!r}")
    return value


def shard(text: str) -> tuple[int, int]:
    """Read K/N: the K-th of N shards, 1 <= K <= N."""
    number, _, total = text.partition("/")
    if not (number.isdigit() and total.isdigit() and 1 <= int(number) <= int(total) <= 1000):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, like 2/4, got {text!r}")
    return int(number), int(total)


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
    changes = commands.add_parser("changes", help="write a diff above every given cell that rewrites a file")
    changes.add_argument("--check", action="store_true", help="write nothing; exit 1 if a diff cell is missing or stale")
    changes.add_argument("--stats", action="store_true", help="write nothing; print the lines read per changed line")
    commands.add_parser("prose", help="print each chapter's words, sentence length, longest cell and given lines")
    execute = commands.add_parser("execute", help="re-run solution notebooks in empty folders and store outputs")
    execute.add_argument("chapters", nargs="*", help="two-digit chapter numbers (default: all)")
    grade = commands.add_parser("grade", help="grade a folder of student submissions (one folder or .zip per student, "
                                "or a Canvas or Moodle download)")
    grade.add_argument("submissions", type=Path, help="a folder with one folder or .zip per student, or an LMS download")
    grade.add_argument("--out", type=Path, required=True, help="where totals.csv, grades.csv and feedback/ are written")
    grade.add_argument("-j", "--jobs", type=count, default=None, help="exercises graded at once (default: the core count)")
    grade.add_argument("--timeout", type=positive, default=60.0, help="seconds one exercise's tests may run (default: 60)")
    handed = grade.add_mutually_exclusive_group()
    handed.add_argument("--course", type=Path, help="the .course.json that `bundle` wrote: grade what was handed out")
    handed.add_argument("--chapters", metavar="NN-MM", help="grade these chapters (e.g. 00-05 or 01,03)")
    grade.add_argument("--count-released", action="store_true",
                       help="count exercises whose answers were handed out (default: left out of the totals)")
    grade.add_argument("--layout", choices=("auto", "folders", "canvas", "moodle"), default="auto",
                       help="how the submissions folder is laid out (default: recognised from the file names)")
    grade.add_argument("--roster", type=Path, help="a CSV of the class: Canvas's gradebook export, Moodle's grading "
                       "worksheet or participants, or any CSV")
    grade.add_argument("--match", metavar="COLUMN", help="the roster column a submission's name is matched against")
    grade.add_argument("--export", choices=("canvas", "moodle"), default="", help="write a gradebook import file (needs --roster)")
    grade.add_argument("--assignment", metavar="NAME", help="the gradebook column of the total (with --export)")
    grade.add_argument("--export-chapters", action="store_true", help="add a column per chapter to the export")
    grade.add_argument("--deadline", type=deadline, help="e.g. 2027-01-15T23:59+01:00: mark late submissions, by the LMS's times")
    grade.add_argument("--zip-times", action="store_true",
                       help="with --deadline and no LMS time: use the newest file time inside the zip (the student's computer sets it)")
    grade.add_argument("--partial", action="store_true",
                       help="partial credit: up to half for the public checks, the rest for the hidden tests")
    grade.add_argument("--only", nargs="+", metavar="ID", default=[], help="regrade these students; the others' rows "
                       "are kept from the report in OUT")
    grade.add_argument("--shard", type=shard, metavar="K/N", help="grade only the K-th of N shards of the class")
    grade.add_argument("--no-sandbox", action="store_true", help="grade without the OS sandbox (where namespaces are "
                       "not allowed): a hostile student can cheat in this mode")
    merge = commands.add_parser("merge", help="join the reports of `grade --shard` runs into one")
    merge.add_argument("reports", type=Path, nargs="+", help="the OUT folders of the shards")
    merge.add_argument("--out", type=Path, required=True, help="where the joined report is written")
    merge.add_argument("--export", choices=("canvas", "moodle"), default="", help="write a gradebook import file")
    merge.add_argument("--assignment", metavar="NAME", help="the gradebook column of the total (with --export)")
    bundle = commands.add_parser("bundle", help="write the zip a student gets: notebooks, helper library, public checks")
    bundle.add_argument("out", type=Path, help="the zip file to write")
    bundle.add_argument("--answers-through", metavar="NN", help="release the answers of chapters up to NN")
    bundle.add_argument("--chapters-through", metavar="NN", help="hand out only chapters up to NN (default: all)")
    bundle.add_argument("--force", action="store_true", help="replace an existing OUT.zip")
    handin = commands.add_parser("handin", help="write handin.zip, the chapter notebooks a student uploads")
    handin.add_argument("--out", type=Path, default=Path("handin.zip"), help="the zip file to write (default: handin.zip)")
    args = parser.parse_args(argv)

    if args.command in ("grade", "merge") and args.export and not args.assignment:
        parser.error("--export needs --assignment NAME: the gradebook column the totals go in")
    if args.command == "grade":
        from .grading import Options, grade_class

        if args.export and not args.roster:
            parser.error("--export needs --roster: the export has one row per student of the roster")
        return grade_class(Options(
            submissions=args.submissions, out=args.out, jobs=args.jobs, timeout=args.timeout, course=args.course,
            chapters=args.chapters, count_released=args.count_released, layout=args.layout, roster=args.roster,
            match=args.match, export=args.export, assignment=args.assignment or "", export_chapters=args.export_chapters,
            deadline=args.deadline, zip_times=args.zip_times, partial=args.partial, only=args.only, shard=args.shard,
            sandbox=not args.no_sandbox))
    if args.command == "merge":
        from .grading.report import merge_reports

        for line in merge_reports(args.reports, args.out, args.export, args.assignment or ""):
            print(line)
        return 0
    if args.command == "bundle":
        from .bundle import write_bundle

        for line in write_bundle(args.out, answers_through=args.answers_through,
                                 chapters_through=args.chapters_through, force=args.force):
            print(line)
        return 0
    if args.command == "handin":
        from .handin import write_handin

        for line in write_handin(args.out):
            print(line)
        return 0

    if args.command == "prose":
        from .prose import measure_all, table

        for line in table(measure_all()):
            print(line)
        return 0
    if args.command == "changes" and (args.check or args.stats):
        from .changes import read_chapters, stale_solutions, stats

        found = read_chapters()
        if args.stats:
            for line in stats(found):
                print(line)
        if not args.check:
            return 0
        stale = stale_solutions(found)
        for path in stale:
            print(f"stale diff cells: {shown(path)}")
        if stale:
            print("Run `python -m workbook changes` and commit the result.")
        return 1 if stale else 0

    from .generate import stale_notebooks, write_notebooks

    if args.command == "generate" and args.check:
        stale = stale_notebooks()
        for path in stale:
            print(f"stale: {shown(path)}")
        if stale:
            print("Run `python -m workbook generate` and commit the result.")
        return 1 if stale else 0
    if args.command == "changes":
        from .changes import write_solutions

        for path in write_solutions():
            print(f"wrote diff cells: {shown(path)}")
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
