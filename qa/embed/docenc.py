"""The document encoder: chunks embedded by onnxruntime with int8 weights, in token-budget batches.

Building an index is almost all model arithmetic (build / raw encode about 1.1). The float32 ONNX
export that already answers questions (:mod:`qa.embed.onnx`) is fused for BERT by onnxruntime's
transformer optimizer (one Attention, SkipLayerNorm and FastGelu op each per layer) and its weights
quantised to int8 per output channel (dynamic quantisation: activations are quantised per batch at
run time, so no calibration set is needed). Questions keep the float32 export: only document
vectors are int8, and retrieval quality is judged on that pairing (bench/RESULTS.md).

Batches are planned by tokens rather than by count: texts sorted by token length, each batch holding
as many as fit :data:`TOKEN_BUDGET` padded tokens, so short texts are not run 32 at a time in the
padding of long ones.

:class:`EncodeWorker` is the unit of work for every way of spreading it: a thread, a worker process
(``qa index --workers N``) or a Ray actor (``map_batches`` over a class built from a
:class:`WorkerConfig`). It takes texts and character spans and returns the texts' unit vectors and
the spans' token-vector sums, so no token matrix crosses a process boundary.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

from qa.embed.onnx import ONNX_FILE, EncoderSpec, _read_spec, _sha256, export_query_encoder
from qa.embed.pooling import SpanEncoding, pool_spans, unit_rows

DOC_FILE = "doc_encoder.int8.onnx"
DOC_META = "doc_encoder.json"
#: What the manifest records about the document encoder (``precision: int8``).
QUANTIZATION = "onnxruntime dynamic int8, per-channel weights, BERT-fused graph"
#: Padded tokens per batch (default). 32 chunks of 128 tokens is 4,096, today's torch batch;
#: shorter texts go more to a batch.
TOKEN_BUDGET = 4096
#: Never more texts than this in one batch, however short (bounds the span bookkeeping).
MAX_BATCH_TEXTS = 256


def available() -> bool:
    """Whether onnxruntime and its quantisation tools can be imported here."""
    try:
        import onnxruntime  # noqa: F401
        from onnxruntime.quantization import quantize_dynamic  # noqa: F401
    except Exception:
        return False
    return True


def default_workers() -> int:
    """Cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count`` elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def quantize_document_encoder(fp32_onnx: Path, out: Path, model_path: Path) -> Path:
    """Fuse ``fp32_onnx`` for BERT (when the model is one) and write its int8 quantisation to ``out``.

    All intermediate files go to a temporary folder beside ``out`` (the quantiser writes its
    by-products to the current directory otherwise); ``out`` appears atomically.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = Path(out)
    cfg = _read_json(Path(model_path) / "config.json")
    with tempfile.TemporaryDirectory(prefix=".doc-encoder-", dir=out.parent) as tmp:
        src = Path(fp32_onnx)
        if cfg.get("model_type") == "bert" and cfg.get("num_attention_heads") and cfg.get("hidden_size"):
            from onnxruntime.transformers import optimizer

            fused = Path(tmp) / "fused.onnx"
            m = optimizer.optimize_model(str(src), model_type="bert", num_heads=int(cfg["num_attention_heads"]),
                                         hidden_size=int(cfg["hidden_size"]), opt_level=1)
            m.save_model_to_file(str(fused))
            src = fused
        q = Path(tmp) / "int8.onnx"
        cwd = os.getcwd()
        os.chdir(tmp)  # by-products such as sym_shape_infer_temp.onnx land here, not where qa was started
        try:
            quantize_dynamic(str(src), str(q), per_channel=True, weight_type=QuantType.QInt8,
                             extra_options={"DefaultTensorType": 1})  # 1 = FLOAT, for the fused ops' outputs
        finally:
            os.chdir(cwd)
        os.replace(q, out)
    return out


def ensure_document_encoder(index_dir: Path, embedder) -> Path | None:
    """The int8 document model in ``index_dir`` for ``embedder``'s model, made from its float32
    export if missing or stale; None when the model cannot be exported (then torch embeds)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    if export_query_encoder(embedder, index_dir) is None:
        return None
    spec = _read_spec(index_dir)
    meta = _read_json(index_dir / DOC_META)
    target = index_dir / DOC_FILE
    wanted = json.loads(json.dumps(dataclasses.asdict(spec)))  # as stored: tuples read back as lists
    if (target.is_file() and meta.get("spec") == wanted and meta.get("quantization") == QUANTIZATION
            and _file_matches(target, meta.get("file"))):
        return target
    # The record goes first, without a checksum: a kill before it is rewritten below leaves a file
    # that does not verify (and is quantised again), never an old checksum vouching for a new file.
    (index_dir / DOC_META).unlink(missing_ok=True)
    quantize_document_encoder(index_dir / ONNX_FILE, target, Path(embedder.path))
    tmp = index_dir / f".{DOC_META}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps({"spec": dataclasses.asdict(spec), "quantization": QUANTIZATION,
                               "file": {"bytes": target.stat().st_size, "sha256": _sha256(target)}}, indent=1),
                   encoding="utf-8")
    os.replace(tmp, index_dir / DOC_META)
    return target


