"""Concurrency for the chat page: answering beside one another, index swaps alone, uploads in the background.

One article that takes a minute to answer must not hold every other user, and a large upload must
not stop questions. So:

- questions share a :class:`SwapLock` (many readers), and only the moment an updated index is
  swapped in takes it exclusively; a question is answered within a time budget
  (:class:`AnswerBudget`): past it the user gets a message instead of waiting on;
- uploads are indexed by one background :class:`IndexJob` (a worker thread) that runs the build in a
  child process (:class:`ChildBuild`, :func:`index_update`): the build writes a new index folder
  while questions are answered from the loaded one, the new one is opened beside it and only the
  swap of the loaded objects takes the lock.

Why a child process and not the worker thread itself: a 100,000-line upload is minutes of reading,
sentence splitting and embedding. On the worker thread that Python work holds the serving
process's GIL and the embedding takes both cores, so with 30 users asking at once the ordinary
answers' p95 went from under 2 s to 3.9 s (bench/load.py). In a child at lower CPU priority
(``nice``) on one thread it only gets the time the answers leave.
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path


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


# -- index builds in a child process ---------------------------------------------------------------
#: How much lower the child's CPU priority is than the server's (``os.nice`` increment; 10 gives it
#: about a tenth of a core the answers want, and every idle cycle).
CHILD_NICE = 10
#: Threads the child's model may use (torch intra-op, onnxruntime workers): one, so it never
#: takes both cores from the answers.
CHILD_THREADS = 1
#: The child is given up after this long (a build that hangs must not hold the indexer forever).
CHILD_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class BuildSpec:
    """Everything a child process needs to run the build :meth:`QAService.builder` would, as JSON.

    Made in the server from the live service (:meth:`for_service`), so the child builds with the
    same model, precision and settings and an update re-embeds nothing old.
    """

    index_dir: str
    corpus: tuple[str, ...]
    model: str
    precision: str
    batch_size: int = 32
    token_budget: int | None = None
    chunk_params: dict | None = None
    sentence_vectors: str = "pooled"
    follow_links: bool = False
    max_file_bytes: int | None = None
    ann_threshold: int | None = None
    query_encoder: bool = True
    store: str = ""  # the search store (qa.config.StoreURI text); "" is the folder's FAISS + bm25s
    nice: int = CHILD_NICE
    threads: int = CHILD_THREADS

    @classmethod
    def for_service(cls, svc, nice: int = CHILD_NICE, threads: int = CHILD_THREADS) -> "BuildSpec":
        b = svc.builder()
        emb = svc.embedder
        return cls(index_dir=str(svc.index_dir), corpus=tuple(str(p) for p in svc.corpus_paths()),
                   model=str(emb.path), precision=emb.requested_precision.value,
                   batch_size=emb.batch_size, token_budget=emb.token_budget,
                   chunk_params=b.params.to_dict(), sentence_vectors=b.sentence_vectors.value,
                   follow_links=b.follow_links, max_file_bytes=b.max_file_bytes, ann_threshold=b.ann_threshold,
                   query_encoder=b.query_encoder, store="" if b.store.kind == "faiss" else str(b.store),
                   nice=nice, threads=threads)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "BuildSpec":
        d = json.loads(text)
        d["corpus"] = tuple(d["corpus"])
        return cls(**d)


def _report_to_dict(report) -> dict:
    return {"noop": report.noop, "articles": report.articles, "chunks": report.chunks,
            "sentences": report.sentences, "added": list(report.added), "changed": list(report.changed),
            "removed": list(report.removed), "unchanged": report.unchanged,
            "embedded_texts": report.embedded_texts, "embedded_chunks": report.embedded_chunks,
            "dense_kind": report.dense_kind, "seconds": report.seconds, "timings": dict(report.timings),
            "engine": dict(report.engine), "issues": [[i.path, i.message] for i in report.issues]}


def _report_from_dict(index_dir: Path, d: dict):
    from qa.index.builder import BuildReport
    from qa.ingest.readers import IngestIssue

    fields = {f.name for f in dataclasses.fields(BuildReport)}
    kw = {k: v for k, v in d.items() if k in fields and k != "issues"}
    return BuildReport(index_dir=Path(index_dir), issues=[IngestIssue(p, m) for p, m in d.get("issues", [])], **kw)


@dataclass
class ChildBuild:
    """Run one index build in a child process (``python -m qa.present.ui_jobs``) and wait for it.

    The child lowers its own priority by ``spec.nice`` and runs its model on ``spec.threads``
    threads, builds with :class:`~qa.index.builder.IndexBuilder` (which writes a fresh build folder
    and swaps ``CURRENT`` atomically under the index's file lock, so a killed child leaves the old
    index), and writes its :class:`~qa.index.builder.BuildReport` as JSON to a file named by the
    server. Its pid is kept in :attr:`pid` while it runs (status and tests).
    """

    timeout_s: float = CHILD_TIMEOUT_S
    pid: int | None = None
    last: dict = field(default_factory=dict)  # the last child's report as JSON (with its pid and niceness)

    def run(self, spec: BuildSpec):
        """Build ``spec`` in a child; returns its :class:`~qa.index.builder.BuildReport`.

        Raises:
            QAError: the build's own error (no usable article, index busy, disk full), re-raised
                with its message; RuntimeError when the child died without saying why.
        """
        from qa.errors import QAError

        fd, out = tempfile.mkstemp(prefix="qa-build-", suffix=".json")
        os.close(fd)
        env = {**os.environ, "OMP_NUM_THREADS": str(spec.threads), "TOKENIZERS_PARALLELISM": "false",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        try:
            proc = subprocess.Popen([sys.executable, "-m", "qa.present.ui_jobs", out, str(os.getpid())],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    env=env, text=True)
            self.pid = proc.pid
            with _CHILDREN_LOCK:
                _CHILDREN.add(proc)
            try:
                _, err = proc.communicate(spec.to_json(), timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise RuntimeError(f"the indexing process took over {self.timeout_s:.0f} s and was stopped") from None
            finally:
                self.pid = None
                with _CHILDREN_LOCK:
                    _CHILDREN.discard(proc)
            try:
                result = json.loads(Path(out).read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                result = {}
        finally:
            Path(out).unlink(missing_ok=True)
        self.last = result
        if "error" in result:
            raise QAError(result["error"])
        if proc.returncode != 0 or "report" not in result:
            tail = " ".join((err or "").strip().splitlines()[-3:])[-500:]
            raise RuntimeError(f"the indexing process ended with code {proc.returncode}" + (f": {tail}" if tail else ""))
        return _report_from_dict(Path(spec.index_dir), result["report"])


_CHILDREN: set[subprocess.Popen] = set()
_CHILDREN_LOCK = threading.Lock()


def stop_children() -> int:
    """Stop every indexing child still running (the server is stopping); returns how many.

    The index they were writing stays as it was: a build becomes live only by its final atomic
    swap of ``CURRENT``, and a killed build's folder is removed by the next one.
    """
    with _CHILDREN_LOCK:
        procs = list(_CHILDREN)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    return len(procs)


atexit.register(stop_children)  # a server that exits normally leaves no indexing child behind

def _die_with_parent(parent: int) -> None:
    """Ask Linux to end this process when the server does (``PR_SET_PDEATHSIG``), so an indexing
    child never outlives a killed server; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent and os.getppid() != parent:  # the server ended before the request was made
        os._exit(1)


