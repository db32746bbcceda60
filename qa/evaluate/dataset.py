"""Load and validate a Q&A evaluation set (JSONL, one item a line).

Each line is an object with ``id``, ``question``, ``answers`` (accepted answer strings), ``docs``
(gold doc ids, best first), ``evidence`` (a verbatim passage of the first gold doc that supports the
answer) and ``type`` (one of :data:`QUESTION_TYPES`). An ``unanswerable`` item has no answers, no docs
and empty evidence: the right response is to abstain.

A *dated* set (``eval/rtqa.jsonl``) gives each item an ``as_of`` date (``date`` is accepted too):
the day the question is asked on. Its gold answer comes from an article dated on or before it, and
an ``unanswerable`` item there may be one whose answer appears only in a later article.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qa.jsonlines import iter_json_lines

from qa.errors import QAError

#: The question types an item may have; ``unanswerable`` is the positive class for abstention.
QUESTION_TYPES = ("factoid", "paraphrase", "list", "date", "conflict", "unanswerable")
UNANSWERABLE = "unanswerable"


class DatasetError(QAError):
    """The Q&A file is missing or malformed; the message names the line and the fix."""


@dataclass(frozen=True)
class QAItem:
    """One evaluation question with its gold answers, documents and evidence."""

    id: str
    question: str
    answers: tuple[str, ...]
    docs: tuple[str, ...]
    evidence: str
    type: str
    #: Optional: which part of a dev set the item belongs to ("tune" / "test"), so the held-out
    #: part is reported on its own; and the question's form ("who", "how much", "why" …).
    split: str = ""
    form: str = ""
    #: Optional: ``YYYY-MM-DD``, the day the question is asked on ("" when the set is undated).
    as_of: str = ""

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE


def normalize_ws(text: str) -> str:
    """``text`` with every run of white space made one space and the ends stripped.

    Evidence is compared this way because cleaning may rewrap lines, which changes no words.
    """
    return re.sub(r"\s+", " ", text).strip()


def _item(rec: object, where: str) -> QAItem:
    if not isinstance(rec, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(rec).__name__}")
    missing = [k for k in ("id", "question", "answers", "docs", "evidence", "type") if k not in rec]
    if missing:
        raise DatasetError(f"{where}: missing key(s) {', '.join(missing)}")
    qtype = rec["type"]
    if qtype not in QUESTION_TYPES:
        raise DatasetError(f"{where}: unknown type {qtype!r}; valid: {', '.join(QUESTION_TYPES)}")
    if not isinstance(rec["id"], str) or not rec["id"].strip():
        raise DatasetError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(rec["question"], str) or not rec["question"].strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string")
    for key in ("answers", "docs"):
        if not isinstance(rec[key], list) or not all(isinstance(x, str) and x.strip() for x in rec[key]):
            raise DatasetError(f"{where}: '{key}' must be a list of non-empty strings")
    if not isinstance(rec["evidence"], str):
        raise DatasetError(f"{where}: 'evidence' must be a string")
    if qtype == UNANSWERABLE:
        if rec["answers"] or rec["docs"] or rec["evidence"].strip():
            raise DatasetError(f"{where}: an unanswerable item must have empty answers, docs and evidence")
    elif not (rec["answers"] and rec["docs"] and rec["evidence"].strip()):
        raise DatasetError(f"{where}: an answerable item needs answers, docs and evidence")
    for key in ("split", "form"):
        if key in rec and not isinstance(rec[key], str):
            raise DatasetError(f"{where}: '{key}' must be a string")
    as_of = rec.get("as_of", rec.get("date"))
    if as_of is not None:
        from qa.retrieve.timeframe import parse_as_of

        try:
            as_of = parse_as_of(as_of) if isinstance(as_of, str) else None
        except ValueError:
            as_of = None
        if as_of is None:
            raise DatasetError(f"{where}: 'as_of' must be a date such as 2026-01-08, got {rec.get('as_of', rec.get('date'))!r}")
    return QAItem(id=rec["id"], question=rec["question"], answers=tuple(rec["answers"]), docs=tuple(rec["docs"]),
                  evidence=rec["evidence"], type=qtype, split=str(rec.get("split", "")), form=str(rec.get("form", "")),
                  as_of=as_of or "")


def load_qa(path: Path | str) -> list[QAItem]:
    """Read and validate a Q&A JSONL file.

    Blank lines are skipped. Raises :class:`DatasetError` naming the line for a malformed item,
    and for duplicate ids (results are keyed by id).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no Q&A file at {path}; pass one (`qa eval FILE`) or run from the repository root "
                           f"where eval/qa.jsonl lives")
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    for jl in iter_json_lines(path.read_text(encoding="utf-8")):
        lineno, rec = jl.lineno, jl.value
        where = f"{path}:{lineno}"
        if jl.error:
            raise DatasetError(f"{where}: {jl.error}")
        item = _item(rec, where)
        if item.id in seen:
            raise DatasetError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise DatasetError(f"{path} holds no questions")
    return items


def evidence_problems(items: list[QAItem], article_text) -> list[str]:
    """Items whose gold docs are unknown or whose evidence is not, verbatim, in the first gold doc's text.

    The check is exact (not whitespace-normalised): evidence is copied from the cleaned article text,
    so any difference means the item or the cleaner changed.

    Args:
        items: The Q&A items.
        article_text: ``doc_id -> cleaned text``; raises KeyError for an unknown doc.

    Returns:
        One message per problem (empty when every item checks out).
    """
    problems = []
    for it in items:
        for d in it.docs:
            try:
                article_text(d)
            except KeyError:
                problems.append(f"{it.id}: gold doc {d!r} is not in the index")
        if it.answerable and it.docs:
            try:
                text = article_text(it.docs[0])
            except KeyError:
                continue
            if it.evidence not in text:
                problems.append(f"{it.id}: evidence not found verbatim in {it.docs[0]}: {it.evidence[:80]!r}")
    return problems
