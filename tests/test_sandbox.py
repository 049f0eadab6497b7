"""The grading sandbox (workbook.sandbox): the operating system is the wall, and the audit hook only explains.

A class of hostile submissions, one for each way past the guard that a determined student found, is graded with the
hook on and again with it switched off: each earns nothing, changes no other student's grade, leaves the grader's
files and the machine's /tmp and /dev/shm as they were, and the class's report is written. The same class graded
without the sandbox and without the hook shows that these tests see an escape when there is one.
"""

import csv
import html
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from submissions import blank_text, notebook, solved_text, with_answer, write_student
from workbook import chapters, grading, mailbox, sandbox
from workbook.__main__ import main
from workbook.grading.workers import NO_HOOK_VARIABLE
from workbook.worker import GRADED_FILE_TIME, copy_regular

CHAPTER_01 = chapters.chapter("01").filename
MARK = "sandbox-escape-mark"
LEAK = "hidden-tests-leak"
GRADER_FILES = (chapters.ROOT / "workbook", chapters.CHECKS, chapters.HIDDEN, chapters.SOLUTIONS, chapters.NOTEBOOKS)

# a new Python, started where the audit hook cannot see it: it copies the reference answer into its own folder, and
# marks the workbook, the machine's /tmp and /dev/shm and every other job folder it can find
ESCAPE_SCRIPT = """
import glob, json, os
for target in [{root!r} + "/{mark}", "/tmp/{mark}", "/dev/shm/{mark}"]:
    try:
        open(target, "w").write("escaped")
    except OSError:
        pass
try:
    for cell in json.load(open({solution!r}))["cells"]:
        text = "".join(cell["source"])
        if text.startswith("%%writefile bookshelf/main.py"):
            lines = text.split("\\n")[1:]
            open("bookshelf/main.py", "w").write("\\n".join(l for l in lines if "### " not in l))
except OSError:
    pass
for path in glob.glob("/tmp/workbook-grade-*/jobs/*/bookshelf/main.py"):
    try:
        open(path, "w").write("raise SystemExit(3)\\n")
    except OSError:
        pass
"""

HOSTILE = {
    "starts_python_unseen": (
        "import _posixsubprocess, os, sys\n"
        "SCRIPT = {script!r}\n"
        "try:\n"
        "    _pid = _posixsubprocess.fork_exec([sys.executable, '-c', SCRIPT], [os.fsencode(sys.executable)], True, (),\n"
        "        None, None, -1, -1, -1, -1, -1, -1, *os.pipe(), True, False, -1, None, None, None, -1, None)\n"
        "    os.waitpid(_pid, 0)\n"
        "except OSError:\n"
        "    pass\n"),
    "makes_pipes_everywhere": (
        "import glob, os\n"
        "for _folder in ['.', *glob.glob('/tmp/workbook-grade-*/jobs/*')]:\n"
        "    try:\n"
        "        os.mkfifo(os.path.join(_folder, 'bookshelf-pipe'))\n"
        "    except OSError:\n"
        "        pass\n"),
    "copies_dev_zero": (
        "import os, stat\n"
        "try:\n"
        "    os.mknod('zero', stat.S_IFCHR | 0o666, os.makedev(1, 5))\n"
        "except OSError:\n"
        "    pass\n"),
    "kills_a_process_of_the_grader": (
        "import os, signal\n"
        "try:\n"
        "    signal.pidfd_send_signal(os.pidfd_open({decoy}), signal.SIGKILL)\n"
        "except OSError:\n"
        "    pass\n"
        "try:\n"
        "    os.kill({decoy}, signal.SIGKILL)\n"
        "except OSError:\n"
        "    pass\n"),
    "leaves_the_tests_in_dev_shm": (
        "import glob\n"
        "for _path in glob.glob('../tests/*.py'):\n"
        "    try:\n"
        "        open('/dev/shm/{leak}', 'a').write(open(_path).read())\n"
        "    except OSError:\n"
        "        pass\n"),
    "looks_up_a_name": "import socket\nsocket.getaddrinfo('data-out.example.com', 80)\n",
    "opens_many_connections": (
        "import os, socket\n"
        "_port = int(os.environ.get({port_variable!r}, '0') or 0)\n"
        "_greeted = 0\n"
        "if _port:\n"
        "    _socks = []\n"
        "    for _ in range(200):\n"
        "        try:\n"
        "            _socks.append(socket.create_connection(('127.0.0.1', _port), timeout=2))\n"
        "        except OSError:\n"
        "            break\n"
        "    for _sock in _socks:\n"
        "        try:\n"
        "            _greeted += _sock.recv(3) == b'220'\n"
        "        except OSError:\n"
        "            pass\n"
        "raise RuntimeError(f'greeted {{_greeted}} times')\n"),
    "runs_code_after_the_guard": (
        "import signal\n"
        "class Sly(str):\n"
        "    def _forge(self, *args):\n"
        "        try:\n"
        "            open('../answer.json', 'w').write('{{\"exercise\": \"01.1\", \"exit_code\": 0}}')\n"
        "        except OSError:\n"
        "            pass\n"
        "        return self\n"
        "    __deepcopy__ = __copy__ = __str__ = __repr__ = __format__ = _forge\n"
        "signal.signal(signal.SIGALRM, lambda *a: Sly('x')._forge())\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.5, 0.01)\n"
        "raise RuntimeError(Sly('a message that runs code'))\n"),
}
# after the escape: a student whose run reads what an earlier run may have left in /dev/shm
READS_DEV_SHM = "import os\nif os.path.exists('/dev/shm/{leak}'):\n    raise RuntimeError(open('/dev/shm/{leak}').read()[:2000])\n"


