"""Templates that turn chosen sentences into a readable, cited answer.

Markers ``[n]`` are numbered 1, 2, 3 in order of first use, every marker has a citation, and every
citation is used. Each quoted sentence says whose statement it is and when.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from qa.types import Article, Citation


_MARKER_LIKE = re.compile(r"\[(\d+)\]")


def safe(text: str) -> str:
    """Article or user text as it may appear in an answer: a "[2]" of its own (a footnote, a typed
    question) becomes "(2)", so that every ``[n]`` in an answer is one of qa's citation markers."""
    return _MARKER_LIKE.sub(r"(\1)", text)


def human_date(iso: str | None) -> str | None:
    """``2025-05-12`` → ``12 May 2025``."""
    if not iso:
        return None
    try:
        d = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d.day} {d.strftime('%B')} {d.year}"


#: Words that end the name of a news outlet ("Financial Times", "Bloomberg Technology", "Reuters").
_OUTLET_HEAD = (r"(?:Times|Post|Journal|News|Herald|Tribune|Guardian|Telegraph|Gazette|Chronicle|Economist|"
                r"Observer|Independent|Standard|Mail|Express|Reuters|Bloomberg|Press|Insider|Wire|Magazine|"
                r"Technology|TechCrunch|Verge|Wired|Axios|Politico|CNBC|CNN|BBC|NPR|AFP|AP)")
_OUTLET_NAME = rf"(?:The\s)?(?:[A-Z][\w&'.-]*\s){{0,3}}{_OUTLET_HEAD}"
#: The text names its outlet: "Financial Times reported", "according to Bloomberg", "(Reuters) -".
_OUTLET_IN_TEXT = re.compile(
    rf"\b(?P<a>{_OUTLET_NAME})\s(?:first\s|has\s|had\s)?(?:reported|reports)\b"
    rf"|\baccording\sto\s(?:a\sreport\s(?:by|in)\s)?(?:the\s)?(?P<b>{_OUTLET_NAME})\b"
    rf"|\((?P<c>{_OUTLET_NAME})\)\s[-–—]"
    rf"|^(?P<d>{_OUTLET_NAME})$", re.MULTILINE)
#: File types that hold one article, so the file's name can stand for its title.
_ONE_ARTICLE_FILES = frozenset({".txt", ".md", ".html", ".htm"})
#: How much of an article is searched for an outlet name (bounded work per answer).
OUTLET_SCAN_CHARS = 5_000


def outlet_in_text(text: str) -> str | None:
    """The outlet an article's own text names ("Financial Times reported …", "(Reuters) -", a
    "Bloomberg Technology" line), searched in its first :data:`OUTLET_SCAN_CHARS` characters, or None."""
    m = _OUTLET_IN_TEXT.search(text[:OUTLET_SCAN_CHARS])
    if not m:
        return None
    name = " ".join(next(g for g in m.groups() if g).split())
    return name[4:] if name.startswith("The ") else name


def _title_is_opening_words(article: Article) -> bool:
    """Whether the title was only cut from the text's first words (no headline, no metadata)."""
    head = " ".join(article.title.rstrip("…").split())
    return bool(head) and " ".join(article.text[:len(head) + 200].split()).startswith(head)


def who(article: Article, max_words: int = 8) -> str:
    """Who a claim is attributed to: the outlet; else an outlet the text names; else the title in
    quotes (the file's name when the title is only the article's opening words), cut to ``max_words``."""
    if article.source:
        return safe(article.source)
    named = outlet_in_text(article.text)
    if named:
        return safe(named)
    title = article.title
    if _title_is_opening_words(article) and article.path and Path(article.path).suffix.lower() in _ONE_ARTICLE_FILES:
        stem = re.sub(r"[_\-.]+", " ", Path(article.path).stem).strip()
        title = stem or title
    words = title.rstrip("…").split()
    title = " ".join(words[:max_words]) + ("…" if len(words) > max_words or title.endswith("…") else "")
    return f"“{safe(title)}”"


def attribution(article: Article) -> str:
    """"As of 12 May 2025, AInvest reports" / "heise reports" / "In an undated article, “Title” reports".

    An article without a date says so rather than have a date supplied for it."""
    when = human_date(article.date)
    subject = who(article)
    return f"As of {when}, {subject} reports" if when else f"In an undated article, {subject} reports"


@dataclass
class CitationBook:
    """Hands out ``[n]`` markers in order of first use, one per distinct sentence."""

    citations: list[Citation] = field(default_factory=list)
    _by_key: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def cite(self, article: Article, start: int, end: int) -> str:
        key = (article.doc_id, start, end)
        if key not in self._by_key:
            n = len(self.citations) + 1
            self._by_key[key] = n
            self.citations.append(Citation(n=n, doc_id=article.doc_id, title=article.title, source=article.source,
                                           date=article.date, quote=article.text[start:end], start=start, end=end))
        return f"[{self._by_key[key]}]"


def lead_case(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def quote_line(article: Article, start: int, end: int, marker: str) -> str:
    return f"{attribution(article)}: “{safe(article.text[start:end])}” {marker}"


def list_lead(items: list[str]) -> str:
    items = [i.strip() for i in items if i.strip()]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def abstention(question: str, leads: list[Article]) -> str:
    """"The articles don't say …", with the closest articles named as leads (no markers: nothing is claimed)."""
    # The question is echoed, so a "[3]" typed by the user must not read as a citation marker.
    q = safe(" ".join(question.split())).rstrip("?.! ")
    if len(q) > 200:
        q = q[:200].rsplit(" ", 1)[0] + "…"
    text = f"The articles don't say. I found nothing in them that answers “{q}?”" if q else "The articles don't say."
    if leads:
        names = []
        for a in leads[:3]:
            meta = ", ".join(x for x in (a.source, human_date(a.date)) if x)
            names.append(f"“{safe(a.title)}”" + (f" ({safe(meta)})" if meta else ""))
        text += " The closest passages, listed below as leads, come from " + list_lead(names) + "."
    return text
