"""Render ``report.json`` as Markdown: a targets table first, then every section's figures."""
from __future__ import annotations

import json


def _get(d: dict, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def _row(name: str, value, target: str, ok) -> str:
    v = "—" if value is None else (f"{value:,.3g}" if isinstance(value, float) else str(value))
    verdict = "n/a" if ok is None else ("met" if ok else "**missed**")
    return f"| {name} | {v} | {target} | {verdict} |"


def _cmp(value, fn):
    return None if value is None else bool(fn(value))


def targets(report: dict) -> list[str]:
    s = report.get("sections", {})
    f = {k: v.get("figures", {}) for k, v in s.items()}
    rows = ["| figure | measured | target | |", "| --- | --- | --- | --- |"]
    for corpus in ("news-bbc", "news-realtimeqa", "seeds"):
        r = _get(f, "build", corpus, "ratio_build_vs_raw_all")
        if r is not None:
            rows.append(_row(f"build {corpus}: build time / raw encode of the texts it embedded", r, "≤ 1.15×",
                             _cmp(r, lambda x: x <= 1.15)))
            rc = _get(f, "build", corpus, "ratio_build_vs_raw_chunks")
            rows.append(_row(f"build {corpus}: build time / raw encode of the chunk texts", rc, "≤ 1.15×",
                             _cmp(rc, lambda x: x <= 1.15)))
            fp = _get(f, "build", corpus, "ratio_raw_float32_over_precision")
            if fp is not None:
                rows.append(_row(f"build {corpus}: raw float32 encode / raw encode in qa's precision (the precision's gain)",
                                 fp, "(information)", None))
    u = _get(f, "incremental", "unchanged", "wall_s")
    rows.append(_row(f"unchanged re-index ({_get(f, 'incremental', 'corpus', default='?')}), s", u, "< 2 s", _cmp(u, lambda x: x < 2)))
    for name, limit in (("seeds", 30), ("bbc+realtimeqa", 60)):
        lat = _get(f, "query", name, "latency", "total")
        if lat:
            rows.append(_row(f"warm query p50, {name}, ms", lat["p50"], f"< {limit} ms", lat["p50"] < limit))
            rows.append(_row(f"warm query p95 / p50, {name}", round(lat["p95"] / lat["p50"], 2), "< 2×", lat["p95"] < 2 * lat["p50"]))
    b = _get(f, "query", "seeds", "batch")
    if b:
        rows.append(_row(f"batch of {b['questions']} questions on seeds, s", b["wall_s"], "< 15 s (1,000 questions)",
                         b["wall_s"] < 15 if b["questions"] >= 1000 else None))
    c = _get(f, "cold", "ratio_qa_ask_vs_import_st")
    rows.append(_row("cold `qa ask` / `import sentence_transformers`", c, "≤ 1.5×", _cmp(c, lambda x: x <= 1.5)))
    lq = _get(f, "langchain", "news", "ratio_query_p50_langchain_over_qa_ask")
    rows.append(_row("LangChain query p50 / qa `ask` p50 (whole answer)", lq, "> 1 (qa faster)", _cmp(lq, lambda x: x > 1)))
    lr = _get(f, "langchain", "news", "ratio_query_p50_langchain_over_qa_retrieve")
    rows.append(_row("LangChain query p50 / qa retrieval p50", lr, "> 1 (qa faster)", _cmp(lr, lambda x: x > 1)))
    lo = _get(f, "langchain", "news", "ratio_query_p50_langchain_own_process_over_qa_ask")
    rows.append(_row("LangChain query p50 in its own process (no qa settings) / qa `ask` p50", lo, "> 1 (qa faster)",
                     _cmp(lo, lambda x: x > 1)))
    lb = _get(f, "langchain", "news", "ratio_build_langchain_over_qa")
    rows.append(_row("LangChain build time / qa build time", lb, "≥ 1 (qa no slower)", _cmp(lb, lambda x: x >= 1)))
    nd = _get(f, "langchain", "scifact", "ratio_ndcg_qa_over_langchain")
    rows.append(_row(f"SciFact nDCG@10 qa / LangChain ({_get(f, 'langchain', 'scifact', 'qa_ndcg10')} vs "
                     f"{_get(f, 'langchain', 'scifact', 'langchain_ndcg10')})", nd, "> 1 (qa higher)", _cmp(nd, lambda x: x > 1)))
    return rows


def _flat(prefix: str, d, out: list[str]) -> None:
    if isinstance(d, dict):
        for k, v in d.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out.append(f"| {prefix} | {json.dumps(d) if isinstance(d, (list, tuple)) else d} |")


def render(report: dict) -> str:
    env = report.get("environment", {})
    lines = ["# qa benchmark report", "",
             f"Mode: **{report.get('mode')}**; started {env.get('started')}; Python {env.get('python')}, "
             f"{env.get('cpus')} CPUs; load average at start {env.get('load_avg_at_start')}, at end "
             f"{env.get('load_avg_at_end')} (a load above the CPU count means other processes shared the CPUs, "
             "and times are inflated). qa's model precision: "
             f"**{env.get('precision', 'float32')}** (native bfloat16 on this CPU: {env.get('native_bfloat16')}); "
             "LangChain runs in its default float32.", "", "## Targets", ""]
    lines += targets(report)
    for name, sec in report.get("sections", {}).items():
        lines += ["", f"## {name} ({sec.get('seconds')} s)", ""]
        if sec.get("error"):
            lines.append(f"**error:** {sec['error']}")
        lines += [f"- {n}" for n in sec.get("notes", [])]
        rows: list[str] = []
        _flat("", sec.get("figures", {}), rows)
        if rows:
            lines += ["| key | value |", "| --- | --- |"] + rows
    return "\n".join(lines) + "\n"
