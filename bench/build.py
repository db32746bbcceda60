"""Index build: wall time, chunks/s, tokens/s, peak RSS, and the raw model on the same texts.

The pipeline runs the model over the chunk texts only: the answerer's sentence vectors are pooled
from the same forward pass (``qa/embed/pooling.py``). The overhead ratio is reported against a raw
``SentenceTransformer.encode`` of exactly the texts the pipeline embedded (the chunks, plus any
sentence no chunk token fell in) and against the chunk texts alone; the two differ only by those.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from bench.common import PeakRSS, Section
from qa.embed.recording import RecordingEmbedder


def count_tokens(tokenizer, texts: list[str], max_len: int) -> int:
    """Tokens the model reads for ``texts`` (with special tokens, truncated as the model truncates)."""
    tok = getattr(tokenizer, "backend_tokenizer", tokenizer)
    total = 0
    for i in range(0, len(texts), 4096):
        # attention_mask, not ids: a loaded model's tokenizer pads each batch to its longest text.
        total += sum(min(sum(e.attention_mask), max_len)
                     for e in tok.encode_batch(texts[i:i + 4096], add_special_tokens=True))
    return total


def batch_sample(texts: list[str], batch_size: int, fraction: float) -> list[str]:
    """Every k-th whole batch of ``texts`` in the order sentence-transformers encodes them (longest
    first), k = 1/fraction: each sampled batch pads exactly as it does in the full run, whereas a
    random sample of texts would mix lengths within a batch and inflate the raw time."""
    order = sorted(texts, key=len, reverse=True)
    k = max(1, round(1 / fraction))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if len(batches) < 4 * k:  # too few batches for a fair sample: time them all
        return texts
    return [t for j, b in enumerate(batches) if j % k == k // 2 for t in b]


def raw_encode_seconds(embedder, texts: list[str]) -> float:
    """``SentenceTransformer.encode`` of ``texts`` in the embedder's precision (its inference context),
    or the onnxruntime session alone when the build embeds on onnxruntime (int8, or ``auto`` float32)."""
    enc = getattr(embedder, "inner", embedder).document_encoder()  # a RecordingEmbedder's inner one
    t = time.perf_counter()
    if enc is not None:  # the raw onnxruntime model, no pipeline around it
        enc.run(texts)
        return time.perf_counter() - t
    with embedder.inference():
        embedder.model.encode(texts, batch_size=embedder.batch_size, convert_to_numpy=True,
                              normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - t


def build_one(embedder, name: str, corpus: list[Path], index_dir: Path, raw: bool = True,
              raw_fraction: float = 1.0, float32_embedder=None) -> dict:
    """Build ``corpus`` from scratch into ``index_dir`` and measure it.

    ``raw_fraction`` < 1 times the raw model on that share of the same texts (whole batches, see
    :func:`batch_sample`) and scales the time up (``--quick``); the report says so. The raw model
    runs in the build's precision, so the ratio is the pipeline's own overhead. When the build ran
    in bfloat16, ``float32_embedder`` also times stock float32 ``encode`` on an eighth of the chunk
    texts (at most ``raw_fraction``), which is what the precision gains.
    """
    from qa.index.builder import IndexBuilder

    shutil.rmtree(index_dir, ignore_errors=True)
    rec = RecordingEmbedder(embedder)
    with PeakRSS() as mem:
        t = time.perf_counter()
        report = IndexBuilder(rec, progress=False).run(corpus, index_dir, rebuild=True)
        wall = time.perf_counter() - t
    texts = rec.encoded
    chunk_texts = texts[: report.chunks]
    max_len = embedder.info.max_seq_length
    tokens = count_tokens(embedder.tokenizer, texts, max_len)
    chunk_tokens = count_tokens(embedder.tokenizer, chunk_texts, max_len)
    fig = {
        "corpus": name, "articles": report.articles, "chunks": report.chunks, "sentences": report.sentences,
        "embedded_texts": report.embedded_texts, "tokens_embedded": tokens, "chunk_tokens": chunk_tokens,
        "wall_s": round(wall, 2), "timings_s": {k: round(v, 3) for k, v in report.timings.items()},
        "chunks_per_s": round(report.chunks / wall, 1), "tokens_per_s": round(tokens / wall, 1),
        "texts_per_s": round(len(texts) / wall, 1),
        "rss_start_mb": round(mem.start_mb), "rss_peak_mb": round(mem.peak_mb),
        "dense_kind": report.dense_kind,
    }
    if raw:
        if raw_fraction < 1.0:
            all_s = batch_sample(texts, embedder.batch_size, raw_fraction)
            ch_s = batch_sample(chunk_texts, embedder.batch_size, raw_fraction)
            raw_all = raw_encode_seconds(embedder, all_s) * len(texts) / len(all_s)
            raw_chunks = raw_encode_seconds(embedder, ch_s) * len(chunk_texts) / len(ch_s)
        else:
            raw_all = raw_encode_seconds(embedder, texts)
            raw_chunks = raw_encode_seconds(embedder, chunk_texts)
        fig["raw_encode_sample_fraction"] = raw_fraction
        fig["precision"] = embedder.precision.value
        if float32_embedder is not None:
            frac = min(raw_fraction, 0.125)
            sample = batch_sample(chunk_texts, embedder.batch_size, frac)
            raw_fp32 = raw_encode_seconds(float32_embedder, sample) * len(chunk_texts) / len(sample)
            fig["raw_encode_chunks_float32_s"] = round(raw_fp32, 2)
            fig["raw_float32_sample_fraction"] = frac
            fig["ratio_raw_float32_over_precision"] = round(raw_fp32 / raw_chunks, 3)
        fig.update({
            "raw_encode_all_s": round(raw_all, 2), "raw_encode_chunks_s": round(raw_chunks, 2),
            "raw_tokens_per_s": round(tokens / raw_all, 1),
            "ratio_build_vs_raw_all": round(wall / raw_all, 3),
            "ratio_build_vs_raw_chunks": round(wall / raw_chunks, 3),
            "ratio_embed_step_vs_raw_all": round(report.timings.get("embed", 0) / raw_all, 3),
        })
    return fig


def run(ctx) -> Section:
    """Build each corpus of ``ctx.build_corpora`` ({name: [paths]}) into ``ctx.out/idx/<name>``."""
    sec = Section("build")
    emb = ctx.embedder
    emb.encode(["warm up the model"] * 8)  # model load and first-call costs are not build costs
    for name, paths in ctx.build_corpora.items():
        fig = build_one(emb, name, paths, ctx.out / "idx" / name, raw=not ctx.smoke, raw_fraction=ctx.raw_fraction,
                        float32_embedder=ctx.float32_embedder())
        sec.figures[name] = fig
        ctx.log(f"build {name}: {fig}")
    return sec


def assemble_union(ctx, names: list[str], index_dir: Path) -> dict:
    """Index several corpora together, reusing the vectors their own builds computed (untimed)."""
    from qa.index.builder import IndexBuilder
    from qa.index.store import IndexStore

    cache: dict[str, np.ndarray] = {}
    for name in names:
        store = IndexStore.open(ctx.out / "idx" / name, verify=False)
        d = store.data
        for row in range(len(d.chunk_ids)):
            art = store.chunk_article(row)
            from qa.index.builder import index_text

            cache[index_text(art, int(d.chunk_span[row, 0]), int(d.chunk_span[row, 1]), True)] = d.chunk_vectors[row]
        for row in range(len(d.sentences)):
            art, s, e = store.sentence(row)
            cache[art.text[s:e]] = d.sentence_vectors[row]
    rec = RecordingEmbedder(ctx.embedder, cache=cache)
    paths = [p for n in names for p in ctx.build_corpora[n]]
    shutil.rmtree(index_dir, ignore_errors=True)
    t = time.perf_counter()
    report = IndexBuilder(rec, progress=False, sentence_vectors="separate").run(paths, index_dir, rebuild=True)
    return {"articles": report.articles, "chunks": report.chunks, "assemble_s": round(time.perf_counter() - t, 2)}
