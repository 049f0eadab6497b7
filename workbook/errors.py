"""The workbook's errors, one per party who must act: the learner, the installation, or the workbook itself."""


class WorkbookError(Exception):
    """Show one short message in a notebook instead of a traceback."""

    heading = "Workbook"

    def _render_traceback_(self):
        # IPython calls this instead of printing a traceback: the message is the whole story
        return [f"{self.heading}: {self}"]


class LearnerError(WorkbookError):
    """Report something the learner can change: their files, their folder, how a helper was called."""

    heading = "Something to fix"


class CheckFailed(LearnerError):
    """Report that an exercise's check did not pass."""

    heading = "Not solved yet"


class InstallError(WorkbookError):
    """Report a broken or incomplete installation of the workbook, and how to reinstall it."""

    heading = "Installation problem"

    def __init__(self, message: str):
        super().__init__(
            f"{message} Reinstall the workbook from its folder: `pip install -e .` "
            "(or `make lab`, which does it), then restart the kernel."
        )


class WorkbookBug(WorkbookError):
    """Report a fault in the workbook itself, which the learner cannot fix."""

    heading = "Workbook bug"

    def __init__(self, message: str):
        super().__init__(f"{message} This is the workbook's fault, not yours: please report it, with this message.")
