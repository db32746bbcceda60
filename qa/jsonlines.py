"""Read JSON Lines text one record at a time, reporting broken lines instead of raising."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line: its number (from 1), raw text, and either the parsed value or the error."""

    lineno: int
    raw: str
    value: Any = None
    error: str | None = None


def iter_json_lines(text: str) -> Iterator[JsonLine]:
    """Yield every non-blank line of ``text`` parsed as JSON; a broken line carries ``error``."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield JsonLine(lineno, line, json.loads(line))
        except json.JSONDecodeError as exc:
            yield JsonLine(lineno, line, error=f"not valid JSON ({exc.msg})")
