"""Regression guard: the seeds eval must not fall below the floors in floors.json."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

FLOORS = json.loads((Path(__file__).parent / "floors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("metric", sorted(FLOORS["floors"]))
def test_hybrid_stays_above_floor(hybrid_eval, metric):
    value = hybrid_eval.metrics[FLOORS["config"]]["overall"][metric]
    floor = FLOORS["floors"][metric]
    assert value >= floor, (f"{FLOORS['config']} {metric} fell to {value:.3f}, below the floor {floor} "
                            f"(measured {FLOORS['measured'][metric]} on {FLOORS['date']}); "
                            f"see `qa eval --configs hybrid --out eval/out` and eval/out/report.md")


def test_calibration_sweep_runs_on_the_seeds_eval(hybrid_eval):
    from qa.evaluate.calibrate import calibration_records, score_threshold, sweep_threshold

    recs = calibration_records(hybrid_eval.records, "hybrid")
    if all(r["support"] is None for r in recs):
        pytest.skip("the answerer reports no Answer.support")
    best, table = sweep_threshold(recs)
    assert max(r["accuracy"] for r in table) == score_threshold(recs, best)["accuracy"]
    assert table[0]["abstained"] <= table[-1]["abstained"] == len(recs)
