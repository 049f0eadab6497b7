"""A real PostgreSQL server for the tests: initdb and pg_ctl in a temporary folder on a free port, stopped afterwards.

Debian's `postgresql` package keeps its programs in /usr/lib/postgresql/<version>/bin, off PATH. initdb refuses to run
as root, so as root (CI) the server runs as the `postgres` user, in a folder that user owns under /tmp (pytest's own
temporary folders are 0700 and root's, so postgres could not reach one).
"""

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from helpers import free_port

ROLE = "workbook"


def binaries() -> Path | None:
    """Return the folder of the newest installed PostgreSQL's programs, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def missing_reason() -> str:
    """Say why no server can be started here, or "" when one can."""
    if binaries() is None:
        return "PostgreSQL is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run the server as"
    return ""


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Run a fresh PostgreSQL server on 127.0.0.1 with one empty database; yield its SQLAlchemy URL."""
    bin_dir = binaries()
    as_user = {}
    folder = Path(tempfile.mkdtemp(prefix="workbook-postgres-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    data, port = folder / "data", free_port()

    def run(*command: str) -> None:
        completed = subprocess.run([str(bin_dir / command[0]), *command[1:]], capture_output=True, text=True,
                                   cwd=folder, timeout=120, **as_user)
        if completed.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stdout}{completed.stderr}")

    try:
        run("initdb", "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        # the socket goes in the server's own folder: /var/run/postgresql may not exist or be writable
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run("pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "-t", "60", "start")
        try:
            run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, "bookshelf")
            yield f"postgresql+psycopg://{ROLE}@127.0.0.1:{port}/bookshelf"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def server_or_skip() -> Iterator[str]:
    """Yield a running server's URL for a module-scoped fixture; skip where PostgreSQL is missing, fail in CI."""
    import pytest

    reason = missing_reason()
    if reason:
        if os.environ.get("WORKBOOK_REQUIRE_POSTGRES"):  # set by .ci/run, which installs PostgreSQL
            pytest.fail(f"PostgreSQL is required here: {reason}")
        pytest.skip(reason)
    with server() as url:
        yield url
