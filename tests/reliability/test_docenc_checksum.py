"""The int8 document encoder is checksummed like the other files qa loads (issue 17.4)."""
from __future__ import annotations

import json

import pytest

from qa.embed import docenc

pytestmark = pytest.mark.skipif(not docenc.available(), reason="onnxruntime quantisation tools missing")


def _flip_middle_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_damaged_int8_document_encoder_is_made_again(tmp_path):
    from qa.embed.model import Embedder

    embedder = Embedder(precision="float32")
    target = docenc.ensure_document_encoder(tmp_path, embedder)
    assert target == tmp_path / docenc.DOC_FILE
    rec = json.loads((tmp_path / docenc.DOC_META).read_text(encoding="utf-8"))["file"]
    assert rec["bytes"] == target.stat().st_size

    _flip_middle_byte(target)  # same size, different bytes: only the checksum can tell
    damaged = docenc._sha256(target)
    assert damaged != rec["sha256"]
    again = docenc.ensure_document_encoder(tmp_path, embedder)
    assert again == target
    fresh = json.loads((tmp_path / docenc.DOC_META).read_text(encoding="utf-8"))["file"]
    assert docenc._sha256(target) == fresh["sha256"] != damaged  # quantised again, not loaded damaged

    # A record from an older qa (no checksum) does not vouch for the file either.
    meta = json.loads((tmp_path / docenc.DOC_META).read_text(encoding="utf-8"))
    meta.pop("file")
    (tmp_path / docenc.DOC_META).write_text(json.dumps(meta), encoding="utf-8")
    _flip_middle_byte(target)
    damaged = docenc._sha256(target)
    docenc.ensure_document_encoder(tmp_path, embedder)
    assert docenc._sha256(target) != damaged
    assert "file" in json.loads((tmp_path / docenc.DOC_META).read_text(encoding="utf-8"))
