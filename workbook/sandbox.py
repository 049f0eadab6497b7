"""The grading sandbox: the operating system's wall around every graded run (Linux).

A graded run is a forked child of a warm worker. Before any student code runs, the child enters namespaces of its own
and the grandchild, PID 1 of a new PID namespace, builds the run's world:

- its own mount, PID, IPC, UTS and network namespaces (and a user namespace when the grader is not root): it sees and
  can signal only its own processes, and has no network but its own loopback;
- a file system that is read-only but its job folder: the system's programs and libraries, Python and the grader's
  verified copy of the workbook library, nothing else of the machine (no workbook, answers, tests, other jobs,
  submissions or home folders); a fresh /tmp and /dev/shm, a few device nodes, and a /proc of its own processes;
- the grader's services (the SMTP server, the suite service) on its own loopback: it listens there, and the worker,
  outside, relays each connection to the real service, a few connections at most;
- no privileges (host root becomes `nobody`; otherwise every capability is dropped), `no_new_privs`, and a seccomp
  filter that refuses what a Flask answer never needs (device nodes and pipes in the file system, ptrace, pidfds,
  namespaces, mounts, bpf, keyrings, perf, kernel modules, ...).

What the run reports crosses back as a JSON file of plain values, which the worker reads with a size limit and checks.
"""

import ctypes
import errno
import fcntl
import json
import os
import platform
import selectors
import socket
import struct
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 1
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_PDEATHSIG = 38, 24, 1
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
SYSCALLS = {"x86_64": {"pivot_root": 155, "capset": 126, "mount_setattr": 442},
            "aarch64": {"pivot_root": 41, "capset": 91, "mount_setattr": 442}}
NOBODY = 65534
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
# of /etc, only what Python and the C library read: users' names, the loader's cache, time zones, certificates
ETC_ENTRIES = ("passwd", "group", "hosts", "nsswitch.conf", "localtime", "timezone", "ld.so.cache", "ld.so.conf",
               "ld.so.conf.d", "ssl", "mime.types", "os-release")
DEVICES = ("null", "zero", "full", "random", "urandom")
TMP_SIZE = "size=256m"
# connections a run may make to the grader's services: a check makes one or two
CONNECTION_LIMIT = 16
# what a Flask answer never needs; refused with EPERM (the answer sees an error, the guard explains where it watches)
REFUSED_CALLS = (
    "mknod", "mknodat", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount",
    "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "bpf", "keyctl", "add_key", "request_key",
    "perf_event_open", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at",
    "name_to_handle_at", "memfd_create", "setpriority", "ioprio_set", "sched_setaffinity", "settimeofday",
    "clock_settime", "adjtimex", "acct", "quotactl", "lookup_dcookie", "syslog", "vhangup", "personality",
    "fanotify_init", "landlock_create_ruleset", "seccomp",
)
# why a sandbox cannot start, and what to do about it, by the error the kernel gave
ADVICE = ("Graded runs need Linux user and PID namespaces (an OS wall around each student's code). On Ubuntu 23.10 "
          "and later allow them with `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`; in Docker run the "
          "grader with `--security-opt seccomp=unconfined --security-opt apparmor=unconfined` (or as a VM); on macOS "
          "or Windows use the container recipe in the README. `--no-sandbox` grades anyway, without the wall.")


class SandboxError(OSError):
    """The sandbox could not be built: the run must not go on without it."""


_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def call(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise SandboxError(number, f"{what}: {os.strerror(number)}")


def syscall(name: str, *args) -> int:
    numbers = SYSCALLS.get(platform.machine())
    if not numbers:
        raise SandboxError(errno.ENOSYS, f"no system call table for {platform.machine()}")
    return libc().syscall(numbers[name], *args)


def mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    call(libc().mount(source and source.encode(), target.encode(), kind and kind.encode(), ctypes.c_ulong(flags),
                      data and data.encode()), f"mount {target}")


def unshare(flags: int) -> None:
    call(libc().unshare(flags), "unshare")


def write_file(path: str, text: str) -> None:
    with open(path, "w") as stream:
        stream.write(text)


# ---- can it start here? ----------------------------------------------------------------------------------


def why_unavailable() -> str:
    """Return why a sandbox cannot be built on this machine ("" when it can): tried for real, in a child."""
    if platform.system() != "Linux" or platform.machine() not in SYSCALLS:
        return f"it needs Linux on x86_64 or aarch64, and this is {platform.system()} on {platform.machine()}"
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError) as error:
        return f"libseccomp cannot be loaded ({error}): install libseccomp2 and the pyseccomp package"
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        try:
            enter_namespaces()
            inner = os.fork()
            if inner == 0:
                mount(None, "/", None, MS_REC | MS_PRIVATE)
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                os._exit(0)
            _, status = os.waitpid(inner, 0)
            message = b"" if os.waitstatus_to_exitcode(status) == 0 else b"could not mount a /proc of its own"
        except OSError as error:
            message = str(error).encode()[:300]
        os.write(writer, message)
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as stream:
        message = stream.read().decode(errors="replace")
    os.waitpid(pid, 0)
    return f"the kernel refused to build it ({message})" if message else ""


