"""The chunker's fast token counting (by the article's own tokens) is exact, whatever state the
model's tokenizer is in."""
from __future__ import annotations

import random

import pytest

from qa.chunk.splitter import TokenChunker

WORDS = ["the", "Microsoft", "OpenAI", "invested", "$13bn", "naïve", "café", "co-operation", "U.S.", "AI's",
         "supercalifragilisticexpialidocious", "东京", "—", "(2019)", "e-mail", "x" * 120, "don't", "“quoted”"]


def _article(seed: int) -> str:
    rng = random.Random(seed)
    paras = []
    for _ in range(rng.randint(3, 8)):
        sents = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40))) + rng.choice([".", "!", "?", ";"])
                 for _ in range(rng.randint(1, 9))]
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


@pytest.mark.parametrize("seed", range(6))
def test_every_count_the_splitter_asks_for_is_exact(embedder, seed):
    chunker = TokenChunker(embedder.tokenizer, chunk_tokens=48, overlap_tokens=8)
    asked: list[tuple[str, int]] = []
    inner = chunker._splitter._length_function

    def spy(piece: str) -> int:
        n = inner(piece)
        asked.append((piece, n))
        return n

    chunker._splitter._length_function = spy
    text = _article(seed)
    spans = chunker.run(text)
    assert spans and asked
    assert [(p, n) for p, n in asked if n != chunker._count(p)] == []


def test_chunks_do_not_depend_on_the_tokenizers_padding_and_truncation_state(embedder):
    text = _article(99) * 3
    before = TokenChunker(embedder.tokenizer, 64, 12).run(text)
    embedder.encode(["a short text", "a much longer text " * 200])  # leaves truncation and padding set
    after = TokenChunker(embedder.model.tokenizer, 64, 12).run(text)
    assert before == after
