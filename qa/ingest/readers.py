"""Readers for each supported file type. Each yields :class:`RawDoc` records and reports problems
as :class:`IngestIssue` instead of raising, so that one bad file never stops a build."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qa.jsonlines import iter_json_lines
from qa.textio import decode_lenient, decode_strict, sniff_bom

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

#: Files larger than this are skipped with a warning (``--max-file-mb``).
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass
class IngestIssue:
    """A problem with one input file or line, reported as a warning."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class RawDoc:
    """An article as read, before cleaning. ``meta`` holds whatever the file said of itself."""

    doc_id: str
    text: str
    path: str
    meta: dict = field(default_factory=dict)
    is_html: bool = False


def decode_bytes(data: bytes, path: str, issues: list[IngestIssue]) -> str | None:
    """Decode UTF-8, or UTF-16/32 when a byte-order mark says so, falling back to Latin-1 with a warning.

    Returns None (and records an issue) for binary data: a NUL byte in the first 8 KiB of a file
    without a UTF-16/32 byte-order mark (whose text is full of NULs), or many control bytes.
    """
    enc, _ = sniff_bom(data)
    if enc is not None and enc != "utf-8":
        decoded = decode_strict(data)
        if decoded is not None:
            return decoded.text
        issues.append(IngestIssue(path, f"starts with a {enc.upper()} byte-order mark but does not decode "
                                  "as it; skipped"))
        return None
    if b"\x00" in data[:8192]:
        issues.append(IngestIssue(path, "looks binary (NUL bytes); skipped"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        head = data[:8192]
        # Text in a legacy encoding has almost no control bytes; compressed or image data has ~20 %.
        controls = sum(1 for b in head if (b < 32 and b not in b"\t\n\r\f") or 127 <= b < 160)
        if controls > 0.1 * len(head):
            issues.append(IngestIssue(path, f"looks binary ({controls} control bytes in the first "
                                      f"{len(head)}); skipped"))
            return None
        issues.append(IngestIssue(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start}); read as Latin-1"))
        return data.decode("latin-1")


def read_text_file(path: Path, doc_id: str, data: bytes, issues: list[IngestIssue]) -> list[RawDoc]:
    text = decode_bytes(data, str(path), issues)
    if text is None:
        return []
    return [RawDoc(doc_id=doc_id, text=text, path=str(path))]


def read_html_file(path: Path, doc_id: str, data: bytes, issues: list[IngestIssue]) -> list[RawDoc]:
    """Extract the main text and metadata of an HTML page with trafilatura."""
    import trafilatura

    html = decode_bytes(data, str(path), issues)
    if html is None:
        return []
    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
        doc = doc.as_dict() if doc is not None and hasattr(doc, "as_dict") else doc
    except Exception as exc:  # trafilatura raises many types on malformed markup
        issues.append(IngestIssue(str(path), f"HTML could not be parsed ({exc}); skipped"))
        return []
    if not doc or not (doc.get("text") or "").strip():
        issues.append(IngestIssue(str(path), "no article text found in the HTML; skipped"))
        return []
    meta = {k: doc.get(k2) for k, k2 in (("title", "title"), ("date", "date"), ("source", "sitename"), ("url", "url"))}
    return [RawDoc(doc_id=doc_id, text=doc["text"], path=str(path), meta=meta, is_html=True)]


def read_jsonl_file(path: Path, doc_id_prefix: str, data: bytes, issues: list[IngestIssue]) -> list[RawDoc]:
    """Read one article per line: ``id``, ``title``, ``text`` and optional ``date``, ``source``, ``url``.

    Broken lines and lines without ``text`` are reported and skipped; a line without ``id`` gets
    ``<file>:<line>`` as its id. Lines end at line ends only, so U+2028 or U+0085 inside an
    article's text neither drops it nor shifts later line numbers.
    """
    out: list[RawDoc] = []
    decoded = decode_lenient(data)  # a BOM (UTF-8 from Windows tools, UTF-16) must not cost line 1
    text = decoded.text
    if decoded.replaced:
        issues.append(IngestIssue(str(path), f"holds bytes that are not {decoded.encoding.upper()}; "
                                  "replaced with U+FFFD"))
    for jl in iter_json_lines(text):
        lineno, rec = jl.lineno, jl.value
        where = f"{path}:{lineno}"
        if jl.error:
            issues.append(IngestIssue(where, f"{jl.error}; line skipped"))
            continue
        if not isinstance(rec, dict):
            issues.append(IngestIssue(where, "not a JSON object; line skipped"))
            continue
        body = rec.get("text")
        if not isinstance(body, str) or not body.strip():
            issues.append(IngestIssue(where, "no 'text' field (or it is empty); line skipped"))
            continue
        rid = rec.get("id", rec.get("_id"))
        if rid is None or str(rid).strip() == "":
            rid = f"{doc_id_prefix}:{lineno}"
            issues.append(IngestIssue(where, f"no 'id' field; using {rid!r}"))
        meta = {
            k: (str(rec[k]) if rec.get(k) is not None else None)
            for k in ("title", "date", "source", "url")
        }
        out.append(RawDoc(doc_id=str(rid), text=body, path=where, meta=meta))
    return out
