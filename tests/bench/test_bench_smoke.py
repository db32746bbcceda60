"""The benchmark's code paths on tiny inputs (``python -m bench.run --smoke``), so the bench cannot
silently rot. Speed figures are printed by the bench, never asserted here."""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench import run as bench_run  # noqa: E402
from bench.common import make_questions, summary_ms  # noqa: E402
from bench.langchain_cmp import doc_ranking  # noqa: E402
from bench.scale import recall_at_k, synth  # noqa: E402

HAVE_LANGCHAIN = all(importlib.util.find_spec(m) for m in ("langchain_community", "langchain_huggingface"))


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench-smoke")
    sections = "build,incremental,query,scale" + (",langchain" if HAVE_LANGCHAIN else "")
    rc = bench_run.main(["--smoke", "--out", str(out), "--sections", sections])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report["_rc"], report["_md"] = rc, (out / "report.md").read_text(encoding="utf-8")
    return report


def test_smoke_run_has_every_section_without_errors(smoke_report):
    errors = {k: v["error"] for k, v in smoke_report["sections"].items() if v["error"]}
    assert errors == {} and smoke_report["_rc"] == 0
    assert "## Targets" in smoke_report["_md"]


def test_build_figures_are_consistent(smoke_report):
    b = smoke_report["sections"]["build"]["figures"]["seeds"]
    assert b["chunks"] > 0 and b["sentences"] > 0
    assert b["embedded_texts"] == b["chunks"]  # sentence vectors are pooled from the chunks' pass
    assert b["tokens_embedded"] == b["chunk_tokens"] > 0
    assert set(b["timings_s"]) >= {"ingest", "chunk", "embed", "dense", "bm25", "write"}


def test_incremental_embeds_only_what_changed(smoke_report):
    f = smoke_report["sections"]["incremental"]["figures"]
    assert f["unchanged"]["noop"] and f["unchanged"]["embedded_texts"] == 0
    assert f["add_10"]["added"] == 10 and f["add_10"]["embedded_texts"] > 0
    assert f["change_1"]["changed"] == 1 and f["change_1"]["added"] == 0
    assert f["delete_1"]["removed"] == 1 and f["delete_1"]["embedded_texts"] == 0


def test_query_latency_parts_and_batch(smoke_report):
    q = smoke_report["sections"]["query"]["figures"]["seeds"]
    lat = q["latency"]
    for part in ("retrieve_embed", "retrieve_dense", "retrieve_bm25", "retrieve_fusion", "answer", "total"):
        assert lat[part]["n"] > 0 and lat[part]["p95"] >= lat[part]["p50"] >= 0
    assert q["batch"]["exit_code"] == 0 and q["batch"]["questions"] == 40


def test_scale_recall_is_against_exact_search(smoke_report):
    s = smoke_report["sections"]["scale"]["figures"]
    for n in ("2000", "5000"):
        assert s[n]["flat"]["recall@10"] == 1.0
        recalls = [v["recall@10"] for v in s[n]["ivf"]["by_nprobe"].values()]
        assert all(0.0 <= r <= 1.0 for r in recalls) and recalls == sorted(recalls)


@pytest.mark.skipif(not HAVE_LANGCHAIN, reason="bench extras not installed: pip install -e .[bench]")
def test_langchain_comparison_figures(smoke_report):
    f = smoke_report["sections"]["langchain"]["figures"]
    assert 0.0 <= f["scifact"]["qa_ndcg10"] <= 1.0 and 0.0 <= f["scifact"]["langchain_ndcg10"] <= 1.0
    assert f["news"]["langchain_build"]["chunks"] > 0


def test_synthetic_vectors_are_unit_and_keep_the_real_ones():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(50, 8)).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    v = synth(real, 500, block=64)
    assert v.shape == (500, 8) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert np.array_equal(v[:50], real)
    assert len(np.unique(v.round(5), axis=0)) == 500


@pytest.mark.parametrize("ids,truth,expected", [
    ([[1, 2, 3]], [[1, 2, 3]], 1.0), ([[1, 2, 9]], [[3, 2, 1]], 2 / 3), ([[7, 8, 9]], [[1, 2, 3]], 0.0)])
def test_recall_at_k(ids, truth, expected):
    assert recall_at_k(np.array(ids), np.array(truth)) == pytest.approx(expected)


def test_doc_ranking_keeps_first_occurrence_order():
    run = doc_ranking(["b", "a", "b", "c", "a"])
    assert sorted(run, key=lambda d: -run[d]) == ["b", "a", "c"]


def test_generated_questions_are_seeded_and_varied():
    from bench.common import SEEDS, load_articles

    arts = load_articles([SEEDS])
    a, b = make_questions(arts, 30, seed=5), make_questions(arts, 30, seed=5)
    assert a == b and len(set(a)) > 15 and all(q.endswith("?") for q in a)
    assert make_questions(arts, 30, seed=6) != a


def test_summary_percentiles():
    s = summary_ms(list(range(1, 101)))
    assert s["p50"] == pytest.approx(50.5) and s["p95"] == pytest.approx(95.05) and s["n"] == 100


def test_qa_package_never_imports_bench_only_dependencies():
    pattern = re.compile(r"^\s*(from|import)\s+(langchain_community|langchain_huggingface|psutil)\b", re.M)
    offenders = [str(p) for p in (REPO / "qa").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
