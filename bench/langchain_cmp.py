"""The stock LangChain pipeline on the same corpus, questions and model, against qa.

Stock means the defaults a user copies from LangChain's docs: ``RecursiveCharacterTextSplitter``
(1000 characters, 200 overlap), ``HuggingFaceEmbeddings`` on the same local model folder (its
default encode settings) and the ``langchain_community`` FAISS vector store (default L2 index).
These packages are bench-only dependencies (``pip install -e .[bench]``); qa never imports them.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO, PeakRSS, Section, make_questions, summary_ms


def _documents(articles):
    from langchain_core.documents import Document

    return [Document(page_content=(f"{a.title}\n\n{a.text}" if a.title else a.text), metadata={"doc_id": a.doc_id})
            for a in articles]


def lc_build(articles, model_path: str):
    """Split, embed and index ``articles`` the stock way; returns (vectorstore, figures)."""
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    t0 = time.perf_counter()
    emb = HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu", "local_files_only": True})
    emb.embed_query("warm up")
    load_s = time.perf_counter() - t0
    with PeakRSS() as mem:
        t = time.perf_counter()
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        chunks = splitter.split_documents(_documents(articles))
        split_s = time.perf_counter() - t
        vs = FAISS.from_documents(chunks, emb)
        wall = time.perf_counter() - t
    return vs, {"chunks": len(chunks), "split_s": round(split_s, 2), "wall_s": round(wall, 2),
                "model_load_s": round(load_s, 2), "rss_peak_mb": round(mem.peak_mb)}


def lc_latency(vs, questions: list[str], warmup: int = 20) -> dict:
    for q in questions[:warmup]:
        vs.similarity_search(q, k=10)
    ms = []
    for q in questions[warmup:]:
        t = time.perf_counter()
        vs.similarity_search(q, k=10)
        ms.append((time.perf_counter() - t) * 1000)
    return summary_ms(ms)


def lc_latency_own_process(vs, model_path: str, questions: list[str], warmup: int = 20) -> dict:
    """LangChain's query latency in a fresh process that has none of qa's settings.

    In the bench's own process qa has set ``OMP_WAIT_POLICY=PASSIVE`` before torch started, which
    slows torch's two-thread encode of one question by a few ms. A LangChain user has no such
    setting, so this measures the same store and questions the way they would run.
    """
    with tempfile.TemporaryDirectory() as d:
        vs.save_local(d)
        Path(d, "questions.json").write_text(json.dumps(questions), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        out = subprocess.run([sys.executable, "-m", "bench.langchain_cmp", d, model_path, str(warmup)],
                             env=env, cwd=REPO, capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-1000:])
        return json.loads(out.stdout.strip().splitlines()[-1])


def qa_latency(svc, questions: list[str], warmup: int = 20) -> dict:
    """qa's latency on the same questions: the whole ``ask`` and retrieval alone."""
    for q in questions[:warmup]:
        svc.ask(q)
    total, retrieve = [], []
    for q in questions[warmup:]:
        t = time.perf_counter()
        svc.retriever.run(q, k=10)
        retrieve.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        svc.ask(q)
        total.append((time.perf_counter() - t) * 1000)
    return {"ask": summary_ms(total), "retrieve_only": summary_ms(retrieve)}


