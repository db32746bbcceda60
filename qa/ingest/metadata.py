"""Title, date and outlet for each article, from the best source available.

Order of preference: what the file itself declares (JSONL fields, HTML metadata), then a sidecar
``metadata.json`` in the corpus root, then what the text says (a ``date YYYY-MM-DD`` header, a
dateline, a headline as first line).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from qa.ingest.clean import find_date
from qa.ingest.readers import IngestIssue

SIDECAR_NAME = "metadata.json"
_FIELDS = ("title", "date", "source", "url")


def load_sidecar(root: Path, issues: list[IngestIssue]) -> dict[str, dict]:
    """Read ``<root>/metadata.json``: ``{"<doc_id>": {"title", "date", "source", "url"}}``.

    Unknown keys are ignored; a broken sidecar is reported and ignored.
    """
    path = root / SIDECAR_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # Windows editors write a BOM
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        issues.append(IngestIssue(str(path), f"sidecar metadata unreadable ({exc}); ignored"))
        return {}
    if not isinstance(data, dict):
        issues.append(IngestIssue(str(path), "sidecar metadata must be a JSON object keyed by doc_id; ignored"))
        return {}
    return {str(k): {f: v.get(f) for f in _FIELDS} for k, v in data.items() if isinstance(v, dict)}


def normalize_date(value: str | None) -> str | None:
    """The calendar date a metadata value names, as ``YYYY-MM-DD``; None when it names none.

    Every format articles arrive with: JSONL ``2025/05/11``, ISO 8601 (``2025-05-11``,
    ``2025-05-11T23:10:00-05:00``: the date as the publisher wrote it, not moved to UTC), RFC 2822
    (``Sun, 11 May 2025 10:00:00 +0000``, RSS and e-mail), written dates (``May 11, 2025``,
    ``11 May 2025``, ``Sept. 3, 2025``, also at the head of a dateline such as ``Aug. 28, 2025
    Updated Aug. 29, 2025, 4:47 p.m. ET``: the first date, when the article was published), and
    anything else dateparser reads as a whole day, month and year. Month-and-year alone, an
    impossible day (``2025-02-30``) and relative words ("yesterday": relative to what?) are not dates.
    """
    if not value:
        return None
    value = str(value).strip()
    if not value:
        return None
    import datetime as dt

    m = re.match(r"^((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])", value)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    m = re.fullmatch(r"((?:19|20)\d\d)(\d\d)(\d\d)", value)  # 20250511 (compact ISO)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    if not re.search(r"\d", value):
        return None
    found = find_date(value)  # written dates, and the day of an RFC 2822 stamp ("Sun, 11 May 2025 …")
    if found is not None or len(value) > 64:
        return found
    if re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d\d", value):
        from email.utils import parsedate_to_datetime

        try:  # RFC 2822 the stdlib way (two-digit years and all)
            return parsedate_to_datetime(value).date().isoformat()
        except (TypeError, ValueError, IndexError):
            pass
    return _dateparser_day(value)


def _dateparser_day(value: str) -> str | None:
    """dateparser's reading of a short value, when it names a whole day, month and year (absolute
    dates only: "3 days ago" in metadata says nothing about when the article appeared)."""
    if not re.search(r"(?:19|20)\d\d", value):
        return None
    import dateparser

    try:
        when = dateparser.parse(value, languages=["en"], settings={
            "STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"],
            "PARSERS": ["timestamp", "custom-formats", "absolute-time"], "DATE_ORDER": "DMY"
            if re.match(r"^\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d$", value) else "MDY"})
    except Exception:  # dateparser raises assorted errors on odd input
        return None
    return when.date().isoformat() if when is not None else None


def headline(text: str) -> str | None:
    """The first line, when it reads as a headline: short, and not ending like a sentence."""
    first = text.lstrip().split("\n", 1)[0].strip()
    if not first or len(first) > 160 or len(first.split()) > 22:
        return None
    if first.endswith((".", ",", ";", ":")):
        return None
    return first


def fallback_title(text: str, limit: int = 80) -> str:
    """Opening words of the text, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def merge_metadata(declared: dict, sidecar: dict | None, cleaned_text: str, header_date: str | None) -> dict:
    """Combine the sources of metadata into ``title``, ``date``, ``source``, ``url``."""
    side = sidecar or {}
    title = declared.get("title") or side.get("title") or headline(cleaned_text) or fallback_title(cleaned_text)
    date = normalize_date(declared.get("date")) or normalize_date(side.get("date")) or header_date
    if date is None:
        date = find_date(cleaned_text[:300])
    return {
        "title": " ".join(str(title).split()),
        "date": date,
        "source": declared.get("source") or side.get("source") or None,
        "url": declared.get("url") or side.get("url") or None,
    }
