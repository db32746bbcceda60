"""Concurrency for the chat page: answering beside one another, index swaps alone, uploads in the background.

One article that takes a minute to answer must not hold every other user, and a large upload must
not stop questions. So:

- questions share a :class:`SwapLock` (many readers), and only the moment an updated index is
  swapped in takes it exclusively; a question is answered within a time budget
  (:class:`AnswerBudget`): past it the user gets a message instead of waiting on;
- uploads are indexed by one background :class:`IndexJob` (a worker thread): the build writes a new
  index folder while questions are answered from the loaded one, then the new one is swapped in.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field


class SwapLock:
    """A readers-writer lock that favours the writer (an index swap waits only for the questions
    already running, and new questions wait for the swap, which takes milliseconds)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._waiting_writers = 0

    def acquire_read(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._writing or self._waiting_writers:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            self._readers += 1
            return True

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._waiting_writers += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._waiting_writers -= 1
            self._writing = True

    def release_write(self) -> None:
        with self._cond:
            self._writing = False
            self._cond.notify_all()


class BudgetExceeded(TimeoutError):
    """A question that was not answered within its time budget."""


class AnswerBudget:
    """Run answers on a few worker threads and stop waiting for one after ``seconds``.

    Python cannot stop a running thread, so a question past its budget finishes in the background
    (its result is dropped); what the budget buys is that its user hears back, and, with the
    questions answered beside one another (:class:`SwapLock`), nobody else waits behind it.

    Args:
        seconds: The budget per question (default 20 s: two orders of magnitude above an ordinary
            answer, far below the minute a pathological article took).
        workers: Questions answered at once (default 4, the page's concurrency limit).
    """

    def __init__(self, seconds: float = 20.0, workers: int = 4) -> None:
        self.seconds = seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qa-answer")

    def run(self, fn: Callable[[], dict]) -> dict:
        fut = self._pool.submit(fn)
        try:
            return fut.result(timeout=self.seconds)
        except FutureTimeout:
            raise BudgetExceeded(f"this question took more than {self.seconds:.0f} s to answer and was "
                                 "given up; try a narrower question or filter out the article") from None


@dataclass
class JobState:
    """What the background indexer is doing, for the status line."""

    running: bool = False
    message: str = ""
    started: float = 0.0
    finished: float = 0.0
    generation: int = 0  # bumped when a job finishes, so the page knows to refresh its lists
    queued: int = 0


@dataclass
class IndexJob:
    """One background worker that runs index updates one after another.

    ``submit(work, describe)``: ``work()`` runs on the worker and returns the message to show when
    done; ``describe`` is shown while it runs (with the seconds elapsed).
    """

    state: JobState = field(default_factory=JobState)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="qa-index"),
                                      repr=False)

    def submit(self, work: Callable[[], str], describe: str):
        with self._lock:
            self.state.queued += 1
            if not self.state.running:
                self.state.message = describe
        return self._pool.submit(self._run, work, describe)

    def _run(self, work: Callable[[], str], describe: str) -> str:
        with self._lock:
            self.state.running, self.state.message, self.state.started = True, describe, time.monotonic()
        try:
            msg = work()
        except Exception as exc:  # noqa: BLE001 - reported on the page; the loaded index is untouched
            msg = f"Indexing failed ({type(exc).__name__}: {exc}); the articles indexed before are still searched."
        with self._lock:
            self.state.queued -= 1
            self.state.running = self.state.queued > 0
            self.state.message, self.state.finished = msg, time.monotonic()
            self.state.generation += 1
        return msg

    def progress(self) -> str:
        """A line for the status: the running job with its elapsed seconds, or the last result."""
        with self._lock:
            s = self.state
            if s.running:
                more = f" ({s.queued - 1} more queued)" if s.queued > 1 else ""
                return f"{s.message} {time.monotonic() - s.started:.0f} s{more}; questions are answered meanwhile."
            return s.message
