"""HTML for the chat UI's side panels, built from the public answer JSON (:func:`answer_to_dict`).

Every string that comes from an article or from the user goes through :func:`html.escape` here and
nowhere else is HTML built from them, so hostile text (``<script>``, ``<img onerror=...>``,
``javascript:`` links) is shown as text. Nothing here emits a link, an attribute built from data, or
a script.
"""
from __future__ import annotations

import html
from collections.abc import Callable

#: Characters of article text shown either side of a cited sentence that no retrieved passage holds.
CONTEXT_CHARS = 300


def esc(text: object) -> str:
    """``text`` as HTML text: ``& < > " '`` escaped; None becomes the empty string."""
    return "" if text is None else html.escape(str(text), quote=True)


def chat_text(ans: dict) -> str:
    """The chat message for one answer: the templated answer with its ``[n]`` markers, escaped.

    The chatbot is set not to render Markdown, so escaping HTML is all a message needs; an
    abstention is marked so it cannot be mistaken for an answer.
    """
    text = html.escape(str(ans.get("answer") or ""), quote=False)
    if ans.get("abstained"):
        return "Not in the articles. " + text
    return text


def _meta(title: object, source: object, date: object) -> str:
    bits = [f'<span class="qa-title">{esc(title) or "(untitled)"}</span>']
    if source:
        bits.append(f'<span class="qa-outlet">{esc(source)}</span>')
    if date:
        bits.append(f'<span class="qa-date">{esc(date)}</span>')
    return " · ".join(bits)


def _contains(p: dict, c: dict) -> bool:
    return p["doc_id"] == c["doc_id"] and p["start"] <= c["start"] and c["end"] <= p["end"]


def _highlighted(text: str, offset: int, marks: list[tuple[int, int]]) -> str:
    """``text`` (starting at article offset ``offset``) escaped, with the ``marks`` spans in ``<mark>``."""
    out, pos = [], 0
    for start, end in sorted(marks):
        a, b = max(start - offset, pos), min(end - offset, len(text))
        if a >= b:
            continue
        out += [esc(text[pos:a]), '<mark class="qa-cited">', esc(text[a:b]), "</mark>"]
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)


def citation_context(c: dict, passages: list[dict], article_text: Callable[[str], str] | None) -> str:
    """The cited sentence highlighted inside the passage that holds it (or its article's text around it)."""
    for p in passages:
        if _contains(p, c):
            return _highlighted(p["text"], p["start"], [(c["start"], c["end"])])
    if article_text is not None:
        try:
            text = article_text(c["doc_id"])
        except (KeyError, IndexError):
            text = ""
        if text[c["start"]:c["end"]] == c["quote"]:
            lo, hi = max(0, c["start"] - CONTEXT_CHARS), min(len(text), c["end"] + CONTEXT_CHARS)
            return ("…" if lo else "") + _highlighted(text[lo:hi], lo, [(c["start"], c["end"])]) + ("…" if hi < len(text) else "")
    return _highlighted(c["quote"], c["start"], [(c["start"], c["end"])])


def render_sources(ans: dict | None, k: int = 10, article_text: Callable[[str], str] | None = None) -> str:
    """The sources panel: one card per citation, then the uncited passages (of the top ``k``) collapsed.

    Args:
        ans: An answer dict, or None before the first question.
        k: How many retrieved passages to list (default 10).
        article_text: ``doc_id -> cleaned text``, used when no retrieved passage holds a citation.
    """
    if not ans:
        return '<div class="qa-sources qa-empty">Ask a question: the sentences an answer cites show up here.</div>'
    parts = ['<div class="qa-sources">']
    if ans.get("error"):
        parts.append(f'<div class="qa-error">{esc(ans["error"])}</div>')
    passages = ans.get("passages", [])
    if ans.get("abstained"):
        parts.append('<div class="qa-abstained"><strong>Not in the articles.</strong> '
                     "None of the indexed articles answers this question, so nothing is claimed. "
                     "The closest passages are listed below as leads.</div>")
    for c in ans.get("citations", []):
        parts.append(
            f'<div class="qa-citation" data-n="{int(c["n"])}"><div class="qa-meta"><span class="qa-n">[{int(c["n"])}]</span> '
            f'{_meta(c.get("title"), c.get("source"), c.get("date"))}</div>'
            f'<div class="qa-passage">{citation_context(c, passages, article_text)}</div></div>')
    cited = ans.get("citations", [])
    uncited = [p for p in passages[:k] if not any(_contains(p, c) for c in cited)]
    if uncited:
        label = "Closest passages" if ans.get("abstained") else "Retrieved but not cited"
        parts.append(f'<details class="qa-uncited"><summary>{label} ({len(uncited)})</summary>')
        for p in uncited:
            parts.append(f'<div class="qa-passage-card"><div class="qa-meta">#{int(p["rank"])} '
                         f'{_meta(p.get("title"), p.get("source"), p.get("date"))}</div>'
                         f'<div class="qa-passage">{esc(p["text"])}</div></div>')
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def _num(x: object, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def render_why(ans: dict | None, k: int = 10) -> str:
    """The "why these passages" table: fused, dense and BM25 rank and score per passage, and the query run."""
    if not ans:
        return '<div class="qa-why qa-empty">No question yet.</div>'
    cited = ans.get("citations", [])
    rows = []
    for p in ans.get("passages", [])[:k]:
        mark = "✓" if any(_contains(p, c) for c in cited) else ""
        rows.append(
            f"<tr><td>{int(p['rank'])}</td><td>{_num(p.get('score'), '.4f')}</td>"
            f"<td>{_num(p.get('dense_rank'), 'd')}</td><td>{_num(p.get('dense_score'), '.3f')}</td>"
            f"<td>{_num(p.get('bm25_rank'), 'd')}</td><td>{_num(p.get('bm25_score'), '.2f')}</td>"
            f"<td>{mark}</td><td>{esc(p.get('title'))}<br><small>{esc(p.get('chunk_id'))}</small></td></tr>")
    timing = ans.get("timing_ms", {})
    return (
        '<div class="qa-why">'
        f'<p>Question run: <q class="qa-query">{esc(ans.get("query", ans.get("question")))}</q></p>'
        "<table><thead><tr><th>fused rank</th><th>fused score</th><th>dense rank</th><th>dense score</th>"
        "<th>BM25 rank</th><th>BM25 score</th><th>cited</th><th>passage</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p><small>Fused = reciprocal-rank fusion of the dense and BM25 rankings; – = not in that "
        f"retriever's list. Took {_num(timing.get('total'), '.0f')} ms.</small></p></div>")


def render_status(articles: int, outlets: int, passages: int, message: str = "") -> str:
    """One line on what is indexed (and what the last upload did)."""
    line = f"{articles:,} articles from {outlets:,} outlets, {passages:,} passages indexed."
    extra = f" {esc(message)}" if message else ""
    return f'<div class="qa-status" data-ready="1">{line}{extra}</div>'
