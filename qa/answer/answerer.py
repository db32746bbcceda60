"""Compose a cited answer from the sentences of the retrieved passages. No LLM: every word claimed
is a sentence of an article, or a phrase read off one.

Steps: score each sentence of the top passages (dense similarity from vectors computed at build
time, idf-weighted overlap with the question, and whether it holds the kind of thing asked for);
compute a support score for the best one and abstain below a calibrated threshold; read a short
lead phrase off the sentence; look for other articles that agree (cite together) or give a
different value for the same thing (say that the sources differ); fill the templates.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.answer import compose, conflicts, timeline
from qa.answer.extract import (
    MAX_SENTENCE_CHARS,
    Phrase,
    find_amounts,
    find_dates,
    find_list,
    find_names,
    noun_phrase,
    person_near,
    polarity,
    same_value,
)
from qa.answer.spans import SpanReader
from qa.answer.question import QUESTION_WORDS, AnswerType, QuestionAnalysis, analyze
from qa.config import SentenceVectors
from qa.index.store import IndexStore
from qa.types import Answer, Article, Passage

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


def _calibrated_threshold(sentence_vectors: str = SentenceVectors.POOLED.value, default: float = 0.4) -> float:
    """The threshold calibrated for indexes whose sentence vectors were made the given way: the
    support scores of pooled and separately embedded sentence vectors are not on the same scale."""
    try:
        return float(json.loads(CALIBRATION_FILE.read_text())[sentence_vectors]["abstain_threshold"])
    except (OSError, KeyError, ValueError, TypeError):
        return default


@dataclass(frozen=True)
class AnswerConfig:
    """Answering knobs.

    Attributes:
        abstain_threshold: Answers whose support is below this abstain. Default: the value
            calibrated on eval/qa.jsonl for the index's kind of sentence vectors, stored in
            ``qa/answer/calibration.json``.
        passages: How many top passages to read sentences from (default 8).
        max_citations: At most this many cited sentences per answer (default 4).
        w_dense, w_lex, w_type, w_rank: Sentence score weights (dense similarity, idf-weighted
            term overlap, answer-type match, passage rank prior).
        untyped_support: Support factor when the question asks for a kind of thing (an amount, a
            name) that the chosen sentence does not offer.
        off_focus_support: Support factor when the sentence offers the amount or date asked for, but
            not next to any of the question's topic words (a figure of something else). On the dev sets
            (eval/bbc.jsonl, eval/qa.jsonl) such answers were right 3 times in 24, and 10 of the 24
            questions were unanswerable (sweep in eval/RESULTS.md).
        non_statement_factor: Score factor for headlines, headings and questions (default 0.85).
        named_ratio: For a typed question, when the best sentence leaves out half of the question's
            names or more, a sentence scoring at least this share of it (default 0.9) that names them all and
            offers a phrase leads instead.
    """

    abstain_threshold: float = -1.0
    passages: int = 8
    max_citations: int = 4
    w_dense: float = 0.5
    w_lex: float = 0.35
    w_type: float = 0.15
    w_rank: float = 0.05
    untyped_support: float = 0.75
    off_focus_support: float = 0.7
    non_statement_factor: float = 0.85
    named_ratio: float = 0.9

    def threshold(self, sentence_vectors: str = SentenceVectors.POOLED.value) -> float:
        """``abstain_threshold`` if set, else the one calibrated for ``sentence_vectors``."""
        return self.abstain_threshold if self.abstain_threshold >= 0 else _calibrated_threshold(sentence_vectors)


@dataclass
class Candidate:
    """A sentence of a retrieved passage with its scores and the phrase it offers."""

    row: int
    article: Article
    start: int
    end: int
    passage_rank: int
    dense: float = 0.0
    lex: float = 0.0
    score: float = 0.0
    phrase: Phrase | None = None
    near: bool = False

    @property
    def text(self) -> str:
        return self.article.text[self.start:self.end]


#: Words that say what kind of answer is wanted rather than what it is about ("What is X worth?").
TYPE_CUES = {
    AnswerType.AMOUNT: frozenset("worth valued valuation value cost costs price priced much many amount sum total big large".split()),
    AnswerType.DATE: frozenset("year years date dates day month until since long ago time".split()),
    AnswerType.PERSON: frozenset("person people name".split()),
}
_WINDOW = 16  # tokens either side of a phrase in which a focus word ties the value to the question

_TYPED = {AnswerType.AMOUNT, AnswerType.DATE, AnswerType.PERSON, AnswerType.ORG, AnswerType.LIST, AnswerType.THING,
          AnswerType.PLACE}


@dataclass(frozen=True)
class FocusWords:
    """The question's topic words (stemmed), minus its names and answer-type cues; a phrase with one
    of them close by answers *this* question ("exceeded $13 billion" after "investment").

    Made per question, so one :class:`Answerer` can serve concurrent questions."""

    stems: frozenset[str]
    stem: Callable[[str], str]

    def positions(self, text: str) -> list[int]:
        out = []
        for m in _TERM.finditer(text):
            st = self.stem(re.sub(r"['’]s$", "", m.group(0)))
            # "partner" ~ "partnership": a shared stem prefix of 5+ letters counts as the same word
            if st in self.stems or any(len(f) >= 5 and (st.startswith(f) or f.startswith(st) and len(st) >= 5)
                                       for f in self.stems):
                out.append(m.start())
        return out

    def near(self, phrase: Phrase, text: str) -> bool:
        """Whether a focus word lies within a few words of ``phrase`` (or in it)."""
        if not self.stems:
            return True
        before = text[: max(0, phrase.start - 1)].split()[-_WINDOW:]
        after = text[phrase.end:].split()[:_WINDOW]
        return bool(self.positions(" ".join(before + [phrase.text] + after)))

    def nearest(self, found: list[Phrase], text: str) -> Phrase | None:
        if not found:
            return None
        pos = self.positions(text)
        if not pos:
            return found[0]
        return min(found, key=lambda p: min(abs(p.start - x) for x in pos))


class Answerer:
    """Build an :class:`~qa.types.Answer` from retrieved passages.

    Args:
        store: The loaded index (articles, sentence offsets and sentence vectors).
        config: Answering knobs (default :class:`AnswerConfig`).
    """

    def __init__(self, store: IndexStore, config: AnswerConfig | None = None) -> None:
        self.store = store
        self.config = config or AnswerConfig()
        settings = store.manifest.get("settings", {})
        self.threshold = self.config.threshold(settings.get("sentence_vectors", SentenceVectors.POOLED.value))

    # -- scoring ---------------------------------------------------------------------------------
    def _candidates(self, passages: list[Passage], qvec: np.ndarray | None) -> list[Candidate]:
        seen: set[int] = set()
        out: list[Candidate] = []
        for p in passages[: self.config.passages]:
            row = self.store.chunk_row.get(p.chunk_id)
            if row is None:
                continue
            for s in self.store.chunk_sentence_rows(row):
                if s in seen:
                    continue
                seen.add(s)
                art, start, end = self.store.sentence(s)
                out.append(Candidate(s, art, start, end, p.rank))
        if out and qvec is not None:
            vecs = np.asarray(self.store.data.sentence_vectors[[c.row for c in out]])
            for c, v in zip(out, vecs @ np.asarray(qvec, dtype=np.float32)):
                c.dense = float(v)
        return out

    def _phrase(self, c: Candidate, qa_: QuestionAnalysis, focus: FocusWords,
                reader: SpanReader | None = None) -> Phrase | None:
        if reader is not None:  # typed candidate spans scored against the question (qa/answer/spans.py)
            found = reader.read(c.text)
            if found is None and qa_.type is AnswerType.PERSON:
                return _body(c.text, qa_)  # "Who decides …?" → "an independent expert panel"
            return found
        text = c.text
        t = qa_.type
        if t is AnswerType.AMOUNT:
            found = find_amounts(text, counts=bool(qa_.extras.get("count")))
            if qa_.extras.get("percent"):
                found = [p for p in found if p.kind == "percent"]
            elif qa_.extras.get("count"):
                counted = qa_.extras.get("counted") or ()
                found = [p for p in found if p.kind == "number"
                         and any(_same_word(p.unit.split()[-1] if p.unit else "", w) for w in counted)]
            return focus.nearest(found, text)
        if t is AnswerType.DATE:
            found = find_dates(text)
            if not found:
                return None
            ql = " ".join(qa_.terms)
            pref = [p for p in found if p.text.lower().startswith(("until", "through", "till"))] if "until" in ql or \
                "long" in ql else []
            return focus.nearest(pref or found, text)
        if t is AnswerType.PERSON:
            roles = tuple(w for w in qa_.terms if w.lower() not in {e.lower() for e in qa_.entities}) + tuple(
                e for e in qa_.entities if e.isupper())
            found = person_near(text, roles, exclude=tuple(e for e in qa_.entities if not e.isupper()))
            return found if found is not None else _body(text, qa_)
        if t is AnswerType.ORG:
            names = find_names(text, exclude=qa_.entities)
            return names[0] if names else None
        if t is AnswerType.LIST:
            found = find_list(text)
            if found is None and qa_.head_noun and qa_.extras.get("prep_which"):
                return noun_phrase(text, qa_.head_noun)  # "On which clouds …?" → "any cloud provider"
            return found
        if t is AnswerType.THING and qa_.head_noun:
            return noun_phrase(text, qa_.head_noun)
        return None

    def _score(self, cands: list[Candidate], qa_: QuestionAnalysis, query: str) -> None:
        """Score every candidate in place."""
        lexical = self.store.data.lexical
        cues = TYPE_CUES.get(qa_.type, frozenset())
        if timeline.wants_timeline(query):
            cues = cues | timeline.CUES  # "How has X changed?" is about X, not about sentences saying "changes"
        terms = list(dict.fromkeys(t for t in _terms(query) if t not in cues))
        entity_set = {e.lower() for e in qa_.entities}
        focus = FocusWords(frozenset(lexical.stem(t) for t in terms if t not in entity_set), lexical.stem)
        idf = lexical.idf(terms) if terms else {}
        stems = {t: lexical.stem(t) for t in terms}
        total = sum(idf.values()) or 1.0
        says = bool(_SAY.search(query))
        reader = SpanReader(qa_, lexical.stem)  # one per question: its question side is worked out once
        # A several-word name is one thing: "Altman" in a sentence mentions the "Sam Altman" asked about.
        names = [[w.lower() for w in m.group(0).split()] for m in _MULTI_NAME.finditer(query)]
        for c in cands:
            # The extractors' bound holds here too: a sentence of 250 KB must not be stemmed whole.
            text = c.text[:MAX_SENTENCE_CHARS]
            sent_stems = {lexical.stem(w) for w in _terms(text)}
            hit = {t for t in terms if stems[t] in sent_stems}
            for name in names:
                if any(w in hit for w in name):
                    hit.update(w for w in name if w in idf)
            c.lex = sum(idf[t] for t in hit) / total
            if says and _REPORTED.search(text):  # "What did X say …?" is answered by "X has stated …"
                c.lex = min(1.0, c.lex + 0.15)
            c.phrase = self._phrase(c, qa_, focus, reader) if qa_.type in _TYPED else None
            c.near = c.phrase is not None and focus.near(c.phrase, c.text)
            if qa_.type not in _TYPED:
                type_match = 1.0
            else:
                type_match = 1.0 if c.near else 0.5 if c.phrase is not None else 0.0
            c.score = (self.config.w_dense * c.dense + self.config.w_lex * c.lex + self.config.w_type * type_match
                       + self.config.w_rank / (1 + c.passage_rank))
            if not _is_statement(c.text, c.article):
                c.score *= self.config.non_statement_factor

    def support(self, best: Candidate, qa_: QuestionAnalysis, passages: list[Passage]) -> float:
        """How well the articles support an answer, in [0, 1]: similarity and term coverage of the
        best sentence, discounted when names or numbers of the question are absent from the cited article
        and when the question asks for a kind of thing the sentence does not offer."""
        base = 0.5 * max(best.dense, 0.0) + 0.5 * best.lex
        if qa_.entities:
            haystack = best.article.text.lower()  # the article the answer would cite
            missing = [e for e in qa_.entities if e.lower() not in haystack]
            base *= 1 - 0.6 * len(missing) / len(qa_.entities)
        if qa_.type in _TYPED and best.phrase is None:
            base *= self.config.untyped_support  # asked for a kind of thing no sentence offers
        elif qa_.type in {AnswerType.AMOUNT, AnswerType.DATE} and not best.near:
            base *= self.config.off_focus_support  # a figure or date, but not tied to the question's topic
        return float(base)

    # -- composing -------------------------------------------------------------------------------
    def run(self, question: str, passages: list[Passage], query_vector: np.ndarray | None,
            qid: str = "", query: str | None = None) -> Answer:
        """Answer ``question`` from ``passages`` (``query`` is the question actually searched)."""
        query = query or question
        qa_ = analyze(question)
        cands = self._candidates(passages, query_vector)
        self._score(cands, qa_, query)
        cands.sort(key=lambda c: (-c.score, c.passage_rank, c.row))
        if not cands:
            return self._abstain(question, passages, qid, query, 0.0)
        best = cands[0]
        if qa_.type in _TYPED and best.phrase is None:
            # Lead with a phrase when a sentence almost as good offers one, tied to the question if possible.
            close = [c for c in cands if c.score >= 0.8 * best.score]
            typed = [c for c in close if c.near] or [c for c in close if c.phrase is not None]
            if typed:
                best = typed[0]
        if qa_.type in _TYPED and qa_.entities and _name_share(best, qa_) <= 0.5:
            # A value read off a sentence that leaves out half the names of the question or more is
            # often a value of something else ("In 2024, OpenAI completed a funding round" for "When
            # did Microsoft invest?"); a sentence nearly as good that names them all is about the thing asked.
            named = [c for c in cands if c.score >= self.config.named_ratio * best.score and c.phrase is not None
                     and self._names_all(c, qa_)]
            named = [c for c in named if c.near] or named
            if named:
                best = named[0]
        asked = self._asked_measures(query, qa_)
        if qa_.type is AnswerType.AMOUNT and best.phrase is not None and not self._about(best, asked):
            # The same sentence may give the value asked beside another ("will invest €1.3 billion in
            # a round that values the start-up at €11.7 billion" for "What is it valued at?").
            own = self._about_in_sentence(best, qa_, asked)
            if own is not None:
                best.phrase, best.near = own, True
        if qa_.type is AnswerType.AMOUNT and best.phrase is not None and not self._about(best, asked):
            # Lead with a value *of* the thing asked ("valued at …"), not another figure of the sentence.
            close = [c for c in cands if c.score >= 0.8 * best.score and c.phrase is not None]
            best = next((c for c in close if self._about(c, asked)), best)
        support = self.support(best, qa_, passages)
        if support < self.threshold:
            return self._abstain(question, passages, qid, query, support)
        book = compose.CitationBook()
        notes: list[str] = []
        short: str | None = None
        if timeline.wants_timeline(question) and qa_.type not in {AnswerType.YESNO, AnswerType.LIST}:
            text = self._timeline_answer(best, cands, question, book, notes)
        else:
            text = ""
        if text:
            pass
        elif qa_.type in _TYPED and best.phrase is not None and qa_.type is not AnswerType.LIST:
            text, short = self._typed_answer(best, cands, qa_, book, notes, asked)
        elif qa_.type is AnswerType.LIST and best.phrase is not None:
            text = self._list_answer(best, cands, qa_, book)
            short = best.phrase.text
        elif qa_.type is AnswerType.YESNO:
            text = self._yesno_answer(best, cands, book)
            short = text.split(",", 1)[0]
        elif _explains(question):
            text = self._reasons_answer(best, cands, book, question)
        else:
            text = self._sentence_answer(best, cands, book)
        return Answer(id=qid, question=question, answer=text, abstained=False, citations=book.citations,
                      passages=passages, query=query, support=support, notes=notes, short_answer=short)

    def _abstain(self, question, passages, qid, query, support) -> Answer:
        leads: list[Article] = []
        for p in passages[:5]:
            art = self.store.article(p.doc_id)
            if art not in leads:
                leads.append(art)
        return Answer(id=qid, question=question, answer=compose.abstention(question, leads), abstained=True,
                      passages=passages, query=query, support=support)

    def _related(self, best: Candidate, cands: list[Candidate], floor: float = 0.75) -> list[Candidate]:
        """Other articles' sentences that speak to the same question nearly as well as the best one."""
        out = []
        for c in cands[1:]:
            if c.article.doc_id == best.article.doc_id or c.score < floor * best.score:
                continue
            if c.lex < 0.6 * best.lex:
                continue
            out.append(c)
        return out

    def _comparable(self, best: Candidate, c: Candidate, qa_: QuestionAnalysis) -> bool:
        """Whether ``c`` states a value for the same thing as ``best``: same kind of value, every
        name of the question in the sentence, and a focus word of the question next to the value."""
        if c.phrase is None or not c.near or _kind(c.phrase) != _kind(best.phrase):
            return False
        if c.phrase.unit and best.phrase.unit and c.phrase.kind == best.phrase.kind == "money" \
                and c.phrase.unit != best.phrase.unit:
            return False  # "$27bn" and "£14bn" are likely the same sum in two currencies
        if qa_.extras.get("count") and "number" in (c.phrase.kind, best.phrase.kind):
            # Counts disagree only when they count the same thing: "six kilometres" is no rival to
            # "4.4 million households", nor "at least one mobile" to "53 million people".
            if c.phrase.kind != best.phrase.kind or not c.phrase.unit or not best.phrase.unit \
                    or not _same_word(c.phrase.unit.split()[-1], best.phrase.unit.split()[-1]):
                return False
        return self._names_all(c, qa_)

    @staticmethod
    def _names_all(c: Candidate, qa_: QuestionAnalysis) -> bool:
        """Whether every name of the question is in the candidate's sentence."""
        low = c.text.lower()
        return all(e.lower() in low for e in qa_.entities)

    # -- what a value is a value of -------------------------------------------------------------
    def _asked_measures(self, query: str, qa_: QuestionAnalysis) -> frozenset[str]:
        return conflicts.question_measures(_TERM.findall(query), self.store.data.lexical.stem)

    def _frame(self, c: Candidate) -> conflicts.ValueFrame:
        return conflicts.frame(c.text, c.phrase.start, c.phrase.end, self.store.data.lexical.stem)

    def _about(self, c: Candidate, asked: frozenset[str]) -> bool:
        return c.phrase is not None and (c.phrase.kind not in {"money", "number", "percent"}
                                         or conflicts.about(self._frame(c), asked))

    def _about_in_sentence(self, c: Candidate, qa_: QuestionAnalysis, asked: frozenset[str]) -> Phrase | None:
        """Another amount of ``c``'s sentence, of the same kind as its phrase, that is a value of the
        measure asked about, when exactly one is; else None."""
        if not asked:
            return None
        found = [p for p in find_amounts(c.text, counts=bool(qa_.extras.get("count")))
                 if p.kind == c.phrase.kind and p.start != c.phrase.start
                 and conflicts.about(conflicts.frame(c.text, p.start, p.end, self.store.data.lexical.stem), asked)]
        return found[0] if len(found) == 1 else None

    def _disagree(self, a: Candidate, b: Candidate, qa_: QuestionAnalysis) -> bool:
        """Whether two different values contradict each other (rather than being an instalment
        and a total, or two different payments)."""
        asked_text = " ".join(qa_.terms + qa_.entities).lower()
        if any(p.text.lower().removeprefix("in ").strip() in asked_text for p in (a.phrase, b.phrase)):
            return False  # a value the question itself gives ("its 2004 earnings") is not an answer
        if qa_.type is AnswerType.DATE:
            # Only two different years disagree: "December" and "in December 2004", or "in 1981" and
            # "next year", can both be true.
            return all(re.fullmatch(r"(19|20)\d\d", str(p.value)) for p in (a.phrase, b.phrase))
        if conflicts.different_periods(a.text, a.phrase.start, b.text, b.phrase.start):
            return False  # "in the third quarter of 2004" and "last year" are figures of different periods
        if qa_.type is not AnswerType.AMOUNT or not isinstance(a.phrase.value, float) \
                or not isinstance(b.phrase.value, float):
            return True
        return not conflicts.consistent((a.phrase.value, self._frame(a)), (b.phrase.value, self._frame(b)))

    def _typed_answer(self, best, cands, qa_, book, notes, asked=frozenset()) -> tuple[str, str | None]:
        others = [c for c in self._related(best, cands) if self._comparable(best, c, qa_)]
        if qa_.type is AnswerType.AMOUNT:
            others = [c for c in others if self._about(c, asked)]
            if self._about(best, asked) and self._frame(best).role is conflicts.Role.PART \
                    and not any(w in conflicts._PART for w in qa_.terms):
                # "How much has X invested?" asks for the whole, not the first instalment.
                whole = [c for c in others if self._frame(c).role is not conflicts.Role.PART
                         and isinstance(c.phrase.value, float) and c.phrase.value >= best.phrase.value]
                if whole:
                    others = [best] + [c for c in others if c is not whole[0]]
                    best = whole[0]
        groups: list[list[Candidate]] = [[best]]
        for c in others:
            for g in groups:
                if same_value(g[0].phrase, c.phrase):
                    if all(x.article.doc_id != c.article.doc_id for x in g):
                        g.append(c)
                    break
            else:
                groups.append([c])
        # Different values that can both be true (an instalment and its total) are no disagreement.
        groups = [groups[0]] + [g for g in groups[1:] if self._disagree(groups[0][0], g[0], qa_)]
        if len(groups) > 1 and not (best.near and self._names_all(best, qa_)):
            groups = groups[:1]  # a disagreement needs both values tied to what was asked
        if len(groups) > 1 and qa_.type in {AnswerType.AMOUNT, AnswerType.DATE}:
            dates = [c.article.date for g in groups for c in g]
            if all(dates) and not qa_.wants_latest \
                    and not all(conflicts.comparable_dates(a, b) for a in dates for b in dates):
                # The figure moved between articles dated far apart: a dated sequence, not a conflict.
                claims = [timeline.Claim(c.article, c.start, c.end, c.phrase.text) for g in groups for c in g[:2]]
                notes.append("timeline: values differ across articles of different dates")
                return timeline.render(claims, book), None
            return self._conflict_answer(groups[:3], qa_, book, notes), None
        agree = groups[0][1: self.config.max_citations]
        markers = "".join(book.cite(c.article, c.start, c.end) for c in [best] + agree)
        lines = [f"{compose.lead_case(compose.safe(best.phrase.text))} {markers}."]
        for c in [best] + agree:
            lines.append(compose.quote_line(c.article, c.start, c.end, book.cite(c.article, c.start, c.end)))
        return "\n".join(lines), best.phrase.text

    def _timeline_answer(self, best, cands, question, book, notes) -> str:
        """One cited claim per article about the question's subject, in time order (undated articles
        last); "" when fewer than two articles speak to it, so a plain answer is given instead. The
        question asked for this form, so one dated article and an undated one are listed too: the
        reader sees which claims have no date rather than a sequence guessed for them."""
        floor = 0.6 * best.score
        per_article: dict[str, Candidate] = {}
        for c in cands:
            if c.score < floor or c.lex < 0.5 * best.lex or not _is_statement(c.text, c.article):
                continue
            per_article.setdefault(c.article.doc_id, c)
        picked = list(per_article.values())[: self.config.max_citations + 1]
        claims = [timeline.Claim(c.article, c.start, c.end) for c in picked]
        if len(claims) < 2 or timeline.dated_count(claims) < 1:
            return ""
        notes.append("timeline: claims listed by article date")
        return timeline.render(claims, book, timeline.subject_of(question))

    def _reasons_answer(self, best, cands, book, question: str = "", limit: int = 3) -> str:
        """Up to ``limit`` cited sentences that each give a reason, from different articles where
        possible (then from distant places of one article), near-duplicates left out."""
        pool = [c for c in cands[1:] if c.score >= 0.75 * best.score and c.lex >= 0.5 * best.lex
                and _is_statement(c.text, c.article)]
        if _WHY.match(question):  # sentences that give a reason ("because", "aims to", "amid") first
            pool.sort(key=lambda c: not _REASON.search(c.text))
        chosen = [best]
        for prefer_new_article in (True, False):
            for c in pool:
                if len(chosen) >= limit:
                    break
                if c in chosen or (prefer_new_article and any(c.article.doc_id == x.article.doc_id for x in chosen)):
                    continue
                if any(_overlap(c.text, x.text) > 0.6 or (c.article.doc_id == x.article.doc_id and abs(c.row - x.row) < 2)
                       for x in chosen):
                    continue
                chosen.append(c)
        if len(chosen) == 1:
            return self._sentence_answer(best, cands, book)
        return "\n".join(compose.quote_line(c.article, c.start, c.end, book.cite(c.article, c.start, c.end))
                         for c in chosen)

    def _conflict_answer(self, groups, qa_, book, notes) -> str:
        if qa_.wants_latest and all(c.article.date for g in groups for c in g):
            groups.sort(key=lambda g: max(c.article.date for c in g), reverse=True)
            head = groups[0]
            art = max(head, key=lambda c: c.article.date).article
            marks = "".join(book.cite(c.article, c.start, c.end) for c in head[:2])
            lines = [f"The sources differ; the most recent, {compose.who(art)} ({compose.human_date(art.date)}), "
                     f"says {compose.safe(head[0].phrase.text)} {marks}. Earlier reports give "
                     + compose.list_lead([f"{compose.safe(g[0].phrase.text)} " + "".join(book.cite(c.article, c.start, c.end)
                                                                          for c in g[:2]) for g in groups[1:]]) + "."]
            notes.append("conflict: preferred the most recent article")
        else:
            parts = []
            for g in groups:
                names = compose.list_lead([compose.who(c.article) for c in g[:2]])
                marks = "".join(book.cite(c.article, c.start, c.end) for c in g[:2])
                parts.append(f"{names} {'say' if len(g[:2]) > 1 else 'says'} {compose.safe(g[0].phrase.text)} {marks}")
            lines = ["The sources differ: " + "; ".join(parts) + "."]
            notes.append("conflict: sources give different values")
        for g in groups:
            for c in g[:2]:
                lines.append(compose.quote_line(c.article, c.start, c.end, book.cite(c.article, c.start, c.end)))
        return "\n".join(lines)

    def _list_answer(self, best, cands, qa_, book) -> str:
        m = book.cite(best.article, best.start, best.end)
        items = list(best.phrase.value) if best.phrase.kind == "list" else [best.phrase.text]
        lines = [f"{compose.lead_case(compose.safe(compose.list_lead(items)))} {m}."]
        lines.append(compose.quote_line(best.article, best.start, best.end, m))
        return "\n".join(lines)

    def _yesno_answer(self, best, cands, book) -> str:
        m = book.cite(best.article, best.start, best.end)
        verdict = "Yes" if polarity(best.text) else "No"
        return f"{verdict}, according to {compose.who(best.article)} {m}.\n" + compose.quote_line(
            best.article, best.start, best.end, m)

    def _sentence_answer(self, best, cands, book) -> str:
        m = book.cite(best.article, best.start, best.end)
        lines = [f"{compose.attribution(best.article)}: “{compose.safe(best.text)}” {m}"]
        extra = [c for c in cands[1:] if c.score >= 0.9 * best.score and c.lex >= 0.7 * best.lex][:1]
        for c in extra:
            lines.append(compose.quote_line(c.article, c.start, c.end, book.cite(c.article, c.start, c.end)))
        return "\n".join(lines)


