"""Watch a graded submission's code from inside its check process, and end the process at the first tampering.

Grading runs a student's code in the same process as the tests that judge it, so that code could patch pytest or
the workbook and forge a pass. A Python audit hook (PEP 578) sees the operations such tampering needs before they
happen, and cannot be removed once added: it ends the process, with the reason, at the first one. After the tests,
the modules and classes that produce the verdict are compared with a snapshot taken before any student code ran
(the collector also compares pytest's plugins and hooks at every report). What this cannot see, and why the grader
still asks for an unprivileged user or a container, is in the README.
"""

import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

# the exit status of a check process that the guard ended; its reason is in the flag file
FLAGGED_EXIT = 86
# modules whose classes and functions make the verdict: a submission never imports them
VERDICT_MODULES = ("pytest", "_pytest", "pluggy", "iniconfig", "workbook", "conftest", "test_")
# a learner's own test suite imports pytest and its own conftest and test modules: the rest stays out of its reach
SUITE_VERDICT_MODULES = ("_pytest", "pluggy", "iniconfig", "workbook")
# whose module-level names are compared before and after the run (the audit hook does not see a module's setattr)
SNAPSHOT_MODULES = (
    "builtins", "sys", "os", "posix", "io", "_io", "json", "pathlib", "dataclasses", "inspect", "traceback",
    "pytest", "_pytest", "pluggy", "iniconfig", "workbook", "werkzeug.test", "flask.testing", "smtplib", "socket",
)
# names a module may rebind to another callable during a run without anyone tampering (pytest's own machinery)
REBOUND_DURING_RUN = {"_pytest.assertion.util": {"_reprcompare", "_assertion_pass", "_config"}}
FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}
# events a check never needs: a submission that causes one is tampering, whoever calls it
NEVER = {
    "os.fork": "started a process (os.fork)", "os.forkpty": "started a process (os.forkpty)",
    "os.exec": "ran another program (os.exec*)", "os.posix_spawn": "started a process (os.posix_spawn)",
    "os.spawn": "started a process (os.spawn*)", "os.system": "ran a shell command (os.system)",
    "subprocess.Popen": "ran another program (subprocess)", "pty.spawn": "started a process (pty.spawn)",
    "os.kill": "sent a signal to a process (os.kill)", "os.killpg": "sent a signal to a process group (os.killpg)",
    "signal.pthread_kill": "sent a signal to a thread", "resource.setrlimit": "changed the process's limits",
    "resource.prlimit": "changed a process's limits",
    "gc.get_objects": "searched the interpreter's objects (gc.get_objects)",
    "gc.get_referrers": "searched the interpreter's objects (gc.get_referrers)",
    "gc.get_referents": "searched the interpreter's objects (gc.get_referents)",
    "sys.settrace": "installed a tracer (sys.settrace)", "sys.setprofile": "installed a profiler (sys.setprofile)",
    "sys._current_frames": "read the stack of every thread (sys._current_frames)",
    "_thread.start_new_thread": "started a thread",
    "sys.addaudithook": "added an audit hook", "os.setuid": "changed user", "os.setgid": "changed group",
}
# events that modify the file system at the path they name (the first argument unless said otherwise)
CHANGES = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.utime",
           "shutil.rmtree", "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move",
           "shutil.chown", "os.chflags", "os.lchflags", "os.lchmod", "os.setxattr", "os.removexattr"}
LISTINGS = {"os.listdir", "os.scandir", "glob.glob", "glob.glob/2", "os.listxattr", "os.getxattr"}
# ways to obtain a frame (and from it, the locals of the code that judges the submission)
FRAME_EVENTS = {"sys._getframe", "sys._getframemodulename"}
# modules whose functions hand their caller a frame (logging's currentframe is the learner's way in, not logging's)
FRAME_HANDOUTS = ("/inspect.py", "/traceback.py", "/logging/__init__.py")
# ways to run text or build code: a submission's own code arrives by import, never like this
CODE_EVENTS = {"exec", "compile", "code.__new__", "function.__new__"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def module_of(target) -> str:
    """Return the module a class or function belongs to, or ""."""
    try:
        name = target.__module__ if isinstance(target, (type, types.FunctionType)) else getattr(target, "__name__", "")
    except Exception:
        return ""
    return name if isinstance(name, str) else ""


def is_verdict_module(name: str, verdict_modules: tuple[str, ...] = VERDICT_MODULES) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") or (prefix.endswith("_") and name.startswith(prefix))
               for prefix in verdict_modules)


