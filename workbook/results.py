"""What a check run found, in one shape shared by the process that runs it and the one that reports it."""

import types
import typing
from dataclasses import dataclass, field, fields

# how a failure came about, so the verdict can say who acts
FAILED = "failed"          # the learner's code ran and did the wrong thing
NOT_STARTED = "not started"  # the exercise still raises NotImplementedError in the learner's file
SETUP = "setup"            # the app or a fixture could not be built: nothing was checked
INTERRUPTED = "interrupted"  # the learner's code stopped pytest (KeyboardInterrupt, pytest.exit, sys.exit)


@dataclass
class Problem:
    """One exception, reduced to what a learner can act on."""

    kind: str
    message: str
    # "bookshelf/main.py, line 12": the deepest place in the learner's files it passed through
    where: str = ""


@dataclass
class TestResult:
    """One behaviour an exercise checks: a test function, with its parametrized cases merged."""

    __test__ = False  # a result, not a pytest test class

    name: str
    doc: str
    # "passed", "failed" or "skipped"; passed only when every case ran setup, call and teardown to a pass
    outcome: str = "passed"
    cases: int = 0
    failed_case: str = ""
    problem: Problem | None = None

    @property
    def summary(self) -> str:
        """Return the first line of the docstring: the behaviour, as the learner reads it."""
        return self.doc.partition("\n")[0].strip()

    @property
    def hint(self) -> str:
        """Return the docstring after its first line: a nudge shown with the first failure."""
        return " ".join(line.strip() for line in self.doc.partition("\n")[2].splitlines() if line.strip())


@dataclass
class CheckRun:
    """Everything one run of an exercise's tests reported."""

    exercise: str
    tests: list[TestResult] = field(default_factory=list)
    # pytest's exit status; None when the process ended before pytest returned
    exit_code: int | None = None
    # how many tests pytest selected, and how many of them completed all three phases
    selected: int = 0
    completed: int = 0
    # errors while collecting the check file: the workbook's fault
    collection_errors: list[str] = field(default_factory=list)
    # the learner's code stopped the run (KeyboardInterrupt, pytest.exit, an error pytest could not describe)
    interruption: Problem | None = None
    # the check process ended without reporting, or was stopped at the time limit
    crash: str = ""
    timed_out: bool = False
    # grading only: what the guard saw the submission do to the grader (workbook.guard), which voids the run
    flagged: str = ""
    # warnings raised in the learner's files, shown as notes
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return True only for a run that pytest finished cleanly with every selected test passing."""
        return (
            self.exit_code == 0 and not self.crash and not self.timed_out and not self.flagged and self.interruption is None
            and not self.collection_errors and self.selected > 0 and self.completed == self.selected
            and len(self.tests) > 0 and all(test.outcome == "passed" for test in self.tests)
        )

    def to_dict(self) -> dict:
        """Return the run as plain data, ready for JSON (see plain())."""
        return plain(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CheckRun":
        """Rebuild a run from to_dict()'s data, ignoring keys this version does not know; ValueError if malformed."""
        return typed(cls, data)


# our own result classes: plain() turns them into dicts by their fields
RESULT_CLASSES: set[type] = {Problem, TestResult, CheckRun}


def plain(value, depth: int = 0):
    """Return a value as JSON-ready plain data, without running a line of any object's own code.

    A run's results may hold objects a student's code made (a `str` subclass as an exception message). Only exact
    types are trusted, and a subclass is read through its base type's own method, so no `__str__`, `__deepcopy__`
    or `__iter__` of the student's runs in the process that reports, in the worker or in the grader."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool) or depth > 20:
        return value if depth <= 20 else None
    if kind in RESULT_CLASSES:
        return {f.name: plain(object.__getattribute__(value, f.name), depth + 1) for f in fields(kind)}
    if issubclass(kind, str):
        return str.__getitem__(value, slice(None))
    if issubclass(kind, int):
        return int.__add__(value, 0)
    if issubclass(kind, float):
        return float.__add__(value, 0.0)
    if issubclass(kind, (list, tuple)):
        return [plain(item, depth + 1) for item in (list.__iter__(value) if issubclass(kind, list) else tuple.__iter__(value))]
    if issubclass(kind, dict):
        return {plain(key, depth + 1): plain(item, depth + 1) for key, item in dict.items(value)}
    return "<an object that is not plain data>"


def matches(value, annotation) -> bool:
    """Tell whether plain data has the type a field declares (str, int, bool, X | None, list[X], a result class)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, option) for option in typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return type(value) is list and all(matches(element, item) for element in value)
    if origin is dict:
        return type(value) is dict
    if annotation is type(None):
        return value is None
    if annotation in RESULT_CLASSES:
        return type(value) is dict
    if annotation is float:
        return type(value) in (int, float)
    return type(value) is annotation


def typed(kind, data):
    """Rebuild a result class from plain data, checking every field's type; unknown keys are ignored."""
    if type(data) is not dict:
        raise ValueError(f"expected an object for {kind.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(kind)
    values = {}
    for item in fields(kind):
        if item.name not in data:
            continue
        value, annotation = data[item.name], hints[item.name]
        if not matches(value, annotation):
            raise ValueError(f"{kind.__name__}.{item.name} has the wrong type")
        inner = [a for a in (annotation, *typing.get_args(annotation)) if a in RESULT_CLASSES]
        listed = [a for a in typing.get_args(annotation) if typing.get_origin(annotation) is list and a in RESULT_CLASSES]
        if listed:
            value = [typed(listed[0], element) for element in value]
        elif inner and value is not None:
            value = typed(inner[0], value)
        values[item.name] = value
    return kind(**values)
