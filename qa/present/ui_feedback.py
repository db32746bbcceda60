"""Thumbs up/down from the chat page, kept in ``<index_dir>/feedback.jsonl`` with bounded size.

The page is an untrusted client: a script can vote many times on one answer to a huge question.
So each record is capped (question, answer and reason cut to :data:`MAX_TEXT` characters, at most
:data:`MAX_CITATIONS` citations of plain ids and offsets), an answer keeps one vote (a later vote on
the same answer replaces the earlier one), and the file keeps the newest :data:`MAX_RECORDS` votes:
when it grows past that it is rewritten without the oldest ones (atomically, so a crash leaves the
old or the new file, never half of one).
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

#: Characters kept of the question, the answer and the reason in one record.
MAX_TEXT = 2000
#: Citations kept per record (ids and offsets only, never article text).
MAX_CITATIONS = 20
#: Earlier questions kept per record (each cut to :data:`MAX_TEXT` // 4 characters).
MAX_HISTORY = 5
#: Votes kept in the file (the oldest are dropped first); about 10 MB at the record caps above.
MAX_RECORDS = 2000


def _cut(text: object, limit: int = MAX_TEXT) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def feedback_record(turn: dict, liked: bool, reason: str = "") -> dict:
    """The capped record for one vote on ``turn`` (``{"question", "history", "answer": answer JSON}``)."""
    ans = turn.get("answer") or {}
    cites = []
    for c in list(ans.get("citations") or [])[:MAX_CITATIONS]:
        cites.append({"n": int(c.get("n", 0)), "doc_id": _cut(c.get("doc_id"), 200),
                      "start": int(c.get("start", 0)), "end": int(c.get("end", 0))})
    return {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "liked": bool(liked),
            "answer_id": _cut(ans.get("id"), 64), "question": _cut(turn.get("question")),
            "history": [_cut(h, MAX_TEXT // 4) for h in list(turn.get("history") or [])[-MAX_HISTORY:]],
            "query": _cut(ans.get("query")), "answer": _cut(ans.get("answer")),
            "abstained": bool(ans.get("abstained")), "citations": cites,
            **({"reason": _cut(reason)} if reason else {})}


@dataclass
class FeedbackLog:
    """The vote file of one index.

    Args:
        path: The JSONL file (created on the first vote).
        max_records: Votes kept (default :data:`MAX_RECORDS`).
    """

    path: Path
    max_records: int = MAX_RECORDS
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def records(self) -> list[dict]:
        """The votes on file, oldest first (unreadable lines are skipped)."""
        try:
            lines = self.path.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def vote(self, turn: dict, liked: bool, reason: str = "") -> dict:
        """Record a vote on ``turn``'s answer, replacing an earlier vote on the same answer."""
        rec = feedback_record(turn, liked, reason)
        with self._lock:
            old = self.records()
            same = [r for r in old if r.get("answer_id") == rec["answer_id"]]
            if same and not reason and liked == same[-1].get("liked") and same[-1].get("reason"):
                rec["reason"] = same[-1]["reason"]  # voting again the same way keeps the reason given
            if not same and len(old) < self.max_records:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                return rec
            keep = [r for r in old if r.get("answer_id") != rec["answer_id"]]
            room = self.max_records - 1
            keep = keep[-room:] if room > 0 else []
            self._write(keep + [rec])
        return rec

    def _write(self, recs: list[dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
        os.replace(tmp, self.path)
