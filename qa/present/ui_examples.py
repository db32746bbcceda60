"""Example questions for the chat page, made from the indexed articles and checked by answering them.

A headline turned into "What is reported about <headline>?" is not a question anyone asks, and a
cut-off title makes it worse. Instead, a few plain English sentence shapes that carry a checkable
fact are looked for in the articles' text ("X's CEO, Name", "X has been extended until 2032",
"X invested $1 billion in Y", "X signed the deal in 2019"), each turned into the question it answers
together with the answer it expects. At start-up each candidate is asked through the service and
kept only when the answer is not a refusal and contains the expected value, so every example shown
is one the articles answer. The shapes are generic English, not any corpus's names.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

_NAME = r"[A-Z][\w&\-]*(?: [A-Z][\w&\-]*){0,3}"
_PERSON = r"[A-Z][a-z]+(?: [A-Z]\.)?(?: [A-Z][a-z'\-]+){1,2}"
_ROLE = r"CEO|chief executive|chairman|chairwoman|president|founder|chief financial officer|coach|manager"
_YEAR = r"(?:19|20)\d\d"
_AMOUNT = r"(?:£|\$|€|US\$)\s?\d[\d,.]*(?:\s?(?:billion|million|trillion|bn|m|tn))?"
#: Regular and common irregular past tenses the "When did X <verb> Y?" shape turns back to the base form.
_BASE = {"signed": "sign", "founded": "found", "launched": "launch", "opened": "open", "announced": "announce",
         "acquired": "acquire", "released": "release", "won": "win", "bought": "buy", "sold": "sell",
         "built": "build", "introduced": "introduce", "created": "create", "joined": "join", "left": "leave",
         "closed": "close", "started": "start", "began": "begin", "set up": "set up", "established": "establish"}
_VERBS = "|".join(sorted((re.escape(v) for v in _BASE), key=len, reverse=True))

_SHAPES: list[tuple[re.Pattern, Callable[[re.Match], tuple[str, str]]]] = [
    # "OpenAI's CEO, Sam Altman," / "OpenAI CEO Sam Altman" -> Who is OpenAI's CEO?
    (re.compile(rf"\b(?P<org>{_NAME})(?:'s|’s)? (?P<role>{_ROLE}),? (?P<who>{_PERSON})\b"),
     lambda m: (f"Who is {m['org']}'s {m['role']}?", m["who"].split()[-1])),
    # "Microsoft's intellectual property rights have been extended until 2032"
    (re.compile(rf"\b(?P<np>{_NAME}(?:'s|’s)?(?: [a-z][\w\-]*){{0,4}}) (?P<aux>have|has) been (?P<part>[a-z]+ed) "
                rf"until (?P<year>{_YEAR})\b"),
     lambda m: (f"Until when {m['aux']} {m['np']} been {m['part']}?", m["year"])),
    # "Microsoft invested $1 billion in OpenAI" -> How much did Microsoft invest in OpenAI?
    (re.compile(rf"\b(?P<who>{_NAME}) (?:has |had )?invested (?:its first |over |about |more than |nearly |some )?"
                rf"(?P<amt>{_AMOUNT}) (?:in|into) (?P<what>{_NAME})\b"),
     lambda m: (f"How much did {m['who']} invest in {m['what']}?", re.sub(r"^\D+", "", m["amt"]).strip())),
    # "In 2019 the company signed ..." is too loose; "X signed the agreement in 2019" is kept
    (re.compile(rf"\b(?P<who>{_NAME}) (?P<verb>{_VERBS}) (?P<what>(?:the|a|an|its|their) [a-z][\w\-]*(?: [a-z][\w\-]*){{0,3}}) "
                rf"in (?P<year>{_YEAR})\b"),
     lambda m: (f"When did {m['who']} {_BASE[m['verb']]} {m['what']}?", m["year"])),
]
#: Words that start a sentence but are not a name ("The", "However"): a match starting with one is dropped.
_NOT_NAMES = {"The", "A", "An", "However", "But", "And", "In", "On", "At", "This", "That", "It", "Its", "Their",
              "While", "When", "After", "Before", "Both", "Former", "Under", "With", "As", "For", "If"}


@dataclass(frozen=True)
class Candidate:
    """A question made from one sentence, the value its answer must contain, and the article it came from."""

    question: str
    expect: str
    doc_id: str


def candidates(articles: Iterable, per_article: int = 2) -> Iterator[Candidate]:
    """Questions from the articles' text in the order given, at most ``per_article`` from each."""
    for art in articles:
        found = 0
        seen: set[str] = set()
        for pattern, make in _SHAPES:
            for m in pattern.finditer(art.text[:20_000]):
                if m.group(0).split()[0] in _NOT_NAMES:
                    continue
                question, expect = make(m)
                question = " ".join(question.split())
                if question in seen or len(question) > 90 or not expect:
                    continue
                seen.add(question)
                yield Candidate(question, expect, art.doc_id)
                found += 1
                break
            if found >= per_article:
                break


def checked_examples(articles: list, ask: Callable[[str], dict], n: int = 3, tries: int = 12) -> list[str]:
    """Up to ``n`` example questions that ``ask`` (question -> answer JSON) answers with the expected
    value, newest articles first, one per article where possible; at most ``tries`` are asked."""
    arts = sorted(articles, key=lambda a: a.date or "", reverse=True)
    out: list[str] = []
    used_docs: set[str] = set()
    tried: set[str] = set()
    asked = 0
    for cand in candidates(arts):
        if asked >= tries or len(out) == n:
            break
        if cand.doc_id in used_docs or cand.question in tried:
            continue
        tried.add(cand.question)
        asked += 1
        try:
            ans = ask(cand.question)
        except Exception:  # noqa: BLE001 - an example that cannot be answered is just not shown
            continue
        if ans.get("abstained") or ans.get("error") or not ans.get("citations"):
            continue
        if cand.expect.lower() not in str(ans.get("answer", "")).lower():
            continue
        out.append(cand.question)
        used_docs.add(cand.doc_id)
    return out
