"""Relative time in a question ("this week", "in March", "latest"), read against its as-of date.

News questions are about time: "Which city was at the centre of the crackdown this week?" means
one thing on 9 January and another on 3 July. This module finds the time expression in a question,
resolves it against the question's as-of date with dateparser (so "last monday", "two weeks ago"
or "in March" follow one well-kept library's rules rather than ours) and turns the resolved date
and its period (day, week, month, year) into a :class:`TimeFrame`: a date window, or a plain
preference for recent articles ("latest", "current", "recently").

A time frame is a *preference*, never a wall: retrieval favours articles inside the window and
widens it step by step (:meth:`TimeFrame.widenings`) when it holds nothing relevant. The hard
bound is the as-of date alone: articles dated after it are never used.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from enum import Enum

#: How far back a bare recency cue ("latest", "now", "recently") first looks, in days: the week
#: to the as-of date, widened (x4 each step) when it holds nothing. On the tune half of
#: eval/rtqa.jsonl, 7 (and 14) answered one more of its 5 recency questions than 30 did.
RECENCY_DAYS = 7
#: Each widening step makes the window this many times longer.
WIDEN_FACTOR = 4
#: Widening steps tried before the window is dropped.
WIDEN_STEPS = 3

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december"
           "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec")
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of)"
_YEAR = r"(?:19|20)\d\d"


class FrameKind(str, Enum):
    """What a time expression asks for."""

    WINDOW = "window"  # a stretch of dates: "this week", "in March", "since May"
    RECENCY = "recency"  # the newest reports first: "latest", "current", "recently"


class _Rule:
    """One shape of time expression: a pattern, how it resolves, and whether it is noise to search.

    ``resolve`` is ``"parse"`` (dateparser reads the matched text, or the named group ``expr``),
    ``"since"`` (from the resolved start to the as-of date), ``"ytd"``, ``"trailing"`` (the last N
    days/weeks/months) or ``"recency"``. ``strip``: the expression only says *when* and adds noise
    to the searched text ("this week"); a month or year name may be in the articles' own words
    ("in March"), so it stays.
    """

    def __init__(self, pattern: str, resolve: str, strip: bool, lower: bool | None = None) -> None:
        self.regex = re.compile(pattern, re.IGNORECASE)
        self.resolve = resolve
        self.strip = strip
        #: Written in lower case unless it opens a sentence: a capitalised "Today" or "NOW" inside a
        #: question is a name ("USA TODAY", the 'Today' show). Month and weekday names are not.
        self.lower = strip if lower is None else lower


# Most specific first: the first rule that matches anywhere in the question wins.
_RULES = (
    _Rule(r"\b(?:so far (?:this|in) (?:the )?year|(?:this|the) year so far|year[- ]to[- ]date|so far in (?P<expr>" + _YEAR + r"))\b", "ytd", True),
    _Rule(r"\bsince (?:the (?:start|beginning) of )?(?P<expr>(?:last |this )?(?:" + _MONTHS + r")(?: " + _YEAR + r")?"
          r"|(?:last )?(?:" + _WEEKDAYS + r")|last (?:week|month|year)|" + _YEAR + r")\b", "since", False),
    _Rule(r"\b(?:in|over|during) the (?:past|last|previous) (?P<expr>" + _NUM + r" (?:days?|weeks?|months?|years?))\b", "trailing", True),
    _Rule(r"\b(?:in|over|during) the (?:past|last) (?P<expr>day|week|month|year)\b", "trailing", True),
    _Rule(r"\b(?P<expr>" + _NUM + r" (?:days?|weeks?|months?|years?) ago)\b", "parse", True),
    _Rule(r"\b(?P<expr>today|tonight|this (?:morning|afternoon|evening)|yesterday|the day before yesterday)\b", "parse", True),
    _Rule(r"\b(?P<expr>(?:this|last|past|previous) (?:week|month|year)|(?:this|last) (?:weekend))\b", "parse", True),
    _Rule(r"\b(?:in|during|throughout|from|of) (?:early |mid-?|late )?(?P<expr>(?:" + _MONTHS + r")\.?(?:,? " + _YEAR + r")?)\b",
          "parse", False),
    _Rule(r"\b(?:on |last |this (?:past )?)(?P<expr>" + _WEEKDAYS + r")\b", "parse", True, lower=False),
    _Rule(r"\b(?:latest|most recent(?:ly)?|newest)\b", "recency", True),
    _Rule(r"\b(?:right now|as of now|at present|at the moment|these days|nowadays|recently|lately)\b", "recency", True),
    _Rule(r"\b(?:current(?:ly)?|now|still|so far)\b", "recency", True),
)

_SPELLED = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2}


def short_date(d: dt.date) -> str:
    """``8 Jan 2026``: the form the answer's window label uses."""
    return f"{d.day} {d.strftime('%b')} {d.year}"


