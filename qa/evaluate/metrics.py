"""Metric functions for the Q&A evaluation.

Ranking metrics (hit rate, MRR, nDCG, recall) come from ranx, which is tested against trec_eval;
this module only turns retrieved passages into ranx runs. The rest — evidence hits, answer
correctness, SQuAD token F1, abstention precision/recall, latency percentiles — are small functions
checked against hand-computed cases in ``tests/evaluate/``.
"""
from __future__ import annotations

import collections
import re
import string
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from qa.evaluate.dataset import normalize_ws

#: Cut-offs reported for hit@k.
HIT_KS = (1, 3, 5)
#: Citation markers such as ``[1]`` or ``[2, 3]`` in an answer.
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def dedupe_docs(doc_ids: Iterable[str]) -> list[str]:
    """Doc ids in first-seen order: passages ranked best first become documents ranked best first."""
    return list(dict.fromkeys(doc_ids))


def doc_run(doc_ids: Sequence[str]) -> dict[str, float]:
    """A ranx run entry for one query: ``{doc_id: score}`` with scores falling by rank (1, 1/2, 1/3 …).

    Passage ids are first reduced to documents by their best rank.
    """
    return {d: 1.0 / r for r, d in enumerate(dedupe_docs(doc_ids), start=1)}


def ranking_metrics(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], metrics: Sequence[str],
                    per_query: bool = False) -> dict[str, float] | dict[str, dict[str, float]]:
    """Evaluate ``run`` against ``qrels`` with ranx.

    Args:
        qrels: ``{query_id: {doc_id: relevance}}``; queries without relevant docs must be left out.
        run: ``{query_id: {doc_id: score}}``; a query missing from the run counts as retrieving nothing.
        metrics: ranx metric names, e.g. ``"hit_rate@5"``, ``"mrr@10"``, ``"ndcg@10"``, ``"recall@100"``.
        per_query: Also return each query's scores (``{metric: {query_id: score}}``).

    Returns:
        The mean of each metric over the qrels' queries (or per-query scores when ``per_query``).
    """
    from ranx import Qrels, Run, evaluate

    if not qrels:
        return {m: float("nan") for m in metrics}
    ranx_run = Run({q: dict(run.get(q, {})) for q in qrels})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety notes on ranx internals
        means = evaluate(Qrels(qrels), ranx_run, list(metrics), make_comparable=True)
    if not isinstance(means, dict):  # ranx returns a bare number for a single metric
        means = {metrics[0]: means}
    if per_query:
        return {m: {q: float(v) for q, v in ranx_run.scores[m].items()} for m in metrics}
    return {m: float(v) for m, v in means.items()}


def evidence_rank(evidence: str, passages: Sequence[str]) -> int | None:
    """The 1-based rank of the first passage that contains ``evidence`` (white space normalised)."""
    ev = normalize_ws(evidence).lower()
    if not ev:
        return None
    for r, text in enumerate(passages, start=1):
        if ev in normalize_ws(text).lower():
            return r
    return None


def hit_at(rank: int | None, k: int) -> bool:
    return rank is not None and rank <= k


def lead_answer(text: str) -> str:
    """The first line (or, on one line, the first sentence) of an answer, citation markers removed.

    Token F1 is measured on it because later lines hold supporting detail, not the answer itself.
    """
    text = text.strip()
    line = text.splitlines()[0] if text else ""
    m = re.search(r"(?<=[.!?])(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s+(?=[A-Z\"“‘'(])", line)
    if m:
        line = line[:m.start()]
    return " ".join(_MARKER.sub("", line).split())


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation) | {"‘", "’", "“", "”", "–", "—"})
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token-overlap F1 between one prediction and one gold answer."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = collections.Counter(pred) & collections.Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def max_token_f1(prediction: str, golds: Iterable[str]) -> float:
    """The best F1 over the accepted answers, as SQuAD scores several references."""
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def contains_answer(answer: str, accepted: Iterable[str]) -> bool:
    """Whether any accepted answer string occurs in ``answer`` (case and white space ignored)."""
    hay = normalize_ws(answer).lower()
    return any(normalize_ws(a).lower() in hay for a in accepted if a.strip())


def answer_correct(answer: str, abstained: bool, cited_docs: Iterable[str], accepted: Iterable[str],
                   gold_docs: Iterable[str]) -> bool:
    """An answerable question is answered right when it is not abstained on, an accepted answer
    string appears in the answer, and at least one gold doc is cited."""
    if abstained:
        return False
    return contains_answer(answer, accepted) and bool(set(cited_docs) & set(gold_docs))


def abstention_pr(abstained: Sequence[bool], unanswerable: Sequence[bool]) -> tuple[float | None, float | None]:
    """Precision and recall of abstaining, with unanswerable questions as the positive class.

    Returns None for a ratio whose denominator is zero (nothing abstained / nothing unanswerable).
    """
    tp = sum(1 for a, u in zip(abstained, unanswerable) if a and u)
    n_abst, n_pos = sum(map(bool, abstained)), sum(map(bool, unanswerable))
    return (tp / n_abst if n_abst else None), (tp / n_pos if n_pos else None)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation, as numpy), or None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def exact_match(prediction: str, gold: str) -> bool:
    """SQuAD exact match: equal after :func:`normalize_answer`."""
    return normalize_answer(prediction) == normalize_answer(gold)


def max_exact_match(prediction: str, golds: Iterable[str]) -> bool:
    """Whether the prediction matches any accepted answer exactly (SQuAD normalisation)."""
    return any(exact_match(prediction, g) for g in golds)


#: How an answer that says its sources disagree begins (see ``qa.answer.answerer``).
_CONFLICT = re.compile(r"^\s*the sources differ\b", re.IGNORECASE)


def is_conflict_answer(answer: str, notes: Iterable[str] = ()) -> bool:
    """Whether an answer claims that its sources disagree ("The sources differ: …"), by its first
    line or by a ``conflict:`` note. A dated timeline of how a value changed is not a disagreement."""
    return bool(_CONFLICT.match(answer or "")) or any(str(n).startswith("conflict: sources give") for n in notes)


#: First lines that quote a sentence, list claims or judge yes/no rather than lead with a phrase.
_NOT_SHORT = re.compile(r"^(As of .*?, )?.{0,120}?\breports?:|^the sources differ|^yes\b|^no\b|^the articles don't say"
                        r"|^(timeline|how it changed)\b", re.IGNORECASE)


def inferred_short_answer(answer: str, abstained: bool) -> str | None:
    """The short answer of an answer that does not report one (``Answer.short_answer`` missing, as in
    answers from older versions): its lead line when that is a phrase rather than a quote."""
    if abstained or not answer:
        return None
    first = answer.strip().splitlines()[0] if answer.strip() else ""
    if _NOT_SHORT.search(first) or "“" in first:
        return None
    lead = lead_answer(answer).rstrip(".")
    return lead or None


def share(flags: Sequence[bool]) -> float | None:
    """The fraction of true flags, or None for none at all."""
    return sum(map(bool, flags)) / len(flags) if flags else None
