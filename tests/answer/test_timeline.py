"""Timelines: "How has X changed?" and values that moved between dated articles, as dated cited lists."""
from __future__ import annotations

import re

import pytest

from qa.answer.timeline import wants_timeline, subject_of
from tests.answer.test_answerer import MARKER, check_citations

_LINE = re.compile(r"^- (\d{1,2} \w+ \d{4}|Undated), .*\[(\d+)\]$")


@pytest.mark.parametrize("question,expect", [
    ("How has Microsoft's stake in OpenAI changed?", True),
    ("How have house prices evolved since 2020?", True),
    ("Give me a timeline of the merger talks", True),
    ("What happened with the strike?", True),
    ("How much has Microsoft invested?", False),
    ("Who is the CEO?", False),
    ("How does the deal work?", False),
])
def test_wants_timeline(question, expect):
    assert wants_timeline(question) is expect


def test_subject_of():
    assert subject_of("How has Microsoft's stake in OpenAI changed?") == "Microsoft's stake in OpenAI"
    assert subject_of("timeline of the merger talks") == "the merger talks"


def _dated_lines(answer: str) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in map(_LINE.match, answer.split("\n")[1:]) if m]


def test_stake_timeline_on_the_seeds_lists_dated_claims_in_order(service):
    import datetime as dt

    ans = service.ask("How has Microsoft's stake in OpenAI changed?")
    assert not ans.abstained and not ans.answer.startswith("The sources differ"), ans.answer
    lines = _dated_lines(ans.answer)
    assert len(lines) == len(ans.answer.split("\n")) - 1, ans.answer  # every claim line is dated (or "Undated") and cited
    dated = [dt.datetime.strptime(d, "%d %B %Y").date() for d, _ in lines if d != "Undated"]
    assert len(dated) >= 2 and dated == sorted(dated), ans.answer  # oldest first, newest last
    undated_at = [i for i, (d, _) in enumerate(lines) if d == "Undated"]
    assert all(i >= len(dated) for i in undated_at)  # undated claims come after the dated sequence
    by_n = {c.n: c for c in ans.citations}
    for d, n in lines:  # each line's date is its cited article's date
        art = service.store.article(by_n[n].doc_id)
        assert (art.date is None) == (d == "Undated")
    assert any("stake" in c.quote for c in ans.citations)
    assert len({c.doc_id for c in ans.citations}) == len(lines)  # one line per article
    check_citations(ans, service.store)


def test_values_from_far_apart_dates_are_a_sequence_not_a_disagreement(tmp_path, embedder):
    from qa.pipeline import QAService

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("date 2021-02-01 Zorbix Ltd is valued at $2 billion after its first funding round.")
    (corpus / "b.txt").write_text("date 2024-09-15 Zorbix Ltd is now valued at $9 billion, investors said.")
    (corpus / "c.txt").write_text("date 2022-06-20 Zorbix Ltd is valued at $5 billion in a new deal.")
    svc = QAService(index_dir=tmp_path / "ix", corpus=[corpus], progress=False, embedder=embedder)
    ans = svc.ask("What is Zorbix Ltd valued at?")
    assert not ans.answer.startswith("The sources differ"), ans.answer
    assert ans.answer.index("$2 billion") < ans.answer.index("$5 billion") < ans.answer.index("$9 billion")
    assert [d for d, _ in _dated_lines(ans.answer)] == ["1 February 2021", "20 June 2022", "15 September 2024"]
    assert len(MARKER.findall(ans.answer)) >= 3
    check_citations(ans, svc.store)
