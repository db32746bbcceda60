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


#: Lead-in of a refusal in the chat: one sentence, then the leads (styled apart by the page's script).
REFUSAL = "Not in the articles: nothing in them answers this question."


def leads(ans: dict, n: int = 3) -> list[str]:
    """The titles (and dates) of up to ``n`` distinct articles among ``ans``' passages, best first."""
    out, seen = [], set()
    for p in ans.get("passages", []):
        if p["doc_id"] in seen:
            continue
        seen.add(p["doc_id"])
        title = p.get("title") or "an untitled article"
        out.append(f"“{title}”" + (f" ({p['date']})" if p.get("date") else ""))
        if len(out) == n:
            break
    return out


def chat_text(ans: dict, extra: list[str] | tuple[str, ...] = ()) -> str:
    """The chat message for one answer: the templated answer with its ``[n]`` markers, escaped,
    then ``extra`` lines (notes, the filters it was answered under).

    The chatbot is set not to render Markdown, so escaping HTML is all a message needs. A refusal
    is one sentence (:data:`REFUSAL`) and then the closest articles as leads, never the answer
    text's own "the articles don't say", so it is not said three times.
    """
    if ans.get("error") and not ans.get("passages"):
        text = f"Could not answer: {ans['error']}"
    elif ans.get("abstained"):
        found = leads(ans)
        text = REFUSAL + (f"\nLeads: {', '.join(found)}." if found else "")
    else:
        text = str(ans.get("answer") or "")
    lines = [text, *[str(x) for x in extra if x]]
    return html.escape("\n".join(lines), quote=False)


def answer_notes(ans: dict) -> list[str]:
    """What the API returns beside the answer and the page must show with it: conflict notes,
    "only the first 2,000 characters were searched", the time window read."""
    return [f"Note: {n}" for n in ans.get("notes") or []]


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


def render_sources(ans: dict | None, k: int = 10, article_text: Callable[[str], str] | None = None,
                   turn: int | None = None, filters_note: str = "") -> str:
    """The sources panel: one card per citation, then the uncited passages (of the top ``k``) collapsed.

    Args:
        ans: An answer dict, or None before the first question.
        k: How many retrieved passages to list (default 10).
        article_text: ``doc_id -> cleaned text``, used when no retrieved passage holds a citation.
        turn: The answer's place in the conversation (0 = first), written as ``data-turn`` so the
            page's script knows which answer the cards belong to (a clicked ``[n]`` highlights its card).
        filters_note: What the answer was filtered by (shown above the cards).
    """
    if not ans:
        return '<div class="qa-sources qa-empty">Ask a question: the sentences an answer cites show up here.</div>'
    turn_attr = f' data-turn="{int(turn)}"' if turn is not None else ""
    parts = [f'<div class="qa-sources"{turn_attr}>']
    if filters_note:
        parts.append(f'<div class="qa-filters-note">{esc(filters_note)}</div>')
    if ans.get("error"):
        parts.append(f'<div class="qa-error">{esc(ans["error"])}</div>')
    passages = ans.get("passages", [])[:k]
    if ans.get("abstained"):
        parts.append('<div class="qa-abstained"><strong>Not in the articles.</strong> '
                     "None of the indexed articles answers this question, so nothing is claimed. "
                     "The closest passages are listed below as leads.</div>")
    for c in ans.get("citations", []):
        n = int(c["n"])
        parts.append(
            f'<div class="qa-citation" data-n="{n}" id="qa-cite-{n}" tabindex="-1"><div class="qa-meta">'
            f'<span class="qa-n">[{n}]</span> {_meta(c.get("title"), c.get("source"), c.get("date"))}</div>'
            f'<div class="qa-passage">{citation_context(c, passages, article_text)}</div></div>')
    cited = ans.get("citations", [])
    uncited = [p for p in passages if not any(_contains(p, c) for c in cited)]
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


