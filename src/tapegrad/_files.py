"""Files written whole or not at all: a temporary file beside the target, then one rename.

Until ``os.replace`` the target keeps its old content (or does not exist); after it, the
target is the whole new file. So a full disk, an exception or a Ctrl-C in the middle of a
write never leaves a truncated file that looks complete. Standard library only: history.py
and the command line both use it.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_path", "open_atomic", "probe_folder"]


@contextlib.contextmanager
def open_atomic(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode, **kwargs)`` for writing, except that ``path`` changes only when the block ends normally.

    >>> import os, tempfile
    >>> from tapegrad._files import open_atomic
    >>> target = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with open_atomic(target) as f:
    ...     _ = f.write("whole")
    >>> open(target).read(), os.listdir(os.path.dirname(target))
    ('whole', ['a.txt'])
    """
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f
        f.flush()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[str]:
    """A new, empty file's name beside ``path``: write it (any way), and at the end of the block it replaces ``path``.

    On any exception, KeyboardInterrupt included, the temporary is removed and ``path`` is
    as it was. ``suffix`` ends the temporary's name, for writers that read the format from it
    (``.png``). A symbolic link stays a link: the file it points to is replaced. An existing
    target that is not a regular file (``/dev/null``, a FIFO) is not replaced but written to
    directly, as ``open`` would.

    >>> import os, tempfile
    >>> from tapegrad._files import atomic_path
    >>> target = os.path.join(tempfile.mkdtemp(), "b.txt")
    >>> with atomic_path(target, ".txt") as tmp:
    ...     with open(tmp, "w") as f:
    ...         _ = f.write("whole")
    ...     tmp.endswith(".txt") and not os.path.exists(target)
    True
    >>> open(target).read()
    'whole'
    """
    target = os.path.realpath(os.fspath(path))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        yield os.fspath(path)  # a device or a pipe: a rename would replace the device, not write to it
        return
    if st is not None and not os.access(target, os.W_OK):  # open(path, "w") would refuse it too
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
    tmp, fd = _create_beside(target, suffix, os.fspath(path))
    try:
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))  # the file keeps its permissions, as with open()
        os.close(fd)
        fd = -1
        yield tmp
        fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
        os.fsync(fd)  # the data is on disk before the name points at it
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_folder(os.path.dirname(target))


def probe_folder(path: str | os.PathLike) -> None:
    """Raise the ``OSError`` that writing ``path`` would meet in its folder (missing, read-only, not writable).

    A real file is created and removed: ``os.access`` says yes to root on a read-only disk or in /proc.

    >>> import tempfile
    >>> from tapegrad._files import probe_folder
    >>> probe_folder(tempfile.mkdtemp() + "/new.csv")
    """
    target = os.path.realpath(os.fspath(path))
    tmp, fd = _create_beside(target, "", os.fspath(path))
    os.close(fd)
    os.remove(tmp)


def _create_beside(target: str, suffix: str, shown: str) -> tuple[str, int]:
    """A new file in ``target``'s folder (so that the rename is atomic), opened; errors name ``shown``."""
    folder, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        # os.urandom is what secrets.token_hex reads; importing secrets would cost `import tapegrad` 6 ms.
        tmp = os.path.join(folder, f".{name[:100]}.{os.urandom(4).hex()}.tmp{suffix}")
        try:
            # 0o666 as open() uses: the kernel applies the umask (and the folder's default ACL) itself.
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue  # 32 random bits taken: draw again
        except OSError as e:
            raise type(e)(e.errno, e.strerror, shown) from None


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable; not every system lets a folder be opened, and then it is skipped."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
