"""Hybrid retrieval over an :class:`~qa.index.store.IndexStore`.

Dense and BM25 candidates are gathered with the same filters (outlet, date range) applied before
ranking, fused by reciprocal rank, and cleared of duplicate passages. Every passage keeps its
provenance: dense rank and score, BM25 rank and score, fused score.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from qa.config import Choice
from qa.embed.model import Embedder
from qa.index.dense import search_dense
from qa.index.store import IndexStore
from qa.retrieve.fusion import RRF_K, rrf
from qa.types import Passage


class RetrievalMode(Choice):
    """Which retrievers to use."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some outlets and a date range (inclusive, ``YYYY-MM-DD``).

    Articles without a date are excluded when a date bound is set.
    """

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        for d in (self.date_from, self.date_to):
            if d is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", d):
                raise ValueError(f"dates must be YYYY-MM-DD, got {d!r}")

    @property
    def active(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to)


@dataclass
class RetrievalResult:
    passages: list[Passage]
    query_vector: np.ndarray | None
    timing_ms: dict[str, float] = field(default_factory=dict)


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

    In hybrid mode BM25 scores the question on a worker thread while the model embeds it: the
    embedding is most of a query (bench/RESULTS.md) and releases the GIL, so BM25 costs no wall time.
    """

    def __init__(self, store: IndexStore, embedder: Embedder, mode: RetrievalMode | str = RetrievalMode.HYBRID,
                 depth: int = 100, rrf_k: int = RRF_K) -> None:
        self.store = store
        self.embedder = embedder
        self.mode = RetrievalMode.parse(mode)
        self.depth = depth
        self.rrf_k = rrf_k
        self._worker = None
        arts = store.articles
        self._art_source = np.array([(a.source or "").lower() for a in arts], dtype=object)
        self._art_date = np.array([a.date or "" for a in arts], dtype=object)

    def embed(self, queries: list[str]) -> np.ndarray:
        """Embed questions in one batch (for batch mode)."""
        return self.embedder.encode(queries)

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
            ok &= np.array([bool(d) and lo <= d <= hi for d in self._art_date], dtype=bool)
        return np.flatnonzero(ok[self.store.data.chunk_doc])

    def run(self, query: str, k: int = 10, filters: Filters | None = None,
            mode: RetrievalMode | str | None = None, query_vector: np.ndarray | None = None) -> RetrievalResult:
        """Retrieve the top ``k`` passages for ``query``."""
        mode = RetrievalMode.parse(mode) if mode is not None else self.mode
        timing: dict[str, float] = {}
        allowed = self.allowed_rows(filters)
        if allowed is not None and len(allowed) == 0:
            return RetrievalResult([], query_vector, timing)
        depth = max(self.depth, 3 * k)

        lexical = None
        if mode is RetrievalMode.HYBRID and query_vector is None:
            lexical = self._lexical_worker().submit(self._bm25, query, allowed, depth)
        dense_ids: list[int] = []
        dense_scores: dict[int, float] = {}
        if query_vector is None and mode is not RetrievalMode.BM25:
            t = time.perf_counter()
            query_vector = self.embedder.encode_query(query)
            timing["embed"] = (time.perf_counter() - t) * 1000
        if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE):
            t = time.perf_counter()
            ids, scores = search_dense(self.store.data.dense, query_vector, depth, allowed)
            dense_ids = [int(i) for i in ids]
            dense_scores = {int(i): float(s) for i, s in zip(ids, scores)}
            timing["dense"] = (time.perf_counter() - t) * 1000

        bm25_ids: list[int] = []
        bm25_scores: dict[int, float] = {}
        if mode in (RetrievalMode.HYBRID, RetrievalMode.BM25):
            bm25_ids, bm25_scores, timing["bm25"] = (lexical.result() if lexical is not None
                                                     else self._bm25(query, allowed, depth))

        t = time.perf_counter()
        if mode is RetrievalMode.HYBRID:
            fused = rrf([dense_ids, bm25_ids], k=self.rrf_k)
        elif mode is RetrievalMode.DENSE:
            fused = dense_scores
        else:
            fused = bm25_scores
        order = sorted(fused, key=lambda i: (-fused[i], i))
        dense_rank = {c: r for r, c in enumerate(dense_ids, start=1)}
        bm25_rank = {c: r for r, c in enumerate(bm25_ids, start=1)}
        passages = self._select(order, fused, k, dense_rank, dense_scores, bm25_rank, bm25_scores)
        timing["fusion"] = (time.perf_counter() - t) * 1000
        return RetrievalResult(passages, query_vector, timing)

    def _lexical_worker(self):
        from concurrent.futures import ThreadPoolExecutor

        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-bm25")
        return self._worker

    def _bm25(self, query: str, allowed: np.ndarray | None, depth: int) -> tuple[list[int], dict[int, float], float]:
        """Top ``depth`` chunk rows by BM25 (only rows in ``allowed`` when given), their scores, and ms taken."""
        t = time.perf_counter()
        all_scores = self.store.data.lexical.scores(query)
        if allowed is not None:
            masked = np.zeros_like(all_scores)
            masked[allowed] = all_scores[allowed]
            all_scores = masked
        positive = np.flatnonzero(all_scores > 0)
        if len(positive) > depth:  # keep the depth best (and any tied with the last) before sorting
            cut = np.partition(all_scores[positive], len(positive) - depth)[len(positive) - depth]
            positive = positive[all_scores[positive] >= cut]
        top = positive[np.lexsort((positive, -all_scores[positive]))][:depth]
        return [int(i) for i in top], {int(i): float(all_scores[i]) for i in top}, (time.perf_counter() - t) * 1000

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
