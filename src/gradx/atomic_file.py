"""Writing output files (``--csv``, ``--save``, ``--dot``) safely, whatever the path names.

* ``-`` means standard output.
* A symlink is followed: the file it points to is written, the link stays a link.
* A regular file (or a new one) is written atomically: a temporary file in the target's own
  folder, fsync'ed, then renamed over the target, so a reader sees the old file or the complete
  new one, never half. The replaced file's mode (and owner, where permitted) is kept.
* A regular file with other hard links (``st_nlink > 1``) is not renamed over, which would cut
  it off from its other names: the new content is first written completely to a temporary
  file, then copied into the existing file in place (the only step that is not atomic).
* Anything else (a FIFO, a device such as ``/dev/null``, ``/dev/stdout``, a terminal) is written
  directly: renaming over it would replace the special file with a plain one.
* OS errors (a full disk, a name too long, no permission) become one GradxError line, exit 2,
  and leave no temporary file behind, also when gradx is interrupted by a signal.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gradx.errors import ExitCode, GradxError

STDOUT = "-"
# errno values that mean "the output could not be written" (not a bug in gradx).
WRITE_ERRORS = frozenset(
    getattr(errno, name)
    for name in (
        "ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS", "EACCES", "EPERM", "ENAMETOOLONG",
        "EPIPE", "EBADF", "ENXIO", "ENODEV", "EISDIR", "ENOTDIR", "ENOENT", "ELOOP",
    )
    if hasattr(errno, name)
)  # fmt: skip
_TEMP_PREFIX_CHARS = 40  # the temporary name stays far below NAME_MAX whatever the target's


def is_stdout(path: Path | str) -> bool:
    """Whether an output option names standard output (``-``)."""
    return str(path) == STDOUT


def write_error(path: Path | str, exc: OSError) -> GradxError:
    """The one-line message (exit 2) for an OS error while writing ``path``."""
    where = "standard output" if is_stdout(path) else str(path)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return GradxError(f"cannot write {where}: {reason}", exit_code=ExitCode.USAGE)


def check_writable(path: Path) -> None:
    """Refuse early (exit 2) an output path that cannot be written, before any work."""
    if is_stdout(path):
        return
    target = Path(os.path.realpath(path))
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise write_error(path, exc) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise GradxError(f"cannot write {path}: it is a folder")
    if info is not None and not stat.S_ISREG(info.st_mode):
        if not os.access(target, os.W_OK):
            raise GradxError(f"cannot write {path}: permission denied")
        return
    folder = target.parent
    if not folder.is_dir():
        raise GradxError(f"cannot write {path}: folder {_shown(path)} does not exist")
    name_max = _name_max(folder)
    if len(os.fsencode(target.name)) > name_max:
        raise GradxError(f"cannot write {path}: the file name is longer than {name_max} bytes")
    if info is not None and info.st_nlink > 1:
        if not os.access(target, os.W_OK):
            raise GradxError(f"cannot write {path}: permission denied")
        return
    if not os.access(folder, os.W_OK):
        raise GradxError(f"cannot write {path}: folder {_shown(path)} is not writable")


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "w", newline: str | None = None) -> Iterator[IO]:
    """Open ``path`` for writing as the module docstring describes; commit on success."""
    check_writable(path)
    text: dict[str, Any] = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
    try:
        if is_stdout(path):
            with _stdout(mode, newline) as handle:
                yield handle
            return
        target = Path(os.path.realpath(path))
        try:
            info: os.stat_result | None = target.stat()
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):
            with open(target, mode, **text) as handle:  # noqa: PTH123 - a FIFO or device
                yield handle
            return
        with _temporary(target, info, mode, text) as handle:
            yield handle
    except OSError as exc:
        if exc.errno not in WRITE_ERRORS:
            raise
        raise write_error(path, exc) from None


@contextlib.contextmanager
def _stdout(mode: str, newline: str | None) -> Iterator[IO]:
    if sys.stdout is None:
        raise OSError(errno.EBADF, "standard output is closed")
    if "b" in mode:
        sys.stdout.flush()
        stream: IO = sys.stdout.buffer
    else:
        stream = sys.stdout
    yield stream
    stream.flush()


@contextlib.contextmanager
def _temporary(
    target: Path, info: os.stat_result | None, mode: str, text: dict[str, Any]
) -> Iterator[IO]:
    prefix = "." + target.name[:_TEMP_PREFIX_CHARS] + "."
    fd, temp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    try:
        _copy_permissions(fd, info)
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None and info.st_nlink > 1:
            # Keep the other hard links: copy the finished content into the same inode.
            with open(temp, "rb") as source, open(target, "r+b") as destination:  # noqa: PTH123
                destination.truncate(0)
                shutil.copyfileobj(source, destination)
                destination.flush()
                os.fsync(destination.fileno())
            os.unlink(temp)
        else:
            os.replace(temp, target)
    except BaseException:  # errors, Ctrl-C, SIGTERM/SIGHUP (gradx.termination): no debris
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _copy_permissions(fd: int, info: os.stat_result | None) -> None:
    if info is None:
        # mkstemp makes the file private; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        return
    with contextlib.suppress(PermissionError, OSError):
        os.fchown(fd, info.st_uid, info.st_gid)  # only root may give a file away
    os.fchmod(fd, stat.S_IMODE(info.st_mode))


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _shown(path: Path) -> str:
    parent = Path(path).parent
    return str(parent) if str(parent) else "."
