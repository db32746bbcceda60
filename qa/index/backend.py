"""The search seam: dense and lexical search over an index's passages, behind one small interface.

Retrieval (:class:`~qa.retrieve.hybrid.HybridRetriever`) and the builder speak only to a
:class:`SearchBackend`, in the index's own terms: chunk *rows* (the order of the index folder's
chunk table), :class:`Where` filters, :class:`Hits`. Two stores implement it:

- :class:`FaissBackend` (the default): FAISS over the folder's chunk vectors and bm25s over its
  chunk texts, exactly what qa did before the seam existed, with the same ranking and speed.
- :class:`~qa.index.milvus.MilvusBackend`: a Milvus collection (an embedded ``milvus-lite`` file
  or a server), which filters on its own scalar fields and runs BM25 itself where it can.

No FAISS, bm25s or Milvus type crosses the seam: callers get NumPy rows and Python floats, so the
two stores can be compared on ranked ids, and fused by qa's own RRF (:mod:`qa.retrieve.fusion`).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

#: Allowed rows up to this many are scored exactly (one matrix product) instead of through FAISS ...
EXACT_ROWS = 20_000
#: ... and so are allowed rows that are under this share of the index, however many. An HNSW graph
#: searched with a selector walks the graph and keeps only the admitted rows it meets, so a filter
#: that admits few rows starves it: over 60,000 clustered vectors with efSearch 128, admitting 1% of
#: rows returned 13 of 100 candidates (recall@10 0.32), 5% returned 62 (0.54), 20% all 100 (0.72).
#: That is why a hand-made 10-day ``--from/--to`` window over news-realtimeqa (about 68,000
#: chunks, so HNSW) lost answers instead of focusing them.
EXACT_SHARE = 0.5


@dataclass(frozen=True)
class Condition:
    """One condition on a passage's article, in a form every store can evaluate.

    Attributes:
        sources: The article's outlet (lower-cased) is one of these; empty: any outlet.
        date_from: The article is dated on or after this day (``YYYY-MM-DD``) ...
        date_to: ... and on or before this one; both None: no date bound.
        undated: Undated articles pass the date bound (they fail it by default).
    """

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    undated: bool = False

    def admits(self, source: str, date: str) -> bool:
        """Whether an article of this outlet (lower-cased) and date (``""``: undated) passes."""
        if self.sources and source not in self.sources:
            return False
        if self.date_from is None and self.date_to is None:
            return True
        if not date:
            return self.undated
        return (self.date_from or "0000-00-00") <= date <= (self.date_to or "9999-99-99")


@dataclass(frozen=True)
class Where:
    """A filter on passages, in both the forms stores need.

    ``rows`` are the chunk rows it admits, computed once from the folder's article table (FAISS
    searches among them, and every store uses their count to choose exact or approximate search);
    ``conditions`` are the same set as conditions that must all hold, which a store with scalar
    fields (Milvus) pushes into its own filter expression.
    """

    rows: np.ndarray
    conditions: tuple[Condition, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Hits:
    """Ranked chunk rows (best first) and each one's score."""

    ids: list[int] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkRecord:
    """One passage as a store keeps it.

    Attributes:
        chunk_id: ``<doc_id>#<n>``, unique in the index.
        doc_id: The article it belongs to (what replace and delete go by).
        outlet: The article's outlet, lower-cased (``""`` when unknown).
        date: The article's date ``YYYY-MM-DD`` (``""`` when undated).
        terms: The passage's BM25 terms (stemmed, stop words removed, space-separated), so that a
            store's own BM25 sees exactly the terms bm25s does.
        vector: The passage's unit vector.
    """

    chunk_id: str
    doc_id: str
    outlet: str
    date: str
    terms: str
    vector: np.ndarray


