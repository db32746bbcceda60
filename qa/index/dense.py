"""The FAISS index over chunk vectors: exact inner product for small corpora, HNSW for large ones.

Vectors are L2-normalised, so inner product is cosine similarity.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.config import ANN_THRESHOLD, Choice
from qa import threads


class DenseKind(Choice):
    """Which FAISS index to build."""

    FLAT = "flat"
    HNSW = "hnsw"

    @classmethod
    def for_size(cls, n: int, threshold: int = ANN_THRESHOLD) -> "DenseKind":
        return cls.HNSW if n >= threshold else cls.FLAT


def _faiss():
    # Before FAISS's own OpenMP runtime starts: idle threads sleep rather than spin (see Embedder.model).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    return faiss


def one_thread():
    """FAISS on one OpenMP thread inside the block (:mod:`qa.threads`): exact search of one
    question over 12,497 news-bbc chunks took 0.51 ms on one thread and 1.84 ms on two."""
    faiss = _faiss()
    return threads.one_thread(faiss.omp_get_max_threads, faiss.omp_set_num_threads)


def build_dense(vectors: np.ndarray, kind: DenseKind, hnsw_m: int = 32, ef_construction: int = 80):
    faiss = _faiss()

    dim = vectors.shape[1]
    if kind is DenseKind.HNSW:
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save_dense(index, path: Path) -> None:
    faiss = _faiss()

    faiss.write_index(index, str(path))


def load_dense(path: Path):
    faiss = _faiss()

    return faiss.read_index(str(path))


def search_dense(index, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
                 ef_search: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` chunk rows and scores for one query vector.

    Args:
        index: A FAISS index built by :func:`build_dense`.
        query: ``(dim,)`` unit vector.
        k: How many results.
        allowed: Optional chunk rows to search among (filters apply before ranking).
        ef_search: HNSW search breadth (default 128); ignored for flat indexes.
    """
    faiss = _faiss()

    k = min(k, index.ntotal if allowed is None else len(allowed))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    params = None
    if isinstance(index, faiss.IndexHNSWFlat):
        params = faiss.SearchParametersHNSW(efSearch=max(ef_search, k))
    if allowed is not None:
        sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        if params is None:
            params = faiss.SearchParameters(sel=sel)
        else:
            params.sel = sel
    with one_thread():
        scores, ids = index.search(q, k, params=params) if params is not None else index.search(q, k)
    keep = ids[0] >= 0
    return ids[0][keep], scores[0][keep]
