"""A Milvus collection as the search store: ``milvus-lite:PATH`` (an embedded file) or
``milvus://HOST:PORT`` (a server; a cluster is the same URI).

One collection per index, named from the index folder (:func:`collection_name`). Each passage is a
row: ``chunk_id`` (primary key), ``doc_id``, ``outlet`` (lower-cased), ``date`` (``""`` undated),
``terms`` and the unit ``vector`` (inner product = cosine). Filters become Milvus expressions on
those scalar fields, so they apply before ranking inside the engine. Where the engine has full-text
search (milvus-lite 3.x, server 2.5 and later) a BM25 Function turns ``terms`` into a sparse
``sparse`` field; ``terms`` holds the passage's bm25s terms (Snowball-stemmed, stop words removed),
so Milvus scores the same terms qa's own BM25 does. An older server gets no ``sparse`` field and
:attr:`MilvusBackend.lexical_available` is False: only dense retrieval is available there.

The collection records the model and chunking it was built with (``qa.meta`` collection property)
and the fingerprint of the index folder build it matches; :func:`open_backend` refuses a
collection from another model or out of step with the folder, with what to run to fix it.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from qa.config import StoreURI
from qa.errors import IndexError_, StoreNotLoaded
from qa.index.backend import EXACT_SHARE, ChunkRecord, Condition, Hits, Where

META_KEY = "qa.meta"
#: Rows sent per insert / ids per delete expression: well under gRPC's 64 MiB message limit.
BATCH = 1000
#: HNSW search breadth, as FAISS's default (qa.index.dense.search_dense) ...
EF_SEARCH = 128
#: ... raised up to this when a filter admits a small share of rows: a graph walk that keeps only
#: admitted rows meets few of them (the issue measured filtered recall 0.62 at ef 64 on the 2.3.5
#: server, 0.79 at 256), so breadth grows as ``depth / share``.
EF_MAX = 16384
#: A filter that admits at most this many passages of an HNSW collection is searched exactly: the
#: admitted vectors are fetched by the filter expression and scored here. bench/stores.py measured
#: the 2.3.5 server's filtered HNSW recall@10 at 0.29 (ef 128) and 0.42 (ef 11,000) for 7-day
#: windows admitting 0.9% of 12,146 passages; the graph walk never reaches most admitted rows.
EXACT_FETCH_ROWS = 4096
SEARCH_CONSISTENCY = "Session"
MAX_ID = 512
TERMS_MAX = 65535


def collection_name(index_dir: Path) -> str:
    """``qa_<folder name>_<hash of its absolute path>``: one collection per index folder, in
    Milvus's alphabet (letters, digits, underscores)."""
    path = Path(index_dir).resolve()
    stem = re.sub(r"[^A-Za-z0-9_]", "_", path.name)[:40] or "index"
    return f"qa_{stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}"


def connect(uri: StoreURI, timeout: float = 5.0):
    """A ``MilvusClient`` for ``uri``.

    Raises:
        IndexError_: When pymilvus is not installed, or the server cannot be reached.
    """
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise IndexError_(f"--store {uri} needs pymilvus and milvus-lite ({exc}); install them with "
                          "`pip install pymilvus==3.0.2 milvus-lite==3.2.2`, or use the default store") from None
    if uri.kind == "milvus-lite":
        target = Path(uri.target)
        if target.parent and not target.parent.is_dir():
            raise IndexError_(f"--store {uri}: the folder {target.parent} does not exist; create it or give another path")
        address = str(target)
    else:
        address = f"http://{uri.target}"
    attempts = 3 if uri.kind == "milvus-lite" else 1
    for attempt in range(attempts):
        try:
            return MilvusClient(uri=address, timeout=timeout)
        except Exception as exc:  # pymilvus raises MilvusException, grpc errors, timeouts
            # milvus-lite answers a channel's idle keepalive pings with GOAWAY ("too_many_pings"):
            # the next connect in the same process fails once and then works, so try again.
            error = exc
            if attempt + 1 < attempts:
                import time

                time.sleep(0.5 * (attempt + 1))
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if uri.kind == "milvus":
        raise IndexError_(f"cannot reach the Milvus server at {uri.target} ({first}); start it (for a local one: "
                          "`.ci/milvus start`) or check --store / $QA_STORE") from None
    raise IndexError_(f"cannot open the milvus-lite file {uri.target} ({first}); check the path, or remove "
                      "the file and run `qa index` again") from None


