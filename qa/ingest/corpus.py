"""Turn corpus paths (folders, searched recursively, and files) into cleaned, deduplicated articles."""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from qa.ingest.clean import clean_text
from qa.ingest.metadata import SIDECAR_NAME, load_sidecar, merge_metadata
from qa.ingest.readers import (
    DEFAULT_MAX_FILE_BYTES,
    HTML_SUFFIXES,
    JSONL_SUFFIXES,
    SUPPORTED_SUFFIXES,
    IngestIssue,
    RawDoc,
    read_html_file,
    read_jsonl_file,
    read_text_file,
)
from qa.types import Article


@dataclass(frozen=True)
class SourceFile:
    """One input file: where it is, the corpus root it belongs to, and the hash of its bytes."""

    path: Path
    root: Path
    sha1: str
    size: int


@dataclass
class LoadResult:
    """The articles of a corpus and everything worth warning about."""

    articles: list[Article]
    issues: list[IngestIssue] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)  # dropped doc_id -> kept doc_id
    files: list[SourceFile] = field(default_factory=list)


def _walk(root: Path, issues: list[IngestIssue]) -> list[Path]:
    """All files under ``root``, following symlinks but never the same real folder twice."""
    out: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=lambda e: issues.append(
        IngestIssue(str(e.filename), f"cannot list folder ({e.strerror}); skipped"))):
        real = os.path.realpath(dirpath)
        if real in seen:
            issues.append(IngestIssue(dirpath, "symlink loop or repeated folder; skipped"))
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return out


