"""Run a block of work on one OpenMP thread.

On a laptop CPU one question is too little work to share between threads: waking an idle OpenMP
thread (they sleep, see ``OMP_WAIT_POLICY`` in :mod:`qa.embed.model`) costs more than it saves.
OpenMP keeps the thread count per calling thread, so a concurrent caller keeps its own.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def one_thread(get_threads: Callable[[], int], set_threads: Callable[[int], None]) -> Iterator[None]:
    """Set a library's thread count to 1 inside the block and restore it after.

    Args:
        get_threads: The library's getter (``torch.get_num_threads``, ``faiss.omp_get_max_threads``).
        set_threads: Its setter.
    """
    before = get_threads()
    set_threads(1)
    try:
        yield
    finally:
        set_threads(before)
