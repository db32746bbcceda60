"""A disk that fills up at any stage of writing an index: one ``qa: error:`` line (exit 7), the previous
index live and intact, the half-written build removed at once (issue 17, point 7).

The disk is real: a small tmpfs mounted in a private mount namespace (``unshare -m``, root only),
filled so that exactly the stage under test runs out of room. So each library fails its own way:
Python's ``OSError`` errno 28, numpy's short write without an errno, FAISS's ``RuntimeError``.
Skipped without root unless ``QA_REQUIRE_NETNS=1`` (CI) makes that a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import require_namespaces

REPO = Path(__file__).resolve().parents[2]

#: Written in this order by qa.index.store.write_index; the name is what the error message says.
STAGES = ["articles.jsonl", "chunks.jsonl", "sentences.npy", "chunk_vectors.npy", "sentence_vectors.npy",
          "dense.faiss", "bm25/", "manifest.json", "CURRENT"]

SCRIPT = textwrap.dedent('''
    import json, os, shutil, sys
    from pathlib import Path
    import numpy as np
    from qa.embed.model import Embedder
    from qa.errors import WriteError
    from qa.index.builder import IndexBuilder
    from qa.index.store import IndexStore

    mnt, corpus, scratch, report_path, stages = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])

    class Fake:  # the model's tokenizer, random vectors: the index mechanics without embedding cost
        def __init__(self, real):
            self.info, self.path, self.tokenizer, self.precision = real.info, real.path, real.tokenizer, real.precision
        def encode(self, texts, show_progress=False):
            v = np.random.default_rng(len(texts)).standard_normal((len(texts), self.info.dim)).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)
        def encode_with_spans(self, texts, spans, show_progress=False):
            from qa.embed.pooling import SpanEncoding
            n = sum(len(s) for s in spans)
            return SpanEncoding(self.encode(texts), self.encode([""] * n), np.ones(n, dtype=np.int64))

    emb = Fake(Embedder())
    build = lambda ix: IndexBuilder(emb, progress=False, query_encoder=False).run([corpus], ix)
    ix = mnt / "ix"
    build(ix)
    old = IndexStore.open(ix)
    old_folder, old_chunks = old.folder.name, len(old.data.chunk_ids)
    (corpus / "extra.txt").write_text("A harbour strike ended after two weeks of talks between the union and the port.")
    # The same update on a roomy disk: the sizes each stage writes, in order.
    build(scratch)
    new = IndexStore.open(scratch).folder
    page = os.statvfs(mnt).f_frsize
    pages = lambda n: -(-n // page) * page
    sizes = {"articles.jsonl": pages((new / "articles.jsonl").stat().st_size),
             "chunks.jsonl": pages((new / "chunks.jsonl").stat().st_size)}
    for name in ("sentences.npy", "chunk_vectors.npy", "sentence_vectors.npy", "dense.faiss"):
        sizes[name] = pages((new / name).stat().st_size)
    sizes["bm25/"] = sum(pages(p.stat().st_size) for p in (new / "bm25").iterdir())
    sizes["manifest.json"] = pages((new / "manifest.json").stat().st_size)
    out = []
    for i, stage in enumerate(stages):
        room = sum(sizes[s] for s in stages[:i] if s in sizes)  # everything before the stage fits
        if stage in ("articles.jsonl", "chunks.jsonl", "sentence_vectors.npy", "chunk_vectors.npy"):
            room += sizes[stage] // 2 // page * page  # and half of it: a write that stops part-way
        filler = mnt / "filler"
        st = os.statvfs(mnt)
        with open(filler, "wb") as fh:
            fh.write(b"\\0" * max(0, st.f_bavail * st.f_frsize - room))
        rec = {"stage": stage}
        try:
            build(ix)
            rec["error"] = None
        except WriteError as exc:
            rec["error"], rec["exit_code"] = str(exc), exc.exit_code
        except Exception as exc:
            rec["error"], rec["unexpected"] = f"{type(exc).__name__}: {exc}", True
        filler.unlink()
        now = IndexStore.open(ix)
        rec["live"] = now.folder.name == old_folder and len(now.data.chunk_ids) == old_chunks
        rec["left"] = sorted(p.name for p in ix.iterdir() if p.name not in {old_folder, "CURRENT", ".lock", ".lock.pid"})
        out.append(rec)
    build(ix)  # with room again, the update goes through
    final = IndexStore.open(ix)
    json.dump({"stages": out, "after": "extra" in final.doc_row}, open(report_path, "w"))
''')


@pytest.fixture(scope="module")
def full_disk_report(tmp_path_factory) -> dict:
    require_namespaces("-m")
    tmp = tmp_path_factory.mktemp("fulldisk")
    mnt, corpus, scratch = tmp / "mnt", tmp / "corpus", tmp / "scratch"
    mnt.mkdir()
    shutil.copytree(REPO / "seeds", corpus)
    (tmp / "script.py").write_text(SCRIPT)
    report = tmp / "report.json"
    cmd = (f"mount -t tmpfs -o size=8m tmpfs {mnt} && exec {sys.executable} {tmp / 'script.py'} {mnt} {corpus} "
           f"{scratch} {report} '{json.dumps(STAGES)}'")
    r = subprocess.run(["unshare", "-m", "sh", "-c", cmd], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(report.read_text())


@pytest.mark.parametrize("stage", STAGES)
def test_full_disk_at_each_stage(full_disk_report, stage):
    rec = next(r for r in full_disk_report["stages"] if r["stage"] == stage)
    assert rec["error"] and not rec.get("unexpected"), rec
    assert rec["exit_code"] == 7
    msg = rec["error"]
    assert "\n" not in msg and "no space left on the disk" in msg and "previous index is intact" in msg, msg
    assert f"while writing {stage}" in msg, msg
    assert rec["live"], rec  # the old index, whole
    assert rec["left"] == [], rec  # no half-written build-*, no temp file


def test_update_goes_through_once_there_is_room(full_disk_report):
    assert full_disk_report["after"]
