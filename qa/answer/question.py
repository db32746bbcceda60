"""What a question asks for, and how a follow-up question borrows its subject from the previous turn."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum


class AnswerType(str, Enum):
    """The kind of thing a question asks for; it decides which phrase can lead the answer."""

    AMOUNT = "amount"  # how much / how many / what percentage
    DATE = "date"  # when / until when / what year
    PERSON = "person"  # who / which player
    ORG = "org"  # which company / which firms
    PLACE = "place"  # where / in which city
    LIST = "list"  # which companies (plural) / name the ...
    YESNO = "yesno"  # is / does / did / can ...
    THING = "thing"  # which <noun> (non-entity), on which clouds, what title, what is the name of ...
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
_ORG_NOUNS = (_ORG_NOUNS[:-1] + r"|agenc(y|ies)|laborator(y|ies)|clubs?|teams?|bands?|groups?|channels?|networks?|"
              r"newspapers?|papers?|magazines?|broadcasters?|labels?|bodies|body|forces?|parties|party|unions?|councils?|"
              r"universit(y|ies)|sides?|brands?|carmakers?|makers?|manufacturers?|retailers?|airlines?|insurers?|lenders?|"
              r"institutions?|authorit(y|ies)|regulators?|watchdogs?|charit(y|ies)|departments?|ministr(y|ies)|"
              r"governments?)")
#: Head nouns of "which <noun>" questions that ask for a person, and for a place.
_PERSON_NOUNS = frozenset("""person people man woman player players referee athlete athletes singer singers actor actress
    star minister mp politician leader champion coach manager judge official executive spokesman spokeswoman director
    chairman chairwoman president worker journalist reporter writer author striker keeper goalkeeper defender
    midfielder winger prop batsman bowler jockey driver rider runner sprinter boxer golfer captain presenter host dj
    rapper musician artist comedian designer analyst economist expert lawyer doctor scientist researcher founder owner
    boss chief candidate peer lord officer detective soldier footballer cricketer hurdler jumper winner opponent
    victim suspect priest bishop king queen prince princess governor senator mayor secretary chancellor
    commissioner inspector umpire pundit critic director""".split())
_PLACE_NOUNS = frozenset("""country countries city cities town towns venue venues stadium region regions state county
    province island continent capital village area nation nations location place places ground port""".split())
#: Words after "what/which" that are verbs or question words rather than the noun asked about.
_NOT_HEAD = re.compile(r"(?:ed|ing)$|^(?:happen|happens|cause|causes|make|makes|mean|means|need|needs|say|says|"
                       r"lead|leads|drive|drives|remain|remains|top|tops)$")
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
        text: The question, white space normalised (the short-answer reader aligns its words with
            a sentence's).
        form: The question form: who, which, where, when, how long, how much, how many,
            percentage, list, what, yes-no, why, how or other.
    """

    type: AnswerType
    terms: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    wants_latest: bool = False
    head_noun: str | None = None
    extras: dict = field(default_factory=dict)
    text: str = ""
    form: str = "other"


def _words(text: str) -> list[str]:
    return [re.sub(r"['’]s$", "", w).strip(".'’") for w in _WORD.findall(text)]


def analyze(question: str) -> QuestionAnalysis:
    """Classify ``question`` and pull out its content terms and named entities."""
    q = " ".join(question.split())
    ql = q.lower()
    head = _head_noun(ql)
    plural_head = bool(head and re.search(r"[^s]s$|ies$", head) and head not in _NOT_PLURAL
                       and not re.search(r"\b(kind|type|sort)s? of\b", ql))  # "what kind of models": one kind
    if re.search(r"\bhow (much|many|old)\b|\bwhat (percentage|percent|share|stake|amount|sum|price)\b"
                 r"|\b(what|which) ((is|was|are|were) (the|its|their) )?([a-z-]+ )?(proportion|fraction|margin|rate)\b"
                 r"|\b(what|which) ([a-z-]+ )?(figure|sum|total|fee|salary|fine|price)\b"
                 r"|\bhow (big|large|high|valuable|far)\b|\b(worth|valued|valuation|cost|costs|salary|budget|fee|fees)\b"
                 r"|\bmarket share\b", ql):
        kind = AnswerType.AMOUNT
    elif head in {"year", "date", "month", "day"} or re.search(r"^\s*((and|so|but|then|ok|okay)\s+)?when\b|\b(until|since|by|till) when\b|\bhow long\b|\b(what|which) (year|date|month|day)\b"
                   r"|\bwhen (did|does|do|will|was|were|is|are|has|have|had|can|could|would|should)\b", ql):
        kind = AnswerType.DATE
    elif plural_head or re.search(r"\b(list|name)\s+(the|all|some)\b", ql):
        kind = AnswerType.LIST
    elif head and re.fullmatch(_ORG_NOUNS, head):
        kind = AnswerType.ORG
    elif re.search(r"\bwho(m|se)?\b", ql) or head in _PERSON_NOUNS:
        kind = AnswerType.PERSON
    elif re.search(r"^\s*((and|so|but)\s+)?where\b|\bwhere (is|are|was|were|did|does|do|will|would|has|have|had|can)\b", ql) \
            or head in _PLACE_NOUNS:
        kind = AnswerType.PLACE
    elif re.match(r"^\s*(is|are|was|were|does|do|did|can|could|will|would|has|have|had|should|may|might)\b", ql):
        kind = AnswerType.YESNO
    elif head and (re.search(r"\b(on|in|at|from|to|with|by|under|for|about|into|through|against|of)\s+(which|what)\b", ql)
                   or re.match(r"^\s*((and|so|but)\s+)?(what|which)\b", ql)
                   or re.search(r"^[^,]{3,60},\s*(what|which)\b", ql)) \
            or re.match(r"^\s*what\s+(?!happen)[a-z]+ed\s+(the|a|an|his|her|its|their)\b", ql):
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
    extras = {"count": bool(re.search(r"\bhow (many|far)\b", ql)),
              "counted": tuple(w for w in (counted.groups() if counted else ()) if w and w not in QUESTION_WORDS),
              "prep_which": bool(re.search(r"\b(on|in|at|from|to|with|by|under|via|for|into|through)\s+(which|what)\b", ql)),
              "percent": bool(re.search(r"\b(percentage|percent|per cent|%|share of|market share|proportion|"
                                       r"fraction|margin|(?<!exchange )rate)\b", ql)),
              "by_how_much": bool(re.search(r"\bby how much\b", ql)),
              "how_long": bool(re.search(r"\bhow long\b", ql)),
              "age": bool(re.search(r"\bhow old\b", ql))}
    return QuestionAnalysis(type=kind, terms=terms, entities=tuple(dict.fromkeys(entities)),
                            wants_latest=bool(_LATEST.search(q)), head_noun=head, extras=extras,
                            text=q, form=_form(ql, kind, extras))