def _file_matches(path: Path, rec) -> bool:
    """Whether ``path`` has the size and SHA-256 recorded in ``rec`` (none recorded: it does not)."""
    try:
        return (isinstance(rec, dict) and path.stat().st_size == rec.get("bytes")
                and _sha256(path) == rec.get("sha256"))
    except OSError:
        return False


@dataclasses.dataclass(frozen=True)
class WorkerConfig:
    """Everything an :class:`EncodeWorker` needs, as plain values (picklable for processes and Ray).

    Attributes:
        onnx_file: The (int8) ONNX model.
        tokenizer_file: The model's ``tokenizer.json``.
        spec: Pooling, truncation, input names and casing of the export.
        threads: onnxruntime intra-op threads (default 1: one worker per core).
    """

    onnx_file: str
    tokenizer_file: str
    spec: EncoderSpec
    threads: int = 1


class EncodeWorker:
    """Embed batches of texts and pool character spans, with one onnxruntime session.

    Call it with ``(texts, spans)``; ``spans`` is a list per text of ``(start, end)`` character
    spans (empty lists when none are wanted). Returns ``(vectors, span_sums, span_tokens)``.
    """

    def __init__(self, config: WorkerConfig) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, config.threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(config.onnx_file, opts, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        tok = Tokenizer.from_file(config.tokenizer_file)
        tok.enable_truncation(config.spec.max_seq_length)
        tok.no_padding()
        self._tok = tok
        self.spec = config.spec

    def tokenize(self, texts: list[str]):
        """The tokenizer's encodings of ``texts`` (lower-cased first when the model wants it)."""
        return self._tok.encode_batch([t.lower() for t in texts] if self.spec.lower_case else list(texts))

    def __call__(self, texts: list[str], spans: list[list[tuple[int, int]]],
                 encodings=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        encs = encodings if encodings is not None else self.tokenize(texts)
        n, width = len(encs), max((len(e.ids) for e in encs), default=0)
        ids = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        types = np.zeros((n, width), dtype=np.int64)
        offsets = np.zeros((n, width, 2), dtype=np.int64)
        for r, e in enumerate(encs):
            k = len(e.ids)
            ids[r, :k], mask[r, :k], types[r, :k] = e.ids, e.attention_mask, e.type_ids
            if k:
                offsets[r, :k] = e.offsets
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, {k: feeds[k] for k in self._inputs})[0]
        if self.spec.pooling == "cls":
            vectors = hidden[:, 0].astype(np.float32)
        else:
            m = mask[..., None].astype(np.float32)
            vectors = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        n_spans = sum(len(s) for s in spans)
        sums = np.zeros((n_spans, hidden.shape[-1]), dtype=np.float32)
        counts = np.zeros(n_spans, dtype=np.int64)
        at = 0
        for r, sp in enumerate(spans):
            if sp:
                sums[at:at + len(sp)], counts[at:at + len(sp)] = pool_spans(hidden[r], offsets[r], mask[r], sp)
                at += len(sp)
        return unit_rows(vectors.astype(np.float32)), sums, counts


def plan_batches(lengths: list[int], budget: int = TOKEN_BUDGET, max_texts: int = MAX_BATCH_TEXTS) -> list[np.ndarray]:
    """Group text indices into batches of at most ``budget`` padded tokens, longest first.

    Args:
        lengths: Each text's token count.
        budget: Padded tokens per batch (default :data:`TOKEN_BUDGET`); a text longer than the budget
            gets a batch of its own.
        max_texts: Texts per batch at most (default :data:`MAX_BATCH_TEXTS`).
    """
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    out, start = [], 0
    while start < len(order):
        width = max(1, int(lengths[order[start]]))  # the longest of the batch: it sets the padding
        take = max(1, min(max_texts, budget // width))
        out.append(order[start:start + take])
        start += take
    return out


class OnnxDocumentEncoder:
    """Embed many texts with spans through :class:`EncodeWorker` s on threads or processes.

    Args:
        config: The worker configuration (its ``threads`` is set per mode below).
        workers: Parallel workers (default: every core, :func:`default_workers`).
        mode: ``threads`` (default): one session with ``workers`` intra-op threads, batches run in
            turn; ``processes``: ``workers`` processes of one thread each, batches spread over them.
        budget: Padded tokens per batch (default :data:`TOKEN_BUDGET`).
    """

    def __init__(self, config: WorkerConfig, workers: int | None = None, mode: str = "threads",
                 budget: int = TOKEN_BUDGET) -> None:
        if mode not in ("threads", "processes"):
            raise ValueError(f"unknown worker mode {mode!r}; valid: threads, processes")
        self.workers = max(1, workers or default_workers())
        self.mode = mode if self.workers > 1 else "threads"
        self.budget = budget
        threads = self.workers if self.mode == "threads" else 1
        self.config = dataclasses.replace(config, threads=threads)
        self._local = EncodeWorker(self.config)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _executor(self):
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # spawn: a fork of a process with onnxruntime / OpenMP threads running can deadlock.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.config,))
        return self._pool

    def submit_all(self, texts: list[str], spans: list[list[tuple[int, int]]]):
        """Start encoding; returns a list of ``(indices, future-or-result)`` in batch order."""
        encs = self._local.tokenize(texts)
        batches = plan_batches([len(e.ids) for e in encs], self.budget)
        if self.mode == "processes":
            pool = self._executor()
            return [(idx, pool.submit(_run_worker, [texts[i] for i in idx], [spans[i] for i in idx]))
                    for idx in batches]
        return [(idx, _Done(self._local([texts[i] for i in idx], [spans[i] for i in idx], [encs[i] for i in idx])))
                for idx in batches]

    def run(self, texts: list[str], spans: list[list[tuple[int, int]]] | None = None, dim: int | None = None,
            progress=None) -> SpanEncoding:
        """Encode ``texts`` (and pool ``spans``, one list per text); ``progress(n_texts)`` after each batch."""
        spans = spans if spans is not None else [[] for _ in texts]
        n_spans = [len(s) for s in spans]
        first = np.concatenate([[0], np.cumsum(n_spans)]).astype(np.int64)
        dim = dim or 0
        vectors = sums = counts = None
        if not texts:
            return SpanEncoding(np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32), np.zeros(0, np.int64))
        for idx, fut in self._iter(texts, spans):
            v, s, c = fut.result()
            if vectors is None:
                dim = v.shape[1]
                vectors = np.zeros((len(texts), dim), dtype=np.float32)
                sums = np.zeros((int(first[-1]), dim), dtype=np.float32)
                counts = np.zeros(int(first[-1]), dtype=np.int64)
            vectors[idx] = v
            at = 0
            for i in idx:
                k = n_spans[i]
                sums[first[i]:first[i] + k], counts[first[i]:first[i] + k] = s[at:at + k], c[at:at + k]
                at += k
            if progress is not None:
                progress(len(idx))
        return SpanEncoding(vectors, sums, counts)

    def _iter(self, texts, spans):
        if self.mode == "processes":
            yield from self.submit_all(texts, spans)
            return
        # Threads: run batch by batch so progress is reported as it happens.
        encs = self._local.tokenize(texts)
        for idx in plan_batches([len(e.ids) for e in encs], self.budget):
            yield idx, _Done(self._local([texts[i] for i in idx], [spans[i] for i in idx], [encs[i] for i in idx]))


class _Done:
    """A finished result with the ``Future.result()`` interface."""

    def __init__(self, value) -> None:
        self._value = value

    def result(self):
        return self._value


_WORKER: EncodeWorker | None = None


def _init_worker(config: WorkerConfig) -> None:
    # One session per worker process, made once (the process's own state, not qa's).
    global _WORKER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER = EncodeWorker(config)


def _run_worker(texts, spans):
    return _WORKER(texts, spans)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
