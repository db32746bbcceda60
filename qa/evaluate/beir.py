"""Retrieval benchmarks on a BEIR-format folder (e.g. SciFact).

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (``query-id``, ``corpus-id``, ``score``, header first). The corpus
is indexed with the normal builder into its own index folder — by default
``<index-dir>/beir/<folder name>/`` (see :func:`beir_index_dir`) — which later runs reuse (the
builder is incremental, so an unchanged corpus embeds nothing). Only retrieval is scored: passages
are reduced to documents by their best rank and evaluated with ranx (nDCG@10, Recall@100, MRR@10).
"""
from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.evaluate.dataset import DatasetError
from qa.evaluate.metrics import doc_run, ranking_metrics
from qa.evaluate.runner import parse_configs

#: Metrics reported for BEIR, as the BEIR paper does (nDCG@10 is the headline).
BEIR_METRICS = ("ndcg@10", "recall@100", "mrr@10")
#: Passages retrieved per query before reducing them to documents.
BEIR_K = 100
#: Published reference figures: (what, value). SciFact's are on its TEST split.
REFERENCES = {
    "scifact": [("BM25, BEIR paper (SciFact test split), nDCG@10", 0.665)],
}


@dataclass
class BeirSet:
    """A loaded BEIR folder: where its corpus is, its queries (only those judged in ``split``) and qrels."""

    root: Path
    split: str
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def name(self) -> str:
        return self.root.resolve().name


def beir_index_dir(index_dir: Path | str, beir_dir: Path | str) -> Path:
    """Where a BEIR corpus is indexed: ``<index_dir>/beir/<name of the BEIR folder>/``.

    Kept under the main index folder so one ``--index-dir`` (ignored by git) holds everything that is
    built, and apart from the main index's own ``build-*`` folders, which it never touches.
    """
    return Path(index_dir) / "beir" / Path(beir_dir).resolve().name


