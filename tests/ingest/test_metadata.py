"""Article dates normalised from every input format (qa.ingest.metadata)."""
from __future__ import annotations

import json

import pytest

from qa.ingest.corpus import CorpusLoader
from qa.ingest.clean import find_date
from qa.ingest.metadata import merge_metadata, normalize_date


@pytest.mark.parametrize("value,expected", [
    ("2026/01/08", "2026-01-08"),                      # JSONL (news-realtimeqa)
    ("2026-01-08", "2026-01-08"),
    ("2026-1-8", "2026-01-08"),
    ("2026-01-08T23:10:00-05:00", "2026-01-08"),       # ISO 8601: the publisher's own day, not UTC's
    ("2026-01-08T10:00:00Z", "2026-01-08"),
    ("20260108", "2026-01-08"),
    ("Thu, 08 Jan 2026 10:00:00 +0000", "2026-01-08"),  # RFC 2822 (RSS, e-mail)
    ("Thu, 8 Jan 26 10:00:00 GMT", "2026-01-08"),
    ("January 8, 2026", "2026-01-08"),
    ("8 January 2026", "2026-01-08"),
    ("Jan. 8, 2026", "2026-01-08"),
    ("Sept. 3, 2025", "2025-09-03"),
    ("Oct. 14, 2025", "2025-10-14"),                   # after "sept" in the month list: not November
    ("Nov. 2, 2025", "2025-11-02"),
    ("Dec. 3, 2025", "2025-12-03"),
    ("Aug. 28, 2025 Updated Aug. 29, 2025, 4:47 p.m. ET", "2025-08-28"),  # dateline: published, not updated
    ("Updated Oct. 14, 2025, 6:50 p.m. ET", "2025-10-14"),
    ("Thursday the 8th of January 2026", "2026-01-08"),  # dateparser's reading
])
def test_normalize_date_formats(value, expected):
    assert normalize_date(value) == expected


@pytest.mark.parametrize("value", ["", None, "May 2025", "yesterday", "3 days ago", "2026-02-30", "2026/13/01",
                                   "no date here"])
def test_normalize_date_rejects_non_dates(value):
    assert normalize_date(value) is None


def test_first_date_in_text_takes_the_earliest():
    assert find_date("Published Dec. 3, 2025. Updated 2025-12-05.") == "2025-12-03"
    assert find_date("nothing dated") is None


def test_merge_metadata_prefers_declared_then_sidecar_then_text():
    text = "Oct. 14, 2025\n\nThe Senate voted."
    assert merge_metadata({"date": "2026/01/08"}, {"date": "2025-01-01"}, text, None)["date"] == "2026-01-08"
    assert merge_metadata({}, {"date": "Thu, 08 Jan 2026 10:00:00 +0000"}, text, None)["date"] == "2026-01-08"
    assert merge_metadata({}, None, text, None)["date"] == "2025-10-14"


def test_corpus_dates_from_every_format(tmp_path):
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"id": "slash", "title": "Slash", "text": "The council met on the budget.", "date": "2026/01/08"},
        {"id": "rfc", "title": "Rfc", "text": "The court ruled on the appeal.", "date": "Wed, 07 Jan 2026 09:00:00 GMT"},
        {"id": "iso", "title": "Iso", "text": "The team won the final match.", "date": "2026-01-06T22:30:00-08:00"},
    ]) + "\n", encoding="utf-8")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Storm hits coast</title>"
        '<meta property="article:published_time" content="2026-01-05T08:00:00+00:00"></head>'
        "<body><article><h1>Storm hits coast</h1><p>" + "A storm hit the coast on Monday and cut power "
        "to thousands of homes across the region, officials said. " * 4 + "</p></article></body></html>",
        encoding="utf-8")
    (tmp_path / "wire.txt").write_text("Storm update\nDec. 3, 2025, 4:10 p.m. ET\n\nCrews restored power to most "
                                       "homes by the evening, the utility said.\n", encoding="utf-8")
    arts = {a.doc_id: a for a in CorpusLoader().run([tmp_path]).articles}
    assert arts["slash"].date == "2026-01-08"
    assert arts["rfc"].date == "2026-01-07"
    assert arts["iso"].date == "2026-01-06"
    assert arts["page"].date == "2026-01-05"
    assert arts["wire"].date == "2025-12-03"  # from the dateline
