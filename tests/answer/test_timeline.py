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
    # The seeds have one dated article about the stake (12 May 2025) and an undated one (heise): both
    # are listed, the dated claim first, and each line is about the stake, not about other "changes".
    assert len(lines) >= 2 and len(dated) >= 1 and dated == sorted(dated), ans.answer  # oldest first, newest last
    assert all("stake" in by_n_quote for by_n_quote in (c.quote for c in ans.citations)), ans.answer
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


def _headcount_corpus(tmp_path):
    corpus = tmp_path / "hc"
    corpus.mkdir()
    # written out of date order on purpose; one undated article, one dated article on another topic
    (corpus / "b.txt").write_text("date 2022-07-15 Quillby Foods expanded its Leeds bakery and its headcount rose to 350.")
    (corpus / "a.txt").write_text("date 2021-03-01 Quillby Foods has a headcount of 200 at its Leeds bakery, the firm said.")
    (corpus / "d.txt").write_text("date 2023-05-05 A council report praised the parks of Leeds and their new cafes.")
    (corpus / "c.txt").write_text("date 2024-01-20 After a slump in orders, Quillby Foods cut its headcount to 280.")
    (corpus / "e.txt").write_text("Quillby Foods says its headcount will depend on the new bread contract.")
    return corpus


@pytest.mark.parametrize("question", ["How has the headcount of Quillby Foods changed?",
                                      "Give me a timeline of the Quillby Foods headcount",
                                      "What happened with the Quillby Foods headcount?"])
def test_timeline_questions_list_dated_claims_oldest_first_newest_last(tmp_path, embedder, question):
    import datetime as dt

    from qa.pipeline import QAService

    svc = QAService(index_dir=tmp_path / "ix", corpus=[_headcount_corpus(tmp_path)], progress=False, embedder=embedder)
    ans = svc.ask(question)
    assert not ans.abstained and not ans.answer.startswith("The sources differ"), ans.answer
    assert "timeline: claims listed by article date" in ans.notes
    lines = _dated_lines(ans.answer)
    assert len(lines) == len(ans.answer.split("\n")) - 1, ans.answer  # every line after the heading is a cited claim
    dates = [d for d, _ in lines]
    assert dates[:3] == ["1 March 2021", "15 July 2022", "20 January 2024"], ans.answer  # newest last
    assert "Undated" not in dates[:3] and all(d == "Undated" for d in dates[3:])
    body = ans.answer.split("\n", 1)[1]
    assert body.index("200") < body.index("350") < body.index("280")
    assert "parks" not in ans.answer  # the article on another topic is not a claim about the headcount
    by_n = {c.n: c for c in ans.citations}
    for d, n in lines:  # each line's date is its cited article's date, one line per article
        art = svc.store.article(by_n[n].doc_id)
        assert (art.date is None) == (d == "Undated")
        if art.date:
            assert dt.date.fromisoformat(art.date).strftime("%-d %B %Y") == d
    assert len({c.doc_id for c in ans.citations}) == len(lines)
    check_citations(ans, svc.store)
