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
    # The one real disagreement of the seeds stays: "over 130 billion" in 2019 against "$13 billion since
    # 2019", whenever the passage that says 130 billion is among those the answer is read from.
    store = service.store
    if any("130 billion" in store.article(p.doc_id).text[p.start:p.end] for p in ans.passages[:8]):
        assert first.startswith("The sources differ") and "130 billion" in first, ans.answer
    else:
        assert not first.startswith("The sources differ"), ans.answer
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


def test_the_same_figure_rounded_is_no_disagreement(stem):
    exact = (27.5e9, _frame("Yugansk was sold to help pay off a $27.5bn back tax bill.", "$27.5bn", stem))
    rounded = (27e9, _frame("The unit was sold to pay a $27bn tax bill.", "$27bn", stem))
    assert consistent(exact, rounded)  # within 5%
    hedged = (50e6, _frame("More than 50 million people own a mobile.", "50 million", stem))
    plain = (53e6, _frame("Surveys say 53 million people own one.", "53 million", stem))
    assert hedged[1].hedged and consistent(hedged, plain)  # within 20% when one is hedged
    far = (40e6, _frame("Officials counted 40 million owners.", "40 million", stem))
    assert not consistent(far, plain)  # 25% apart and neither hedged: a disagreement


def test_values_of_differently_named_periods_do_not_disagree():
    from qa.answer.conflicts import different_periods

    q3 = "Globally, 167 million phones were sold in the third quarter of 2004, analysts said."
    year = "More than 674 million phones were sold worldwide last year."
    assert different_periods(q3, q3.index("167"), year, year.index("674"))
    same = "The deal was signed in 2019 when Acme paid 130 billion."
    since = "Its investment has exceeded $13 billion since 2019."
    assert not different_periods(same, same.index("130"), since, since.index("$13"))  # both 2019
    bare = "Acme paid $5 billion."
    assert not different_periods(bare, 5, q3, q3.index("167"))  # no period named: could be either


def test_active_valuing_verb_makes_the_object_the_thing_valued(stem):
    s = "ASML will invest €1.3 billion in Mistral in a funding round that values the start-up at €11.7 billion."
    asked = question_measures("What is Mistral valued at".split(), stem)
    assert about(_frame(s, "€11.7 billion", stem), asked)
    assert not about(_frame(s, "€1.3 billion", stem), asked)


def test_counts_of_different_things_are_no_disagreement(tmp_path, embedder):
    from qa.pipeline import QAService

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The new Brimsby broadband service will reach about 4.4 million households at first.")
    (corpus / "b.txt").write_text("The Brimsby broadband service stretches its reach beyond six kilometres from an exchange.")
    svc = QAService(index_dir=tmp_path / "ix", corpus=[corpus], progress=False, embedder=embedder)
    ans = svc.ask("How many households will the Brimsby broadband service reach?")
    assert not ans.abstained and not ans.answer.startswith("The sources differ"), ans.answer
    assert "4.4 million" in ans.answer.split("\n")[0]
    check_citations(ans, svc.store)
