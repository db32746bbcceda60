"""Embed a build's texts on Ray Data: ``qa index --ray [ADDRESS]`` (issue 16, point 3).

:class:`RayEmbedder` wraps an :class:`~qa.embed.model.Embedder` and replaces its two document
calls, :meth:`~qa.embed.model.Embedder.encode` and
:meth:`~qa.embed.model.Embedder.encode_with_spans`, with the same signatures and returns; everything
else (model info, tokenizer, precision, questions) is the wrapped embedder's own. The texts are
cut into exactly the batches the single-process path would run (the torch path's length-sorted
batches of ``batch_size``, or the int8 path's token-budget batches), one Ray Data row per batch,
and ``map_batches`` runs them over a pool of model actors (:class:`_EmbedActor`, one per worker).
Same batches means same padded shapes and so the same vectors as one process: padding a text
into a different batch changes its bfloat16 vector by more than 1e-5.

Results carry their batch number and are put back in input order, so Ray's execution order does
not matter. Each finished batch moves the caller's progress (``on_batch``) as it arrives.

Ray's own local instance is started bound to the loopback interface only, without its dashboard
and with usage statistics off: qa opens no network beyond loopback unless given a cluster
address. A cluster must have qa and the model folder (same path) installed on its workers.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass

import numpy as np

from qa.embed.pooling import SpanEncoding
from qa.errors import RayError

#: Environment for Ray, set before it is imported. ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes a
#: local instance use 127.0.0.1 as its node address (Ray's single-machine mode on macOS and
#: Windows): without it, Ray binds its servers to every interface and advertises the machine's
#: network address. Only set for a local instance; a cluster needs a reachable address.
LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
COMMON_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
#: Fewer texts than this in one :meth:`RayEmbedder.encode` call are embedded in this process: a
#: new actor pool loads the model (seconds), more than the few orphan sentences a build embeds
#: alone cost here.
LOCAL_BELOW = 64
#: Seconds to wait for a cluster's address to accept a connection before saying it is unreachable.
CONNECT_TIMEOUT = 5.0
INSTALL_HINT = "pip install 'ray[data]'"


@dataclass(frozen=True)
class ActorSpec:
    """What each actor loads: plain values, shipped to the workers.

    Attributes:
        model_path: The model folder (the same path must exist on every worker node).
        batch_size: Texts per torch forward pass (the batches arrive already cut to it).
        precision: ``float32`` or ``bfloat16`` for torch; ``int8`` when ``onnx`` is set.
        onnx: The int8 document encoder's :class:`~qa.embed.docenc.WorkerConfig`, or None for torch.
        threads: Torch intra-op threads: the single-process path's own count, because the
            thread count changes bfloat16 results (8 of 72 seed chunk vectors moved by up to
            5.9e-4 between 1 and 2 threads). Actors are scheduled at one CPU each all the same.
    """

    model_path: str
    batch_size: int
    precision: str
    onnx: object | None = None
    threads: int = 1


class _EmbedActor:
    """One model per Ray worker; ``__call__`` embeds a Ray Data batch of planned text batches.

    Each input row is one planned batch: its texts (already in the single-process path's order)
    and, as raw int64 bytes, each text's span count and the spans' start and end characters.
    Each output row holds the batch number and the raw float32 / int64 bytes of the batch's
    vectors, span sums and span token counts (bytes: ragged arrays cross Arrow without guessing).
    """

    #: Set on the per-run subclass (:func:`_actor_class`), not passed to the constructor: Ray
    #: keeps constructor arguments in its object store and warns, on every build, that an actor
    #: restarted after they went out of scope could not be rebuilt.
    SPEC: ActorSpec | None = None

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        spec = self.SPEC
        if spec.onnx is not None:
            from qa.embed.docenc import EncodeWorker

            self._onnx = EncodeWorker(spec.onnx)
            self._torch = None
        else:
            from qa.embed.model import Embedder

            self._onnx = None
            self._torch = Embedder(spec.model_path, batch_size=spec.batch_size, precision=spec.precision)
            import torch

            torch.set_num_threads(max(1, spec.threads))

    def __call__(self, batch: dict) -> dict:
        out: dict[str, list] = {"batch": [], "vectors": [], "sums": [], "tokens": []}
        for r in range(len(batch["batch"])):
            texts = [str(t) for t in batch["texts"][r]]
            n_spans = np.frombuffer(batch["n_spans"][r], dtype=np.int64)
            starts = np.frombuffer(batch["starts"][r], dtype=np.int64)
            ends = np.frombuffer(batch["ends"][r], dtype=np.int64)
            pooled = bool(batch["pooled"][r])
            cut = np.concatenate([[0], np.cumsum(n_spans)]).astype(np.int64)
            spans = [list(zip(starts[cut[i]:cut[i + 1]].tolist(), ends[cut[i]:cut[i + 1]].tolist()))
                     for i in range(len(texts))]
            if self._onnx is not None:
                v, s, c = self._onnx(texts, spans)
            elif pooled:
                enc = self._torch.encode_with_spans(texts, spans)
                v, s, c = enc.vectors, enc.span_sums, enc.span_tokens
            else:
                v = self._torch.encode(texts)
                s, c = np.zeros((0, v.shape[1]), np.float32), np.zeros(0, np.int64)
            out["batch"].append(int(batch["batch"][r]))
            out["vectors"].append(np.ascontiguousarray(v, dtype=np.float32).tobytes())
            out["sums"].append(np.ascontiguousarray(s, dtype=np.float32).tobytes())
            out["tokens"].append(np.ascontiguousarray(c, dtype=np.int64).tobytes())
        return {"batch": np.asarray(out["batch"], dtype=np.int64),
                **{k: np.asarray(out[k], dtype=object) for k in ("vectors", "sums", "tokens")}}


def _actor_class(spec: ActorSpec) -> type:
    """An :class:`_EmbedActor` subclass carrying ``spec`` (shipped with the class itself)."""
    return type("QAEmbedActor", (_EmbedActor,), {"SPEC": spec, "__module__": __name__})


def _map(ds, ray, actor: type, workers: int, restarts: bool):
    """``ds.map_batches`` over a fixed pool of ``workers`` actors of one CPU each.

    On qa's own instance (``restarts`` False) a dead actor means the machine is in trouble: the
    build fails instead of restarting it. That is also what keeps Ray from logging, on every
    build, that a restarted actor might not find its constructor arguments. Ray 2.60 takes
    ``max_restarts`` only through its deprecated ``**ray_remote_args``; a Ray without it restarts.
    """
    import warnings

    kwargs = dict(batch_size=1, batch_format="numpy", num_cpus=1, compute=ray.data.ActorPoolStrategy(size=workers))
    if not restarts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return ds.map_batches(actor, max_restarts=0, **kwargs)
        except TypeError:
            pass
    return ds.map_batches(actor, **kwargs)


def _cluster_token_available() -> bool:
    """Whether this machine holds a Ray auth token (``$RAY_AUTH_TOKEN``, ``$RAY_AUTH_TOKEN_PATH`` or
    ``~/.ray/auth_token``, where ``ray start`` and ``ray get-auth-token --generate`` put it)."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.join(os.path.expanduser("~"), ".ray", "auth_token")
    return os.path.isfile(path)


def import_ray(local: bool):
    """Import Ray (and Ray Data) with qa's environment for it; a :class:`RayError` if missing.

    Joining a cluster with a token on this machine sets ``RAY_AUTH_MODE=token`` unless it is set:
    Ray 2.60's heads require the token by default, but its client leaves auth off unless told
    (even ``ray status`` then fails with "Authentication token is missing").

    Raises:
        RayError: When ``ray[data]`` is not installed.
    """
    for k, v in {**COMMON_ENV, **(LOCAL_ENV if local else {})}.items():
        os.environ.setdefault(k, v)
    if not local and _cluster_token_available():
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    try:
        import ray
        import ray.data  # noqa: F401  (ray without the [data] extra lacks pandas/pyarrow)
    except ImportError as exc:
        raise RayError(f"--ray needs Ray Data, which is not installed here ({exc}): run `{INSTALL_HINT}`") from exc
    if local:
        # Ray read the variable when it was first imported; a process that imported it earlier
        # (before qa set it) still gets the loopback node address.
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False
    return ray


def _check_reachable(address: str) -> None:
    """Fail fast, with a clear message, when nothing listens at a cluster's ``HOST:PORT``."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise RayError(f"--ray {address}: expected HOST:PORT (a Ray head's GCS address, e.g. 10.0.0.5:6379) "
                       "or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise RayError(f"--ray {address}: cannot reach a Ray cluster there ({exc}); start one with "
                       f"`ray start --head --port={port}` or check the address") from exc


class RaySession:
    """A connection to Ray: a local instance started here, or an existing cluster.

    Args:
        address: None (or ``local``) for a local instance on loopback; otherwise a cluster address
            as ``ray.init`` takes it (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``).
        num_cpus: CPUs of a local instance (default: every core); ignored for a cluster.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = None if address in (None, "", "local") else address
        self.num_cpus = num_cpus
        self.ray = None
        self.started_here = False
        self.seconds = 0.0

    def connect(self):
        """Start or join Ray once (an instance this process already joined is reused); returns ``ray``."""
        if self.ray is not None:
            return self.ray
        local = self.address is None
        ray = import_ray(local)
        t = time.perf_counter()
        if not local:
            _check_reachable(self.address)
        if not ray.is_initialized():
            # Ray's own notices (a new auth token, "started a local instance") are not the user's
            # business; its failures still come back as exceptions, which qa reports.
            kwargs = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False,
                          configure_logging=True)
            if local:
                from qa.embed.docenc import default_workers

                kwargs["num_cpus"] = self.num_cpus or default_workers()
            try:
                ray.init(address=self.address, **kwargs)
            except (ConnectionError, TimeoutError, RuntimeError, ValueError, ray.exceptions.AuthenticationError) as exc:
                where = "a local Ray instance" if local else f"the Ray cluster at {self.address}"
                hint = ""
                if not local:  # its port answered (_check_reachable): most often a missing or wrong token
                    hint = ("; if the cluster uses token auth (Ray's default), put the head's token "
                            "(`ray get-auth-token` there) in ~/.ray/auth_token or $RAY_AUTH_TOKEN here")
                raise RayError(f"--ray: cannot start or join {where}: {str(exc).splitlines()[0]}{hint}") from exc
            self.started_here = True
        self.seconds = time.perf_counter() - t
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # per-run "execution finished" notices
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # qa's own bar reports progress
        if hasattr(ctx, "print_on_execution_start"):
            ctx.print_on_execution_start = False
        self.ray = ray
        return ray

    def cpus(self) -> int:
        """CPUs Ray can schedule on (the whole cluster's)."""
        return max(1, int(self.connect().cluster_resources().get("CPU", 1)))

    def node_addresses(self) -> list[str]:
        """The addresses of the cluster's live nodes (127.0.0.1 for qa's local instance)."""
        return [n["NodeManagerAddress"] for n in self.connect().nodes() if n.get("Alive")]

    def close(self) -> None:
        """Shut Ray down if this session started or joined it here."""
        if self.ray is not None and self.started_here:
            self.ray.shutdown()
        self.ray = None
        self.started_here = False


