"""The templated answerer: cited, checkable answers; disagreement; dates; follow-ups; abstention."""
from __future__ import annotations

import json
import re

import pytest

from qa.answer.question import AnswerType, analyze, is_followup, resolve_followup
from qa.pipeline import QAService, Question
from qa.types import Answer
from tests.conftest import REPO

MARKER = re.compile(r"\[(\d+)\]")


def check_citations(ans: Answer, store) -> None:
    """Every [n] resolves, numbering follows first use, no citation unused, quotes are exact."""
    used = [int(n) for n in MARKER.findall(ans.answer)]
    first_use = list(dict.fromkeys(used))
    assert first_use == list(range(1, len(ans.citations) + 1)), (ans.answer, [c.n for c in ans.citations])
    for c in ans.citations:
        art = store.article(c.doc_id)
        assert art.text[c.start:c.end] == c.quote
        assert c.title == art.title and c.date == art.date and c.source == art.source
    if ans.abstained:
        assert ans.citations == [] and not used


def lead(ans: Answer) -> str:
    return MARKER.sub("", ans.answer.split("\n", 1)[0]).strip().rstrip(".").strip()


@pytest.mark.parametrize("question,expect", [
    ("How much has Microsoft invested in OpenAI?", ["differ", "$13 billion", "130 billion"]),
    ("Who is OpenAI's CEO?", ["Sam Altman"]),
    ("Until when does Microsoft keep rights to OpenAI's research IP?", ["2030"]),
    ("What does the $250 billion commitment refer to?", ["Azure"]),
    ("On which clouds may OpenAI's non-API products run?", ["any cloud provider"]),
])
def test_done_when_questions(service, question, expect):
    ans = service.ask(question)
    assert not ans.abstained, ans.answer
    for e in expect:
        assert e.lower() in ans.answer.lower(), (e, ans.answer)
    check_citations(ans, service.store)
    cited = " ".join(service.store.article(c.doc_id).text for c in ans.citations).lower()
    phrase = lead(ans)
    if not phrase.startswith(("The sources differ", "As of")) and "reports" not in phrase:
        assert phrase.lower() in cited, phrase


def test_disagreement_cites_each_value_to_its_source(service):
    ans = service.ask("How much has Microsoft invested in OpenAI?")
    by_value = {}
    for c in ans.citations:
        for v in ("$13 billion", "130 billion"):
            if v in c.quote:
                by_value[v] = c.doc_id
    assert by_value.get("$13 billion") == "000_68f4ca30cfc60671"
    assert by_value.get("130 billion") == "002_c1936a8963d273a3"
    assert "conflict" in " ".join(ans.notes)


@pytest.mark.parametrize("question", ["Who won the 2022 football World Cup?", "What did Apple say about the deal?"])
def test_abstains(service, question):
    ans = service.ask(question)
    assert ans.abstained and ans.answer.startswith("The articles don't say")
    assert ans.passages, "closest passages are offered as leads"
    check_citations(ans, service.store)


def test_every_eval_answer_is_checkable(service):
    rows = [json.loads(x) for x in (REPO / "eval" / "qa.jsonl").read_text().splitlines() if x.strip()]
    for r in rows:
        ans = service.ask(Question(r["question"], id=r["id"]))
        assert ans.id == r["id"]
        check_citations(ans, service.store)
        if not ans.abstained and ans.citations:
            cited = " ".join(service.store.article(c.doc_id).text for c in ans.citations).lower()
            phrase = lead(ans)
            if not ans.answer.startswith(("The sources differ", "As of")) and " reports: " not in ans.answer.split("\n")[0]:
                if not phrase.startswith(("Yes, according", "No, according")):
                    for item in re.split(r",\s*|\s+and\s+", phrase):
                        assert item.lower() in cited, (r["id"], item)


def test_statements_are_dated_and_attributed(service):
    ans = service.ask("Who is OpenAI's CEO?")
    assert "As of 11 May 2025, AInvest reports" in ans.answer


