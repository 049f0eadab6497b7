"""Grade a class: read the submissions, plan one run per distinct answer, run them, judge, and write the report."""

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import chapters
from ..errors import LearnerError
from . import lms
from .judge import Result, hidden_tests, judge_hidden, judge_public, score
from .plan import Course, Declarations, answer_cells, course_from_manifest, course_from_range, given_away_left_out
from .progress import Progress
from .report import ClassReport, StudentRecord, write_report
from .screen import screen
from .submissions import Found, answer_texts, find_notebooks, parse_notebook
from .workers import Grader, Job, tree_digest


@dataclass
class Options:
    """Everything `python -m workbook grade` was told."""

    submissions: Path
    out: Path
    jobs: int | None = None
    timeout: float = 60.0
    course: Path | None = None
    chapters: str | None = None
    count_released: bool = False
    layout: str = "auto"
    roster: Path | None = None
    match: str | None = None
    export: str = ""
    assignment: str = ""
    export_chapters: bool = False
    deadline: datetime | None = None
    zip_times: bool = False
    partial: bool = False
    only: list[str] = field(default_factory=list)
    shard: tuple[int, int] | None = None
    sandbox: bool = True


@dataclass
class Student:
    """One student as graded here: their sources, and what was read from them."""

    submission: lms.Submission
    record: StudentRecord
    texts: dict[str, dict[int, str]] = field(default_factory=dict)
    waiting: int = 0  # runs still to finish before this student's grade is known


def in_shard(student: str, shard: tuple[int, int] | None) -> bool:
    """Tell whether a student belongs to shard K of N: by a digest of the id, so a shard never depends on the others."""
    if shard is None:
        return True
    number, count = shard
    return int(hashlib.sha256(student.encode("utf-8", "replace")).hexdigest(), 16) % count == number - 1


def grade_class(options: Options) -> int:
    """Grade every submission; write the report into OUT; return the exit status."""
    progress = Progress()
    progress.say(f"grading the submissions in {options.submissions} ...")
    out, submissions = options.out, options.submissions
    if out.resolve().is_relative_to(submissions.resolve()):
        raise LearnerError(f"The output folder {out} is inside the submissions: choose a folder outside it.")
    earlier = ClassReport.load(out) if options.only else None
    warning = sandbox_warning(options, progress)
    found, lines = lms.read_submissions(submissions, options.layout)
    for line in lines:
        progress.say(line)
    roster = lms.read_roster(options.roster) if options.roster else None
    students = match_roster(found, roster, options, progress)
    students = [s for s in students if in_shard(s.record.student, options.shard)]
    if options.shard:
        progress.say(f"shard {options.shard[0]} of {options.shard[1]}: {len(students)} students")
    if options.only:
        unknown = sorted(set(options.only) - {s.record.student for s in students})
        if unknown:
            raise LearnerError(f"No submission or roster row is named {', '.join(map(repr, unknown))}.")
        students = [s for s in students if s.record.student in options.only]
    notebooks = {id(s): read_student(s, progress) for s in students}
    course = choose_course(options, notebooks.values(), earlier, progress)
    declarations = Declarations.read()
    settings = {"chapters": list(course.chapters), "exercises": [e.id for e in course.exercises()],
                "left_out": course.left_out, "partial": options.partial,
                "points": {e.id: declarations.points[e.id] for e in course.exercises()},
                "export_chapters": options.export_chapters}
    if earlier is not None and {k: earlier.settings.get(k) for k in settings} != settings:
        raise LearnerError("The report in OUT was graded with other chapters or options: regrade everyone, "
                           "or pass the same --course/--chapters and --partial as then.")
    for student in students:
        answers_of(student, notebooks[id(student)], course, declarations)
        late_of(student, options, roster, notebooks[id(student)])
    started = time.monotonic()
    grader = Grader(submissions, out, options.jobs or default_jobs(), options.timeout, sandbox=options.sandbox)
    if warning:
        grader.log.insert(0, warning)
    try:
        runs = run_class(grader, students, course, declarations, options.partial, progress)
    finally:
        grader.close()
        progress.close()
    changed = tree_digest(chapters.ROOT / "workbook", chapters.CHECKS, chapters.HIDDEN) != grader.originals
    records = [s.record for s in students]
    if earlier is not None:
        regraded = {r.student for r in records}
        records = sorted([*records, *(r for r in earlier.students if r.student not in regraded)], key=lambda r: r.student)
    report = ClassReport(settings, records, roster_data(roster, students_column(roster, found, options)))
    for line in write_report(out, report, grader.log, options.export, options.assignment):
        progress.say(line)
    summarise(progress, records, students, runs, time.monotonic() - started, out)
    if changed:
        progress.say("WARNING: the workbook's own files changed while grading: compare them with git.")
        return 1
    return 0


