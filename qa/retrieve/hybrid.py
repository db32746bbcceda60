"""Hybrid retrieval over an :class:`~qa.index.store.IndexStore`, searched through a
:class:`~qa.index.backend.SearchBackend` (the folder's FAISS + bm25s by default, or Milvus).

Dense and BM25 candidates are gathered with the same filters (outlet, date range, as-of date)
applied before ranking, fused by reciprocal rank, and cleared of duplicate passages. Every passage
keeps its provenance: dense rank and score, BM25 rank and score, fused score.

A question's time frame ("this week", :mod:`qa.retrieve.timeframe`) is a preference, not a filter:
the passages inside the window are retrieved on their own as well and fused in as two more ranked
lists, so they rise without anything outside being dropped. A window that holds nothing about the
question (its best passage far below the best overall) is widened step by step, and given up when
even the widest holds nothing.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from qa.config import Choice
from qa.embed.model import Embedder
from qa.index.backend import Condition, FaissBackend, SearchBackend, Where
from qa.index.store import IndexStore
from qa.retrieve.fusion import RRF_K, rrf
from qa.retrieve.timeframe import TimeFrame
from qa.types import Passage


class RetrievalMode(Choice):
    """Which retrievers to use."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some outlets, a date range (inclusive, ``YYYY-MM-DD``) and an as-of date.

    Articles without a date are excluded when a date range bound is set, unless ``keep_undated``
    (default False). ``as_of`` is the day a question is asked on: articles dated after it are
    excluded, undated ones are kept (nothing says they are from the future).
    """

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    as_of: str | None = None
    #: Keep undated articles when a date range is set (they are dropped by default: nothing says
    #: they fall inside the range); the UI offers this when a range left undated articles out.
    keep_undated: bool = False

    def __post_init__(self) -> None:
        for d in (self.date_from, self.date_to, self.as_of):
            if d is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", d):
                raise ValueError(f"dates must be YYYY-MM-DD, got {d!r}")

    @property
    def active(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to or self.as_of)

    def conditions(self) -> tuple[Condition, ...]:
        """The filters as store-neutral conditions (all must hold), for stores that filter themselves."""
        out = []
        if self.sources:
            out.append(Condition(sources=tuple(sorted({s.lower() for s in self.sources}))))
        if self.date_from or self.date_to:
            out.append(Condition(date_from=self.date_from or None, date_to=self.date_to or None,
                                 undated=self.keep_undated))
        if self.as_of:
            out.append(Condition(date_to=self.as_of, undated=True))
        return tuple(out)


@dataclass
class RetrievalResult:
    """Passages best first, the question's vector, timings, and the time window that was favoured.

    ``frame`` is the window (possibly widened from the one asked) whose passages were fused in, or
    None when there was no time frame or no window held anything relevant; ``frame_asked`` is the
    window as asked.
    """

    passages: list[Passage]
    query_vector: np.ndarray | None
    timing_ms: dict[str, float] = field(default_factory=dict)
    frame: TimeFrame | None = None
    frame_asked: TimeFrame | None = None
    #: What the reader should know about how retrieval ran (e.g. a store without BM25).
    notes: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


class HybridRetriever:
    """Find the passages that best answer a question.

    Args:
        store: The loaded index.
        embedder: The model the index was built with.
        mode: ``hybrid`` (default), ``dense`` or ``bm25``.
        depth: Candidates taken from each retriever before fusion (default 100).
        rrf_k: RRF damping constant (default 60).
        window_weight: RRF weight of the two in-window lists of a time frame (default 1.0).
        window_margin: A window counts as holding something relevant when its best dense score is
            within this of the best overall (default 0.1, cosine) ...
        window_bm25_ratio: ... or its best BM25 score at least this share of the best overall (default 0.7).
        backend: The search store (default: the folder's FAISS + bm25s, :class:`~qa.index.backend.FaissBackend`).

    In hybrid mode BM25 scores the question on a worker thread while the model embeds it: the
    embedding is most of a query (bench/RESULTS.md) and releases the GIL, so BM25 costs no wall time.
    """

    def __init__(self, store: IndexStore, embedder: Embedder, mode: RetrievalMode | str = RetrievalMode.HYBRID,
                 depth: int = 100, rrf_k: int = RRF_K, window_weight: float = 1.0, window_margin: float = 0.1,
                 window_bm25_ratio: float = 0.7, backend: SearchBackend | None = None) -> None:
        self.store = store
        self.backend = backend if backend is not None else FaissBackend(store.data)
        self.embedder = embedder
        self.mode = RetrievalMode.parse(mode)
        self.depth = depth
        self.rrf_k = rrf_k
        self.window_weight = window_weight
        self.window_margin = window_margin
        self.window_bm25_ratio = window_bm25_ratio
        self._worker = None
        arts = store.articles
        self._art_source = np.array([(a.source or "").lower() for a in arts], dtype=object)
        self._art_date = np.array([a.date or "" for a in arts], dtype=object)

    def embed(self, queries: list[str]) -> np.ndarray:
        """Embed questions in one batch (for batch mode) with the question encoder, which stays
        float32 whatever the documents were embedded in."""
        encode = getattr(self.embedder, "encode_queries", None) or self.embedder.encode
        return encode(queries)

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """Chunk rows that pass ``filters``, or None when nothing is filtered."""
        if filters is None or not filters.active:
            return None
        ok = np.ones(len(self.store.articles), dtype=bool)
        if filters.sources:
            wanted = {s.lower() for s in filters.sources}
            ok &= np.array([s in wanted for s in self._art_source], dtype=bool)
        if filters.date_from or filters.date_to:
            lo, hi = filters.date_from or "0000-00-00", filters.date_to or "9999-99-99"
            ok &= np.array([(not d and filters.keep_undated) or (bool(d) and lo <= d <= hi)
                            for d in self._art_date], dtype=bool)
        if filters.as_of:
            ok &= np.array([not d or d <= filters.as_of for d in self._art_date], dtype=bool)
        return np.flatnonzero(ok[self.store.data.chunk_doc])

    def where(self, filters: Filters | None) -> Where | None:
        """``filters`` as the seam's :class:`~qa.index.backend.Where` (rows and conditions), or None."""
        rows = self.allowed_rows(filters)
        return None if rows is None else Where(rows, filters.conditions())

    def window_where(self, frame: TimeFrame, where: Where | None) -> Where:
        """The passages of dated articles inside ``frame`` (and in ``where`` when given)."""
        rows = self.window_rows(frame, None if where is None else where.rows)
        cond = Condition(date_from=frame.start, date_to=frame.end)
        return Where(rows, (where.conditions if where is not None else ()) + (cond,))

    def window_rows(self, frame: TimeFrame, allowed: np.ndarray | None) -> np.ndarray:
        """Chunk rows of dated articles inside ``frame`` (and in ``allowed`` when given)."""
        inside = np.array([frame.contains(d) for d in self._art_date], dtype=bool)
        rows = np.flatnonzero(inside[self.store.data.chunk_doc])
        return rows if allowed is None else np.intersect1d(rows, allowed, assume_unique=True)

    @staticmethod
    def _as_where(where: Where | np.ndarray | None) -> Where | None:
        return Where(np.asarray(where)) if where is not None and not isinstance(where, Where) else where

    def _dense(self, query_vector: np.ndarray, depth: int, where: Where | np.ndarray | None) -> tuple[list[int], dict[int, float]]:
        """Top ``depth`` chunk rows by cosine among ``where`` (a :class:`Where` or allowed rows),
        from the store (the FAISS store scores small allowed sets exactly, see :data:`qa.index.backend.EXACT_SHARE`)."""
        hits = self.backend.dense(query_vector, depth, self._as_where(where))
        return hits.ids, hits.scores

    def run(self, query: str, k: int = 10, filters: Filters | None = None,
            mode: RetrievalMode | str | None = None, query_vector: np.ndarray | None = None,
            prefer: TimeFrame | None = None) -> RetrievalResult:
        """Retrieve the top ``k`` passages for ``query``, favouring those inside ``prefer``'s window."""
        mode = RetrievalMode.parse(mode) if mode is not None else self.mode
        timing: dict[str, float] = {}
        notes: list[str] = []
        where = self.where(filters)
        if where is not None and len(where) == 0:
            return RetrievalResult([], query_vector, timing, frame_asked=prefer)
        depth = max(self.depth, 3 * k)
        if mode is RetrievalMode.HYBRID and not self.backend.lexical_available:
            mode = RetrievalMode.DENSE
            notes.append(f"the {self.backend.kind} store has no BM25 (a Milvus server older than 2.5): "
                         "only dense retrieval is available")
        if self.backend.updating:
            notes.append(f"the {self.backend.kind} store was being updated when this index was opened: articles "
                         "the update changes may be missed until the index is reopened")

        lexical = None
        if mode is RetrievalMode.HYBRID and query_vector is None:
            lexical = self._lexical_worker().submit(self._bm25_all, query, where, depth)
        dense_ids: list[int] = []
        dense_scores: dict[int, float] = {}
        if query_vector is None and mode is not RetrievalMode.BM25:
            t = time.perf_counter()
            query_vector = self.embedder.encode_query(query)
            timing["embed"] = (time.perf_counter() - t) * 1000
        if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE):
            t = time.perf_counter()
            dense_ids, dense_scores = self._dense(query_vector, depth, where)
            timing["dense"] = (time.perf_counter() - t) * 1000

        bm25_ids: list[int] = []
        bm25_scores: dict[int, float] = {}
        if mode in (RetrievalMode.HYBRID, RetrievalMode.BM25):
            bm25_ids, bm25_scores, timing["bm25"] = (lexical.result() if lexical is not None
                                                     else self._bm25_all(query, where, depth))

        t = time.perf_counter()
        lists = [ids for ids, m in ((dense_ids, RetrievalMode.DENSE), (bm25_ids, RetrievalMode.BM25))
                 if mode in (RetrievalMode.HYBRID, m)]
        weights = [1.0] * len(lists)
        frame = None
        if prefer is not None:
            frame, extra = self._window_lists(prefer, where, query_vector, query, mode, depth,
                                              dense_scores, bm25_scores)
            for ids, (kind, scores) in extra:
                lists.append(ids)
                weights.append(self.window_weight * prefer.weight)
                mine = dense_scores if kind == "d" else bm25_scores
                for i in ids:  # an in-window passage the overall lists missed keeps its own scores
                    mine.setdefault(i, scores[i])
            timing["window"] = (time.perf_counter() - t) * 1000
        if mode is RetrievalMode.HYBRID or frame is not None:
            fused = rrf(lists, k=self.rrf_k, weights=weights)
        elif mode is RetrievalMode.DENSE:
            fused = dense_scores
        else:
            fused = bm25_scores
        order = sorted(fused, key=lambda i: (-fused[i], i))
        dense_rank = {c: r for r, c in enumerate(dense_ids, start=1)}
        bm25_rank = {c: r for r, c in enumerate(bm25_ids, start=1)}
        passages = self._select(order, fused, k, dense_rank, dense_scores, bm25_rank, bm25_scores)
        timing["fusion"] = (time.perf_counter() - t) * 1000
        return RetrievalResult(passages, query_vector, timing, frame=frame, frame_asked=prefer, notes=notes)

    def _window_lists(self, prefer: TimeFrame, where: Where | None, query_vector, query: str, mode, depth,
                      dense_scores: dict[int, float], bm25_scores: dict[int, float]):
        """The narrowest widening of ``prefer`` that holds something relevant, and its ranked lists
        (``[(ids, ("d"|"b", scores))]``); ``(None, [])`` when none does."""
        best_dense = max(dense_scores.values(), default=None)
        best_bm25 = max(bm25_scores.values(), default=None)
        for frame in prefer.widenings():
            inside = self.window_where(frame, where)
            if len(inside) == 0:
                continue
            extra = []
            strong = False
            if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE) and query_vector is not None:
                ids, sc = self._dense(query_vector, depth, inside)
                if ids:
                    extra.append((ids, ("d", sc)))
                    strong |= best_dense is None or sc[ids[0]] >= best_dense - self.window_margin
            if mode in (RetrievalMode.HYBRID, RetrievalMode.BM25) and query:
                hits = self.backend.lexical(query, depth, inside)
                ids, sc = hits.ids, hits.scores
                if ids:
                    extra.append((ids, ("b", sc)))
                    strong |= not best_bm25 or sc[ids[0]] >= self.window_bm25_ratio * best_bm25
            if extra and strong:
                return frame, extra
        return None, []

    def _lexical_worker(self):
        from concurrent.futures import ThreadPoolExecutor

        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-bm25")
        return self._worker

    def _bm25(self, query: str, where: Where | np.ndarray | None, depth: int) -> tuple[list[int], dict[int, float], float]:
        """Top ``depth`` chunk rows by BM25 (only those ``where`` admits when given), their scores, and ms taken."""
        return self._bm25_all(query, self._as_where(where), depth)

    def _bm25_all(self, query: str, where: Where | None, depth: int):
        """As :meth:`_bm25` (the FAISS store keeps the question's scores for the in-window lists)."""
        t = time.perf_counter()
        hits = self.backend.lexical(query, depth, where)
        return hits.ids, hits.scores, (time.perf_counter() - t) * 1000

    def _select(self, order, fused, k, dense_rank, dense_scores, bm25_rank, bm25_scores) -> list[Passage]:
        """Take passages best first, skipping repeats: the same text again (syndicated copy) or a
        chunk mostly inside one already taken from the same article."""
        d = self.store.data
        taken: list[Passage] = []
        seen_text: set[str] = set()
        spans: dict[int, list[tuple[int, int]]] = {}
        for row in order:
            if len(taken) >= k:
                break
            doc = int(d.chunk_doc[row])
            start, end = int(d.chunk_span[row, 0]), int(d.chunk_span[row, 1])
            text = self.store.chunk_text(row)
            key = _norm(text)
            if key in seen_text:
                continue
            if any(min(end, e) - max(start, s) > 0.5 * min(end - start, e - s) for s, e in spans.get(doc, [])):
                continue
            seen_text.add(key)
            spans.setdefault(doc, []).append((start, end))
            art = self.store.articles[doc]
            taken.append(Passage(
                rank=len(taken) + 1, chunk_id=d.chunk_ids[row], doc_id=art.doc_id, text=text, start=start,
                end=end, score=float(fused[row]), dense_rank=dense_rank.get(row), dense_score=dense_scores.get(row),
                bm25_rank=bm25_rank.get(row), bm25_score=bm25_scores.get(row), title=art.title,
                source=art.source, date=art.date,
            ))
        return taken