@pytest.mark.parametrize("q,t", [
    ("How much has Microsoft invested?", AnswerType.AMOUNT), ("Until when are the rights extended?", AnswerType.DATE),
    ("Who is the CEO?", AnswerType.PERSON), ("Which companies took part?", AnswerType.LIST),
    ("Is Microsoft still exclusive?", AnswerType.YESNO), ("What does the commitment refer to?", AnswerType.OTHER),
    ("Back when they teamed up, how was the outlook described?", AnswerType.OTHER),
    ("What percentage will Microsoft own?", AnswerType.AMOUNT), ("In which month was it amended?", AnswerType.DATE),
])
def test_question_types(q, t):
    assert analyze(q).type is t


@pytest.mark.parametrize("q,prev,followup", [
    ("when was that?", "How much has Microsoft invested in OpenAI?", True),
    ("and what did Microsoft get?", "What does OpenAI get from the deal?", True),
    ("Who is Microsoft's CEO?", "Who is OpenAI's CEO?", False),
])
def test_followup_detection(q, prev, followup):
    assert is_followup(q) is followup
    resolved = resolve_followup(q, (prev,))
    assert ("Microsoft" in resolved and "OpenAI" in resolved) if followup and "invested" in prev else True
    assert (resolved != q) is followup


def test_followup_resolved_before_retrieval(service):
    first = "How much has Microsoft invested in OpenAI?"
    ans = service.ask(Question("When was that?", history=(first,)))
    assert ans.query != ans.question and "invested" in ans.query
    assert not ans.abstained and "2019" in ans.answer
    check_citations(ans, service.store)


def _dated_corpus(tmp_path):
    corpus = tmp_path / "dated"
    corpus.mkdir()
    (corpus / "old.txt").write_text("date 2020-03-01 Acme Corp has 500 employees at its plant in Ohio, the company said.")
    (corpus / "new.txt").write_text("date 2023-06-10 Acme Corp has 800 employees at its plant in Ohio after a hiring push.")
    (corpus / "other.txt").write_text("date 2022-01-05 A bakery in Ohio opened a second shop downtown this spring.")
    return corpus


def test_latest_question_prefers_most_recent_article(tmp_path, embedder):
    svc = QAService(index_dir=tmp_path / "ix", corpus=[_dated_corpus(tmp_path)], progress=False, embedder=embedder)
    ans = svc.ask("How many employees does Acme Corp currently have?")
    assert ans.answer.startswith("The sources differ; the most recent"), ans.answer
    first_line = ans.answer.split("\n")[0]
    assert first_line.index("800 employees") < first_line.index("500 employees")
    assert "10 June 2023" in first_line
    check_citations(ans, svc.store)
    plain = svc.ask("How many employees does Acme Corp have?")
    # Issues 12/13: values from articles dated years apart are a dated sequence, oldest first, not a disagreement.
    assert not plain.answer.startswith("The sources differ") and "800" in plain.answer and "500" in plain.answer
    body = plain.answer.split("\n", 1)[1]  # the lines after the heading, one per article
    assert body.index("1 March 2020") < body.index("500") < body.index("10 June 2023") < body.index("800")
    check_citations(plain, svc.store)


@pytest.mark.parametrize("question", ["[0]", "What is [12] about the zebra football match?", "x" * 5000])
def test_echoed_question_never_forges_markers(service, question):
    ans = service.ask(question)
    check_citations(ans, service.store)
    assert len(ans.answer) < 2000


def test_article_text_with_bracketed_numbers_never_forges_markers(tmp_path, embedder):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "wiki.txt").write_text("Footnoted [3] story\n\nThe bridge cost $40 million [2] to build, the city said [1].\n\n"
                                     "It opened in 2019 after [4] years of work.")
    svc = QAService(index_dir=tmp_path / "ix", corpus=[corpus], progress=False, embedder=embedder)
    for q in ("How much did the bridge cost?", "When did the bridge open?", "What did the city say about the bridge?"):
        ans = svc.ask(q)
        check_citations(ans, svc.store)
        assert any("[2]" in c.quote or "[4]" in c.quote or "[1]" in c.quote for c in ans.citations) or ans.abstained