def sandbox_warning(options: Options, progress: Progress) -> str:
    """Refuse to grade where the sandbox cannot start; with --no-sandbox, say what that costs. Return the warning."""
    from .. import sandbox

    if not options.sandbox:
        warning = ("WARNING: graded with --no-sandbox: a hostile student's code can read the hidden tests and other "
                   "submissions, and forge grades, in this mode. Grade in the sandbox for a grade that counts.")
        progress.say(warning)
        return warning
    why = sandbox.why_unavailable()
    if why:
        raise LearnerError(f"The grading sandbox cannot start here: {why}. {sandbox.ADVICE}")
    return ""


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def students_column(roster, found: list[lms.Submission], options: Options) -> str:
    """Return the roster column that submissions are matched on: --match, or the LMS's default."""
    if roster is None:
        return ""
    return options.match or lms.default_match(roster, found[0].layout if found else "folders")


def roster_data(roster: "lms.Roster | None", column: str) -> dict | None:
    """Return the roster as plain values for results.json, with the column students were matched on."""
    if roster is None:
        return None
    return {"kind": roster.kind, "columns": list(roster.columns), "rows": roster.rows, "match": column}


def roster_name(roster: "lms.Roster", row: dict[str, str]) -> str:
    """Return a roster row's student name: Canvas's Student, Moodle's Full name, or first and last name."""
    for column in ("Student", "Full name", "Name"):
        if row.get(column):
            return row[column].strip()
    return " ".join(row.get(c, "").strip() for c in ("First name", "Last name") if row.get(c)).strip()


def match_roster(found: list[lms.Submission], roster, options: Options, progress: Progress) -> list[Student]:
    """Pair submissions with roster rows; a roster row with no submission becomes a student with nothing handed in."""
    students = {s.student: Student(s, StudentRecord(s.student, name=s.name)) for s in found}
    if roster is None:
        return sorted(students.values(), key=lambda s: s.record.student)
    column = students_column(roster, found, options)
    matched, unmatched, absent = lms.match(found, roster, column)
    progress.say(f"roster {options.roster.name}: {len(matched)} submissions matched by {column!r}, "
                 f"{len(absent)} students handed in nothing, {len(unmatched)} submissions match nobody")
    rows = {id(row): index for index, row in enumerate(roster.rows)}
    for student_id, row in matched.items():
        students[student_id].record.roster_row = rows.get(id(row))
        students[student_id].record.name = students[student_id].record.name or roster_name(roster, row)
    for line in unmatched:
        progress.say(f"  not on the roster: {line} (graded, but in no export)")
    for row in absent:
        key = lms.roster_key(roster, row, column)
        if key in students:
            continue
        record = StudentRecord(key, name=roster_name(roster, row), roster_row=rows.get(id(row)),
                               notes=["No submission was found for you: every exercise counts 0 points."])
        students[key] = Student(lms.Submission(key, []), record)
    return sorted(students.values(), key=lambda s: s.record.student)


def read_student(student: Student, progress: Progress):
    """Find a student's chapter notebooks; anything that goes wrong is that student's error, never the class's."""
    try:
        found = find_notebooks(student.submission.sources)
    except Exception as error:  # noqa: BLE001 - a hostile or damaged submission must not stop the class
        found = Found(problems=[f"the submission could not be read ({type(error).__name__})"])
    if found.names:
        student.record.notes.append(f"Notebooks graded: {', '.join(found.names[n] for n in sorted(found.names))}.")
    student.record.notes += found.notes + [f"Your submission: {problem}." for problem in found.problems]
    if student.submission.sources and not found.notebooks:
        where = ", ".join(given for given, _ in student.submission.sources)
        student.record.notes.append(f"No chapter notebook (NN_name.ipynb) was found in {where}: hand in the zip that "
                                    "`python -m workbook handin` writes.")
        progress.say(f"WARNING: {student.record.student}: no chapter notebook found in {where}")
    return found


