"""One pathological article cannot make a build take many minutes (issue 17, point 2).

5 MB of letters and digits without a space used to be cut character by character into ~50,000
chunks of ~100 characters. Such a run is encoded data and is dropped as a junk line; text that
still splits into too many chunks stops at ``max_chunks``; a short article is one chunk without
going through the splitter at all.
"""
from __future__ import annotations

import random
import string

from qa.chunk.splitter import MAX_CHUNKS, TokenChunker
from qa.ingest.clean import MAX_WORD_CHARS, clean_text


def _blob(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def test_word_without_separators_is_dropped_as_a_line_and_the_story_kept():
    story = ["Shares rose 5% on Monday.", "The council approved the budget."]
    out = clean_text("\n".join([story[0], _blob(MAX_WORD_CHARS * 3), story[1]])).text
    assert out.split("\n") == story


def test_long_line_of_real_words_or_cjk_is_kept():
    words = " ".join(["harbour"] * 2000) + "."
    cjk = "東京の市場で株価が上昇した。" * 400  # no spaces at all, but not ASCII: a real script
    out = clean_text(words + "\n" + cjk).text
    assert out == words + "\n" + cjk


def test_chunks_per_article_are_capped(embedder):
    ch = TokenChunker(embedder.tokenizer, 128, 24, max_chunks=300)
    rng = random.Random(1)
    # No separator and one token per character (CJK): ~1,900 chunks without the cap.
    text = "".join(rng.choice("市場株価上昇東京経済政府銀行") for _ in range(200_000))
    spans = ch.run(text)
    assert len(spans) == 300 and ch.truncated
    assert all(a.start < b.start and a.end <= b.end for a, b in zip(spans, spans[1:]))
    assert spans[0].start == 0 and all(text[s.start:s.end] == text[s.start:s.end].strip() for s in spans)


def test_default_cap_and_an_ordinary_article_is_not_truncated(embedder):
    assert 1000 <= MAX_CHUNKS <= 5000
    ch = TokenChunker(embedder.tokenizer, 128, 24)
    text = "\n\n".join(f"Paragraph {i} says the market rose again, as traders had expected." for i in range(300))
    spans = ch.run(text)
    assert not ch.truncated and spans[-1].end == len(text)


def test_long_article_is_split_in_blocks_without_a_gap(embedder):
    """Past BLOCK_CHARS the article is chunked block by block: still no word left out."""
    rng = random.Random(2)
    words = "council budget harbour strike talks minister vote river bridge school".split()
    text = "\n\n".join(" ".join(rng.choice(words) for _ in range(40)) + "." for _ in range(800))  # ~250 KB
    ch = TokenChunker(embedder.tokenizer, 128, 24)
    spans = ch.run(text)
    covered = bytearray(len(text))
    for s in spans:
        assert text[s.start:s.end].strip() == text[s.start:s.end]
        covered[s.start:s.end] = b"\1" * (s.end - s.start)
    assert all(c.isspace() for c, cov in zip(text, covered) if not cov)
    assert not ch.truncated


def test_short_article_is_one_chunk(embedder):
    ch = TokenChunker(embedder.tokenizer, 128, 24)
    text = "  Microsoft invested $13 billion in OpenAI, the company said.\n"
    (span,) = ch.run(text)
    assert text[span.start:span.end] == text.strip()
