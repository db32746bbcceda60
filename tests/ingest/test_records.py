"""No record is lost or renumbered: lines end at line ends only (not at U+2028, U+0085, form feeds …),
and a byte-order mark (UTF-8 from Excel or Notepad, UTF-16) neither costs the first record nor makes a
file look binary."""
from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from qa.ingest.corpus import CorpusLoader
from qa.textio import decode_lenient, split_records

BODY = "The council approved the budget on Tuesday. It rises by 4 percent next year."
#: Characters str.splitlines() breaks on that a JSON string may hold unescaped (the C0 ones, \x0b,
#: \x0c and \x1c-\x1e, must be escaped in JSON; see tests/reliability/test_records.py for text files).
NOT_LINE_ENDS = ["\u2028", "\u2029", "\x85"]


def load(paths):
    return CorpusLoader().run([Path(p) for p in paths])


@pytest.mark.parametrize("ch", NOT_LINE_ENDS, ids=[f"U+{ord(c):04X}" for c in NOT_LINE_ENDS])
def test_jsonl_article_with_unicode_separator_is_kept_and_lines_keep_numbers(tmp_path, ch):
    rows = [{"id": "a", "text": f"{BODY} First{ch}second part of the story about the harbour."},
            {"text": "An article without an id, on the third line, about a museum that reopened."}]
    # json.dumps escapes U+2028/U+0085 by default; real files (ensure_ascii=False) hold them raw
    lines = [json.dumps(rows[0], ensure_ascii=False), "", json.dumps(rows[1], ensure_ascii=False)]
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = load([tmp_path])
    assert sorted(a.doc_id for a in res.articles) == ["a", "feed:3"]
    assert not [i for i in res.issues if "not valid JSON" in i.message]


@pytest.mark.parametrize("bom,codec", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                                       (codecs.BOM_UTF16_BE, "utf-16-be")], ids=["utf8", "utf16le", "utf16be"])
def test_jsonl_with_bom_keeps_first_record(tmp_path, bom, codec):
    text = "\r\n".join(json.dumps({"id": f"d{i}", "text": f"{BODY} Story number {i} of the feed."})
                       for i in range(3)) + "\r\n"
    (tmp_path / "feed.jsonl").write_bytes(bom + text.encode(codec))
    res = load([tmp_path])
    assert sorted(a.doc_id for a in res.articles) == ["d0", "d1", "d2"]
    assert not res.issues, [str(i) for i in res.issues]


@pytest.mark.parametrize("codec,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                       ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-8", codecs.BOM_UTF8)])
@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_text_file_with_bom_is_read_as_text(tmp_path, codec, bom, suffix):
    story = f"Budget approved\n\n{BODY} Café owners welcomed the plan."
    (tmp_path / f"story{suffix}").write_bytes(bom + story.encode(codec))
    res = load([tmp_path])
    [art] = res.articles
    assert art.title == "Budget approved"
    assert "Café owners welcomed the plan." in art.text
    assert not res.issues, [str(i) for i in res.issues]


def test_utf16_html_is_read(tmp_path):
    html = (f"<html><head><title>Budget approved</title></head><body><article><p>{BODY}</p>"
            f"<p>{BODY.replace('Tuesday', 'Wednesday')}</p></article></body></html>")
    (tmp_path / "page.html").write_bytes(codecs.BOM_UTF16_LE + html.encode("utf-16-le"))
    [art] = load([tmp_path]).articles
    assert "approved the budget" in art.text


def test_bom_without_matching_bytes_is_skipped_with_reason(tmp_path):
    (tmp_path / "bad.txt").write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")  # a lone surrogate
    res = CorpusLoader().run([tmp_path])
    assert not res.articles
    assert any("byte-order mark" in i.message for i in res.issues)


def test_nul_bytes_without_bom_still_binary(tmp_path):
    (tmp_path / "img.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    res = CorpusLoader().run([tmp_path])
    assert not res.articles and any("binary" in i.message for i in res.issues)


@pytest.mark.parametrize("text,expected", [
    ("a\nb\r\nc\rd", ["a", "b", "c", "d"]),
    ("a\u2028b\x85c\x0cd\n", ["a\u2028b\x85c\x0cd"]),
    ("a\n\nb\n", ["a", "", "b"]),
    ("", []),
    ("\n", [""]),
])
def test_split_records(text, expected):
    assert split_records(text) == expected


def test_decode_lenient_reports_replacement_but_not_real_fffd():
    assert not decode_lenient("ok \ufffd".encode()).replaced
    bad = decode_lenient(b"caf\xe9 au lait")
    assert bad.replaced and bad.text == "caf\ufffd au lait"
    assert decode_lenient(codecs.BOM_UTF8 + b"x").text == "x"