def server_has_bm25(version: str) -> bool:
    """Full-text search (BM25 Function, sparse vectors) exists in milvus-lite 3.x and server 2.5+."""
    v = version.strip().lower()
    if v.startswith("milvus_lite") or "lite" in v:
        m = re.search(r"(\d+)\.(\d+)", v)
        return m is None or int(m.group(1)) >= 3
    m = re.search(r"(\d+)\.(\d+)", v)
    return m is not None and (int(m.group(1)), int(m.group(2))) >= (2, 5)


def _quote(values) -> str:
    return json.dumps([str(v) for v in values], ensure_ascii=False)


def expression(conditions: tuple[Condition, ...]) -> str:
    """A Milvus filter expression that holds exactly when every condition does."""
    parts = []
    for c in conditions:
        if c.sources:
            parts.append(f"outlet in {_quote(c.sources)}")
        if c.date_from is not None or c.date_to is not None:
            bounds = []
            if c.date_from is not None:
                bounds.append(f"date >= {json.dumps(c.date_from)}")
            if c.date_to is not None:
                bounds.append(f"date <= {json.dumps(c.date_to)}")
            rng = " and ".join(bounds)
            parts.append(f'(date == "" or ({rng}))' if c.undated else f'(date != "" and {rng})')
    return " and ".join(f"({p})" for p in parts)


