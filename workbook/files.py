"""Write into a learner's folder safely: never through a link, never half a file, one sentence on failure."""

import errno
import os
import secrets
import shutil
import stat
import time
from pathlib import Path

from .errors import LearnerError, WorkbookBug

BACKUPS = "backups"
# with O_EXCL, a temporary file is never an existing file or link; O_NOFOLLOW also refuses links (not on Windows)
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
BINARY = getattr(os, "O_BINARY", 0)


def shown(folder: Path, path: Path) -> str:
    """Name a path as the learner sees it from the notebook's folder."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def link_error(folder: Path, path: Path) -> LearnerError:
    try:
        target = os.readlink(path)
    except OSError:
        target = "somewhere else"
    return LearnerError(
        f"{shown(folder, path)} is a link to {target}; the workbook does not write through links: "
        "remove the link, then run the cell again."
    )


def explain(folder: Path, path: Path, error: OSError) -> LearnerError:
    """Turn an OSError about a path into one sentence that says what to do."""
    name = shown(folder, path)
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return LearnerError(f"The disk is full, so {name} could not be written: free some space, then run the cell again.")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return LearnerError(
            f"{name} cannot be written here (the folder is read-only for you): make the folder writable, "
            "or copy the workbook to a folder of your own, then run the cell again."
        )
    if error.errno == errno.EISDIR:
        return LearnerError(f"{name} is a folder where the workbook writes a file: rename it, then run the cell again.")
    if error.errno == errno.ELOOP:
        return link_error(folder, path)
    return LearnerError(f"{name} could not be written ({error.strerror or error}): fix that, then run the cell again.")


def make_folders(folder: Path, relative: str) -> Path:
    """Create each missing folder of a relative path under folder, refusing files and dangling links on the way."""
    current = folder
    for part in inside(relative).parts:
        current = current / part
        try:
            os.mkdir(current)
        except FileExistsError:
            # there already, or made by another process meanwhile: check it like any other
            pass
        except OSError as error:
            raise explain(folder, current, error) from None
        if current.is_symlink():
            # a link to a folder is the learner's choice (bookshelf/ kept elsewhere): writes go into it
            if not current.is_dir():
                raise link_error(folder, current)
        elif not current.is_dir():
            raise LearnerError(
                f"{shown(folder, current)} is a file where the workbook needs a folder: "
                "rename or remove it, then run the cell again."
            )
    return current


def inside(relative: str) -> Path:
    """Return a relative path that stays inside the folder, or report the workbook's mistake."""
    path = Path(relative)
    if path.is_absolute() or path.drive or ".." in path.parts:
        raise WorkbookBug(f"The workbook tried to write {relative!r}, outside the notebook's folder.")
    return path


def write_bytes(folder: Path, relative: str, data: bytes) -> None:
    """Replace a file under folder in one step, refusing a link in its place."""
    path = folder / inside(relative)
    parent = make_folders(folder, Path(relative).parent.as_posix())
    if path.is_symlink():
        raise link_error(folder, path)
    if path.is_dir():
        raise LearnerError(f"{shown(folder, path)} is a folder where the workbook writes a file: "
                           "rename it, then run the cell again.")
    # a new file beside the old one, then one rename: a full disk never leaves half a file, and
    # the rename replaces a link that appears meanwhile rather than writing through it
    temporary = parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NO_FOLLOW | BINARY, 0o666)
    except OSError as error:
        raise explain(folder, path, error) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        if path.exists():
            # keep the learner's file mode (an executable script stays executable)
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise explain(folder, path, error) from None


def write_text(folder: Path, relative: str, text: str) -> None:
    """Write text to a file under folder as UTF-8, with the newlines exactly as given."""
    # "\n" stays "\n" on Windows too (like newline=""), so the file compares equal to the reference next time
    write_bytes(folder, relative, text.encode("utf-8"))


def new_backup_folder(folder: Path) -> Path:
    """Create and return an unused timestamped folder under backups/."""
    backups = make_folders(folder, BACKUPS)
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    for attempt in range(1000):
        candidate = backups / (stamp if attempt == 0 else f"{stamp}_{attempt}")
        try:
            candidate.mkdir()
            return folder / BACKUPS / candidate.name
        except FileExistsError:
            continue
        except OSError as error:
            raise explain(folder, folder / BACKUPS / candidate.name, error) from None
    raise LearnerError(f"Could not create a new backup folder in {BACKUPS}/: move its old backups elsewhere, "
                       "then run the cell again.")


def back_up(folder: Path, copied: list[str], moved: list[str] = ()) -> Path:
    """Copy (or move) these files and folders into a new timestamped backup folder and return it."""
    target = new_backup_folder(folder)
    backup = target.relative_to(folder).as_posix()
    for relative in [*copied, *moved]:
        source = folder / relative
        if relative in moved:
            make_folders(folder, f"{backup}/{Path(relative).parent.as_posix()}")
            try:
                move(source, target / relative)
            except OSError as error:
                raise explain(folder, source, error) from None
        else:
            try:
                data = source.read_bytes()
            except OSError as error:
                raise LearnerError(f"{relative} could not be read for its backup ({error.strerror or error}), "
                                   "so nothing was replaced: fix that, then run the cell again.") from None
            write_bytes(folder, f"{backup}/{relative}", data)
    return target


def move(source: Path, destination: Path) -> None:
    """Move a file, folder or link; a link moves as a link, never what it points to."""
    try:
        os.rename(source, destination)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        # backups/ is a link to another disk: copy, then remove (shutil keeps links as links)
        shutil.move(source, destination)


def copy_into(source: Path, folder: Path, relative: str) -> None:
    """Copy a file or a folder tree from source to folder/relative, writing only inside folder; links stay links."""
    if source.is_symlink():
        copy_link(source, folder, relative)
    elif not source.is_dir():
        write_bytes(folder, relative, read_for_copy(source))
    else:
        make_folders(folder, relative)
        for entry in sorted(source.iterdir()):
            copy_into(entry, folder, f"{relative}/{entry.name}")


def copy_link(source: Path, folder: Path, relative: str) -> None:
    """Make a link like source at folder/relative; what it points to is neither read nor written."""
    make_folders(folder, Path(relative).parent.as_posix())
    try:
        os.symlink(os.readlink(source), folder / inside(relative), target_is_directory=source.is_dir())
    except OSError as error:
        raise explain(folder, folder / relative, error) from None


def read_for_copy(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except OSError as error:
        raise LearnerError(f"{source} could not be read to copy it ({error.strerror or error}): "
                           "fix that, then run the cell again.") from None
