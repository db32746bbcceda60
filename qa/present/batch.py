"""``qa batch``: answer a file of questions, writing each record as soon as it is answered.

Input: ``.txt`` (one question a line; blank lines skipped), ``.jsonl`` (objects with ``question``
and optional ``id`` and ``as_of``) or ``.csv`` (a ``question`` column, optional ``id`` and ``as_of``
columns). ``as_of`` (or ``date``) is the day the question is asked on (``YYYY-MM-DD``, or any whole
date such as ``2026/01/08``): articles dated after it are not used and "this week" is read against
it; a question without one takes ``qa batch --as-of``, else has no date bound. A bad line (or a
bad date) never stops the batch: it becomes a record with an ``error`` field.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.jsonlines import iter_json_lines
from qa.pipeline import Question
from qa.retrieve.timeframe import parse_as_of
from qa.present.serialize import answer_to_dict
from qa.textio import decode_lenient, split_records
from qa.types import Answer


@dataclass
class BadLine:
    """An input record that holds no usable question."""

    id: str
    raw: str
    error: str


def _as_of(rec: dict, where: str) -> tuple[str | None, str | None]:
    """``(as_of, error)`` from a record's ``as_of`` or ``date`` field (empty: no date)."""
    raw = rec.get("as_of", rec.get("date"))
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    try:
        return parse_as_of(str(raw)), None
    except ValueError as exc:
        return None, f"{where}: {exc}"


def read_questions(path: Path) -> Iterator[Question | BadLine]:
    """Yield the questions of ``path`` in order (and :class:`BadLine` for unusable records)."""
    if not path.is_file():
        raise QAError(f"no such question file: {path}")
    # A BOM (Excel's UTF-8 CSV, UTF-16 from Windows tools) is dropped, not read into the first record.
    raw = decode_lenient(path.read_bytes()).text
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        for jl in iter_json_lines(raw):
            n, line, rec = jl.lineno, jl.raw, jl.value
            qid = f"line-{n}"
            if jl.error:
                yield BadLine(qid, line[:200], f"line {n}: {jl.error}")
                continue
            if not isinstance(rec, dict) or not isinstance(rec.get("question"), str):
                yield BadLine(str(rec.get("id", qid)) if isinstance(rec, dict) else qid, line[:200],
                              f"line {n}: no 'question' string")
                continue
            as_of, err = _as_of(rec, f"line {n}")
            if err:
                yield BadLine(str(rec.get("id", qid)), line[:200], err)
                continue
            yield Question(text=rec["question"], id=str(rec.get("id", qid)), as_of=as_of)
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(raw))
        if not reader.fieldnames or "question" not in [f.strip().lower() for f in reader.fieldnames]:
            raise QAError(f"{path}: a CSV question file needs a 'question' column (found: {reader.fieldnames})")
        for n, row in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): v for k, v in row.items()}
            q = row.get("question")
            qid = (row.get("id") or "").strip() or f"row-{n}"
            if q is None or not q.strip():
                yield BadLine(qid, json.dumps(row)[:200], f"row {n}: empty question")
                continue
            as_of, err = _as_of(row, f"row {n}")
            if err:
                yield BadLine(qid, json.dumps(row)[:200], err)
                continue
            yield Question(text=q, id=qid, as_of=as_of)
    else:
        for n, line in enumerate(split_records(raw), start=1):  # not splitlines(): U+2028, \x0c … stay
            if line.strip():
                yield Question(text=line.strip(), id=f"q{n}")


class _Writer:
    def __init__(self, fh, fmt: str) -> None:
        self.fh, self.fmt = fh, fmt
        self._csv = None
        if fmt == "csv":
            self._csv = csv.writer(fh)
            self._csv.writerow(["id", "question", "answer", "abstained", "citations", "top_doc", "error"])
        elif fmt == "md":
            fh.write("# Answers\n\n")

    def write(self, rec: dict) -> None:
        if self.fmt == "jsonl":
            self.fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            cites = " | ".join(f"[{c['n']}] {c['doc_id']}: {c['quote']}" for c in rec.get("citations", []))
            top = rec["passages"][0]["doc_id"] if rec.get("passages") else ""
            self._csv.writerow([rec["id"], rec["question"], rec["answer"], rec["abstained"], cites, top,
                                rec.get("error", "")])
        else:
            self.fh.write(f"## {rec['id']}: {_md(rec['question'])}\n\n{_md(rec['answer'])}\n\n")
            for c in rec.get("citations", []):
                who = ", ".join(x for x in (c.get("source"), c.get("date")) if x)
                self.fh.write(f"- [{c['n']}] *{_md(c['title'])}*{' (' + who + ')' if who else ''}: “{_md(c['quote'])}”\n")
            if rec.get("error"):
                self.fh.write(f"- error: {_md(rec['error'])}\n")
            self.fh.write("\n")
        self.fh.flush()


def _md(text: str) -> str:
    return text.replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _bad_record(bad: BadLine) -> dict:
    ans = Answer(id=bad.id, question=bad.raw, answer="", abstained=True, error=bad.error,
                 timing_ms={"retrieve": 0.0, "answer": 0.0, "total": 0.0})
    return answer_to_dict(ans)


def run_batch(svc, file: Path, output: Path | None, fmt: str | None, k: int = 10, filters=None,
              batch_size: int = 64, progress: bool = True, as_of: str | None = None) -> int:
    """Answer every question in ``file``; returns the exit code: 0 once every record is written, even
    when some records carry an ``error`` (they are counted on stderr), so one bad line never fails a run.

    ``as_of`` (``YYYY-MM-DD``) is the date of the questions that give none of their own (default: none)."""
    from tqdm.auto import tqdm

    if fmt is None:
        fmt = output.suffix.lower().lstrip(".") if output is not None else "jsonl"
        fmt = fmt if fmt in {"jsonl", "csv", "md"} else "jsonl"
    default_as_of = parse_as_of(as_of)
    items = [q if isinstance(q, BadLine) or q.as_of or default_as_of is None
             else dataclasses.replace(q, as_of=default_as_of) for q in read_questions(Path(file))]
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    writer = _Writer(out, fmt)
    failed = 0
    try:
        bar = tqdm(total=len(items), desc="answering", unit="q", disable=not progress, file=sys.stderr)
        pending: list[Question] = []

        def emit(ans: Answer) -> None:
            nonlocal failed
            failed += bool(ans.error)
            writer.write(answer_to_dict(ans))
            bar.update(1)

        def flush():
            done = 0
            try:
                for ans in svc.ask_many(pending, k=k, filters=filters, batch_size=batch_size):
                    emit(ans)
                    done += 1
            except Exception:  # one question broke the batch: answer the rest one by one
                for q in pending[done:]:
                    try:
                        ans = svc.ask(q, k=k, filters=filters)
                    except Exception as exc:
                        ans = Answer(id=q.id, question=q.text, answer="", abstained=True,
                                     error=f"could not be answered ({type(exc).__name__}: {exc})",
                                     timing_ms={"retrieve": 0.0, "answer": 0.0, "total": 0.0})
                    emit(ans)
            pending.clear()

        for item in items:
            if isinstance(item, BadLine):
                flush()
                writer.write(_bad_record(item))
                failed += 1
                bar.update(1)
            else:
                pending.append(item)
                if len(pending) >= batch_size:
                    flush()
        flush()
        bar.close()
    finally:
        if output:
            out.close()
    if progress:
        print(f"answered {len(items) - failed} of {len(items)} questions"
              + (f"; {failed} could not be answered (see their 'error' field)" if failed else "")
              + (f"; wrote {output}" if output else ""), file=sys.stderr)
    return 0
