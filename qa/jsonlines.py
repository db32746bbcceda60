"""Read JSON Lines text one record at a time, reporting broken lines instead of raising."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qa.textio import split_records


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line: its number (from 1), raw text, and either the parsed value or the error."""

    lineno: int
    raw: str
    value: Any = None
    error: str | None = None


def iter_json_lines(text: str) -> Iterator[JsonLine]:
    """Yield every non-blank line of ``text`` parsed as JSON; a broken line carries ``error``.

    Lines end at ``\n``, ``\r\n`` or ``\r`` only (:func:`qa.textio.split_records`): U+2028 or
    U+0085 inside a JSON string is part of the record, not a line break. A byte-order mark left at
    the start (text read with ``encoding="utf-8"``) is dropped, so the first record is kept.
    """
    text = text[1:] if text.startswith("\ufeff") else text
    for lineno, line in enumerate(split_records(text), start=1):
        if not line.strip():
            continue
        try:
            yield JsonLine(lineno, line, json.loads(line))
        except json.JSONDecodeError as exc:
            yield JsonLine(lineno, line, error=f"not valid JSON ({exc.msg})")
