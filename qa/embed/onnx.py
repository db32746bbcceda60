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

The export is checked like the index files: ``query_encoder.json`` records its size and SHA-256,
and a file that does not match (one flipped byte made every question's vector wrong, and answers
silently bad) is never loaded; it is exported again. A hash takes ~0.3 s for 90 MB, so a file
verified once is not hashed again while its inode, size, mtime and ctime are unchanged (any write
changes the ctime, which no user can set back). Temp files of an export that was killed are
removed; an export that cannot fit on the disk is not tried, and said once, until space is freed.
"""
from __future__ import annotations

import dataclasses
import errno
import hashlib
import inspect
import json
import logging
import os
import shutil
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

ONNX_FILE = "query_encoder.onnx"
META_FILE = "query_encoder.json"
#: Written when an export did not fit on the disk, so the next process neither retries nor warns
#: again until there is room.
NO_SPACE_FILE = ".query_encoder.nospace"
_VERIFIED_FILE = ".query_encoder.verified"
#: A temp file of an export whose process is gone, or (no pid in its name) this old, is removed.
_STALE_TMP_SECONDS = 3600
log = logging.getLogger("qa")
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
    if _read_spec(index_dir) == spec and verify_export(index_dir):
        return index_dir / ONNX_FILE
    remove_stale_temps(index_dir)
    needed = _export_bytes(Path(embedder.path))
    if not _has_room(index_dir, needed):
        return None
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
    tmp = _temp_name(index_dir, ONNX_FILE)
    meta_tmp = _temp_name(index_dir, META_FILE)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Graph(hf).eval(), example, str(tmp), input_names=list(inputs),
                              output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*inputs, "last_hidden_state"]})
        meta = {**dataclasses.asdict(spec), "file": {"bytes": tmp.stat().st_size, "sha256": _sha256(tmp)}}
        meta_tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        # The spec goes first: a kill between the two renames leaves a file that fails its
        # checksum (and is exported again), never a stale spec vouching for a new file.
        (index_dir / _VERIFIED_FILE).unlink(missing_ok=True)
        os.replace(meta_tmp, index_dir / META_FILE)
        os.replace(tmp, index_dir / ONNX_FILE)
    except Exception as exc:  # an architecture the exporter cannot trace, or no room: torch answers
        tmp.unlink(missing_ok=True)
        meta_tmp.unlink(missing_ok=True)
        if _is_no_space(exc) or not _has_room(index_dir, needed, quiet=True):
            _no_space(index_dir, needed, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
        return None
    (index_dir / NO_SPACE_FILE).unlink(missing_ok=True)
    return index_dir / ONNX_FILE


def _temp_name(index_dir: Path, name: str) -> Path:
    """A temp file name that says which process writes it (:func:`remove_stale_temps`)."""
    return index_dir / f".{name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(index_dir: Path) -> list[Path]:
    """Remove temp files of exports that were killed (a 90 MB ``.query_encoder.onnx.*.tmp`` each).

    A temp file is stale when the process named in it is gone, or, for names without a pid (older
    qa), when it is over an hour old. Returns what was removed.
    """
    removed = []
    try:
        candidates = [p for p in Path(index_dir).iterdir()
                      if p.name.startswith((f".{ONNX_FILE}.", f".{META_FILE}.")) and p.name.endswith(".tmp")]
    except OSError:
        return removed
    for p in candidates:
        tag = p.name[:-len(".tmp")].rsplit(".", 1)[-1]
        pid = tag.split("-", 1)[0] if "-" in tag else ""
        try:
            stale = (not _pid_alive(int(pid))) if pid.isdigit() else time.time() - p.stat().st_mtime > _STALE_TMP_SECONDS
            if stale:
                p.unlink()
                removed.append(p)
        except (OSError, ValueError):
            continue
    return removed


def _export_bytes(model_path: Path) -> int:
    """Room an export needs: the model's float32 weights plus a margin (90 MB for the default)."""
    sizes = [p.stat().st_size for p in model_path.glob("*") if p.suffix in {".safetensors", ".bin"} and p.is_file()]
    return int((max(sizes) if sizes else 100 * 2**20) * 1.1) + 2**20


def _has_room(index_dir: Path, needed: int, quiet: bool = False) -> bool:
    try:
        free = shutil.disk_usage(index_dir).free
    except OSError:
        return True  # cannot tell: try, and let a failure say so
    if free >= needed:
        return True
    if not quiet:
        _no_space(index_dir, needed, f"{free / 2**20:.0f} MB free")
    return False


def _is_no_space(exc: BaseException) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _no_space(index_dir: Path, needed: int, detail: str) -> None:
    """Say once (per stretch without room) that questions will go through torch, and why."""
    marker = Path(index_dir) / NO_SPACE_FILE
    if marker.exists():
        return
    log.warning(f"qa: warning: no room for the question encoder in {index_dir} ({detail}; it needs about "
                f"{needed / 2**20:.0f} MB): questions are embedded with torch instead (slower to start). "
                "Free some space and it is exported on the next question")
    try:
        marker.write_text(json.dumps({"needed_bytes": needed, "detail": detail}), encoding="utf-8")
    except OSError:
        pass


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def verify_export(index_dir: Path) -> bool:
    """Whether ``query_encoder.onnx`` has the size and SHA-256 that ``query_encoder.json`` records.

    An export without a recorded checksum (older qa) does not verify, so it is exported again.
    """
    index_dir = Path(index_dir)
    onnx_file = index_dir / ONNX_FILE
    try:
        rec = json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))["file"]
        stamp = _stamp(onnx_file)
        if stamp[2] != rec["bytes"]:
            return False
        try:
            seen = json.loads((index_dir / _VERIFIED_FILE).read_text(encoding="utf-8"))
            if seen == {"stamp": stamp, "sha256": rec["sha256"]}:
                return True
        except (OSError, ValueError):
            pass
        if _sha256(onnx_file) != rec["sha256"]:
            return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    try:
        (index_dir / _VERIFIED_FILE).write_text(json.dumps({"stamp": stamp, "sha256": rec["sha256"]}), encoding="utf-8")
    except OSError:
        pass  # a read-only index folder: hashed again next time
    return True


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
        if spec is None or spec.model_id != model_id or not onnx_file.is_file() or not verify_export(index_dir):
            return None  # missing, foreign, or damaged (checksum): the caller exports it again
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
    remove_stale_temps(index_dir)
    enc = QueryEncoder.open(index_dir, embedder.path, embedder.info.model_id)
    if enc is None and export_query_encoder(embedder, index_dir) is not None:
        enc = QueryEncoder.open(index_dir, embedder.path, embedder.info.model_id)
    return enc
