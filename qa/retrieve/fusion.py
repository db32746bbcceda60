"""Reciprocal-rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009)."""
from __future__ import annotations

from collections.abc import Sequence

#: The constant from the paper; it damps the weight of the very top ranks.
RRF_K = 60


def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] | None = None) -> dict[int, float]:
    """Fuse ranked lists of ids: ``score(d) = Σ_i w_i / (k + rank_i(d))`` with ranks from 1.

    Args:
        rankings: Each a list of ids, best first.
        k: Damping constant (default 60).
        weights: One weight per ranking (default all 1.0).

    Returns:
        Fused score per id (ids absent from every ranking are absent).
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
    return scores
