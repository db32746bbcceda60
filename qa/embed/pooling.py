"""Sentence vectors pooled from a passage's token vectors, so a build runs the model once per token.

The model already computes a contextual vector for every token of every chunk; the chunk's own
vector is their mean. Mean-pooling only the tokens that fall inside one sentence gives that
sentence a vector in the same space at no extra model cost ("late chunking", Günther et al.,
2024). Embedding each sentence again on its own would run the model over the corpus a second
time: it doubled build time (bench/RESULTS.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: How much of its chunk's vector is taken out of a pooled sentence vector. Measured on
#: eval/qa.jsonl (answer accuracy of all 83 questions at each setting's calibrated abstention
#: threshold): 0 → 0.602, 0.3 → 0.627, 0.5 → 0.639, 0.6 → 0.639, 0.8 → 0.639, 1.0 → 0.578;
#: embedding sentences separately: 0.639. On 300 SciFact claims, agreement of the pooled sentence
#: ranking with the separately embedded one (Spearman) was 0.70 at 0, 0.73 at 0.3 and 0.6.
CONTEXT_CENTERING = 0.5


@dataclass
class SpanEncoding:
    """Text vectors and, from the same forward pass, pooled token vectors of spans in the texts.

    Attributes:
        vectors: ``(n_texts, dim)`` unit vectors, one per text (the model's own pooling).
        span_sums: ``(n_spans, dim)`` sums of the token vectors inside each span, spans of all
            texts in order. Sums, not means, so one sentence cut across two chunks can be merged.
        span_tokens: ``(n_spans,)`` how many tokens each sum holds (0 when the span held none,
            e.g. it fell beyond the model's truncation).
    """

    vectors: np.ndarray
    span_sums: np.ndarray
    span_tokens: np.ndarray


def pool_spans(token_vectors: np.ndarray, offsets: np.ndarray, mask: np.ndarray,
               spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum the vectors of the tokens that start inside each character span.

    Args:
        token_vectors: ``(L, dim)`` one text's token vectors (padding included).
        offsets: ``(L, 2)`` each token's character span in the text; special tokens are (0, 0).
        mask: ``(L,)`` attention mask: 1 for real tokens.
        spans: Sorted, non-overlapping ``(start, end)`` character spans.

    Returns:
        ``(len(spans), dim)`` sums and ``(len(spans),)`` token counts.
    """
    dim = token_vectors.shape[1]
    sums = np.zeros((len(spans), dim), dtype=np.float32)
    if not spans:
        return sums, np.zeros(0, dtype=np.int64)
    real = np.flatnonzero(mask.astype(bool) & (offsets[:, 1] > offsets[:, 0]))
    pos = offsets[real, 0]
    starts = np.fromiter((s for s, _ in spans), dtype=np.int64, count=len(spans))
    ends = np.fromiter((e for _, e in spans), dtype=np.int64, count=len(spans))
    j = np.searchsorted(starts, pos, side="right") - 1
    inside = (j >= 0) & (pos < ends[np.maximum(j, 0)])
    rows, j = real[inside], j[inside]
    _add_by_group(sums, token_vectors[rows], j)
    return sums, np.bincount(j, minlength=len(spans)).astype(np.int64)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0).astype(np.float32)


def sentence_vectors(enc: SpanEncoding, span_chunk: np.ndarray, span_sentence: np.ndarray,
                     n_sentences: int, centering: float = CONTEXT_CENTERING,
                     block: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """Merge pooled spans into one unit vector per sentence.

    Args:
        enc: The encoding of the chunks with the sentences' spans.
        span_chunk: For each span, the row of its chunk in ``enc.vectors``.
        span_sentence: For each span, the sentence it belongs to (``0 .. n_sentences - 1``).
        n_sentences: How many sentences there are.
        centering: Share of the chunk vector taken out of each span's mean (default
            :data:`CONTEXT_CENTERING`).
        block: Spans handled at a time (default 65,536); the result does not depend on it.

    Returns:
        ``(n_sentences, dim)`` unit vectors, and each sentence's token count: a sentence with 0
        tokens got no vector (a zero row) and must be embedded some other way.
    """
    sums = np.zeros((n_sentences, enc.vectors.shape[1]), dtype=np.float32)
    # In blocks, so the temporaries stay small next to the corpus's span sums (news-realtimeqa has
    # 260k spans: each whole-array temporary would be another 400 MB).
    for lo in range(0, len(span_sentence), block):
        sl = slice(lo, lo + block)
        tokens = enc.span_tokens[sl]
        parts = unit_rows(enc.span_sums[sl] / np.maximum(tokens, 1)[:, None])
        parts -= centering * enc.vectors[span_chunk[sl]]
        parts *= tokens[:, None]
        _add_by_group(sums, parts, span_sentence[sl])
    counts = np.bincount(span_sentence, weights=enc.span_tokens, minlength=n_sentences).astype(np.int64)
    return unit_rows(sums), counts


def _add_by_group(out: np.ndarray, values: np.ndarray, groups: np.ndarray) -> None:
    """``out[g] += values[i]`` for every ``i`` with ``groups[i] == g`` (``np.add.at`` is an order of
    magnitude slower)."""
    if len(groups) == 0:
        return
    order = np.argsort(groups, kind="stable")  # already sorted for one chunk's tokens: linear
    g = groups[order]
    first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    out[g[first]] += np.add.reduceat(values[order], first, axis=0)
