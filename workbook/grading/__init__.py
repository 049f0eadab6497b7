"""Grade a class: each exercise's answer from each submitted notebook, checked in a guarded process of its own.

The submitted notebooks are never run. Each exercise's answer is the text of its solution cell (found by nbgrader's
grade_id), written into a folder built from the chapter's given cells, the blank versions of every other exercise and
the student's own answers to the exercises it builds on (NEEDS, beside the checks). Its public checks, then its
hidden tests, run in warm worker processes that import a verified copy of the helper library and fork one guarded
process per run (workbook.guard): its own temporary folder, time and memory limits, and no way to read another
submission, the grader's files or the answers. An answer that is a test suite (chapter 10's last exercise) is run by
the grader's SuiteService (workbook.suite_service), which its check asks, under the same guard.

The parts: plan (the course and each exercise's folder), lms and submissions (reading what students handed in),
screen (an answer's text before it runs), workers (running), judge (verdicts and points), report and feedback
(what the instructor and each student read), progress (what the console shows), run (the whole class).
"""

from .judge import STATUSES, Result
from .report import ClassReport, safe_name, write_report
from .run import Options, grade_class
from .screen import screen
from .workers import tree_digest

__all__ = ["STATUSES", "ClassReport", "Options", "Result", "grade_class", "safe_name", "screen", "tree_digest",
           "write_report"]
