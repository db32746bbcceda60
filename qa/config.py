"""Defaults and build parameters, in one place so that the manifest can record them."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

DEFAULT_INDEX_DIR = Path("index")
DEFAULT_CORPUS = Path("seeds")

#: Below this many chunks the dense index is exact (``IndexFlatIP``); at or above it, HNSW.
#: Exact search is memory-bound and linear in the chunk count: bench/ measured 44 ms per query at
#: 100k × 384 on two cores (so ~20 ms at 50k, a third of the 60 ms query budget), while HNSW
#: (M=32, efConstruction 80) answered in 0.3 ms at recall@10 0.98 and built 100k in 33 s
#: (bench/RESULTS.md). 50k keeps small and medium corpora exact and switches before exact search
#: dominates a query.
ANN_THRESHOLD = 50_000

#: Bumped whenever cleaning, chunking or the on-disk layout changes, so old indexes are rebuilt.
PIPELINE_VERSION = "2"


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


class Choice(str, Enum):
    """A string option whose :meth:`parse` error lists the valid values (the class name, split
    into words, names the option: ``RetrievalMode`` → "retrieval mode")."""

    @classmethod
    def parse(cls, value):
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            what = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()
            raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(v.value for v in cls)}") from None


class SentenceVectors(Choice):
    """Where the answerer's sentence vectors come from.

    ``pooled`` (default): the mean of the sentence's token vectors inside its chunk, taken from the
    chunk's own forward pass, so building costs one model pass over the text. ``separate``: each
    sentence is embedded again on its own, which about doubles build time.
    """

    POOLED = "pooled"
    SEPARATE = "separate"


class Precision(Choice):
    """The number format document vectors are computed in.

    ``auto`` (default): ``bfloat16`` on a CPU that computes it natively (x86 with AVX512-BF16 or
    AMX), else ``float32``, which a build runs through the model's ONNX export on onnxruntime in
    token-budget batches: torch's vectors (to 1e-5); full builds 1.09-1.25× as fast on an AVX2 CPU,
    and an update that embeds a few texts imports no torch (bench/RESULTS.md).

    - ``int8`` (opt-in): chunks are embedded by the model's ONNX export with int8 weights on
      onnxruntime (:mod:`qa.embed.docenc`). On an AVX2 CPU it builds 1.43-1.52× as fast as float32
      torch, with SciFact train nDCG@10 within 0.004, but answer accuracy fell by one question of 83
      on ``eval/qa.jsonl`` and by four of 178 on the held-out half of ``eval/bbc.jsonl``, so it is
      not the default (bench/RESULTS.md).
    - ``bfloat16``: torch with bfloat16 autocast; 1.6× float32 on a CPU with native bfloat16,
      about 7× slower than float32 without it (emulated). Vectors within cosine 0.99998 of float32's.
    - ``float32``: torch, the model as shipped (``auto``'s float32 without onnxruntime).

    Questions are embedded by the float32 ONNX export whatever this is (:mod:`qa.embed.onnx`), so
    vectors of every precision can share one index.
    """

    AUTO = "auto"
    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"


#: Environment variable naming the search store (see :func:`resolve_store`).
STORE_ENV = "QA_STORE"
#: Environment variable naming the config file (default: ``qa.toml`` in the working folder).
CONFIG_ENV = "QA_CONFIG"
CONFIG_FILE = Path("qa.toml")


@dataclass(frozen=True)
class StoreURI:
    """Where passages are searched.

    ``faiss`` (default): FAISS + bm25s inside the index folder. ``milvus-lite:PATH``: an embedded
    Milvus file (``PATH``, e.g. ``index/milvus.db``). ``milvus://HOST:PORT``: a Milvus server.
    """

    kind: str  # "faiss", "milvus-lite" or "milvus"
    target: str = ""

    @classmethod
    def parse(cls, value: str | None) -> "StoreURI":
        text = (value or "").strip()
        if not text or text.lower() in ("faiss", "folder", "default"):
            return cls("faiss")
        if text.startswith("milvus-lite:"):
            path = text[len("milvus-lite:"):]
            if not path:
                raise ValueError("--store milvus-lite:PATH needs a file path, e.g. milvus-lite:index/milvus.db")
            return cls("milvus-lite", path)
        m = re.fullmatch(r"milvus://([^:/\s]+):(\d{1,5})/?", text)
        if m:
            return cls("milvus", f"{m.group(1)}:{m.group(2)}")
        raise ValueError(f"unknown store {text!r}; valid: faiss (default), milvus-lite:PATH, milvus://HOST:PORT")

    def __str__(self) -> str:
        return {"faiss": "faiss", "milvus-lite": f"milvus-lite:{self.target}"}.get(self.kind, f"milvus://{self.target}")


def resolve_store(value: str | None = None) -> StoreURI:
    """The store to use: ``value`` (``--store``), else ``$QA_STORE``, else ``store = "..."`` in the
    config file (``$QA_CONFIG``, default ``./qa.toml``), else the FAISS folder.

    The config file is read only when nothing more specific is set, so a broken one never gets in
    the way of an explicit ``--store``.
    """
    import os

    for candidate in (value, os.environ.get(STORE_ENV)):
        if candidate:
            return StoreURI.parse(candidate)
    path = Path(os.environ.get(CONFIG_ENV) or CONFIG_FILE)
    if path.is_file():
        import tomllib

        try:
            conf = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the config file {path}: {exc}") from None
        if conf.get("store"):
            return StoreURI.parse(str(conf["store"]))
    return StoreURI("faiss")
