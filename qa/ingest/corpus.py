"""Turn corpus paths (folders, searched recursively, and files) into cleaned, deduplicated articles.

Symbolic links inside a corpus folder are followed only while they stay inside it: a link to
``/etc/passwd`` or to ``/`` must not put system files into the index (and quote them in answers).
"""
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


#: Cleaned article text beyond this many characters is not indexed (``max_article_chars``): about
#: 2,200 chunks of prose, five times the longest encyclopedia article. Everything downstream
#: (sentences, chunks, embedding, BM25) is bounded by it, so one huge article cannot take the
#: build for many minutes.
DEFAULT_MAX_ARTICLE_CHARS = 1_000_000


def truncate_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at the last line break or space before the
    limit when one lies in its second half (so no word or sentence is cut), else at the limit."""
    if len(text) <= limit:
        return text
    for sep in ("\n", " "):
        cut = text.rfind(sep, limit // 2, limit)
        if cut > 0:
            return text[:cut].rstrip()
    return text[:limit]


#: Said whenever a link out of the corpus is skipped, so the way to allow it is one read away.
OUTSIDE_HINT = "pass --follow-links to index files outside the corpus folder"


def _outside(real: str, root_real: str) -> bool:
    return os.path.commonpath([real, root_real]) != root_real


def _walk(root: Path, issues: list[IngestIssue], follow_links: bool = False) -> list[Path]:
    """All files under ``root`` in sorted depth-first order, never the same real folder twice.

    The walk keeps its own stack instead of recursing, so a corpus nested a thousand folders deep
    (or reached through a link to ``/``) cannot end in a RecursionError. Links to folders outside
    ``root`` are skipped with a warning unless ``follow_links``; links that lead back into a folder
    already walked are loops and skipped too.
    """
    out: list[Path] = []
    root_real = os.path.realpath(root)
    seen: set[str] = {root_real}
    # (folder, its real path): a plain sub-folder's real path is its parent's plus its name, so
    # realpath (one lstat per path component: quadratic in depth) runs only for links.
    stack: list[tuple[Path, str]] = [(root, root_real)]
    while stack:
        folder, folder_real = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            issues.append(IngestIssue(str(folder), f"cannot list folder ({exc.strerror or exc}); skipped"))
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows links; a dangling or looping link is not a folder
                is_link = entry.is_symlink()
            except OSError:
                is_dir, is_link = False, False
            if not is_dir:
                out.append(path)  # scan_files checks type, readability and links for each file
                continue
            real = os.path.realpath(path) if is_link else os.path.join(folder_real, entry.name)
            if is_link and not follow_links and _outside(real, root_real):
                issues.append(IngestIssue(str(path), f"a link to the folder {real}, outside the corpus folder "
                                          f"{root}; skipped ({OUTSIDE_HINT})"))
                continue
            if real in seen:
                issues.append(IngestIssue(str(path), "symlink loop or repeated folder; skipped"))
                continue
            seen.add(real)
            subdirs.append((path, real))
        stack.extend(reversed(subdirs))
    return out


def scan_files(paths: list[Path], issues: list[IngestIssue] | None = None,
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, follow_links: bool = False) -> list[SourceFile]:
    """List the supported files under ``paths`` with a hash of their bytes.

    Unsupported, unreadable and oversized files are reported in ``issues`` and left out, and so
    are symbolic links that lead out of their corpus folder (``passwd.txt -> /etc/passwd``) unless
    ``follow_links``. A file named on its own is read wherever a link to it points: it was asked for.
    """
    issues = issues if issues is not None else []
    found: list[SourceFile] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            root, candidates, walked = p, _walk(p, issues, follow_links), True
        elif p.is_file():
            root, candidates, walked = p.parent, [p], False
        else:
            issues.append(IngestIssue(str(p), "no such file or folder"))
            continue
        root_real = os.path.realpath(root)
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
                if walked and not follow_links and f.is_symlink():
                    real = os.path.realpath(f)
                    if _outside(real, root_real):
                        issues.append(IngestIssue(str(f), f"a link to {real}, outside the corpus folder {root}; "
                                                  f"skipped ({OUTSIDE_HINT})"))
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
        follow_links: Also read files that symbolic links lead to outside their corpus folder
            (default False: skipped with a warning; see :func:`scan_files`).
        max_article_chars: Cleaned text beyond this is left out, with a warning (default
            1,000,000; :data:`DEFAULT_MAX_ARTICLE_CHARS`).
    """

    def __init__(self, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, min_chars: int = 20,
                 follow_links: bool = False, max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS) -> None:
        self.max_file_bytes = max_file_bytes
        self.min_chars = min_chars
        self.follow_links = follow_links
        self.max_article_chars = max_article_chars

    def run(self, paths: list[Path], files: list[SourceFile] | None = None,
            issues: list[IngestIssue] | None = None) -> LoadResult:
        """Load every article under ``paths`` (or from pre-scanned ``files``)."""
        issues = issues if issues is not None else []
        if files is None:
            files = scan_files([Path(p) for p in paths], issues, self.max_file_bytes, self.follow_links)
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
        if len(cleaned.text) > self.max_article_chars:
            n = len(cleaned.text)
            cleaned.text = truncate_text(cleaned.text, self.max_article_chars)
            issues.append(IngestIssue(raw.path, f"{n:,} characters of text; only the first {len(cleaned.text):,} "
                                      "are indexed"))
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