@runtime_checkable
class SearchBackend(Protocol):
    """What retrieval and the builder need from a store of passages."""

    #: ``faiss``, ``milvus-lite`` or ``milvus``.
    kind: str
    #: Whether :meth:`lexical` works; a Milvus server older than 2.5 has no BM25.
    lexical_available: bool
    #: Passages live in the index folder and are written with it (FAISS): the builder writes the
    #: folder, not :meth:`replace` / :meth:`delete`.
    in_folder: bool
    #: Opened while a build was bringing the store one build past the folder's: the articles that
    #: build changes may be missed (answers say so).
    updating: bool

    def dense(self, query_vector: np.ndarray, depth: int, where: Where | None = None) -> Hits:
        """The ``depth`` passages nearest ``query_vector`` (cosine), among ``where`` when given."""

    def lexical(self, query: str, depth: int, where: Where | None = None) -> Hits:
        """The ``depth`` best passages by BM25 with a positive score, among ``where`` when given."""

    def replace(self, doc_ids: list[str], chunks: list[ChunkRecord]) -> None:
        """Remove every passage of ``doc_ids`` and add ``chunks`` (an article's new passages)."""

    def delete(self, doc_ids: list[str]) -> None:
        """Remove every passage of ``doc_ids``."""

    def count(self) -> int:
        """How many passages the store holds."""


def top_positive(all_scores: np.ndarray, allowed: np.ndarray | None, depth: int) -> Hits:
    """The ``depth`` best rows with a positive score (ties kept in row order), among ``allowed``."""
    if allowed is not None:
        masked = np.zeros_like(all_scores)
        masked[allowed] = all_scores[allowed]
        all_scores = masked
    positive = np.flatnonzero(all_scores > 0)
    if len(positive) > depth:  # keep the depth best (and any tied with the last) before sorting
        cut = np.partition(all_scores[positive], len(positive) - depth)[len(positive) - depth]
        positive = positive[all_scores[positive] >= cut]
    top = positive[np.lexsort((positive, -all_scores[positive]))][:depth]
    return Hits([int(i) for i in top], {int(i): float(all_scores[i]) for i in top})


class FaissBackend:
    """Today's folder store: FAISS (exact or HNSW) over chunk vectors, bm25s over chunk texts.

    Args:
        data: The loaded :class:`~qa.index.store.IndexData` (anything with ``dense``,
            ``chunk_vectors`` and ``lexical``; attributes are read when first used).

    A question's BM25 scores over every chunk are kept for the next call with the same question:
    the retriever asks again for a time window's rows, and that must not score the corpus twice.
    """

    kind = "faiss"
    lexical_available = True
    in_folder = True
    updating = False  # written with its folder: never out of step with it

    def __init__(self, data) -> None:
        self.data = data
        self._last: tuple[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def dense(self, query_vector: np.ndarray, depth: int, where: Where | None = None) -> Hits:
        """Exactly over an allowed set that is small or a small share of the index (see
        :data:`EXACT_SHARE`), else through FAISS."""
        from qa.index.dense import search_dense

        allowed = None if where is None else where.rows
        if allowed is not None and (len(allowed) <= EXACT_ROWS
                                    or len(allowed) < EXACT_SHARE * self.data.dense.ntotal):
            if len(allowed) == 0:
                return Hits()
            scores = np.asarray(self.data.chunk_vectors[allowed], dtype=np.float32) @ np.asarray(
                query_vector, dtype=np.float32).reshape(-1)
            top = np.lexsort((allowed, -scores))[:depth]
            ids, vals = allowed[top], scores[top]
        else:
            ids, vals = search_dense(self.data.dense, query_vector, depth, allowed)
        return Hits([int(i) for i in ids], {int(i): float(v) for i, v in zip(ids, vals)})

    def all_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk row for ``query`` (the last question's are reused)."""
        last = self._last
        if last is not None and last[0] == query:
            return last[1]
        scores = self.data.lexical.scores(query)
        with self._lock:
            self._last = (query, scores)
        return scores

    def lexical(self, query: str, depth: int, where: Where | None = None) -> Hits:
        return top_positive(self.all_scores(query), None if where is None else where.rows, depth)

    def replace(self, doc_ids: list[str], chunks: list[ChunkRecord]) -> None:
        raise TypeError("the FAISS store is written with its index folder (qa.index.store.write_index)")

    def delete(self, doc_ids: list[str]) -> None:
        raise TypeError("the FAISS store is written with its index folder (qa.index.store.write_index)")

    def count(self) -> int:
        return int(self.data.dense.ntotal)
