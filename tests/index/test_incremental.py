"""Re-indexing embeds only what changed; an unchanged corpus embeds nothing."""
from __future__ import annotations

from qa.index.builder import IndexBuilder
from qa.index.store import IndexStore

NEW = "Regulators opened an inquiry into the merger on Friday. The review may take up to six months, a spokesperson said."


def _build(emb, corpus, ix):
    return IndexBuilder(emb, progress=False).run([corpus], ix)


def _snapshot(ix):
    s = IndexStore.open(ix)
    return {a.doc_id: a.content_hash for a in s.articles}, s


def test_incremental_add_change_delete(tmp_path, seeds_copy, counting_embedder):
    ix = tmp_path / "ix"
    first = _build(counting_embedder, seeds_copy, ix)
    assert len(first.added) == 5 and counting_embedder.encoded
    before, store_before = _snapshot(ix)
    vec_before = {cid: store_before.data.chunk_vectors[i].copy() for i, cid in enumerate(store_before.data.chunk_ids)}

    counting_embedder.encoded.clear()
    again = _build(counting_embedder, seeds_copy, ix)
    assert again.noop and counting_embedder.encoded == []

    (seeds_copy / "new_article.txt").write_text(NEW)
    counting_embedder.encoded.clear()
    rep = _build(counting_embedder, seeds_copy, ix)
    assert rep.added == ["new_article"] and rep.changed == [] and rep.removed == []
    assert counting_embedder.encoded and all(t in f"new_article\n{NEW}" or t in NEW or NEW.startswith(t.split("\n")[-1])
                                             for t in counting_embedder.encoded)
    assert all("Microsoft" not in t for t in counting_embedder.encoded)

    changed = seeds_copy / "004_1af9b507d74bec4a.txt"
    changed.write_text(changed.read_text().replace("Six years later,", "Six years later, the deal closed on Thursday and,"))
    counting_embedder.encoded.clear()
    rep = _build(counting_embedder, seeds_copy, ix)
    assert rep.changed == ["004_1af9b507d74bec4a"] and rep.added == []
    after, store = _snapshot(ix)
    art = store.article("004_1af9b507d74bec4a")
    assert any("deal closed on Thursday" in t for t in counting_embedder.encoded)
    assert all(art.text.find(t.split("\n", 1)[-1]) >= 0 for t in counting_embedder.encoded)
    # unchanged articles keep their exact vectors
    for i, cid in enumerate(store.data.chunk_ids):
        if cid.startswith("000_"):
            assert (store.data.chunk_vectors[i] == vec_before[cid]).all()

    (seeds_copy / "001_5488d1fe02dc7f45.txt").unlink()
    counting_embedder.encoded.clear()
    rep = _build(counting_embedder, seeds_copy, ix)
    assert rep.removed == ["001_5488d1fe02dc7f45"] and counting_embedder.encoded == []
    after, store = _snapshot(ix)
    assert "001_5488d1fe02dc7f45" not in after and "new_article" in after
    assert all(not cid.startswith("001_") for cid in store.data.chunk_ids)
    assert store.data.dense.ntotal == len(store.data.chunk_ids) == store.data.lexical.size
    # sentence rows still line up with their chunks after splicing reused and new blocks
    for row in range(len(store.data.chunk_ids)):
        for s in store.chunk_sentence_rows(row):
            assert store.sentence(s)[0].doc_id == store.chunk_article(row).doc_id


def test_sidecar_edit_updates_titles_and_vectors(tmp_path, seeds_copy, counting_embedder):
    import json

    ix = tmp_path / "ix"
    _build(counting_embedder, seeds_copy, ix)
    side = seeds_copy / "metadata.json"
    meta = json.loads(side.read_text())
    meta["004_1af9b507d74bec4a"]["title"] = "A brand new headline about cloud rights"
    side.write_text(json.dumps(meta))
    counting_embedder.encoded.clear()
    rep = _build(counting_embedder, seeds_copy, ix)
    assert not rep.noop and rep.changed == ["004_1af9b507d74bec4a"]
    assert any(t.startswith("A brand new headline") for t in counting_embedder.encoded)
    assert IndexStore.open(ix).article("004_1af9b507d74bec4a").title == "A brand new headline about cloud rights"


def test_update_that_embeds_nothing_does_not_resolve_the_precision(tmp_path, seeds_copy, embedder):
    """Resolving ``auto`` imports torch; a deletion must not pay for that just to fill the manifest."""
    from qa.embed.recording import RecordingEmbedder

    class NoPrecision(RecordingEmbedder):
        @property
        def precision(self):
            raise AssertionError("precision resolved by an update that embedded nothing")

    ix = tmp_path / "ix"
    IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    before = IndexStore.open(ix).manifest["precision"]
    sorted(seeds_copy.iterdir())[0].unlink()
    report = IndexBuilder(NoPrecision(embedder), progress=False).run([seeds_copy], ix)
    assert report.removed and report.embedded_texts == 0
    assert IndexStore.open(ix).manifest["precision"] == before == embedder.precision.value


def test_manifest_records_the_document_encoder_and_the_summary_the_rates(tmp_path, seeds_copy, embedder):
    from qa.config import Precision
    from qa.embed.docenc import DOC_FILE

    ix = tmp_path / "ix"
    rep = IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    man = IndexStore.open(ix).manifest
    assert man["precision"] == embedder.precision.value
    assert man["document_encoder"]["precision"] == embedder.precision.value
    if embedder.precision is Precision.INT8:
        assert man["document_encoder"]["engine"] == "onnxruntime" and (ix / DOC_FILE).is_file()
        assert man["document_encoder"]["workers"] >= 1
    assert rep.embedded_chunks == rep.chunks > 0
    assert "chunks/s" in rep.summary() and "articles/s" in rep.summary()
    again = IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    assert again.noop and IndexStore.open(ix).manifest["document_encoder"] == man["document_encoder"]


def test_one_progress_bar_for_the_whole_build(tmp_path, seeds_copy, embedder, capsys):
    IndexBuilder(embedder, progress=True).run([seeds_copy], tmp_path / "ix")
    err = capsys.readouterr().err
    assert "indexing" in err and "chunking" not in err and "embedding" not in err
    assert "5/5" in err and "chunks/s" in err


def test_int8_build_keeps_its_model_beside_the_index_and_updates_embed_only_the_new(tmp_path, seeds_copy):
    from qa.embed.docenc import DOC_FILE
    from qa.embed.model import Embedder
    from qa.embed.recording import RecordingEmbedder

    emb = RecordingEmbedder(Embedder(precision="int8"))
    ix = tmp_path / "ix"
    try:
        first = IndexBuilder(emb, progress=False).run([seeds_copy], ix)
        man = IndexStore.open(ix).manifest
        assert man["precision"] == "int8" and man["document_encoder"]["engine"] == "onnxruntime"
        assert (ix / DOC_FILE).is_file() and "onnxruntime int8" in first.summary()
        (seeds_copy / "new_article.txt").write_text(NEW)
        emb.encoded.clear()
        rep = IndexBuilder(emb, progress=False).run([seeds_copy], ix)
        assert rep.added == ["new_article"] and rep.embedded_chunks == len(emb.encoded) > 0
        assert all("Microsoft" not in t for t in emb.encoded)
    finally:
        emb.close()
