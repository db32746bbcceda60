"""The evaluator and the report writer on a tiny run: every file written, and the content right."""
from __future__ import annotations

import json

import pytest

from qa.evaluate.report import misses, write_report
from qa.evaluate.runner import QAEvaluator, parse_configs


@pytest.fixture(scope="module")
def tiny_run(service, qa_items):
    answerable = [it for it in qa_items if it.answerable][:4]
    unanswerable = [it for it in qa_items if not it.answerable][:2]
    return QAEvaluator(service, ["bm25", "hybrid"]).run(answerable + unanswerable, dataset="tiny")


def test_parse_configs_validates():
    assert parse_configs("dense, BM25,hybrid,dense") == ["dense", "bm25", "hybrid"]
    with pytest.raises(ValueError, match="valid: hybrid, dense, bm25"):
        parse_configs("dense,sparse")


def test_records_are_consistent_with_what_was_retrieved(tiny_run, service):
    assert len(tiny_run.records) == 12
    for r in tiny_run.records:
        assert r["retrieved_docs"] == list(dict.fromkeys(p["doc_id"] for p in r["retrieved"]))
        if r["doc_rank"] is not None:
            assert r["retrieved_docs"][r["doc_rank"] - 1] in r["gold_docs"]
        if r["evidence_rank"] is not None:
            p = r["retrieved"][r["evidence_rank"] - 1]
            text = service.store.article(p["doc_id"]).text[p["start"]:p["end"]]
            assert " ".join(r["evidence"].split()).lower() in " ".join(text.split()).lower()
        if not r["answerable"]:
            assert r["overall_correct"] == r["abstained"] and r["f1"] is None
        else:
            assert r["correct"] == (not r["abstained"] and bool(set(r["cited_docs"]) & set(r["gold_docs"]))
                                    and any(a.lower() in r["answer"].lower() for a in r["gold_answers"]))


def test_metrics_match_the_records(tiny_run):
    for cfg in ("bm25", "hybrid"):
        mine = [r for r in tiny_run.records if r["config"] == cfg and r["answerable"]]
        m = tiny_run.metrics[cfg]["overall"]
        assert m["n"] == 6 and m["n_answerable"] == 4
        for k in (1, 3, 5):
            assert m[f"doc_hit@{k}"] == pytest.approx(sum(r["doc_rank"] is not None and r["doc_rank"] <= k
                                                          for r in mine) / 4)
        assert m["mrr@10"] == pytest.approx(sum(1 / r["doc_rank"] for r in mine if r["doc_rank"]) / 4)
        assert m["answer_accuracy"] == pytest.approx(sum(r["correct"] for r in mine) / 4)
        assert tiny_run.metrics[cfg]["unanswerable"]["doc_hit@1"] is None


def test_report_files(tiny_run, tmp_path):
    paths = write_report(tiny_run, tmp_path / "out", command="qa eval tiny")
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["configs"] == ["bm25", "hybrid"]
    assert metrics["metrics"]["hybrid"]["overall"]["n"] == 6
    lines = [json.loads(x) for x in paths["results"].read_text().splitlines()]
    assert len(lines) == 12 and {"retrieved", "answer", "cited_docs", "correct"} <= set(lines[0])
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths["report"].read_text()
    assert md.index("## Overall") < md.index("## Worst misses first") < md.index("## By question type")
    assert "| bm25 |" in md and "| hybrid |" in md and "hit_at_k.png" in md


def test_misses_are_sorted_worst_first():
    base = {"config": "h", "overall_correct": False, "abstained": True, "support": None}
    recs = [
        {**base, "id": "wrong", "answerable": True, "doc_rank": 1, "evidence_rank": 2},
        {**base, "id": "ok", "answerable": True, "doc_rank": 1, "evidence_rank": 1, "overall_correct": True},
        {**base, "id": "nodoc", "answerable": True, "doc_rank": None, "evidence_rank": None},
        {**base, "id": "unans", "answerable": False, "doc_rank": None, "evidence_rank": None, "support": 0.9},
        {**base, "id": "noevid", "answerable": True, "doc_rank": 3, "evidence_rank": None},
    ]
    assert [r["id"] for r in misses(recs, "h")] == ["nodoc", "noevid", "wrong", "unans"]


def test_answer_metrics_are_in_records_and_report(tiny_run, tmp_path):
    from qa.evaluate.report import answer_table

    for r in tiny_run.records:
        assert {"short_answer", "short_em", "short_f1", "conflict", "split"} <= set(r)
        if r["short_answer"]:
            assert not r["abstained"]
    m = tiny_run.metrics["hybrid"]["overall"]
    for key in ("short_em", "short_f1", "short_rate", "false_abstention", "unanswerable_recall", "invented_conflicts"):
        assert key in m
    assert m["unanswerable_recall"] == m["abstain_recall"]
    text = answer_table(tiny_run.metrics, tiny_run.configs, markdown=True)
    assert "SA EM" in text and "inv confl" in text and "| hybrid | all |" in text
    md = write_report(tiny_run, tmp_path / "o")["report"].read_text()
    assert "## Answers" in md


def test_eval_cli_split_filter_and_per_split_rows(tmp_path, seeds_index, qa_items, capsys):
    from qa.cli import main

    items = [it for it in qa_items if it.answerable][:2] + [it for it in qa_items if not it.answerable][:1]
    qa_file = tmp_path / "qa.jsonl"
    qa_file.write_text("".join(json.dumps({"id": it.id, "question": it.question, "answers": list(it.answers),
                                           "docs": list(it.docs), "evidence": it.evidence, "type": it.type,
                                           "split": "tune" if i == 0 else "test"}) + "\n"
                               for i, it in enumerate(items)), encoding="utf-8")
    assert main(["eval", str(qa_file), "--index-dir", str(seeds_index), "--configs", "hybrid", "-q"]) == 0
    out = capsys.readouterr().out
    assert "hybrid  all" in out and "hybrid  test" in out and "hybrid  tune" in out
    assert main(["eval", str(qa_file), "--index-dir", str(seeds_index), "--configs", "hybrid", "-q",
                 "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert "2 questions (1 unanswerable)" in out and "split test" in out
    assert main(["eval", str(qa_file), "--index-dir", str(seeds_index), "--configs", "hybrid", "-q",
                 "--split", "nope"]) == 2
    assert "its splits: test, tune" in capsys.readouterr().err
