"""Pooling token vectors into span and sentence vectors (pure numpy, no model)."""
from __future__ import annotations

import numpy as np
import pytest

from qa.embed.pooling import SpanEncoding, pool_spans, sentence_vectors, unit_rows

# "[CLS] The cat sat . Dogs ran [SEP] [PAD]": character offsets of each token in "The cat sat. Dogs ran"
OFFSETS = np.array([[0, 0], [0, 3], [4, 7], [8, 11], [11, 12], [13, 17], [18, 21], [0, 0], [0, 0]])
MASK = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0])
TOKENS = np.arange(9, dtype=np.float32)[:, None] * np.ones((1, 2), dtype=np.float32)  # token i's vector is (i, i)


@pytest.mark.parametrize("spans, sums, counts", [
    ([(0, 12), (13, 21)], [[1 + 2 + 3 + 4] * 2, [5 + 6] * 2], [4, 2]),  # two sentences; [CLS]/[SEP]/pad ignored
    ([(4, 12)], [[2 + 3 + 4] * 2], [3]),                                # tokens before the span ("The") ignored
    ([(13, 17)], [[5, 5]], [1]),                                         # tokens after the span ignored
    ([(12, 13)], [[0, 0]], [0]),                                         # a span no token starts in
    ([], np.zeros((0, 2)), []),
])
def test_pool_spans(spans, sums, counts):
    got_sums, got_counts = pool_spans(TOKENS, OFFSETS, MASK, spans)
    assert got_sums.shape == (len(spans), 2)
    np.testing.assert_allclose(got_sums, np.asarray(sums, dtype=np.float32).reshape(-1, 2))
    assert got_counts.tolist() == counts


def test_padding_is_never_pooled_even_with_real_looking_offsets():
    offsets = OFFSETS.copy()
    offsets[8] = [13, 17]  # a padded position that claims to be "Dogs"
    sums, counts = pool_spans(TOKENS, offsets, MASK, [(13, 21)])
    assert counts.tolist() == [2] and sums[0, 0] == 5 + 6


def _enc(chunk_vecs, span_sums, span_tokens):
    return SpanEncoding(unit_rows(np.asarray(chunk_vecs, np.float32)), np.asarray(span_sums, np.float32),
                        np.asarray(span_tokens, np.int64))


def test_sentence_cut_by_a_chunk_border_is_merged_by_token_count():
    # sentence 0 lies in chunk 0 only; sentence 1 has 3 tokens in chunk 0 and 1 token in chunk 1.
    enc = _enc([[1, 0], [0, 1]], [[2, 0], [0, 3], [1, 0]], [2, 3, 1])
    vecs, counts = sentence_vectors(enc, np.array([0, 0, 1]), np.array([0, 1, 1]), 2, centering=0.0)
    assert counts.tolist() == [2, 4]
    np.testing.assert_allclose(vecs[0], [1, 0])
    np.testing.assert_allclose(vecs[1], unit_rows(np.array([[1 * 1, 3 * 1]], np.float32))[0], rtol=1e-6)


def test_centering_takes_the_chunk_direction_out():
    enc = _enc([[1, 0]], [[3, 1]], [2])
    plain, _ = sentence_vectors(enc, np.array([0]), np.array([0]), 1, centering=0.0)
    centred, _ = sentence_vectors(enc, np.array([0]), np.array([0]), 1, centering=0.5)
    assert centred[0] @ [1, 0] < plain[0] @ [1, 0]  # less like its chunk
    np.testing.assert_allclose(np.linalg.norm(centred, axis=1), 1, rtol=1e-6)


def test_sentence_without_tokens_is_reported_with_a_zero_row():
    enc = _enc([[1, 0]], [[3, 1]], [2])
    vecs, counts = sentence_vectors(enc, np.array([0]), np.array([1]), 3)
    assert counts.tolist() == [0, 2, 0]
    assert not vecs[0].any() and not vecs[2].any() and np.isclose(np.linalg.norm(vecs[1]), 1)


@pytest.mark.parametrize("block", [1, 2, 3, 1000])
def test_block_size_does_not_change_the_result(block):
    rng = np.random.default_rng(0)
    enc = SpanEncoding(unit_rows(rng.standard_normal((4, 8)).astype(np.float32)),
                       rng.standard_normal((9, 8)).astype(np.float32), rng.integers(0, 5, 9))
    span_chunk = np.array([0, 0, 1, 1, 1, 2, 2, 3, 3])
    span_sentence = np.array([0, 1, 1, 2, 3, 3, 4, 4, 5])  # sentences 1, 3 and 4 span two chunks
    whole, counts = sentence_vectors(enc, span_chunk, span_sentence, 6, block=10_000)
    got, got_counts = sentence_vectors(enc, span_chunk, span_sentence, 6, block=block)
    np.testing.assert_allclose(got, whole, atol=1e-6)
    assert (got_counts == counts).all()
