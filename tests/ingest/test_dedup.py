"""Exact and near-exact duplicate articles are indexed once."""
from __future__ import annotations

from qa.index.builder import IndexBuilder
from qa.index.store import IndexStore
from qa.ingest.corpus import CorpusLoader

STORY = "The river flooded the town overnight. Residents were moved to the school gym. Officials expect the water to recede by Friday."


def test_duplicates_dropped_with_warning(tmp_path):
    (tmp_path / "a.txt").write_text(STORY)
    (tmp_path / "b.txt").write_text(STORY)  # exact copy
    (tmp_path / "c.txt").write_text(STORY.upper().replace(".", " .") + "\n\n")  # case/punctuation/spacing only
    (tmp_path / "d.txt").write_text("A completely different story about a new library opening downtown.")
    res = CorpusLoader().run([tmp_path])
    assert [a.doc_id for a in res.articles] == ["a", "d"]
    assert res.duplicates == {"b": "a", "c": "a"}
    assert sum("duplicate of 'a'" in i.message for i in res.issues) == 2


def test_duplicate_indexed_once(tmp_path, embedder):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text(STORY)
    (corpus / "b.txt").write_text(STORY)
    IndexBuilder(embedder, progress=False).run([corpus], tmp_path / "ix")
    store = IndexStore.open(tmp_path / "ix")
    assert [a.doc_id for a in store.articles] == ["a"]
    assert store.manifest["duplicates"] == {"b": "a"}
