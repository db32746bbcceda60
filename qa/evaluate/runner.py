"""Run a Q&A set through the pipeline under several retrieval configurations and score it.

Every configuration answers the same questions in the same process through one
:class:`~qa.pipeline.QAService` (``svc.ask(q, mode=config)``), so a change is always judged
against its alternatives on identical ground.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from qa.evaluate.dataset import QAItem
from qa.evaluate.metrics import (
    HIT_KS, abstention_pr, answer_correct, dedupe_docs, doc_run, evidence_rank, hit_at, inferred_short_answer,
    is_conflict_answer, lead_answer, max_exact_match, max_token_f1, percentile, ranking_metrics, share,
)
from qa.retrieve.hybrid import RetrievalMode

#: Passages retrieved per question (the answerer sees these; ranking metrics are cut at 10).
EVAL_K = 10
#: A config name with this suffix ("hybrid:no-as-of") answers a dated set's questions without their
#: as-of dates: every article is usable and relative time is not resolved. Evaluating a dated set
#: adds it next to each config, so the gain from the dates is read off side by side.
NO_AS_OF = ":no-as-of"


def split_config(config: str) -> tuple[str, bool]:
    """``"hybrid:no-as-of"`` → ``("hybrid", False)``; ``"hybrid"`` → ``("hybrid", True)`` (dates used)."""
    if config.endswith(NO_AS_OF):
        return config[: -len(NO_AS_OF)], False
    return config, True


@dataclass
class EvalResult:
    """Per-question records and aggregated metrics of one evaluation run.

    Attributes:
        configs: The retrieval configurations, in the order given.
        records: One dict per (question, config): what was retrieved, answered, cited, and whether
            it was right (see :meth:`QAEvaluator.record`).
        metrics: ``{config: {group: {metric: value}}}`` with group ``"overall"`` and one per question type.
        dataset: The Q&A file evaluated.
    """

    configs: list[str]
    records: list[dict]
    metrics: dict[str, dict[str, dict[str, float | int | None]]]
    dataset: str = ""
    meta: dict = field(default_factory=dict)


def parse_configs(text: str | Sequence[str]) -> list[str]:
    """``"dense,bm25,hybrid"`` → ``["dense", "bm25", "hybrid"]``, validated as retrieval modes."""
    names = [c.strip().lower() for c in (text.split(",") if isinstance(text, str) else text) if c.strip()]
    if not names:
        raise ValueError("no retrieval configs given; valid: " + ", ".join(m.value for m in RetrievalMode))
    for n in names:
        RetrievalMode.parse(split_config(n)[0])
    return list(dict.fromkeys(names))


def aggregate(records: list[dict]) -> dict[str, float | int | None]:
    """The metrics of a group of records (one config): ranking metrics over answerable questions
    (via ranx), answer metrics over answerable questions, abstention over all, latency over all."""
    answerable = [r for r in records if r["answerable"]]
    out: dict[str, float | int | None] = {"n": len(records), "n_answerable": len(answerable)}
    if answerable:
        qrels = {r["id"]: {d: 1 for d in r["gold_docs"]} for r in answerable}
        run = {r["id"]: doc_run(r["retrieved_docs"]) for r in answerable}
        names = [f"hit_rate@{k}" for k in HIT_KS] + ["mrr@10", "ndcg@10"]
        rm = ranking_metrics(qrels, run, names)
        for k in HIT_KS:
            out[f"doc_hit@{k}"] = rm[f"hit_rate@{k}"]
        for k in HIT_KS:
            out[f"evidence_hit@{k}"] = sum(hit_at(r["evidence_rank"], k) for r in answerable) / len(answerable)
        out["mrr@10"] = rm["mrr@10"]
        out["ndcg@10"] = rm["ndcg@10"]
        out["answer_accuracy"] = sum(r["correct"] for r in answerable) / len(answerable)
        out["f1"] = sum(r["f1"] for r in answerable) / len(answerable)
    else:
        for name in [f"doc_hit@{k}" for k in HIT_KS] + [f"evidence_hit@{k}" for k in HIT_KS] + \
                ["mrr@10", "ndcg@10", "answer_accuracy", "f1"]:
            out[name] = None
    precision, recall = abstention_pr([r["abstained"] for r in records], [not r["answerable"] for r in records])
    out["abstain_precision"], out["abstain_recall"] = precision, recall
    out.update(answer_metrics(records))
    out["overall_accuracy"] = sum(r["overall_correct"] for r in records) / len(records) if records else None
    # Answers citing an article dated after the question's as-of date (dated sets, dates used): must be 0.
    out["cites_after_as_of"] = sum(1 for r in records if r.get("as_of") and r.get("cited_after_as_of"))
    lat = [r["latency_ms"] for r in records]
    out["latency_p50_ms"], out["latency_p95_ms"] = percentile(lat, 50), percentile(lat, 95)
    return out


def answer_metrics(records: list[dict]) -> dict[str, float | int | None]:
    """The figures a reader of the answer's first line cares about (issue 12):

    - ``short_em`` / ``short_f1``: SQuAD exact match and token F1 of the short answer, over the
      answerable questions answered with one;
    - ``short_rate``: the share of answerable questions given a short answer;
    - ``false_abstention``: the share of answerable questions declined;
    - ``unanswerable_recall``: the share of unanswerable questions declined;
    - ``invented_conflicts``: answers saying "the sources differ" to a question with one gold value
      (every type but ``conflict``), as a count.
    """
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    shorts = [r for r in answerable if not r["abstained"] and r.get("short_answer")]
    return {
        "short_em": share([r["short_em"] for r in shorts]),
        "short_f1": sum(r["short_f1"] for r in shorts) / len(shorts) if shorts else None,
        "short_rate": share([bool(not r["abstained"] and r.get("short_answer")) for r in answerable]),
        "false_abstention": share([r["abstained"] for r in answerable]),
        "unanswerable_recall": share([r["abstained"] for r in unanswerable]),
        "invented_conflicts": sum(1 for r in records if r.get("conflict") and r["type"] != "conflict"),
    }


def summarize(records: list[dict], configs: Sequence[str]) -> dict[str, dict[str, dict]]:
    """``{config: {"overall": metrics, <type>: metrics, ..., "split=<name>": metrics, ...}}``: one
    group per question type and, when items carry a ``split`` ("tune" / "test"), one per split."""
    out: dict[str, dict[str, dict]] = {}
    for cfg in configs:
        mine = [r for r in records if r["config"] == cfg]
        groups = {"overall": aggregate(mine)}
        for qtype in sorted({r["type"] for r in mine}):
            groups[qtype] = aggregate([r for r in mine if r["type"] == qtype])
        for split in sorted({r.get("split") or "" for r in mine} - {""}):
            groups[f"split={split}"] = aggregate([r for r in mine if r.get("split") == split])
        out[cfg] = groups
    return out


class QAEvaluator:
    """Answer every question of a Q&A set under each retrieval configuration and score the answers.

    Args:
        service: A :class:`~qa.pipeline.QAService` over the index the set refers to.
        configs: Retrieval modes to compare (default dense, bm25, hybrid).
        k: Passages retrieved per question (default :data:`EVAL_K`).
        compare_as_of: On a dated set (items with ``as_of``), also run each config without the dates
            (``"<config>:no-as-of"``, default True).
        calibrate: Also answer once more with abstention switched off and keep the answerer's
            support score and that answer's correctness, so :func:`~qa.evaluate.calibrate.sweep_threshold`
            can sweep thresholds offline without retrieving again.
        progress: Called with ``(done, total)`` after each answer (default: nothing).
    """

    def __init__(self, service, configs: Sequence[str] = ("dense", "bm25", "hybrid"), k: int = EVAL_K,
                 calibrate: bool = False, progress: Callable[[int, int], None] | None = None,
                 compare_as_of: bool = True) -> None:
        self.service = service
        self.configs = parse_configs(configs)
        self.compare_as_of = compare_as_of
        self.k = k
        self.calibrate = calibrate
        self.progress = progress

    def _never_abstain(self):
        from qa.answer.answerer import Answerer

        cfg = self.service.answerer.config
        if not dataclasses.is_dataclass(cfg) or not any(f.name == "abstain_threshold" for f in dataclasses.fields(cfg)):
            raise ValueError("calibration needs an AnswerConfig with an 'abstain_threshold' field")
        # Support lies in [0, 1], so a threshold of 0 never abstains (a negative one means "use the
        # calibrated value" to AnswerConfig, so -inf would not do).
        return Answerer(self.service.store, dataclasses.replace(cfg, abstain_threshold=0.0))

    def run(self, items: Sequence[QAItem], dataset: str = "") -> EvalResult:
        """Evaluate ``items``; returns records and metrics per config and per question type."""
        relaxed = self._never_abstain() if self.calibrate else None
        records: list[dict] = []
        configs = list(self.configs)
        if self.compare_as_of and any(it.as_of for it in items):
            configs = list(dict.fromkeys(c for cfg in configs for c in (
                (cfg, cfg + NO_AS_OF) if split_config(cfg)[1] else (cfg,))))
        total, done = len(items) * len(configs), 0
        for cfg in configs:
            for it in items:
                records.append(self.record(it, cfg, relaxed))
                done += 1
                if self.progress:
                    self.progress(done, total)
        return EvalResult(configs=configs, records=records, metrics=summarize(records, configs),
                          dataset=dataset, meta={"k": self.k})

    def record(self, item: QAItem, config: str, relaxed=None) -> dict:
        """Ask one question under one config and score it.

        The record holds: the question and its gold data; ``retrieved`` (rank, doc, chunk, offsets of
        each passage); ``retrieved_docs`` (deduplicated, in rank order); ``doc_rank`` (first gold doc's
        rank among them) and ``evidence_rank`` (first passage containing the evidence); the answer, its
        lead, ``abstained``, ``support``, ``cited_docs``; ``correct`` (answerable, answered with an
        accepted string and a gold doc cited), ``overall_correct`` (also counting a right abstention),
        ``f1`` and ``latency_ms``. With calibration: ``relaxed_correct`` / ``relaxed_support``.
        """
        mode, dated = split_config(config)
        as_of = item.as_of if dated and item.as_of else None
        t = time.perf_counter()
        ans = self.service.ask(item.question, k=self.k, mode=mode, as_of=as_of)
        latency = ans.timing_ms.get("total", (time.perf_counter() - t) * 1000)
        store = self.service.store
        texts = [store.article(p.doc_id).text[p.start:p.end] for p in ans.passages]
        docs = dedupe_docs(p.doc_id for p in ans.passages)
        gold = set(item.docs)
        doc_rank = next((r for r, d in enumerate(docs, start=1) if d in gold), None)
        cited = dedupe_docs(c.doc_id for c in ans.citations)
        correct = item.answerable and answer_correct(ans.answer, ans.abstained, cited, item.answers, item.docs)
        lead = "" if ans.abstained else lead_answer(ans.answer)
        rec = {
            "id": item.id, "config": config, "type": item.type, "question": item.question,
            "answerable": item.answerable, "gold_answers": list(item.answers), "gold_docs": list(item.docs),
            "evidence": item.evidence,
            "retrieved": [{"rank": p.rank, "doc_id": p.doc_id, "chunk_id": p.chunk_id, "start": p.start,
                           "end": p.end, "score": p.score} for p in ans.passages],
            "retrieved_docs": docs, "doc_rank": doc_rank,
            "evidence_rank": evidence_rank(item.evidence, texts) if item.answerable else None,
            "answer": ans.answer, "lead": lead, "abstained": bool(ans.abstained), "support": ans.support,
            "cited_docs": cited, "correct": bool(correct),
            "overall_correct": bool(correct) if item.answerable else bool(ans.abstained),
            "f1": max_token_f1(lead, item.answers) if item.answerable else None,
            "latency_ms": latency, "error": ans.error,
            "split": item.split, "form": item.form, "as_of": as_of,
            # Judged against the item's date even when it was not given, to show what the date keeps out.
            "cited_after_as_of": [d for d in cited if item.as_of and (store.article(d).date or "") > item.as_of],
        }
        short = getattr(ans, "short_answer", None) if hasattr(ans, "short_answer") else \
            inferred_short_answer(ans.answer, ans.abstained)
        rec["short_answer"] = None if ans.abstained else short
        rec["short_em"] = bool(short and item.answerable and max_exact_match(short, item.answers))
        rec["short_f1"] = max_token_f1(short, item.answers) if short and item.answerable else None
        rec["conflict"] = bool(not ans.abstained and is_conflict_answer(ans.answer, ans.notes))
        if relaxed is not None:
            qv = self.service.retriever.embed([ans.query or item.question])[0]
            full = relaxed.run(item.question, ans.passages, qv, qid=item.id, query=ans.query)
            full_cited = dedupe_docs(c.doc_id for c in full.citations)
            rec["relaxed_support"] = full.support
            rec["relaxed_abstained"] = bool(full.abstained)
            rec["relaxed_correct"] = bool(item.answerable and answer_correct(
                full.answer, full.abstained, full_cited, item.answers, item.docs))
        return rec


__all__ = ["EVAL_K", "NO_AS_OF", "split_config", "EvalResult", "QAEvaluator", "aggregate", "answer_metrics", "parse_configs", "summarize"]