def choose_course(options: Options, found, earlier: ClassReport | None, progress: Progress) -> Course:
    """Return the chapters to grade: the course file's, --chapters', an earlier report's, or those handed in."""
    if options.course:
        course = course_from_manifest(options.course, options.count_released)
    elif options.chapters:
        course = course_from_range(options.chapters, options.count_released)
    elif earlier is not None:
        course = Course(tuple(earlier.settings["chapters"]), dict(earlier.settings["left_out"]), "the earlier report")
    else:
        present = tuple(sorted({number for f in found for number in f.notebooks}))
        if not present:
            present = tuple(c.number for c in chapters.all_chapters())
        course = given_away_left_out(present, options.count_released, "the chapters found in the submissions")
        progress.say(f"no --course or --chapters: grading the chapters found in the submissions ({', '.join(present)}); "
                     "pass the bundle's .course.json to grade exactly what was handed out")
    progress.say(f"chapters {', '.join(course.chapters)} (from {course.source}), {len(course.exercises())} exercises")
    if course.left_out:
        progress.say(f"left out of the totals: {', '.join(f'{e} ({why})' for e, why in course.left_out.items())}; "
                     "--count-released counts them")
    elif options.count_released:
        progress.say("exercises whose answers were handed out are counted (--count-released)")
    return course


def answers_of(student: Student, found, course: Course, declarations: Declarations) -> None:
    """Read a student's answer texts by exercise; record a Result for every exercise, with why where there is none."""
    record = student.record
    for chapter in chapters.all_chapters():
        if chapter.number not in course.chapters:
            continue
        data = found.notebooks.get(chapter.number)
        cells, why = parse_notebook(data) if data is not None else ([], "")
        for exercise in chapter.exercises:
            if exercise.id in course.left_out:
                continue
            result = Result(record.student, exercise.id, declarations.points[exercise.id])
            record.results.append(result)
            if data is None and found.problems:
                # a damaged or encrypted zip, a folder that cannot be read: an error, with the reason
                result.status = "error"
                result.lines = [f"No notebook for chapter {chapter.number} could be read: {'; '.join(found.problems)}."]
                continue
            if data is None:
                result.lines = [f"No notebook for chapter {chapter.number} ({chapter.filename}) was handed in."]
                continue
            if why:
                result.status = "error"
                result.lines = [f"{found.names[chapter.number]} cannot be graded: {why}."]
                continue
            texts, status, message = answer_texts(cells, exercise)
            if status:
                result.status, result.lines = status, [message]
                continue
            reason = next(filter(None, (screen(t, exercise.id in declarations.suites) for t in texts.values())), "")
            if reason:
                result.status, result.lines = "flagged", [f"Exercise {exercise.id}: your answer {reason}."]
                continue
            student.texts[exercise.id] = texts


def late_of(student: Student, options: Options, roster, found) -> None:
    """Mark a late submission, from an LMS record (or, when asked, the zip's file times)."""
    record = student.record
    if student.submission.late:
        record.late = "Handed in late: the LMS marked this submission late."
    if options.deadline is None:
        return
    when = None
    if roster is not None and record.roster_row is not None:
        when = lms.submission_times(roster, options.deadline.tzinfo).get(lms.roster_key(roster, roster.rows[record.roster_row]))
        label = "by the LMS's submission time"
    if when is None and options.zip_times and found.newest is not None:
        when, label = found.newest.replace(tzinfo=options.deadline.tzinfo), "by the newest file time in the zip, " \
                                                                               "which the student's computer sets"
    if when is not None and when > options.deadline:
        hours = (when - options.deadline).total_seconds() / 3600
        record.hours_late = round(hours, 2)
        record.late = f"Handed in {late_by(hours)} after the deadline ({label})."
    elif when is not None and not student.submission.late:
        record.hours_late = 0.0


def late_by(hours: float) -> str:
    minutes = round(hours * 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes / 1440:.1f} days"