# -- SciFact -------------------------------------------------------------------------------------------
def load_scifact(root: Path, max_docs: int | None, max_queries: int | None = None, seed: int = 0):
    """Corpus (id → (title, text)), queries (id → text) and qrels of BEIR SciFact's train split.

    With ``max_docs``, the corpus is cut to every judged document plus random others up to
    ``max_docs`` (both pipelines see the same cut, so the comparison stays fair; absolute nDCG is
    then higher than on the full corpus).
    """
    corpus = {}
    with open(root / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            corpus[str(r["_id"])] = (r.get("title") or "", r.get("text") or "")
    queries = {}
    with open(root / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            queries[str(r["_id"])] = r["text"]
    qrels: dict[str, dict[str, int]] = {}
    with open(root / "qrels" / "train.tsv", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].isdigit():
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    queries = {q: t for q, t in queries.items() if q in qrels}
    if max_queries:
        queries = dict(list(queries.items())[:max_queries])
    qrels = {q: r for q, r in qrels.items() if q in queries}
    if max_docs is not None and len(corpus) > max_docs:
        judged = {d for rel in qrels.values() for d in rel if d in corpus}
        others = sorted(set(corpus) - judged)
        random.Random(seed).shuffle(others)
        keep = judged | set(others[: max(0, max_docs - len(judged))])
        corpus = {d: v for d, v in corpus.items() if d in keep}
    return corpus, queries, qrels


def scifact_jsonl(corpus: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for doc_id, (title, text) in corpus.items():
            fh.write(json.dumps({"id": doc_id, "title": title, "text": text}) + "\n")
    return path


def doc_ranking(doc_ids: list[str], depth: int = 100) -> dict[str, float]:
    """Documents in order of their best-ranked passage, scored so that ranx keeps that order."""
    run: dict[str, float] = {}
    for d in doc_ids:
        if d not in run:
            run[d] = float(depth - len(run))
    return run


def ndcg10(qrels: dict, run: dict) -> float:
    from ranx import Qrels, Run, evaluate

    run = {q: (r if r else {"__none__": 0.0}) for q, r in run.items()}
    return float(evaluate(Qrels.from_dict(qrels), Run.from_dict(run), "ndcg@10"))


def run(ctx) -> Section:
    from qa.embed.model import default_model_path
    from qa.index.builder import IndexBuilder
    from qa.index.store import IndexStore
    from qa.pipeline import QAService
    from qa.retrieve.hybrid import HybridRetriever

    sec = Section("langchain")
    model_path = str(default_model_path())
    name = ctx.lc_corpus
    svc = QAService(ctx.out / "idx" / name, corpus=ctx.build_corpora[name], progress=False)
    articles = svc.store.articles
    questions = make_questions(articles, ctx.n_latency + 20, seed=3)
    vs, lc_b = lc_build(articles, model_path)
    qa_b = ctx.results.get("build", {}).get(name, {})
    news = {"corpus": name, "langchain_build": lc_b, "qa_build_wall_s": qa_b.get("wall_s")}
    if qa_b.get("wall_s"):
        news["ratio_build_langchain_over_qa"] = round(lc_b["wall_s"] / qa_b["wall_s"], 3)
    news["langchain_query"] = lc_latency(vs, questions)
    try:
        news["langchain_query_own_process"] = lc_latency_own_process(vs, model_path, questions)
    except Exception as exc:  # noqa: BLE001 - keep the section's other figures
        news["langchain_query_own_process"] = {"error": f"{type(exc).__name__}: {exc}"}
    news["qa_query"] = qa_latency(svc, questions)
    news["ratio_query_p50_langchain_over_qa_ask"] = round(news["langchain_query"]["p50"] / news["qa_query"]["ask"]["p50"], 3)
    news["ratio_query_p50_langchain_over_qa_retrieve"] = round(
        news["langchain_query"]["p50"] / news["qa_query"]["retrieve_only"]["p50"], 3)
    own = news["langchain_query_own_process"].get("p50")
    if own:
        news["ratio_query_p50_langchain_own_process_over_qa_ask"] = round(own / news["qa_query"]["ask"]["p50"], 3)
    sec.figures["news"] = news
    ctx.log(f"langchain news: {news}")
    del vs

    # SciFact-train nDCG@10: both pipelines on the same (optionally cut) corpus and judged queries.
    corpus, queries, qrels = load_scifact(ctx.scifact_root, ctx.scifact_max_docs, ctx.scifact_max_queries)
    src = scifact_jsonl(corpus, ctx.work / "scifact" / "corpus.jsonl")
    idx = ctx.out / "idx" / "scifact"
    t = time.perf_counter()
    rep = IndexBuilder(svc.embedder, progress=False).run([src], idx, rebuild=True)
    qa_build_s = time.perf_counter() - t
    store = IndexStore.open(idx, verify=False)
    retriever = HybridRetriever(store, svc.embedder)
    qa_run, qa_ms = {}, []
    for qid, text in queries.items():
        t = time.perf_counter()
        res = retriever.run(text, k=100)
        qa_ms.append((time.perf_counter() - t) * 1000)
        qa_run[qid] = doc_ranking([p.doc_id for p in res.passages])
    from qa.ingest.corpus import CorpusLoader

    sf_articles = CorpusLoader().run([src]).articles
    vs, lc_sf = lc_build(sf_articles, model_path)
    lc_run, lc_ms = {}, []
    for qid, text in queries.items():
        t = time.perf_counter()
        docs = vs.similarity_search(text, k=100)
        lc_ms.append((time.perf_counter() - t) * 1000)
        lc_run[qid] = doc_ranking([d.metadata["doc_id"] for d in docs])
    qa_ndcg, lc_ndcg = ndcg10(qrels, qa_run), ndcg10(qrels, lc_run)
    sec.figures["scifact"] = {
        "docs": len(corpus), "queries": len(queries), "qa_chunks": rep.chunks, "qa_build_s": round(qa_build_s, 2),
        "langchain_build": lc_sf, "qa_ndcg10": round(qa_ndcg, 4), "langchain_ndcg10": round(lc_ndcg, 4),
        "ratio_ndcg_qa_over_langchain": round(qa_ndcg / lc_ndcg, 3) if lc_ndcg else None,
        "qa_retrieve_k100_ms": summary_ms(qa_ms), "langchain_search_k100_ms": summary_ms(lc_ms),
        "corpus_cut": ctx.scifact_max_docs is not None,
    }
    ctx.log(f"langchain scifact: {sec.figures['scifact']}")
    return sec


def _own_process_main(folder: str, model_path: str, warmup: str) -> None:
    """``python -m bench.langchain_cmp FOLDER MODEL WARMUP``: load a saved store and time its queries."""
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    emb = HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu", "local_files_only": True})
    # The store is the one this bench saved a moment ago (its docstore is a pickle, hence the flag).
    vs = FAISS.load_local(folder, emb, allow_dangerous_deserialization=True)
    questions = json.loads(Path(folder, "questions.json").read_text(encoding="utf-8"))
    print(json.dumps(lc_latency(vs, questions, warmup=int(warmup))))


if __name__ == "__main__":
    _own_process_main(*sys.argv[1:4])
