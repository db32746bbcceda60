"""Who an answer's quote is attributed to when the article has no outlet, title or date (issue 14.10)."""
from __future__ import annotations

import pytest

from qa.answer import compose
from qa.types import Article

OPENING = "OpenAI and Microsoft are in the midst of renegotiating their partnership."


@pytest.mark.parametrize("text, expected", [
    (f"{OPENING} The Financial Times reported on Sunday that talks continue.", "Financial Times"),
    ("Bloomberg Technology\nThe deal was signed on Friday.", "Bloomberg Technology"),
    ("LONDON (Reuters) - The chip maker said it would invest.", "Reuters"),
    ("The valuation rose, according to the Wall Street Journal.", "Wall Street Journal"),
])
def test_outlet_named_in_the_text_is_used(text, expected):
    art = Article("a", text[:40] + "…", text, date="2025-05-02")
    assert compose.attribution(art) == f"As of 2 May 2025, {expected} reports"


def test_a_company_reporting_results_is_not_an_outlet():
    art = Article("a", "Quarterly figures", "Microsoft reported earnings on Tuesday. Shares rose.")
    assert compose.outlet_in_text(art.text) is None
    assert compose.who(art) == "“Quarterly figures”"


def test_title_cut_from_the_opening_words_gives_way_to_the_file_name():
    art = Article("a", OPENING[:40] + "…", OPENING + " Talks go on.", path="articles/openai-talks_2025.txt")
    assert compose.who(art) == "“openai talks 2025”"


def test_title_from_a_jsonl_file_keeps_the_title():
    art = Article("a", OPENING[:40] + "…", OPENING + " Talks go on.", path="corpus/articles.jsonl")
    assert compose.who(art) == f"“{' '.join(OPENING[:40].split()[:8])}…”"


def test_undated_article_is_said_to_be_undated():
    art = Article("a", "Deal terms", "The terms were revised.", source="heise")
    assert compose.attribution(art) == "In an undated article, heise reports"
    assert "As of" not in compose.attribution(art)


def test_declared_outlet_wins_over_one_named_in_text():
    art = Article("a", "Deal", "The Financial Times reported the deal.", source="AInvest", date="2025-05-11")
    assert compose.attribution(art) == "As of 11 May 2025, AInvest reports"
