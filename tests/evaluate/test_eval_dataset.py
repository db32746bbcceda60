"""The Q&A set: shape, size, and every evidence verbatim in the cleaned text of its first gold doc."""
from __future__ import annotations

import json

import pytest

from qa.evaluate.dataset import QUESTION_TYPES, DatasetError, evidence_problems, load_qa


def test_set_is_large_enough_and_mixed(qa_items):
    assert len(qa_items) >= 60
    assert sum(not it.answerable for it in qa_items) >= 10
    assert len({it.id for it in qa_items}) == len(qa_items)
    assert {it.type for it in qa_items} <= set(QUESTION_TYPES)
    assert len({it.type for it in qa_items}) >= 4


def test_every_evidence_is_verbatim_in_the_cleaned_article(qa_items, service):
    def text_of(doc_id):
        return service.store.article(doc_id).text

    assert evidence_problems(qa_items, text_of) == []
    answerable = [it for it in qa_items if it.answerable]
    assert all(it.evidence in text_of(it.docs[0]) for it in answerable)


def test_evidence_check_catches_a_wrong_item(qa_items, service):
    it = next(i for i in qa_items if i.answerable)
    other = next(a.doc_id for a in service.store.articles if a.doc_id != it.docs[0]
                 and it.evidence not in a.text)
    broken = [type(it)(it.id, it.question, it.answers, (other,), it.evidence, it.type),
              type(it)("x", it.question, it.answers, ("no-such-doc",), it.evidence, it.type)]
    problems = evidence_problems(broken, lambda d: service.store.article(d).text)
    assert any("evidence not found" in p for p in problems)
    assert any("not in the index" in p for p in problems)


GOOD = {"id": "a", "question": "Q?", "answers": ["x"], "docs": ["d"], "evidence": "x.", "type": "factoid"}


@pytest.mark.parametrize("lines, message", [
    (["{not json"], "not valid JSON"),
    ([json.dumps({k: v for k, v in GOOD.items() if k != "docs"})], "missing key"),
    ([json.dumps({**GOOD, "type": "trivia"})], "unknown type 'trivia'; valid: factoid"),
    ([json.dumps(GOOD), json.dumps(GOOD)], "duplicate id 'a' (first on line 1)"),
    ([json.dumps({**GOOD, "type": "unanswerable"})], "unanswerable item must have empty"),
    ([json.dumps({**GOOD, "answers": []})], "needs answers, docs and evidence"),
    ([json.dumps({**GOOD, "answers": "x"})], "'answers' must be a list"),
    ([""], "holds no questions"),
])
def test_malformed_sets_are_refused_with_the_line(tmp_path, lines, message):
    f = tmp_path / "qa.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=None) as exc:
        load_qa(f)
    assert message in str(exc.value)


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetError, match="qa eval FILE"):
        load_qa(tmp_path / "nope.jsonl")


# ---- the dated dev set (eval/rtqa.jsonl, issue 13) ----

RTQA = __import__("pathlib").Path(__file__).resolve().parents[2] / "eval" / "rtqa.jsonl"
RTQA_CORPUS = RTQA.parents[2] / "shared" / "data" / "news-realtimeqa" / "articles.jsonl"


def test_dated_set_shape():
    import re

    from qa.evaluate.dataset import load_qa

    items = load_qa(RTQA)
    recs = [json.loads(x) for x in RTQA.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(items) >= 150 and all(it.as_of for it in items)
    unanswerable = [r for r in recs if r["type"] == "unanswerable"]
    assert 0.08 <= len(unanswerable) / len(recs) <= 0.15
    assert all(r["later_doc"] and r["later_answer"] for r in unanswerable)
    relative = re.compile(r"\b(today|yesterday|this week|last week|this month|in (?:march|april|may|june|january)"
                          r"|last year|so far this year|recently|since \w+|latest|current|now)\b", re.I)
    assert 0.28 <= sum(bool(relative.search(r["question"])) for r in recs) / len(recs) <= 0.45
    assert {it.split for it in items} == {"tune", "test"}
    assert all(a in it.evidence for it in items if it.answerable for a in it.answers)


@pytest.mark.slow
@pytest.mark.skipif(not RTQA_CORPUS.is_file(), reason="../shared/data/news-realtimeqa not on this machine")
def test_dated_set_checks_against_the_articles():
    """Evidence verbatim in its article, every gold article dated on or before the question's as-of
    date, every unanswerable item's answer only in an article dated after it (make_rtqa_sample --check)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_rtqa_sample", RTQA.parent / "make_rtqa_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.check(RTQA, mod.load_articles(RTQA_CORPUS)) == []


def test_as_of_field_is_read_and_checked(tmp_path):
    base = {"id": "a", "question": "Q?", "answers": ["x"], "docs": ["d"], "evidence": "x", "type": "factoid"}
    p = tmp_path / "s.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [
        {**base, "as_of": "2026-01-08"}, {**base, "id": "b", "date": "2026/01/09"}, {**base, "id": "c"}]) + "\n")
    assert [it.as_of for it in load_qa(p)] == ["2026-01-08", "2026-01-09", ""]
    p.write_text(json.dumps({**base, "as_of": "next week"}) + "\n")
    with pytest.raises(DatasetError, match="as_of"):
        load_qa(p)


def test_dated_eval_runs_with_and_without_dates_and_never_cites_later_articles(service):
    """Every question of a dated set over the seeds, at as-of dates between the seeds' articles:
    the dated run cites nothing dated after its question's date; the undated run is reported beside it."""
    from qa.evaluate.dataset import QAItem
    from qa.evaluate.runner import NO_AS_OF, QAEvaluator

    qs = ["How much has Microsoft invested in OpenAI?", "Who is OpenAI's CEO?",
          "What is the latest on the Microsoft and OpenAI partnership?", "What did Microsoft agree this week?"]
    items = [QAItem(id=f"q{i}-{d}", question=q, answers=("x",), docs=("000_68f4ca30cfc60671",), evidence="x",
                    type="factoid", split="test", as_of=d)
             for i, q in enumerate(qs) for d in ("2025-05-11", "2025-05-12", "2025-08-01")]
    result = QAEvaluator(service, ["hybrid"]).run(items)
    assert result.configs == ["hybrid", "hybrid" + NO_AS_OF]
    dated = [r for r in result.records if r["config"] == "hybrid"]
    assert len(dated) == len(items) and all(r["as_of"] for r in dated)
    for r in dated:
        assert r["cited_after_as_of"] == []
        assert all(not service.store.article(d).date or service.store.article(d).date <= r["as_of"]
                   for d in r["cited_docs"] + r["retrieved_docs"])
    assert result.metrics["hybrid"]["overall"]["cites_after_as_of"] == 0
    undated = [r for r in result.records if r["config"] == "hybrid" + NO_AS_OF]
    assert all(r["as_of"] is None for r in undated)
    assert any(r["cited_after_as_of"] for r in undated)  # without dates, later articles do get cited
