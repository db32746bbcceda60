"""BM25 over chunk texts with ``bm25s``: Snowball-stemmed English, stop words removed."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class LexicalIndex:
    """A BM25 index (bm25s, Lucene variant, k1=1.5, b=0.75) saved as NumPy arrays and JSON."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25
        self._stem = _stemmer()

    @classmethod
    def build(cls, texts: list[str], show_progress: bool = False) -> "LexicalIndex":
        import bm25s

        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=show_progress)
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=show_progress)
        return cls(bm25)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=True, allow_pickle=False, show_progress=False))

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), allow_pickle=False, show_progress=False)

    def tokenize(self, query: str) -> list[str]:
        import bm25s

        return bm25s.tokenize([query], stopwords="en", stemmer=self._stem, return_ids=False,
                              show_progress=False)[0]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros where no query term occurs)."""
        tokens = self.tokenize(query)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def idf(self, words: list[str]) -> dict[str, float]:
        """BM25 idf of each word (stemmed as the index is), keyed by the word; unseen words get the maximum."""
        n = self.size
        indptr = self._bm25.scores["indptr"]
        vocab = self._bm25.vocab_dict
        out = {}
        for w in words:
            stem = self._stem.stemWord(w.lower())
            tid = vocab.get(stem)
            df = int(indptr[tid + 1] - indptr[tid]) if tid is not None and tid + 1 < len(indptr) else 0
            out[w] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def stem(self, word: str) -> str:
        return self._stem.stemWord(word.lower())

    @property
    def size(self) -> int:
        return int(self._bm25.scores["num_docs"])
