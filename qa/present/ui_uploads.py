"""Which uploaded files the chat UI accepts, and under which name they are stored.

The web page is an untrusted client: a browser (or a script posing as one) chooses the file name
and content. Only article types the readers know are taken, each up to :data:`MAX_UPLOAD_BYTES`,
and the stored name is a plain file name, so nothing can be written outside ``<index_dir>/uploads/``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
#: Largest accepted file (10 MB): far above any article, small enough to index in seconds.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class UploadRejected(ValueError):
    """An upload that is refused; the message says why and what is accepted."""


def safe_name(name: str) -> str:
    """A plain, harmless file name for an uploaded ``name``.

    Raises:
        UploadRejected: when ``name`` holds a directory part (``../``, ``a/b``, an absolute or
            drive path), is hidden or empty, or does not end in an allowed suffix.
    """
    name = unicodedata.normalize("NFC", str(name))
    if "/" in name or "\\" in name or re.match(r"^[A-Za-z]:", name):
        raise UploadRejected(f"{name!r}: file names may not contain a directory part")
    if name in ("", ".", "..") or name.startswith("."):
        raise UploadRejected(f"{name!r}: not a usable file name")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise UploadRejected(f"{name!r}: control characters in the file name")
    if Path(name).suffix.lower() not in ALLOWED_SUFFIXES:
        raise UploadRejected(f"{name!r}: only {', '.join(ALLOWED_SUFFIXES)} files can be added")
    return name


@dataclass
class UploadCheck:
    """The outcome of :class:`UploadPolicy` ``.run``: files to index and files refused (with reasons)."""

    accepted: list[tuple[Path, str]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


@dataclass
class UploadPolicy:
    """Check uploaded files before they are indexed.

    Args:
        max_bytes: Largest accepted file (default :data:`MAX_UPLOAD_BYTES`, 10 MB).
    """

    max_bytes: int = MAX_UPLOAD_BYTES

    def run(self, files: list[tuple[Path | str, str]]) -> UploadCheck:
        """Check ``(path on disk, name the client gave)`` pairs; a refused file never stops the others."""
        out = UploadCheck()
        seen: set[str] = set()
        for path, name in files:
            path = Path(path)
            try:
                clean = safe_name(name)
                if clean.lower() in seen:
                    raise UploadRejected(f"{name!r}: the same name was given twice")
                if not path.is_file():
                    raise UploadRejected(f"{name!r}: the upload did not arrive")
                size = path.stat().st_size
                if size > self.max_bytes:
                    raise UploadRejected(f"{name!r}: {size / 1e6:.1f} MB is over the "
                                         f"{self.max_bytes / 1e6:.0f} MB limit per file")
            except UploadRejected as exc:
                out.rejected.append(str(exc))
                continue
            seen.add(clean.lower())
            out.accepted.append((path, clean))
        return out


def store_path(upload_dir: Path, name: str) -> Path:
    """Where ``name`` is stored under ``upload_dir``; refuses anything that would land outside it."""
    target = (upload_dir / safe_name(name)).resolve()
    if target.parent != upload_dir.resolve():
        raise UploadRejected(f"{name!r}: would be written outside {upload_dir}")
    return target
