"""Compose a cited answer from the retrieved passages' sentences (first version: best sentence)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.index.store import IndexStore
from qa.types import Answer, Citation, Passage


@dataclass(frozen=True)
class AnswerConfig:
    """Answering knobs.

    Attributes:
        abstain_threshold: Below this support score the answer abstains (default 0.35).
    """

    abstain_threshold: float = 0.35


class Answerer:
    """Pick the best supported sentence among the passages and cite it."""

    def __init__(self, store: IndexStore, config: AnswerConfig | None = None) -> None:
        self.store = store
        self.config = config or AnswerConfig()

    def run(self, question: str, passages: list[Passage], query_vector: np.ndarray | None,
            qid: str = "", query: str | None = None) -> Answer:
        best = None
        for p in passages:
            row = self.store.chunk_row[p.chunk_id]
            for s in self.store.chunk_sentence_rows(row):
                score = float(self.store.data.sentence_vectors[s] @ query_vector) if query_vector is not None else 0.0
                if best is None or score > best[0]:
                    best = (score, s)
        if best is None or best[0] < self.config.abstain_threshold:
            return Answer(id=qid, question=question, answer=f"The articles don't say. ({question})",
                          abstained=True, passages=passages, query=query)
        art, start, end = self.store.sentence(best[1])
        cit = Citation(1, art.doc_id, art.title, art.source, art.date, art.text[start:end], start, end)
        return Answer(id=qid, question=question, answer=f"{cit.quote} [1]", abstained=False,
                      citations=[cit], passages=passages, query=query)
