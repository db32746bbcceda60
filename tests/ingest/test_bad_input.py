"""Bad corpus input never crashes a build: each bad file is skipped (or read leniently) with a
warning that names it, and a corpus with nothing usable is a clear error with a non-zero exit."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import cli
from qa.errors import CorpusError
from qa.index.builder import IndexBuilder
from qa.index.store import IndexStore
from qa.ingest.corpus import CorpusLoader

GOOD = "The council approved the new budget on Tuesday. Spending on schools rises by four percent next year."


def load(*paths, **kw):
    return CorpusLoader(**kw).run([Path(p) for p in paths])


def issues_for(res, name: str) -> list[str]:
    return [i.message for i in res.issues if name in i.path]


def write_good(root: Path, name: str = "good.txt") -> None:
    (root / name).write_text(GOOD, encoding="utf-8")


@pytest.mark.parametrize("content", [b"", b"   \n\n\t  \n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"])
def test_empty_files(tmp_path, content):
    (tmp_path / "empty.txt").write_bytes(content)
    write_good(tmp_path)
    res = load(tmp_path)
    assert [a.doc_id for a in res.articles] == ["good"]
    assert issues_for(res, "empty.txt"), res.issues


@pytest.mark.parametrize("name,content", [
    ("nul.txt", b"GIF89a\x00\x01\x02" + bytes(range(256)) * 4),
    ("random.txt", bytes(b for b in random.Random(0).randbytes(4096) if b)),  # binary without a NUL
    ("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(1, 256)) * 8),
])
def test_binary_files_are_skipped(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    write_good(tmp_path)
    res = load(tmp_path)
    assert [a.doc_id for a in res.articles] == ["good"]
    assert any("binary" in m for m in issues_for(res, name)), res.issues


def test_undecodable_bytes_fall_back_to_latin1_with_a_warning(tmp_path):
    (tmp_path / "latin.txt").write_bytes(("Le café du port a rouvert lundi après deux ans de travaux. " * 3).encode("latin-1"))
    res = load(tmp_path)
    [art] = res.articles
    assert "café" in art.text and "après" in art.text
    assert any("not valid UTF-8" in m for m in issues_for(res, "latin.txt"))


def test_undecodable_bytes_in_jsonl(tmp_path):
    lines = [json.dumps({"id": "a", "text": GOOD}).encode(), b'{"id": "b", "text": "Caf\xe9 owners in the port ' \
             b'reopened on Monday after two years of works."}']
    (tmp_path / "feed.jsonl").write_bytes(b"\n".join(lines))
    res = load(tmp_path)
    assert sorted(a.doc_id for a in res.articles) == ["a", "b"]
    assert any("not UTF-8" in m for m in issues_for(res, "feed.jsonl"))


def test_jsonl_with_broken_lines_and_missing_fields(tmp_path):
    rows = [
        json.dumps({"id": "first", "title": "First", "text": GOOD}),
        '{"id": "broken", "text": "no closing brace"',
        "[1, 2, 3]",
        json.dumps({"id": "notext", "title": "No text"}),
        json.dumps({"id": "numtext", "text": 42}),
        json.dumps({"id": "blank", "text": "   "}),
        json.dumps({"text": "A story without an id: the river bridge reopened after repairs on Friday."}),
        json.dumps({"id": "last", "text": "The last line still counts: the harbour strike ended after two weeks."}),
    ]
    f = tmp_path / "feed.jsonl"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = load(tmp_path)
    assert [a.doc_id for a in res.articles] == ["first", "feed:7", "last"]
    by_line = {i.path: i.message for i in res.issues}
    assert "not valid JSON" in by_line[f"{f}:2"]
    assert "not a JSON object" in by_line[f"{f}:3"]
    for n in (4, 5, 6):
        assert "no 'text'" in by_line[f"{f}:{n}"]
    assert "no 'id'" in by_line[f"{f}:7"]


def test_duplicate_ids(tmp_path):
    rows = [
        {"id": "x", "text": GOOD},
        {"id": "x", "text": "A different story with the same id: the river bridge reopened on Friday."},
        {"id": "y", "text": GOOD.upper()},  # same text up to case: a duplicate article
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (tmp_path / "x.txt").write_text("A third story called x: the harbour strike ended after two weeks.", encoding="utf-8")
    res = load(tmp_path / "feed.jsonl", tmp_path / "x.txt")
    ids = [a.doc_id for a in res.articles]
    assert len(ids) == len(set(ids)) == 3
    assert ids[0] == "x" and ids[1].startswith("x~") and ids[2].startswith("x~")
    assert res.duplicates == {"y": "x"}
    msgs = " | ".join(str(i) for i in res.issues)
    assert "already used; renamed" in msgs and "duplicate of 'x'" in msgs


def test_symlink_loops(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    write_good(root / "sub")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)  # folder loop
    (root / "self").symlink_to(".", target_is_directory=True)  # folder pointing at itself
    (root / "a.txt").symlink_to(root / "b.txt")  # file loop
    (root / "b.txt").symlink_to(root / "a.txt")
    (root / "dangling.txt").symlink_to(root / "missing.txt")
    res = load(root)
    assert [a.doc_id for a in res.articles] == ["sub/good"]
    msgs = {i.path: i.message for i in res.issues}
    assert any("symlink loop" in m for m in msgs.values()), res.issues
    for name in ("a.txt", "b.txt", "dangling.txt"):
        assert any(name in p and "cannot read" in m for p, m in msgs.items()), (name, res.issues)


def test_unreadable_file(tmp_path, monkeypatch):
    bad = tmp_path / "secret.txt"
    bad.write_text("A story nobody may read: the minister resigned on Monday.", encoding="utf-8")
    write_good(tmp_path)
    bad.chmod(0)
    try:
        bad.read_bytes()
        readable = True  # root ignores file modes (as in CI): simulate the refusal instead
    except PermissionError:
        readable = False
    if readable:
        real = Path.read_bytes

        def read_bytes(self):
            if self.name == "secret.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    try:
        res = load(tmp_path)
    finally:
        bad.chmod(0o644)
    assert [a.doc_id for a in res.articles] == ["good"]
    assert any("cannot read" in m and "Permission denied" in m for m in issues_for(res, "secret.txt")), res.issues


def test_pipes_and_devices_are_skipped(tmp_path):
    """A named pipe would block the build forever (and /dev/zero would never end): never read them."""
    import threading

    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "null.txt").symlink_to("/dev/null")
    write_good(tmp_path)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("res", load(tmp_path)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "reading the corpus blocked on a named pipe"
    res = result["res"]
    assert [a.doc_id for a in res.articles] == ["good"]
    for name in ("pipe.txt", "null.txt"):
        assert any("not a regular file" in m for m in issues_for(res, name)), (name, res.issues)


@pytest.fixture(scope="module")
def huge_article(tmp_path_factory) -> Path:
    """A 50 MB article file, over the default 20 MB cap."""
    f = tmp_path_factory.mktemp("huge") / "huge.txt"
    line = (GOOD + "\n").encode()
    with open(f, "wb") as fh:
        fh.write(line * (50 * 2**20 // len(line) + 1))
    return f


def test_oversized_article_is_skipped(huge_article):
    res = load(huge_article.parent)
    assert res.articles == []
    [msg] = issues_for(res, "huge.txt")
    assert "over the 20 MB limit" in msg and "--max-file-mb" in msg


def test_oversized_article_in_jsonl_is_skipped(tmp_path):
    f = tmp_path / "feed.jsonl"
    with open(f, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "small", "text": GOOD}) + "\n")
        fh.write(json.dumps({"id": "big", "text": GOOD * (2 * 2**20 // len(GOOD))}) + "\n")
    res = load(f, max_file_bytes=2**20)
    assert [a.doc_id for a in res.articles] == ["small"]
    assert any("over the size limit" in i.message and i.path == f"{f}:2" for i in res.issues)


class FakeEmbedder:
    """The real model's tokenizer and shape with random unit vectors: index mechanics without the
    cost of embedding megabytes of text on a CPU."""

    def __init__(self, real) -> None:
        self.info, self.path, self.tokenizer, self.precision = real.info, real.path, real.tokenizer, real.precision

    def encode(self, texts, show_progress: bool = False):
        v = np.random.default_rng(len(texts)).standard_normal((len(texts), self.info.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def encode_with_spans(self, texts, spans, show_progress: bool = False):
        from qa.embed.pooling import SpanEncoding

        n = sum(len(s) for s in spans)
        return SpanEncoding(self.encode(texts), self.encode([""] * n), np.ones(n, dtype=np.int64))


def test_huge_article_is_capped_at_a_boundary_with_a_warning(tmp_path, embedder):
    """A 2 MB article: the first ~1,000,000 characters (cut at a line or space) are indexed, every
    word of them in some chunk, and the warning says how much was left out (issue 17, point 2)."""
    from qa.ingest.corpus import DEFAULT_MAX_ARTICLE_CHARS

    rng = random.Random(1)
    words = "council budget harbour strike talks minister vote river bridge school teachers market energy".split()
    paras, size = [], 0
    while size < 2 * 2**20:
        p = " ".join(" ".join(rng.choice(words) for _ in range(rng.randint(6, 20))).capitalize() + "."
                     for _ in range(rng.randint(2, 6)))
        paras.append(p)
        size += len(p) + 2
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    full = "\n\n".join(paras)
    (corpus / "big.txt").write_text(full, encoding="utf-8")
    report = IndexBuilder(FakeEmbedder(embedder), progress=False, query_encoder=False).run([corpus], tmp_path / "ix")
    assert report.articles == 1 and 1000 < report.chunks <= 2500
    assert any("only the first" in str(i) and "big" in i.path for i in report.issues), report.issues
    store = IndexStore.open(tmp_path / "ix")
    text = store.article("big").text
    assert DEFAULT_MAX_ARTICLE_CHARS // 2 < len(text) <= DEFAULT_MAX_ARTICLE_CHARS
    assert full.startswith(text) and full[len(text)] in "\n "  # cut between words, never inside one
    covered = np.zeros(len(text), dtype=bool)
    for row in range(len(store.data.chunk_ids)):
        s, e = store.data.chunk_span[row]
        covered[s:e] = True
    assert all(c.isspace() for c in np.asarray(list(text))[~covered])  # every kept word is in some chunk


def _bad_corpus(root: Path) -> list[str]:
    """One of each bad file; returns their names."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (root / "feed.jsonl").write_text('{"id": "x", "text": \n{"title": "no text"}\n', encoding="utf-8")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "picture.png").write_bytes(b"\x89PNG")
    return ["empty.txt", "binary.txt", "feed.jsonl", "loop", "picture.png"]


