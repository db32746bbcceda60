"""bench/embed_options.py on two articles per corpus: the comparison's code path, not its figures."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench import embed_options  # noqa: E402
from bench.common import BBC_RAW, SCIFACT  # noqa: E402


@pytest.mark.skipif(not (BBC_RAW.is_dir() and SCIFACT.is_dir()), reason="needs ../shared/data")
def test_options_are_timed_side_by_side_with_their_quality(tmp_path):
    rc = embed_options.main(["--articles", "2", "--options", "ort-int8-tokens,torch-fp32", "--out", str(tmp_path)])
    rep = json.loads((tmp_path / "embed_options.json").read_text(encoding="utf-8"))
    assert rc == 0 and set(rep["throughput"]) == {"news-bbc", "scifact"}
    assert rep["today"] in ("torch-bf16", "torch-fp32")
    for rows in rep["throughput"].values():
        # torch first: the ratios are to it (today's path on a CPU without native bfloat16)
        assert list(rows) == ["torch-fp32", "ort-int8-tokens"]
        assert rows["torch-fp32"]["ratio_to_today"] == 1.0
        int8 = rows["ort-int8-tokens"]
        assert int8["chunks"] == rows["torch-fp32"]["chunks"] > 0 and int8["tokens_per_s"] > 0
        assert 0.97 < int8["cos_to_fp32_mean"] < 0.99999  # int8, yet close to float32
        assert "rss_added_mb" in int8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["embed_options.json", "models"]