def load_beir(root: Path | str, split: str = "test") -> BeirSet:
    """Read a BEIR folder's queries and qrels for ``split``; the corpus is only located.

    Raises:
        DatasetError: When a file is missing or malformed, saying which and what is expected.
    """
    root = Path(root)
    corpus, queries_path, qrels_path = root / "corpus.jsonl", root / "queries.jsonl", root / "qrels" / f"{split}.tsv"
    for p in (corpus, queries_path):
        if not p.is_file():
            raise DatasetError(f"{root} is not a BEIR folder: {p.name} is missing "
                               f"(expected corpus.jsonl, queries.jsonl and qrels/<split>.tsv)")
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
        raise DatasetError(f"no qrels for split {split!r} in {root}/qrels/; available: {', '.join(have) or 'none'} "
                           f"(choose one with --split)")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8", newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not row or (lineno == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue  # blank line or the header
            if len(row) < 3:
                raise DatasetError(f"{qrels_path}:{lineno}: expected query-id, corpus-id, score")
            qid, did, score = row[0].strip(), row[1].strip(), int(row[2])
            if score > 0:
                qrels.setdefault(qid, {})[did] = score
    queries: dict[str, str] = {}
    with open(queries_path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                qid, text = str(rec["_id"]), rec["text"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DatasetError(f"{queries_path}:{lineno}: expected a JSON object with _id and text") from None
            if qid in qrels:
                queries[qid] = text
    missing = sorted(set(qrels) - set(queries))
    if missing:
        raise DatasetError(f"{len(missing)} judged queries of split {split!r} are not in queries.jsonl "
                           f"(e.g. {missing[0]!r})")
    if not queries:
        raise DatasetError(f"no queries of split {split!r} have relevance judgements in {qrels_path}")
    return BeirSet(root=root, split=split, corpus=corpus, queries=queries, qrels=qrels)


@dataclass
class BeirResult:
    """Mean metrics per config, and per-query runs (``{config: {query_id: [doc_id, ...]}}``)."""

    name: str
    split: str
    configs: list[str]
    metrics: dict[str, dict[str, float]]
    runs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


class BeirEvaluator:
    """Score retrieval on a BEIR set under each configuration, on one service, in one process.

    Args:
        service: A :class:`~qa.pipeline.QAService` over the BEIR corpus's index.
        configs: Retrieval modes (default dense, bm25, hybrid).
        k: Passages retrieved per query (default :data:`BEIR_K`); they are reduced to documents by
            best rank, so Recall@100 counts the documents found within the top ``k`` passages.
        batch_size: Queries embedded together (default 64).
        progress: Called with ``(done, total)`` (default: nothing).
    """

    def __init__(self, service, configs: Sequence[str] = ("dense", "bm25", "hybrid"), k: int = BEIR_K,
                 batch_size: int = 64, progress: Callable[[int, int], None] | None = None) -> None:
        self.service = service
        self.configs = parse_configs(configs)
        self.k = k
        self.batch_size = batch_size
        self.progress = progress

    def run(self, beir: BeirSet) -> BeirResult:
        qids = sorted(beir.queries)
        texts = [beir.queries[q] for q in qids]
        retriever = self.service.retriever
        t = time.perf_counter()
        vectors = []
        for i in range(0, len(texts), self.batch_size):
            vectors.extend(retriever.embed(texts[i:i + self.batch_size]))
        embed_s = time.perf_counter() - t
        metrics: dict[str, dict[str, float]] = {}
        runs: dict[str, dict[str, list[str]]] = {}
        total, done = len(qids) * len(self.configs), 0
        timing = {}
        for cfg in self.configs:
            t = time.perf_counter()
            ranked: dict[str, list[str]] = {}
            for qid, text, vec in zip(qids, texts, vectors):
                res = retriever.run(text, k=self.k, mode=cfg, query_vector=vec)
                ranked[qid] = list(dict.fromkeys(p.doc_id for p in res.passages))
                done += 1
                if self.progress:
                    self.progress(done, total)
            timing[cfg] = (time.perf_counter() - t) * 1000 / max(1, len(qids))
            runs[cfg] = ranked
            metrics[cfg] = ranking_metrics(beir.qrels, {q: doc_run(d) for q, d in ranked.items()}, BEIR_METRICS)
            metrics[cfg]["docs_per_query"] = sum(map(len, ranked.values())) / max(1, len(ranked))
            metrics[cfg]["ms_per_query"] = timing[cfg]
        indexed = {a.doc_id for a in self.service.store.articles}
        judged = {d for rel in beir.qrels.values() for d in rel}
        meta = {"queries": len(qids), "k_passages": self.k, "embed_seconds": embed_s,
                "corpus_docs_indexed": len(indexed), "judged_docs_missing_from_index": len(judged - indexed)}
        return BeirResult(name=beir.name, split=beir.split, configs=self.configs, metrics=metrics, runs=runs, meta=meta)


def references(name: str) -> list[tuple[str, float]]:
    """Published figures to print beside ours, matched on the folder name (e.g. ``beir-scifact-train``)."""
    low = name.lower()
    return [ref for key, refs in REFERENCES.items() if key in low for ref in refs]


def write_subset(beir: BeirSet, dst: Path | str, n_queries: int, n_docs: int, seed: int = 0) -> Path:
    """Write a smaller BEIR folder: ``n_queries`` random judged queries, all their judged documents,
    and random other documents up to ``n_docs``.

    For quick comparisons of configurations on a slow machine. Fewer distractors make it easier than
    the full corpus, so its figures compare configurations with each other, never with published ones.
    """
    import random

    rng = random.Random(seed)
    qids = sorted(rng.sample(sorted(beir.qrels), min(n_queries, len(beir.qrels))))
    judged = {d for q in qids for d in beir.qrels[q]}
    with open(beir.corpus, encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh if line.strip()]
    others = [str(d.get("_id", d.get("id"))) for d in docs if str(d.get("_id", d.get("id"))) not in judged]
    rng.shuffle(others)
    keep = judged | set(others[:max(0, n_docs - len(judged))])
    dst = Path(dst)
    (dst / "qrels").mkdir(parents=True, exist_ok=True)
    with open(dst / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            if str(d.get("_id", d.get("id"))) in keep:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    with open(dst / "queries.jsonl", "w", encoding="utf-8") as fh:
        for q in qids:
            fh.write(json.dumps({"_id": q, "text": beir.queries[q]}, ensure_ascii=False) + "\n")
    with open(dst / "qrels" / f"{beir.split}.tsv", "w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for q in qids:
            for d, s in beir.qrels[q].items():
                fh.write(f"{q}\t{d}\t{s}\n")
    return dst


if __name__ == "__main__":  # python -m qa.evaluate.beir SRC DST [QUERIES DOCS [SPLIT]]
    import sys

    a = sys.argv[1:]
    if len(a) < 2:
        sys.exit("usage: python -m qa.evaluate.beir SRC DST [QUERIES=300 DOCS=1000 [SPLIT=train]]")
    src_set = load_beir(a[0], a[4] if len(a) > 4 else "train")
    out_dir = write_subset(src_set, a[1], int(a[2]) if len(a) > 2 else 300, int(a[3]) if len(a) > 3 else 1000)
    print(f"wrote {out_dir}")
