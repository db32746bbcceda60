"""Build or update an index from a corpus, embedding only text that is new.

An unchanged corpus (same file bytes, model and parameters) is a no-op. Otherwise every article
whose cleaned text is unchanged keeps its chunks, sentences and vectors from the previous index;
only added and changed articles are split and embedded; deleted ones simply drop out.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np

from qa import __version__
from qa.chunk.sentences import split_sentences
from qa.chunk.splitter import TokenChunker
from qa.config import ANN_THRESHOLD, PIPELINE_VERSION, ChunkParams, SentenceVectors, StoreURI
from qa.embed.model import Embedder
from qa.embed.onnx import export_query_encoder
from qa.embed.pooling import SpanEncoding, sentence_vectors
from qa.errors import CorpusError, IndexError_
from qa.index.dense import DenseKind, build_dense
from qa.index.lexical import LexicalIndex
from qa.index.lock import index_lock
from qa.index.store import IndexData, IndexStore, read_manifest, write_index
from qa.ingest.corpus import CorpusLoader, corpus_fingerprint, scan_files
from qa.ingest.metadata import SIDECAR_NAME
from qa.ingest.readers import DEFAULT_MAX_FILE_BYTES, IngestIssue
from qa.types import Article


@dataclass
class BuildReport:
    """What a build did. ``noop`` is True when the corpus was unchanged and nothing was written."""

    index_dir: Path
    noop: bool = False
    articles: int = 0
    chunks: int = 0
    sentences: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_texts: int = 0
    dense_kind: str = ""
    issues: list[IngestIssue] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    embedded_chunks: int = 0
    engine: dict = field(default_factory=dict)
    #: The search store written besides the folder (``""``: the folder's own FAISS + bm25s).
    store: str = ""

    def rates(self) -> dict[str, float]:
        """Build throughput: articles/s and embedded chunks/s over the whole build."""
        s = max(self.seconds, 1e-9)
        return {"articles_per_s": (len(self.added) + len(self.changed)) / s,
                "chunks_per_s": self.embedded_chunks / s}

    def summary(self) -> str:
        if self.noop:
            return (f"index in {self.index_dir} is up to date ({self.articles} articles); nothing to do "
                    f"({self.seconds:.2f}s)")
        r = self.rates()
        how = ""
        if self.engine:
            how = f"; {self.engine.get('engine')} {self.engine.get('precision')}"
            if self.engine.get("workers"):
                how += f", {self.engine['workers']} {self.engine.get('worker_mode', 'threads')}"
        return (f"indexed {self.articles} articles, {self.chunks} chunks, {self.sentences} sentences into "
                f"{self.index_dir} in {self.seconds:.1f}s ({r['articles_per_s']:.1f} articles/s, "
                f"{r['chunks_per_s']:.1f} chunks/s): {len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed, {self.unchanged} unchanged; embedded {self.embedded_texts} texts"
                f"{how}; dense index: {self.dense_kind}" + (f"; store: {self.store}" if self.store else ""))


def _version(pkg: str) -> str | None:
    try:
        return importlib_metadata.version(pkg)
    except importlib_metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    return {p: _version(p) for p in ("qa-news", "sentence-transformers", "faiss-cpu", "bm25s",
                                     "langchain-text-splitters", "sentencex", "torch")}


def index_text(article: Article, start: int, end: int, title_in_chunk: bool) -> str:
    """The text embedded and BM25-indexed for a chunk: its sentences, led by the article title."""
    body = article.text[start:end]
    if title_in_chunk and article.title and not body.startswith(article.title):
        return f"{article.title}\n{body}"
    return body


class IndexBuilder:
    """Build the index for a corpus.

    Args:
        embedder: The embedding model.
        params: Chunking parameters (defaults: 128 tokens, 24 overlap, title in chunk).
        max_file_bytes: Skip larger files (default 20 MiB).
        progress: Show progress bars (default True).
        ann_threshold: Chunk count at which the dense index switches from exact to HNSW.
        sentence_vectors: How sentence vectors are made (default ``pooled``: from the chunks'
            forward pass; see :class:`~qa.config.SentenceVectors`).
        query_encoder: Also export the model to ONNX for embedding questions without torch
            (default True; :mod:`qa.embed.onnx`).
        follow_links: Read files that symbolic links lead to outside their corpus folder (default
            False: skipped with a warning; :func:`~qa.ingest.corpus.scan_files`).
        store: Where passages are searched (:class:`~qa.config.StoreURI`, default the FAISS
            folder). A Milvus store is brought in step (:func:`qa.index.milvus.sync`) before the
            folder's new build goes live; the folder keeps the article, chunk and sentence tables.
    """

    def __init__(self, embedder: Embedder, params: ChunkParams | None = None,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, progress: bool = True,
                 ann_threshold: int = ANN_THRESHOLD,
                 sentence_vectors: SentenceVectors | str = SentenceVectors.POOLED,
                 query_encoder: bool = True, follow_links: bool = False,
                 store: StoreURI | str | None = None) -> None:
        self.embedder = embedder
        self.store = store if isinstance(store, StoreURI) else StoreURI.parse(store)
        self.follow_links = follow_links
        self.query_encoder = query_encoder
        self.sentence_vectors = SentenceVectors.parse(sentence_vectors)
        self.params = params or ChunkParams()
        self.max_file_bytes = max_file_bytes
        self.progress = progress
        self.ann_threshold = ann_threshold
        budget = max(16, embedder.info.max_seq_length - 2)
        self.chunk_tokens = min(self.params.chunk_tokens, budget)

    def _settings(self) -> dict:
        return {"model_id": self.embedder.info.model_id, "chunking": self.params.to_dict(),
                "chunk_tokens_effective": self.chunk_tokens, "pipeline_version": PIPELINE_VERSION,
                "sentence_vectors": self.sentence_vectors.value}

    def run(self, corpus: list[Path], index_dir: Path, rebuild: bool = False,
            lock_timeout: float = 0.0) -> BuildReport:
        """Build or update the index of ``corpus`` in ``index_dir``.

        Raises:
            CorpusError: When the corpus holds no usable article.
            IndexBusyError: When another process is building the same index.
        """
        t0 = time.perf_counter()
        index_dir = Path(index_dir)
        report = BuildReport(index_dir=index_dir)
        with index_lock(index_dir, timeout=lock_timeout):
            issues: list[IngestIssue] = []
            files = scan_files([Path(p) for p in corpus], issues, self.max_file_bytes, self.follow_links)
            settings = self._settings()
            # The default store adds nothing, so FAISS indexes built before stores existed stay up to date.
            where = "" if self.store.kind == "faiss" else "\0store=" + str(self.store)
            fingerprint = hashlib.sha256(
                (corpus_fingerprint(files) + sidecar_fingerprint(corpus) + json.dumps(settings, sort_keys=True)
                 + where).encode()
            ).hexdigest()
            # An unchanged corpus is decided from the manifest and the files' sizes alone: opening the
            # store (BM25 and its imports, the vectors) took most of a no-op's time.
            counts = None if rebuild else _unchanged_counts(index_dir, fingerprint)
            store_ok = True
            if counts is not None and self.store.kind != "faiss":
                from qa.index.milvus import in_step

                # The collection was dropped or rebuilt elsewhere: bring it back in step.
                store_ok = in_step(self.store, index_dir, fingerprint, counts[1])
                counts = counts if store_ok else None
            if counts is not None:
                self._query_encoder(index_dir, report)
                report.noop = True
                report.articles, report.chunks = counts
                report.issues = issues
                report.seconds = time.perf_counter() - t0
                return report
            old = self._open_previous(index_dir, rebuild, issues)
            if old is not None and old.manifest.get("fingerprint") == fingerprint and store_ok:
                self._query_encoder(index_dir, report)
                report.noop = True
                report.articles = len(old.articles)
                report.chunks = len(old.data.chunk_ids)
                report.issues = issues
                report.seconds = time.perf_counter() - t0
                return report
            t = time.perf_counter()
            loaded = CorpusLoader(max_file_bytes=self.max_file_bytes).run([], files=files, issues=issues)
            report.timings["ingest"] = time.perf_counter() - t
            report.issues = loaded.issues
            if not loaded.articles:
                where = ", ".join(str(p) for p in corpus) or "(nothing)"
                shown = "".join(f"\n  {i}" for i in issues[:5])
                more = f"\n  … and {len(issues) - 5} more" if len(issues) > 5 else ""
                raise CorpusError(f"no usable article in {where}: supported files are .txt, .md, .html, "
                                  f".jsonl ({len(issues)} problems reported){':' if issues else ''}{shown}{more}")
            compatible = old is not None and old.manifest.get("settings") == settings
            if hasattr(self.embedder, "use_encoder_dir"):  # the int8 document model is kept beside the index
                self.embedder.use_encoder_dir(index_dir)
            data = self._assemble(loaded.articles, old if compatible else None, report)
            data.manifest = {
                "fingerprint": fingerprint,
                "settings": settings,
                "model": self.embedder.info.to_dict(),
                # Informational: float32 and bfloat16 vectors agree to cosine 0.9999 and mix freely.
                # An update that embedded nothing keeps the old record rather than import torch to
                # resolve the precision.
                "precision": (self.embedder.precision.value if report.embedded_texts
                              else (old.manifest.get("precision") if old is not None else None)),
                # How documents were embedded (engine, int8 quantisation, workers): issue 15.
                "document_encoder": (report.engine if report.embedded_texts
                                     else (old.manifest.get("document_encoder") if old is not None else None)),
                "chunking": self.params.to_dict(),
                "dense": {"kind": report.dense_kind, "ann_threshold": self.ann_threshold},
                "corpus": [str(p) for p in corpus],
                "follow_links": self.follow_links,  # updates (uploads) read the corpus the same way
                "duplicates": loaded.duplicates,
                "issues": [str(i) for i in loaded.issues][:1000],
                "versions": library_versions(),
                "qa_version": __version__,
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            if self.store.kind != "faiss":
                t = time.perf_counter()
                self._sync_store(index_dir, data, report, old if compatible and store_ok else None)
                report.timings["store"] = time.perf_counter() - t
            t = time.perf_counter()
            write_index(index_dir, data)
            report.timings["write"] = time.perf_counter() - t
            self._query_encoder(index_dir, report)
        report.seconds = time.perf_counter() - t0
        return report

    def _sync_store(self, index_dir: Path, data: IndexData, report: BuildReport, old: IndexStore | None) -> None:
        """Bring the Milvus collection in step with ``data``: only the added, changed and removed
        articles' passages when it matches ``old``, all of them otherwise."""
        from qa.index.milvus import bm25_terms, sync

        def texts_of(rows: list[int]) -> list[str]:
            return [index_text(data.articles[int(data.chunk_doc[r])], int(data.chunk_span[r, 0]),
                               int(data.chunk_span[r, 1]), self.params.title_in_chunk) for r in rows]

        replace = None if old is None else set(report.added) | set(report.changed)
        sync(self.store, index_dir, data, texts_of, replace, list(report.removed),
             old.manifest.get("fingerprint") if old is not None else None, bm25_terms)
        report.store = str(self.store)

    def _query_encoder(self, index_dir: Path, report: BuildReport) -> None:
        """Export the model for questions (:mod:`qa.embed.onnx`) unless the folder has it already."""
        if not self.query_encoder:
            return
        t = time.perf_counter()
        export_query_encoder(self.embedder, index_dir)
        report.timings["query_encoder"] = time.perf_counter() - t

    def _embed(self, articles: list[Article], plans: list[tuple], chunk_texts: list[str],
               sent_texts: list[str], report: BuildReport, stream: "_EmbedStream | None" = None,
               bar=None) -> tuple[np.ndarray, np.ndarray]:
        """Vectors for the new chunks and new sentences (``stream`` already holds the chunks' work)."""
        if self.sentence_vectors is SentenceVectors.SEPARATE:
            n_new = sum(1 for p in plans if p[0] == "new" and p[2])
            if _takes_on_batch(self.embedder.encode) and bar is not None:
                credit = _Credit(bar, n_new, len(chunk_texts) + len(sent_texts))
                vecs = self.embedder.encode(chunk_texts + sent_texts, on_batch=credit)
            else:
                vecs = self.embedder.encode(chunk_texts + sent_texts)
                if bar is not None:
                    bar.update(n_new)
            report.embedded_texts = len(chunk_texts) + len(sent_texts)
            return vecs[: len(chunk_texts)], vecs[len(chunk_texts):]
        # Each chunk's text is its title line (if any) then article.text[start:end]; a sentence's
        # span is clipped to the chunk, so one cut by a chunk border is pooled from both chunks.
        spans: list[list[tuple[int, int]]] = []
        owner: list[int] = []
        for art, plan in zip(articles, plans):
            if plan[0] != "new":
                continue
            _, sents, chunks, c_off, s_off = plan
            spans.extend(_chunk_spans(sents, chunks, chunk_texts[c_off:c_off + len(chunks)]))
            for start, end, lo, hi in chunks:
                owner.extend(range(s_off + lo, s_off + hi))
        if stream is not None:
            enc = stream.finish(self.embedder.info.dim)
        elif bar is not None and _takes_on_batch(self.embedder.encode_with_spans):
            n_new = sum(1 for p in plans if p[0] == "new" and p[2])
            enc = self.embedder.encode_with_spans(chunk_texts, spans, on_batch=_Credit(bar, n_new, len(chunk_texts)))
        else:
            enc = self.embedder.encode_with_spans(chunk_texts, spans)
        span_chunk = np.repeat(np.arange(len(spans)), [len(sp) for sp in spans])
        sent_vecs, tokens = sentence_vectors(enc, span_chunk, np.asarray(owner, dtype=np.int64), len(sent_texts))
        # A sentence no chunk token fell in (only symbols the tokenizer drops, say) is embedded alone.
        orphans = np.flatnonzero(tokens == 0)
        if len(orphans):
            sent_vecs[orphans] = self.embedder.encode([sent_texts[i] for i in orphans])
        report.embedded_texts = len(chunk_texts) + len(orphans)
        return enc.vectors, sent_vecs

    def _open_previous(self, index_dir: Path, rebuild: bool, issues: list[IngestIssue]) -> IndexStore | None:
        if rebuild:
            return None
        try:
            if read_manifest(index_dir) is None:
                return None
            return IndexStore.open(index_dir)
        except IndexError_ as exc:
            issues.append(IngestIssue(str(index_dir), f"previous index unusable, rebuilding from scratch ({exc})"))
            return None

    def _assemble(self, articles: list[Article], old: IndexStore | None, report: BuildReport) -> IndexData:
        from tqdm.auto import tqdm

        chunker = TokenChunker(self.embedder.tokenizer, self.chunk_tokens, self.params.overlap_tokens)
        old_blocks = _article_blocks(old) if old is not None else {}
        # Per article: ("old", old_row) or ("new", sentences, chunk spans, chunk sentence ranges).
        plans: list[tuple] = []
        new_chunk_texts: list[str] = []
        new_sent_texts: list[str] = []
        t = time.perf_counter()
        bar = tqdm(total=len(articles), desc="indexing", unit="article", disable=not self.progress,
                   dynamic_ncols=True, smoothing=0.1)
        # An embedder that spreads one call over workers (RayEmbedder: one actor pool per call) gets
        # the whole build at once; others embed in groups behind the chunking loop.
        whole = getattr(self.embedder, "whole_corpus", False)
        stream = None if self.sentence_vectors is SentenceVectors.SEPARATE or whole else _EmbedStream(self.embedder, bar)
        for art in articles:
            prev = old.doc_row.get(art.doc_id) if old is not None else None
            # The title is embedded with every chunk, so a new title (from a sidecar, say) is a change too.
            if prev is not None and old.articles[prev].content_hash == art.content_hash \
                    and old.articles[prev].title == art.title:
                plans.append(("old", prev))
                report.unchanged += 1
                bar.update(1)
                continue
            (report.changed if prev is not None else report.added).append(art.doc_id)
            sents = split_sentences(art.text)
            sent_starts = [s for s, _ in sents]
            sent_ends = [e for _, e in sents]
            chunks = []
            for span in chunker.run(art.text):
                lo = bisect.bisect_right(sent_ends, span.start)
                hi = bisect.bisect_left(sent_starts, span.end)
                chunks.append((span.start, span.end, lo, max(hi, lo)))
            if chunker.truncated:
                report.issues.append(IngestIssue(art.path or art.doc_id, f"more than {chunker.max_chunks:,} chunks; the rest "
                                                 "of the article is not indexed"))
            plans.append(("new", sents, chunks, len(new_chunk_texts), len(new_sent_texts)))
            texts = [index_text(art, s, e, self.params.title_in_chunk) for s, e, _, _ in chunks]
            new_chunk_texts.extend(texts)
            new_sent_texts.extend(art.text[s:e] for s, e in sents)
            if stream is not None:  # embedding starts while later articles are still being chunked
                stream.add(texts, _chunk_spans(sents, chunks, texts))
            elif not chunks:
                bar.update(1)
        if old is not None:
            kept = {a.doc_id for a in articles}
            report.removed = [a.doc_id for a in old.articles if a.doc_id not in kept]
        report.timings["chunk"] = time.perf_counter() - t

        try:
            new_chunk_vecs, new_sent_vecs = self._embed(articles, plans, new_chunk_texts, new_sent_texts, report,
                                                        stream, bar)
        finally:
            bar.close()
        # Chunking overlaps embedding: "chunk" is the chunking loop (embedding already running behind
        # it), "embed" the wait for the embedding still left after it.
        report.timings["embed"] = time.perf_counter() - t - report.timings["chunk"]
        report.embedded_chunks = len(new_chunk_texts)
        if report.embedded_texts:
            eng = getattr(self.embedder, "engine", None)
            report.engine = dict(eng) if isinstance(eng, dict) else {}

        t = time.perf_counter()
        dim = self.embedder.info.dim
        chunk_ids: list[str] = []
        chunk_doc, chunk_span, chunk_sents, sentences = [], [], [], []
        cvec_parts, svec_parts, index_texts = [], [], []
        n_sent = 0
        for row, (art, plan) in enumerate(zip(articles, plans)):
            if plan[0] == "old":
                (c_lo, c_hi), (s_lo, s_hi) = old_blocks[plan[1]]
                od = old.data
                for j, ci in enumerate(range(c_lo, c_hi)):
                    chunk_ids.append(f"{art.doc_id}#{j}")
                    chunk_doc.append(row)
                    chunk_span.append(od.chunk_span[ci])
                    chunk_sents.append(od.chunk_sents[ci] - s_lo + n_sent)
                    index_texts.append(index_text(art, int(od.chunk_span[ci, 0]), int(od.chunk_span[ci, 1]),
                                                  self.params.title_in_chunk))
                for si in range(s_lo, s_hi):
                    sentences.append((row, od.sentences[si, 1], od.sentences[si, 2]))
                cvec_parts.append(np.asarray(od.chunk_vectors[c_lo:c_hi]))
                svec_parts.append(np.asarray(od.sentence_vectors[s_lo:s_hi]))
                n_sent += s_hi - s_lo
            else:
                _, sents, chunks, c_off, s_off = plan
                for j, (s, e, lo, hi) in enumerate(chunks):
                    chunk_ids.append(f"{art.doc_id}#{j}")
                    chunk_doc.append(row)
                    chunk_span.append((s, e))
                    chunk_sents.append((lo + n_sent, hi + n_sent))
                    index_texts.append(new_chunk_texts[c_off + j])
                sentences.extend((row, s, e) for s, e in sents)
                cvec_parts.append(new_chunk_vecs[c_off:c_off + len(chunks)])
                svec_parts.append(new_sent_vecs[s_off:s_off + len(sents)])
                n_sent += len(sents)
        chunk_vectors = np.concatenate(cvec_parts) if cvec_parts else np.zeros((0, dim), np.float32)
        sentence_vectors = np.concatenate(svec_parts) if svec_parts else np.zeros((0, dim), np.float32)
        kind = DenseKind.for_size(len(chunk_ids), self.ann_threshold)
        report.dense_kind = kind.value
        dense = build_dense(chunk_vectors, kind)
        report.timings["dense"] = time.perf_counter() - t
        t = time.perf_counter()
        lexical = LexicalIndex.build(index_texts)
        report.timings["bm25"] = time.perf_counter() - t
        report.articles, report.chunks, report.sentences = len(articles), len(chunk_ids), len(sentences)
        return IndexData(
            articles=articles,
            chunk_ids=chunk_ids,
            chunk_doc=np.asarray(chunk_doc, dtype=np.int64).reshape(-1),
            chunk_span=np.asarray(chunk_span, dtype=np.int64).reshape(-1, 2),
            chunk_sents=np.asarray(chunk_sents, dtype=np.int64).reshape(-1, 2),
            sentences=np.asarray(sentences, dtype=np.int64).reshape(-1, 3),
            chunk_vectors=chunk_vectors,
            sentence_vectors=sentence_vectors,
            dense=dense,
            lexical=lexical,
        )


