"""Write an evaluation run to disk and to the terminal.

``--out DIR`` gets ``metrics.json`` (all figures), ``report.md`` (tables per config and per question
type, then the worst misses first), ``results.jsonl`` (one line per question and config: what was
retrieved, answered, cited, and whether it was right) and ``hit_at_k.png`` (hit@k curves per config).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from pathlib import Path

from qa.evaluate.metrics import HIT_KS

#: Columns of the summary tables: (metric key, header).
COLUMNS = [(f"doc_hit@{k}", f"doc@{k}") for k in HIT_KS] + [(f"evidence_hit@{k}", f"evid@{k}") for k in HIT_KS] + [
    ("mrr@10", "MRR@10"), ("ndcg@10", "nDCG@10"), ("answer_accuracy", "ans acc"), ("f1", "F1"),
    ("abstain_precision", "abst P"), ("abstain_recall", "abst R"),
    ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"),
]
#: Columns of the answer tables (issue 12): what the first line of an answer is worth.
ANSWER_COLUMNS = [
    ("answer_accuracy", "ans acc"), ("short_em", "SA EM"), ("short_f1", "SA F1"), ("short_rate", "SA given"),
    ("false_abstention", "false abst"), ("unanswerable_recall", "unans R"), ("invented_conflicts", "inv confl"),
]
#: Prefix of the metric groups that hold one split of a dev set ("split=test").
SPLIT_PREFIX = "split="
PLOT_KS = tuple(range(1, 11))
MISSES_SHOWN = 25


def fmt(value, key: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if key.endswith("_ms"):
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def table(rows: Sequence[Sequence[str]], header: Sequence[str], markdown: bool = True) -> str:
    """A Markdown pipe table, or an aligned plain-text one for the terminal."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths))]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def metrics_table(metrics: dict, configs: Sequence[str], group: str = "overall", markdown: bool = True,
                  columns: Sequence[tuple[str, str]] = COLUMNS) -> str:
    rows = [[cfg, str(metrics[cfg][group]["n"])] + [fmt(metrics[cfg][group].get(k), k) for k, _ in columns]
            for cfg in configs if group in metrics[cfg]]
    return table(rows, ["config", "n"] + [h for _, h in columns], markdown)


def splits(metrics: dict, configs: Sequence[str]) -> list[str]:
    """The split names present in the metrics ("test", "tune"), in order."""
    return sorted({g[len(SPLIT_PREFIX):] for cfg in configs for g in metrics[cfg] if g.startswith(SPLIT_PREFIX)})


def answer_table(metrics: dict, configs: Sequence[str], markdown: bool = True) -> str:
    """The answer metrics per config, and per config and split when the set has splits (so the
    held-out split is read on its own row)."""
    rows = []
    for cfg in configs:
        for g in ["overall"] + [SPLIT_PREFIX + s for s in splits(metrics, [cfg])]:
            if g in metrics[cfg]:
                m = metrics[cfg][g]
                rows.append([cfg, "all" if g == "overall" else g[len(SPLIT_PREFIX):], str(m["n"])]
                            + [fmt(m.get(k), k) for k, _ in ANSWER_COLUMNS])
    return table(rows, ["config", "split", "n"] + [h for _, h in ANSWER_COLUMNS], markdown)


def type_table(metrics: dict, config: str, markdown: bool = True) -> str:
    groups = [g for g in metrics[config] if g != "overall" and not g.startswith(SPLIT_PREFIX)] + ["overall"]
    rows = [[g, str(metrics[config][g]["n"])] + [fmt(metrics[config][g].get(k), k) for k, _ in COLUMNS] for g in groups]
    return table(rows, ["type", "n"] + [h for _, h in COLUMNS], markdown)


def primary_config(configs: Sequence[str]) -> str:
    """The config the misses are listed for: hybrid when evaluated (the default mode), else the last."""
    return "hybrid" if "hybrid" in configs else configs[-1]