def grades(out: Path) -> dict[tuple[str, str], dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as stream:
        return {(row["student"], row["exercise"]): row for row in csv.DictReader(stream)}


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.split("</style>")[-1])).split())


def machine_state() -> dict:
    """What a run must leave as it was: the grader's files, and escape marks in the machine's shared folders."""
    return {"files": grading.tree_digest(*GRADER_FILES),
            "marks": sorted(str(p) for p in (Path("/tmp"), Path("/dev/shm"), chapters.ROOT) for p in p.glob(f"{MARK}*")),
            "leaks": sorted(str(p) for p in Path("/dev/shm").glob(f"{LEAK}*"))}


def hostile_class(root: Path, decoy: int) -> Path:
    submissions = root / "submissions"
    solved, blank = notebook("01", solved=True), notebook("01", solved=False)
    write_student(submissions, "aaa-honest", {CHAPTER_01: solved})
    write_student(submissions, "zzz-honest", {CHAPTER_01: solved}, as_zip=True)
    script = ESCAPE_SCRIPT.format(root=str(chapters.ROOT), mark=MARK,
                                  solution=str(chapters.SOLUTIONS / CHAPTER_01))
    for name, code in HOSTILE.items():
        prelude = code.format(script=script, decoy=decoy, leak=LEAK, port_variable=mailbox.GRADING_PORT_VARIABLE)
        write_student(submissions, name, {CHAPTER_01: with_answer(blank, "01.1", prelude + blank_text("01.1"))})
    # a zip whose stream is damaged: that student's error, never the class's
    (submissions / "damaged.zip").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    # graded after the others (by name): finds nothing another run left behind
    write_student(submissions, "zz-reads-dev-shm", {CHAPTER_01: with_answer(
        blank, "01.1", READS_DEV_SHM.format(leak=LEAK) + blank_text("01.1"))})
    return submissions


def grade_hostile(tmp_path: Path, *options: str, hook: bool = True) -> dict:
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        submissions = hostile_class(tmp_path, decoy.pid)
        before = machine_state()
        out = tmp_path / "out"
        environment = dict(os.environ)
        if not hook:
            os.environ[NO_HOOK_VARIABLE] = "1"
        try:
            status = main(["grade", str(submissions), "--out", str(out), "-j", "2", "--timeout", "20", *options])
        finally:
            os.environ.clear()
            os.environ.update(environment)
        return {"status": status, "out": out, "before": before, "after": machine_state(),
                "decoy_alive": decoy.poll() is None}
    finally:
        decoy.kill()
        decoy.wait()
        for path in [*Path("/tmp").glob(f"{MARK}*"), *Path("/dev/shm").glob(f"{MARK}*"),
                     *chapters.ROOT.glob(f"{MARK}*"), *Path("/dev/shm").glob(f"{LEAK}*")]:
            path.unlink()


@pytest.fixture(scope="module", params=[True, False], ids=["hook", "sandbox-alone"])
def graded(request, tmp_path_factory):
    if sandbox.why_unavailable():
        pytest.fail(f"the grading sandbox cannot start here: {sandbox.why_unavailable()}")
    return grade_hostile(tmp_path_factory.mktemp("hostile"), hook=request.param)


def test_the_report_is_written_and_the_machine_is_left_as_it_was(graded):
    assert graded["status"] == 0
    assert graded["after"] == graded["before"]
    assert graded["decoy_alive"], "a process of the grader's user was killed from a graded run"


def test_a_damaged_zip_is_that_students_error_and_the_class_goes_on(graded):
    rows = grades(graded["out"])
    assert {rows[("damaged", e.id)]["status"] for e in chapters.chapter("01").exercises} == {"error"}
    page = text_of((graded["out"] / "feedback" / "damaged.html").read_text(encoding="utf-8"))
    assert "could not be read" in page and "No chapter notebook" in page