def _head_noun(ql: str) -> str | None:
    """The noun a "which/what …" question asks about: "which record company makes …" → "company",
    "which Spike Lee films did …" → "films", "which film won the …" → "film", "what is the name of
    his latest album" → "album", "what is India's top-selling daily newspaper" → "newspaper".

    A word followed by an auxiliary ("films did") is the head; a word followed by a determiner or a
    preposition ("won the", "brings in") is a verb, and the word before it is the head."""
    m = re.search(r"\b(?:what|which)\s+(?:is|was|are|were)\s+the\s+names?\s+of\s+(.+?)\??$", ql)
    if m:
        np_ = re.split(r"\s(?:that|which|who|whose|where|when)\s", m.group(1))[0]
        words = [w for w in re.findall(r"[a-z][a-z-]*", np_) if w not in QUESTION_WORDS]
        return words[-1] if words else None
    m = re.match(r"^\s*(?:what|which)\s+(?:is|was|are|were)\s+((?:[\w-]+(?:['’]s)?\s*){1,5})\??\s*$", ql)
    if m:  # "what is <noun phrase>?" with no verb of its own
        words = [re.sub(r"['’]s$", "", w) for w in m.group(1).split()]
        if not any(w in QUESTION_WORDS or (_NOT_HEAD.search(w) and "-" not in w) for w in words[1:]):
            return words[-1]
    m = re.search(r"\b(?:which|what)\s+((?:[a-z][\w'’-]*\s*){1,5})", ql)
    if not m:
        return None
    toks = [re.sub(r"['’]s$", "", w) for w in m.group(1).split()]
    words: list[str] = []
    for i, w in enumerate(toks[:3]):
        if w in QUESTION_WORDS:
            break
        if w in _PERSON_NOUNS or w in _PLACE_NOUNS or re.fullmatch(_ORG_NOUNS, w):
            return w  # a known kind of thing wins ("which record company makes …")
        words.append(w)
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if nxt in _AUX:
            break
        if nxt in _DET_PREP:
            if len(words) > 1:
                words.pop()  # "brings" in "which product brings in": a verb
            break
    if not words:
        return None
    head = words[-1]
    if head in _KIND_WORDS:  # "what kind of models": the models
        k = re.search(rf"\b{head}s?\s+of\s+([a-z][a-z-]*)", ql)
        if k and k.group(1) not in QUESTION_WORDS:
            return k.group(1)
    return None if _NOT_HEAD.search(head) else head


#: "What kind / type / sort of X": the noun asked about is X.
_KIND_WORDS = frozenset("kind kinds type types sort sorts form forms category".split())


_AUX = frozenset("did does do is are was were has have had will would can could should may might must".split())
_DET_PREP = frozenset("""the a an its his her their this that these those in on at to for with by from of into about
    away up out behind over under as after before during""".split())


