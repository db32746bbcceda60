"""One writer at a time per index folder, with a message that says who holds the lock."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from qa.errors import IndexBusyError, WriteError, describe_os_error

LOCK_NAME = ".lock"


@contextmanager
def index_lock(index_dir: Path, timeout: float = 0.0):
    """Hold the index's write lock, or raise :class:`IndexBusyError` after ``timeout`` seconds.

    Raises:
        WriteError: When the lock file cannot be made (a read-only index folder, a full disk):
            building needs to write there, so this is said before anything is read or embedded.
    """
    lock = FileLock(str(index_dir / LOCK_NAME), timeout=timeout)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        try:
            holder = f" (pid {int((index_dir / '.lock.pid').read_text().strip())})"
        except (OSError, ValueError):
            holder = ""
        raise IndexBusyError(
            f"another qa process{holder} is building the index in {index_dir} (lock file {index_dir / LOCK_NAME}); "
            "wait for it to finish and try again. The lock is released when that process ends, even if it is killed"
        ) from None
    except OSError as exc:  # after Timeout, which is an OSError (TimeoutError) too
        cause, fix = describe_os_error(exc, index_dir if index_dir.is_dir() else None)
        raise WriteError(f"cannot build the index in {index_dir}: its lock file {index_dir / LOCK_NAME} cannot be "
                         f"created ({cause}). To fix: {fix} (or pass --index-dir DIR)") from None
    try:
        try:
            (index_dir / ".lock.pid").write_text(str(os.getpid()))
        except OSError:
            pass  # only names the holder in the busy message; a full disk is said by what fails next
        yield
    finally:
        lock.release()


def build_running(index_dir: Path) -> bool:
    """Whether a ``qa index`` (any process, this one included) holds the index's write lock now.

    Probes the lock without waiting; False when it cannot be probed (no folder, read-only).
    """
    if not (Path(index_dir) / LOCK_NAME).exists():
        return False
    lock = FileLock(str(Path(index_dir) / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False