def test_index_cli_warns_about_each_bad_file_and_builds(tmp_path, embedder, monkeypatch, capsys):
    corpus = tmp_path / "corpus"
    names = _bad_corpus(corpus)
    write_good(corpus)
    monkeypatch.setattr("qa.embed.model.Embedder", lambda *a, **k: embedder)
    rc = cli.main(["index", "--corpus", str(corpus), "--index-dir", str(tmp_path / "ix"), "--verbose"])
    err = capsys.readouterr().err
    assert rc == 0
    for name in names:
        assert any(line.startswith("warning: ") and name in line for line in err.splitlines()), (name, err)
    assert [a.doc_id for a in IndexStore.open(tmp_path / "ix").articles] == ["good"]


@pytest.mark.parametrize("kind", ["empty-folder", "only-bad-files", "missing-path"])
def test_empty_corpus_is_a_clear_error(tmp_path, capsys, kind):
    corpus = tmp_path / "corpus"
    if kind == "empty-folder":
        corpus.mkdir()
    elif kind == "only-bad-files":
        _bad_corpus(corpus)
    rc = cli.main(["index", "--corpus", str(corpus), "--index-dir", str(tmp_path / "ix"), "-q"])
    err = capsys.readouterr().err
    assert rc == CorpusError.exit_code != 0
    assert f"no usable article in {corpus}" in err and ".txt, .md, .html, .jsonl" in err
    if kind == "only-bad-files":
        assert "binary.txt" in err and "empty.txt" in err  # the reasons are in the error itself
    if kind == "missing-path":
        assert "no such file or folder" in err
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_empty_corpus_real_cli_process(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    proc = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(corpus),
                           "--index-dir", str(tmp_path / "ix"), "-q"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == CorpusError.exit_code
    assert "qa: error: no usable article" in proc.stderr
    assert "Traceback" not in proc.stderr
