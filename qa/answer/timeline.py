"""Dated sequences of cited claims: how a fact changed from one article to the next.

News articles from different days often give different figures for the same thing because the
thing changed. Those are shown as a chronological list, one line per article, oldest first and
newest last, each line cited, instead of "the sources differ". Questions that ask for this
outright ("How has X changed?", "timeline of X", "what happened with X") get the same form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.answer import compose
from qa.types import Article

#: Questions that ask how something moved over time.
_TIMELINE = re.compile(
    r"\bhow\s+(?:has|have|had|did|do|does|is|are)\b.{0,120}?\b(?:chang|evolv|develop|shift|mov|grow|grew|grown|"
    r"fall|fell|fallen|rise|rose|risen|progress|unfold)\w*"
    r"|\btimeline\b|\bchronology\b|\bwhat(?:'s| has| had)?\s+happen(?:ed|ing)\s+(?:with|to|in|at|over)\b"
    r"|\bhistory of\b|\bover (?:the )?(?:time|years|months)\b|\bhow did .{0,80}\bunfold\b",
    re.IGNORECASE,
)


#: Words of a timeline question that say "over time" rather than what it is about; left out when
#: sentences are scored against the question.
CUES = frozenset("""timeline timelines chronology history change changed changes changing evolve evolved evolving
develop developed shift shifted move moved grow grown grew fall fell fallen rise rose risen progress progressed
unfold unfolded happen happened happening time years months""".split())


def wants_timeline(question: str) -> bool:
    """Whether ``question`` asks how something changed over time."""
    return bool(_TIMELINE.search(" ".join(question.split())))


@dataclass(frozen=True)
class Claim:
    """One cited sentence of one article; ``value`` is the figure it gives, when it gives one."""

    article: Article
    start: int
    end: int
    value: str | None = None


def chronological(claims: list[Claim]) -> list[Claim]:
    """One claim per article, dated ones oldest first (newest last), then the undated ones in the
    order given (their place in time is unknown, so they are listed apart, not guessed)."""
    seen: set[str] = set()
    unique = []
    for c in claims:
        if c.article.doc_id not in seen:
            seen.add(c.article.doc_id)
            unique.append(c)
    dated = sorted((c for c in unique if c.article.date), key=lambda c: c.article.date)
    return dated + [c for c in unique if not c.article.date]


def dated_count(claims: list[Claim]) -> int:
    """How many distinct dates the claims span."""
    return len({c.article.date for c in claims if c.article.date})


def render(claims: list[Claim], book: compose.CitationBook, subject: str = "") -> str:
    """The timeline answer: a heading line, then one cited line per article in time order."""
    ordered = chronological(claims)
    dated = [c for c in ordered if c.article.date]
    undated = [c for c in ordered if not c.article.date]
    span = ""
    if dated:
        first, last = compose.human_date(dated[0].article.date), compose.human_date(dated[-1].article.date)
        span = f" from {first} to {last}" if first != last else f", dated {first}"
    what = f" on {compose.safe(subject)}" if subject else ""
    head = f"What the articles report{what}, oldest first{span}" if len(dated) > 1 else \
        f"What the articles report{what}{span}"
    head += f" ({len(undated)} undated article{'s' if len(undated) != 1 else ''} last):" if undated else ":"
    lines = [head]
    for c in ordered:
        marker = book.cite(c.article, c.start, c.end)
        when = compose.human_date(c.article.date) or "Undated"
        value = f"{compose.safe(c.value)}: " if c.value else ""
        lines.append(f"- {when}, {compose.who(c.article)}: {value}“{compose.safe(c.article.text[c.start:c.end])}” {marker}")
    return "\n".join(lines)


def subject_of(question: str) -> str:
    """The thing a timeline question is about: "How has Microsoft's stake in OpenAI changed?" →
    "Microsoft's stake in OpenAI" (the words between the auxiliary and the change verb)."""
    q = " ".join(question.split()).rstrip("?.! ")
    m = re.search(r"\bhow\s+(?:has|have|had|did|do|does|is|are)\s+(.{2,120}?)\s+(?:chang|evolv|develop|shift|mov|grow|"
                  r"grew|grown|fall|fell|fallen|rise|rose|risen|progress|unfold)\w*", q, re.IGNORECASE)
    if not m:
        m = re.search(r"\b(?:timeline|chronology|history) of\s+(.{2,120})$|\bhappen(?:ed|ing)\s+(?:with|to)\s+(.{2,120})$",
                      q, re.IGNORECASE)
        if not m:
            return ""
        return next(g for g in m.groups() if g)
    return m.group(1)