@pytest.mark.parametrize("question", ["Who decides whether OpenAI has reached AGI?", "Who verifies that AGI has been achieved?"])
def test_who_decides_agi_is_answered_by_the_panel(service, question):
    ans = service.ask(question)
    assert not ans.abstained, ans.answer
    assert ans.short_answer and "expert panel" in ans.short_answer.lower()
    assert "expert panel must verify" in ans.citations[0].quote
    check_citations(ans, service.store)


def test_why_gets_two_or_three_cited_reasons_from_different_places(service):
    ans = service.ask("Why is OpenAI renegotiating?")
    assert not ans.abstained and ans.short_answer is None
    lines = ans.answer.split("\n")
    assert 2 <= len(ans.citations) <= 3 and len(lines) == len(ans.citations), ans.answer
    assert all(MARKER.search(line) for line in lines)  # each reason is its own cited claim
    assert len({c.doc_id for c in ans.citations}) >= 2
    assert len({c.quote for c in ans.citations}) == len(ans.citations)
    check_citations(ans, service.store)


def test_short_answer_is_in_the_json_and_is_the_lead(service):
    from qa.present.serialize import answer_to_dict

    ans = service.ask("Who is OpenAI's CEO?")
    d = answer_to_dict(ans)
    assert d["short_answer"] == ans.short_answer == "Sam Altman" == lead(ans)
    abst = answer_to_dict(service.ask("Who won the 2022 football World Cup?"))
    assert abst["abstained"] and abst["short_answer"] is None


def test_microsofts_ceo_is_satya_nadella_not_both_microsoft(service):
    """Issue 12: "Who is Microsoft's CEO?" was answered "Both Microsoft [1]."."""
    ans = service.ask("Who is Microsoft's CEO?")
    assert not ans.abstained and ans.short_answer == "Satya Nadella" == lead(ans), ans.answer
    assert "Satya Nadella" in ans.citations[0].quote
    check_citations(ans, service.store)


def _mistral_corpus(tmp_path):
    corpus = tmp_path / "up"
    corpus.mkdir()
    (corpus / "mistral.txt").write_text(
        "date 2025-09-09\nASML becomes Mistral AI's largest shareholder\n\n"
        "Dutch chip equipment maker ASML will invest €1.3 billion in Mistral AI in a funding round that values "
        "the French start-up at €11.7 billion, the companies said on Tuesday.\n"
        "The deal makes ASML the largest shareholder of Mistral, which was founded in 2023 by former researchers.\n")
    (corpus / "chips.txt").write_text("date 2025-09-10\nChip stocks rise in Europe\n\n"
                                      "Shares of European chip makers rose on Wednesday, with ASML up 3% after the news.\n")
    return corpus


def test_uploaded_article_valuation_is_the_valued_at_figure_not_the_investment(tmp_path, embedder):
    """Issue 12: "What is Mistral valued at?" gave €1.3 billion, ASML's investment, from a sentence that
    says the round values the company at €11.7 billion."""
    svc = QAService(index_dir=tmp_path / "ix", corpus=[_mistral_corpus(tmp_path)], progress=False, embedder=embedder)
    ans = svc.ask("What is Mistral valued at?")
    assert not ans.abstained and ans.short_answer == "€11.7 billion", ans.answer
    assert "€1.3 billion" not in ans.answer.split("\n")[0]
    invest = svc.ask("How much will ASML invest in Mistral?")
    assert invest.short_answer == "€1.3 billion", invest.answer
    for a in (ans, invest):
        assert not a.answer.startswith("The sources differ")
        check_citations(a, svc.store)


@pytest.mark.parametrize("question,expect", [
    # the best-scoring sentence names neither Microsoft nor OpenAI ("the AI research lab's … IPO")
    ("Which newspaper reported that OpenAI and Microsoft were renegotiating their partnership ahead of a possible IPO?",
     "Financial Times"),
    # "In 2024, OpenAI completed a … funding round" leaves out Microsoft: not the year of its investment
    ("In what year did Microsoft invest its first $1 billion in OpenAI?", "2019"),
])
def test_a_value_comes_from_a_sentence_naming_what_was_asked_about(service, question, expect):
    ans = service.ask(question)
    assert not ans.abstained and ans.short_answer == expect, ans.answer
    check_citations(ans, service.store)