def snapshot() -> dict[tuple[str, object], dict[str, object]]:
    """Record what the verdict's modules, and the classes they define, hold by name: their functions and classes.

    Setting a class's attribute raises no audit event, so a patched method is found by comparing after the run."""
    taken: dict[tuple[str, object], dict[str, object]] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not any(name == m or name.startswith(m + ".") for m in SNAPSHOT_MODULES):
            continue
        try:
            values = dict(vars(module))
        except TypeError:
            continue
        taken[(name, module)] = {key: value for key, value in values.items() if watched(value)}
        for value in values.values():
            if isinstance(value, type) and getattr(value, "__module__", None) == name:
                taken[(f"{name}.{value.__qualname__}", value)] = {
                    key: member for key, member in vars(value).items() if watched(member)}
    return taken


def watched(value) -> bool:
    """Tell whether a value is code (a function, class, method or module), whose replacement would change behaviour."""
    return callable(value) or isinstance(value, (types.ModuleType, classmethod, staticmethod, property))


def changed_since(taken: dict[tuple[str, object], dict[str, object]]) -> str:
    """Return the first name that now holds something else than in the snapshot, or ""."""
    for (name, owner), values in taken.items():
        if isinstance(owner, types.ModuleType) and sys.modules.get(name) is not owner:
            return f"replaced the module {name}"
        current = vars(owner)
        allowed = REBOUND_DURING_RUN.get(name, ())
        for key, value in values.items():
            if key not in allowed and current.get(key) is not value:
                return f"replaced {name}.{key}"
    return ""