def _form(ql: str, kind: AnswerType, extras: dict) -> str:
    """The question form, as the dev sets name them (who / where / how much …)."""
    if re.match(r"^\s*((and|so|but)\s+)?why\b", ql):
        return "why"
    if kind is AnswerType.AMOUNT:
        if extras["percent"]:
            return "percentage"
        return "how many" if extras["count"] or extras["age"] else "how much"
    if kind is AnswerType.DATE:
        return "how long" if extras["how_long"] else "when"
    if kind is AnswerType.YESNO:
        return "yes-no"
    if re.match(r"^\s*((and|so|but)\s+)?how\b", ql):
        return "how"
    return {AnswerType.PERSON: "who", AnswerType.ORG: "which", AnswerType.PLACE: "where", AnswerType.LIST: "list",
            AnswerType.THING: "what"}.get(kind, "other")


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


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation, as a follow-up needs it.

    Attributes:
        question: The question as asked.
        query: The question actually searched (after its own follow-up resolution); "" when not
            known, in which case it is worked out again from the turns before it.
        entity: The name the answer led with ("Sam Altman"), when it led with one; what "he",
            "she", "it" or "they" in the next question most likely mean.
    """

    question: str
    query: str = ""
    entity: str | None = None


#: Earlier turns looked at: a subject carries over this many turns at most.
MAX_TURNS = 8
_PERSON_PRONOUN = re.compile(r"\b(he|she|him|her|his)\b", re.IGNORECASE)
_THING_PRONOUN = re.compile(r"\b(it|its|they|them|their)\b", re.IGNORECASE)
_NAME_ANSWER = re.compile(r"(?:[A-Z][\w.&'’-]*)(?:\s+(?:[A-Z][\w.&'’-]*|de|van|von|bin|al|of|and|&)){0,5}")
_PERSON_NAME = re.compile(r"[A-Z][a-z'’.-]+(?:\s+(?:[A-Z][a-z'’.-]+|de|van|von|bin|al)){1,3}")


def _as_turns(history) -> list[Turn]:
    """Earlier turns (strings, :class:`Turn` records or dicts with question/query/entity), each with
    its resolved query: a string turn is resolved against the turns before it, so a subject still
    carries over when only the questions are known."""
    turns: list[Turn] = []
    for h in list(history)[-MAX_TURNS:]:
        if isinstance(h, Turn):
            t = h
        elif isinstance(h, dict):
            t = Turn(str(h.get("question") or ""), str(h.get("query") or ""),
                     (h.get("entity") or h.get("short_answer") or None))
        else:
            t = Turn(str(h))
        if not t.query:
            t = Turn(t.question, resolve_followup(t.question, turns), t.entity)
        turns.append(t)
    return turns


def _is_person(entity: str, asked: str) -> bool:
    """Whether the previous answer names a person: a "who" question's answer, else a name shaped
    like one ("Sam Altman") unless the question asked for a company or the like ("Acme Steel")."""
    kind = analyze(asked).type if asked else None
    if kind is AnswerType.PERSON:
        return True
    if kind in {AnswerType.ORG, AnswerType.LIST, AnswerType.THING}:
        return False
    return bool(_PERSON_NAME.fullmatch(entity))


def _entity_for(core: str, entity: str | None, asked: str = "") -> str | None:
    """The previous answer's name when a pronoun of the question can mean it: he/she/his for a
    person's name, it/they for another name; None when nothing fits."""
    if not entity or not _NAME_ANSWER.fullmatch(entity.strip()):
        return None
    entity = entity.strip()
    person = _is_person(entity, asked)
    if person and _PERSON_PRONOUN.search(core):
        return entity
    if not person and _THING_PRONOUN.search(core) and not re.search(r"\bthat\b", core, re.IGNORECASE):
        return entity
    return None


def _substitute(core: str, entity: str, person: bool) -> str:
    """The first fitting pronoun replaced by ``entity`` ("his" → "Sam Altman's")."""
    pattern = _PERSON_PRONOUN if person else _THING_PRONOUN

    def repl(m: re.Match) -> str:
        return f"{entity}'s" if m.group(1).lower() in {"his", "her", "its", "their"} else entity

    return pattern.sub(repl, core, count=1)


def resolve_followup(question: str, history) -> str:
    """The question to search for: the question itself, or for a follow-up, the question with the
    previous turn's subject.

    Each turn is resolved against the previous turn's *resolved* query, so a subject carries over
    several turns ("When did Microsoft first invest?" → "and how much was that?" → "and when was
    that?" keeps "Microsoft first invest"), and a pronoun that fits the previous answer's name is
    replaced by it ("What did he say about AGI?" after the answer "Sam Altman").

    Args:
        question: The new question.
        history: Earlier turns, oldest first: question strings, :class:`Turn` records, or dicts with
            ``question`` / ``query`` / ``entity`` (or ``short_answer``).
    """
    q = " ".join(question.split())
    if not history or not is_followup(q):
        return q
    turns = _as_turns(history)
    prev = turns[-1]
    core = _FOLLOWUP_START.sub("", q).strip(" ,") or q
    core = core[0].upper() + core[1:] if core else core
    entity = _entity_for(core, prev.entity, prev.question)
    if entity:  # the pronoun names the subject: the previous question's words would only pull back its answer
        return _substitute(core, entity, _is_person(entity, prev.question))
    have = {w.lower() for w in _words(core)}
    prev_terms = list(dict.fromkeys(w for w in _words(" ".join((prev.query or prev.question).split()))
                                    if w.lower() not in QUESTION_WORDS and w.lower() not in have))
    return f"{core} ({' '.join(prev_terms)})" if prev_terms else core