_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_MULTI_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")
#: Question words asking what someone said, and the reporting verbs of a sentence that answers them.
_SAY = re.compile(r"\b(say|said|says|tell|told|think|thinks|thought|claim|claimed|believe|believes)\b", re.IGNORECASE)
_REPORTED = re.compile(r"\b(said|says|say|stated|states|told|tells|argued|argues|claimed|claims|warned|warns|added|"
                       r"believes?|thinks?|according to|suggest(?:ed|s|ing)?|expressed|insisted|noted)\b", re.IGNORECASE)
#: Questions answered by reasons or an account, not a value: why / how (not how much) / what happened.
_EXPLAINS = re.compile(r"^\s*(?:(?:and|so|but)\s+)?(?:why\b|how\s+(?!much|many|long|old|big|large|often|far|high|soon)\w+"
                       r"|what\s+(?:has\s+|had\s+)?happen|what\s+(?:are|were|is|was)\s+the\s+(?:reasons?|causes?|effects?)\b)",
                       re.IGNORECASE)


_WHY = re.compile(r"^\s*(?:(?:and|so|but)\s+)?why\b", re.IGNORECASE)
#: Words with which a sentence gives a reason or a purpose.
_REASON = re.compile(r"\b(because|due to|owing to|thanks to|as a result|in order to|so that|aim(?:s|ed|ing)? to|"
                     r"seek(?:s|ing)? to|sought to|want(?:s|ed)? to|goal|opportunity|to ensure|to secure|driven by|"
                     r"amid|reasons?|as (?:both|the|it|they)|as part of)\b", re.IGNORECASE)

