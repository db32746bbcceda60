"""Cleaning drops page junk and keeps every story sentence."""
from __future__ import annotations

import re

import pytest

from qa.ingest.clean import clean_text, find_date
from qa.index.store import IndexStore
from tests.conftest import SEEDS

JUNK = ["icon", "Upgrade", "Comments", "Disclaimer", "Related Stories", "Advertisement", "Add a public comment",
        "Open App", "Top Tech Deals", "min. read", "follow us on"]


@pytest.mark.parametrize("junk", JUNK)
def test_no_junk_in_any_chunk(seeds_index, junk):
    store = IndexStore.open(seeds_index)
    for row in range(len(store.data.chunk_ids)):
        text = store.chunk_text(row)
        if junk == "icon":
            assert not re.search(r"(?m)^icon$", text)
        else:
            assert junk not in text, (store.data.chunk_ids[row], junk)


def _story_lines(raw: str) -> list[str]:
    """Long lines of prose: every one of them is story, not junk, in the seeds."""
    return [ln.strip() for ln in raw.splitlines() if len(ln.strip()) > 250 and not ln.startswith("Disclaimer")]


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.stem)
def test_story_paragraphs_kept_verbatim(path):
    raw = path.read_text(encoding="utf-8")
    cleaned = clean_text(raw).text
    lines = _story_lines(raw)
    assert lines
    for ln in lines:
        if ln.startswith("date "):
            ln = ln.split(" ", 2)[2]
        assert ln in cleaned


def test_repeated_widget_lines_and_trailing_blocks():
    raw = ("icon\nicon\nShare\n\nA headline here\n\n" + "Real story sentence number one is here. " * 10 +
           "\n\nAdvertisement\n\nSecond paragraph of the story, with facts.\n\nRelated Stories\nOther headline one\nOther two")
    out = clean_text(raw).text
    assert "icon" not in out and "Share" not in out and "Advertisement" not in out
    assert "Other headline" not in out and "Related Stories" not in out
    assert "Second paragraph of the story, with facts." in out


def test_trailing_heading_early_in_article_is_kept_context():
    # "Comments" near the top is not a trailing block: the story after it must survive.
    raw = "Comments\n\n" + "The mayor said the plan works. " * 20
    assert "The mayor said the plan works." in clean_text(raw).text


@pytest.mark.parametrize("text,expected", [
    ("Sunday, May 11, 2025 10:07 pm ET", "2025-05-11"),
    ("published 2024-02-29", "2024-02-29"),
    ("on 3 March 2023 the", "2023-03-03"),
    ("in May 2025 only", None),
    ("2023-02-30", None),
])
def test_find_date(text, expected):
    assert find_date(text) == expected


def test_dateline_line_sets_date_and_is_dropped():
    res = clean_text("Big headline\n\nWord on the StreetSunday, May 11, 2025 10:07 pm ET\n\nThe story begins here and goes on.")
    assert res.date == "2025-05-11"
    assert "10:07" not in res.text


@pytest.mark.parametrize("text, expected", [
    ("Jan. 5, 2025", "2025-01-05"), ("Sept. 9, 2025", "2025-09-09"), ("Sep 9, 2025", "2025-09-09"),
    ("Oct. 14, 2025", "2025-10-14"), ("November 2, 2025", "2025-11-02"), ("Dec 3, 2025", "2025-12-03"),
    ("3 December 2025", "2025-12-03"),
])
def test_find_date_reads_every_month(text, expected):
    """Every month name maps to its own number ("sept" must not shift October onwards)."""
    assert find_date(f"WASHINGTON, {text} — Officials said") == expected
