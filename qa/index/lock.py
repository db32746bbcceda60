"""One writer at a time per index folder, with a message that says who holds the lock."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from qa.errors import IndexBusyError

LOCK_NAME = ".lock"


@contextmanager
def index_lock(index_dir: Path, timeout: float = 0.0):
    """Hold the index's write lock, or raise :class:`IndexBusyError` after ``timeout`` seconds."""
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK_NAME), timeout=timeout)
    try:
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
    try:
        (index_dir / ".lock.pid").write_text(str(os.getpid()))
        yield
    finally:
        lock.release()