class MilvusBackend:
    """Search a Milvus collection, in chunk rows of the index folder's tables.

    Args:
        client: A connected ``MilvusClient``.
        name: The collection.
        chunk_ids: The folder's chunk ids in row order (hits are mapped back to rows; a passage the
            folder does not know is dropped).
        terms_of: The question's BM25 terms, space-separated (bm25s's tokenizer, as for passages).
        kind: ``milvus-lite`` or ``milvus``.
        ef_search: HNSW search breadth before filters raise it (default 128).
        uri: The store, to reconnect once when the engine dropped the channel (idle UI sessions).

    Attributes:
        updating: Opened while a build brings the collection one build past the folder's (see
            :func:`open_backend`): the changed articles' passages may be missing or new.
    """

    in_folder = False
    updating = False

    def __init__(self, client, name: str, chunk_ids: list[str] | None = None, terms_of=None,
                 kind: str = "milvus-lite", ef_search: int = EF_SEARCH, uri: StoreURI | None = None) -> None:
        self.client = client
        self.uri = uri
        self.name = name
        self.kind = kind
        self.terms_of = terms_of
        self.ef_search = ef_search
        self.chunk_row = {c: i for i, c in enumerate(chunk_ids or [])}
        desc = client.describe_collection(name)
        fields = {f["name"]: f for f in desc.get("fields", [])}
        self.lexical_available = "sparse" in fields
        self.index_type = (read_meta(client, name) or {}).get("index_type", "FLAT")
        self._total: int | None = None

    # -- search ----------------------------------------------------------------------------------
    def _search(self, **kw):
        # "Session", not the collection's "Strong": a Strong search waits for every node's clock
        # to pass the request's (about 200 ms a search on the 2.3.5 server, 8-10 ms otherwise);
        # Session still sees this process's own writes, and a build flushes before it finishes.
        kw.setdefault("consistency_level", SEARCH_CONSISTENCY)
        try:
            return self.client.search(self.name, **kw)
        except Exception:
            if self.uri is None:
                raise
            self.client = connect(self.uri)  # the channel was dropped: reconnect once
            self.client.load_collection(self.name)
            return self.client.search(self.name, **kw)

    def _ranked(self, results, sign: float = 1.0) -> Hits:
        pairs = []
        for hit in results[0] if results else []:
            row = self.chunk_row.get(hit["chunk_id"])
            if row is not None:
                pairs.append((row, sign * float(hit["distance"])))
        pairs.sort(key=lambda p: (-p[1], p[0]))  # ties in row order, as the FAISS store gives them
        return Hits([r for r, _ in pairs], dict(pairs))

    def _ef(self, depth: int, where: Where | None) -> int:
        ef = max(self.ef_search, depth)
        if where is not None:
            total = self.count()
            share = len(where) / max(total, 1)
            if share < EXACT_SHARE:
                ef = max(ef, int(np.ceil(depth / max(share, 1e-9))))
        return int(min(EF_MAX, ef))

    def dense(self, query_vector: np.ndarray, depth: int, where: Where | None = None) -> Hits:
        """Nearest passages by inner product; a filter is the collection's own expression."""
        if where is not None and len(where) == 0:
            return Hits()
        expr = expression(where.conditions) if where is not None else ""
        vec = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if self.index_type == "HNSW" and where is not None and len(where) <= EXACT_FETCH_ROWS:
            return self._exact(vec, depth, expr, len(where))
        params = {"metric_type": "IP"}
        if self.index_type == "HNSW":
            params["params"] = {"ef": self._ef(depth, where)}
        res = self._search(data=[vec.tolist()], anns_field="vector", limit=depth, filter=expr,
                                 output_fields=["chunk_id"], search_params=params)
        return self._ranked(res)

    def _exact(self, vec: np.ndarray, depth: int, expr: str, n: int) -> Hits:
        """Score every passage ``expr`` admits (fetched from the collection) by inner product."""
        got = self.client.query(self.name, filter=expr, output_fields=["chunk_id", "vector"], limit=n + 16,
                                consistency_level=SEARCH_CONSISTENCY)
        rows, vecs = [], []
        for r in got:
            row = self.chunk_row.get(r["chunk_id"])
            if row is not None:
                rows.append(row)
                vecs.append(r["vector"])
        if not rows:
            return Hits()
        scores = np.asarray(vecs, dtype=np.float32) @ vec
        ids = np.asarray(rows)
        top = np.lexsort((ids, -scores))[:depth]
        return Hits([int(ids[i]) for i in top], {int(ids[i]): float(scores[i]) for i in top})

    def lexical(self, query: str, depth: int, where: Where | None = None) -> Hits:
        """BM25 by Milvus full-text search over the passages' bm25s terms.

        milvus-lite reports BM25 as a negative distance (best first all the same), a server as a
        positive score: the magnitude is the score either way.
        """
        if not self.lexical_available:
            raise IndexError_(f"the Milvus store of {self.name} has no BM25 (the server is older than 2.5): "
                              "only dense retrieval is available; use --mode dense, or Milvus 2.5+ / milvus-lite")
        if where is not None and len(where) == 0:
            return Hits()
        terms = self.terms_of(query) if self.terms_of is not None else query
        if not terms.strip():
            return Hits()
        expr = expression(where.conditions) if where is not None else ""
        res = self._search(data=[terms], anns_field="sparse", limit=depth, filter=expr,
                                 output_fields=["chunk_id"], search_params={"metric_type": "BM25"})
        hits = self._ranked(res)
        scores = {r: abs(s) for r, s in hits.scores.items()}
        keep = [r for r in hits.ids if scores[r] > 0]
        keep.sort(key=lambda r: (-scores[r], r))
        return Hits(keep, {r: scores[r] for r in keep})

    # -- writes ----------------------------------------------------------------------------------
    def delete(self, doc_ids: list[str]) -> None:
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), BATCH):
            self.client.delete(self.name, filter=f"doc_id in {_quote(ids[i:i + BATCH])}")
        self._total = None

    def add(self, chunks: list[ChunkRecord]) -> None:
        for i in range(0, len(chunks), BATCH):
            rows = [{"chunk_id": c.chunk_id, "doc_id": c.doc_id[:MAX_ID], "outlet": c.outlet[:255], "date": c.date[:32],
                     "terms": c.terms[:TERMS_MAX],
                     "vector": np.asarray(c.vector, dtype=np.float32).reshape(-1).tolist()}
                    for c in chunks[i:i + BATCH]]
            self.client.insert(self.name, rows)
        self._total = None

    def replace(self, doc_ids: list[str], chunks: list[ChunkRecord]) -> None:
        """Delete the articles' passages, then insert the new ones: an article that now has fewer
        chunks must not keep its old tail (an upsert by chunk id would)."""
        self.delete(doc_ids)
        self.add(chunks)

    def count(self) -> int:
        if self._total is None:
            res = self.client.query(self.name, filter="", output_fields=["count(*)"])
            self._total = int(res[0]["count(*)"])
        return self._total


# -- collections and their record --------------------------------------------------------------------
def read_meta(client, name: str) -> dict | None:
    """The ``qa.meta`` record of collection ``name`` (None when absent or unreadable)."""
    props = client.describe_collection(name).get("properties") or {}
    raw = props.get(META_KEY)
    try:
        return json.loads(raw) if raw else None
    except (TypeError, ValueError):
        return None


def write_meta(client, name: str, meta: dict) -> None:
    client.alter_collection_properties(name, properties={META_KEY: json.dumps(meta, sort_keys=True)})


