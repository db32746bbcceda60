"""A missing, truncated, corrupted or mismatched index is refused with what is wrong and how to fix
it; ``qa ask`` exits non-zero with that message and never answers from a broken index."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa import cli
from qa.errors import IndexError_
from qa.index.store import IndexStore, _sha256

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
FIX = "qa index --rebuild"

BUILD_FILES = [
    "articles.jsonl", "chunks.jsonl", "sentences.npy", "chunk_vectors.npy", "sentence_vectors.npy",
    "dense.faiss", "bm25/data.csc.index.npy", "bm25/indices.csc.index.npy", "bm25/indptr.csc.index.npy",
    "bm25/params.index.json", "bm25/vocab.index.json", "manifest.json",
]
TARGETS = BUILD_FILES + ["CURRENT"]


@pytest.fixture
def ix(tmp_path, seeds_index) -> Path:
    """A writable copy of the session's seeds index."""
    dst = tmp_path / "ix"
    shutil.copytree(seeds_index, dst)
    return dst


def _target(ix: Path, name: str) -> Path:
    if name == "CURRENT":
        return ix / "CURRENT"
    return ix / (ix / "CURRENT").read_text().strip() / name


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:  # flip bytes: in the middle, or at the start of the manifest (which has no checksum of its own)
        at = 0 if path.name == "manifest.json" else len(data) // 2
        buf = bytearray(data)
        for i in range(at, min(at + 4, len(buf))):
            buf[i] ^= 0xFF
        path.write_bytes(bytes(buf))


def _ask(ix: Path, capsys, question: str = "How much has Microsoft invested in OpenAI?"):
    rc = cli.main(["ask", question, "--index-dir", str(ix), "--corpus", str(SEEDS), "-q", "--json"])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_every_build_file_is_covered(seeds_index):
    """The parametrized list below is the whole build folder (a new file must be added to it)."""
    folder = seeds_index / (seeds_index / "CURRENT").read_text().strip()
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert found == sorted(BUILD_FILES)


@pytest.mark.parametrize("how", ["delete", "truncate", "flip"])
@pytest.mark.parametrize("name", TARGETS)
def test_damaged_file_is_refused_with_a_fix(ix, name, how, capsys):
    target = _target(ix, name)
    _damage(target, how)
    with pytest.raises(IndexError_) as err:
        IndexStore.open(ix)
    msg = str(err.value)
    assert FIX in msg
    # the message names the damaged file (for a missing data file, the manifest is what is named
    # when the manifest itself is gone)
    assert Path(name).name in msg, msg

    rc, out, stderr = _ask(ix, capsys)
    assert rc == IndexError_.exit_code
    assert out == ""  # no answer at all
    assert msg in stderr


def test_broken_index_is_rebuilt_when_asked(ix, capsys, monkeypatch, embedder):
    _damage(_target(ix, "chunk_vectors.npy"), "flip")
    monkeypatch.setattr("qa.embed.model.Embedder", lambda *a, **k: embedder)
    rc = cli.main(["index", "--rebuild", "--corpus", str(SEEDS), "--index-dir", str(ix), "-q"])
    assert rc == 0
    store = IndexStore.open(ix)
    assert len(store.articles) == 5


def test_plain_index_run_replaces_a_broken_index_with_a_warning(ix, embedder):
    from qa.index.builder import IndexBuilder

    _damage(_target(ix, "dense.faiss"), "truncate")
    report = IndexBuilder(embedder, progress=False).run([SEEDS], ix)
    assert not report.noop
    assert any("previous index unusable" in i.message and "dense.faiss" in i.message for i in report.issues)
    IndexStore.open(ix)


def _edit_manifest(ix: Path, edit) -> None:
    path = _target(ix, "manifest.json")
    m = json.loads(path.read_text())
    edit(m)
    path.write_text(json.dumps(m))


def test_manifest_from_another_format_version(ix, capsys):
    _edit_manifest(ix, lambda m: m.update(format_version=99))
    with pytest.raises(IndexError_, match=r"format 99.*qa index --rebuild"):
        IndexStore.open(ix)
    rc, out, err = _ask(ix, capsys)
    assert rc == IndexError_.exit_code and out == "" and "format 99" in err


@pytest.mark.parametrize("field,value", [("model_id", "other/model@0123456789ab"), ("dim", 768)])
def test_manifest_from_another_model(ix, capsys, field, value):
    def edit(m):
        m["model"][field] = value
        m["model"]["path"] = "/nonexistent/model"

    _edit_manifest(ix, edit)
    rc, out, err = _ask(ix, capsys)
    assert rc == IndexError_.exit_code
    assert out == ""
    assert "was built with model" in err and "qa index --rebuild" in err


def _replace_and_rehash(ix: Path, name: str, write) -> None:
    """Overwrite a build file and fix up its manifest entry, so only the consistency checks can object."""
    path = _target(ix, name)
    write(path)

    def edit(m):
        m["files"][name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}

    _edit_manifest(ix, edit)


def _fewer_faiss_entries(path: Path) -> None:
    import faiss

    index = faiss.read_index(str(path))
    vecs = index.reconstruct_n(0, index.ntotal - 1)
    smaller = faiss.IndexFlatIP(index.d)
    smaller.add(vecs)
    faiss.write_index(smaller, str(path))


def _fewer_rows(path: Path) -> None:
    arr = np.load(path)
    np.save(path, arr[:-1], allow_pickle=False)


@pytest.mark.parametrize("name,write,expect", [
    ("dense.faiss", _fewer_faiss_entries, "FAISS entries"),
    ("chunk_vectors.npy", _fewer_rows, "vectors"),
    ("sentence_vectors.npy", _fewer_rows, "sentence vectors"),
])
def test_files_that_disagree_with_each_other(ix, capsys, name, write, expect):
    _replace_and_rehash(ix, name, write)
    with pytest.raises(IndexError_, match="inconsistent") as err:
        IndexStore.open(ix)
    assert expect in str(err.value) and FIX in str(err.value)
    rc, out, stderr = _ask(ix, capsys)
    assert rc == IndexError_.exit_code and out == "" and "inconsistent" in stderr


def test_manifest_that_is_json_but_not_a_manifest(ix, capsys):
    _target(ix, "manifest.json").write_text("[1, 2, 3]")
    with pytest.raises(IndexError_, match="manifest.*corrupt"):
        IndexStore.open(ix)
    rc, out, err = _ask(ix, capsys)
    assert rc == IndexError_.exit_code and out == ""
