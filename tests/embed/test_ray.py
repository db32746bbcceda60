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
from tests.conftest import require_namespaces

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


@pytest.mark.slow
def test_index_joins_a_separate_ray_cluster_by_address(seeds_index, tmp_path):
    """`qa index --ray HOST:PORT` against a Ray head started apart with `ray start --head` (its own
    processes and token auth, Ray's default), in a network namespace with only loopback: Ray's
    head listens on every interface, and nothing of this test must be reachable from outside (its own
    PID namespace too, so that `ray stop` there ends only that head). The
    index equals the single-process one; a wrong token is a clear error."""
    import os
    import subprocess

    pytest.importorskip("ray.data", reason="ray[data] is not installed: pip install 'ray[data]'")
    require_namespaces("-n", "-p", "-f", "-m", "--mount-proc")
    from qa.index.store import IndexStore

    bin_dir = Path(sys.executable).parent
    out, bad = tmp_path / "ix", tmp_path / "ix-bad"
    script = f"""
set -u
ip link set lo up
export HOME={tmp_path} RAY_USAGE_STATS_ENABLED=0
"{bin_dir / 'ray'}" get-auth-token --generate >/dev/null 2>&1 || exit 91  # as a secured head has one
"{bin_dir / 'ray'}" start --head --port 6391 --num-cpus 2 --include-dashboard false --disable-usage-stats >{tmp_path}/head.log 2>&1 || exit 90
"{sys.executable}" -m qa index -q --ray 127.0.0.1:6391 --corpus {SEEDS} --index-dir {out} >{tmp_path}/good.log 2>&1
good=$?
RAY_AUTH_TOKEN=0123456789abcdef0123456789abcdef "{sys.executable}" -m qa index -q --ray 127.0.0.1:6391 --corpus {SEEDS} --index-dir {bad} >{tmp_path}/bad.log 2>&1
bad=$?
"{bin_dir / 'ray'}" stop --force >/dev/null 2>&1
echo "$good $bad"
"""
    # Own network and PID namespaces: `ray stop` kills every Ray process it can see, and in the
    # machine's PID namespace that includes this session's local instance (whose raylet's death
    # ends this pytest process).
    run = subprocess.run(["unshare", "-n", "-p", "-f", "-m", "--mount-proc", "bash", "-c", script],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    logs = {n: (tmp_path / f"{n}.log").read_text(errors="replace")[-1500:] for n in ("head", "good", "bad")
            if (tmp_path / f"{n}.log").is_file()}
    assert run.returncode == 0, (run.stdout, run.stderr, logs)
    good, bad_rc = run.stdout.split()[-2:]
    assert good == "0", logs
    a, b = IndexStore.open(seeds_index).data, IndexStore.open(out).data
    assert a.chunk_ids == b.chunk_ids
    np.testing.assert_allclose(b.chunk_vectors, a.chunk_vectors, atol=1e-5, rtol=0)
    np.testing.assert_allclose(b.sentence_vectors, a.sentence_vectors, atol=1e-5, rtol=0)
    assert bad_rc == "8", logs  # RayError's exit code
    assert "qa: error: --ray: cannot start or join the Ray cluster at 127.0.0.1:6391" in logs["bad"]
    assert "ray get-auth-token" in logs["bad"] and "Traceback" not in logs["bad"]
    assert not (bad / "CURRENT").exists()