def child_main(out: str, spec_json: str, parent: int = 0) -> int:
    """The child's side of :class:`ChildBuild`: lower priority, build, write the report to ``out``."""
    _die_with_parent(parent)
    spec = BuildSpec.from_json(spec_json)
    try:
        os.nice(spec.nice)
    except OSError:
        pass
    result: dict = {"pid": os.getpid(), "nice": os.nice(0)}
    from qa.errors import QAError

    try:
        result["report"] = _report_to_dict(_child_build(spec))
    except QAError as exc:  # the build's own message (no usable article, index busy, disk full, no model)
        result["error"] = str(exc)
    finally:
        tmp = out + ".tmp"
        Path(tmp).write_text(json.dumps(result), encoding="utf-8")
        os.replace(tmp, out)
    return 0


def _child_build(spec: BuildSpec):
    """The build itself, in the child: the model on ``spec.threads`` threads, no progress bars."""
    from qa.config import ChunkParams
    from qa.embed.model import Embedder
    from qa.index.builder import IndexBuilder

    emb = Embedder(spec.model, batch_size=spec.batch_size, precision=spec.precision, workers=spec.threads,
                   token_budget=spec.token_budget)
    try:
        import torch

        torch.set_num_threads(max(1, spec.threads))
        torch.set_num_interop_threads(1)
    except (ImportError, RuntimeError):
        pass
    kw = {k: v for k, v in (("max_file_bytes", spec.max_file_bytes), ("ann_threshold", spec.ann_threshold))
          if v is not None}
    builder = IndexBuilder(emb, ChunkParams(**spec.chunk_params) if spec.chunk_params else None, progress=False,
                           sentence_vectors=spec.sentence_vectors, query_encoder=spec.query_encoder,
                           follow_links=spec.follow_links, store=spec.store or None, **kw)
    try:
        return builder.run([Path(p) for p in spec.corpus], Path(spec.index_dir))
    finally:
        emb.close()


