"""Relative time in questions, resolved against fixed as-of dates (qa.retrieve.timeframe)."""
from __future__ import annotations

import datetime as dt

import pytest

from qa.retrieve.timeframe import FrameKind, find_timeframe, parse_as_of, searched_text

THU = "2026-01-08"  # a Thursday early in the year: "last week" and "in March" cross into 2025
WED = "2026-06-17"  # a Wednesday mid-year

# (question, as_of, kind, start, end, label)
CASES = [
    ("What happened today?", THU, "window", "2026-01-08", "2026-01-08", "on 8 Jan 2026"),
    ("What happened today?", WED, "window", "2026-06-17", "2026-06-17", "on 17 Jun 2026"),
    ("What did the mayor say yesterday?", THU, "window", "2026-01-07", "2026-01-07", "on 7 Jan 2026"),
    ("What did the mayor say yesterday?", WED, "window", "2026-06-16", "2026-06-16", "on 16 Jun 2026"),
    ("Which city was at the centre of the crackdown this week?", THU, "window", "2026-01-02", "2026-01-08",
     "in the week to 8 Jan 2026"),
    ("Which city was at the centre of the crackdown this week?", WED, "window", "2026-06-11", "2026-06-17",
     "in the week to 17 Jun 2026"),
    ("Who won the vote last week?", THU, "window", "2025-12-26", "2026-01-01", "in the week to 1 Jan 2026"),
    ("Who won the vote last week?", WED, "window", "2026-06-04", "2026-06-10", "in the week to 10 Jun 2026"),
    ("What was announced this month?", THU, "window", "2026-01-01", "2026-01-08", "in January 2026, up to 8 Jan 2026"),
    ("What was announced this month?", WED, "window", "2026-06-01", "2026-06-17", "in June 2026, up to 17 Jun 2026"),
    # a month not yet reached this year is last year's
    ("What did the central bank decide in March?", THU, "window", "2025-03-01", "2025-03-31", "in March 2025"),
    ("What did the central bank decide in March?", WED, "window", "2026-03-01", "2026-03-31", "in March 2026"),
    ("What was the inflation rate last year?", THU, "window", "2025-01-01", "2025-12-31", "in 2025"),
    ("What was the inflation rate last year?", WED, "window", "2025-01-01", "2025-12-31", "in 2025"),
    ("How many flights were cancelled so far this year?", THU, "window", "2026-01-01", "2026-01-08",
     "in 2026, up to 8 Jan 2026"),
    ("How many flights were cancelled so far this year?", WED, "window", "2026-01-01", "2026-06-17",
     "in 2026, up to 17 Jun 2026"),
    ("What has the company done recently?", THU, "recency", "2026-01-02", "2026-01-08", "in the week to 8 Jan 2026"),
    ("What has the company done recently?", WED, "recency", "2026-06-11", "2026-06-17", "in the week to 17 Jun 2026"),
    ("What has changed since May?", THU, "window", "2025-05-01", "2026-01-08", "since 1 May 2025"),
    ("What has changed since May?", WED, "window", "2026-05-01", "2026-06-17", "since 1 May 2026"),
    ("What is the latest valuation?", THU, "recency", "2026-01-02", "2026-01-08", "in the week to 8 Jan 2026"),
    ("What is the latest valuation?", WED, "recency", "2026-06-11", "2026-06-17", "in the week to 17 Jun 2026"),
    ("Who is the current chief executive?", THU, "recency", "2026-01-02", "2026-01-08", "in the week to 8 Jan 2026"),
    ("Who is the current chief executive?", WED, "recency", "2026-06-11", "2026-06-17", "in the week to 17 Jun 2026"),
    ("Who leads the party now?", THU, "recency", "2026-01-02", "2026-01-08", "in the week to 8 Jan 2026"),
    ("Who leads the party now?", WED, "recency", "2026-06-11", "2026-06-17", "in the week to 17 Jun 2026"),
]


@pytest.mark.parametrize("question,as_of,kind,start,end,label", CASES)
def test_relative_expressions_resolve_against_as_of(question, as_of, kind, start, end, label):
    frame = find_timeframe(question, as_of)
    assert frame is not None
    assert (frame.kind.value, frame.start, frame.end, frame.label()) == (kind, start, end, label)
    assert frame.end <= as_of and frame.as_of == as_of


