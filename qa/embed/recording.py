"""An embedder wrapper that records what it was asked to encode (for tests and benchmarks)."""
from __future__ import annotations

import numpy as np


class RecordingEmbedder:
    """Wraps an :class:`~qa.embed.model.Embedder`, recording the texts it encodes.

    With ``cache`` (text → vector), :meth:`encode` serves known texts from it instead of the model:
    the bench uses that to assemble the two-corpus index from the single-corpus builds without
    embedding twice (that build is not timed, and uses separate sentence vectors to hit the cache).
    """

    def __init__(self, inner, cache: dict | None = None) -> None:
        self.inner = inner
        self.cache = cache
        self.encoded: list[str] = []

    def __getattr__(self, name: str):
        # Everything but the encode methods below (info, path, model, tokenizer, precision, ...)
        # is the wrapped embedder's own.
        if name == "inner":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def encode(self, texts, show_progress: bool = False, on_batch=None):
        self.encoded.extend(texts)
        if self.cache is None:
            return self.inner.encode(texts, show_progress=show_progress, on_batch=on_batch)
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for t, v in zip(missing, self.inner.encode(missing)):
                self.cache[t] = v
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)

    def encode_query(self, text: str):
        self.encoded.append(text)
        return self.inner.encode_query(text)

    def encode_with_spans(self, texts, spans, show_progress: bool = False, on_batch=None):
        self.encoded.extend(texts)
        return self.inner.encode_with_spans(texts, spans, show_progress=show_progress, on_batch=on_batch)