def run_class(grader: Grader, students: list[Student], course: Course, declarations: Declarations, partial: bool,
              progress: Progress) -> int:
    """Run each distinct answer's public checks, then its hidden tests; judge every student; return the runs made."""
    exercises = course.exercises()
    cells_for = {e.id: answer_cells(e, declarations.needs) for e in exercises}
    expected = {e.id: hidden_tests(chapters.chapter(e.chapter).hidden_file()).get(e.id, {}) for e in exercises}
    # equal answers get equal runs: the folder, the tests and so the verdict are the same (many students hand in
    # the same untouched cells), so each distinct answer is run once and its verdict given to all who wrote it
    plan: dict[tuple, tuple[list[tuple[Student, Result]], dict[int, str], int]] = {}
    for order, student in enumerate(students):
        results = {r.exercise: r for r in student.record.results}
        for exercise_id, own in student.texts.items():
            texts = dict(own)
            for need in declarations.needs.get(exercise_id, []):
                texts.update(student.texts.get(need, {}))
            texts = {i: t for i, t in texts.items() if i in cells_for[exercise_id]}
            key = (exercise_id, tuple(sorted(texts.items())))
            if key not in plan:
                plan[key] = ([], texts, order)
            plan[key][0].append((student, results[exercise_id]))
            student.waiting += 1
    wanted = {key[0] for key in plan}
    progress.say(f"{len(students)} students, {len(plan)} distinct answers to run; starting "
                 f"{grader.jobs} workers")
    grader.prepare([e for e in exercises if e.id in wanted], declarations.suites)
    owners: dict[int, list[tuple[Student, Result]]] = {}
    jobs = []
    for (exercise_id, _), (sharing, texts, order) in plan.items():
        exercise = chapters.exercise(exercise_id)
        job = grader.job(sharing[0][0].record.student, exercise, grader.job_folder(exercise, texts), declarations.suites)
        job.priority = order
        owners[id(job)] = sharing
        jobs.append(job)
    # one slot for each answer's public checks and one for its hidden tests, counted up front: the bar never goes back
    progress.start(2 * len(jobs))
    for student in students:
        if not student.waiting:
            finish(student, declarations, partial, expected, progress)

    def finished(job: Job) -> list[Job]:
        sharing = owners[id(job)]
        if not job.hidden:
            for _, result in sharing:
                judge_public(result, job.run)
            runs_hidden = sharing[0][1].status == "passed" or (partial and sharing[0][1].status == "failed")
            if runs_hidden and expected[job.exercise.id]:
                hidden = grader.job(job.student, job.exercise, job.folder, declarations.suites, hidden=True)
                hidden.priority = job.priority
                owners[id(hidden)] = sharing
                progress.step()
                return [hidden]
            progress.step(2)
        else:
            for _, result in sharing:
                judge_hidden(result, job.run, expected[job.exercise.id], grader.log, partial)
            progress.step()
        shutil.rmtree(job.folder, ignore_errors=True)
        for student, _ in sharing:
            student.waiting -= 1
            if not student.waiting:
                finish(student, declarations, partial, expected, progress)
        return []

    grader.run_all(jobs, finished)
    return grader.runs_made


def finish(student: Student, declarations: Declarations, partial: bool, expected, progress: Progress) -> None:
    """Score a student whose runs are all done, and say so in one line."""
    results = {r.exercise: r for r in student.record.results}
    for result in student.record.results:
        building_on = [n for n in declarations.needs.get(result.exercise, [])
                       if n in results and results[n].status != "passed"]
        if result.status in ("failed", "error") and building_on:
            result.notes.append(f"Exercise {result.exercise} builds on {', '.join(building_on)}, which "
                                f"{'does' if len(building_on) == 1 else 'do'} not pass: fix "
                                f"{'it' if len(building_on) == 1 else 'them'} first.")
        score(result, partial, bool(expected.get(result.exercise)))
    record = student.record
    flags = sum(r.status == "flagged" for r in record.results)
    progress.say(f"  {record.student}: {record.points():g} of {record.max_points():g} points"
                 f"{f', {flags} flagged' if flags else ''} ({progress.elapsed():.0f} s)")


def summarise(progress: Progress, records: list[StudentRecord], students: list[Student], runs: int, seconds: float,
              out: Path) -> None:
    statuses = [r.status for s in records for r in s.results]
    progress.say(f"graded {len(students)} students ({len(records)} in the report) with {runs} test runs in "
                 f"{seconds:.1f} s: {statuses.count('flagged')} flagged, {statuses.count('error')} errors, "
                 f"{sum(not s.results or all(r.status == 'missing' for r in s.results) for s in records)} "
                 f"with nothing graded; report in {out}/ (totals.csv, grades.csv, feedback/)")
