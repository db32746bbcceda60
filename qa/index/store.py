"""Read and write a built index folder, atomically and in safe formats only (JSON, NumPy, FAISS).

Layout: ``<index_dir>/CURRENT`` names the live build folder ``<index_dir>/build-<id>/``. A build is
written into a fresh folder and made live by replacing ``CURRENT`` with ``os.replace``, which is
atomic: a build killed at any point leaves the previous index live and intact. The previous build
folder is kept one generation so that a reader that just opened it is not pulled from under.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import IndexError_, WriteError, describe_os_error
from qa.index.dense import load_dense, save_dense
from qa.index.lexical import LexicalIndex
from qa.types import Article

FORMAT_VERSION = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
_VERIFY_HASH_MAX_BYTES = 64 * 2**20

FIX_HINT = "rebuild it with `qa index --rebuild` (add --corpus PATH and --index-dir DIR as used before)"


@dataclass
class IndexData:
    """Everything a build produces, in memory, in the order rows are stored."""

    articles: list[Article]
    chunk_ids: list[str]
    chunk_doc: np.ndarray  # (n_chunks,) int64 article row
    chunk_span: np.ndarray  # (n_chunks, 2) int64 start, end
    chunk_sents: np.ndarray  # (n_chunks, 2) int64 sentence rows [lo, hi)
    sentences: np.ndarray  # (n_sents, 3) int64 article row, start, end
    chunk_vectors: np.ndarray  # (n_chunks, dim) float32
    sentence_vectors: np.ndarray  # (n_sents, dim) float32
    dense: object = None
    lexical: LexicalIndex | None = None
    manifest: dict = field(default_factory=dict)


def live_folder(index_dir: Path) -> Path | None:
    """The live build folder of ``index_dir``, or None when no index was built there."""
    pointer = index_dir / POINTER
    if not pointer.is_file():
        finished = [p for p in index_dir.glob("build-*") if (p / MANIFEST).is_file()] if index_dir.is_dir() else []
        if finished:
            # Builds finished but the pointer is gone: deleted by hand or lost, never "no index".
            raise IndexError_(f"the index pointer {pointer} is missing, though {index_dir} holds "
                              f"{len(finished)} build folder(s); {FIX_HINT}")
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexError_(f"{pointer} is unreadable or corrupt ({exc}); {FIX_HINT}") from None
    if not name or "/" in name or "\\" in name or name.startswith(".") or not name.startswith("build-"):
        raise IndexError_(f"{pointer} is corrupt (names {name!r}); {FIX_HINT}")
    if not (index_dir / name).is_dir():
        raise IndexError_(f"{pointer} names the build folder {name!r}, which does not exist; {FIX_HINT}")
    return index_dir / name


def read_manifest(index_dir: Path) -> dict | None:
    """The live manifest, or None when there is no index. Raises on a broken one."""
    folder = live_folder(index_dir)
    return None if folder is None else read_folder_manifest(index_dir, folder)


def read_folder_manifest(index_dir: Path, folder: Path) -> dict:
    """The manifest of the build folder ``folder``, checked for shape. Raises on a broken one.

    Readers that go on to load the folder's files must use the folder they read the manifest
    from: reading ``CURRENT`` a second time can name a newer build whose files the first
    manifest does not describe (a misleading "truncated or overwritten").
    """
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexError_(f"the index in {index_dir} is incomplete: {path} is missing; {FIX_HINT}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexError_(f"the index manifest {path} is unreadable ({exc}); {FIX_HINT}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict) \
            or not all(isinstance(m, dict) and isinstance(m.get("bytes"), int) and isinstance(m.get("sha256"), str)
                       for m in manifest["files"].values()):
        raise IndexError_(f"the index manifest {path} is corrupt (not the expected JSON object); {FIX_HINT}")
    return manifest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_index(index_dir: Path, data: IndexData) -> Path:
    """Write ``data`` as a new build folder and make it live atomically. Returns the folder.

    Raises:
        WriteError: When a file cannot be written (full disk: errno 28 from Python, a short write
            from numpy, a RuntimeError from FAISS; a read-only folder). The half-written folder is
            removed at once and the previous index stays live.
    """
    folder = index_dir / f"build-{uuid.uuid4().hex[:12]}"
    state = {"stage": "the build folder", "live": False, "tmp": []}
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
        _write_folder(index_dir, folder, data, state)
    except (OSError, RuntimeError) as exc:
        if not state["live"]:
            shutil.rmtree(folder, ignore_errors=True)
            for p in state["tmp"]:
                Path(p).unlink(missing_ok=True)
            cause, fix = describe_os_error(exc, index_dir if index_dir.is_dir() else None)
            raise WriteError(f"cannot write the index in {index_dir} ({cause}, while writing {state['stage']}: "
                             f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}); "
                             f"the previous index is intact and still used. To fix: {fix}, then run `qa index` "
                             "again") from None
        raise
    except BaseException:  # interrupted (Ctrl-C): leave nothing half-written behind
        if not state["live"]:
            shutil.rmtree(folder, ignore_errors=True)
            for p in state["tmp"]:
                Path(p).unlink(missing_ok=True)
        raise
    return folder


def _write_folder(index_dir: Path, folder: Path, data: IndexData, state: dict) -> None:
    state["stage"] = "articles.jsonl"
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as fh:
        for a in data.articles:
            fh.write(json.dumps({
                "doc_id": a.doc_id, "title": a.title, "date": a.date, "source": a.source, "url": a.url,
                "path": a.path, "content_hash": a.content_hash, "text": a.text,
            }, ensure_ascii=False) + "\n")
    state["stage"] = "chunks.jsonl"
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for i, cid in enumerate(data.chunk_ids):
            fh.write(json.dumps({
                "chunk_id": cid, "doc": int(data.chunk_doc[i]),
                "start": int(data.chunk_span[i, 0]), "end": int(data.chunk_span[i, 1]),
                "sent_lo": int(data.chunk_sents[i, 0]), "sent_hi": int(data.chunk_sents[i, 1]),
            }, ensure_ascii=False) + "\n")
    for name, arr in (("sentences.npy", data.sentences.astype(np.int64)),
                      ("chunk_vectors.npy", data.chunk_vectors.astype(np.float32)),
                      ("sentence_vectors.npy", data.sentence_vectors.astype(np.float32))):
        state["stage"] = name
        np.save(folder / name, arr, allow_pickle=False)
    state["stage"] = "dense.faiss"
    save_dense(data.dense, folder / "dense.faiss")
    state["stage"] = "bm25/"
    data.lexical.save(folder / "bm25")
    state["stage"] = MANIFEST

    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            files[p.relative_to(folder).as_posix()] = {"bytes": p.stat().st_size, "sha256": _sha256(p)}
    manifest = dict(data.manifest)
    manifest.update({
        "format_version": FORMAT_VERSION,
        "counts": {"articles": len(data.articles), "chunks": len(data.chunk_ids), "sentences": int(len(data.sentences))},
        "files": files,
    })
    tmp_manifest = folder / (MANIFEST + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp_manifest, folder / MANIFEST)
    state["stage"] = "the files to disk (fsync)"
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)

    state["stage"] = POINTER
    pointer_tmp = index_dir / f".{POINTER}.{uuid.uuid4().hex[:8]}.tmp"
    state["tmp"].append(pointer_tmp)
    pointer_tmp.write_text(folder.name, encoding="utf-8")
    with open(pointer_tmp, "rb") as fh:
        os.fsync(fh.fileno())
    previous = None
    try:
        previous = live_folder(index_dir)
    except IndexError_:
        previous = None
    os.replace(pointer_tmp, index_dir / POINTER)
    state["live"] = True  # from here on the new build is the index: never removed on an error
    _fsync_dir(index_dir)
    prune(index_dir, keep={folder.name, previous.name if previous else ""})


def prune(index_dir: Path, keep: set[str]) -> None:
    """Remove build folders and temp files other than ``keep`` (left by older or killed builds)."""
    for p in index_dir.iterdir():
        if p.name.startswith("build-") and p.is_dir() and p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{POINTER}.") and p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)


class IndexStore:
    """A loaded, validated index. Open with :meth:`open`; it never serves a broken index."""

    def __init__(self, index_dir: Path, folder: Path, data: IndexData) -> None:
        self.index_dir = index_dir
        self.folder = folder
        self.data = data
        self.manifest = data.manifest
        self.articles = data.articles
        self.doc_row = {a.doc_id: i for i, a in enumerate(data.articles)}
        self.chunk_row = {cid: i for i, cid in enumerate(data.chunk_ids)}

    @classmethod
    def exists(cls, index_dir: Path) -> bool:
        return (Path(index_dir) / POINTER).is_file()

    @classmethod
    def open(cls, index_dir: Path, verify: bool = True) -> "IndexStore":
        """Load the live index of ``index_dir``.

        Raises:
            IndexError_: With what is wrong and how to fix it, when files are missing, truncated,
                corrupted or disagree with each other.
        """
        index_dir = Path(index_dir)
        folder = live_folder(index_dir)  # CURRENT is read once: it may be swapped at any moment
        if folder is None:
            raise IndexError_(f"no index in {index_dir}; build one with `qa index --corpus PATH --index-dir {index_dir}`")
        manifest = read_folder_manifest(index_dir, folder)
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexError_(f"the index in {index_dir} has format {manifest.get('format_version')}, "
                              f"this qa reads format {FORMAT_VERSION}; {FIX_HINT}")
        for name, meta in manifest.get("files", {}).items():
            p = folder / name
            if not p.is_file():
                raise IndexError_(f"index file {p} is missing; {FIX_HINT}")
            size = p.stat().st_size
            if size != meta["bytes"]:
                raise IndexError_(f"index file {p} has {size} bytes, the manifest says {meta['bytes']} "
                                  f"(truncated or overwritten); {FIX_HINT}")
            if verify and size <= _VERIFY_HASH_MAX_BYTES and _sha256(p) != meta["sha256"]:
                raise IndexError_(f"index file {p} is corrupted (checksum mismatch); {FIX_HINT}")
        try:
            data = cls._load(folder, manifest)
        except IndexError_:
            raise
        except Exception as exc:  # any parse failure means a broken index, never a partial answer
            raise IndexError_(f"the index in {index_dir} cannot be read ({type(exc).__name__}: {exc}); {FIX_HINT}") from None
        counts = manifest.get("counts", {})
        n_chunks, n_sents = len(data.chunk_ids), len(data.sentences)
        problems = []
        if counts.get("articles") != len(data.articles) or counts.get("chunks") != n_chunks:
            problems.append("article or chunk counts differ from the manifest")
        if data.chunk_vectors.shape[0] != n_chunks or data.dense.ntotal != n_chunks:
            problems.append(f"{n_chunks} chunks but {data.chunk_vectors.shape[0]} vectors and "
                            f"{data.dense.ntotal} FAISS entries")
        if data.sentence_vectors.shape[0] != n_sents:
            problems.append(f"{n_sents} sentences but {data.sentence_vectors.shape[0]} sentence vectors")
        if data.lexical.size != n_chunks:
            problems.append(f"{n_chunks} chunks but {data.lexical.size} BM25 documents")
        dim = manifest.get("model", {}).get("dim")
        if data.chunk_vectors.ndim != 2 or data.chunk_vectors.shape[1] != dim or data.dense.d != dim:
            problems.append(f"vector dimension differs from the model's {dim}")
        if problems:
            raise IndexError_(f"the index in {index_dir} is inconsistent: {'; '.join(problems)}; {FIX_HINT}")
        return cls(index_dir, folder, data)

    @staticmethod
    def _load(folder: Path, manifest: dict) -> IndexData:
        articles = []
        with open(folder / "articles.jsonl", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                articles.append(Article(**r))
        chunk_ids, docs, spans, sents = [], [], [], []
        with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                chunk_ids.append(r["chunk_id"])
                docs.append(r["doc"])
                spans.append((r["start"], r["end"]))
                sents.append((r["sent_lo"], r["sent_hi"]))
        n = len(chunk_ids)
        return IndexData(
            articles=articles,
            chunk_ids=chunk_ids,
            chunk_doc=np.asarray(docs, dtype=np.int64).reshape(n),
            chunk_span=np.asarray(spans, dtype=np.int64).reshape(n, 2),
            chunk_sents=np.asarray(sents, dtype=np.int64).reshape(n, 2),
            sentences=np.load(folder / "sentences.npy", allow_pickle=False),
            chunk_vectors=np.load(folder / "chunk_vectors.npy", mmap_mode="r", allow_pickle=False),
            sentence_vectors=np.load(folder / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False),
            dense=load_dense(folder / "dense.faiss"),
            lexical=LexicalIndex.load(folder / "bm25"),
            manifest=manifest,
        )

    # -- lookups -----------------------------------------------------------------------------------
    def article(self, doc_id: str) -> Article:
        return self.articles[self.doc_row[doc_id]]

    def chunk_article(self, row: int) -> Article:
        return self.articles[int(self.data.chunk_doc[row])]

    def chunk_text(self, row: int) -> str:
        start, end = self.data.chunk_span[row]
        return self.chunk_article(row).text[int(start):int(end)]

    def chunk_sentence_rows(self, row: int) -> range:
        lo, hi = self.data.chunk_sents[row]
        return range(int(lo), int(hi))

    def sentence(self, row: int) -> tuple[Article, int, int]:
        doc, start, end = self.data.sentences[row]
        return self.articles[int(doc)], int(start), int(end)
