"""The article library behind the page's "Library" panel: list, correct and delete indexed articles.

Corrections (title, outlet, date) are written to the ``metadata.json`` sidecar of the folder the
article was read from (see :mod:`qa.ingest.metadata`; the index build notices a changed sidecar)
and the index is updated incrementally in the background. Only uploaded articles can be deleted:
the corpus folders are the user's own files. Messages name files, never server paths.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from qa.ingest.metadata import SIDECAR_NAME
from qa.present.ui_args import ArgumentError, check_date

#: Longest title / outlet accepted from the page.
MAX_TITLE = 300
MAX_OUTLET = 120


class Library:
    """The indexed articles of ``svc``; ``reindex(describe, before=..., done=...)`` runs an update
    in the background (``ChatController._reindex``)."""

    def __init__(self, svc, reindex: Callable[..., None]) -> None:
        self.svc = svc
        self.reindex = reindex

    @property
    def uploads(self) -> Path:
        return Path(self.svc.index_dir) / "uploads"

    def find(self, doc_id: str):
        try:
            return self.svc.store.article(str(doc_id))
        except (KeyError, IndexError):
            return None

    def _file(self, art) -> Path:
        # a JSONL record's path reads "file.jsonl:12" (its line); the file is what precedes the line number
        text = str(art.path or "")
        head, _, line = text.rpartition(":")
        return Path(head if head and line.isdigit() else text)

    def file_name(self, art) -> str:
        return self._file(art).name

    def is_upload(self, art) -> bool:
        try:
            return self._file(art).resolve().parent == self.uploads.resolve()
        except OSError:
            return False

    def root_of(self, art) -> Path | None:
        """The corpus folder the article was read from (whose sidecar holds its metadata)."""
        f = self._file(art).resolve()
        for root in self.svc.corpus_paths():
            r = Path(root).resolve()
            if r.is_dir() and f.is_relative_to(r):
                return r
        return None

    def rows(self) -> list[dict]:
        """One dict per article for :func:`~qa.present.ui_render.render_library`, titles A–Z."""
        store = self.svc.store
        counts = Counter(int(d) for d in store.data.chunk_doc)
        out = [{"doc_id": a.doc_id, "title": a.title, "source": a.source, "date": a.date,
                "file": self.file_name(a), "passages": counts.get(i, 0), "uploaded": self.is_upload(a)}
               for i, a in enumerate(store.articles)]
        out.sort(key=lambda r: (r["title"] or "").lower())
        return out

    def choices(self) -> list[tuple[str, str]]:
        """``(label, doc_id)`` pairs for the article picker."""
        return [(f"{r['title'] or '(untitled)'} — {r['file']}", r["doc_id"]) for r in self.rows()]

    def edit(self, doc_id: str, title: str | None, source: str | None, date: str | None) -> str:
        """Save corrected metadata to the article's sidecar and re-index; returns what was done."""
        art = self.find(doc_id)
        if art is None:
            raise ArgumentError("doc_id", "pick an indexed article first")
        day = check_date(date, "date")
        title, source = (title or "").strip(), (source or "").strip()
        if len(title) > MAX_TITLE:
            raise ArgumentError("title", f"is over {MAX_TITLE} characters")
        if len(source) > MAX_OUTLET:
            raise ArgumentError("outlet", f"is over {MAX_OUTLET} characters")
        root = self.root_of(art)
        if root is None:
            raise ArgumentError("doc_id", f"{self.file_name(art)} is not in a corpus folder; its metadata "
                                          "cannot be saved beside it")
        key = self._file(art).resolve().relative_to(root).with_suffix("").as_posix()
        if key != art.doc_id.split("~")[0]:
            key = art.doc_id  # a JSONL record: the sidecar is keyed by the record's id
        path = root / SIDECAR_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig")) if path.is_file() else {}
        except (OSError, json.JSONDecodeError):
            raise ArgumentError("doc_id", f"{SIDECAR_NAME} of this folder is unreadable; fix it by hand") from None
        if not isinstance(data, dict):
            raise ArgumentError("doc_id", f"{SIDECAR_NAME} of this folder is not a JSON object")
        entry = dict(data.get(key) or {})
        entry.update({"title": title or None, "source": source or None, "date": day})
        data[key] = entry
        tmp = path.with_name(f".{SIDECAR_NAME}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        name = self.file_name(art)
        self.reindex(f"Saving the details of {name} and re-indexing…", done=f"Saved the details of {name}.")
        return f"Saved the details of {name}; re-indexing in the background."

    def delete(self, doc_id: str) -> str:
        """Remove an uploaded article's file and re-index; corpus articles are refused."""
        art = self.find(doc_id)
        if art is None:
            raise ArgumentError("doc_id", "pick an indexed article first")
        if not self.is_upload(art):
            raise ArgumentError("doc_id", f"{self.file_name(art)} is in the corpus, not an upload; "
                                          "only uploaded articles can be deleted here")
        name = self.file_name(art)
        target = self._file(art).resolve()
        self.reindex(f"Deleting {name} and re-indexing…", before=lambda: target.unlink(missing_ok=True),
                     done=f"Deleted {name}: {{removed}} article(s) removed from the index.")
        return f"Deleting {name}; re-indexing in the background."
