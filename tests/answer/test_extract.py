"""The phrase finders of qa/answer/extract.py: amounts, dates, names, lists, noun phrases.

Every phrase must be text the sentence contains at its offsets (``sentence[start:end] == text``),
because the answer quotes it as the article's own words.
"""
from __future__ import annotations

import pytest

from qa.answer import extract
from qa.answer.extract import (
    find_amounts, find_dates, find_list, find_names, noun_phrase, person_near, polarity, same_value,
)


def _offsets_ok(sentence, phrases):
    for p in phrases:
        assert sentence[p.start:p.end] == p.text, p


@pytest.mark.parametrize("sentence,text,value,kind,unit", [
    ("The firm was valued at €11.7 billion.", "€11.7 billion", 11.7e9, "money", "€"),
    ("It raised $13bn in total.", "$13bn", 13e9, "money", "$"),
    ("Revenue was £4.3bn last year.", "£4.3bn", 4.3e9, "money", "£"),
    ("Debts of 14bn euros were revealed.", "14bn euros", 14e9, "money", "€"),
    ("Sales fell 27 percent in May.", "27 percent", 27.0, "percent", ""),
    ("Just 10% of the mail was infected.", "10%", 10.0, "percent", ""),
    ("The stake is worth 130 billion.", "130 billion", 130e9, "number", ""),
])
def test_amounts(sentence, text, value, kind, unit):
    found = find_amounts(sentence)
    _offsets_ok(sentence, found)
    assert [(p.text, p.value, p.kind, p.unit) for p in found] == [(text, value, kind, unit)]


def test_bare_numbers_are_counts_only_when_asked_and_years_never():
    s = "In 2024 the plant hired 800 employees."
    assert find_amounts(s) == []
    counts = find_amounts(s, counts=True)
    assert [(p.text, p.value, p.unit) for p in counts] == [("800 employees", 800.0, "employees")]


@pytest.mark.parametrize("sentence,texts,values", [
    ("The deal runs until 2030.", ["until 2030"], ["2030"]),
    ("They will marry on 8 April in Windsor.", ["on 8 April"], ["8 april"]),
    ("The summit on 5-6 March 2005 was cancelled.", ["on 5-6 March 2005"], ["2005"]),
    ("Until 1857, a divorce needed an Act of Parliament.", ["Until 1857"], ["1857"]),
    ("Papers dating back to 1670 are kept.", ["back to 1670"], ["1670"]),
    ("It was founded in March 1999 by two students.", ["in March 1999"], ["1999"]),
])
def test_dates(sentence, texts, values):
    found = find_dates(sentence)
    _offsets_ok(sentence, found)
    assert [p.text for p in found] == texts and [p.value for p in found] == values


def test_old_years_need_a_preposition():
    """1500-1899 without "in / until / since …" is as likely a count as a year."""
    assert find_dates("The shop sold 1857 copies.") == []
    assert [p.value for p in find_dates("The hall was built in 1689.")] == ["1689"]


def test_names_skip_the_question_names_and_a_lone_first_word():
    s = "Yesterday Microsoft CEO Satya Nadella met Sam Altman in Redmond."
    names = [p.text for p in find_names(s, exclude=("Microsoft",))]
    assert "Yesterday" not in names and "Microsoft" not in names
    assert "Sam Altman" in names


def test_person_near_takes_the_name_next_to_the_role():
    s = "The chief executive, Jane Doe, met the chairman, Tom Reed, on Monday."
    assert person_near(s, ("chief", "executive")).text == "Jane Doe"
    assert person_near(s, ("chairman",)).text == "Tom Reed"


@pytest.mark.parametrize("sentence,items", [
    ("The round included investments from Thrive Capital, Nvidia and SoftBank.", ("Thrive Capital", "Nvidia", "SoftBank")),
    ("It tested models from Anthropic, xAI, DeepSeek and Meta as replacements.", ("Anthropic", "xAI", "DeepSeek", "Meta")),
    ("Bids came in from Alpha Corp, Beta Ltd, Gamma and Delta Inc.", ("Alpha Corp", "Beta Ltd", "Gamma", "Delta Inc")),
])
def test_lists(sentence, items):
    found = find_list(sentence)
    assert found is not None and found.value == items
    _offsets_ok(sentence, [found])


def test_no_list_in_an_ordinary_sentence():
    assert find_list("The company said it would keep its plans for now.") is None


def test_noun_phrase_built_on_the_head():
    s = "Other products may run on any cloud provider."
    p = noun_phrase(s, "clouds")
    assert p is not None and p.text == "any cloud provider"
    _offsets_ok(s, [p])


def test_polarity():
    assert polarity("The firm will keep its exclusive rights.")
    assert not polarity("The firm will no longer keep its exclusive rights.")
    assert not polarity("The carmaker has yet to comment on the plan.")
    assert not polarity("The minister failed to win the vote.")


def test_same_value():
    a = find_amounts("It paid $13 billion.")[0]
    b = find_amounts("It paid $13.0bn.")[0]
    c = find_amounts("It paid £13 billion.")[0]
    assert same_value(a, b) and not same_value(a, c)


def test_every_finder_stops_at_the_cap():
    """A phrase past MAX_SENTENCE_CHARS is not read (issue 17: a 60 KB sentence must not stall
    everyone); one inside it keeps its offsets."""
    pad = "x " * extract.MAX_SENTENCE_CHARS
    assert find_amounts(pad + "$5 billion") == []
    assert find_dates(pad + "until 2030") == []
    assert find_names(pad + "Sam Altman") == []
    assert find_list(pad + "including Alpha, Beta and Gamma") is None
    s = "$5 billion " + pad
    assert [p.text for p in find_amounts(s)] == ["$5 billion"]
