"""Calibrate the abstention threshold on an evaluation set, as SQuAD v2 does for no-answer.

The answerer's confidence in an answer is ``Answer.support``; a question whose support is below a
threshold ``t`` is abstained on. Given, for every question, the support and whether the answer given
*without* abstention would be right, every threshold can be scored offline: retrieval and answering
run once, the sweep is arithmetic.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from pathlib import Path

from qa.config import SentenceVectors

CRITERION = ("maximise accuracy over all questions: abstaining on an unanswerable question and answering "
             "an answerable one correctly both count as correct; ties go to the lowest threshold")


def _support(r: dict) -> float:
    s = r.get("support")
    return -math.inf if s is None or (isinstance(s, float) and math.isnan(s)) else float(s)


def score_threshold(records: Sequence[dict], t: float) -> dict:
    """Outcome of abstaining below ``t``. Records need ``answerable``, ``support`` (None = no answer)
    and ``correct`` (the answer given without abstention is right)."""
    n = len(records)
    abstain = [_support(r) < t for r in records]
    unans = [not r["answerable"] for r in records]
    good = sum(1 for a, u, r in zip(abstain, unans, records) if (a and u) or (not a and not u and r["correct"]))
    tp = sum(1 for a, u in zip(abstain, unans) if a and u)
    n_abst, n_unans, n_ans = sum(abstain), sum(unans), n - sum(unans)
    right_answers = sum(1 for a, u, r in zip(abstain, unans, records) if not a and not u and r["correct"])
    return {
        "threshold": t, "answered": n - n_abst, "abstained": n_abst,
        "accuracy": good / n if n else None,
        "answer_accuracy": right_answers / n_ans if n_ans else None,
        "abstain_precision": tp / n_abst if n_abst else None,
        "abstain_recall": tp / n_unans if n_unans else None,
    }


def candidate_thresholds(supports: Sequence[float]) -> list[float]:
    """One threshold per distinct outcome: the lowest support (answer all), the midpoints between
    neighbouring supports (the widest margin either side), and just above the highest (abstain on all)."""
    vals = sorted({s for s in supports if math.isfinite(s)})
    if not vals:
        return [0.0]
    mids = [(a + b) / 2 for a, b in zip(vals, vals[1:])]
    top = vals[-1] + max(1e-6, abs(vals[-1]) * 1e-6)
    return [vals[0], *mids, top]


def sweep_threshold(records: Sequence[dict]) -> tuple[float, list[dict]]:
    """Sweep the abstention threshold over the records' support scores.

    Args:
        records: Dicts with ``answerable`` (bool), ``support`` (float, or None when the answerer gave
            no answer at all) and ``correct`` (whether the answer given without abstaining is right).

    Returns:
        ``(best_t, table)``: the threshold that maximises :data:`CRITERION`'s accuracy, and one row per
        candidate threshold (ascending) with answered/abstained counts, accuracy, answer accuracy and
        abstention precision/recall.
    """
    if not records:
        raise ValueError("no records to calibrate on")
    table = [score_threshold(records, t) for t in candidate_thresholds([_support(r) for r in records])]
    best = max(table, key=lambda row: (row["accuracy"], -row["threshold"]))
    return best["threshold"], table


def calibration_records(eval_records: Sequence[dict], config: str) -> list[dict]:
    """Sweep input from :class:`~qa.evaluate.runner.QAEvaluator` records made with ``calibrate=True``."""
    out = []
    for r in eval_records:
        if r["config"] != config:
            continue
        if "relaxed_correct" not in r:
            raise ValueError("these records were evaluated without calibration; run with calibrate=True")
        # An answerer that abstains even with abstention off has no answer to give at any threshold.
        support = None if r.get("relaxed_abstained") else r["relaxed_support"]
        out.append({"id": r["id"], "answerable": r["answerable"], "support": support,
                    "correct": r["relaxed_correct"]})
    return out


def write_calibration(path: Path | str, threshold: float, measured_on: str, config: str,
                      accuracy: float | None = None, sentence_vectors: str = SentenceVectors.POOLED.value) -> dict:
    """Record a threshold for indexes with ``sentence_vectors`` (default ``pooled``) in ``path``.

    The file maps each kind of sentence vectors to ``{"abstain_threshold", "criterion",
    "measured_on", "config", "accuracy_at_threshold", "date"}``; other kinds' entries are kept.
    Written atomically. Returns the new entry.
    """
    data = {"abstain_threshold": round(float(threshold), 6), "criterion": CRITERION, "measured_on": measured_on,
            "config": config, "accuracy_at_threshold": None if accuracy is None else round(accuracy, 3),
            "date": _dt.date.today().isoformat()}
    path = Path(path)
    try:
        whole = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        whole = {}
    if not isinstance(whole, dict) or "abstain_threshold" in whole:
        whole = {}
    whole[sentence_vectors] = data
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(whole, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return data


def pooled_records(paths: Sequence[Path | str], config: str = "hybrid", split: str | None = None) -> list[dict]:
    """Sweep input pooled from several ``results.jsonl`` files written by ``qa eval --calibrate --out DIR``
    (one per dev set, each over its own index), keeping ``config`` and, when given, one ``split``.

    Pooling is how one threshold is calibrated on several dev sets at once: each set is answered over
    its own corpus, and the sweep is arithmetic over the union of their records."""
    records: list[dict] = []
    for path in paths:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        if split:
            rows = [r for r in rows if not r.get("split") or r.get("split") == split]
        records += calibration_records(rows, config)
    return records


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qa.evaluate.calibrate RESULTS.jsonl ... [--config hybrid] [--split tune] [--write]``:
    sweep the abstention threshold over the pooled records and print the table (``--write`` saves the
    best threshold to ``qa/answer/calibration.json`` for pooled sentence vectors)."""
    import argparse

    from qa.evaluate.report import calibration_table

    ap = argparse.ArgumentParser(prog="python -m qa.evaluate.calibrate", description=main.__doc__)
    ap.add_argument("results", nargs="+", help="results.jsonl files from `qa eval --calibrate --out DIR`")
    ap.add_argument("--config", default="hybrid", help="retrieval config whose records are used (default: hybrid)")
    ap.add_argument("--split", default=None, help="keep only this split of sets that have splits (e.g. tune); "
                                                  "records of sets without splits are all kept")
    ap.add_argument("--write", action="store_true", help="save the best threshold to qa/answer/calibration.json")
    ap.add_argument("--rows", type=int, default=25, help="rows of the sweep table shown (default: 25)")
    args = ap.parse_args(argv)
    recs = pooled_records(args.results, args.config, args.split)
    best, table = sweep_threshold(recs)
    row = next(r for r in table if r["threshold"] == best)
    n_unans = sum(not r["answerable"] for r in recs)
    print(f"{len(recs)} questions ({n_unans} unanswerable) from {', '.join(map(str, args.results))}"
          + (f", split {args.split}" if args.split else "") + f"; criterion: {CRITERION}")
    print(calibration_table(table, best, markdown=False, max_rows=args.rows))
    print(f"best threshold: {best:.4f} (accuracy {row['accuracy']:.3f})")
    if args.write:
        target = Path(__file__).resolve().parents[1] / "answer" / "calibration.json"
        what = " + ".join(str(p) for p in args.results) + (f" (split {args.split})" if args.split else "")
        write_calibration(target, best, measured_on=f"{what}: {len(recs)} questions, {args.config} retrieval",
                          config=args.config, accuracy=row["accuracy"])
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
