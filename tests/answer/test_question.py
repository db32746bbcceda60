"""Question analysis (qa/answer/question.py): what a question asks for, in which form, about which noun.

Follow-up resolution (``resolve_followup``, ``Turn``) is tested in test_followups.py.
"""
from __future__ import annotations

import pytest

from qa.answer.question import AnswerType, analyze


@pytest.mark.parametrize("question,kind,form", [
    ("Who is the chief executive of Acme?", AnswerType.PERSON, "who"),
    ("Which agency said the projects had failed?", AnswerType.ORG, "which"),
    ("Which newspaper reported the talks?", AnswerType.ORG, "which"),
    ("Where did the band play its last concert?", AnswerType.PLACE, "where"),
    ("In which city was the summit held?", AnswerType.PLACE, "where"),
    ("When was the festival founded?", AnswerType.DATE, "when"),
    ("Until what year could a divorce only be granted by Parliament?", AnswerType.DATE, "when"),
    ("How long is the coach banned for?", AnswerType.DATE, "how long"),
    ("How much did the council spend?", AnswerType.AMOUNT, "how much"),
    ("What is the start-up valued at?", AnswerType.AMOUNT, "how much"),
    ("How many jobs will go?", AnswerType.AMOUNT, "how many"),
    ("How old is the singer?", AnswerType.AMOUNT, "how many"),
    ("What percentage of voters backed the plan?", AnswerType.AMOUNT, "percentage"),
    ("What proportion of the mail was infected?", AnswerType.AMOUNT, "percentage"),
    ("What operating margin does the group expect?", AnswerType.AMOUNT, "percentage"),
    ("What is the unemployment rate in Spain?", AnswerType.AMOUNT, "percentage"),
    ("Before the deal, what revenue figure was the target tied to?", AnswerType.AMOUNT, "how much"),
    ("Which companies invested in the round?", AnswerType.LIST, "list"),
    ("What is the name of her latest album?", AnswerType.THING, "what"),
    ("For what kind of models is the lab a partner?", AnswerType.THING, "what"),
    ("Is the firm still exclusive?", AnswerType.YESNO, "yes-no"),
    ("Why did the firm renegotiate?", AnswerType.OTHER, "why"),
])
def test_type_and_form(question, kind, form):
    a = analyze(question)
    assert (a.type, a.form) == (kind, form), (a.type, a.form, a.head_noun)


@pytest.mark.parametrize("question,head", [
    ("Which record company makes the album?", "company"),
    ("What is the name of his latest album?", "album"),
    ("For what kind of models is the lab a partner?", "models"),
    ("What type of engine does the car use?", "engine"),
    ("Which film won the prize?", "film"),
])
def test_head_noun(question, head):
    assert analyze(question).head_noun == head


def test_a_kind_of_plural_thing_is_one_kind_not_a_list():
    assert analyze("What kind of models does it build?").type is AnswerType.THING
    assert analyze("Which models does it build?").type is AnswerType.LIST


def test_terms_and_entities():
    a = analyze("How much has Microsoft invested in OpenAI since 2019?")
    assert "microsoft" in a.terms and "invested" in a.terms and "how" not in a.terms
    assert set(a.entities) >= {"Microsoft", "OpenAI", "2019"}
    assert a.text == "How much has Microsoft invested in OpenAI since 2019?"


def test_exchange_rate_is_an_amount_not_a_percentage():
    a = analyze("What is the exchange rate of the euro?")
    assert a.type is AnswerType.AMOUNT and not a.extras["percent"]
