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
