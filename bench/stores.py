"""Both search stores side by side (issue 16): build, update and query latency, and filtered recall.

    python bench/stores.py --index-dir /tmp/team/ix/bbc --corpus ../shared/data/news-bbc/articles.jsonl \
        --stores faiss,milvus-lite,milvus://127.0.0.1:19530 --out /tmp/qa-stores

The source index (built on the default store) is copied per store, so nothing is embedded again
except the one article the update changes. ``build`` is what makes the passages searchable from
vectors already computed: FAISS + bm25s built (the folder's own), or the collection created and
loaded (Milvus). ``update`` re-indexes the corpus with one article changed (the whole incremental
``qa index``). ``query`` times the store's dense and BM25 calls and the whole ``ask``. ``recall``
loads the same vectors into an HNSW collection with synthetic article dates (the corpus is mostly
undated) and measures filtered recall@10 against exact filtered search, at ef 128 and at the ef
:class:`~qa.index.milvus.MilvusBackend` picks for the filter's share of rows.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import make_questions, summary_ms  # noqa: E402


def _uri(kind: str, work: Path) -> str:
    return f"milvus-lite:{work / 'milvus.db'}" if kind == "milvus-lite" else kind


def _changed_corpus(corpus: Path, work: Path) -> Path:
    """A copy of a .jsonl corpus with the first article's text changed in its middle."""
    out = work / corpus.name
    lines = corpus.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[0])
    words = rec["text"].split(" ")
    rec["text"] = " ".join(words[: len(words) // 2] + ["Regulators", "opened", "an", "inquiry", "on", "Friday."]
                           + words[len(words) // 2:])
    lines[0] = json.dumps(rec, ensure_ascii=False)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def bench_store(kind: str, src: Path, corpus: Path, work: Path, embedder, n_questions: int) -> dict:
    from qa.config import StoreURI
    from qa.index.builder import IndexBuilder, index_text
    from qa.index.dense import DenseKind, build_dense
    from qa.index.lexical import LexicalIndex
    from qa.index.store import IndexStore
    from qa.pipeline import QAService

    work.mkdir(parents=True, exist_ok=True)
    ix = work / "ix"
    shutil.rmtree(ix, ignore_errors=True)
    shutil.copytree(src, ix)
    uri = StoreURI.parse(_uri(kind, work))
    out: dict = {"store": str(uri)}
    store = IndexStore.open(ix, verify=False)
    t = time.perf_counter()
    if uri.kind == "faiss":
        d = store.data
        texts = [index_text(store.chunk_article(r), int(d.chunk_span[r, 0]), int(d.chunk_span[r, 1]), True)
                 for r in range(len(d.chunk_ids))]
        build_dense(np.asarray(d.chunk_vectors), DenseKind.for_size(len(d.chunk_ids)))
        LexicalIndex.build(texts)
        out["build_s"] = round(time.perf_counter() - t, 2)
    else:
        rep = IndexBuilder(embedder, progress=False, store=uri, query_encoder=False).run([corpus], ix)
        out["build_s"] = round(rep.timings.get("store", float("nan")), 2)
        out["build_total_s"] = round(rep.seconds, 2)
    changed = _changed_corpus(corpus, work)
    rep = IndexBuilder(embedder, progress=False, store=uri, query_encoder=False).run([changed], ix)
    out["update"] = {"seconds": round(rep.seconds, 2), "changed": len(rep.changed), "embedded_texts": rep.embedded_texts,
                     "timings_s": {k: round(v, 3) for k, v in rep.timings.items()}}
    svc = QAService(index_dir=ix, corpus=[changed], progress=False, build=False, embedder=embedder, store=uri)
    qs = make_questions(svc.store.articles, n_questions + 5, seed=1)
    dense_ms, bm25_ms, ask_ms, ranked = [], [], [], []
    backend = svc.retriever.backend
    for i, q in enumerate(qs):
        v = embedder.encode_query(q)
        t = time.perf_counter()
        ids = backend.dense(v, 100).ids
        t1 = time.perf_counter()
        if backend.lexical_available:
            backend.lexical(q + " ", 100)  # a new string: the FAISS store's cache must not answer it
        t2 = time.perf_counter()
        svc.ask(q)
        t3 = time.perf_counter()
        if i >= 5:
            dense_ms.append((t1 - t) * 1000)
            bm25_ms.append((t2 - t1) * 1000)
            ask_ms.append((t3 - t2) * 1000)
        ranked.append(ids[:10])
    out["query_ms"] = {"dense": summary_ms(dense_ms), "bm25": summary_ms(bm25_ms) if backend.lexical_available else None,
                       "ask": summary_ms(ask_ms)}
    out["lexical_available"] = backend.lexical_available
    out["_ranked"] = ranked
    return out


def filtered_recall(kind: str, src: Path, work: Path, windows=(7, 30, 180), n: int = 30) -> dict:
    """Filtered recall@10 of an HNSW collection vs exact filtered search (synthetic dates)."""
    from qa.config import StoreURI
    from qa.index.backend import ChunkRecord, Condition, Where
    from qa.index.milvus import MilvusBackend, collection_name, connect, create_collection
    from qa.index.store import IndexStore

    uri = StoreURI.parse(_uri(kind, work))
    store = IndexStore.open(src, verify=False)
    x = np.asarray(store.data.chunk_vectors, dtype=np.float32)
    base = dt.date(2020, 1, 1)
    art_date = [(base + dt.timedelta(days=(i * 7919) % 730)).isoformat() for i in range(len(store.articles))]
    dates = np.array([art_date[int(d)] for d in store.data.chunk_doc])
    client = connect(uri)
    name = collection_name(work / "recall")
    t = time.perf_counter()
    create_collection(client, name, x.shape[1], lexical=False, index_type="HNSW", meta={})
    client.load_collection(name)
    backend = MilvusBackend(client, name, store.data.chunk_ids, kind=uri.kind)
    backend.add([ChunkRecord(c, store.chunk_article(i).doc_id, "", str(dates[i]), "", x[i])
                 for i, c in enumerate(store.data.chunk_ids)])
    if hasattr(client, "flush"):
        client.flush(name)
    backend.index_type = "HNSW"
    out = {"rows": len(x), "load_s": round(time.perf_counter() - t, 2)}
    rng = np.random.default_rng(3)
    for days in windows:
        cases = []
        for _ in range(n):  # the same questions and windows for every ef
            q = x[int(rng.integers(len(x)))] + 0.3 * rng.normal(size=x.shape[1]).astype(np.float32)
            q /= np.linalg.norm(q)
            start = base + dt.timedelta(days=int(rng.integers(0, 730 - days)))
            lo, hi = start.isoformat(), (start + dt.timedelta(days=days - 1)).isoformat()
            rows = np.flatnonzero((dates >= lo) & (dates <= hi))
            cases.append((q, lo, hi, rows, set(rows[np.argsort(-(x[rows] @ q))[:10]].tolist())))
        for label, ef in (("ef64", 64), ("ef128", 128), ("ef256", 256), ("auto_depth100", None)):
            rec, efs = [], []
            for q, lo, hi, rows, exact in cases:
                where = Where(rows, (Condition(date_from=lo, date_to=hi),))
                if ef is not None:
                    params = {"metric_type": "IP", "params": {"ef": ef}}
                    res = client.search(name, data=[q.tolist()], anns_field="vector", limit=10, output_fields=["chunk_id"],
                                        filter=f'date >= "{lo}" and date <= "{hi}"', search_params=params)
                    got = set(backend._ranked(res).ids)
                else:  # what retrieval does: depth 100, ef from the filter's share; recall of its top 10
                    efs.append(backend._ef(100, where))
                    got = set(backend.dense(q, 100, where).ids[:10])
                rec.append(len(got & exact) / max(1, len(exact)))
            out[f"{days}d_{label}"] = {"recall@10": round(float(np.mean(rec)), 3),
                                       "share": round(float(np.mean([len(c[3]) for c in cases]) / len(x)), 4),
                                       **({"ef_mean": round(float(np.mean(efs)))} if efs else {})}
    client.drop_collection(name)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, required=True, help="an index built on the default store (copied)")
    ap.add_argument("--corpus", type=Path, required=True, help="its corpus (.jsonl)")
    ap.add_argument("--stores", default="faiss,milvus-lite")
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--recall", action="store_true", help="also measure filtered HNSW recall on the Milvus stores")
    ap.add_argument("--out", type=Path, default=Path("/tmp/qa-stores"))
    args = ap.parse_args(argv)
    from qa.embed.model import Embedder

    embedder = Embedder()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for kind in args.stores.split(","):
        key = kind.split(":")[0]
        results[key] = bench_store(kind, args.index_dir, args.corpus, args.out / key.replace("/", ""), embedder,
                                   args.questions)
        if args.recall and key != "faiss":
            results[key]["recall"] = filtered_recall(kind, args.index_dir, args.out / key.replace("/", ""))
        print(key, json.dumps({k: v for k, v in results[key].items() if k != "_ranked"}), flush=True)
    ref = results.get("faiss", {}).get("_ranked")
    for key, r in results.items():
        ranked = r.pop("_ranked")
        if ref is not None:
            r["dense_top10_same_as_faiss"] = round(float(np.mean([a == b for a, b in zip(ranked, ref)])), 3)
    (args.out / "stores.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