def test_every_listed_expression_is_covered():
    listed = ["today", "yesterday", "this week", "last week", "this month", "in march", "last year",
              "so far this year", "recently", "since may", "latest", "current", "now"]
    for expr in listed:
        assert any(expr in q.lower() for q, *_ in CASES), expr


def test_no_time_expression_or_no_as_of_gives_no_frame():
    assert find_timeframe("Who is the chief executive of the company?", THU) is None
    assert find_timeframe("What happened this week?", None) is None


def test_month_after_as_of_in_same_year_is_last_year():
    frame = find_timeframe("What happened in December?", WED)
    assert (frame.start, frame.end) == ("2025-12-01", "2025-12-31")


def test_current_month_is_cut_at_as_of():
    frame = find_timeframe("What was decided in June?", WED)
    assert (frame.start, frame.end) == ("2026-06-01", "2026-06-17")


def test_widenings_grow_and_never_pass_as_of():
    frame = find_timeframe("Which city was in the news this week?", THU)
    wider = frame.widenings()
    assert wider[0] == frame and len(wider) > 1
    days = [f.days for f in wider]
    assert days == sorted(days) and days[-1] > days[0]
    assert all(f.end <= THU for f in wider)
    assert [f.step for f in wider] == list(range(len(wider)))
    assert wider[1].label().startswith("in the ") and "to 8 Jan 2026" in wider[1].label()


def test_searched_text_drops_only_words_that_say_when():
    q = "Which city was at the centre of the immigration crackdown this week?"
    frame = find_timeframe(q, THU)
    assert searched_text(q, frame) == "Which city was at the centre of the immigration crackdown?"
    q2 = "What did the central bank decide in March?"  # a month name may be in the articles' words
    assert searched_text(q2, find_timeframe(q2, THU)) == q2


def test_contains_excludes_undated_and_outside():
    frame = find_timeframe("What happened this week?", THU)
    assert frame.contains("2026-01-05") and frame.contains("2026-01-08")
    assert not frame.contains("2026-01-01") and not frame.contains(None) and not frame.contains("2026-01-09")


def test_frame_kinds():
    assert find_timeframe("What is the latest figure?", THU).kind is FrameKind.RECENCY
    assert find_timeframe("What happened yesterday?", THU).kind is FrameKind.WINDOW


@pytest.mark.parametrize("value,expected", [
    ("2026-01-08", "2026-01-08"), ("2026/01/08", "2026-01-08"), ("8 January 2026", "2026-01-08"),
    (dt.date(2026, 1, 8), "2026-01-08"), (None, None), ("", None),
])
def test_parse_as_of(value, expected):
    assert parse_as_of(value) == expected


def test_parse_as_of_today_and_errors():
    assert parse_as_of("today", today=dt.date(2026, 1, 8)) == "2026-01-08"
    for bad in ("next week", "2026-02-30", "May 2026"):
        with pytest.raises(ValueError, match="2026-01-08"):
            parse_as_of(bad)


@pytest.mark.parametrize("question", ["Who hosts USA TODAY's podcast The Excerpt?",
                                      "Which mother of a 'Today' anchor went missing?",
                                      "What did NOW This report about the strike?"])
def test_capitalised_time_words_inside_names_are_not_time(question):
    assert find_timeframe(question, THU) is None


def test_capitalised_time_word_opening_the_question_still_counts():
    assert find_timeframe("Today, which team won the final?", THU).start == THU
    assert find_timeframe("WHAT HAPPENED TODAY?", THU).start == THU


def test_implicit_frame_for_a_dated_question_without_time_words():
    from qa.retrieve.timeframe import implicit_frame

    frame = implicit_frame(THU)
    assert frame.implicit and frame.kind is FrameKind.RECENCY and frame.weight < 1
    assert (frame.start, frame.end) == ("2026-01-02", THU)
    assert frame.widenings()[-1].end == THU
    assert implicit_frame(None) is None and implicit_frame(THU, days=0) is None
    assert not find_timeframe("What happened this week?", THU).implicit