def install(learner_roots: list[Path], readable_roots: list[Path], protected_roots: list[Path],
            flag_file: Path, verdict_modules: tuple[str, ...] = VERDICT_MODULES,
            patch_libraries: bool = False, sandboxed: bool = False) -> Callable[[], str]:
    """Start watching; return a function that ends the student's part of the run and reports late tampering.

    learner_roots: where the submission's code lives and may write; readable_roots: may be read although they lie
    under a protected root; protected_roots: must never be read (other submissions, the answers, hidden tests).
    verdict_modules: what the submission may not import; patch_libraries: whether it may patch a library's classes
    and functions (a test suite's monkeypatch may), the verdict's own modules and pytest's always excepted.
    sandboxed: the run is inside workbook.sandbox, which has no network but its own loopback: a connection (a
    library's syslog socket, a DNS lookup) fails there by itself, so it is no sign of cheating and is not flagged.
    """
    learner = tuple(str(root.resolve()) for root in learner_roots)
    readable = tuple(str(root.resolve()) for root in readable_roots)
    protected = tuple(str(root.resolve()) for root in protected_roots)
    own_process = f"/proc/{os.getpid()}"
    # opened now: once the hook runs, nothing outside the learner's folders can be opened for writing
    flag_fd = os.open(flag_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    taken = snapshot()
    state = {"busy": False, "over": False}
    # held here, not looked up at each event: a submission that rebinds a module's name cannot blind the watch
    realpath, getcwd, isabs, join, fsdecode = os.path.realpath, os.getcwd, os.path.isabs, os.path.join, os.fsdecode
    is_dir = os.path.isdir
    write, exit_now, getframe, modules = os.write, os._exit, sys._getframe, sys.modules
    is_a, kind_of, text_types = isinstance, type, (str, bytes)
    plain_path, watched_kinds = type(Path()), (type, types.FunctionType, types.ModuleType)
    within, owner_of, verdict_module = under, module_of, is_verdict_module
    unpatchable = (*verdict_modules, "pytest")

    def end(reason: str) -> None:
        try:
            write(flag_fd, reason.encode("utf-8", "replace")[:500])
        finally:
            exit_now(FLAGGED_EXIT)

    def path_of(value) -> str | None:
        if is_a(value, int):
            return None  # an open file descriptor: opening it was already watched
        if is_a(value, text_types):
            text = fsdecode(value)
        elif kind_of(value) is plain_path:
            text = str(value)
        else:
            # a path object of the submission's own could name one file to the watch and another to open()
            end("opened a file through a path object of its own")
        if not isabs(text) and ".." in text.replace("\\", "/").split("/"):
            # relative to a folder descriptor (dir_fd), which the event does not name, `..` can climb anywhere
            end(f"named a file by a relative path that climbs out of its folder ({text[:80]})")
        return realpath(text if isabs(text) else join(getcwd(), text))

    def is_learner(frame) -> bool:
        return frame is not None and within(frame.f_code.co_filename, learner)

    def learner_driven(frame, through: tuple[str, ...] = ()) -> bool:
        """Tell whether the frame is the submission's, or a module in `through` acting on the submission's behalf."""
        while frame is not None and through and frame.f_code.co_filename.endswith(through):
            frame = frame.f_back
        return is_learner(frame)

    def learner_owns(name: str) -> bool:
        """Tell whether a module (by name) is one of the submission's own files."""
        found = getattr(modules.get(name), "__file__", None)
        return is_a(found, str) and within(realpath(found), learner)

    def check_read(path: str | None, what: str) -> None:
        if path is None or within(path, learner) or within(path, readable):
            return
        if within(path, protected):
            end(f"{what} {path}, which belongs to the grader or to another submission")
        if path.startswith("/proc/") and not within(path, (own_process, "/proc/self", "/proc/thread-self")):
            end(f"{what} {path}, another process's files")

    def check_write(path: str | None, what: str) -> None:
        if path is not None and not within(path, learner) and path != "/dev/null":
            end(f"{what} {path}, outside its own folder")

    def hook(event: str, args: tuple) -> None:
        if state["busy"] or state["over"]:
            return
        state["busy"] = True
        try:
            watch(event, args)
        finally:
            state["busy"] = False

    def watch(event: str, args: tuple) -> None:
        # getframe(2) is the code that caused the event: 0 is watch, 1 is hook
        if event == "open":
            path = path_of(args[0])
            mode, flags = (args[1] if len(args) > 1 else None), (args[2] if len(args) > 2 else 0)
            writing = (is_a(mode, str) and any(c in mode for c in "wax+")) or (is_a(flags, int) and flags & WRITE_FLAGS)
            (check_write if writing else check_read)(path, "wrote to" if writing else "read")
            if path is not None and not within(path, learner) and is_dir(path):
                # a folder's descriptor opens files relative to it (dir_fd), unseen by this watch
                end(f"opened the folder {path}, outside its own")
        elif event in ("os.symlink", "os.link"):
            # pytest's tmp_path links its newest folder; a link from the learner's folder to elsewhere is an escape
            for value in args[:2]:
                check_write(path_of(value), "linked")
        elif event in NEVER:
            end(NEVER[event])
        elif event.startswith("ctypes."):
            end("used ctypes, which reaches past Python into the process's memory")
        elif event in LISTINGS:
            check_read(path_of(args[0]) if args and args[0] is not None else getcwd(), "listed")
        elif event in CHANGES:
            for value in args[:2] if event in {"os.rename", "shutil.copyfile", "shutil.copytree", "shutil.move"} else args[:1]:
                check_write(path_of(value), "changed")
        elif event == "object.__setattr__" or event == "object.__delattr__":
            target = args[0]
            if not is_a(target, watched_kinds):
                return
            owner = owner_of(target)
            forbidden = verdict_module(owner, unpatchable) if patch_libraries else not learner_owns(owner)
            if forbidden and learner_driven(getframe(2), ("/unittest/mock.py", "/_pytest/monkeypatch.py")):
                end(f"changed {owner or 'a library'}'s {getattr(target, '__name__', 'object')}.{args[1]}")
        elif event == "object.__getattr__":
            if args[1] in FRAME_ATTRIBUTES and learner_driven(getframe(2), ("/inspect.py",)):
                end(f"took a stack frame (.{args[1]}), from which the grader's own variables can be reached")
        elif event in FRAME_EVENTS:
            caller = getframe(2)
            # inspect.currentframe(), logging.currentframe(), traceback.walk_stack(): a frame handed to the caller
            handed = caller is not None and caller.f_code.co_filename.endswith(FRAME_HANDOUTS) and is_learner(caller.f_back)
            if is_learner(caller) or handed:
                end("took a stack frame (sys._getframe), from which the grader's own variables can be reached")
        elif event == "sqlite3.connect":
            database = args[0] if args else ":memory:"
            name = fsdecode(database) if is_a(database, text_types) else database
            if is_a(name, str) and name.startswith("file:"):
                name = name[5:].split("?")[0]
            if name not in ("", ":memory:"):
                check_write(path_of(name), "opened the database")
        elif event in CODE_EVENTS:
            if is_learner(getframe(2)):
                end(f"ran or built code from text ({event})")
        elif event == "import":
            name = args[0] if args and is_a(args[0], str) else ""
            top = name.split(".")[0]
            if (verdict_module(top, verdict_modules) or top in {"ctypes", "_ctypes"}) and learner_driven(
                    getframe(2), ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>",
                                  "importlib/__init__.py")):
                end(f"imported {name}")
        elif event in ("socket.connect", "socket.sendto", "socket.sendmsg") and not sandboxed:
            address = args[1] if len(args) > 1 else None
            host = address[0] if is_a(address, tuple) and address else address
            if not (is_a(host, str) and host in ("127.0.0.1", "::1", "localhost")):
                end("opened a network connection")

    def finish() -> str:
        """Stop watching (the tests are over) and return what the run changed in the verdict's modules, or ""."""
        state["over"] = True
        late = changed_since(taken)
        return f"{late} while the tests ran" if late else ""

    def refuse_thread(*args, **kwargs):
        if not state["over"]:
            end("started a thread")

    # Python 3.11 raises no audit event when a thread starts (3.13 does): every way to start one leads here
    import _thread
    import threading

    _thread.start_new_thread = _thread.start_new = threading._start_new_thread = refuse_thread
    sys.addaudithook(hook)
    return finish
