"""What a check run found, in one shape shared by the process that runs it and the one that reports it."""

from dataclasses import asdict, dataclass, field, fields

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
        """Return the run as plain data, ready for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CheckRun":
        """Rebuild a run from to_dict()'s data, ignoring keys this version does not know, at every level."""
        values = known(cls, data)
        values["tests"] = [
            TestResult(**{**known(TestResult, test), "problem": problem(test.get("problem"))})
            for test in data.get("tests", [])
        ]
        values["interruption"] = problem(data.get("interruption"))
        return cls(**values)


def known(kind, data: dict) -> dict:
    """Keep only the keys that are fields of the dataclass `kind`."""
    names = {f.name for f in fields(kind)}
    return {key: value for key, value in data.items() if key in names}


def problem(data: dict | None) -> Problem | None:
    return Problem(**known(Problem, data)) if data else None
