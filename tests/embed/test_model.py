"""The Embedder against sentence-transformers itself, and span pooling on the real model."""
from __future__ import annotations

import numpy as np
import pytest

from qa.config import Precision

TEXTS = [
    "Microsoft has invested $13 billion in OpenAI.",
    "The deal runs until 2032, heise reported on Tuesday, citing people familiar with the talks.",
    "Short.",
    " ".join(["A very long sentence about cloud computing, revenue sharing and artificial general intelligence"] * 12),
] * 40  # 160 texts: several batches, unsorted lengths


@pytest.fixture(scope="module")
def float32_embedder(embedder):
    from qa.embed.model import Embedder

    # The torch path as shipped: ``auto`` float32 embeds builds on onnxruntime (see below).
    if embedder.requested_precision is Precision.FLOAT32:
        return embedder
    return Embedder(precision="float32")


def test_encode_matches_sentence_transformers(float32_embedder):
    e = float32_embedder
    ours = e.encode(TEXTS)
    theirs = e.model.encode(TEXTS, batch_size=e.batch_size, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (len(TEXTS), e.info.dim) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_bfloat16_vectors_match_float32(float32_embedder, embedder):
    from qa.embed.model import Embedder

    bf16 = embedder if embedder.precision is Precision.BFLOAT16 else Embedder(precision="bfloat16")
    ours, exact = bf16.encode(TEXTS), float32_embedder.encode(TEXTS)
    cos = (ours * exact).sum(axis=1)
    assert cos.min() > 0.9999
    assert np.abs(ours - exact).max() > 0  # really computed in bfloat16, not float32
    with bf16.inference():  # the model's own encode works inside the embedder's context
        theirs = bf16.model.encode(TEXTS[:4], normalize_embeddings=True, convert_to_numpy=True)
    assert ((theirs * exact[:4]).sum(axis=1)).min() > 0.9999


@pytest.mark.parametrize(("native", "expected"), [(True, Precision.BFLOAT16), (False, Precision.FLOAT32)])
def test_auto_precision_follows_the_cpu_without_int8(monkeypatch, native, expected):
    from qa.embed import model as model_mod

    monkeypatch.setattr(model_mod, "native_bfloat16", lambda: native)
    monkeypatch.setattr(model_mod.Embedder, "_int8_possible", lambda self: False)
    assert model_mod.Embedder(precision="auto").precision is expected
    assert model_mod.Embedder(precision="int8").precision is expected  # falls back to torch
    assert model_mod.Embedder(precision="float32").precision is Precision.FLOAT32


def test_auto_float32_builds_run_the_export_on_onnxruntime_with_torchs_vectors(tmp_path, monkeypatch,
                                                                              float32_embedder):
    from qa.embed import model as model_mod

    monkeypatch.setattr(model_mod, "native_bfloat16", lambda: False)
    texts, spans = TEXTS[:40], [[(0, 9)] if len(t) > 9 else [] for t in TEXTS[:40]]
    ref = float32_embedder.encode_with_spans(texts, spans)
    auto = model_mod.Embedder(precision="auto")
    assert auto.engine["engine"] == "torch"  # no index folder: nothing is exported for a few texts
    auto.use_encoder_dir(tmp_path)  # what a build does
    try:
        got = auto.encode_with_spans(texts, spans)
        assert auto.engine == {"engine": "onnxruntime", "precision": "float32", "workers": auto.engine["workers"],
                               "worker_mode": "threads", "token_budget": 4096}
        assert (tmp_path / "query_encoder.onnx").is_file()  # the export questions use, made once
        assert auto._doc_encoder is not None and auto._model is not None  # ... from the torch model
        np.testing.assert_allclose(got.vectors, ref.vectors, atol=1e-5, rtol=0)
        np.testing.assert_allclose(got.span_sums, ref.span_sums, atol=1e-4, rtol=1e-5)
        np.testing.assert_array_equal(got.span_tokens, ref.span_tokens)
    finally:
        auto.close()
    asked = model_mod.Embedder(precision="float32")
    asked.use_encoder_dir(tmp_path)
    assert asked.engine["engine"] == "torch"  # an explicit float32 is the model as shipped


def test_int8_runs_on_onnxruntime_when_asked_and_auto_stays_on_torch():
    from qa.embed.model import Embedder

    assert Embedder(precision="auto").precision in (Precision.BFLOAT16, Precision.FLOAT32)
    e = Embedder(precision="int8")
    assert e.precision is Precision.INT8
    assert e.engine["engine"] == "onnxruntime" and e.engine["precision"] == "int8"
    assert Embedder(precision="bfloat16").engine == {"engine": "torch", "precision": "bfloat16", "batch_size": 32}


def test_unknown_precision_lists_the_valid_ones():
    from qa.embed.model import Embedder

    with pytest.raises(ValueError, match="unknown precision 'fp8'; valid: auto, float32, bfloat16, int8"):
        Embedder(precision="fp8")


def test_encode_with_spans_gives_the_same_text_vectors_and_counts_tokens(embedder):
    text = "OpenAI restructured. Microsoft owns about 27 percent."
    spans = [(0, 20), (21, len(text))]
    enc = embedder.encode_with_spans([text, "Nothing to pool here."], [spans, []])
    np.testing.assert_allclose(enc.vectors, embedder.encode([text, "Nothing to pool here."]), atol=1e-5)
    tok = embedder.model.tokenizer
    expected = [len(tok(text[s:e], add_special_tokens=False)["input_ids"]) for s, e in spans]
    assert enc.span_tokens.tolist() == expected and enc.span_sums.shape == (2, embedder.info.dim)


def test_pooled_span_is_nearest_its_own_sentence(embedder):
    sents = ["The central bank raised interest rates by half a point.",
             "The striker scored twice in the second half.",
             "Heavy rain flooded the village overnight."]
    text = " ".join(sents)
    spans, pos = [], 0
    for s in sents:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    enc = embedder.encode_with_spans([text], [spans])
    pooled = enc.span_sums / np.linalg.norm(enc.span_sums, axis=1, keepdims=True)
    alone = embedder.encode(sents)
    assert (np.argmax(pooled @ alone.T, axis=1) == np.arange(3)).all()


def test_tokenizer_without_offsets_falls_back_to_encoding_each_span(float32_embedder, monkeypatch):
    embedder = float32_embedder  # the torch path: the int8 path always has the Rust tokenizer's offsets
    text = "OpenAI restructured. Microsoft owns about 27 percent."
    spans = [(0, 20), (21, len(text))]
    monkeypatch.setattr(type(embedder.model.tokenizer), "is_fast", property(lambda self: False))
    enc = embedder.encode_with_spans([text], [spans])
    assert enc.span_tokens.tolist() == [1, 1]
    np.testing.assert_allclose(enc.span_sums, embedder.encode([text[s:e] for s, e in spans]), atol=1e-5)


def test_span_lists_must_match_texts(embedder):
    with pytest.raises(ValueError, match="2 texts but 1 span lists"):
        embedder.encode_with_spans(["a", "b"], [[]])


def test_native_bfloat16_from_cpuinfo_agrees_with_torchs_probes():
    import torch

    from qa.embed.model import _cpu_flags, native_bfloat16

    if _cpu_flags() is None:
        pytest.skip("no /proc/cpuinfo flags here: torch's probes answer directly")
    assert native_bfloat16() == bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
