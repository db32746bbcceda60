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
    assert not (ix / ONNX_FILE).exists()  # as an index from before the export existed
    svc = QAService(index_dir=ix, corpus=[seeds_copy], progress=False, build=False, embedder=Embedder())
    assert (ix / ONNX_FILE).is_file() and svc.embedder._query_encoder is not None
    assert svc.ask("How much has Microsoft invested in OpenAI?").citations