def _unchanged_counts(index_dir: Path, fingerprint: str) -> tuple[int, int] | None:
    """(articles, chunks) of the live index when its manifest has ``fingerprint`` and every file it
    lists has the recorded size; None otherwise (then the store is opened and checked in full)."""
    from qa.index.store import live_folder, read_folder_manifest

    try:
        folder = live_folder(index_dir)
        if folder is None:
            return None
        man = read_folder_manifest(index_dir, folder)
        if man.get("fingerprint") != fingerprint:
            return None
        for name, meta in man["files"].items():
            if (folder / name).stat().st_size != meta["bytes"]:
                return None
        with open(folder / "articles.jsonl", "rb") as f:
            articles = sum(1 for line in f if line.strip())
        chunks = int(np.load(folder / "chunk_vectors.npy", mmap_mode="r").shape[0])
    except (IndexError_, OSError, ValueError, KeyError, TypeError):
        return None
    return articles, chunks


def _chunk_spans(sents, chunks, texts: list[str]) -> list[list[tuple[int, int]]]:
    """Each chunk's sentence spans, as character offsets into the chunk's embedded text."""
    out = []
    for (start, end, lo, hi), text in zip(chunks, texts):
        shift = len(text) - (end - start) - start
        out.append([(max(sents[k][0], start) + shift, min(sents[k][1], end) + shift) for k in range(lo, hi)])
    return out


