"""Conflicts only between values of the same thing: attribute, part/whole, change, goal, time."""
from __future__ import annotations

import pytest

from qa.answer.conflicts import Role, about, comparable_dates, consistent, frame, question_measures
from qa.answer.extract import find_amounts
from tests.answer.test_answerer import check_citations


@pytest.fixture(scope="module")
def stem():
    import Stemmer

    return Stemmer.Stemmer("english").stemWord


def _frame(sentence: str, value: str, stem):
    start = sentence.index(value)
    return frame(sentence, start, start + len(value), stem)


@pytest.mark.parametrize("sentence,value,role", [
    ("Acme invested its first $1 billion in the venture.", "$1 billion", Role.PART),
    ("The original deal, in which Acme invested $2 billion, was small.", "$2 billion", Role.PART),
    ("Its investment has exceeded $13 billion since 2019.", "$13 billion", Role.TOTAL),
    ("Shipments rose by almost 11% last year.", "11%", Role.CHANGE),
    ("That means £3bn less spending than planned.", "£3bn", Role.CHANGE),
    ("Fans attempted to raise the $50,000 needed for an advert.", "$50,000", Role.TARGET),
    ("Acme is valued at $150 billion.", "$150 billion", Role.PLAIN),
])
def test_roles(stem, sentence, value, role):
    assert _frame(sentence, value, stem).role is role


@pytest.mark.parametrize("sentence,value,question,expect", [
    ("Six years later, Acme is valued at over $150 billion.", "$150 billion", "What is the valuation of Acme?", True),
    ("Acme expects Beta's stake in the company to be valued at around 135 billion dollars.", "135 billion",
     "What is the valuation of Acme?", False),
    ("In return for its investment, which has exceeded $13 billion since 2019.", "$13 billion",
     "What is the valuation of Acme?", False),
    ("In return for its investment, which has exceeded $13 billion since 2019.", "$13 billion",
     "How much has Beta invested?", True),
    ("Beta also contributed 5 billion to this funding round.", "5 billion", "How much has Beta invested?", False),
    ("The bridge cost $40 million.", "$40 million", "How much?", True),  # nothing to tell values apart by
])
def test_value_is_about_the_asked_attribute(stem, sentence, value, question, expect):
    asked = question_measures(question.rstrip("?").split(), stem)
    assert about(_frame(sentence, value, stem), asked) is expect


def test_instalment_and_total_are_consistent_unless_the_part_is_larger(stem):
    part = (1e9, _frame("Beta invested its first $1 billion.", "$1 billion", stem))
    total = (13e9, _frame("Beta's investment exceeded $13 billion since 2019.", "$13 billion", stem))
    big_part = (130e9, _frame("The deal was initially signed when Beta invested over 130 billion.", "130 billion", stem))
    assert consistent(part, total) and consistent(total, part)
    assert not consistent(big_part, total)
    plain_a = (5.0, _frame("Acme is valued at $5 billion.", "$5 billion", stem))
    plain_b = (7.0, _frame("Acme is valued at $7 billion.", "$7 billion", stem))
    assert not consistent(plain_a, plain_b)


@pytest.mark.parametrize("a,b,close", [("2025-05-11", "2025-05-12", True), ("2020-03-01", "2023-06-10", False),
                                       (None, "2023-06-10", True), ("2025-01-01", "2025-03-01", False)])
def test_comparable_dates(a, b, close):
    assert comparable_dates(a, b) is close


def test_valuation_is_not_a_disagreement_with_stake_or_investment(service):
    ans = service.ask("What is the valuation of OpenAI?")
    assert not ans.abstained and not ans.answer.startswith("The sources differ"), ans.answer
    assert ans.short_answer == "$150 billion"
    assert "135 billion" not in ans.answer.split("\n")[0] and "$13 billion" not in ans.answer.split("\n")[0]
    check_citations(ans, service.store)


@pytest.mark.parametrize("question", ["How much has Microsoft invested?", "How much has Microsoft invested in OpenAI?"])
def test_first_instalment_does_not_disagree_with_the_total(service, question):
    ans = service.ask(question)
    first = ans.answer.split("\n")[0]
    assert "$13 billion" in first and "$1 billion" not in first, ans.answer
    # The one real disagreement of the seeds stays: "over 130 billion" in 2019 against "$13 billion since 2019".
    assert first.startswith("The sources differ") and "130 billion" in first
    check_citations(ans, service.store)


def test_no_conflict_from_a_made_up_corpus_of_parts_changes_and_goals(tmp_path, embedder):
    from qa.pipeline import QAService

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Fans of the Foxit browser managed to raise $250,000 to advertise it in a newspaper.")
    (corpus / "b.txt").write_text("The Foxit campaign first attempted to raise the $50,000 needed for a newspaper advert.")
    (corpus / "c.txt").write_text("Sales of Foxit rose by almost 11% as the campaign raised its profile.")
    svc = QAService(index_dir=tmp_path / "ix", corpus=[corpus], progress=False, embedder=embedder)
    ans = svc.ask("How much did Foxit fans raise to advertise it in a newspaper?")
    assert not ans.abstained and not ans.answer.startswith("The sources differ"), ans.answer
    assert "$250,000" in ans.answer.split("\n")[0]
    check_citations(ans, svc.store)
