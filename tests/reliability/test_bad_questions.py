"""Bad questions are answered or refused cleanly in every front end: the service API, ``qa ask``
and ``qa batch`` (where a bad line never stops the batch and is reported in its own record)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from qa import cli
from qa.pipeline import MAX_QUESTION_CHARS, Question
from qa.present.batch import run_batch
from qa.present.serialize import answer_to_dict

LONG = "How much has Microsoft invested in OpenAI? " * (100_000 // 43 + 1)
QUESTIONS = {
    "empty": "",
    "whitespace": "  \n\t \u3000 ",
    "only-controls": "\x00\x01\x07\x1b\x7f\u200b\u202e\ufeff",
    "100k": LONG[:100_000],
    "controls": "\x00How much\x07 has Microsoft\x1b[31m invested\x7f in OpenAI?\x08",
    "chinese": "微软向OpenAI投资了多少？",
    "russian": "Сколько Microsoft вложила в OpenAI?",
    "arabic-rtl": "\u202bكم استثمرت مايكروسوفت في OpenAI؟\u202c",
    "emoji": "💰🤖 How much did Microsoft invest in OpenAI? 🚀👨‍👩‍👧",
    "script-tag": "<script>alert('x')</script> Who is OpenAI's CEO?",
    "html": "<b onmouseover=alert(1)>How much</b> has <img src=x onerror=alert(2)> Microsoft invested?",
    "lone-surrogates": "\udcff\udcfe How much has Microsoft \ud800 invested?",
    "markers": "[1] [2] what is [99]?",
}
EMPTY = {"empty", "whitespace", "only-controls"}


def check_answer(ans, store, name: str) -> None:
    """What every answer must satisfy, whatever the question."""
    rec = answer_to_dict(ans)
    json.dumps(rec, ensure_ascii=False).encode("utf-8")  # printable: no lone surrogates left
    if name in EMPTY:
        assert ans.abstained and ans.error == "empty question" and ans.answer
        return
    assert ans.answer.strip() and ans.error is None
    assert 0 < len(ans.query) <= MAX_QUESTION_CHARS
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in ans.query), repr(ans.query)
    for c in ans.citations:
        assert c.quote == store.article(c.doc_id).text[c.start:c.end]
    if name == "100k":
        assert any(f"first {MAX_QUESTION_CHARS:,}" in n for n in ans.notes), ans.notes
        assert rec["notes"] == ans.notes


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_service_api(service, name):
    check_answer(service.ask(QUESTIONS[name]), service.store, name)


@pytest.mark.parametrize("question", [QUESTIONS["100k"], ("Which zebra won the chess final? " * 3031)[:100_000]],
                         ids=["answerable", "not-in-articles"])
def test_long_question_gives_a_bounded_answer(service, question):
    """The answer may quote the question, but not all 100,000 characters of it."""
    ans = service.ask(question)
    assert len(ans.answer) <= 4 * MAX_QUESTION_CHARS, f"{len(ans.answer):,}-character answer"


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_ask_endpoint(service, name):
    """What the UI's ``/ask`` endpoint runs, with hostile earlier turns in the history too."""
    from qa.present.ui import ChatController

    rec = ChatController(service).ask(QUESTIONS[name], history=[QUESTIONS["lone-surrogates"], QUESTIONS["100k"],
                                                                 QUESTIONS["only-controls"]])
    json.dumps(rec, ensure_ascii=False).encode("utf-8")
    assert rec["answer"] and (rec.get("error") == "empty question") == (name in EMPTY)
    assert len(rec["query"]) <= MAX_QUESTION_CHARS


def test_service_ask_many_mixed(service):
    names = list(QUESTIONS)
    answers = list(service.ask_many([Question(QUESTIONS[n], id=n) for n in names], batch_size=4))
    assert [a.id for a in answers] == names
    for n, a in zip(names, answers):
        check_answer(a, service.store, n)


@pytest.mark.parametrize("name", list(QUESTIONS))
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_cli_ask(service, monkeypatch, capsys, name, as_json):
    monkeypatch.setattr(cli, "_service", lambda args, build=True: service)
    rc = cli.main(["ask", QUESTIONS[name], "-q"] + (["--json"] if as_json else []))
    out = capsys.readouterr().out
    assert rc == 0
    if as_json:
        rec = json.loads(out)
        assert rec["answer"] and set(rec) >= {"id", "question", "answer", "abstained", "citations", "passages"}
        if name == "100k":
            assert "notes" in rec
    else:
        assert out.strip()
        assert not any(ord(c) < 32 and c not in "\n\t" for c in out), "control characters reach the terminal"
        if name == "100k":
            assert f"only its first {MAX_QUESTION_CHARS:,} were searched" in out


