"""Run students' test suites for the grader, outside the guarded process of the check that asks for them.

A graded check may not start a process, and chapter 10's last check runs the student's suite in processes of its own.
So the grader runs this service on 127.0.0.1: the check sends its job's token and the names of the Bookshelves to run
on; the service reads the suite from that job's folder and the changes from the grader's verified copy of the tests,
never from the request, and runs each in a guarded child of a warm worker of its own. A run that the guard stopped is
remembered against the job, which is then flagged whatever the check concluded.
"""

import json
import secrets
import socketserver
import threading
from pathlib import Path

from .suite import Changes, SuiteRunner, suite_files

REQUEST_LIMIT = 64 << 10


class SuiteService:
    """A local server that runs registered jobs' suites on the Bookshelves the workbook's tests name."""

    def __init__(self, runs: dict[str, Changes], runner: SuiteRunner):
        self.runs, self.runner = runs, runner
        self.jobs: dict[str, tuple[Path, str]] = {}  # token: the job's folder and chapter
        self.flags: dict[str, str] = {}
        self.lock = threading.Lock()
        service = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30  # a client that sends nothing is dropped

            def handle(self):
                line = self.rfile.readline(REQUEST_LIMIT + 1)
                self.wfile.write(json.dumps(service.answer(line)).encode() + b"\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def register(self, folder: Path, number: str) -> str:
        """Return a new token under which a check may ask for the suite in folder to be run."""
        token = secrets.token_hex(16)
        with self.lock:
            self.jobs[token] = (folder, number)
        return token

    def flagged(self, token: str) -> str:
        with self.lock:
            return self.flags.get(token, "")

    def answer(self, line: bytes) -> dict:
        """Run what one request asks for; any request that is not a registered job's gets an error, never a run."""
        try:
            request = json.loads(line) if len(line) <= REQUEST_LIMIT else None
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("runs"), list):
            return {"error": "the request is not a suite request"}
        with self.lock:
            job = self.jobs.get(request.get("token")) if isinstance(request.get("token"), str) else None
        if job is None:
            return {"error": "no job of this grading run has that token"}
        names = request["runs"]
        unknown = [name for name in names if not isinstance(name, str) or name not in self.runs]
        if unknown or not names:
            return {"error": f"the workbook's tests name no Bookshelf {unknown[:1] or names}"}
        folder, number = job
        runs = self.runner.run_all(suite_files(folder), [self.runs[name] for name in names], number)
        reason = next((run.flagged for run in runs if run.flagged), "")
        if reason:
            with self.lock:
                self.flags.setdefault(request["token"], reason)
        return {"runs": [run.to_dict() for run in runs]}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.runner.close()