def create_collection(client, name: str, dim: int, lexical: bool, index_type: str, meta: dict) -> None:
    """A fresh collection (any old one of that name is dropped) with the passages' schema."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    if client.has_collection(name):
        client.drop_collection(name)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID + 16)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("outlet", DataType.VARCHAR, max_length=256)
    schema.add_field("date", DataType.VARCHAR, max_length=32)
    if lexical:
        schema.add_field("terms", DataType.VARCHAR, max_length=TERMS_MAX, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
    else:
        schema.add_field("terms", DataType.VARCHAR, max_length=TERMS_MAX)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    index = client.prepare_index_params()
    index.add_index("vector", index_type=index_type, metric_type="IP",
                    params={"M": 32, "efConstruction": 80} if index_type == "HNSW" else {})
    if lexical:
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                     output_field_names=["sparse"]))
        # bm25s's Lucene variant: k1 1.5, b 0.75 (qa.index.lexical).
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                        params={"bm25_k1": 1.5, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    write_meta(client, name, {**meta, "index_type": index_type})


def _version(client) -> str:
    try:
        return str(client.get_server_version())
    except Exception:  # an old server without the call
        return ""


def check_meta(meta: dict | None, name: str, uri: StoreURI, settings: dict, model: dict, index_dir: Path) -> None:
    """Refuse a collection built with another model or other chunking than the folder's."""
    fix = f"rebuild it with `qa index --rebuild --store {uri} --index-dir {index_dir}`"
    if meta is None:
        raise IndexError_(f"the Milvus collection {name} in {uri} has no qa record (not built by qa, or "
                          f"interrupted); {fix}")
    if meta.get("model_id") != model.get("model_id") or meta.get("dim") != model.get("dim"):
        raise IndexError_(f"the Milvus collection {name} in {uri} was built with model {meta.get('model_id')} "
                          f"(dim {meta.get('dim')}), but the index in {index_dir} uses {model.get('model_id')} "
                          f"(dim {model.get('dim')}); {fix}")
    if meta.get("settings") != settings:
        raise IndexError_(f"the Milvus collection {name} in {uri} was built with other chunking settings "
                          f"({meta.get('settings')}) than the index in {index_dir} ({settings}); {fix}")


def open_backend(uri: StoreURI, store, terms_of=None) -> MilvusBackend:
    """The Milvus store of the loaded index folder ``store`` (:class:`~qa.index.store.IndexStore`).

    Raises:
        StoreNotLoaded: There is no collection for this index yet.
        IndexError_: The server is down, or the collection is from another model or chunking, or
            out of step with the folder (another build wrote one of them since).
    """
    client = connect(uri)
    name = collection_name(store.index_dir)
    manifest = store.manifest
    fix = f"run `qa index --store {uri} --index-dir {store.index_dir}`"
    if not client.has_collection(name):
        raise StoreNotLoaded(f"no Milvus collection {name} for the index in {store.index_dir} in {uri}; {fix}")
    meta = read_meta(client, name)
    check_meta(meta, name, uri, manifest.get("settings"), manifest.get("model", {}), store.index_dir)
    updating = False
    if meta.get("fingerprint") != manifest.get("fingerprint"):
        updating = _updating_from(meta, manifest.get("fingerprint"), store.index_dir)
        if not updating:
            raise IndexError_(f"the Milvus collection {name} in {uri} is out of step with the index in "
                              f"{store.index_dir} (another build changed one of them); {fix}")
    client.load_collection(name)
    backend = MilvusBackend(client, name, store.data.chunk_ids, terms_of, kind=uri.kind, uri=uri)
    backend.updating = updating
    if not updating and backend.count() != len(store.data.chunk_ids):
        raise IndexError_(f"the Milvus collection {name} in {uri} holds {backend.count()} passages, the index in "
                          f"{store.index_dir} {len(store.data.chunk_ids)}; {fix}")
    return backend


def _updating_from(meta: dict, fingerprint: str | None, index_dir: Path) -> bool:
    """Whether a collection that does not record the folder's build is one build ahead of it, with
    that build still running: an incremental :func:`sync` from this folder's build under way
    (``syncing_from``), or done with the folder's swap still to come (``previous``).

    Readers of the folder are then served, not refused: only the articles that build changes can
    differ between the two (passages the folder does not know are dropped). Once no build runs,
    a mismatch is a failed build, and is refused.
    """
    from qa.index.lock import build_running

    if fingerprint is None or fingerprint not in (meta.get("syncing_from"), meta.get("previous")):
        return False
    return build_running(index_dir)


