"""A build that fails part-way leaves the previous index live and intact."""
from __future__ import annotations

import pytest

from qa.errors import WriteError
from qa.index import store as store_mod
from qa.index.builder import IndexBuilder
from qa.index.store import IndexStore


@pytest.mark.parametrize("fail_at", ["save_dense", "lexical_save", "manifest"])
def test_interrupted_build_keeps_old_index(tmp_path, seeds_copy, embedder, monkeypatch, fail_at):
    ix = tmp_path / "ix"
    IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    before = IndexStore.open(ix)
    ids_before = list(before.data.chunk_ids)
    (seeds_copy / "extra.txt").write_text("An extra article about a harbour strike that ended after two weeks of talks.")

    def boom(*a, **k):
        raise RuntimeError("simulated crash")

    if fail_at == "save_dense":
        monkeypatch.setattr(store_mod, "save_dense", boom)
    elif fail_at == "lexical_save":
        monkeypatch.setattr(store_mod.LexicalIndex, "save", boom)
    else:
        monkeypatch.setattr(store_mod.os, "replace", boom)
    # one line saying so (exit 7), and the half-written build folder removed at once (issue 17, point 7)
    with pytest.raises(WriteError, match="simulated crash.*previous index is intact"):
        IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    monkeypatch.undo()
    assert sorted(p.name for p in ix.iterdir() if p.name.startswith("build-")) == [before.folder.name]

    after = IndexStore.open(ix)
    assert after.folder == before.folder
    assert list(after.data.chunk_ids) == ids_before
    # the next build succeeds and cleans the half-written folder up
    IndexBuilder(embedder, progress=False).run([seeds_copy], ix)
    final = IndexStore.open(ix)
    assert "extra" in final.doc_row
    assert len([p for p in ix.iterdir() if p.name.startswith("build-")]) <= 2
