"""The int8 onnxruntime document encoder: batches, vectors, spans, workers, files it leaves."""
from __future__ import annotations

import os

import numpy as np
import pytest

from qa.config import Precision
from qa.embed import docenc

TEXTS = [
    "Microsoft has invested $13 billion in OpenAI.",
    "The deal runs until 2032, heise reported on Tuesday, citing people familiar with the talks.",
    "Short.",
    " ".join(["A long sentence about cloud computing, revenue sharing and artificial general intelligence"] * 6),
] * 6


@pytest.mark.parametrize("budget", [64, 300, 4096])
def test_token_budget_batches_cover_every_text_once_longest_first(budget):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=500).tolist() + [400]
    batches = docenc.plan_batches(lengths, budget, max_texts=128)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    for b in batches:
        width = max(lengths[i] for i in b)
        assert len(b) == 1 or len(b) * width <= budget  # a text longer than the budget goes alone
        assert len(b) <= 128
    firsts = [lengths[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)


@pytest.fixture(scope="module")
def int8_dir(tmp_path_factory, embedder):
    from qa.embed.model import Embedder

    d = tmp_path_factory.mktemp("int8")
    cwd = tmp_path_factory.mktemp("cwd")
    here = os.getcwd()
    os.chdir(cwd)
    try:
        onnx_file = docenc.ensure_document_encoder(d, Embedder(precision="float32"))
    finally:
        os.chdir(here)
    assert list(cwd.iterdir()) == []  # no quantisation by-products where qa was started
    assert onnx_file == d / docenc.DOC_FILE
    return d


def test_quantised_model_is_made_once_and_leaves_no_temporaries(int8_dir, embedder):
    from qa.embed.model import Embedder

    names = sorted(p.name for p in int8_dir.iterdir() if "query_encoder" not in p.name)
    assert names == sorted([docenc.DOC_FILE, docenc.DOC_META])  # the query encoder's files are onnx.py's
    mtime = (int8_dir / docenc.DOC_FILE).stat().st_mtime_ns
    docenc.ensure_document_encoder(int8_dir, Embedder(precision="float32"))
    assert (int8_dir / docenc.DOC_FILE).stat().st_mtime_ns == mtime
    assert (int8_dir / docenc.DOC_FILE).stat().st_size < (int8_dir / "query_encoder.onnx").stat().st_size / 3


@pytest.fixture(scope="module")
def int8_embedder(int8_dir):
    from qa.embed.model import Embedder

    e = Embedder(precision="int8")
    e.use_encoder_dir(int8_dir)
    yield e
    e.close()


def test_int8_document_vectors_stay_close_to_float32(int8_embedder):
    from qa.embed.model import Embedder

    ref = Embedder(precision="float32").encode(TEXTS)
    got = int8_embedder.encode(TEXTS)
    assert int8_embedder.precision is Precision.INT8 and int8_embedder._model is None  # torch never loaded
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, rtol=1e-5)
    cos = (got * ref).sum(axis=1)
    assert cos.min() > 0.97
    assert np.abs(got - ref).max() > 1e-4  # really int8, not the float32 graph


def test_int8_spans_count_the_same_tokens_as_torch(int8_embedder, float32_embedder_spans):
    text = "OpenAI restructured. Microsoft owns about 27 percent."
    spans = [(0, 20), (21, len(text))]
    enc = int8_embedder.encode_with_spans([text, "Nothing to pool here."], [spans, []])
    ref = float32_embedder_spans.encode_with_spans([text, "Nothing to pool here."], [spans, []])
    assert enc.span_tokens.tolist() == ref.span_tokens.tolist()
    a = enc.span_sums / np.linalg.norm(enc.span_sums, axis=1, keepdims=True)
    b = ref.span_sums / np.linalg.norm(ref.span_sums, axis=1, keepdims=True)
    assert (a * b).sum(axis=1).min() > 0.95


@pytest.fixture(scope="module")
def float32_embedder_spans():
    from qa.embed.model import Embedder

    return Embedder(precision="float32")


def test_worker_processes_give_the_threads_vectors(int8_dir, int8_embedder):
    from qa.embed.model import Embedder

    spans = [[(0, min(10, len(t)))] for t in TEXTS]
    threads = int8_embedder.encode_with_spans(TEXTS, spans)
    procs = Embedder(precision="int8", workers=2, worker_mode="processes")
    procs.use_encoder_dir(int8_dir)
    try:
        got = procs.encode_with_spans(TEXTS, spans)
        assert procs._doc_encoder.mode == "processes" and procs._doc_encoder._pool is not None
    finally:
        procs.close()
    np.testing.assert_allclose(got.vectors, threads.vectors, atol=1e-6)
    np.testing.assert_allclose(got.span_sums, threads.span_sums, atol=1e-5)
    assert got.span_tokens.tolist() == threads.span_tokens.tolist()


def test_batch_questions_stay_float32_with_int8_documents(int8_embedder):
    from qa.embed.model import Embedder

    ref = Embedder(precision="float32").encode(TEXTS[:2])
    np.testing.assert_allclose(int8_embedder.encode_queries(TEXTS[:2]), ref, atol=1e-5)


def test_progress_callback_counts_every_text(int8_embedder):
    seen = []
    int8_embedder.encode(TEXTS, on_batch=seen.append)
    assert sum(seen) == len(TEXTS) and len(seen) >= 1


def test_unknown_worker_mode_is_refused(int8_dir):
    cfg = docenc.WorkerConfig(str(int8_dir / docenc.DOC_FILE), "unused", None)
    with pytest.raises(ValueError, match="unknown worker mode 'fibers'; valid: threads, processes"):
        docenc.OnnxDocumentEncoder(cfg, 2, "fibers")
