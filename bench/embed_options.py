"""Document-embedding options side by side, interleaved in one process, with quality beside speed.

    python -m bench.embed_options --out /tmp/h15/embed-opts          # sample throughput, all options
    python -m bench.embed_options --quality --out /tmp/h15/embed-opts  # + SciFact nDCG@10, qa eval

**Throughput.** The chunk texts (and sentence spans) the builder would embed for a seeded sample of
articles of each corpus (news-bbc, SciFact train) are cut into groups; every group goes through
every option in turn, in a rotating order, so a machine shared with other work slows all options
alike. Per option: chunks/s, tokens/s (tokens the model reads), the ratio to today's path (torch in
``--precision auto``'s choice for this CPU: bfloat16 where native, else float32; batches of 32 texts
sorted by length), the cosine of its vectors to float32 torch's, and
memory: the RSS its session added when loaded (worker processes' own RSS for ``processes``).

**Quality** (``--quality``): for today's path and the new default, each SciFact train (all 5,183
abstracts) and the seeds are indexed with the normal builder, alternating, then scored:
nDCG@10 with float32 questions (the ONNX query encoder) for SciFact, and ``qa eval``'s answer
figures on ``eval/qa.jsonl``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import BBC_RAW, REPO, SCIFACT, SEEDS, rss_mb, write_json  # noqa: E402


def corpus_work(embedder, paths: list[Path], n_articles: int, seed: int = 0) -> tuple[list[str], list[list]]:
    """The chunk texts and sentence spans the builder would embed for ``n_articles`` random articles."""
    from qa.chunk.sentences import split_sentences
    from qa.chunk.splitter import TokenChunker
    from qa.index.builder import _chunk_spans, index_text
    from qa.ingest.corpus import CorpusLoader
    import bisect

    arts = CorpusLoader().run([Path(p) for p in paths]).articles
    random.Random(seed).shuffle(arts)
    chunker = TokenChunker(embedder.tokenizer, 128, 24)
    texts, spans = [], []
    for art in arts[:n_articles]:
        sents = split_sentences(art.text)
        starts, ends = [s for s, _ in sents], [e for _, e in sents]
        chunks = []
        for sp in chunker.run(art.text):
            lo, hi = bisect.bisect_right(ends, sp.start), bisect.bisect_left(starts, sp.end)
            chunks.append((sp.start, sp.end, lo, max(lo, hi)))
        t = [index_text(art, s, e, True) for s, e, _, _ in chunks]
        texts += t
        spans += _chunk_spans(sents, chunks, t)
    return texts, spans


def _child_rss(pool) -> float:
    try:
        import psutil

        return sum(psutil.Process(p.pid).memory_info().rss for p in pool._processes.values()) / 2**20
    except Exception:
        return float("nan")


def make_options(model_dir: Path, names: list[str], workers: int) -> dict:
    """name → (encode(texts, spans) -> SpanEncoding, info)."""
    from qa.embed import docenc
    from qa.embed.model import Embedder
    from qa.embed.onnx import _read_spec, export_query_encoder

    opts: dict = {}
    model_dir.mkdir(parents=True, exist_ok=True)
    base = Embedder(precision="float32")
    export_query_encoder(base, model_dir)
    spec = _read_spec(model_dir)
    int8 = docenc.ensure_document_encoder(model_dir, base)
    tok = str(base.path / "tokenizer.json")

    def add(name, factory):
        if name not in names:
            return
        before = rss_mb()
        t = time.perf_counter()
        fn, extra = factory()
        fn(["warm up"], [[]])
        opts[name] = (fn, {"load_s": round(time.perf_counter() - t, 2),
                           "rss_added_mb": round(rss_mb() - before), **extra})

    def torch_opt(precision):
        def f():
            e = Embedder(precision=precision)
            _ = e.model
            return (lambda texts, spans: e.encode_with_spans(texts, spans)), {"engine": "torch", "batch": "32 texts"}
        return f

    def ort_opt(path, mode="threads", budget=docenc.TOKEN_BUDGET, fixed_batch=None):
        def f():
            cfg = docenc.WorkerConfig(str(path), tok, spec)
            enc = docenc.OnnxDocumentEncoder(cfg, workers, mode, budget)
            if fixed_batch:  # batches of a fixed count, by length, as the torch path does
                worker = enc._local

                def run(texts, spans):
                    from qa.embed.pooling import SpanEncoding
                    order = np.argsort([-len(t) for t in texts], kind="stable")
                    parts = {}
                    for b in range(0, len(texts), fixed_batch):
                        idx = order[b:b + fixed_batch]
                        parts[b] = (idx, worker([texts[i] for i in idx], [spans[i] for i in idx]))
                    return _join(parts, texts, spans)
                return run, {"engine": "onnxruntime", "batch": f"{fixed_batch} texts", "mode": mode}
            info = {"engine": "onnxruntime", "batch": f"{budget} tokens", "mode": mode, "enc": enc}
            return (lambda texts, spans: enc.run(texts, spans)), info
        return f

    def ov_opt(path, hint=None):
        def f():
            import openvino as ov
            from tokenizers import Tokenizer

            core = ov.Core()
            cfg = {"INFERENCE_NUM_THREADS": workers, "PERFORMANCE_HINT": "LATENCY"}
            if hint:
                cfg["INFERENCE_PRECISION_HINT"] = hint
            comp = core.compile_model(core.read_model(str(path)), "CPU", cfg)
            names_in = [i.get_any_name() for i in comp.inputs]
            req = comp.create_infer_request()
            t = Tokenizer.from_file(tok)
            t.enable_truncation(spec.max_seq_length)
            t.no_padding()

            class _Sess:
                def run(self, _out, feeds):
                    return [req.infer({n: feeds[n] for n in names_in})[comp.outputs[0]]]

            w = docenc.EncodeWorker.__new__(docenc.EncodeWorker)
            w._session, w._inputs, w._tok, w.spec = _Sess(), names_in, t, spec

            def run(texts, spans):
                encs = w.tokenize(texts)
                parts = {}
                for b, idx in enumerate(docenc.plan_batches([len(e.ids) for e in encs])):
                    parts[b] = (idx, w([texts[i] for i in idx], [spans[i] for i in idx], [encs[i] for i in idx]))
                return _join(parts, texts, spans)
            return run, {"engine": f"openvino {ov.__version__}", "batch": f"{docenc.TOKEN_BUDGET} tokens",
                         "hint": hint or "default"}
        return f

    fused = model_dir / "fused_fp32.onnx"
    if any(n in names for n in ("ort-fp32-fused",)) and not fused.is_file():
        from onnxruntime.transformers import optimizer
        optimizer.optimize_model(str(model_dir / "query_encoder.onnx"), model_type="bert", num_heads=12,
                                 hidden_size=384, opt_level=1).save_model_to_file(str(fused))
    add("torch-bf16", torch_opt("bfloat16"))
    add("torch-fp32", torch_opt("float32"))
    add("ort-fp32", ort_opt(model_dir / "query_encoder.onnx"))
    add("ort-fp32-fused", ort_opt(fused))
    # Not offered: static int8 (QDQ, per-channel, calibrated on 111 chunks of both corpora with
    # onnxruntime's MinMax calibrator) gave vectors unrelated to float32's (mean cosine 0.00 on
    # onnxruntime and on OpenVINO; bench/RESULTS.md), so it was dropped before timing it here.
    add("ort-int8-batch32", ort_opt(int8, fixed_batch=32))
    add("ort-int8-tokens", ort_opt(int8))
    add("ort-int8-tokens-procs", ort_opt(int8, mode="processes"))
    try:
        import openvino  # noqa: F401
        add("ov-fp32", ov_opt(model_dir / "query_encoder.onnx"))
        add("ov-int8", ov_opt(int8))
    except ImportError:
        pass
    return opts


def _join(parts, texts, spans):
    from qa.embed.pooling import SpanEncoding

    n_spans = [len(s) for s in spans]
    first = np.concatenate([[0], np.cumsum(n_spans)]).astype(np.int64)
    vec = sums = cnt = None
    for idx, (v, s, c) in parts.values():
        if vec is None:
            vec = np.zeros((len(texts), v.shape[1]), np.float32)
            sums = np.zeros((int(first[-1]), v.shape[1]), np.float32)
            cnt = np.zeros(int(first[-1]), np.int64)
        vec[idx] = v
        at = 0
        for i in idx:
            k = n_spans[i]
            sums[first[i]:first[i] + k], cnt[first[i]:first[i] + k] = s[at:at + k], c[at:at + k]
            at += k
    return SpanEncoding(vec, sums, cnt)


def throughput(opts: dict, work: dict, group: int = 256) -> dict:
    """Every group of texts through every option, in rotating order; per corpus and option figures."""
    from qa.embed.model import Embedder
    from qa.embed.pooling import unit_rows

    ref_emb = Embedder(precision="float32")
    tok = ref_emb.tokenizer.backend_tokenizer
    out: dict = {}
    names = list(opts)
    for corpus, (texts, spans) in work.items():
        tokens = sum(min(len(e.ids), 256) for e in tok.encode_batch(texts, add_special_tokens=True))
        secs = {n: 0.0 for n in names}
        vecs = {n: [] for n in names}
        sent = {n: [] for n in names}
        for g, lo in enumerate(range(0, len(texts), group)):
            tt, ss = texts[lo:lo + group], spans[lo:lo + group]
            order = names[g % len(names):] + names[:g % len(names)]
            for n in order:
                t = time.perf_counter()
                enc = opts[n][0](tt, ss)
                secs[n] += time.perf_counter() - t
                vecs[n].append(enc.vectors)
                sent[n].append(unit_rows(enc.span_sums))
        ref = ref_emb.encode(texts)
        base = secs[names[0]]
        out[corpus] = {}
        for n in names:
            v = np.concatenate(vecs[n])
            cos = (v * ref).sum(1)
            s0, s1 = np.concatenate(sent[names[0]]), np.concatenate(sent[n])
            info = {k: v for k, v in opts[n][1].items() if k != "enc"}
            if "enc" in opts[n][1] and opts[n][1]["enc"]._pool is not None:
                info["worker_rss_mb"] = round(_child_rss(opts[n][1]["enc"]._pool))
            out[corpus][n] = {
                "chunks": len(texts), "tokens": tokens, "seconds": round(secs[n], 2),
                "chunks_per_s": round(len(texts) / secs[n], 1), "tokens_per_s": round(tokens / secs[n]),
                "ratio_to_today": round(base / secs[n], 2),
                "cos_to_fp32_min": round(float(cos.min()), 4), "cos_to_fp32_mean": round(float(cos.mean()), 5),
                "span_cos_to_today_mean": round(float((s0 * s1).sum(1)[(s0 != 0).any(1)].mean()), 5), **info,
            }
    return out


def quality(out: Path, precisions: list[str], workers: int | None, answer_sets: bool = True) -> dict:
    """Full builds for each precision, alternating; then SciFact nDCG@10 and ``qa eval``'s answer figures.

    Corpora: the seeds (``eval/qa.jsonl``), SciFact train (nDCG@10, float32 questions) and, with
    ``answer_sets``, all of news-bbc (``eval/bbc.jsonl``) and the news-realtimeqa evaluation subset
    (``eval/rtqa.jsonl``, made by ``eval/make_rtqa_sample.py --subset``), so that a change in
    document vectors is judged on 731 questions, not on the 83 of the seeds alone.
    """
    import subprocess

    from bench.common import PeakRSS
    from qa.embed.model import Embedder
    from qa.evaluate.beir import BeirEvaluator, load_beir
    from qa.index.builder import IndexBuilder
    from qa.pipeline import QAService

    res: dict = {}
    beir = load_beir(SCIFACT, "train")
    corpora = [("seeds", [SEEDS], REPO / "eval" / "qa.jsonl"), ("scifact", [beir.corpus], None)]
    if answer_sets:
        rtqa_sub = out / "rtqa-subset.jsonl"
        subprocess.run([sys.executable, str(REPO / "eval" / "make_rtqa_sample.py"), "--subset", str(rtqa_sub)],
                       check=True, capture_output=True)
        corpora += [("news-bbc", [BBC_RAW.parent / "articles.jsonl"], REPO / "eval" / "bbc.jsonl"),
                    ("rtqa-subset", [rtqa_sub], REPO / "eval" / "rtqa.jsonl")]
    for name, corpus, _ in corpora:
        for p in precisions:
            ix = out / "idx" / f"{name}-{p}"
            shutil.rmtree(ix, ignore_errors=True)
            emb = Embedder(precision=p, workers=workers)
            _ = emb.model  # loading torch is not a build cost of either path
            with PeakRSS() as mem:
                t = time.perf_counter()
                rep = IndexBuilder(emb, progress=False).run(corpus, ix, rebuild=True)
                wall = time.perf_counter() - t
            emb.close()
            res.setdefault(name, {})[p] = {"precision": emb.precision.value, "wall_s": round(wall, 1),
                                           "chunks": rep.chunks, "chunks_per_s": round(rep.chunks / wall, 1),
                                           "rss_peak_mb": round(mem.peak_mb), "engine": rep.engine,
                                           "timings": {k: round(v, 2) for k, v in rep.timings.items()}}
            print(f"built {name} {p}: {res[name][p]}", flush=True)
    for p in precisions:
        svc = QAService(index_dir=out / "idx" / f"scifact-{p}", corpus=[beir.corpus], precision=p,
                        progress=False)
        svc.retriever.embed = svc.embedder.encode_queries  # float32 questions (ONNX), as `qa ask` has them
        r = BeirEvaluator(svc, ("dense", "hybrid")).run(beir)
        res["scifact"][p]["ndcg@10"] = {c: round(m["ndcg@10"], 4) for c, m in r.metrics.items()}
        print(f"scifact {p}: {res['scifact'][p]['ndcg@10']}", flush=True)
        for name, corpus, qset in corpora:
            if qset is None:
                continue
            ev = out / f"eval-{name}-{p}"
            cmd = [sys.executable, "-m", "qa", "eval", str(qset), "--index-dir", str(out / "idx" / f"{name}-{p}"),
                   "--precision", p, "--configs", "hybrid,dense", "-q", "--out", str(ev)]
            if name != "seeds":
                cmd += ["--corpus", str(corpus[0])]
            run = subprocess.run(cmd, cwd=out, check=False, capture_output=True, text=True)
            try:
                res[name][p]["qa_eval"] = json.loads((ev / "metrics.json").read_text())
            except (OSError, ValueError) as exc:
                res[name][p]["qa_eval"] = f"unavailable: {exc}; {run.stderr[-500:]}"
            print(f"eval {name} {p}: done", flush=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/qa-embed-options"))
    ap.add_argument("--articles", type=int, default=150, help="sampled articles per corpus (default 150)")
    ap.add_argument("--options", default="all", help="comma-separated option names, or all")
    ap.add_argument("--workers", type=int, default=None, help="threads / processes (default: every core)")
    ap.add_argument("--quality", action="store_true", help="also full SciFact + seeds builds and scores")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--precisions", default="auto,int8",
                    help="precisions --quality builds and scores (default auto,int8: today's default and int8)")
    ap.add_argument("--no-answer-sets", action="store_true",
                    help="--quality without news-bbc and the news-realtimeqa subset (seeds and SciFact only)")
    args = ap.parse_args(argv)
    from qa.embed.docenc import default_workers
    from qa.embed.model import Embedder

    args.out.mkdir(parents=True, exist_ok=True)
    os.chdir(args.out)  # quantisation by-products, if any, land here
    workers = args.workers or default_workers()
    report: dict = {"load_start": os.getloadavg(), "workers": workers, "command": " ".join(sys.argv)}
    if not args.skip_throughput:
        all_names = ["torch-bf16", "torch-fp32", "ort-fp32", "ort-fp32-fused",
                     "ort-int8-batch32", "ort-int8-tokens",
                     "ort-int8-tokens-procs",
                     "ov-fp32", "ov-int8"]
        names = all_names if args.options == "all" else [n for n in all_names if n in args.options.split(",")]
        from qa.embed.model import native_bfloat16

        # Ratios are to today's path on this CPU: what `--precision auto` embeds with here.
        today = "torch-bf16" if native_bfloat16() else "torch-fp32"
        names = ([today] if today in names else []) + [n for n in names if n != today]
        report["today"] = today
        emb = Embedder(precision="float32")
        work = {"news-bbc": corpus_work(emb, [BBC_RAW], args.articles),
                "scifact": corpus_work(emb, [SCIFACT / "corpus.jsonl"], args.articles)}
        opts = make_options(args.out / "models", names, workers)
        report["throughput"] = throughput(opts, work)
        for corpus, rows in report["throughput"].items():
            for n, r in rows.items():
                print(f"{corpus:9s} {n:42s} {r['chunks_per_s']:7.1f} chunks/s x{r['ratio_to_today']:.2f} "
                      f"cos {r['cos_to_fp32_mean']:.4f}/{r['cos_to_fp32_min']:.4f} +{r['rss_added_mb']} MB", flush=True)
        write_json(args.out / "embed_options.json", report)
    if args.quality:
        report["quality"] = quality(args.out, args.precisions.split(","), args.workers,
                                    answer_sets=not args.no_answer_sets)
    report["load_end"] = os.getloadavg()
    write_json(args.out / "embed_options.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
