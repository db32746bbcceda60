"""The public JSON shape of one answer (``qa ask --json``, one line of ``qa batch`` JSONL)."""
from __future__ import annotations

from qa.types import Answer


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def answer_to_dict(ans: Answer) -> dict:
    """Serialise an :class:`~qa.types.Answer` to the documented JSON shape.

    Extra keys beyond the documented ones: ``query`` (the question actually run, after follow-up
    resolution), ``short_answer`` (the lead phrase, or null), ``as_of`` and ``time_window`` (the
    question's as-of date and the window its relative time was read as, when given), per-passage ``title``/``source``/``date``/``dense_score``/``bm25_score``, and
    ``error`` when the question could not be answered.
    """
    out = {
        "id": ans.id,
        "question": ans.question,
        "answer": ans.answer,
        "abstained": ans.abstained,
        "citations": [
            {"n": c.n, "doc_id": c.doc_id, "title": c.title, "source": c.source, "date": c.date,
             "quote": c.quote, "start": c.start, "end": c.end}
            for c in ans.citations
        ],
        "passages": [
            {"rank": p.rank, "doc_id": p.doc_id, "chunk_id": p.chunk_id, "score": _r(p.score, 6), "text": p.text,
             "start": p.start, "end": p.end, "dense_rank": p.dense_rank, "bm25_rank": p.bm25_rank,
             "dense_score": _r(p.dense_score), "bm25_score": _r(p.bm25_score), "title": p.title,
             "source": p.source, "date": p.date}
            for p in ans.passages
        ],
        "timing_ms": {k: round(v, 2) for k, v in ans.timing_ms.items()},
        "query": ans.query if ans.query is not None else ans.question,
        "short_answer": ans.short_answer,
    }
    if ans.as_of:
        out["as_of"] = ans.as_of
    if ans.time_window:
        out["time_window"] = dict(ans.time_window)
    if ans.notes:
        out["notes"] = list(ans.notes)
    if ans.error:
        out["error"] = ans.error
    return out