#: Characters of a passage shown in the "why these passages" list.
SNIPPET_CHARS = 140


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The opening of ``text`` cut at a word boundary, with "…" when cut."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def render_why(ans: dict | None, k: int = 10) -> str:
    """The "why these passages" list: per passage its fused rank, the ``[n]`` of the citations it
    holds, its title and opening words, and its fused, dense and BM25 rank and score; and the query run.

    One narrow table (rank | cited | passage with its scores underneath), so it fits a 390 px
    phone screen without clipped columns; raw chunk ids are not shown.
    """
    if not ans:
        return '<div class="qa-why qa-empty">No question yet.</div>'
    cited = ans.get("citations", [])
    rows = []
    for p in ans.get("passages", [])[:k]:
        ns = [int(c["n"]) for c in cited if _contains(p, c)]
        mark = " ".join(f"[{n}]" for n in ns)
        scores = (f"fused {_num(p.get('score'), '.4f')} · dense #{_num(p.get('dense_rank'), 'd')} "
                  f"{_num(p.get('dense_score'), '.3f')} · BM25 #{_num(p.get('bm25_rank'), 'd')} "
                  f"{_num(p.get('bm25_score'), '.2f')}")
        rows.append(
            f'<tr><td class="qa-rank">{int(p["rank"])}</td><td class="qa-cited-n">{mark}</td>'
            f'<td class="qa-why-passage"><span class="qa-title">{esc(p.get("title"))}</span>'
            f'<div class="qa-snippet">{esc(snippet(p.get("text", "")))}</div>'
            f'<div class="qa-scores">{scores}</div></td></tr>')
    timing = ans.get("timing_ms", {})
    return (
        '<div class="qa-why">'
        f'<p>Question run: <q class="qa-query">{esc(ans.get("query", ans.get("question")))}</q></p>'
        '<table><thead><tr><th>#</th><th>cited</th><th>passage, fused score, dense and BM25 rank and score</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p><small>Fused = reciprocal-rank fusion of the dense and BM25 rankings; – = not in that "
        f"retriever's list. Took {_num(timing.get('total'), '.0f')} ms.</small></p></div>")


def render_status(articles: int, outlets: int, passages: int, message: str = "") -> str:
    """One line on what is indexed (and what the last upload did)."""
    line = f"{articles:,} articles from {outlets:,} outlets, {passages:,} passages indexed."
    extra = f" {esc(message)}" if message else ""
    return f'<div class="qa-status" data-ready="1">{line}{extra}</div>'


def render_library(rows: list[dict]) -> str:
    """The article library: one row per indexed article (title, outlet, date, file name, passages).

    ``rows`` hold ``doc_id``, ``title``, ``source``, ``date``, ``file`` (a file name, never a server
    path), ``passages`` and ``uploaded``. Missing values say so ("no date") so they can be filled in.
    """
    if not rows:
        return '<div class="qa-library qa-empty">No articles are indexed.</div>'
    body = []
    for r in rows:
        missing = '<span class="qa-missing">{}</span>'
        body.append(
            f'<tr data-doc="{esc(r["doc_id"])}"><td class="qa-title">{esc(r.get("title")) or missing.format("no title")}</td>'
            f'<td>{esc(r.get("source")) or missing.format("no outlet")}</td>'
            f'<td>{esc(r.get("date")) or missing.format("no date")}</td>'
            f'<td class="qa-file">{esc(r.get("file"))}{" (uploaded)" if r.get("uploaded") else ""}</td>'
            f'<td class="qa-count">{int(r.get("passages", 0))}</td></tr>')
    return ('<div class="qa-library"><table><thead><tr><th>title</th><th>outlet</th><th>date</th>'
            f'<th>file</th><th>passages</th></tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def render_article(title: object, meta: str, text: str, marks: list[tuple[int, int]]) -> str:
    """A whole article, escaped, with the ``marks`` spans (the current answer's cited sentences) highlighted."""
    return (f'<div class="qa-article"><div class="qa-meta"><span class="qa-title">{esc(title) or "(untitled)"}</span>'
            f' {esc(meta)}</div><div class="qa-article-text">{_highlighted(text, 0, marks)}</div></div>')
