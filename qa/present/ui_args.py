"""Checks on what the page and the ``/ask`` API are given, before anything is searched.

A program calling ``/ask`` can send any JSON: ``k=[1]``, ``date_to=12345``, ``outlets="AInvest"``,
``question=None``, ``date_from="2025-13-45"``. Each is refused with an :class:`ArgumentError` that
names the argument and says what is accepted, instead of a traceback in the server log, a filter
that silently matches nothing, or a string searched letter by letter.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: Longest question accepted (characters). The pipeline searches the first 2,000 and says so; this
#: only stops megabyte payloads (feedback records are capped separately, :mod:`qa.present.ui_feedback`).
MAX_QUESTION_INPUT = 100_000
#: Earlier turns accepted in ``history`` (the oldest beyond this are dropped: a follow-up only
#: looks at the last few).
MAX_HISTORY_TURNS = 20
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ArgumentError(ValueError):
    """A refused argument; ``argument`` is its name (``"date_from"``), the message says why."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def check_question(value: object, name: str = "question") -> str:
    """A question string of at most :data:`MAX_QUESTION_INPUT` characters (an empty one is
    answered "Please ask a question" by the pipeline, with ``error: "empty question"``)."""
    if not isinstance(value, str):
        raise ArgumentError(name, f"must be a string, got {type(value).__name__} {_show(value)}")
    if len(value) > MAX_QUESTION_INPUT:
        raise ArgumentError(name, f"is {len(value):,} characters long; the limit is {MAX_QUESTION_INPUT:,}")
    return value


def check_date(value: object, name: str) -> str | None:
    """``YYYY-MM-DD`` naming a real day, or None for None / an empty string."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArgumentError(name, f"must be a date string YYYY-MM-DD, got {type(value).__name__} {_show(value)}")
    text = value.strip()
    if not text:
        return None
    if not _DATE.fullmatch(text):
        raise ArgumentError(name, f"{_show(text)} is not a date: use YYYY-MM-DD, e.g. 2025-08-01")
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentError(name, f"{_show(text)} is not a real day (YYYY-MM-DD)") from None
    return text


def check_outlets(value: object, known: list[str] | None = None, name: str = "outlets") -> list[str]:
    """A list of outlet names (None: all outlets). With ``known``, each must be one of them
    (compared without case), so a typo does not silently filter out every article."""
    if value is None:
        return []
    if isinstance(value, str):
        raise ArgumentError(name, f"must be a list of outlet names, got the string {_show(value)}; "
                                  f"send [{_show(value)}] for one outlet")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ArgumentError(name, f"must be a list of outlet names (strings), got {_show(value)}")
    out = [v.strip() for v in value if v.strip()]
    if known is not None:
        lower = {k.lower() for k in known}
        unknown = [v for v in out if v.lower() not in lower]
        if unknown:
            shown = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
            raise ArgumentError(name, f"no indexed outlet is called {', '.join(map(_show, unknown))} "
                                      f"(indexed: {shown or 'none'})")
    return out


def check_k(value: object, default: int, largest: int, name: str = "k") -> int:
    """A whole number of passages from 1 to ``largest`` (None: ``default``); ``5.0`` counts as 5."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ArgumentError(name, f"must be a whole number from 1 to {largest}, got {_show(value)}")
    k = int(value)
    if not 1 <= k <= largest:
        raise ArgumentError(name, f"must be from 1 to {largest}, got {k}")
    return k


def check_history(value: object, name: str = "history") -> list[str | dict]:
    """Earlier turns, oldest first: question strings or ``{"question", "query", "entity"}`` dicts
    of strings; only the last :data:`MAX_HISTORY_TURNS` are kept."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(name, f"must be a list of earlier questions, got {type(value).__name__} {_show(value)}")
    out: list[str | dict] = []
    for i, turn in enumerate(value):
        if isinstance(turn, str):
            out.append(turn[:MAX_QUESTION_INPUT])
        elif isinstance(turn, dict) and all(v is None or isinstance(v, str) for v in turn.values()) \
                and isinstance(turn.get("question"), str):
            out.append({k: (turn.get(k) or None) and str(turn[k])[:MAX_QUESTION_INPUT]
                        for k in ("question", "query", "entity")})
        else:
            raise ArgumentError(name, f"item {i} must be a question string or a dict with a "
                                      f"'question' string, got {_show(turn)}")
    return out[-MAX_HISTORY_TURNS:]


@dataclass(frozen=True)
class DateWindow:
    """A checked date range and as-of day (all ``YYYY-MM-DD`` or None)."""

    date_from: str | None
    date_to: str | None
    as_of: str | None = None


def check_window(date_from: object, date_to: object, as_of: object = None) -> DateWindow:
    """Both bounds checked, and refused when reversed (From after To)."""
    lo, hi = check_date(date_from, "date_from"), check_date(date_to, "date_to")
    if lo and hi and lo > hi:
        raise ArgumentError("date_from", f"{lo} is after date_to {hi}: swap them")
    return DateWindow(lo, hi, check_date(as_of, "as_of"))
