"""The question encoder: the model's ONNX export, run by onnxruntime, so answering needs no torch.

A question is about ten tokens. Through torch, per-operation dispatch and thread wake-ups cost
more than its arithmetic (8-12 ms on the 2-core bench machine), and importing torch and
sentence-transformers is most of a cold start (about 5 s). onnxruntime on one thread embeds the
same question with the same float32 weights in about 5 ms (vectors equal to 1e-6), and starts in
a fraction of a second.

The builder exports the model once per index folder (it has the torch model loaded anyway):
``query_encoder.onnx``, plus ``query_encoder.json`` naming the model and pooling it came from.
Models the export cannot reproduce exactly (modules other than Transformer, mean or CLS Pooling
and Normalize; no ``tokenizer.json``) keep answering through torch.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import os
import uuid
import warnings
from pathlib import Path

import numpy as np

ONNX_FILE = "query_encoder.onnx"
META_FILE = "query_encoder.json"
_MODULES = {
    "sentence_transformers.models.Transformer": "transformer",
    "sentence_transformers.models.Pooling": "pooling",
    "sentence_transformers.models.Normalize": "normalize",
}


@dataclasses.dataclass(frozen=True)
class EncoderSpec:
    """What the exported graph leaves to numpy: pooling, normalisation and truncation.

    Attributes:
        model_id: The model the graph was exported from (:class:`~qa.embed.model.ModelInfo`).
        pooling: ``mean`` or ``cls``.
        max_seq_length: Tokens kept, special tokens included.
        inputs: The graph's input names, in order.
        lower_case: Lower-case texts first (the model's ``do_lower_case``).
    """

    model_id: str
    pooling: str
    max_seq_length: int
    inputs: tuple[str, ...]
    lower_case: bool = False

    @classmethod
    def for_model(cls, model_path: Path, model_id: str, max_seq_length: int) -> "EncoderSpec | None":
        """The spec of a model folder, or None when the export would not reproduce it."""
        if not (model_path / "tokenizer.json").is_file():
            return None
        try:
            modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
            kinds = [_MODULES.get(m.get("type", "")) for m in modules]
            if kinds[:2] != ["transformer", "pooling"] or kinds[2:] not in ([], ["normalize"]):
                return None
            pool = json.loads((model_path / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        modes = {k for k, v in pool.items() if k.startswith("pooling_mode_") and v}
        pooling = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(
            next(iter(modes)) if len(modes) == 1 else "")
        if pooling is None:
            return None
        try:
            lower = bool(json.loads((model_path / "sentence_bert_config.json").read_text(encoding="utf-8"))
                         .get("do_lower_case", False))
        except (OSError, ValueError, AttributeError):
            lower = False
        return cls(model_id=model_id, pooling=pooling, max_seq_length=max_seq_length,
                   inputs=("input_ids", "attention_mask", "token_type_ids"), lower_case=lower)


def export_query_encoder(embedder, index_dir: Path) -> Path | None:
    """Write ``query_encoder.onnx`` for ``embedder``'s model into ``index_dir`` unless it is current.

    Returns:
        The ONNX file, or None when this model cannot be exported (then torch answers).
    """
    index_dir = Path(index_dir)
    if getattr(embedder, "path", None) is None:  # a stand-in embedder (tests) has no model folder
        return None
    spec = EncoderSpec.for_model(Path(embedder.path), embedder.info.model_id, embedder.info.max_seq_length)
    if spec is None:
        return None
    if _read_spec(index_dir) == spec and (index_dir / ONNX_FILE).is_file():
        return index_dir / ONNX_FILE
    import torch

    st = embedder.model
    hf = st[0].auto_model  # float32 weights: bfloat16 is only ever an autocast (Embedder.inference)
    if "token_type_ids" not in inspect.signature(hf.forward).parameters:
        spec = dataclasses.replace(spec, inputs=spec.inputs[:2])
    inputs = spec.inputs

    class _Graph(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args):
            return self.model(**dict(zip(inputs, args))).last_hidden_state

    example = tuple(torch.ones((1, 8), dtype=torch.int64) for _ in inputs)
    tmp = index_dir / f".{ONNX_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Graph(hf).eval(), example, str(tmp), input_names=list(inputs),
                              output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*inputs, "last_hidden_state"]})
        os.replace(tmp, index_dir / ONNX_FILE)
    except Exception:  # an architecture the exporter cannot trace: answer through torch instead
        tmp.unlink(missing_ok=True)
        return None
    meta_tmp = index_dir / f".{META_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    meta_tmp.write_text(json.dumps(dataclasses.asdict(spec), indent=1), encoding="utf-8")
    os.replace(meta_tmp, index_dir / META_FILE)
    return index_dir / ONNX_FILE


def _read_spec(index_dir: Path) -> EncoderSpec | None:
    try:
        d = json.loads((Path(index_dir) / META_FILE).read_text(encoding="utf-8"))
        return EncoderSpec(d["model_id"], d["pooling"], int(d["max_seq_length"]), tuple(d["inputs"]),
                           bool(d.get("lower_case", False)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class QueryEncoder:
    """Embed short texts with the ONNX export of a model, on one thread.

    Open with :meth:`open`, which returns None unless the index folder holds an export of the very
    model given, so a stale or foreign export is never used.
    """

    def __init__(self, session, tokenizer, spec: EncoderSpec) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.spec = spec

    @classmethod
    def open(cls, index_dir: Path, model_path: Path, model_id: str) -> "QueryEncoder | None":
        spec = _read_spec(index_dir)
        onnx_file = Path(index_dir) / ONNX_FILE
        if spec is None or spec.model_id != model_id or not onnx_file.is_file():
            return None
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1  # one question is too little work to share (module docstring)
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            session = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
            tok = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        except Exception:  # a damaged file or a missing runtime: torch answers instead
            return None
        tok.enable_truncation(spec.max_seq_length)
        tok.no_padding()
        return cls(session, tok, spec)

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(n, dim)`` float32 unit vectors, one text at a time (no padding to compute)."""
        rows = []
        texts = [t.lower() for t in texts] if self.spec.lower_case else list(texts)
        for enc in self._tokenizer.encode_batch(texts):
            feeds = {"input_ids": enc.ids, "attention_mask": enc.attention_mask, "token_type_ids": enc.type_ids}
            hidden = self._session.run(None, {n: np.asarray([feeds[n]], dtype=np.int64) for n in self.spec.inputs})[0][0]
            rows.append(hidden[0] if self.spec.pooling == "cls" else hidden.mean(axis=0))
        out = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


def ensure_query_encoder(index_dir: Path, embedder) -> QueryEncoder | None:
    """Open the index folder's query encoder for ``embedder``'s model, exporting it first if an
    older index has none; None when the model cannot be exported."""
    if getattr(embedder, "path", None) is None:
        return None
    enc = QueryEncoder.open(index_dir, embedder.path, embedder.info.model_id)
    if enc is None and export_query_encoder(embedder, index_dir) is not None:
        enc = QueryEncoder.open(index_dir, embedder.path, embedder.info.model_id)
    return enc
