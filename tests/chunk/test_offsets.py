"""Every chunk and every sentence points at exactly its text, within the model's token budget."""
from __future__ import annotations

import pytest

from qa.chunk.sentences import split_sentences
from qa.chunk.splitter import TokenChunker
from qa.index.store import IndexStore


def test_index_offsets_exact(seeds_index, embedder):
    store = IndexStore.open(seeds_index)
    d = store.data
    tok = embedder.tokenizer
    for row, cid in enumerate(d.chunk_ids):
        art = store.chunk_article(row)
        start, end = map(int, d.chunk_span[row])
        chunk = art.text[start:end]
        assert 0 <= start < end <= len(art.text)
        assert chunk == chunk.strip() and chunk
        assert len(tok(chunk, add_special_tokens=False)["input_ids"]) <= 128
        sents = list(store.chunk_sentence_rows(row))
        assert sents, cid
        for s in sents:
            sart, ss, se = store.sentence(s)
            assert sart.doc_id == art.doc_id
            assert ss < end and se > start  # sentence overlaps its chunk
    for s in range(len(d.sentences)):
        art, ss, se = store.sentence(s)
        text = art.text[ss:se]
        assert text == text.strip() and text and "\n" not in text


def test_sentences_ordered_disjoint_and_cover_words():
    text = "Mr. Smith paid $1.5 billion. He left at 5 p.m. on Jan. 3!\n\nHeadline without stop\nNext line here? Yes."
    spans = split_sentences(text)
    assert spans == sorted(spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:]))
    joined = " ".join(text[s:e] for s, e in spans)
    assert "".join(joined.split()) == "".join(text.split())
    assert "Headline without stop" in [text[s:e] for s, e in spans]


@pytest.mark.parametrize("chunk_tokens,overlap", [(32, 8), (64, 0), (128, 24)])
def test_chunker_spans_exact_and_bounded(embedder, chunk_tokens, overlap):
    text = ("The committee met on Monday. " * 30 + "\n\n" + "Short line\n" + "Another paragraph follows here, longer. " * 12)
    chunker = TokenChunker(embedder.tokenizer, chunk_tokens, overlap)
    spans = chunker.run(text)
    assert spans
    prev = -1
    for sp in spans:
        piece = text[sp.start:sp.end]
        assert piece and piece == piece.strip()
        assert chunker._length(piece) <= chunk_tokens
        assert sp.start > prev
        prev = sp.start
    covered = set()
    for sp in spans:
        covered.update(range(sp.start, sp.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_chunker_rejects_overlap_not_below_size(embedder):
    with pytest.raises(ValueError, match="overlap_tokens"):
        TokenChunker(embedder.tokenizer, 32, 32)
