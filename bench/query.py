"""Warm query latency (p50/p95 split into embed / dense / BM25 / fusion / answer) and batch throughput."""
from __future__ import annotations

import time
from pathlib import Path

from bench.common import Section, make_questions, summary_ms

PARTS = ("retrieve_embed", "retrieve_dense", "retrieve_bm25", "retrieve_fusion", "answer", "total")


def latency(svc, questions: list[str], warmup: int = 20) -> dict:
    """Ask ``questions`` one at a time after ``warmup`` untimed ones; per-part p50/p95 in ms."""
    for q in questions[:warmup]:
        svc.ask(q)
    parts: dict[str, list[float]] = {p: [] for p in PARTS}
    wall: list[float] = []
    abstained = 0
    for q in questions[warmup:]:
        t = time.perf_counter()
        ans = svc.ask(q)
        wall.append((time.perf_counter() - t) * 1000)
        abstained += ans.abstained
        for p in PARTS:
            if p in ans.timing_ms:
                parts[p].append(ans.timing_ms[p])
    out = {p: summary_ms(v) for p, v in parts.items() if v}
    out["wall"] = summary_ms(wall)
    out["abstained_share"] = round(abstained / max(1, len(wall)), 3)
    out["p95_over_p50"] = round(out["total"]["p95"] / out["total"]["p50"], 2)
    return out


def batch(svc, questions: list[str], out_file: Path | None = None) -> dict:
    """Answer ``questions`` through the ``qa batch`` code path (``run_batch``, jsonl out)."""
    from qa.present.batch import run_batch

    qfile = out_file.with_suffix(".questions.txt")
    qfile.write_text("\n".join(questions) + "\n", encoding="utf-8")
    t = time.perf_counter()
    rc = run_batch(svc, qfile, out_file, "jsonl", progress=False)
    wall = time.perf_counter() - t
    return {"questions": len(questions), "wall_s": round(wall, 2), "questions_per_s": round(len(questions) / wall, 1),
            "exit_code": rc}


def run(ctx) -> Section:
    from qa.pipeline import QAService

    sec = Section("query")
    for name, index_dir, corpus in ctx.query_targets:
        svc = QAService(index_dir, corpus=corpus, progress=False)
        qs = make_questions(svc.store.articles, ctx.n_latency + 20, seed=1)
        sec.figures[name] = {"chunks": len(svc.store.data.chunk_ids), "latency": latency(svc, qs)}
        if name in ctx.batch_targets:
            bq = make_questions(svc.store.articles, ctx.n_batch, seed=2)
            sec.figures[name]["batch"] = batch(svc, bq, ctx.out / f"batch-{name}.jsonl")
        ctx.log(f"query {name}: {sec.figures[name]}")
    return sec
