"""FAISS at scale: exact vs HNSW vs IVF on vectors with real-embedding structure.

Base vectors are real MiniLM vectors (the chunk and sentence vectors of the indexes the build
section made), grown to the target size by mixing two real vectors with a random weight and adding
small Gaussian noise, then renormalised: the set keeps the clustered, anisotropic shape of real
embeddings, unlike uniform random vectors (on which every ANN index looks worse than it is).
Queries are real embeddings of generated questions; recall@10 is against exact search.
"""
from __future__ import annotations

import math
import time

import numpy as np

from bench.common import Section, rss_mb, summary_ms


def synth(real: np.ndarray, n: int, seed: int = 0, noise: float = 0.25, block: int = 100_000) -> np.ndarray:
    """``n`` unit vectors: the real ones first, then mixtures ``a + w·b + ε`` of real ones."""
    rng = np.random.default_rng(seed)
    d = real.shape[1]
    out = np.empty((n, d), dtype=np.float32)
    m = min(n, len(real))
    out[:m] = real[:m]
    for lo in range(m, n, block):
        hi = min(n, lo + block)
        a = real[rng.integers(0, len(real), hi - lo)]
        b = real[rng.integers(0, len(real), hi - lo)]
        w = rng.uniform(0.0, 0.5, (hi - lo, 1)).astype(np.float32)
        v = a + w * b + rng.normal(0, noise / math.sqrt(d), (hi - lo, d)).astype(np.float32)
        out[lo:hi] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def _latency(index, queries: np.ndarray, k: int = 10, params=None) -> tuple[dict, np.ndarray]:
    """Search one query at a time on one thread (as qa does); per-query ms and the result ids."""
    from qa.index.dense import one_thread

    ids = np.empty((len(queries), k), dtype=np.int64)
    ms = []
    with one_thread():
        for i, q in enumerate(queries):
            t = time.perf_counter()
            _, I = index.search(q[None, :], k, params=params) if params is not None else index.search(q[None, :], k)
            ms.append((time.perf_counter() - t) * 1000)
            ids[i] = I[0]
    return summary_ms(ms), ids


def recall_at_k(ids: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(ids, truth)]))


def _build(make, vectors: np.ndarray, train: np.ndarray | None = None):
    import faiss

    before = rss_mb()
    t = time.perf_counter()
    index = make()
    if train is not None:
        index.train(train)
    index.add(vectors)
    build_s = time.perf_counter() - t
    return index, {"build_s": round(build_s, 2), "rss_delta_mb": round(rss_mb() - before),
                   "bytes_mb": round(faiss.serialize_index(index).nbytes / 2**20, 1)}


def bench_size(vectors: np.ndarray, queries: np.ndarray, hnsw: tuple[int, int] | None, log,
               train_per_list: int = 39) -> dict:
    import faiss

    n, d = vectors.shape
    res: dict = {"n": n}
    flat, info = _build(lambda: faiss.IndexFlatIP(d), vectors)
    lat, truth = _latency(flat, queries)
    res["flat"] = {**info, "latency_ms": lat, "recall@10": 1.0}
    log(f"scale {n} flat: {res['flat']}")
    del flat

    nlist = int(4 * math.sqrt(n))
    rng = np.random.default_rng(1)
    # FAISS asks for 39 training points per list; --quick trains on fewer to bound k-means time.
    sample = vectors[rng.choice(n, size=min(n, max(nlist * train_per_list, 50_000)), replace=False)]
    quant = faiss.IndexFlatIP(d)

    def make_ivf():
        ix = faiss.IndexIVFFlat(quant, d, nlist, faiss.METRIC_INNER_PRODUCT)
        ix.cp.niter = 10  # k-means iterations: 10 is enough for coarse lists and bounds training time
        return ix

    ivf, info = _build(make_ivf, vectors, sample)
    res["ivf"] = {**info, "nlist": nlist, "train_sample": len(sample), "kmeans_iter": 10, "by_nprobe": {}}
    for nprobe in (8, 16, 32, 64):
        lat, ids = _latency(ivf, queries, params=faiss.SearchParametersIVF(nprobe=nprobe))
        res["ivf"]["by_nprobe"][nprobe] = {"latency_ms": lat, "recall@10": round(recall_at_k(ids, truth), 4)}
    log(f"scale {n} ivf: {res['ivf']}")
    del ivf

    if hnsw is not None:
        m, efc = hnsw

        def make():
            ix = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
            ix.hnsw.efConstruction = efc
            return ix

        index, info = _build(make, vectors)
        res["hnsw"] = {**info, "M": m, "efConstruction": efc, "by_efSearch": {}}
        for ef in (32, 64, 128, 256):
            lat, ids = _latency(index, queries, params=faiss.SearchParametersHNSW(efSearch=ef))
            res["hnsw"]["by_efSearch"][ef] = {"latency_ms": lat, "recall@10": round(recall_at_k(ids, truth), 4)}
        log(f"scale {n} hnsw: {res['hnsw']}")
        del index
    return res


def flat_crossover(points: list[tuple[int, float]], budget_ms: float) -> int | None:
    """Vector count at which exact search's p50 reaches ``budget_ms``, by a least-squares line."""
    if len(points) < 2:
        return None
    n, ms = np.array(points, dtype=float).T
    slope, icpt = np.polyfit(n, ms, 1)
    return int((budget_ms - icpt) / slope) if slope > 0 else None


def run(ctx) -> Section:
    from qa.index.store import IndexStore

    sec = Section("scale")
    parts = []
    for name in ctx.scale_sources:
        store = IndexStore.open(ctx.out / "idx" / name, verify=False)
        parts += [np.asarray(store.data.chunk_vectors), np.asarray(store.data.sentence_vectors)]
    real = np.concatenate(parts).astype(np.float32)
    real = real[np.random.default_rng(0).permutation(len(real))]
    from bench.common import load_articles, make_questions

    qtexts = make_questions(load_articles(ctx.build_corpora[ctx.scale_sources[0]]), ctx.scale_queries, seed=4)
    queries = ctx.embedder.encode(qtexts)
    sec.figures["real_vectors"] = len(real)
    sec.figures["queries"] = len(queries)
    for n in ctx.scale_sizes:
        t = time.perf_counter()
        vecs = synth(real, n)
        gen_s = time.perf_counter() - t
        hnsw = ctx.hnsw_params(n)
        sec.figures[str(n)] = {"synth_s": round(gen_s, 1), **bench_size(vecs, queries, hnsw, ctx.log, ctx.scale_train_per_list)}
        del vecs
    pts = [(int(k), v["flat"]["latency_ms"]["p50"]) for k, v in sec.figures.items() if k.isdigit()]
    sec.figures["flat_p50_points"] = pts
    for budget in (10.0, 20.0):
        sec.figures[f"flat_reaches_{int(budget)}ms_at"] = flat_crossover(pts, budget)
    from qa.config import ANN_THRESHOLD

    sec.figures["ann_threshold_in_config"] = ANN_THRESHOLD
    return sec
