"""Read a short answer phrase off a sentence: an amount, a date, a name, a list, a noun phrase.

Each finder returns :class:`Phrase` records with offsets *into the sentence*, so the lead phrase is
always text the cited article really contains. Amounts and years carry a normalised value, which is
how two sources are found to agree or to differ.

Every finder reads at most :data:`MAX_SENTENCE_CHARS` characters of its sentence and does work
linear in that: one article with a 60 KB "sentence" must not stall the answerer for everyone.
Regular expressions here have no nested quantifiers that could backtrack, and scans that relate two
kinds of positions (names and role words, list cues and their stops) merge sorted lists instead of
comparing every pair.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

#: Extractors look at no more than this many characters of a sentence (a prefix, so offsets stay
#: valid). Real sentences are far shorter; an unsplit page of text is cut, not scanned whole.
MAX_SENTENCE_CHARS = 2000
#: A list introduced by a cue ("including …") is read from at most this many characters after it.
MAX_LIST_CHARS = 400

_SCALE = {"trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9, "million": 1e6, "mn": 1e6, "m": 1e6,
          "thousand": 1e3, "k": 1e3}
_AMOUNT = re.compile(
    r"(?P<cur>(?:US)?\$|€|£|¥|USD\s?|EUR\s?|GBP\s?)?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>trillion|billion|million|thousand|bn|tn|mn|[bmk](?![a-z])))?"
    r"(?P<cur2>\s(?:US\s)?(?:dollars|euros|pounds|USD|EUR))?"
    r"(?P<pct>\s?(?:percent|per cent|%))?",
    re.IGNORECASE,
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
_DATE = re.compile(
    rf"\b(?:(?P<prep>(?i:until|through|by|since|in|from|before|after|on|as of|till))\s+(?:either\s+.{{0,60}}?\s+or\s+until\s+)?)?"
    rf"(?P<when>(?:(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+)?(?:(?:{_MONTHS})\.?\s+)?(?:19|20)\d\d"
    rf"|(?:the\s+)?end of (?:the|this|next) year|year-end|next year|this year"
    rf"|(?:January|February|March|April|June|July|August|September|October|November|December))\b",
)
#: A year before 1900 counts only after a preposition ("until 1857", "in 1689"): bare, 1500 is as
#: likely a count. Prepositions may open the sentence ("Until 1857, ...").
_OLD_YEAR = re.compile(r"\b(?P<prep>(?i:until|till|in|since|by|from|before|after|of|back to))\s+(?P<when>1[5-8]\d\d)\b(?![,.]\d)")
_DAY_FIRST = re.compile(
    rf"\b(?:(?P<prep>until|by|since|on|from|before|after|till|as of)\s+)?"
    rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?(?:-\d{{1,2}})?\s+(?:{_MONTHS})\b(?:\s+(?P<year>(?:19|20)\d\d)\b)?)"
)
_NAME = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,}[a-z]*)(?:[ -](?:[A-Z][a-z]+|[A-Z]{2,}[a-z]*|de|van|von|bin|al))*\b")
_LIST_CUE = re.compile(r"\b(?:including|includ(?:es|ed)|such as|like|namely|from|with|among them|:)\s+", re.IGNORECASE)
_WORDISH = re.compile(r"[\w$€£%][\w$€£%'’.&-]*")
_PERSON = re.compile(r"[A-Z][a-z]+(?:[ -](?:[A-Z][a-z]+|de|van|von|bin|al)){1,3}")
_COUNTED = re.compile(r"\s+[a-z][a-z-]+")
_NEGATION = re.compile(r"\b(not|no longer|never|n't|no|neither|nor|without|loses|lost|denied|refused|excluded?|"
                       r"yet to|failed to|declined to)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Phrase:
    """A phrase inside a sentence: ``sentence[start:end] == text``; ``value`` normalises it."""

    text: str
    start: int
    end: int
    value: float | str | tuple[str, ...] | None = None  # a list's items, as written
    kind: str = ""
    unit: str = ""  # currency symbol or code for money ("$", "£", "EUR"), counted noun for counts


def find_amounts(sentence: str, counts: bool = False) -> list[Phrase]:
    """Money, percentages and scaled numbers ("$13 billion", "130 billion", "27 percent").

    A bare number without currency, scale or percent sign is not an amount (it may be a year),
    unless ``counts`` is set ("how many" questions): then "800 employees" counts, years still not.
    """
    sentence = sentence[:MAX_SENTENCE_CHARS]
    out = []
    for m in _AMOUNT.finditer(sentence):
        cur, scale, pct = m.group("cur") or m.group("cur2"), m.group("scale"), m.group("pct")
        if not (cur or scale or pct):
            bare = m.group("num")
            noun = _COUNTED.match(sentence, m.end())
            if not counts or re.fullmatch(r"(19|20)\d\d", bare) or not noun:
                continue
            end = noun.end()  # "800 employees": the count with what is counted
            start = m.start("num")
            out.append(Phrase(sentence[start:end], start, end, float(bare.replace(",", "")), "number",
                              noun.group(0).strip().lower()))
            continue
        num = float(m.group("num").replace(",", ""))
        if pct:
            kind, value = "percent", num
        else:
            mult = _SCALE.get((scale or "").lower().strip(), 1.0)
            if scale and scale.lower() in {"b", "m", "k"} and not cur:
                continue  # "5 m" without currency is more likely metres or minutes
            kind, value = "money" if cur else "number", num * mult
        start, end = m.start(), m.end()
        while start < end and sentence[start].isspace():
            start += 1
        unit = _currency(cur) if cur else ""
        out.append(Phrase(sentence[start:end], start, end, value, kind, unit))
    return out


def _currency(text: str) -> str:
    t = text.strip().upper()
    if "$" in t or "DOLLAR" in t or "USD" in t:
        return "$"
    if "€" in t or "EUR" in t:
        return "€"
    if "£" in t or "POUND" in t or "GBP" in t:
        return "£"
    return t


def find_dates(sentence: str) -> list[Phrase]:
    """Years, dates and relative deadlines, with a leading "until/by/since/in" when present; dates
    written day first ("8 April", "5-6 March 2005") too."""
    sentence = sentence[:MAX_SENTENCE_CHARS]
    out = []
    for m in _DAY_FIRST.finditer(sentence):
        year = m.group("year")
        start = m.start("prep") if m.group("prep") else m.start("day")
        out.append(Phrase(sentence[start:m.end()], start, m.end(), year or m.group("day").lower(), "date"))
    taken = [(p.start, p.end) for p in out]
    for m in _DATE.finditer(sentence):
        if any(a <= m.start("when") < b for a, b in taken):
            continue  # the month of a day-first date already read
        when = m.group("when")
        year = re.search(r"(?:19|20)\d\d", when)
        value = year.group(0) if year else when.lower()
        if m.group("prep") and m.group(0).count(" ") <= 5:
            start = m.start()
        else:
            start = m.start("when")
        out.append(Phrase(sentence[start:m.end()], start, m.end(), value, "date"))
    for m in _OLD_YEAR.finditer(sentence):
        prep = m.group("prep").lower()
        start = m.start("when") if prep == "of" else m.start()
        out.append(Phrase(sentence[start:m.end()], start, m.end(), m.group("when"), "date"))
    return out


def find_names(sentence: str, exclude: tuple[str, ...] = ()) -> list[Phrase]:
    """Capitalised name sequences (people, companies), skipping the sentence's first word alone
    and names in ``exclude`` (the ones the question already gives)."""
    sentence = sentence[:MAX_SENTENCE_CHARS]
    excl = {e.lower() for e in exclude}
    out = []
    for m in _NAME.finditer(sentence):
        text = m.group(0)
        if m.start() == 0 and " " not in text:
            continue
        if text.lower() in excl or text.lower().rstrip("s") in excl:
            continue
        out.append(Phrase(text, m.start(), m.end(), text.lower(), "name"))
    return out


def person_near(sentence: str, role_terms: tuple[str, ...], exclude: tuple[str, ...] = ()) -> Phrase | None:
    """The multi-word name closest to a role word of the question ("CEO, Sam Altman").

    Role words are found in one pass over the sentence's words and each name looks up its nearest
    one by bisection, so the work grows with names + words, not names × words."""
    sentence = sentence[:MAX_SENTENCE_CHARS]
    names = [p for p in find_names(sentence, exclude) if _PERSON.fullmatch(p.text)]
    if not names:
        return None
    roles = {t.lower() for t in role_terms if t}
    anchors = [m.start() for m in _WORDISH.finditer(sentence) if m.group(0).lower() in roles]
    if not anchors:
        return names[0] if len(names) == 1 else None

    def gap(p: Phrase) -> int:
        i = bisect.bisect_left(anchors, p.start)
        return min(abs(p.start - anchors[j]) for j in (i - 1, i) if 0 <= j < len(anchors))

    return min(names, key=gap)


def find_list(sentence: str) -> Phrase | None:
    """A list introduced by "including / such as / like / from / :", or a run of 3+ comma-separated items.

    The stops that end a list (a full stop, "as", "which" …) are found once for the whole sentence;
    each cue takes the first stop after it (by bisection) and reads at most :data:`MAX_LIST_CHARS`,
    so a sentence of thousands of cues is still read in linear time."""
    sentence = sentence[:MAX_SENTENCE_CHARS]
    stops = [m.start() for m in _LIST_STOP.finditer(sentence)]
    best = None
    for m in _LIST_CUE.finditer(sentence):  # the last cue that opens a list wins ("... included investments from A, B")
        rest_start = m.end()
        i = bisect.bisect_left(stops, rest_start)
        stop = stops[i] if i < len(stops) else len(sentence)
        seg = sentence[rest_start:min(stop, rest_start + MAX_LIST_CHARS)]
        items = [x.strip(" ,") for x in _LIST_SPLIT.split(seg) if x.strip(" ,")]
        if len(items) < 2 or any(len(x.split()) > 6 for x in items):
            continue
        named = sum(any(ch.isupper() or ch.isdigit() for ch in x) for x in items)
        need = len(items) if m.group(0).strip().lower() in {"with", "from"} else len(items) // 2 + 1
        if named >= need:
            seg = seg.rstrip(" ,")
            best = Phrase(seg, rest_start, rest_start + len(seg), tuple(items), "list")
    if best is not None:
        return best
    return _comma_run(sentence)


def _comma_run(sentence: str) -> Phrase | None:
    """The first run "A, B, C and D" of 3+ capitalised items, read token by token (no regex that
    could backtrack over a long run of capitalised words)."""
    items: list[tuple[int, int]] = []  # (start, end) of the items read so far
    cur: list[int] | None = None  # [start, end] of the item being read
    after_and = False  # an "and" / "or" was read: the item after it ends the run
    for m in _LIST_TOKEN.finditer(sentence):
        tok = m.group(0)
        if tok[0].isupper():
            if cur is None:
                cur = [m.start(), m.end()]
            else:
                cur[1] = m.end()
            continue
        if tok == "," and cur is not None and not after_and:
            items.append((cur[0], cur[1]))
            cur = None
            continue
        if tok in {"and", "or"} and not after_and and (cur is not None or items):
            if cur is not None:
                items.append((cur[0], cur[1]))
                cur = None
            after_and = True
            continue
        if cur is not None:  # any other token ends the run
            items.append((cur[0], cur[1]))
            cur = None
        if len(items) >= 3 and (after_and or tok != ","):
            break
        items, after_and = [], False
    if cur is not None:
        items.append((cur[0], cur[1]))
    if len(items) < 3:
        return None
    start, end = items[0][0], items[-1][1]
    return Phrase(sentence[start:end], start, end, tuple(sentence[a:b] for a, b in items), "list")


_LIST_STOP = re.compile(r"(?<![A-Z])[.;](?:\s|$)|\s(?:as|to|which|who|that|while|but|because)\s")
_LIST_SPLIT = re.compile(r",\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+")
_LIST_TOKEN = re.compile(r"[\w&-]+(?:\.[\w&-]+)*|,|[^\w\s,]")


def noun_phrase(sentence: str, head: str) -> Phrase | None:
    """The noun phrase built on ``head`` ("clouds" → "any cloud provider")."""
    sentence = sentence[:MAX_SENTENCE_CHARS]
    stem = re.sub(r"(ies|es|s)$", "", head.lower())
    if len(stem) < 3:
        return None
    m = re.search(rf"\b((?:(?:any|all|the|other|a|an|its|their|non-\w+|several|multiple|[a-z]+-[a-z]+|[a-z]+)\s+){{0,2}}"
                  rf"{re.escape(stem)}\w*(?:\s+(?:provider|providers|service|services|platform|platforms|company|companies))?)\b",
                  sentence, re.IGNORECASE)
    if not m:
        return None
    text = m.group(1)
    words = text.split()
    while words and words[0].lower() in {"the", "a", "an", "is", "are", "on", "in", "to", "be", "may", "must", "via", "provided", "run"}:
        words = words[1:]
    if not words:
        return None
    text = " ".join(words)
    start = sentence.find(text, m.start(1))
    return Phrase(text, start, start + len(text), text.lower(), "thing")


def polarity(sentence: str) -> bool:
    """True when the sentence affirms, False when it negates (a rough cue for yes/no questions)."""
    return not _NEGATION.search(sentence[:MAX_SENTENCE_CHARS])


def same_value(a: Phrase, b: Phrase) -> bool:
    """Whether two phrases state the same amount (within 1%) or the same date/name."""
    if a.unit and b.unit and a.kind == b.kind == "money" and a.unit != b.unit:
        return False
    if isinstance(a.value, float) and isinstance(b.value, float):
        if a.kind == "percent" or b.kind == "percent":
            return a.kind == b.kind and abs(a.value - b.value) <= 0.01 * max(abs(a.value), 1)
        return abs(a.value - b.value) <= 0.01 * max(abs(a.value), abs(b.value), 1)
    return a.value == b.value
