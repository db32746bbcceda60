"""Sentence boundaries with character offsets, from ``sentencex`` (Wikimedia's rule-based splitter).

A sentence never crosses a line break: in cleaned news text every line is a paragraph, headline or
list item, and a headline without a full stop must not swallow the paragraph after it.
"""
from __future__ import annotations

import re

import sentencex

_HAS_WORD = re.compile(r"\w")


def split_sentences(text: str, language: str = "en") -> list[tuple[int, int]]:
    """Split ``text`` into sentences.

    Args:
        text: Cleaned article text.
        language: ISO 639-1 code for sentencex's abbreviation rules (default ``"en"``).

    Returns:
        ``(start, end)`` offsets, trimmed of surrounding white space, in order; spans without any
        word character are dropped.
    """
    spans: list[tuple[int, int]] = []
    for b in sentencex.get_sentence_boundaries(language, text):
        start, end = b["start_index"], b["end_index"]
        if b.get("is_paragraph_break"):
            continue
        line_start = start
        while True:
            nl = text.find("\n", line_start, end)
            piece_end = end if nl == -1 else nl
            _append_trimmed(text, line_start, piece_end, spans)
            if nl == -1:
                break
            line_start = nl + 1
    return spans


def _append_trimmed(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and _HAS_WORD.search(text, start, end):
        out.append((start, end))
