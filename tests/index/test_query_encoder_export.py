"""The builder leaves a current ONNX question encoder next to every index it writes."""
from __future__ import annotations

from qa.embed.onnx import META_FILE, ONNX_FILE
from qa.index.builder import IndexBuilder


def test_build_exports_once_and_an_unchanged_reindex_keeps_it(tmp_path, seeds_copy, embedder):
    ix = tmp_path / "ix"
    first = IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    assert (ix / ONNX_FILE).is_file() and (ix / META_FILE).is_file()
    assert "query_encoder" in first.timings
    stamp = (ix / ONNX_FILE).stat().st_mtime_ns
    again = IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    assert again.noop and (ix / ONNX_FILE).stat().st_mtime_ns == stamp


def test_service_on_an_index_without_export_makes_one_and_uses_it(tmp_path, seeds_copy, embedder):
    from qa.embed.model import Embedder
    from qa.pipeline import QAService

    ix = tmp_path / "ix"
    IndexBuilder(embedder, progress=False, query_encoder=False).run([seeds_copy], ix)
    for name in (ONNX_FILE, META_FILE):  # as an index from before the export existed (an int8
        (ix / name).unlink(missing_ok=True)  # document model may have made one at build time)
    svc = QAService(index_dir=ix, corpus=[seeds_copy], progress=False, build=False, embedder=Embedder())
    assert (ix / ONNX_FILE).is_file() and svc.embedder._query_encoder is not None
    assert svc.ask("How much has Microsoft invested in OpenAI?").citations


# -- issue 17, point 4: a damaged export is never used; killed and failed exports clean up ---------

def _copy_index(seeds_index, tmp_path):
    import shutil

    ix = tmp_path / "ix"
    shutil.copytree(seeds_index, ix)
    return ix


def test_flipped_byte_in_the_export_is_refused_and_exported_again(tmp_path, seeds_index, embedder):
    import numpy as np

    from qa.embed.onnx import QueryEncoder, ensure_query_encoder

    ix = _copy_index(seeds_index, tmp_path)
    q = "How much has Microsoft invested in OpenAI?"
    good = QueryEncoder.open(ix, embedder.path, embedder.info.model_id)  # verified once (and cached)
    want = good.encode([q])[0]
    onnx = ix / ONNX_FILE
    with open(onnx, "r+b") as fh:  # one byte in the middle of the weights
        fh.seek(onnx.stat().st_size // 2)
        b = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([b[0] ^ 0xFF]))
    assert QueryEncoder.open(ix, embedder.path, embedder.info.model_id) is None
    enc = ensure_query_encoder(ix, embedder)  # exported again over the damaged file
    assert enc is not None
    assert np.allclose(enc.encode([q])[0], want, atol=1e-6)


def test_an_export_without_a_recorded_checksum_is_not_trusted(tmp_path, seeds_index, embedder):
    import json

    from qa.embed.onnx import QueryEncoder

    ix = _copy_index(seeds_index, tmp_path)
    meta = json.loads((ix / META_FILE).read_text())
    assert meta["file"]["bytes"] == (ix / ONNX_FILE).stat().st_size and len(meta["file"]["sha256"]) == 64
    del meta["file"]  # as written by qa before the checksum
    (ix / META_FILE).write_text(json.dumps(meta))
    assert QueryEncoder.open(ix, embedder.path, embedder.info.model_id) is None


def test_temp_files_of_killed_exports_are_removed(tmp_path, seeds_index, embedder):
    import os
    import time

    from qa.embed.onnx import ensure_query_encoder

    ix = _copy_index(seeds_index, tmp_path)
    dead = ix / f".{ONNX_FILE}.999999999-0badc0de.tmp"  # no such pid
    legacy = ix / f".{ONNX_FILE}.0badc0de.tmp"  # the old name, without a pid: removed once old
    live = ix / f".{ONNX_FILE}.{os.getpid()}-0badc0de.tmp"  # an export still running here
    for p in (dead, legacy, live):
        p.write_bytes(b"\0" * 1000)
    old = time.time() - 2 * 3600
    os.utime(legacy, (old, old))
    assert ensure_query_encoder(ix, embedder) is not None
    assert not dead.exists() and not legacy.exists() and live.exists()


class _NoTorch:
    """An embedder whose model must not be touched (loading it is what cost 9-12 s a question)."""

    def __init__(self, real):
        self.path, self.info = real.path, real.info

    @property
    def model(self):
        raise AssertionError("the export was attempted")


def test_no_room_for_the_export_is_said_once_and_not_retried(tmp_path, embedder, monkeypatch, caplog):
    import collections
    import logging

    import qa.embed.onnx as onnx_mod

    ix = tmp_path / "ix"
    ix.mkdir()
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(onnx_mod.shutil, "disk_usage", lambda p: usage(2**30, 2**30 - 2**20, 2**20))
    caplog.set_level(logging.WARNING, logger="qa")
    for _ in range(3):  # three questions, three processes: one message, no attempt
        assert onnx_mod.export_query_encoder(_NoTorch(embedder), ix) is None
    said = [r.getMessage() for r in caplog.records if "question encoder" in r.getMessage()]
    assert len(said) == 1 and "no room" in said[0] and "MB" in said[0], said
    assert not list(ix.glob(".*.tmp"))


def test_export_failing_with_enospc_removes_its_temp_file(tmp_path, embedder, monkeypatch, caplog):
    import errno
    import logging

    import torch

    import qa.embed.onnx as onnx_mod

    ix = tmp_path / "ix"
    ix.mkdir()

    def full_disk(model, args, path, **kw):
        with open(path, "wb") as fh:
            fh.write(b"\0" * 4096)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch.onnx, "export", full_disk)
    caplog.set_level(logging.WARNING, logger="qa")
    assert onnx_mod.export_query_encoder(embedder, ix) is None
    assert (ix / onnx_mod.NO_SPACE_FILE).is_file()  # the next process that finds no room says nothing
    assert not list(ix.glob(".*.tmp")) and not (ix / ONNX_FILE).exists()
    said = [r.getMessage() for r in caplog.records if "question encoder" in r.getMessage()]
    assert len(said) == 1 and "No space left" in said[0], said