#: "Who decides …?" is often answered by a body, not a person: "an independent expert panel", "its board".
_BODY = re.compile(r"\b(?:an?|the|its|their|his|her)\s+(?:[a-z-]+\s+){0,3}?(?:panel|board|committee|court|jury|"
                   r"regulators?|council|commission|tribunal|judges?|government|parliament|ministry|agency|watchdog|"
                   r"authority|authorities|shareholders|members|voters|arbitrator|referee|experts)\b")


def _body(text: str, qa_: QuestionAnalysis):
    """A body that acts in the sentence, as the answer to a "who" question with no person named."""
    from qa.answer.extract import Phrase

    asked = {t.lower() for t in qa_.terms}
    for m in _BODY.finditer(text):
        words = m.group(0).split()
        if words[-1].lower() in asked:
            continue  # "Who chairs the board?" is not answered by "the board"
        return Phrase(m.group(0), m.start(), m.end(), m.group(0).lower(), "name")
    return None


def _name_share(c: Candidate, qa_: QuestionAnalysis) -> float:
    """The share of the question's names that the candidate's sentence mentions (1.0 for none asked)."""
    if not qa_.entities:
        return 1.0
    low = c.text.lower()
    return sum(e.lower() in low for e in qa_.entities) / len(qa_.entities)


