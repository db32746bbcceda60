"""A question file gives exactly one record per line, numbered by its line, whatever the characters
inside the lines (U+2028, U+0085, form feeds, file separators) and with or without a byte-order mark."""
from __future__ import annotations

import codecs
import json
import random

import pytest

from qa.pipeline import Question
from qa.present.batch import BadLine, read_questions

ODD = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]


def _questions(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        odd = rng.choice(ODD) if rng.random() < 0.05 else ""
        out.append(f"Who signed contract {i}?{odd} And when was it{odd} announced?")
    return out


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_txt_file_of_1945_lines_gives_1945_records(tmp_path, newline):
    qs = _questions(1945)
    assert sum(any(c in q for c in ODD) for q in qs) > 50  # the file really holds the odd characters
    f = tmp_path / "questions.txt"
    f.write_bytes(newline.join(qs).encode("utf-8") + newline.encode())
    recs = list(read_questions(f))
    assert len(recs) == 1945
    assert [r.id for r in recs] == [f"q{i}" for i in range(1, 1946)]
    assert all(isinstance(r, Question) for r in recs)
    assert recs[-1].text.startswith("Who signed contract 1944?")


def test_txt_blank_lines_skipped_but_ids_follow_line_numbers(tmp_path):
    f = tmp_path / "q.txt"
    f.write_text("First?\n\n  \nSecond?\x0cstill second\n", encoding="utf-8")
    recs = list(read_questions(f))
    assert [(r.id, r.text) for r in recs] == [("q1", "First?"), ("q4", "Second?\x0cstill second")]


@pytest.mark.parametrize("bom,codec", [(b"", "utf-8"), (codecs.BOM_UTF8, "utf-8"),
                                       (codecs.BOM_UTF16_LE, "utf-16-le")], ids=["plain", "utf8-bom", "utf16"])
def test_excel_csv_with_bom(tmp_path, bom, codec):
    f = tmp_path / "q.csv"
    f.write_bytes(bom + "question,id\r\nWho is the CEO?,a1\r\n\"Line\u2028inside, quoted\",a2\r\n".encode(codec))
    recs = list(read_questions(f))
    assert [(r.id, r.text) for r in recs] == [("a1", "Who is the CEO?"), ("a2", "Line\u2028inside, quoted")]


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_jsonl_questions_keep_first_record_and_numbers(tmp_path, bom):
    lines = [json.dumps({"id": "x", "question": "Who?\u2028Really?"}, ensure_ascii=False), "not json",
             json.dumps({"question": "When?"})]
    f = tmp_path / "q.jsonl"
    f.write_bytes(bom + "\n".join(lines).encode("utf-8"))
    recs = list(read_questions(f))
    assert [type(r) for r in recs] == [Question, BadLine, Question]
    assert [r.id for r in recs] == ["x", "line-2", "line-3"]