def test_no_hostile_submission_earns_a_point_and_honest_ones_keep_theirs(graded):
    rows = grades(graded["out"])
    for student in [*HOSTILE, "zz-reads-dev-shm"]:
        assert rows[(student, "01.1")]["points"] == "0", student
    for student in ("aaa-honest", "zzz-honest"):
        assert {rows[(student, e.id)]["status"] for e in chapters.chapter("01").exercises} == {"passed"}, student


def test_nothing_leaks_into_a_later_run(graded):
    page = text_of((graded["out"] / "feedback" / "zz-reads-dev-shm.html").read_text(encoding="utf-8"))
    assert "def test_" not in page


def test_the_sandbox_refuses_what_cheating_needs_without_flagging_a_lookup(graded):
    rows = grades(graded["out"])
    lookup = text_of((graded["out"] / "feedback" / "looks_up_a_name.html").read_text(encoding="utf-8"))
    assert rows[("looks_up_a_name", "01.1")]["status"] == "failed"
    assert "gaierror" in lookup or "name resolution" in lookup, lookup[:2000]


def test_a_run_reaches_the_mail_server_a_few_times_only(graded):
    page = text_of((graded["out"] / "feedback" / "opens_many_connections.html").read_text(encoding="utf-8"))
    found = re.search(r"greeted (\d+) times", page)
    if found:  # with the hook on, the guard may stop the loop first
        assert int(found.group(1)) <= sandbox.CONNECTION_LIMIT


def test_without_the_sandbox_these_tests_see_the_escape(tmp_path):
    """The same class, graded with neither sandbox nor hook, does escape: the expectations above can fail."""
    result = grade_hostile(tmp_path, "--no-sandbox", hook=False)
    assert result["after"]["marks"] != result["before"]["marks"] or result["after"]["leaks"], result
    assert "--no-sandbox" in (result["out"] / "grading-log.txt").read_text(encoding="utf-8").splitlines()[0]


def test_where_the_sandbox_cannot_start_grade_refuses_in_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "why_unavailable", lambda: "the kernel refused to build it (unshare: EPERM)")
    write_student(tmp_path / "submissions", "one", {CHAPTER_01: notebook("01", solved=True)})
    assert main(["grade", str(tmp_path / "submissions"), "--out", str(tmp_path / "out")]) == 1
    message = capsys.readouterr().err
    assert "sandbox cannot start here" in message and "--no-sandbox" in message and "apparmor" in message


def test_a_graded_copy_holds_only_regular_files_with_one_time(tmp_path):
    source = tmp_path / "source"
    (source / "bookshelf").mkdir(parents=True)
    (source / "bookshelf" / "main.py").write_text("x = 1\n")
    os.utime(source / "bookshelf" / "main.py", (1_700_000_000, 1_700_000_000))
    os.mkfifo(source / "pipe")
    (source / "link").symlink_to("/etc/passwd")
    copy_regular(source, tmp_path / "copy")
    found = {p.relative_to(tmp_path / "copy").as_posix(): p for p in (tmp_path / "copy").rglob("*")}
    assert set(found) == {"bookshelf", "bookshelf/main.py"}
    assert all(stat.S_ISREG(p.lstat().st_mode) or p.is_dir() for p in found.values())
    assert {p.stat().st_mtime for p in found.values()} == {GRADED_FILE_TIME}


def test_honest_answers_that_call_ambiguous_apis_are_not_flagged(tmp_path):
    """A logging handler to syslog's /dev/log and a DNS lookup are refused by the sandbox, never flagged as cheating."""
    ten = notebook("10", solved=True)
    # production logs also go to the machine's syslog, where there is one
    logging_answer = solved_text("10.2").replace(
        "from .config import DEV_SECRET_KEY", "import logging.handlers\n\nfrom .config import DEV_SECRET_KEY", 1).replace(
        "    # only over HTTPS",
        "    try:\n        app.logger.addHandler(logging.handlers.SysLogHandler(\"/dev/log\"))\n    except OSError:\n"
        "        pass\n    # only over HTTPS", 1)
    assert "SysLogHandler" in logging_answer
    assert logging_answer != solved_text("10.2")
    write_student(tmp_path / "submissions", "syslog", {chapters.chapter("10").filename: with_answer(ten, "10.2", logging_answer)})
    out = tmp_path / "out"
    assert main(["grade", str(tmp_path / "submissions"), "--out", str(out), "--chapters", "10", "-j", "2"]) == 0
    rows = grades(out)
    assert rows[("syslog", "10.2")]["status"] == "passed", text_of((out / "feedback" / "syslog.html").read_text())
    assert grading.screen("from sqlalchemy import inspect\n\ndef test_tables(app):\n    inspect(app)\n", True) == ""