def sync(uri: StoreURI, index_dir: Path, data, texts_of, replace_docs: set[str] | None, removed: list[str],
         old_fingerprint: str | None, terms_of_many) -> MilvusBackend:
    """Bring the collection of ``index_dir`` in step with the build ``data`` (before it goes live).

    Incremental (delete the removed and changed articles' passages, insert the added and changed
    ones) when the collection matches the previous folder build, a full reload otherwise.

    Args:
        uri: The Milvus store.
        index_dir: The index folder (names the collection).
        data: The new :class:`~qa.index.store.IndexData` (with its manifest set).
        texts_of: ``rows -> [index text]`` for chunk rows of ``data``.
        replace_docs: Doc ids whose passages are new (added or changed); None: all of them.
        removed: Doc ids gone from the corpus.
        old_fingerprint: The previous folder build's fingerprint (None: no previous build).
        terms_of_many: ``[text] -> [terms]`` (bm25s's tokenizer).
    """
    client = connect(uri)
    name = collection_name(index_dir)
    man = data.manifest
    model = man.get("model", {})
    meta = {"model_id": model.get("model_id"), "dim": model.get("dim"), "settings": man.get("settings"),
            "chunking": man.get("chunking"), "index_dir": str(Path(index_dir).resolve()), "fingerprint": None}
    full = True
    if client.has_collection(name) and replace_docs is not None and old_fingerprint is not None:
        got = read_meta(client, name)
        full = not (got and got.get("fingerprint") == old_fingerprint and got.get("settings") == meta["settings"]
                    and got.get("model_id") == meta["model_id"] and got.get("dim") == meta["dim"])
    if full:
        from qa.config import ANN_THRESHOLD

        index_type = "HNSW" if len(data.chunk_ids) >= ANN_THRESHOLD else "FLAT"
        create_collection(client, name, int(model.get("dim") or data.chunk_vectors.shape[1]),
                          server_has_bm25(_version(client)), index_type, meta)
    else:
        meta["index_type"] = read_meta(client, name).get("index_type", "FLAT")
        # From here on the collection is between builds: readers of the previous folder build are
        # served while this build runs (_updating_from), and refused if it dies.
        write_meta(client, name, {**meta, "fingerprint": None, "syncing_from": old_fingerprint})
    client.load_collection(name)
    backend = MilvusBackend(client, name, kind=uri.kind)
    if full:
        replace_docs = None  # a fresh collection takes every passage
    rows = [i for i, d in enumerate(data.chunk_doc)
            if replace_docs is None or data.articles[int(d)].doc_id in replace_docs]
    texts = texts_of(rows)
    terms = terms_of_many(texts) if backend.lexical_available else [""] * len(rows)
    records = []
    for i, row in enumerate(rows):
        art = data.articles[int(data.chunk_doc[row])]
        records.append(ChunkRecord(data.chunk_ids[row], art.doc_id, (art.source or "").lower(), art.date or "",
                                   terms[i], data.chunk_vectors[row]))
    if full:
        backend.add(records)
    else:
        backend.replace(sorted(set(replace_docs) | set(removed)), records)
    if hasattr(client, "flush"):  # a server seals the segments; milvus-lite persists its file
        client.flush(name)
    write_meta(client, name, {**meta, "fingerprint": man.get("fingerprint"),
                              "previous": None if full else old_fingerprint})
    return backend


def bm25_terms(texts: list[str]) -> list[str]:
    """Each text's bm25s terms, space-separated: the tokenizer, stop words and Snowball stemmer of
    :class:`~qa.index.lexical.LexicalIndex`, so both stores' BM25 count the same terms."""
    import bm25s

    from qa.index.lexical import _stemmer

    if not texts:
        return []
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)
    return [" ".join(t) for t in tokens]


def in_step(uri: StoreURI, index_dir: Path, fingerprint: str, chunks: int) -> bool:
    """Whether the collection of ``index_dir`` records build ``fingerprint`` and holds ``chunks``
    passages (an unchanged corpus may then skip the build); False when unreachable or missing."""
    try:
        client = connect(uri)
        name = collection_name(index_dir)
        if not client.has_collection(name):
            return False
        meta = read_meta(client, name) or {}
        if meta.get("fingerprint") != fingerprint:
            return False
        client.load_collection(name)
        return int(client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]) == chunks
    except IndexError_:
        raise
    except Exception:
        return False