def test_cli_ask_real_process_with_undecodable_argv(seeds_index):
    """Bytes that are not UTF-8 on the command line reach Python as lone surrogates."""
    question = b"\xff\xfe<script>alert(1)</script> How much has Microsoft \x1b[2J invested in OpenAI?"
    proc = subprocess.run(
        [sys.executable.encode(), b"-m", b"qa", b"ask", question, b"--json", b"-q",
         b"--index-dir", str(seeds_index).encode()],
        capture_output=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    rec = json.loads(proc.stdout.decode("utf-8"))
    assert rec["question"].startswith("\ufffd")
    assert "\x1b" not in rec["query"] and rec["answer"]


def _write_jsonl(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_batch_bad_lines_do_not_stop_it(service, tmp_path):
    lines = [
        json.dumps({"id": "good-1", "question": "How much has Microsoft invested in OpenAI?"}),
        '{"id": "broken", "question": "unterminated',
        json.dumps({"id": "missing"}),
        json.dumps({"id": "number", "question": 42}),
        json.dumps({"id": "empty", "question": "   "}),
        json.dumps({"id": "long", "question": QUESTIONS["100k"]}),
        json.dumps({"id": "html", "question": QUESTIONS["script-tag"]}),
        json.dumps({"id": "controls", "question": QUESTIONS["controls"]}),
        "[1, 2]",
        json.dumps({"id": "good-2", "question": "Who is OpenAI's CEO?"}),
    ]
    src, out = tmp_path / "q.jsonl", tmp_path / "a.jsonl"
    _write_jsonl(src, lines)
    rc = run_batch(service, src, out, None, progress=False, batch_size=2)
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in recs] == ["good-1", "line-2", "missing", "number", "empty", "long", "html",
                                       "controls", "line-9", "good-2"]
    errors = {r["id"]: r.get("error") for r in recs}
    assert "not valid JSON" in errors["line-2"] and "line 2" in errors["line-2"]
    assert "no 'question'" in errors["missing"] and "no 'question'" in errors["number"]
    assert errors["empty"] == "empty question"
    assert "line 9" in errors["line-9"]
    for rid in ("good-1", "long", "html", "controls", "good-2"):
        assert errors[rid] is None and recs[[r["id"] for r in recs].index(rid)]["answer"]
    assert rc == 0  # the run completes; the failed records say why


def test_batch_survives_a_question_that_crashes(service, tmp_path, monkeypatch):
    real_ask = service._ask  # every question, single or batched, is answered here

    def ask(q, *a, **k):
        if "BOOM" in (q.text if isinstance(q, Question) else q):
            raise RuntimeError("simulated failure")
        return real_ask(q, *a, **k)

    monkeypatch.setattr(service, "_ask", ask)
    src, out = tmp_path / "q.txt", tmp_path / "a.jsonl"
    src.write_text("How much has Microsoft invested in OpenAI?\nBOOM goes the question\nWho is OpenAI's CEO?\n")
    rc = run_batch(service, src, out, "jsonl", progress=False)
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in recs] == ["q1", "q2", "q3"]
    assert "simulated failure" in recs[1]["error"]
    assert "error" not in recs[0] and "error" not in recs[2] and recs[2]["answer"]
    assert rc == 0


@pytest.mark.parametrize("fmt", ["csv", "md"])
def test_batch_other_formats_with_hostile_text(service, tmp_path, fmt):
    src = tmp_path / "q.csv"
    src.write_text('id,question\na,"<script>alert(1)</script> Who is OpenAI\'s CEO?"\nb,\nc,"微软 💰 invest?"\n',
                   encoding="utf-8")
    out = tmp_path / f"a.{fmt}"
    run_batch(service, src, out, None, progress=False)
    text = out.read_text(encoding="utf-8")
    if fmt == "md":
        assert "<script>" not in text and "&lt;script&gt;" in text
    else:
        import csv

        rows = list(csv.DictReader(text.splitlines()))
        assert [r["id"] for r in rows] == ["a", "b", "c"] and "empty question" in rows[1]["error"]