def scan_files(paths: list[Path], issues: list[IngestIssue] | None = None,
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[SourceFile]:
    """List the supported files under ``paths`` with a hash of their bytes.

    Unsupported, unreadable and oversized files are reported in ``issues`` and left out.
    """
    issues = issues if issues is not None else []
    found: list[SourceFile] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            root, candidates = p, _walk(p, issues)
        elif p.is_file():
            root, candidates = p.parent, [p]
        else:
            issues.append(IngestIssue(str(p), "no such file or folder"))
            continue
        for f in candidates:
            if f.name == SIDECAR_NAME and f.parent == root:
                continue
            if f.suffix.lower() not in SUPPORTED_SUFFIXES:
                if f.name.lower() not in {"readme", "license", "source.md"}:
                    issues.append(IngestIssue(str(f), f"unsupported type {f.suffix or '(none)'!r}; skipped"))
                continue
            try:
                st = f.stat()
                if not stat.S_ISREG(st.st_mode):  # a FIFO would block the build, /dev/zero never end
                    issues.append(IngestIssue(str(f), "not a regular file (pipe, device or socket); skipped"))
                    continue
                if st.st_size > max_file_bytes and f.suffix.lower() not in JSONL_SUFFIXES:
                    issues.append(IngestIssue(str(f), f"{st.st_size / 2**20:.1f} MB is over the "
                                              f"{max_file_bytes / 2**20:.0f} MB limit (--max-file-mb); skipped"))
                    continue
                data = f.read_bytes()
            except OSError as exc:
                issues.append(IngestIssue(str(f), f"cannot read ({exc.strerror or exc}); skipped"))
                continue
            found.append(SourceFile(f, root, hashlib.sha1(data).hexdigest(), len(data)))
    return found


def corpus_fingerprint(files: list[SourceFile]) -> str:
    """A hash of every input file's relative path and bytes: equal fingerprints mean no change."""
    h = hashlib.sha256()
    for sf in sorted(files, key=lambda s: str(s.path)):
        h.update(f"{_rel_id(sf)}\0{sf.sha1}\n".encode())
    return h.hexdigest()


def _rel_id(sf: SourceFile) -> str:
    rel = sf.path.relative_to(sf.root) if sf.path.is_relative_to(sf.root) else Path(sf.path.name)
    return rel.with_suffix("").as_posix()


def _norm_key(text: str) -> str:
    """Key for exact and near-exact duplicates: case, punctuation and spacing ignored."""
    return hashlib.sha1(re.sub(r"[\W_]+", " ", text.lower()).strip().encode()).hexdigest()


class CorpusLoader:
    """Read a corpus into cleaned :class:`~qa.types.Article` records.

    Args:
        max_file_bytes: Files larger than this are skipped with a warning (default 20 MiB).
        min_chars: Articles shorter than this after cleaning are skipped (default 20).
    """

    def __init__(self, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, min_chars: int = 20) -> None:
        self.max_file_bytes = max_file_bytes
        self.min_chars = min_chars

    def run(self, paths: list[Path], files: list[SourceFile] | None = None,
            issues: list[IngestIssue] | None = None) -> LoadResult:
        """Load every article under ``paths`` (or from pre-scanned ``files``)."""
        issues = issues if issues is not None else []
        if files is None:
            files = scan_files([Path(p) for p in paths], issues, self.max_file_bytes)
        sidecars: dict[Path, dict] = {}
        articles: list[Article] = []
        by_id: dict[str, Article] = {}
        by_key: dict[str, str] = {}
        duplicates: dict[str, str] = {}
        for sf in files:
            if sf.root not in sidecars:
                sidecars[sf.root] = load_sidecar(sf.root, issues)
            for raw in self._read(sf, issues):
                art = self._to_article(raw, sidecars[sf.root], issues)
                if art is None:
                    continue
                key = _norm_key(art.text)
                if key in by_key:
                    duplicates[art.doc_id] = by_key[key]
                    issues.append(IngestIssue(raw.path, f"duplicate of {by_key[key]!r}; indexed once"))
                    continue
                if art.doc_id in by_id:
                    new_id = self._free_id(art.doc_id, by_id)
                    issues.append(IngestIssue(raw.path, f"doc_id {art.doc_id!r} already used; renamed {new_id!r}"))
                    art.doc_id = new_id
                by_key[key] = art.doc_id
                by_id[art.doc_id] = art
                articles.append(art)
        return LoadResult(articles=articles, issues=issues, duplicates=duplicates, files=files)

    @staticmethod
    def _free_id(doc_id: str, taken: dict) -> str:
        n = 2
        while f"{doc_id}~{n}" in taken:
            n += 1
        return f"{doc_id}~{n}"

    def _read(self, sf: SourceFile, issues: list[IngestIssue]) -> list[RawDoc]:
        try:
            data = sf.path.read_bytes()
        except OSError as exc:
            issues.append(IngestIssue(str(sf.path), f"cannot read ({exc.strerror or exc}); skipped"))
            return []
        if not data.strip():
            issues.append(IngestIssue(str(sf.path), "empty file; skipped"))
            return []
        suffix = sf.path.suffix.lower()
        doc_id = _rel_id(sf)
        if suffix in JSONL_SUFFIXES:
            docs = read_jsonl_file(sf.path, doc_id, data, issues)
            keep = [d for d in docs if len(d.text) <= self.max_file_bytes]
            for d in docs:
                if len(d.text) > self.max_file_bytes:
                    issues.append(IngestIssue(d.path, "article text over the size limit (--max-file-mb); skipped"))
            return keep
        if suffix in HTML_SUFFIXES:
            return read_html_file(sf.path, doc_id, data, issues)
        return read_text_file(sf.path, doc_id, data, issues)

    def _to_article(self, raw: RawDoc, sidecar: dict, issues: list[IngestIssue]) -> Article | None:
        cleaned = clean_text(raw.text)
        if len(cleaned.text) < self.min_chars:
            issues.append(IngestIssue(raw.path, "no article text left after cleaning; skipped"))
            return None
        meta = merge_metadata(raw.meta, sidecar.get(raw.doc_id), cleaned.text, cleaned.date)
        return Article(
            doc_id=raw.doc_id,
            title=meta["title"],
            text=cleaned.text,
            date=meta["date"],
            source=meta["source"],
            url=meta["url"],
            path=raw.path,
            content_hash=hashlib.sha1(cleaned.text.encode()).hexdigest(),
        )