def parse_as_of(value: str | dt.date | None, today: dt.date | None = None) -> str | None:
    """An as-of date as ``YYYY-MM-DD``: from ``YYYY-MM-DD``, ``today``, or any date the article-date
    normaliser reads (``2026/01/08``, ``8 January 2026``, RFC 2822 …).

    Raises:
        ValueError: the value holds no whole calendar date (a message that names the format).
    """
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    if text.lower() == "today":
        return (today or dt.date.today()).isoformat()
    from qa.ingest.metadata import normalize_date

    iso = normalize_date(text)
    if iso is None:
        raise ValueError(f"as-of date must be a calendar date such as 2026-01-08, got {value!r}")
    return iso


@dataclass(frozen=True)
class TimeFrame:
    """A question's time expression resolved against its as-of date.

    Attributes:
        expression: The words of the question it was read from ("this week").
        kind: A date window, or a preference for the most recent reports.
        start: First day of the window (``YYYY-MM-DD``).
        end: Last day of the window, never after ``as_of``.
        as_of: The day the question is asked on.
        span: Where ``expression`` sits in the question (character offsets).
        strip: The expression only says *when*: it is left out of the searched text.
        unit: What the expression named: ``day``, ``week``, ``month``, ``year``, ``since``,
            ``trailing`` (the last N days), ``recency``; it decides how the window is worded.
        step: 0 for the window as asked; n after n widenings (:meth:`widenings`).
        implicit: The question names no time, but has an as-of date: news asked about on a day is
            most likely that week's news, so recent reports are favoured lightly (``weight``) and the
            answer does not claim a window (:func:`implicit_frame`).
        weight: How much the window's passages are favoured, relative to an asked window (1.0).
    """

    expression: str
    kind: FrameKind
    start: str
    end: str
    as_of: str
    span: tuple[int, int] = (0, 0)
    strip: bool = True
    unit: str = "day"
    step: int = 0
    implicit: bool = False
    weight: float = 1.0

    @property
    def days(self) -> int:
        return (dt.date.fromisoformat(self.end) - dt.date.fromisoformat(self.start)).days + 1

    def label(self) -> str:
        """The window in words, to follow "In"/"On" at the head of an answer: "the week to 8 Jan 2026"."""
        s, e, a = (dt.date.fromisoformat(x) for x in (self.start, self.end, self.as_of))
        n = self.days
        upto = f", up to {short_date(e)}" if e == a else ""
        if self.step == 0:
            if self.unit == "day" or n == 1:
                return f"on {short_date(s)}"
            if self.unit == "week" and n == 7:
                return f"in the week to {short_date(e)}"
            if self.unit == "month":
                return f"in {s.strftime('%B')} {s.year}" + (upto if e != _month_end(s) else "")
            if self.unit == "year":
                return f"in {s.year}" + (upto if e != dt.date(s.year, 12, 31) else "")
            if self.unit == "since":
                return f"since {short_date(s)}"
        if e == a and n == 7:
            return f"in the week to {short_date(e)}"
        if e == a and n % 7 == 0 and n <= 7 * 26:
            return f"in the {n // 7} weeks to {short_date(e)}"
        if e == a:
            return f"in the {n} days to {short_date(e)}" if n <= 120 else f"since {short_date(s)}"
        return f"between {short_date(s)} and {short_date(e)}"

    def contains(self, date: str | None) -> bool:
        """Whether an article of that date (``YYYY-MM-DD``; None = undated) lies in the window.
        An undated article never does: nothing says it is recent."""
        return bool(date) and self.start <= date[:10] <= self.end

    def widenings(self) -> list[TimeFrame]:
        """This window, then ever wider ones (each :data:`WIDEN_FACTOR` times longer, kept around
        the same dates and never past ``as_of``), narrowest first: what retrieval falls back to
        when a window holds nothing relevant."""
        out = [self]
        s, e, a = (dt.date.fromisoformat(x) for x in (self.start, self.end, self.as_of))
        length = (e - s).days + 1
        centre = s + (e - s) / 2
        for i in range(1, WIDEN_STEPS + 1):
            n = length * WIDEN_FACTOR ** i
            hi = min(a, centre + dt.timedelta(days=n // 2))
            lo = hi - dt.timedelta(days=n - 1)
            out.append(replace(self, start=lo.isoformat(), end=hi.isoformat(), step=i))
        return out

    def to_dict(self) -> dict:
        return {"expression": self.expression, "kind": self.kind.value, "from": self.start, "to": self.end,
                "as_of": self.as_of, "unit": self.unit, "label": self.label(), "widened": self.step,
                "implicit": self.implicit}


def _month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _parser(as_of: dt.date):
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["en"], settings={
        "RELATIVE_BASE": dt.datetime(as_of.year, as_of.month, as_of.day, 12),
        "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True})


def _period_window(day: dt.date, period: str) -> tuple[dt.date, dt.date, str]:
    """The dates a resolved (date, period) covers: a week is the seven days ending on the date
    ("this week" = the week to the as-of date), a month or year its calendar span."""
    if period == "week":
        return day - dt.timedelta(days=6), day, "week"
    if period == "month":
        first = day.replace(day=1)
        return first, _month_end(first), "month"
    if period == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31), "year"
    return day, day, "day"


def _resolve(text: str, as_of: dt.date) -> tuple[dt.date, dt.date, str] | None:
    data = _parser(as_of).get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    day = data.date_obj.date()
    if day > as_of:  # "in December" asked in March: last December
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:
            day = day - dt.timedelta(days=365)
    return _period_window(day, data.period or "day")


def _trailing(text: str, as_of: dt.date) -> tuple[dt.date, dt.date, str] | None:
    m = re.fullmatch(rf"(?:(?P<n>{_NUM}) )?(?P<unit>day|week|month|year)s?", text.lower())
    if not m:
        return None
    n = m.group("n")
    count = int(n) if n and n.isdigit() else _SPELLED.get(n or "a", 1)
    base = _parser(as_of).get_date_data(f"{count} {m.group('unit')}s ago")
    if base is None or base.date_obj is None:
        return None
    return base.date_obj.date() + dt.timedelta(days=1), as_of, "trailing"


def find_timeframe(question: str, as_of: str | dt.date | None) -> TimeFrame | None:
    """The time frame a question asks about, read against ``as_of``; None without an as-of date
    or a time expression.

    Examples (as of Thursday 8 January 2026): "this week" → 2 Jan – 8 Jan 2026; "yesterday" →
    7 Jan; "last week" → 26 Dec 2025 – 1 Jan 2026; "in March" → March 2025; "so far this year" →
    1 – 8 Jan 2026; "since May" → 1 May 2025 – 8 Jan 2026; "latest" → a recency preference for
    the week to 8 Jan 2026.
    """
    if as_of is None:
        return None
    a = dt.date.fromisoformat(parse_as_of(as_of))
    for rule in _RULES:
        m = next((m for m in rule.regex.finditer(question) if not (rule.lower and _is_name(question, m))), None)
        if not m:
            continue
        expr = m.groupdict().get("expr") or m.group(0)
        window: tuple[dt.date, dt.date, str] | None
        kind = FrameKind.WINDOW
        if rule.resolve == "recency":
            window, kind = (a - dt.timedelta(days=RECENCY_DAYS - 1), a, "recency"), FrameKind.RECENCY
        elif rule.resolve == "ytd":
            year = int(m.group("expr")) if m.groupdict().get("expr") else a.year
            window = (dt.date(year, 1, 1), min(a, dt.date(year, 12, 31)), "year")
        elif rule.resolve == "trailing":
            window = _trailing(expr, a)
        else:
            window = _resolve(re.sub(r"\.$", "", expr), a)
            if window is not None and rule.resolve == "since":
                window = (window[0], a, "since")
        if window is None or window[0] > a:
            continue
        start, end = window[0], min(window[1], a)
        return TimeFrame(expression=m.group(0), kind=kind, start=start.isoformat(), end=end.isoformat(),
                         as_of=a.isoformat(), span=(m.start(), m.end()), strip=rule.strip, unit=window[2])
    return None


def _is_name(question: str, m: re.Match) -> bool:
    """Whether a time word is capitalised where a plain word would not be: inside a sentence
    ("USA TODAY's podcast", "NOW This") or quoted as a title ("the 'Today' anchor")."""
    word = m.group(0)
    if not word[:1].isupper():
        return False
    before = question[:m.start()].rstrip()
    if before and before[-1] in "'\"‘“":
        return True
    return bool(before) and before[-1] not in ".?!:;" and not (word.isupper() and question.isupper())


#: The implicit preference of a dated question that names no time: the days before its as-of date
#: (widened x4 per step like any window) ...
IMPLICIT_DAYS = 7
#: ... favoured with this share of an asked window's weight. On the tune half of eval/rtqa.jsonl,
#: 7 days at 0.5 answered one question more than none (0.661 vs 0.652); 14 or 30 days at 0.5 and
#: 14 at 1.0 answered as many as none. Kept as a weak prior: a question asked on a day about news
#: is most often about that week's news, and a whole corpus has far more off-period articles than
#: that dev subset.
IMPLICIT_WEIGHT = 0.5


def implicit_frame(as_of: str | dt.date | None, days: int | None = None,
                   weight: float | None = None) -> TimeFrame | None:
    """A light recency preference for a question with an as-of date and no time expression (None
    without an as-of date, or with ``days`` or ``weight`` 0). Defaults: :data:`IMPLICIT_DAYS`,
    :data:`IMPLICIT_WEIGHT`."""
    days = IMPLICIT_DAYS if days is None else days
    weight = IMPLICIT_WEIGHT if weight is None else weight
    if as_of is None or days <= 0 or weight <= 0:
        return None
    a = dt.date.fromisoformat(parse_as_of(as_of))
    return TimeFrame(expression="", kind=FrameKind.RECENCY, start=(a - dt.timedelta(days=days - 1)).isoformat(),
                     end=a.isoformat(), as_of=a.isoformat(), strip=False, unit="recency", implicit=True,
                     weight=weight)


def searched_text(question: str, frame: TimeFrame | None) -> str:
    """``question`` without its time expression when that only says *when* ("… this week?" →
    "…?"): matched against article text, the words only add noise. Unchanged otherwise, and
    never emptied."""
    if frame is None or not frame.strip:
        return question
    s, e = frame.span
    if question[s:e] != frame.expression:
        return question
    out = question[:s] + " " + question[e:]
    out = re.sub(r"\s+([?.!,;:])", r"\1", " ".join(out.split()))
    out = re.sub(r"\b(the|a|an|of|in|on|over|during|for)\s*([?.!])$", r"\2", out, flags=re.IGNORECASE).strip()
    return out if re.search(r"\w", out) else question


__all__ = ["FrameKind", "IMPLICIT_DAYS", "IMPLICIT_WEIGHT", "RECENCY_DAYS", "TimeFrame", "find_timeframe",
           "implicit_frame", "parse_as_of", "searched_text", "short_date"]
