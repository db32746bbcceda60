"""Defaults and build parameters, in one place so that the manifest can record them."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_INDEX_DIR = Path("index")
DEFAULT_CORPUS = Path("seeds")

#: Below this many chunks the dense index is exact (``IndexFlatIP``); at or above it, HNSW.
#: Exact search over 100k × 384 floats still answers in a few ms on two cores (see bench/).
ANN_THRESHOLD = 200_000

#: Bumped whenever cleaning, chunking or the on-disk layout changes, so old indexes are rebuilt.
PIPELINE_VERSION = "1"


@dataclass(frozen=True)
class ChunkParams:
    """How articles are cut into passages.

    Attributes:
        chunk_tokens: Upper bound on a chunk's length in model tokens (default 128; further
            capped by the model's ``max_seq_length``).
        overlap_tokens: Tokens shared by consecutive chunks (default 24).
        title_in_chunk: Prepend the article title to each chunk's indexed text (default True), so
            passages deep in an article still match questions about its subject.
    """

    chunk_tokens: int = 128
    overlap_tokens: int = 24
    title_in_chunk: bool = True

    def to_dict(self) -> dict:
        return asdict(self)