# ---- building it ------------------------------------------------------------------------------------------


def enter_namespaces(scratch: Path | None = None) -> None:
    """Enter new mount, PID (for children), network, IPC and UTS namespaces; a user namespace too unless root.

    Root without CAP_SYS_ADMIN (a container's) takes the user-namespace way, as any other user does."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        try:
            unshare(flags)
            if scratch is not None:
                give_to_nobody(scratch)
            return
        except SandboxError as error:
            if error.errno != errno.EPERM:
                raise
    unshare(CLONE_NEWUSER | flags)
    write_file("/proc/self/setgroups", "deny")
    write_file("/proc/self/uid_map", f"0 {uid} 1")
    write_file("/proc/self/gid_map", f"0 {gid} 1")


def give_to_nobody(scratch: Path) -> None:
    """As root: hand the job's folder to `nobody`, whom the run becomes, so that it can write there and nowhere else."""
    if os.geteuid() != 0:
        return
    for here, folders, files in os.walk(scratch):
        for name in [*folders, *files]:
            os.chown(os.path.join(here, name), NOBODY, NOBODY, follow_symlinks=False)
    os.chown(scratch, NOBODY, NOBODY)


def read_only_bind(source: str, target: str) -> None:
    """Bind a folder (and what is mounted under it) read-only at target."""
    mount(source, target, None, MS_BIND | MS_REC)
    attributes = struct.pack("QQQQ", MOUNT_ATTR_RDONLY, 0, 0, 0)
    if syscall("mount_setattr", AT_FDCWD, target.encode(), AT_RECURSIVE, attributes, len(attributes)) != 0:
        # kernels before 5.12: the top mount at least
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)


def place(root: str, path: str) -> str:
    """Return where a host path lives under the new root, with its parent folders made."""
    target = root + path
    os.makedirs(os.path.dirname(target), exist_ok=True)
    return target


