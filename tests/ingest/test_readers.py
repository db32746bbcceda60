"""Each supported file type is read, with its metadata, and bad encodings fall back with a warning."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.ingest.corpus import CorpusLoader

BODY = "The council approved the budget on Tuesday. It rises by 4 percent next year."


def load(paths):
    return CorpusLoader().run([Path(p) for p in paths])


@pytest.mark.parametrize("name", ["story.txt", "story.md", "sub/dir/story.txt"])
def test_text_and_markdown(tmp_path, name):
    f = tmp_path / name
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(f"Budget approved\n\n{BODY}\n", encoding="utf-8")
    res = load([tmp_path])
    [art] = res.articles
    assert art.doc_id == str(Path(name).with_suffix("").as_posix())
    assert art.title == "Budget approved"
    assert BODY in art.text


def test_date_header_line_is_metadata_not_text(tmp_path):
    (tmp_path / "a.txt").write_text(f"date 2024-02-29 {BODY}", encoding="utf-8")
    [art] = load([tmp_path]).articles
    assert art.date == "2024-02-29"
    assert art.text.startswith("The council")


def test_html_main_text_and_metadata(tmp_path):
    html = f"""<html><head><title>Budget approved</title>
    <meta property="og:site_name" content="The Daily Paper"><meta name="date" content="2024-03-05"></head>
    <body><nav><a href="/">Home</a> | <a href="/world">World</a></nav>
    <article><h1>Budget approved</h1><p>{BODY}</p><p>Opposition members voted against the plan in large numbers.</p></article>
    <footer>Copyright 2024</footer></body></html>"""
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    [art] = load([tmp_path]).articles
    assert art.doc_id == "page"
    assert "The council approved the budget on Tuesday." in art.text
    assert "Home" not in art.text.split("\n")
    assert art.source == "The Daily Paper"
    assert art.date == "2024-03-05"


def test_jsonl_fields_and_ids(tmp_path):
    rows = [
        {"id": "n1", "title": "Budget approved", "text": BODY, "date": "2024/03/05", "source": "paper.example", "url": "https://paper.example/1"},
        {"id": "n2", "title": "Other", "text": "A different story about a bridge closing for repairs."},
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    res = load([tmp_path / "a.jsonl"])
    by_id = {a.doc_id: a for a in res.articles}
    assert set(by_id) == {"n1", "n2"}
    assert by_id["n1"].date == "2024-03-05" and by_id["n1"].source == "paper.example"
    assert by_id["n1"].url == "https://paper.example/1" and by_id["n2"].date is None


def test_latin1_fallback_warns_and_keeps_text(tmp_path):
    (tmp_path / "l1.txt").write_bytes("Price rose to £5 in Zürich today, officials said.".encode("latin-1"))
    res = load([tmp_path])
    [art] = res.articles
    assert "£5 in Zürich" in art.text
    assert any("Latin-1" in i.message and "l1.txt" in i.path for i in res.issues)


def test_sidecar_metadata(tmp_path):
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "metadata.json").write_text(json.dumps({"a": {"title": "T", "source": "Outlet", "date": "2020-01-02"}}))
    res = load([tmp_path])
    [art] = res.articles
    assert (art.title, art.source, art.date) == ("T", "Outlet", "2020-01-02")


def test_real_latin1_file_in_bbc():
    from tests.conftest import SHARED_DATA

    f = SHARED_DATA / "news-bbc" / "raw" / "sport" / "199.txt"
    if not f.exists():
        pytest.skip("shared data not present")
    res = CorpusLoader().run([f])
    assert "£" in res.articles[0].text
    assert any("Latin-1" in i.message for i in res.issues)