def _explains(question: str) -> bool:
    return bool(_EXPLAINS.match(question))


def _overlap(a: str, b: str) -> float:
    """Jaccard overlap of two sentences' words (to leave out a near-repeat of a chosen sentence)."""
    wa, wb = {w.lower() for w in _TERM.findall(a)}, {w.lower() for w in _TERM.findall(b)}
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def _is_statement(text: str, article: Article) -> bool:
    """A sentence that states something: not the headline, a section heading or a rhetorical question."""
    t = text.rstrip()
    if t.endswith("?"):
        return False
    if t == article.title and len(article.text.strip()) > len(t):
        return False  # the headline; in a one-sentence article the title is the story itself
    return t.endswith((".", "!", "\"", "”", "'", "’", ")"))


def _same_word(a: str, b: str) -> bool:
    """Crude singular/plural match: "jobs" ~ "job", "companies" ~ "company"."""
    a, b = a.lower(), b.lower()
    if not a or not b:
        return False
    norm = lambda w: re.sub(r"(ies)$", "y", re.sub(r"(?<=[^s])s$", "", w))  # noqa: E731
    return norm(a) == norm(b)


def _kind(p: Phrase) -> str:
    """Money and bare scaled numbers ("130 billion") compare with each other; percentages apart."""
    return "amount" if p.kind in {"money", "number"} else p.kind


def _terms(text: str) -> list[str]:
    out = []
    for w in _TERM.findall(text):
        w = re.sub(r"['’]s$", "", w).lower()
        if w not in QUESTION_WORDS and len(w) > 1:
            out.append(w)
    return out