def build_root(root: str, scratch: Path, readable: list[str]) -> None:
    """Mount the run's file system at root: read-only system and Python, the job folder writable, fresh /tmp."""
    mount("sandbox", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # /tmp first: the job folder and the grader's copies may live under the machine's /tmp, and are bound over it
    for folder in ("/tmp", "/dev", "/proc"):
        os.makedirs(root + folder, exist_ok=True)
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"{TMP_SIZE},mode=1777")
    shown: set[str] = set()
    for path in [*SYSTEM_FOLDERS, *(f"/etc/{name}" for name in ETC_ENTRIES), *readable]:
        real = os.path.realpath(path)
        if not os.path.exists(path) or real in shown:
            continue
        if os.path.islink(path) and os.path.dirname(path) in ("/", "/etc"):  # merged /usr: /bin -> usr/bin
            os.symlink(os.readlink(path), place(root, path))
            continue
        shown.add(real)
        target = place(root, real)
        if os.path.isdir(real):
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "a").close()
        read_only_bind(real, target)
        if path != real and not os.path.lexists(root + path):
            os.symlink(real, place(root, path))
    job = place(root, str(scratch))
    os.makedirs(job, exist_ok=True)
    mount(str(scratch), job, None, MS_BIND | MS_NOSUID | MS_NODEV)
    mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for device in DEVICES:
        open(root + f"/dev/{device}", "a").close()
        mount(f"/dev/{device}", root + f"/dev/{device}", None, MS_BIND)
    os.makedirs(root + "/dev/shm")
    mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"{TMP_SIZE},mode=1777")
    for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2")):
        os.symlink(link, root + f"/dev/{name}")
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def switch_root(root: str) -> None:
    """Make root the file system's root and let go of the old one, so that no path leads back to the machine's."""
    old = root + "/.old-root"
    os.makedirs(old)
    cwd = os.getcwd()
    call(syscall("pivot_root", root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    call(libc().umount2(b"/.old-root", MNT_DETACH), "umount old root")
    os.rmdir("/.old-root")
    mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    try:
        os.chdir(cwd)
    except OSError:
        pass


def loopback_up() -> None:
    """Bring up the network namespace's own loopback device, the only network the run has."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def listen_for_services(ports: list[int], channel: socket.socket) -> None:
    """Listen on the run's loopback at each service's port and hand the sockets to the worker, which relays them."""
    listeners = []
    for port in ports:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", port))
        listener.listen(CONNECTION_LIMIT)
        listeners.append(listener)
    socket.send_fds(channel, [json.dumps(ports).encode()], [s.fileno() for s in listeners])
    for listener in listeners:
        listener.close()
    channel.close()


def drop_privileges() -> None:
    """Become nobody (the machine's root) or give up every capability (a user namespace); no new privileges, ever."""
    for capability in range(64):
        libc().prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # while it still may: none comes back through exec
    call(libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/self/uid_map") as stream:
        machine_root = stream.read().split()[:3] == ["0", "0", "4294967295"]
    if machine_root:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    # capset, version 3, this process: every set empty (a user namespace's root keeps its uid, not its powers)
    call(syscall("capset", struct.pack("Ii", 0x20080522, 0), bytes(24)), "capset")


def load_filter() -> None:
    """Refuse, with EPERM, the system calls a Flask answer never needs."""
    import pyseccomp

    refusals = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in REFUSED_CALLS:
        try:
            refusals.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            pass  # a call this architecture does not have
    refusals.load()


def pass_on_exit(status: int) -> None:
    """End this process as its child ended: with its exit code, or by its signal (128 + N from a PID 1 counts as N).

    A namespace's PID 1 cannot die by a signal it sends itself, so it exits with 128 + N; the outer child, outside
    the PID namespace, turns that back into the signal, which the worker reads (SIGXCPU: the processor time was up)."""
    import resource
    import signal

    number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 0
    if not number and code > 128:
        number = code - 128
    if number and os.getpid() != 1:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), number)
    os._exit(128 + number if number else code & 0xFF)


def enter(scratch: Path, readable: list[str], ports: list[int], channel: socket.socket) -> None:
    """In a graded run's forked child: build the sandbox and return in a process inside it; never return here.

    The child enters the namespaces; its child, PID 1 of the new PID namespace, builds the file system and the
    network and drops every privilege; the run itself is PID 1's child, so that the kernel's signals (SIGXCPU at the
    processor-time limit) reach it as they reach any process."""
    enter_namespaces(scratch)
    inner = os.fork()
    if inner:
        channel.close()
        pass_on_exit(os.waitpid(inner, 0)[1])
    libc().prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = str(scratch / ".root")
    os.makedirs(root, exist_ok=True)
    build_root(root, scratch, readable)
    switch_root(root)
    loopback_up()
    listen_for_services(ports, channel)
    drop_privileges()
    load_filter()
    run = os.fork()
    if run:
        pass_on_exit(os.waitpid(run, 0)[1])
    libc().prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)


# ---- the worker's side: relaying the services -----------------------------------------------------------


class Relay:
    """Outside the sandbox: accept the run's connections to its loopback services and pipe each to the real one."""

    def __init__(self, channel: socket.socket, selector: selectors.BaseSelector, services: dict[int, tuple]):
        self.channel, self.selector, self.services = channel, selector, services
        self.connections = 0
        self.sockets: list[socket.socket] = []
        self.peers: dict[socket.socket, socket.socket] = {}
        selector.register(channel, selectors.EVENT_READ, self)

    def handle(self, sock: socket.socket) -> None:
        """Act on a readable socket: the listeners arriving, a connection to accept, or bytes to pass on."""
        try:
            if sock is self.channel:
                self.receive_listeners()
            elif sock in self.peers:
                self.pass_on(sock)
            else:
                self.accept(sock)
        except OSError:
            self.drop(sock)

    def receive_listeners(self) -> None:
        message, fds, _, _ = socket.recv_fds(self.channel, 1024, 8)
        self.selector.unregister(self.channel)
        self.channel.close()
        try:
            ports = json.loads(message or b"[]")
        except ValueError:
            ports = []
        for port, fd in zip(ports, fds):
            listener = socket.socket(fileno=fd)
            if port in self.services:
                listener.setblocking(False)
                self.sockets.append(listener)
                self.selector.register(listener, selectors.EVENT_READ, self)
            else:
                listener.close()

    def accept(self, listener: socket.socket) -> None:
        inside, _ = listener.accept()
        self.connections += 1
        if self.connections > CONNECTION_LIMIT:
            inside.close()
            return
        port = listener.getsockname()[1]
        outside = socket.create_connection(self.services[port], timeout=5)
        for end in (inside, outside):
            end.settimeout(5)
            self.sockets.append(end)
        self.peers[inside], self.peers[outside] = outside, inside
        self.selector.register(inside, selectors.EVENT_READ, self)
        self.selector.register(outside, selectors.EVENT_READ, self)

    def pass_on(self, sock: socket.socket) -> None:
        data = sock.recv(1 << 16)
        peer = self.peers[sock]
        if data:
            peer.sendall(data)
            return
        self.selector.unregister(sock)
        try:
            peer.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def drop(self, sock: socket.socket) -> None:
        for end in (sock, self.peers.get(sock)):
            if end is not None:
                try:
                    self.selector.unregister(end)
                except (KeyError, ValueError):
                    pass
                end.close()

    def close(self) -> None:
        for sock in [self.channel, *self.sockets]:
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
