"""``qa eval``: the Q&A set (default ``eval/qa.jsonl``) or a BEIR folder (``--beir DIR``)."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import qa.answer as _answer_pkg

#: Where ``--write-calibration`` puts the chosen abstention threshold (read by the answerer).
CALIBRATION_PATH = Path(_answer_pkg.__file__).resolve().parent / "calibration.json"


def _progress(quiet: bool, desc: str):
    """A ``(done, total)`` callback drawing a tqdm bar on stderr, or None when quiet."""
    if quiet:
        return None
    from tqdm import tqdm

    bar = {}

    def update(done: int, total: int) -> None:
        if "b" not in bar:
            bar["b"] = tqdm(total=total, desc=desc, file=sys.stderr, leave=False)
        bar["b"].update(done - bar["b"].n)
        if done >= total:
            bar["b"].close()

    return update


def _command() -> str:
    return "qa " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""


def run_beir(args) -> int:
    from qa.evaluate.beir import BeirEvaluator, beir_index_dir, load_beir, references
    from qa.evaluate.report import render_beir, write_beir_report
    from qa.pipeline import QAService

    beir = load_beir(args.beir, args.split or "train")
    index_dir = beir_index_dir(args.index_dir, args.beir)
    if not args.quiet:
        print(f"indexing {beir.corpus} into {index_dir} (reused and updated incrementally on later runs)",
              file=sys.stderr)
    svc = QAService(index_dir=index_dir, corpus=[beir.corpus], model=args.model, precision=args.precision, progress=not args.quiet,
                    store=getattr(args, "store", None))
    if svc.last_build is None:
        svc.update()  # pick up a changed corpus; embeds nothing when unchanged
    result = BeirEvaluator(svc, args.configs, progress=_progress(args.quiet, "BEIR queries")).run(beir)
    refs = references(beir.name)
    print(render_beir(result, refs))
    if result.meta["judged_docs_missing_from_index"]:
        print(f"note: {result.meta['judged_docs_missing_from_index']} judged documents are not in the index "
              f"(dropped as duplicates or empty)", file=sys.stderr)
    if args.out:
        paths = write_beir_report(result, args.out, refs, _command())
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def run_eval(args) -> int:
    """Entry point of ``qa eval`` (see ``qa eval --help``). Returns the exit code."""
    from qa.evaluate.runner import parse_configs

    args.configs = parse_configs(args.configs)
    if args.beir is not None:
        return run_beir(args)

    from qa.config import SentenceVectors
    from qa.evaluate.calibrate import CRITERION, calibration_records, sweep_threshold, write_calibration
    from qa.evaluate.dataset import evidence_problems, load_qa
    from qa.evaluate.report import (
        answer_table, calibration_table, metrics_table, misses, primary_config, type_table, write_report,
    )
    from qa.evaluate.runner import QAEvaluator
    from qa.pipeline import QAService

    items = load_qa(args.file)
    split = getattr(args, "split", None)
    if split:
        known = sorted({i.split for i in items if i.split})
        items = [i for i in items if i.split == split]
        if not items:
            print(f"error: no questions of split {split!r} in {args.file}"
                  + (f"; its splits: {', '.join(known)}" if known else "; its items have no 'split' field"),
                  file=sys.stderr)
            return 2
    svc = QAService(index_dir=args.index_dir, corpus=args.corpus, model=args.model, precision=args.precision, progress=not args.quiet,
                    store=getattr(args, "store", None))

    def text_of(doc_id: str) -> str:
        return svc.store.article(doc_id).text

    problems = evidence_problems(items, text_of)
    for p in problems[:10]:
        print(f"warning: {p}", file=sys.stderr)
    if len(problems) > 10:
        print(f"warning: … and {len(problems) - 10} more: is this Q&A set about the indexed corpus?", file=sys.stderr)

    write_cal = getattr(args, "write_calibration", False)
    calibrate = args.calibrate or write_cal
    result = QAEvaluator(svc, args.configs, calibrate=calibrate,
                         progress=_progress(args.quiet, "questions")).run(items, dataset=str(args.file))
    main = primary_config(result.configs)
    print(f"{len(items)} questions ({sum(not i.answerable for i in items)} unanswerable) from {args.file}"
          + (f", split {split}" if split else "") + "\n")
    print("overall")
    print(metrics_table(result.metrics, result.configs, markdown=False))
    print("\nanswers (SA = short answer; per split when the set has one)")
    print(answer_table(result.metrics, result.configs, markdown=False))
    print(f"\nby question type ({main})")
    print(type_table(result.metrics, main, markdown=False))
    worst = misses(result.records, main)
    print(f"\n{len(worst)} misses for {main}" + (f"; worst: {', '.join(r['id'] for r in worst[:8])}" if worst else ""))

    calibration = None
    if calibrate:
        recs = calibration_records(result.records, main)
        if all(r["support"] is None for r in recs):
            print("\ncalibration: the answerer reports no support scores (Answer.support); nothing to sweep",
                  file=sys.stderr)
        else:
            best, rows = sweep_threshold(recs)
            calibration = {"config": main, "best": best, "criterion": CRITERION, "table": rows}
            print(f"\nabstention threshold sweep over Answer.support ({main}; criterion: {CRITERION})")
            print(calibration_table(rows, best, markdown=False))
            print(f"best threshold: {best:.4f}")
            if write_cal:
                acc = next(r["accuracy"] for r in rows if r["threshold"] == best)
                kind = svc.store.manifest.get("settings", {}).get("sentence_vectors", SentenceVectors.POOLED.value)
                data = write_calibration(CALIBRATION_PATH, best, config=main, accuracy=acc, sentence_vectors=kind,
                                         measured_on=f"{args.file} ({len(items)} questions, {main} retrieval)")
                print(f"wrote {CALIBRATION_PATH}: abstain_threshold for {kind} sentence vectors = "
                      f"{data['abstain_threshold']}")
    if args.out:
        paths = write_report(result, args.out, calibration, _command())
        print(f"\nwrote {', '.join(str(p) for p in paths.values())}")
    return 0
