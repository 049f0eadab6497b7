"""The helper library of the Flask Extensions Workbook: start a chapter, check an exercise, see progress."""

from .app import fresh_app
from .pages import show
from .errors import CheckFailed, LearnerError
from .flask_command import flask
from .learner import catch_up, check, fresh_start, progress, start_chapter
from .live import serve, server_log, stop_server
from .mailbox import mail_server
from .sql import count_statements

__all__ = [
    "start_chapter", "fresh_start", "catch_up", "fresh_app", "check", "flask", "progress", "count_statements", "show",
    "serve", "stop_server", "server_log", "mail_server",
    "CheckFailed", "LearnerError",
]