def test_feedback_file_names_are_one_per_student():
    names = ["a b", "a_b", grading.safe_name("a b"), grading.safe_name(grading.safe_name("a b")), "x-1234abcd"]
    assert len({grading.safe_name(name) for name in names}) == len(names)


def test_a_flagged_answer_never_runs_as_another_exercises_needs(tmp_path):
    forms = chapters.chapter("04").filename
    book = with_answer(notebook("04", solved=True), "04.1", "import _pytest\n" + solved_text("04.1"))
    write_student(tmp_path / "submissions", "student", {forms: book})
    out = tmp_path / "out"
    assert main(["grade", str(tmp_path / "submissions"), "--out", str(out), "--chapters", "04", "--count-released",
                 "-j", "2"]) == 0
    rows = grades(out)
    assert rows[("student", "04.1")]["status"] == "flagged"
    # 04.3 builds on 04.1: it ran with the blank 04.1, not the flagged one
    assert rows[("student", "04.3")]["status"] != "passed"
    assert "builds on 04.1" in text_of((out / "feedback" / "student.html").read_text())


def test_the_answer_crosses_back_as_checked_plain_values():
    from workbook.results import CheckRun

    with pytest.raises(ValueError):
        CheckRun.from_dict({"exercise": "01.1", "tests": [{"name": "t", "doc": 3}]})
    with pytest.raises(ValueError):
        CheckRun.from_dict(json.loads('{"exercise": ["not", "text"]}'))


PROBE = """
import os, socket, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from workbook import sandbox
scratch = Path({scratch!r})
outside, inside = socket.socketpair()
if os.fork() == 0:
    sandbox.enter(scratch, [sys.prefix, sys.base_prefix], [], inside)
    seen = []
    for name, attempt in [("solutions", lambda: os.listdir({solutions!r})),
                          ("write /usr", lambda: open("/usr/sandbox-probe", "w")),
                          ("mkfifo", lambda: os.mkfifo("pipe")),
                          ("mount", lambda: sandbox.mount("tmpfs", "/tmp", "tmpfs", 0))]:
        try:
            attempt()
            seen.append(name)
        except OSError:
            pass
    processes = [p for p in os.listdir("/proc") if p.isdigit()]
    (scratch / "report").write_text(f"{{os.getpid()}} {{len(processes)}} {{' '.join(seen) or 'none'}}")
    os._exit(0)
os.wait()
"""


@pytest.mark.parametrize("prefix", [[], ["setpriv", "--bounding-set=-sys_admin"]], ids=["root", "root-without-sys-admin"])
def test_the_sandbox_hides_the_machine_and_drops_every_power(tmp_path, prefix):
    """As the machine's root (new namespaces, then nobody) and as a container's root (a user namespace) alike."""
    if prefix and (os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists()):
        pytest.skip("needs root and setpriv")
    scratch = tmp_path / "job"
    scratch.mkdir()
    script = PROBE.format(root=str(chapters.ROOT), scratch=str(scratch), solutions=str(chapters.SOLUTIONS))
    subprocess.run([*prefix, sys.executable, "-c", script], check=True, timeout=60)
    pid, processes, allowed = (scratch / "report").read_text().split(" ", 2)
    # the run is PID 1's only child: it sees the two of them and nothing of the machine
    assert pid != "1" and (processes, allowed) == ("2", "none")


def test_reporting_a_run_runs_no_code_of_the_students_objects():
    """A str or int subclass, a list or dict subclass in a result: read through the base types, nothing of theirs runs."""
    from workbook.results import CheckRun, Problem, TestResult
    from workbook.suite import SuiteRun

    def trap(*args, **kwargs):
        raise AssertionError("the student's method ran")

    trapped = {name: trap for name in ("__str__", "__repr__", "__format__", "__deepcopy__", "__copy__", "__iter__",
                                       "__getitem__", "__reduce_ex__", "__hash__", "__eq__", "__index__", "__int__",
                                       "__len__", "items", "keys", "values")}
    Sly = type("Sly", (str,), trapped)
    Many = type("Many", (int,), trapped)
    Crowd = type("Crowd", (list,), trapped)
    Table = type("Table", (dict,), trapped)
    run = CheckRun(Sly("01.1"), tests=Crowd([TestResult(Sly("t"), Sly("doc"), cases=Many(2),
                                                        problem=Problem(Sly("failed"), Sly("boom")))]),
                   warnings=Crowd([Sly("w")]))
    data = json.loads(json.dumps(run.to_dict()))
    assert data["exercise"] == "01.1" and data["tests"][0]["cases"] == 2 and data["warnings"] == ["w"]
    suite_run = SuiteRun(outcomes=Crowd([Table({"test": Sly("t"), "when": "call", "outcome": "passed", "xfail": False})]))
    assert SuiteRun.from_dict(json.loads(json.dumps(suite_run.to_dict()))).passed() == ["t"]
