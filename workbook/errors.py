"""Errors the learner can act on, shown as one short message instead of a traceback."""


class WorkbookError(Exception):
    """Report a problem the learner can fix, in plain words and without a traceback."""

    heading = "Workbook"

    def _render_traceback_(self):
        # IPython calls this instead of printing a traceback: the message is the whole story.
        return [f"{self.heading}: {self}"]


class LearnerError(WorkbookError):
    """Report something in the learner's folder or files that stops the workbook."""

    heading = "Something to fix"


class CheckFailed(WorkbookError):
    """Report that an exercise's check did not pass."""

    heading = "Not solved yet"
