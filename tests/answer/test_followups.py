"""Follow-ups that chain: each turn resolved against the previous turn's resolved query and answer."""
from __future__ import annotations

import pytest

from qa.answer.question import Turn, resolve_followup
from qa.pipeline import Question
from tests.answer.test_answerer import check_citations


def test_subject_carries_over_several_turns_with_question_strings_only():
    h = ["When did Microsoft first invest?", "and how much was that?"]
    assert "Microsoft first invest" in resolve_followup("and how much was that?", h[:1])
    resolved = resolve_followup("and when was that?", h)
    assert resolved.startswith("When was that?") and "Microsoft" in resolved and "invest" in resolved


@pytest.mark.parametrize("question,turn,expect", [
    ("What did he say about AGI?", Turn("Who is OpenAI's CEO?", "Who is OpenAI's CEO?", "Sam Altman"),
     "What did Sam Altman say about AGI?"),
    ("What is her salary?", Turn("Who runs the bank?", "", "Jane Doe Smith"), "What is Jane Doe Smith's salary?"),
    ("When was it founded?", Turn("Which firm bought the mill?", "", "Acme Steel"), "When was Acme Steel founded?"),
    # "that" is the event asked about, not the previous answer
    ("and how much was that?", Turn("When did Acme first invest?", "", "in 2019"), "How much was that? (Acme first invest)"),
    # a person pronoun does not take an organisation's name, nor a date
    ("What did he say?", Turn("Which firm bought the mill?", "", "Acme"), "What did he say? (firm bought mill)"),
])
def test_pronouns_take_the_previous_answers_name_where_it_fits(question, turn, expect):
    assert resolve_followup(question, [turn]) == expect


def test_dict_turns_as_the_ui_passes_them():
    turn = {"question": "Who is OpenAI's CEO?", "query": "Who is OpenAI's CEO?", "short_answer": "Sam Altman"}
    assert resolve_followup("What did he say about AGI?", [turn]) == "What did Sam Altman say about AGI?"


def test_a_new_question_is_not_rewritten():
    assert resolve_followup("Who is Microsoft's CEO?", [Turn("Who is OpenAI's CEO?", "", "Sam Altman")]) \
        == "Who is Microsoft's CEO?"


def _chat(service, questions):
    turns, answers = [], []
    for q in questions:
        ans = service.ask(Question(q, history=tuple(turns)))
        turns.append(Turn(q, ans.query or "", ans.short_answer))
        answers.append(ans)
    return answers


def test_ceo_then_he_searches_for_the_ceo(service):
    first, second = _chat(service, ["Who is OpenAI's CEO?", "What did he say about AGI?"])
    assert first.short_answer == "Sam Altman"
    assert "Sam Altman" in second.query and "AGI" in second.query
    assert not second.abstained and "Altman" in second.citations[0].quote and "AGI" in second.citations[0].quote
    check_citations(second, service.store)


def test_invest_chain_keeps_its_subject(service):
    a1, a2, a3 = _chat(service, ["When did Microsoft first invest?", "and how much was that?", "and when was that?"])
    assert "Microsoft" in a2.query and "Microsoft" in a3.query and "invest" in a3.query
    assert "$1 billion" in a2.answer and not a2.abstained
    assert not a3.abstained and "2019" in a3.answer.split("\n")[0]
    for a in (a1, a2, a3):
        check_citations(a, service.store)


def test_string_history_chains_through_the_pipeline(service):
    ans = service.ask(Question("and when was that?", history=("When did Microsoft first invest?", "and how much was that?")))
    assert "Microsoft" in ans.query and not ans.abstained and "2019" in ans.answer
