"""When two values read off different articles disagree, and when they are simply different things.

Two amounts disagree only when they give the same attribute of the same thing at comparable
times. Three checks stand between "two numbers" and "the sources differ":

1. **The same attribute.** A value belongs to the measure word written closest before it in its
   clause ("valued at $150 billion", "its investment, which has exceeded $13 billion") or right
   after it ("a $5 billion investment"). When the words just before a value name a measure the
   question does not ask about ("Microsoft's *stake* … valued at 135 billion" for a question
   about a valuation), the value is of that other thing.
2. **Part or whole, level or change, done or sought.** An amount introduced as a first, initial,
   original or additional payment is an instalment; a total ("since 2019", "in total", "so far")
   may not be smaller than one of its instalments, but is not contradicted by a smaller one. A
   change ("rose by 11%") is not a level, and a goal ("attempted to raise the $50,000 needed")
   is not an outcome.
3. **Comparable times.** Values from articles dated far apart are a sequence (the figure moved),
   not a disagreement: see :mod:`qa.answer.timeline`.

Everything here is lexical and generic: measure words of news prose, not names of any corpus.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

#: Words naming a measurable attribute: an amount in a sentence is "of" the nearest one.
MEASURES = frozenset("""
stake stakes share shares equity holding holdings ownership investment investments invested invest invests investing
investor valuation valued value values worth revenue revenues sales turnover profit profits loss losses earnings
income funding fund raised raise raising round price priced prices cost costs budget debt debts fine fines salary
salaries pay paid payment payments fee fees bid bids offer offers spending spend spent capital commitment committed
deficit surplus subsidy subsidies grant grants bonus bonuses tax taxes tariff tariffs compensation damages
wage wages pension pensions loan loans market capitalisation capitalization bill award prize jobs unemployment
inflation rate rates growth population attendance audience viewers votes seats
""".split())

#: Words that make an amount a part payment: "its first $1 billion", "the original deal, in which … $1 billion".
_PART = frozenset("first initial initially original originally earlier additional another further extra".split())
#: Words that make an amount a running total: "$13 billion since 2019", "in total", "so far".
_TOTAL = re.compile(r"\b(since|in total|total|totalling|totaling|so far|to date|cumulative|altogether|in all|overall)\b",
                    re.IGNORECASE)
#: Before a value: it is a change ("rose by 11%", "up 4%"); after it: a comparison ("£3bn less than").
_CHANGE_BEFORE = frozenset("by up down rose fell rising falling increased decreased grew dropped jumped climbed slipped".split())
_CHANGE_AFTER = frozenset("less more fewer higher lower up down above below increase decrease rise fall jump drop".split())
#: Words that make a value a goal, a plan or a forecast rather than what happened.
_TARGET = frozenset("""attempted attempting attempt aims aim aimed aiming plans plan planned planning hopes hope hoped
seeks seek sought wants want wanted target targets targeting goal needed need needs required require requires could
would might may expected expects forecast forecasts predicted predicts projected proposed proposes""".split())
#: Relative gap under which two amounts are the same figure rounded, and with a hedge before one.
ROUNDED, ROUNDED_HEDGED = 0.05, 0.2
#: Words before a value that make it approximate.
_HEDGE = frozenset(["about", "around", "roughly", "nearly", "almost", "approximately", "some", "over", "under",
                    "more than", "less than", "fewer than", "up to", "at least", "close to", "just over",
                    "just under", "an estimated", "estimated"])
#: Active verbs of valuing, whose object (not the noun before them) is what the value is of.
_ACTIVE_VALUE = frozenset("values valuing".split())
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_CLAUSE_END = re.compile(r"[.;:!?]")
#: Tokens looked at before and after a value.
BEFORE, AFTER = 10, 3


class Role(str, Enum):
    """Whether an amount is an instalment, a running total, or not said."""

    PART = "part"
    TOTAL = "total"
    CHANGE = "change"  # a difference, not a level: "rose by 11%", "£33.5bn less spending"
    TARGET = "target"  # wanted or expected, not done: "attempted to raise the $50,000 needed"
    PLAIN = "plain"


@dataclass(frozen=True)
class ValueFrame:
    """What an amount in a sentence is an amount *of*.

    Attributes:
        measures: Stems of the measure words in the few words before the value (nearest first),
            then of those right after it.
        role: Part payment, running total, or neither.
    """

    measures: tuple[str, ...]
    role: Role
    hedged: bool = False  # "about", "more than", "nearly" just before it: an approximate figure


def _words_before(text: str, start: int) -> list[str]:
    head = text[:start]
    cut = max((m.end() for m in _CLAUSE_END.finditer(head)), default=0)
    return [w.lower() for w in _TOKEN.findall(head[cut:])][-BEFORE:]


def _words_after(text: str, end: int) -> list[str]:
    tail = text[end:]
    stop = _CLAUSE_END.search(tail)
    return [w.lower() for w in _TOKEN.findall(tail[: stop.start()] if stop else tail)][:AFTER]


def frame(text: str, start: int, end: int, stem: Callable[[str], str]) -> ValueFrame:
    """The :class:`ValueFrame` of the value at ``text[start:end]`` (``stem``: the index's stemmer)."""
    before, after = _words_before(text, start), _words_after(text, end)
    near_measure = next((w for w in reversed(before) if w in MEASURES), None)
    if near_measure in _ACTIVE_VALUE:
        # "a funding round that values the start-up at €11.7 billion": the value is the start-up's
        # valuation; the nouns before the verb ("round", "funding") are what did the valuing.
        measures = [stem(near_measure)]
    else:
        measures = [stem(w) for w in reversed(before) if w in MEASURES] + [stem(w) for w in after if w in MEASURES]
    near = before[-6:]
    clause = " ".join(before + [text[start:end].lower()] + after)
    if (before and before[-1] in _CHANGE_BEFORE) or (len(before) > 1 and before[-2] in _CHANGE_BEFORE
                                                     and before[-1] in {"almost", "nearly", "about", "around", "over"}) \
            or (after and after[0] in _CHANGE_AFTER):
        role = Role.CHANGE
    elif any(w in _TARGET for w in before[-6:]) or (after and after[0] in _TARGET):
        role = Role.TARGET
    elif any(w in _PART for w in before):
        role = Role.PART
    elif _TOTAL.search(clause) or any(w in {"total", "overall", "cumulative"} for w in near):
        role = Role.TOTAL
    else:
        role = Role.PLAIN
    hedged = bool(before and (before[-1] in _HEDGE or " ".join(before[-2:]) in _HEDGE))
    return ValueFrame(tuple(dict.fromkeys(measures)), role, hedged)


def question_measures(words: list[str], stem: Callable[[str], str]) -> frozenset[str]:
    """Stems of the measure words a question asks about ("valuation", "invested")."""
    return frozenset(stem(w.lower()) for w in words if w.lower() in MEASURES)


def _same_stem(a: str, b: str) -> bool:
    """"valuat" ~ "valu", "invest" ~ "investment": one stem a prefix of the other (4+ letters)."""
    short, long_ = sorted((a, b), key=len)
    return a == b or (len(short) >= 4 and long_.startswith(short))


def about(fr: ValueFrame, asked: frozenset[str]) -> bool:
    """Whether a value is of the attribute the question asks about.

    With no measure word in the question, any value is (nothing to tell them apart by). Otherwise
    the value needs one of the asked measures near it, and no other measure word in the words just
    before it ("Microsoft's stake … valued at" is the stake's value, not the company's).
    """
    if not asked:
        return True
    if not fr.measures:
        return False
    if not any(_same_stem(m, a) for m in fr.measures for a in asked):
        return False
    foreign = [m for m in fr.measures if not any(_same_stem(m, a) for a in asked)]
    return not foreign


def consistent(a: tuple[float, ValueFrame], b: tuple[float, ValueFrame]) -> bool:
    """Whether two different amounts can both be true: the same figure rounded ("$27bn" and "$27.5bn",
    within 5%; within 20% when one is hedged: "more than 50 million" and "about 53 million"), an
    instalment no larger than a total, two instalments (different payments), a change beside a
    level, a goal beside an outcome."""
    (va, fa), (vb, fb) = a, b
    top = max(abs(va), abs(vb))
    if top and abs(va - vb) / top <= (ROUNDED_HEDGED if fa.hedged or fb.hedged else ROUNDED):
        return True
    if Role.CHANGE in (fa.role, fb.role) and fa.role is not fb.role:
        return True  # a change and a level measure different things
    if Role.TARGET in (fa.role, fb.role) and fa.role is not fb.role:
        return True  # what was sought and what was done can differ
    if fa.role is Role.PART and fb.role is Role.PART:
        return True
    if fa.role is Role.PART and fb.role is not Role.PART:
        return va <= vb
    if fb.role is Role.PART and fa.role is not Role.PART:
        return vb <= va
    return False


_PERIOD = re.compile(r"\b(?:(?:first|second|third|fourth|final|last) (?:quarter|half)|q[1-4]|h[12]|"
                     r"(?:last|this|next|previous|the past) (?:year|month|week|quarter|season)|"
                     r"(?:january|february|march|april|may|june|july|august|september|october|november|december)|"
                     r"(?:19|20)\d\d)\b", re.IGNORECASE)


def _periods(text: str, at: int) -> frozenset[str]:
    """The time periods named in the clause of ``text`` around position ``at`` ("third quarter",
    "2004", "last year")."""
    lo = max((m.end() for m in _CLAUSE_END.finditer(text[:at])), default=0)
    stop = _CLAUSE_END.search(text, at)
    hi = stop.start() if stop else len(text)
    return frozenset(m.group(0).lower() for m in _PERIOD.finditer(text[lo:hi]))


def different_periods(a_text: str, a_at: int, b_text: str, b_at: int) -> bool:
    """Whether two values' clauses name time periods and none in common: figures of different
    periods ("in the third quarter of 2004" against "last year") do not contradict each other. A
    clause that names no period could be of either, so it is not told apart."""
    pa, pb = _periods(a_text, a_at), _periods(b_text, b_at)
    return bool(pa and pb and not pa & pb)


def comparable_dates(a: str | None, b: str | None, days: int = 31) -> bool:
    """Whether two article dates are close enough for their values to contradict each other
    (undated articles are taken as comparable: nothing says otherwise)."""
    if not a or not b:
        return True
    import datetime as dt

    try:
        return abs((dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days) <= days
    except ValueError:
        return True