class _Credit:
    """Move the bar by whole articles as a group's texts get embedded (all of them once all are)."""

    def __init__(self, bar, articles: int, texts: int) -> None:
        self.bar, self.articles, self.texts = bar, articles, max(1, texts)
        self.done = self.given = 0

    def __call__(self, k: int) -> None:
        self.done += k
        due = self.articles if self.done >= self.texts else self.articles * self.done // self.texts
        if due > self.given:
            self.bar.update(due - self.given)
            self.given = due


def _takes_on_batch(fn) -> bool:
    import inspect

    try:
        return "on_batch" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _EmbedStream:
    """Embed chunks in groups on a background thread while the builder goes on chunking.

    The model releases the GIL (onnxruntime and torch both), so chunking the next articles in the
    main thread overlaps with embedding the previous ones. Groups of :attr:`GROUP_TEXTS` texts are
    long enough for length-sorted, token-budget batches to pad little.
    """

    GROUP_TEXTS = 1024

    def __init__(self, embedder, bar) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.embedder = embedder
        self.bar = bar
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="qa-embed")
        self._parts: list = []
        self._texts: list[str] = []
        self._spans: list = []
        self._articles = 0
        self._t0 = time.perf_counter()
        self._done_chunks = 0

    def add(self, texts: list[str], spans: list) -> None:
        self._texts.extend(texts)
        self._spans.extend(spans)
        self._articles += 1
        if len(self._texts) >= self.GROUP_TEXTS:
            self._submit()

    def _submit(self) -> None:
        if not self._articles:
            return
        texts, spans, arts = self._texts, self._spans, self._articles
        self._texts, self._spans, self._articles = [], [], 0
        if not texts:
            self.bar.update(arts)
            return
        credit = _Credit(self.bar, arts, len(texts))

        def on_batch(k: int) -> None:
            self._done_chunks += k
            credit(k)
            rate = self._done_chunks / max(time.perf_counter() - self._t0, 1e-9)
            self.bar.set_postfix_str(f"{rate:.1f} chunks/s", refresh=False)

        if _takes_on_batch(self.embedder.encode_with_spans):
            self._parts.append(self._pool.submit(self.embedder.encode_with_spans, texts, spans, False, on_batch))
        else:  # a stand-in embedder (tests): progress per group
            def run(texts=texts, spans=spans):
                out = self.embedder.encode_with_spans(texts, spans)
                on_batch(len(texts))
                return out
            self._parts.append(self._pool.submit(run))

    def finish(self, dim: int) -> SpanEncoding:
        """Wait for every group; their encodings joined in order."""
        self._submit()
        try:
            parts = [f.result() for f in self._parts]
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if not parts:
            return SpanEncoding(np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32), np.zeros(0, np.int64))
        return SpanEncoding(np.concatenate([p.vectors for p in parts]), np.concatenate([p.span_sums for p in parts]),
                            np.concatenate([p.span_tokens for p in parts]))


def sidecar_fingerprint(corpus: list[Path]) -> str:
    """Hash of the corpus roots' ``metadata.json`` files: editing one changes titles and dates."""
    h = hashlib.sha256()
    for root in sorted(Path(p) for p in corpus):
        side = (root if root.is_dir() else root.parent) / SIDECAR_NAME
        if side.is_file():
            h.update(str(side).encode() + b"\0" + side.read_bytes())
    return h.hexdigest()


def _article_blocks(store: IndexStore) -> dict[int, tuple[tuple[int, int], tuple[int, int]]]:
    """For each article row of ``store``: its contiguous chunk-row and sentence-row ranges."""
    d = store.data
    n = len(store.articles)
    rows = np.arange(n)
    c_lo = np.searchsorted(d.chunk_doc, rows, side="left")
    c_hi = np.searchsorted(d.chunk_doc, rows, side="right")
    s_lo = np.searchsorted(d.sentences[:, 0], rows, side="left")
    s_hi = np.searchsorted(d.sentences[:, 0], rows, side="right")
    return {i: ((int(c_lo[i]), int(c_hi[i])), (int(s_lo[i]), int(s_hi[i]))) for i in range(n)}
