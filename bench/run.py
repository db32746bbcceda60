"""One command for every benchmark section; writes ``bench/out/report.md`` and ``report.json``.

    python -m bench.run                 # full run (~60 min on 2 idle cores in bfloat16, more in float32)
    python -m bench.run --quick         # cut news-realtimeqa / SciFact, sampled raw encode, HNSW ≤ 300k
    python -m bench.run --smoke         # seeds only, tiny sizes: checks the code paths (~30 s)
    python -m bench.run --sections build,query --out bench/out

Sections run in order in this one process (the cold-start section starts subprocesses):
build → incremental → query → cold → langchain → scale. Later sections reuse the indexes that
the build section made under ``<out>/idx/``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BBC_RAW, REPO, RTQA, SCIFACT, SEEDS, Section, write_json  # noqa: E402
from qa.config import Precision  # noqa: E402

SECTIONS = ("build", "incremental", "query", "cold", "langchain", "scale")


@dataclass
class Context:
    """Everything the sections share: settings per mode, the model, and earlier results."""

    out: Path
    work: Path
    smoke: bool
    quick: bool
    embedder: object = None
    build_corpora: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    incr_name: str = "news-bbc"
    extra_articles: list = field(default_factory=list)
    query_targets: list = field(default_factory=list)
    batch_targets: tuple = ("seeds",)
    n_latency: int = 300
    n_batch: int = 1000
    cold_index: Path | None = None
    cold_corpus: Path = SEEDS
    cold_repeat: int = 3
    lc_corpus: str = "news-bbc"
    scifact_root: Path = SCIFACT
    scifact_max_docs: int | None = None
    scifact_max_queries: int | None = None
    scale_sources: tuple = ("news-bbc",)
    scale_sizes: tuple = (100_000, 1_000_000)
    scale_queries: int = 200
    hnsw_max: int = 1_000_000
    raw_fraction: float = 1.0
    scale_train_per_list: int = 39
    log_file: Path | None = None
    _float32: object = None

    def float32_embedder(self):
        """A float32 twin of :attr:`embedder` (loaded once), or None when that is already float32."""
        from qa.config import Precision
        from qa.embed.model import Embedder

        if self.smoke or self.embedder.precision is Precision.FLOAT32:
            return None
        if self._float32 is None:
            self._float32 = Embedder(self.embedder.path, batch_size=self.embedder.batch_size, precision="float32")
        return self._float32

    def hnsw_params(self, n: int):
        """(M, efConstruction) for an HNSW index of ``n`` vectors, or None to skip HNSW there.

        efConstruction 40 at a million (80, qa's own setting, below) keeps the 2-core build time
        bounded; M=32 is qa's setting everywhere.
        """
        if n > self.hnsw_max:
            return None
        return (32, 80) if n <= 200_000 else (32, 40)

    def log(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        if self.log_file:
            with open(self.log_file, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def _subset_jsonl(src: Path, dst: Path, n: int) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, encoding="utf-8") as fh, open(dst, "w", encoding="utf-8") as out:
        for i, line in enumerate(fh):
            if i >= n:
                break
            out.write(line)
    return dst


def _subset_dir(src: Path, dst: Path, n: int, seed: int = 0) -> Path:
    """A seeded random ``n`` of the article files under ``src``, copied with their sub-folders."""
    import random

    files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in {".txt", ".md", ".html", ".jsonl"}
                   and p.name.lower() != "readme.txt")
    shutil.rmtree(dst, ignore_errors=True)
    for f in random.Random(seed).sample(files, min(n, len(files))):
        (dst / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dst / f.relative_to(src))
    return dst


def configure(args) -> Context:
    out = Path(args.out).resolve()
    ctx = Context(out=out, work=out / "work", smoke=args.smoke, quick=args.quick)
    ctx.work.mkdir(parents=True, exist_ok=True)
    ctx.log_file = out / "run.log"
    if args.smoke:
        ctx.build_corpora = {"seeds": [SEEDS]}
        ctx.incr_name, ctx.lc_corpus = "seeds", "seeds"
        ctx.extra_articles = [{"title": f"Smoke article {i}", "text": f"Smoke test body number {i}. It has two sentences."}
                              for i in range(10)]
        ctx.query_targets = [("seeds", out / "idx" / "seeds", [SEEDS])]
        ctx.n_latency, ctx.n_batch, ctx.cold_repeat = 10, 40, 1
        ctx.scifact_max_docs, ctx.scifact_max_queries = 20, 3
        ctx.scale_sources, ctx.scale_sizes, ctx.scale_queries = ("seeds",), (2_000, 5_000), 20
        if not SCIFACT.is_dir():
            ctx.scifact_root = _tiny_scifact(ctx.work / "scifact-tiny")
        ctx.cold_index = out / "idx" / "seeds"
        return ctx
    rtqa = RTQA
    if args.quick:
        rtqa = _subset_jsonl(RTQA, ctx.work / "rtqa-quick" / "articles.jsonl", args.rtqa_articles or 300)
        ctx.scifact_max_docs, ctx.scifact_max_queries = 800, 300
        ctx.hnsw_max = 300_000
        ctx.n_latency = 200
        ctx.raw_fraction = 0.25
        ctx.scale_train_per_list = 16
    elif args.rtqa_articles:
        rtqa = _subset_jsonl(RTQA, ctx.work / "rtqa-cut" / "articles.jsonl", args.rtqa_articles)
    if args.scale_sizes:
        ctx.scale_sizes = tuple(int(x) for x in args.scale_sizes.split(","))
    if args.hnsw_max is not None:
        ctx.hnsw_max = args.hnsw_max
    if args.raw_fraction is not None:
        ctx.raw_fraction = args.raw_fraction
    if args.scifact_queries is not None:
        ctx.scifact_max_queries = args.scifact_queries or None
    if args.scale_queries:
        ctx.scale_queries = args.scale_queries
    if args.scifact_docs is not None:
        ctx.scifact_max_docs = args.scifact_docs or None
    bbc = BBC_RAW
    if args.bbc_articles:
        bbc = _subset_dir(BBC_RAW, ctx.work / "bbc-cut" / "raw", args.bbc_articles)
    if args.n_latency:
        ctx.n_latency = args.n_latency
    ctx.build_corpora = {"seeds": [SEEDS], "news-bbc": [bbc], "news-realtimeqa": [rtqa]}
    from bench.incremental import extra_articles

    ctx.extra_articles = extra_articles(RTQA, 10)
    ctx.query_targets = [("seeds", out / "idx" / "seeds", [SEEDS]),
                         ("bbc+realtimeqa", out / "idx" / "both", [bbc, rtqa])]
    ctx.scale_sources = ("news-bbc", "news-realtimeqa")
    ctx.cold_index = out / "idx" / "seeds"
    return ctx


def _tiny_scifact(root: Path) -> Path:
    """A few BEIR-shaped records from the seeds, so ``--smoke`` runs where shared data is absent."""
    from bench.common import load_articles

    (root / "qrels").mkdir(parents=True, exist_ok=True)
    arts = load_articles([SEEDS])
    with open(root / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for a in arts:
            fh.write(json.dumps({"_id": a.doc_id, "title": a.title, "text": a.text}) + "\n")
    with open(root / "queries.jsonl", "w", encoding="utf-8") as fh, open(root / "qrels" / "train.tsv", "w") as qr:
        qr.write("query-id\tcorpus-id\tscore\n")
        for i, a in enumerate(arts):
            fh.write(json.dumps({"_id": str(i), "text": a.title or a.text[:80]}) + "\n")
            qr.write(f"{i}\t{a.doc_id}\t1\n")
    return root


def run_section(ctx: Context, name: str) -> Section:
    import importlib

    mod = importlib.import_module({"langchain": "bench.langchain_cmp"}.get(name, f"bench.{name}"))
    ctx.log(f"== {name}")
    t = time.perf_counter()
    try:
        sec = mod.run(ctx)
    except Exception as exc:  # noqa: BLE001 - one failing section must not lose the others' figures
        sec = Section(name, error=f"{type(exc).__name__}: {exc}")
        ctx.log(traceback.format_exc())
    sec.seconds = round(time.perf_counter() - t, 1)
    ctx.log(f"== {name} done in {sec.seconds}s" + (f" (error: {sec.error})" if sec.error else ""))
    return sec


def environment() -> dict:
    from qa.index.builder import library_versions

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "load_avg_at_start": load, "versions": library_versions(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(REPO / "bench" / "out"), help="output folder (default: bench/out)")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="cut news-realtimeqa and SciFact, scale to 100k/300k")
    mode.add_argument("--smoke", action="store_true", help="seeds and tiny sizes only (for the test suite)")
    p.add_argument("--rtqa-articles", type=int, default=None, help="use only the first N news-realtimeqa articles")
    p.add_argument("--scifact-docs", type=int, default=None, help="cut SciFact to judged docs plus others up to N (0: all)")
    p.add_argument("--bbc-articles", type=int, default=None, help="use a seeded random N of news-bbc's files")
    p.add_argument("--n-latency", type=int, default=None, help="timed questions per latency run (default 300; --quick 200)")
    p.add_argument("--scifact-queries", type=int, default=None, help="use the first N judged SciFact queries (0: all)")
    p.add_argument("--scale-queries", type=int, default=None, help="query vectors for the scale section (default 200)")
    p.add_argument("--scale-sizes", default=None, help="comma-separated vector counts (default: 100000,1000000)")
    p.add_argument("--hnsw-max", type=int, default=None, help="skip HNSW above this many vectors")
    p.add_argument("--precision", default="auto", choices=[v.value for v in Precision],
                   help="qa's model precision (default auto; LangChain always runs its default float32)")
    p.add_argument("--raw-fraction", type=float, default=None,
                   help="time the raw model on this seeded share of the build's texts, scaled up (default 1; --quick 0.25)")
    args = p.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        p.error(f"unknown section(s) {bad}; valid: {', '.join(SECTIONS)}")

    ctx = configure(args)
    from qa.embed.model import Embedder, native_bfloat16

    ctx.embedder = Embedder(precision=args.precision)
    env = {**environment(), "precision": ctx.embedder.precision.value, "native_bfloat16": native_bfloat16()}
    report = {"environment": env, "mode": "smoke" if args.smoke else "quick" if args.quick else "full",
              "argv": sys.argv[1:], "sections": {}}
    prev = ctx.out / "report.json"
    if prev.is_file() and set(sections) != set(SECTIONS):  # a partial run keeps the other sections' figures
        try:
            old = json.loads(prev.read_text(encoding="utf-8"))
            if old.get("mode") == report["mode"]:
                report["sections"] = old.get("sections", {})
        except (OSError, json.JSONDecodeError):
            pass
    ctx.results = {k: v.get("figures", {}) for k, v in report["sections"].items()}
    if "query" in sections or "scale" in sections or "langchain" in sections or "incremental" in sections:
        if "build" not in sections:
            _ensure_indexes(ctx)
    for name in sections:
        if name == "query":
            _ensure_union(ctx)
        sec = run_section(ctx, name)
        report["sections"][name] = {"figures": sec.figures, "notes": sec.notes, "seconds": sec.seconds,
                                    "error": sec.error}
        ctx.results[name] = sec.figures
        report["environment"]["load_avg_at_end"] = os.getloadavg()
        write_json(ctx.out / "report.json", report)
        from bench.report import render

        (ctx.out / "report.md").write_text(render(report), encoding="utf-8")
    shutil.rmtree(ctx.work, ignore_errors=True)
    print(f"report: {ctx.out / 'report.md'} and {ctx.out / 'report.json'}")
    return 1 if any(s.get("error") for s in report["sections"].values()) else 0


def _ensure_indexes(ctx: Context) -> None:
    """Build (untimed) any single-corpus index a later section needs but is missing."""
    from qa.index.builder import IndexBuilder
    from qa.index.store import read_manifest

    for name, paths in ctx.build_corpora.items():
        if read_manifest(ctx.out / "idx" / name) is None:
            ctx.log(f"building missing index {name} (untimed)")
            IndexBuilder(ctx.embedder, progress=False).run(paths, ctx.out / "idx" / name)


def _ensure_union(ctx: Context) -> None:
    from bench.build import assemble_union

    names = [n for n in ctx.build_corpora if n != "seeds"]
    if len(names) > 1:
        info = assemble_union(ctx, names, ctx.out / "idx" / "both")
        ctx.log(f"assembled two-corpus index: {info}")


if __name__ == "__main__":
    sys.exit(main())