def swap_in(svc, swap: SwapLock) -> None:
    """Open the index ``svc`` now points to and make the service answer from it.

    The opening (reading and checking every file, loading BM25 and FAISS: seconds for a large
    index) runs on a shallow copy of the service, outside the lock, while questions are answered
    from the loaded index; only assigning what it replaced (store, retriever, answerer) takes
    ``swap`` exclusively, which is microseconds.
    """
    import copy

    fresh = copy.copy(svc)
    fresh.reload()  # the reload QAService.update does, on the copy
    before = vars(svc)
    changed = {k: v for k, v in vars(fresh).items() if before.get(k) is not v}
    swap.acquire_write()
    try:
        for k, v in changed.items():
            setattr(svc, k, v)
    finally:
        swap.release_write()


def index_update(svc, swap: SwapLock, before: Callable[[], None] | None = None, done: str = "",
                 child: ChildBuild | None = None) -> Callable[[], str]:
    """The work an :class:`IndexJob` runs to bring ``svc``'s index up to date with its corpus and
    uploads: ``before()`` first (on the worker), the build, then :func:`swap_in`. Returns the
    message for the status line (``done`` formatted with ``{new}`` and ``{removed}``, then the
    build's warnings, upload paths shortened).

    Args:
        child: Where the build runs: a :class:`ChildBuild` (the page's default), or None to build on
            the worker thread of this process (an encoder that cannot be loaded from a path).
    """
    def work() -> str:
        if before is not None:
            before()
        if child is not None:
            report = child.run(BuildSpec.for_service(svc))
        else:
            report = svc.builder().run(svc.corpus_paths(), svc.index_dir)
        svc.last_build = report
        if not report.noop:
            swap_in(svc, swap)
        up = str(Path(svc.index_dir) / "uploads") + "/"
        issues = [str(i).replace(up, "") for i in report.issues]
        new = len(report.added) + len(report.changed)
        head = done.format(new=new, removed=len(report.removed)) if done else ""
        return " ".join([head, *issues]).strip()

    return work


if __name__ == "__main__":  # the child of ChildBuild: python -m qa.present.ui_jobs OUT_JSON PARENT_PID < spec
    sys.exit(child_main(sys.argv[1], sys.stdin.read(), int(sys.argv[2]) if len(sys.argv) > 2 else 0))
