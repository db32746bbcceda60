"""Drop page junk from article text, line by line, while keeping every sentence of the story.

Scraped articles carry navigation words, widgets, comment boxes, disclaimers and "Related
Stories" blocks. These are recognised by shape (short UI-word lines, repeated lines, breadcrumbs,
reading-time and image-credit lines) and by well-known headings that start a trailing block.
Rules only ever remove whole lines, never text inside a line, so story sentences survive intact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Words that make up navigation and widget lines ("icon", "Print view", "Open App").
UI_WORDS = frozenset(
    """icon icons upgrade advertisement advertisements ad ads sponsored comments comment post refresh
    share shares print view listen logo fork open app contents menu search close subscribe sign in
    log login logout register more read next previous prev back top home skip to content main
    related save email tweet facebook twitter linkedin whatsapp copy link reddit pinterest
    newsletter follow us toggle navigation play video audio image gallery photos loading""".split()
)

#: Headings after which the rest of the page is widgets, not story (only honoured in the second half).
_TRAILING_HEADING = re.compile(
    r"^(related (stories|articles|posts|news|content|coverage|reading|topics)|comments?"
    r"|\d+ comments?|more (from|stories|on|news)\b.*|recommended( for you| stories)?|read next"
    r"|you (may|might) also like.*|popular (now|stories|articles)|trending( now)?|most (read|popular)"
    r"|disclaimer\b.*|add a public comment.*|join the conversation|leave a (comment|reply))$",
    re.IGNORECASE,
)

_JUNK_LINE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\d+\s*min(ute)?s?\.?\s*read$",  # "4 min. read", "2min read"
        r"^\(?(image|photo|picture|foto|bild|credit|source|illustration)s?\s*:[^.]{0,100}\)?$",
        r"^\([a-z]{1,4}\)$",  # author initials, "(fo)"
        r"^[\w .&'-]{1,40}\s*/$",  # breadcrumbs, "News /"
        r"^(advertisement|sponsored content|story continues below)\b.{0,40}$",
        r"^disclaimer\s*:",
        r"^add a public comment",
        r"^ask \w+\s*:",  # chatbot prompts injected into the page
        r"^.{0,80}\bfollow us on (facebook|twitter|x|linkedin|instagram|mastodon)\b",
        r"^(sign up|subscribe) (for|to) (our|the) .{0,60}newsletter.{0,40}$",
        r"^(click|tap) here .{0,60}$",
        r"^(more )?(videos?|photos?|podcasts?|galleries) (by|from) [\w .-]{1,30}$",
        r"^(all rights reserved|copyright ©?).{0,80}$",
    )
]

_DATE_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z]+")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_MONTH_DATE = re.compile(
    rf"\b(?P<mon>(?:{_MONTHS})[a-z]*)\.?\s+(?P<day>\d{{1,2}}),?\s+(?P<year>(?:19|20)\d\d)\b"
    rf"|\b(?P<day2>\d{{1,2}})\s+(?P<mon2>(?:{_MONTHS})[a-z]*)\.?,?\s+(?P<year2>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_MONTH_NUMBER = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_ISO_DATE = re.compile(r"\b((?:19|20)\d\d)[-/](\d\d)[-/](\d\d)\b")
_CLOCK = re.compile(r"\b\d{1,2}:\d\d\s*(am|pm|a\.m\.|p\.m\.)?\b", re.IGNORECASE)


def find_date(text: str) -> str | None:
    """Return the first calendar date written in ``text`` as ``YYYY-MM-DD``, or None.

    Understands ISO dates (``2025-05-11``, ``2025/05/11``) and written ones (``May 11, 2025``,
    ``11 May 2025``). Month-and-year alone is not a date.
    """
    import datetime as _dt

    candidates = []
    m = _ISO_DATE.search(text)
    if m:
        candidates.append((m.start(), int(m.group(1)), int(m.group(2)), int(m.group(3))))
    m = _MONTH_DATE.search(text)
    if m:
        mon = (m.group("mon") or m.group("mon2"))[:3].lower()
        day = int(m.group("day") or m.group("day2"))
        year = int(m.group("year") or m.group("year2"))
        candidates.append((m.start(), year, _MONTH_NUMBER[mon[:3].lower()], day))
    for _, y, mo, d in sorted(candidates):
        try:
            return _dt.date(y, mo, d).isoformat()
        except ValueError:
            continue
    return None


def _dateline_date(line: str) -> str | None:
    """A short byline/dateline ("Word on the Street Sunday, May 11, 2025 10:07 pm ET")."""
    if len(line) > 120 or line.endswith("."):
        return None
    if not _CLOCK.search(line):
        return None
    return find_date(line)


@dataclass
class CleanResult:
    """Cleaned text plus what cleaning learned on the way.

    Attributes:
        text: The cleaned article text.
        date: A ``date YYYY-MM-DD`` header found on the first line, if any.
        dropped: The lines removed, for inspection and tests.
    """

    text: str
    date: str | None = None
    dropped: list[str] = field(default_factory=list)


def _is_ui_line(line: str) -> bool:
    words = [w.lower() for w in _TOKEN.findall(line)]
    if not words or len(words) > 6 or len(line) > 60:
        return False
    if re.search(r"[.!?]$", line) and len(words) > 2:
        return False
    return all(w in UI_WORDS for w in words)


#: A run this long of ASCII letters, digits and punctuation without a space is encoded data (base64,
#: hex, minified code), never prose: English words stay under 50 characters and URLs under 2,000.
#: Embedding it would cost one chunk per ~100 characters (5 MB: 50,000 chunks) and find nothing.
#: Scripts written without spaces (Chinese, Japanese, Thai) are not ASCII and are never matched.
MAX_WORD_CHARS = 2000


def _has_long_word(line: str) -> bool:
    """Whether ``line`` holds an ASCII word over :data:`MAX_WORD_CHARS` (one linear pass, no regex
    that could rescan a long line from every start)."""
    return len(line) > MAX_WORD_CHARS and any(len(w) > MAX_WORD_CHARS and w.isascii() for w in line.split())


def _is_junk(line: str) -> bool:
    if not re.search(r"\w", line):
        return bool(line)  # lone punctuation / separators
    if _has_long_word(line):
        return True
    if len(line) > 250:  # junk lines are short; story paragraphs are not tested further
        return False
    return _is_ui_line(line) or any(p.match(line) for p in _JUNK_LINE)


def clean_text(raw: str) -> CleanResult:
    """Remove page junk from an article's text.

    Args:
        raw: The article text as read from disk (already decoded).

    Returns:
        A :class:`CleanResult`. Kept lines are stripped of surrounding white space and joined with
        newlines; runs of blank lines become one blank line (a paragraph break).
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    date = None
    m = _DATE_LINE.match(text)
    if m:
        date = m.group(1)
        text = text[m.end():]
    lines = [ln.strip() for ln in text.split("\n")]
    total_chars = sum(len(ln) for ln in lines) or 1

    kept: list[str] = []
    dropped: list[str] = []
    seen_chars = 0
    skip_next_short = False
    prev = None
    for i, ln in enumerate(lines):
        seen_chars += len(ln)
        if not ln:
            kept.append("")
            skip_next_short = False
            continue
        if skip_next_short and len(ln) <= 150:
            dropped.append(ln)
            skip_next_short = False
            continue
        skip_next_short = False
        if _TRAILING_HEADING.match(ln) and seen_chars > 0.5 * total_chars:
            dropped.extend(x for x in lines[i:] if x)
            break
        if i < 15 and (d := _dateline_date(ln)):
            dropped.append(ln)
            date = date or d
            continue
        if ln.lower() == "related":
            # An inline "Related" widget: the heading and the one promoted headline after it.
            dropped.append(ln)
            skip_next_short = True
            continue
        if (ln == prev and len(ln) <= 40) or _is_junk(ln):
            dropped.append(ln)
            prev = ln
            continue
        kept.append(ln)
        prev = ln

    out = "\n".join(kept)
    out = re.sub(r"\n{3,}", "\n\n", out).strip()
    return CleanResult(text=out, date=date, dropped=dropped)
