"""Property-based tests: cleaning, sentence splitting, chunking and answering never crash on
arbitrary text, and every offset they produce is exact."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunk.sentences import split_sentences
from qa.chunk.splitter import TokenChunker
from qa.ingest.clean import _DATE_LINE, clean_text

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JUNK = ["Advertisement", "Share this article", "Related Stories", "4 min read", "Image: Reuters", "News /",
        "date 2024-01-02", "", "   ", "Click here to subscribe now", "Comments", "(ab)", "---", "Related",
        "Follow us on Twitter for more", "Sunday, May 11, 2025 10:07 pm ET", "Copyright 2025 Example"]
PROSE = st.from_regex(r"[A-Z][a-z]{1,8}( [a-z]{1,8}){2,14}( [A-Z][a-z]+\.?)?[.!?]( \"?[A-Z][a-z]+ [a-z]+\.)?",
                      fullmatch=True)
LINE = st.one_of(st.text(max_size=80), st.sampled_from(JUNK), PROSE)
ARTICLE = st.lists(st.tuples(LINE, st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\n \n\n", " "])),
                   max_size=25).map(lambda xs: "".join(a + b for a, b in xs))
TEXT = st.one_of(ARTICLE, st.text(max_size=400))


@FUZZ
@given(raw=TEXT)
def test_clean_text_keeps_only_whole_input_lines_in_order(raw):
    res = clean_text(raw)
    norm = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    m = _DATE_LINE.match(norm)
    if m:  # the documented exception: a leading "date YYYY-MM-DD" header is metadata, not text
        assert res.date == m.group(1)
        norm = norm[m.end():]
    source = iter(ln.strip() for ln in norm.split("\n"))
    for kept in res.text.split("\n"):
        if kept:
            assert any(kept == ln for ln in source), f"{kept!r} is not a later line of the input"
    assert "\n\n\n" not in res.text and res.text == res.text.strip()


@FUZZ
@given(text=TEXT)
def test_split_sentences_offsets(text):
    prev_end = 0
    spans = split_sentences(text)
    for start, end in spans:
        assert prev_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and "\n" not in piece and re.search(r"\w", piece)
        prev_end = end


@pytest.fixture(scope="module")
def chunker(embedder):
    # a small budget, so that short generated texts are cut into several chunks
    return TokenChunker(embedder.tokenizer, chunk_tokens=16, overlap_tokens=4)


@FUZZ
@given(text=TEXT)
def test_token_chunker_offsets(chunker, text):
    spans = chunker.run(text)
    assert [text[s.start:s.end] for s in spans] == chunker._splitter.split_text(text)  # none lost, all exact
    covered = [False] * len(text)
    for prev, cur in zip([None] + spans, spans):
        assert 0 <= cur.start < cur.end <= len(text)
        if prev is not None:
            assert prev.start < cur.start and prev.end <= cur.end
        assert chunker._length(text[cur.start:cur.end]) <= 16
        covered[cur.start:cur.end] = [True] * (cur.end - cur.start)
    assert all(c or ch.isspace() for c, ch in zip(covered, text)), "text outside every chunk"


QUESTIONS = ["How much has Microsoft invested in OpenAI?", "Who is OpenAI's CEO?", "What is the AGI clause?",
             "[1] what [2]", "<script>alert(1)</script>", "¿Qué? 微软 💰"]
QUESTION = st.one_of(
    st.text(max_size=300),
    st.sampled_from(QUESTIONS),
    st.tuples(st.sampled_from(QUESTIONS), st.text(max_size=40)).map(lambda t: t[0] + " " + t[1]),
)


ANSWER_FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ANSWER_FUZZ
@given(question=QUESTION)
def test_answers_are_always_resolvable(service, question):
    ans = service.ask(question)
    assert isinstance(ans.answer, str) and ans.answer
    store = service.store
    assert [c.n for c in ans.citations] == list(range(1, len(ans.citations) + 1))
    for c in ans.citations:
        assert c.quote and c.quote == store.article(c.doc_id).text[c.start:c.end]
    for p in ans.passages:
        assert p.text == store.article(p.doc_id).text[p.start:p.end]


@ANSWER_FUZZ
@given(question=QUESTION)
def test_every_answer_marker_has_a_citation(service, question):
    ans = service.ask(question)
    cited = {c.n for c in ans.citations}
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", ans.answer)}
    assert markers <= cited, f"markers {sorted(markers - cited)} have no citation in {ans.answer[:300]!r}"