class RayEmbedder:
    """An :class:`~qa.embed.model.Embedder` whose document embedding runs on Ray Data.

    Args:
        inner: The embedder to distribute (its model, batch size and precision are used).
        address: None or ``local`` for a local Ray instance; else a cluster address.
        workers: Model actors (default: every CPU of the Ray instance or cluster).
        session: A :class:`RaySession` to use (default: a new one for ``address``).
    """

    #: The builder embeds all of a build's chunks in one call for this embedder (one actor pool
    #: per build) instead of streaming groups (each would start a new pool and load the model).
    whole_corpus = True

    def __init__(self, inner, address: str | None = None, workers: int | None = None,
                 session: RaySession | None = None) -> None:
        self.inner = inner
        self.workers = workers
        self.session = session or RaySession(address, num_cpus=workers)
        self.runs = 0  # Ray Data executions so far (tests, bench)

    def __getattr__(self, name: str):
        # info, path, tokenizer, precision, encode_query(s), use_encoder_dir, ... are the inner one's.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def engine(self) -> dict:
        """The wrapped engine's record, with Ray as the way its workers were spread."""
        eng = dict(self.inner.engine)
        eng["workers"] = self._workers() if self.session.ray is not None else self.workers
        eng["worker_mode"] = "ray actors"
        eng["ray"] = {"address": self.session.address or "local"}
        try:
            eng["ray"]["version"] = __import__("ray").__version__
        except ImportError:
            pass
        return eng

    def close(self) -> None:
        """Shut down the Ray instance this embedder started, and the inner embedder's workers."""
        self.session.close()
        if hasattr(self.inner, "close"):
            self.inner.close()

    def encode(self, texts: list[str], show_progress: bool = False, on_batch=None) -> np.ndarray:
        """``(n, dim)`` unit vectors of ``texts``, as :meth:`Embedder.encode` returns them."""
        texts = list(texts)
        if len(texts) < LOCAL_BELOW:
            return self.inner.encode(texts, show_progress=show_progress, on_batch=on_batch)
        return self._run(texts, None, on_batch).vectors

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                          show_progress: bool = False, on_batch=None) -> SpanEncoding:
        """Vectors of ``texts`` and pooled token sums of their ``spans``, as
        :meth:`Embedder.encode_with_spans` returns them."""
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        return self._run(list(texts), [list(s) for s in spans], on_batch)

    def _workers(self) -> int:
        return self.workers or self.session.cpus()

    def _plan(self, texts: list[str]) -> tuple[list[np.ndarray], ActorSpec]:
        """The single-process path's batches of ``texts`` and what the actors must load."""
        inner = self.inner
        path = str(inner.path)
        enc = inner.document_encoder()  # exports (and quantises, for int8) once, into the index folder
        if enc is not None:
            import dataclasses

            from qa.embed.docenc import plan_batches

            lengths = [len(e.ids) for e in enc._local.tokenize(texts)]
            cfg = enc.config if enc.mode == "threads" else dataclasses.replace(enc.config, threads=1)
            return plan_batches(lengths, enc.budget), ActorSpec(path, inner.batch_size, inner.precision.value, cfg)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        batches = [order[b:b + inner.batch_size] for b in range(0, len(texts), inner.batch_size)]
        import torch

        return batches, ActorSpec(path, inner.batch_size, inner.precision.value, threads=torch.get_num_threads())

    def _run(self, texts: list[str], spans: list[list[tuple[int, int]]] | None, on_batch) -> SpanEncoding:
        dim = self.inner.info.dim
        n_spans = np.asarray([len(s) for s in spans] if spans is not None else [0] * len(texts), dtype=np.int64)
        first = np.concatenate([[0], np.cumsum(n_spans)]).astype(np.int64)
        vectors = np.zeros((len(texts), dim), dtype=np.float32)
        sums = np.zeros((int(first[-1]), dim), dtype=np.float32)
        counts = np.zeros(int(first[-1]), dtype=np.int64)
        if not texts:
            return SpanEncoding(vectors, sums, counts)
        batches, spec = self._plan(texts)
        ray = self.session.connect()
        rows = []
        for b, idx in enumerate(batches):
            sp = [spans[i] for i in idx] if spans is not None else [[] for _ in idx]
            flat = [x for s in sp for x in s]
            rows.append({"batch": b, "texts": [texts[i] for i in idx], "pooled": spans is not None,
                         "n_spans": n_spans[idx].tobytes(),
                         "starts": np.asarray([s for s, _ in flat], dtype=np.int64).tobytes(),
                         "ends": np.asarray([e for _, e in flat], dtype=np.int64).tobytes()})
        workers = min(self._workers(), len(rows))
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        ds = _map(ds, ray, _actor_class(spec), workers, restarts=self.session.address is not None)
        self.runs += 1
        try:
            self._collect(ds.iter_rows(), batches, n_spans, first, vectors, sums, counts, on_batch)
        except ray.exceptions.RayError as exc:  # an actor or task died on the cluster
            where = "the local Ray instance" if self.session.address is None else f"the Ray cluster at {self.session.address}"
            raise RayError(f"--ray: embedding failed on {where}: {type(exc).__name__}: {str(exc).splitlines()[0]} "
                           "(a worker died: check the cluster's logs, its memory, its auth token, and that the "
                           "model path exists on every node)") from exc
        return SpanEncoding(vectors, sums, counts)

    @staticmethod
    def _collect(rows, batches, n_spans, first, vectors, sums, counts, on_batch) -> None:
        """Write each finished batch's vectors, span sums and token counts into place."""
        dim = vectors.shape[1]
        for out in rows:
            idx = batches[int(out["batch"])]
            vectors[idx] = np.frombuffer(out["vectors"], dtype=np.float32).reshape(len(idx), dim)
            s = np.frombuffer(out["sums"], dtype=np.float32).reshape(-1, dim)
            c = np.frombuffer(out["tokens"], dtype=np.int64)
            at = 0
            for i in idx:
                k = int(n_spans[i])
                sums[first[i]:first[i] + k], counts[first[i]:first[i] + k] = s[at:at + k], c[at:at + k]
                at += k
            if on_batch is not None:
                on_batch(len(idx))
