"""``qa index --ray``: embedding on a real local Ray instance gives the single-process vectors.

One Ray session for the module (Ray takes 10-25 s to start here); each embedding call starts a
pool of model actors (several seconds more), so the tests make as few calls as they can.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.embed.ray import LOCAL_BELOW, RayEmbedder, RayError, RaySession, import_ray

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUESTIONS = ["How much has Microsoft invested in OpenAI?", "Who leads OpenAI?"]


@pytest.fixture(scope="module")
def ray_session():
    pytest.importorskip("ray.data", reason="ray[data] is not installed: pip install 'ray[data]'")
    session = RaySession(None)
    session.connect()
    yield session
    session.close()


def _chunks_with_spans(n_chars: int = 300) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Seed article slices of unequal length, each with its sentence-like spans."""
    texts, spans = [], []
    for f in sorted(SEEDS.glob("*.txt")):
        body = f.read_text(encoding="utf-8")
        step = n_chars
        for i in range(0, len(body), step):
            t = body[i:i + step + (i // step) % 5 * 40]  # lengths vary: several length-sorted batches
            sp, at = [], 0
            while at < len(t):
                e = t.find(". ", at)
                e = len(t) if e < 0 else e + 1
                sp.append((at, e))
                at = e + 1
            texts.append(t)
            spans.append(sp)
    return texts, spans


def test_local_instance_listens_on_loopback_only(ray_session):
    assert ray_session.node_addresses() == ["127.0.0.1"]
    ctx = ray_session.ray.get_runtime_context()
    assert ctx.gcs_address.startswith("127.0.0.1:")


def test_vectors_and_span_sums_match_the_single_process_path(embedder, ray_session):
    texts, spans = _chunks_with_spans()
    assert len(texts) > 2 * embedder.batch_size  # more than one batch per actor
    ref = embedder.encode_with_spans(texts, spans)
    ray_emb = RayEmbedder(embedder, session=ray_session, workers=2)
    seen = []
    got = ray_emb.encode_with_spans(texts, spans, on_batch=seen.append)
    assert ray_emb.runs == 1  # it did run on Ray
    assert sum(seen) == len(texts) and len(seen) > 1  # progress moved batch by batch
    assert got.vectors.shape == ref.vectors.shape and got.span_sums.shape == ref.span_sums.shape
    # Same order as the inputs, and the same numbers to 1e-5.
    np.testing.assert_allclose(got.vectors, ref.vectors, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got.span_sums, ref.span_sums, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(got.span_tokens, ref.span_tokens)
    eng = ray_emb.engine
    assert eng["worker_mode"] == "ray actors" and eng["workers"] == 2 and eng["precision"] == ref_precision(embedder)
    # Few texts (a build's orphan sentences) stay in this process: no actor pool for them.
    few = texts[:LOCAL_BELOW - 1]
    np.testing.assert_allclose(ray_emb.encode(few), embedder.encode(few), atol=1e-5, rtol=0)
    assert ray_emb.runs == 1


def ref_precision(embedder) -> str:
    return embedder.precision.value


def test_index_with_ray_is_the_same_index_and_answers(embedder, ray_session, seeds_index, tmp_path):
    from qa import cli
    from qa.index.builder import IndexBuilder
    from qa.index.store import IndexStore, read_manifest
    from qa.pipeline import QAService

    out = tmp_path / "ray-index"
    assert cli.main(["index", "--ray", "--corpus", str(SEEDS), "--index-dir", str(out), "--quiet"]) == 0
    a, b = IndexStore.open(seeds_index).data, IndexStore.open(out).data
    assert a.chunk_ids == b.chunk_ids
    np.testing.assert_array_equal(a.chunk_span, b.chunk_span)
    np.testing.assert_array_equal(a.sentences, b.sentences)
    np.testing.assert_allclose(b.chunk_vectors, a.chunk_vectors, atol=1e-5, rtol=0)
    np.testing.assert_allclose(b.sentence_vectors, a.sentence_vectors, atol=1e-5, rtol=0)
    man = read_manifest(out)
    assert man["settings"] == read_manifest(seeds_index)["settings"]
    assert man["document_encoder"]["worker_mode"] == "ray actors"
    # Same settings and corpus: a build without Ray over it has nothing to do.
    assert IndexBuilder(embedder, progress=False).run([SEEDS], out).noop
    with_ray = QAService(index_dir=out, corpus=[SEEDS], progress=False, build=False, embedder=embedder)
    without = QAService(index_dir=seeds_index, corpus=[SEEDS], progress=False, build=False, embedder=embedder)
    for q in QUESTIONS:
        x, y = with_ray.ask(q), without.ask(q)
        assert (x.answer, x.abstained, [p.chunk_id for p in x.passages]) == \
               (y.answer, y.abstained, [p.chunk_id for p in y.passages])


def test_an_unreachable_cluster_address_is_a_clear_error_and_fast(ray_session):
    t = time.perf_counter()
    with pytest.raises(RayError, match=r"cannot reach a Ray cluster there.*ray start --head"):
        RaySession("127.0.0.1:1").connect()
    assert time.perf_counter() - t < 10
    with pytest.raises(RayError, match="expected HOST:PORT"):
        RaySession("nowhere").connect()


def test_missing_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed: `import ray` fails
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(RayError, match=r"pip install 'ray\[data\]'"):
        import_ray(local=True)