def miss_severity(r: dict) -> tuple:
    """Sort key, worst first: gold doc never retrieved, then evidence never retrieved, then a wrong
    answer despite the evidence (latest evidence first), then an answer given where none exists."""
    if r["answerable"]:
        if r["doc_rank"] is None:
            return (0, 0.0, r["id"])
        if r["evidence_rank"] is None:
            return (1, 0.0, r["id"])
        return (2, -float(r["evidence_rank"]), r["id"])
    return (3, -(r.get("support") or 0.0), r["id"])


def misses(records: Sequence[dict], config: str) -> list[dict]:
    """The records of ``config`` answered wrongly, worst first."""
    return sorted((r for r in records if r["config"] == config and not r["overall_correct"]), key=miss_severity)


def _short(text: str, n: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def misses_table(records: Sequence[dict], config: str, limit: int = MISSES_SHOWN) -> str:
    why = {0: "gold doc not retrieved", 1: "evidence not retrieved", 2: "wrong answer", 3: "answered the unanswerable"}
    rows = []
    for r in misses(records, config)[:limit]:
        got = "(abstained)" if r["abstained"] else _short(r["lead"] or r["answer"])
        rows.append([r["id"], r["type"], why[miss_severity(r)[0]], _short(r["question"], 70),
                     _short(" / ".join(r["gold_answers"]) or "(abstain)", 40), got,
                     fmt(r["doc_rank"]), fmt(r["evidence_rank"]), ", ".join(r["cited_docs"]) or "—"])
    return table(rows, ["id", "type", "miss", "question", "expected", "got (lead)", "doc rank", "evid rank", "cited"])


def hit_curve(records: Sequence[dict], config: str, key: str, ks: Sequence[int] = PLOT_KS) -> list[float]:
    """Fraction of answerable questions with ``key`` (``doc_rank``/``evidence_rank``) ≤ k, for each k."""
    mine = [r for r in records if r["config"] == config and r["answerable"]]
    if not mine:
        return [math.nan for _ in ks]
    return [sum(1 for r in mine if r[key] is not None and r[key] <= k) / len(mine) for k in ks]


def plot_hits(records: Sequence[dict], configs: Sequence[str], path: Path, title: str = "") -> Path:
    """Doc and evidence hit@k curves (k = 1…10), one line per config, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    panels = (("doc_rank", "doc hit@k", "k (documents, in passage rank order)"),
              ("evidence_rank", "evidence hit@k", "k (passages)"))
    for ax, (key, name, xlabel) in zip(axes, panels):
        for cfg in configs:
            ax.plot(PLOT_KS, hit_curve(records, cfg, key), marker="o", label=cfg)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_xticks(PLOT_KS)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction of answerable questions")
    axes[1].legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def calibration_table(table_rows: Sequence[dict], best: float, markdown: bool = True, max_rows: int = 25) -> str:
    """The sweep table, thinned to about ``max_rows`` rows (always keeping the best threshold)."""
    step = max(1, math.ceil(len(table_rows) / max_rows))
    keep = [r for i, r in enumerate(table_rows) if i % step == 0 or r["threshold"] == best or i == len(table_rows) - 1]
    rows = [[("→ " if r["threshold"] == best else "") + f"{r['threshold']:.4f}", r["answered"], r["abstained"],
             fmt(r["accuracy"]), fmt(r["answer_accuracy"]), fmt(r["abstain_precision"]), fmt(r["abstain_recall"])]
            for r in keep]
    return table(rows, ["threshold", "answered", "abstained", "accuracy (all)", "answer acc", "abst P", "abst R"], markdown)


def render_markdown(result, calibration: dict | None = None, command: str = "") -> str:
    """The Markdown report of an :class:`~qa.evaluate.runner.EvalResult`."""
    cfgs = result.configs
    main = primary_config(cfgs)
    n_q = len({r["id"] for r in result.records})
    parts = [
        f"# Evaluation report: {result.dataset}",
        f"{n_q} questions, configs: {', '.join(cfgs)}; {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC."
        + (f" Command: `{command}`" if command else ""),
        "Ranking and answer metrics are over answerable questions; abstention precision/recall treat "
        "unanswerable questions as the positive class; latency is per question, retrieval + answer.",
        "## Overall", metrics_table(result.metrics, cfgs),
        "## Answers (per split when the set has one)",
        "SA EM / SA F1: SQuAD exact match and token F1 of the short answer, over answerable questions "
        "answered with one; SA given: share of answerable questions given a short answer; false abst: share "
        "of answerable questions declined; unans R: share of unanswerable questions declined; inv confl: "
        "\"sources differ\" answers to questions with one gold value.",
        answer_table(result.metrics, cfgs),
        "![hit@k per configuration](hit_at_k.png)",
        f"## Worst misses first ({main})",
        misses_table(result.records, main),
    ]
    for cfg in cfgs:
        parts += [f"## By question type: {cfg}", type_table(result.metrics, cfg)]
    if calibration:
        parts += [f"## Abstention threshold calibration ({calibration['config']})",
                  f"Criterion: {calibration['criterion']}. Best threshold: **{calibration['best']:.4f}**.",
                  calibration_table(calibration["table"], calibration["best"])]
    return "\n\n".join(parts) + "\n"


def write_report(result, out_dir: Path | str, calibration: dict | None = None, command: str = "") -> dict[str, Path]:
    """Write metrics.json, report.md, results.jsonl and hit_at_k.png into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "report": out / "report.md", "results": out / "results.jsonl",
             "plot": out / "hit_at_k.png"}
    payload = {"dataset": result.dataset, "configs": result.configs, "metrics": result.metrics, "meta": result.meta,
               "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if calibration:
        payload["calibration"] = calibration
    paths["metrics"].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(paths["results"], "w", encoding="utf-8") as fh:
        for r in result.records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    plot_hits(result.records, result.configs, paths["plot"], title=result.dataset)
    paths["report"].write_text(render_markdown(result, calibration, command), encoding="utf-8")
    return paths


def render_beir(result, refs: Sequence[tuple[str, float]] = (), markdown: bool = False) -> str:
    """The BEIR figures per config, with published references (labelled with their split) below."""
    keys = ["ndcg@10", "recall@100", "mrr@10", "docs_per_query", "ms_per_query"]
    rows = [[cfg] + [fmt(result.metrics[cfg].get(k), "_ms" if k == "ms_per_query" else k) for k in keys]
            for cfg in result.configs]
    text = table(rows, ["config", "nDCG@10", "Recall@100", "MRR@10", "docs/query", "ms/query"], markdown)
    head = f"BEIR {result.name}, split {result.split}: {result.meta.get('queries')} queries"
    lines = [head, text]
    lines += [f"reference: {what} = {value:.3f}" for what, value in refs]
    return "\n".join(lines)


def write_beir_report(result, out_dir: Path | str, refs: Sequence[tuple[str, float]] = (), command: str = "") -> dict[str, Path]:
    """Write ``beir-metrics.json``, ``beir-report.md`` and ``beir-runs.jsonl`` (ranked doc ids per query)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "beir-metrics.json", "report": out / "beir-report.md", "runs": out / "beir-runs.jsonl"}
    payload = {"name": result.name, "split": result.split, "configs": result.configs, "metrics": result.metrics,
               "meta": result.meta, "references": [{"what": w, "value": v} for w, v in refs],
               "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    paths["metrics"].write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    with open(paths["runs"], "w", encoding="utf-8") as fh:
        for cfg, ranked in result.runs.items():
            for qid, docs in ranked.items():
                fh.write(json.dumps({"config": cfg, "query_id": qid, "docs": docs[:100]}) + "\n")
    md = "# BEIR retrieval report\n\n" + (f"Command: `{command}`\n\n" if command else "") + \
        render_beir(result, refs, markdown=True).replace("\nreference:", "\n\nreference:") + "\n"
    paths["report"].write_text(md, encoding="utf-8")
    return paths
