"""Metric functions against hand-computed cases, and the hand-rolled ones against ranx."""
from __future__ import annotations

import math

import pytest

from qa.evaluate.metrics import (
    abstention_pr, answer_correct, contains_answer, dedupe_docs, doc_run, evidence_rank, lead_answer,
    max_token_f1, normalize_answer, percentile, ranking_metrics, token_f1,
)
from qa.evaluate.report import hit_curve


def test_dedupe_keeps_best_rank_order():
    assert dedupe_docs(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert doc_run(["b", "a", "b", "c"]) == {"b": 1.0, "a": 0.5, "c": pytest.approx(1 / 3)}


def test_ranking_metrics_hand_computed():
    # q1: gold d1 at doc rank 2 (passages d0, d0, d1); q2: two golds, one at rank 1; q3: nothing retrieved.
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1, "d3": 1}, "q3": {"d9": 1}}
    run = {"q1": doc_run(["d0", "d0", "d1"]), "q2": doc_run(["d3", "d4"])}
    m = ranking_metrics(qrels, run, ["hit_rate@1", "hit_rate@3", "mrr@10", "ndcg@10", "recall@100"])
    assert m["hit_rate@1"] == pytest.approx(1 / 3)
    assert m["hit_rate@3"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    ndcg_q1 = 1 / math.log2(3)  # one gold, found at rank 2: DCG 1/log2(3), ideal 1
    ndcg_q2 = 1 / (1 + 1 / math.log2(3))  # two golds, one found at rank 1
    assert m["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2 + 0) / 3)
    assert m["recall@100"] == pytest.approx((1 + 0.5 + 0) / 3)
    per = ranking_metrics(qrels, run, ["mrr@10"], per_query=True)
    assert per["mrr@10"] == {"q1": pytest.approx(0.5), "q2": 1.0, "q3": 0.0}


def test_hit_curve_agrees_with_ranx_hit_rate():
    ranked = {"q1": ["a", "b", "c"], "q2": ["x", "y", "g"], "q3": ["g2"], "q4": ["z"]}
    gold = {"q1": {"b"}, "q2": {"g"}, "q3": {"g2"}, "q4": {"nope"}}
    records = [{"config": "c", "answerable": True, "doc_rank": next(
        (r for r, d in enumerate(ranked[q], 1) if d in gold[q]), None)} for q in ranked]
    curve = hit_curve(records, "c", "doc_rank", ks=(1, 2, 3, 5))
    qrels = {q: {d: 1 for d in g} for q, g in gold.items()}
    run = {q: doc_run(d) for q, d in ranked.items()}
    ranx_vals = ranking_metrics(qrels, run, ["hit_rate@1", "hit_rate@2", "hit_rate@3", "hit_rate@5"])
    assert curve == pytest.approx(list(ranx_vals.values()))
    assert curve == pytest.approx([0.25, 0.5, 0.75, 0.75])


@pytest.mark.parametrize("evidence, passages, rank", [
    ("Microsoft invested $13 billion", ["nothing here", "In 2023 Microsoft\n invested  $13 billion in it."], 2),
    ("the deal", ["The deal was signed"], 1),  # case-insensitive
    ("spans two passages", ["it spans two", "passages here"], None),
    ("", ["anything"], None),
])
def test_evidence_rank(evidence, passages, rank):
    assert evidence_rank(evidence, passages) == rank


@pytest.mark.parametrize("text, lead", [
    ("Microsoft invested $13 billion [1]. It also said more [2].\nDetail line", "Microsoft invested $13 billion."),
    ("The U.S. deal was worth 5 billion. [1] Next sentence.", "The U.S. deal was worth 5 billion."),
    ("Azure [1][2]\nmore", "Azure"),
    ("Sam Altman [1, 2]", "Sam Altman"),
    ("", ""),
])
def test_lead_answer(text, lead):
    assert lead_answer(text) == lead


@pytest.mark.parametrize("pred, gold, f1", [
    ("Sam Altman", "Sam Altman", 1.0),
    ("the Sam Altman.", "sam altman", 1.0),  # articles and punctuation ignored
    ("CEO Sam Altman said", "Sam Altman", 2 * (2 / 4) * 1 / (2 / 4 + 1)),
    ("Nadella", "Satya Nadella", 2 * 1 * 0.5 / 1.5),
    ("nothing alike", "Azure", 0.0),
    ("", "Azure", 0.0),
])
def test_token_f1_squad(pred, gold, f1):
    assert token_f1(pred, gold) == pytest.approx(f1)


def test_max_f1_and_normalisation():
    assert max_token_f1("Altman", ["Sam Altman", "Altman"]) == 1.0
    assert max_token_f1("x", []) == 0.0
    assert normalize_answer("The  “Big” Deal — an AI!") == "big deal ai"


@pytest.mark.parametrize("answer, abstained, cited, ok", [
    ("Microsoft used Azure [1].", False, ["d1"], True),
    ("Microsoft used  AZURE [1].", False, ["d2", "d1"], True),
    ("Microsoft used Azure [1].", False, ["d2"], False),  # right words, wrong doc cited
    ("Microsoft used AWS [1].", False, ["d1"], False),
    ("Microsoft used Azure.", True, ["d1"], False),  # abstained
])
def test_answer_correct(answer, abstained, cited, ok):
    assert answer_correct(answer, abstained, cited, ["Azure"], ["d1"]) is ok


def test_contains_answer_needs_any_accepted():
    assert contains_answer("about $500 billion", ["500 billion", "$500bn"])
    assert not contains_answer("about 50 billion", ["500 billion"])


def test_abstention_precision_recall():
    abstained = [True, True, False, False, True]
    unanswerable = [True, False, True, False, True]
    assert abstention_pr(abstained, unanswerable) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert abstention_pr([False, False], [True, False]) == (None, 0.0)
    assert abstention_pr([True], [False]) == (0.0, None)


def test_percentile():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([1.0] * 19 + [100.0], 95) == pytest.approx(5.95)
    assert percentile([], 50) is None


# -- issue 12: answer metrics --------------------------------------------------------------------
from qa.evaluate.metrics import exact_match, inferred_short_answer, is_conflict_answer, max_exact_match  # noqa: E402
from qa.evaluate.runner import answer_metrics, summarize  # noqa: E402


@pytest.mark.parametrize("pred,gold,em", [("The Sam Altman.", "sam altman", True), ("$13 billion", "13 billion", True),
                                          ("Sam", "Sam Altman", False), ("", "x", False)])
def test_exact_match_squad(pred, gold, em):
    assert exact_match(pred, gold) is em
    assert max_exact_match(pred, ["nope", gold]) is em


@pytest.mark.parametrize("answer,notes,conflict", [
    ("The sources differ: A says $1 [1]; B says $2 [2].", [], True),
    ("$13 billion [1].\nAs of …", [], False),
    ("What the articles report, oldest first:\n- 1 May 2020, A: “…” [1]", ["timeline: claims listed by article date"], False),
    ("Anything", ["conflict: sources give different values"], True),
])
def test_is_conflict_answer(answer, notes, conflict):
    assert is_conflict_answer(answer, notes) is conflict


@pytest.mark.parametrize("answer,abstained,short", [
    ("Sam Altman [1].\nAs of 11 May 2025, AInvest reports: “…” [1]", False, "Sam Altman"),
    ("As of 11 May 2025, AInvest reports: “OpenAI's CEO, Sam Altman, …” [1]", False, None),
    ("The sources differ: A says 1 [1]; B says 2 [2].", False, None),
    ("Sam Altman [1].", True, None),
])
def test_inferred_short_answer(answer, abstained, short):
    assert inferred_short_answer(answer, abstained) == short


def _rec(i, answerable=True, abstained=False, short=None, em=False, f1=None, conflict=False, correct=False,
         qtype="factoid", split=""):
    return {"id": f"q{i}", "config": "c", "type": qtype if answerable else "unanswerable", "answerable": answerable,
            "abstained": abstained, "short_answer": short, "short_em": em, "short_f1": f1, "conflict": conflict,
            "correct": correct, "overall_correct": correct if answerable else abstained, "split": split,
            "gold_docs": ["d"], "retrieved_docs": ["d"], "evidence_rank": 1, "f1": 0.0, "latency_ms": 1.0}


def test_answer_metrics_hand_computed():
    recs = [
        _rec(1, short="A", em=True, f1=1.0, correct=True),
        _rec(2, short="B", em=False, f1=0.5, correct=True),
        _rec(3, short=None, correct=False, conflict=True),            # invented conflict: one gold value
        _rec(4, abstained=True),                                       # false abstention
        _rec(5, short="C", em=False, f1=0.0, conflict=True, qtype="conflict"),  # a real conflict question
        _rec(6, answerable=False, abstained=True),
        _rec(7, answerable=False, abstained=False, conflict=True),     # also invented
    ]
    m = answer_metrics(recs)
    assert m["short_em"] == pytest.approx(1 / 3) and m["short_f1"] == pytest.approx(1.5 / 3)
    assert m["short_rate"] == pytest.approx(3 / 5)
    assert m["false_abstention"] == pytest.approx(1 / 5)
    assert m["unanswerable_recall"] == pytest.approx(1 / 2)
    assert m["invented_conflicts"] == 2


def test_answer_metrics_without_unanswerable_or_shorts():
    m = answer_metrics([_rec(1, abstained=True)])
    assert m["short_em"] is None and m["short_f1"] is None and m["unanswerable_recall"] is None
    assert m["short_rate"] == 0.0 and m["false_abstention"] == 1.0


def test_summarize_reports_each_split_apart():
    recs = [_rec(1, short="A", em=True, f1=1.0, correct=True, split="tune"),
            _rec(2, short="B", f1=0.0, split="test"), _rec(3, abstained=True, split="test")]
    s = summarize(recs, ["c"])["c"]
    assert {"split=tune", "split=test", "overall"} <= set(s)
    assert s["split=tune"]["n"] == 1 and s["split=tune"]["short_em"] == 1.0
    assert s["split=test"]["n"] == 2 and s["split=test"]["false_abstention"] == 0.5
    assert s["overall"]["n"] == 3
