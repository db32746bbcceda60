"""What a question asks for, and how a follow-up question borrows its subject from the previous turn."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum


class AnswerType(str, Enum):
    """The kind of thing a question asks for; it decides which phrase can lead the answer."""

    AMOUNT = "amount"  # how much / how many / what percentage
    DATE = "date"  # when / until when / what year
    PERSON = "person"  # who
    ORG = "org"  # which company / which firms
    LIST = "list"  # which companies (plural) / name the ...
    YESNO = "yesno"  # is / does / did / can ...
    THING = "thing"  # which <noun> (non-entity), on which clouds ...
    OTHER = "other"  # what / why / how: described by a sentence


QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how much many does do did is are was were can could will would
    should shall may might has have had be been being the a an of to in on for and or with about at by from as
    that this these those it its their there then than into over under up down out more most some any all
    tell me please say said says according articles article report reports reported piece story coverage
    mentioned mention give gives given roughly approximately exactly latest current currently now today
    recent recently still""".split()
)

_ORG_NOUNS = r"(compan(y|ies)|firms?|organi[sz]ations?|investors?|partners?|startups?|banks?|funds?|providers?|rivals?|competitors?|businesses|outlets?|labs?)"
_NOT_PLURAL = frozenset({"news", "terms", "is", "was", "does", "has", "this", "us", "analysis", "status", "access",
                         "business", "process", "address", "bonus", "consensus", "crisis", "basis", "thesis", "plus"})
_LATEST = re.compile(r"\b(latest|current(ly)?|now|today|most recent(ly)?|as of now|at present|these days|still)\b", re.IGNORECASE)
_FOLLOWUP_START = re.compile(r"^\s*(and|but|so|also|then|what about|how about|and what|and who|and when|and how)\b", re.IGNORECASE)
_ANAPHORA = re.compile(r"\b(it|its|that|this|they|them|their|those|these|he|she|him|her|his|then|there|the deal|the company)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9$%][\w$%'’.-]*")


@dataclass(frozen=True)
class QuestionAnalysis:
    """What :func:`analyze` learned about a question.

    Attributes:
        type: The expected answer type.
        terms: Content words (lower-case), question words removed.
        entities: Capitalised names and numbers in the question ("Apple", "2022"): if none of the
            passages mention one, the articles are probably about something else.
        wants_latest: The question asks about the current / latest state.
        head_noun: For "which <noun>" questions, the noun asked about ("clouds").
    """

    type: AnswerType
    terms: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    wants_latest: bool = False
    head_noun: str | None = None
    extras: dict = field(default_factory=dict)


def _words(text: str) -> list[str]:
    return [re.sub(r"['’]s$", "", w).strip(".'’") for w in _WORD.findall(text)]


def analyze(question: str) -> QuestionAnalysis:
    """Classify ``question`` and pull out its content terms and named entities."""
    q = " ".join(question.split())
    ql = q.lower()
    head = None
    m = re.search(r"\b(?:which|what)\s+((?:[a-z-]+\s+){0,2}?)([a-z-]+)\b", ql)
    if m and m.group(2) not in QUESTION_WORDS:
        head = m.group(2)
    plural_head = bool(head and re.search(r"[^s]s$|ies$", head) and head not in _NOT_PLURAL)
    if re.search(r"\bhow (much|many)\b|\bwhat (percentage|percent|share|stake|amount|sum|price)\b"
                 r"|\bhow (big|large|high|valuable)\b|\b(worth|valued|valuation|cost|costs)\b", ql):
        kind = AnswerType.AMOUNT
    elif re.search(r"^\s*((and|so|but|then|ok|okay)\s+)?when\b|\b(until|since|by|till) when\b|\bhow long\b|\b(what|which) (year|date|month|day)\b"
                   r"|\bwhen (did|does|do|will|was|were|is|are|has|have|had|can|could|would|should)\b", ql):
        kind = AnswerType.DATE
    elif plural_head or re.search(r"\b(list|name)\s+(the|all|some)\b", ql):
        kind = AnswerType.LIST
    elif head and re.fullmatch(_ORG_NOUNS, head):
        kind = AnswerType.ORG
    elif re.search(r"\bwho(m|se)?\b", ql):
        kind = AnswerType.PERSON
    elif re.match(r"^\s*(is|are|was|were|does|do|did|can|could|will|would|has|have|had|should|may|might)\b", ql):
        kind = AnswerType.YESNO
    elif head and re.search(r"\b(on|in|at|from|to|with|by|under)\s+(which|what)\b", ql):
        kind = AnswerType.THING
    else:
        kind = AnswerType.OTHER

    words = _words(q)
    terms = tuple(w.lower() for w in words if w.lower() not in QUESTION_WORDS and len(w) > 1)
    entities = []
    for i, w in enumerate(words):
        if re.fullmatch(r"\$?\d[\d,.]*%?", w) and len(w.strip("$%")) >= 2:
            entities.append(w.strip("$%,."))
        elif w[:1].isupper() and w.lower() not in QUESTION_WORDS and (i > 0 or len(words) == 1) and len(w) > 1:
            entities.append(w.rstrip("’'s").rstrip("’'") if w.endswith(("'s", "’s")) else w)
    counted = re.search(r"\bhow many\s+([a-z-]+)(?:\s+([a-z-]+))?", ql)
    extras = {"count": bool(re.search(r"\bhow many\b", ql)),
              "counted": tuple(w for w in (counted.groups() if counted else ()) if w and w not in QUESTION_WORDS),
              "prep_which": bool(re.search(r"\b(on|in|at|from|to|with|by|under|via)\s+(which|what)\b", ql)),
              "percent": bool(re.search(r"\b(percentage|percent|per cent|%|share of)\b", ql))}
    return QuestionAnalysis(type=kind, terms=terms, entities=tuple(dict.fromkeys(entities)),
                            wants_latest=bool(_LATEST.search(q)), head_noun=head, extras=extras)


def is_followup(question: str) -> bool:
    """A question that leans on the previous turn: "and what did Microsoft get?", "when was that?"."""
    q = question.strip()
    if not q:
        return False
    if _FOLLOWUP_START.match(q):
        return True
    content = [w for w in _words(q) if w.lower() not in QUESTION_WORDS]
    if len(content) == 0:
        return True
    return bool(_ANAPHORA.search(q)) and len(content) <= 2


def resolve_followup(question: str, history: tuple[str, ...] | list[str]) -> str:
    """The question to search for: the question itself, or for a follow-up, the question joined
    with the subject of the previous turn (its content words)."""
    q = " ".join(question.split())
    if not history or not is_followup(q):
        return q
    prev = " ".join(str(history[-1]).split())
    prev_terms = [w for w in _words(prev) if w.lower() not in QUESTION_WORDS]
    core = _FOLLOWUP_START.sub("", q).strip(" ,") or q
    core = core[0].upper() + core[1:] if core else core
    return f"{core} ({' '.join(prev_terms)})" if prev_terms else core
