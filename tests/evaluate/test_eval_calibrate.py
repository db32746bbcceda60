"""The abstention-threshold sweep, on hand-made records."""
from __future__ import annotations

import json

import pytest

from qa.evaluate.calibrate import candidate_thresholds, score_threshold, sweep_threshold, write_calibration

RECORDS = [  # support, answerable, right when answered
    {"answerable": True, "support": 0.9, "correct": True},
    {"answerable": True, "support": 0.7, "correct": True},
    {"answerable": True, "support": 0.5, "correct": False},
    {"answerable": False, "support": 0.4, "correct": False},
    {"answerable": True, "support": 0.3, "correct": True},
    {"answerable": False, "support": 0.2, "correct": False},
    {"answerable": False, "support": None, "correct": False},  # no answer at all: always abstains
]


def test_sweep_finds_the_best_threshold_by_hand():
    best, table = sweep_threshold(RECORDS)
    by_t = {round(r["threshold"], 6): r for r in table}
    assert sorted(by_t) == [0.2, 0.25, 0.35, 0.45, 0.6, 0.8, 0.900001]
    # t=0.2 (answer all that have an answer): right = 0.9, 0.7, 0.3 + abstaining on None = 4/7.
    assert by_t[0.2]["accuracy"] == pytest.approx(4 / 7)
    # t=0.25: abstain on 0.2 and None (both unanswerable) and answer 0.9, 0.7, 0.3 right = 5/7.
    assert by_t[0.25]["accuracy"] == pytest.approx(5 / 7)
    assert (by_t[0.25]["answered"], by_t[0.25]["abstained"]) == (5, 2)
    assert by_t[0.25]["abstain_precision"] == 1.0 and by_t[0.25]["abstain_recall"] == pytest.approx(2 / 3)
    assert by_t[0.25]["answer_accuracy"] == pytest.approx(3 / 4)
    # t=0.35: 0.3 (answerable, right) is now abstained on: 4/7. t=0.45 and 0.6: 5/7 again.
    assert by_t[0.35]["accuracy"] == pytest.approx(4 / 7)
    assert by_t[0.45]["accuracy"] == by_t[0.6]["accuracy"] == pytest.approx(5 / 7)
    assert by_t[0.900001]["answered"] == 0 and by_t[0.900001]["accuracy"] == pytest.approx(3 / 7)
    assert best == pytest.approx(0.25)  # the lowest of the tied best thresholds


def test_candidates_cover_answer_all_and_abstain_all():
    ts = candidate_thresholds([0.3, 0.1, 0.3, float("-inf")])
    assert ts[0] == 0.1 and ts[1] == pytest.approx(0.2) and ts[-1] > 0.3 and len(ts) == 3
    recs = [{"answerable": True, "support": s, "correct": True} for s in (0.3, 0.1, 0.3, None)]
    assert score_threshold(recs, ts[0])["answered"] == 3  # None never answers
    assert score_threshold(recs, ts[-1])["answered"] == 0


def test_ties_go_to_the_lowest_threshold():
    recs = [{"answerable": True, "support": 0.8, "correct": True},
            {"answerable": True, "support": 0.4, "correct": False},
            {"answerable": True, "support": 0.2, "correct": False}]
    best, table = sweep_threshold(recs)
    assert best == pytest.approx(0.2)  # 0.2, 0.3 and 0.6 all give 1/3 right; the lowest wins
    assert [round(r["accuracy"], 6) for r in table] == [0.333333, 0.333333, 0.333333, 0.0]


def test_empty_records_refused():
    with pytest.raises(ValueError):
        sweep_threshold([])


def test_write_calibration(tmp_path):
    path = tmp_path / "calibration.json"
    data = write_calibration(path, 0.4123456789, measured_on="eval/qa.jsonl", config="hybrid")
    on_disk = json.loads(path.read_text())
    assert on_disk == {"pooled": data}
    assert data["abstain_threshold"] == pytest.approx(0.412346)
    assert {"criterion", "measured_on", "date"} <= set(data)
    # each kind of sentence vectors keeps its own entry; rewriting one leaves the other
    write_calibration(path, 0.5, measured_on="eval/qa.jsonl", config="hybrid", sentence_vectors="separate")
    write_calibration(path, 0.3, measured_on="eval/qa.jsonl", config="hybrid")
    on_disk = json.loads(path.read_text())
    assert on_disk["separate"]["abstain_threshold"] == 0.5 and on_disk["pooled"]["abstain_threshold"] == 0.3


def _result_rows(prefix, rows, split=None):
    out = []
    for i, (answerable, support, correct) in enumerate(rows):
        r = {"id": f"{prefix}{i}", "config": "hybrid", "answerable": answerable, "relaxed_support": support,
             "relaxed_abstained": support is None, "relaxed_correct": correct}
        if split:
            r["split"] = split[i]
        out.append(r)
    out.append(dict(out[0], config="dense", relaxed_support=0.0))  # another config: left out
    return out


def test_pooled_sweep_over_two_dev_sets_keeps_one_split(tmp_path, capsys):
    from qa.evaluate.calibrate import main, pooled_records

    a = tmp_path / "a.jsonl"  # a set without splits: all of it is pooled
    a.write_text("\n".join(json.dumps(r) for r in _result_rows("a", [(True, 0.9, True), (False, 0.2, False)])))
    b = tmp_path / "b.jsonl"  # a set with tune/test halves: only the tune half is pooled
    b.write_text("\n".join(json.dumps(r) for r in _result_rows(
        "b", [(True, 0.6, True), (False, 0.4, False), (True, 0.1, True)], split=["tune", "tune", "test"])))
    recs = pooled_records([a, b], "hybrid", "tune")
    assert sorted(r["id"] for r in recs) == ["a0", "a1", "b0", "b1"]
    best, table = sweep_threshold(recs)
    assert 0.4 < best < 0.6 and score_threshold(recs, best)["accuracy"] == 1.0
    # with the held-out half pooled too, a threshold that declines b2 (right, support 0.1) is no better
    assert sweep_threshold(pooled_records([a, b], "hybrid"))[0] == best
    assert main([str(a), str(b), "--split", "tune"]) == 0
    assert f"best threshold: {best:.4f}" in capsys.readouterr().out
