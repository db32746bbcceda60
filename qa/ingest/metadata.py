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
    """``YYYY-MM-DD`` from ``2025/05/11``, ``2025-05-11T10:00Z``, ``May 11, 2025`` and the like."""
    if not value:
        return None
    value = str(value).strip()
    m = re.match(r"^((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})", value)
    if m:
        import datetime as dt

        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    return find_date(value)


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
