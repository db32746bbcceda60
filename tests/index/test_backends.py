"""The search seam (qa.index.backend) on every store: FAISS in the folder, milvus-lite, and a Milvus
server when ``QA_MILVUS_URI`` names one. Both stores must rank alike (compared on ranked ids, never
scores), filter alike, follow incremental updates, and answer alike. Nothing is mocked: each test
builds or opens a real index and a real Milvus collection."""
from __future__ import annotations

import shutil
import socket

import numpy as np
import pytest

from qa.errors import IndexError_
from qa.retrieve.hybrid import Filters
from tests.conftest import SEEDS
from tests.index.conftest import build, store_kinds, store_uri

QUESTIONS = ["How much has Microsoft invested in OpenAI?", "Who leads OpenAI?", "revenue sharing agreement AGI",
             "What did heise report about the new partnership rules?", "When will AGI be declared?"]
FILTERS = {
    "outlet": Filters(sources=("AInvest",)),
    "two outlets": Filters(sources=("heise", "ainvest")),
    "may 2025": Filters(date_from="2025-05-01", date_to="2025-05-31"),
    "may 2025 + undated": Filters(date_from="2025-05-01", date_to="2025-05-31", keep_undated=True),
    "from june": Filters(date_from="2025-06-01"),
    "as of june": Filters(as_of="2025-06-01"),
    "outlet and range": Filters(sources=("AInvest",), date_to="2025-05-31"),
    "nothing": Filters(sources=("nobody",)),
}
NEW = ("Regulators opened an inquiry into the merger of the two chip makers on Friday. The review may take up "
       "to six months, a spokesperson for the competition authority said.")


def _milvus(svc):
    return svc.retriever.backend


def test_the_faiss_store_is_the_default_and_reaches_nothing_else(store_services):
    from qa.index.backend import FaissBackend, SearchBackend

    for kind, svc in store_services.items():
        backend = svc.retriever.backend
        assert isinstance(backend, SearchBackend) and backend.kind == kind
        assert isinstance(backend, FaissBackend) == (kind == "faiss")


@pytest.mark.parametrize("question", QUESTIONS)
def test_dense_ranked_ids_are_the_same_on_every_store(store_services, embedder, question):
    v = embedder.encode_query(question)
    ranked = {k: s.retriever.backend.dense(v, 40).ids for k, s in store_services.items()}
    assert len(ranked["faiss"]) == 40
    assert all(ids == ranked["faiss"] for ids in ranked.values()), ranked


@pytest.mark.parametrize("question", QUESTIONS)
def test_milvus_bm25_over_bm25s_terms_ranks_as_bm25s(store_services, question):
    """milvus-lite's BM25 Function scores the passages' bm25s terms (same stemmer, same stop words,
    k1 1.5, b 0.75), so its ranking is bm25s's; scores differ in sign and scale and are not compared."""
    ranked = {k: s.retriever.backend.lexical(question, 20).ids for k, s in store_services.items()
              if s.retriever.backend.lexical_available}
    assert "milvus-lite" in ranked and ranked["faiss"]
    assert all(ids == ranked["faiss"] for ids in ranked.values()), ranked


@pytest.mark.parametrize("name", list(FILTERS))
def test_filters_admit_the_same_passages_on_every_store(store_services, embedder, name):
    f = FILTERS[name]
    faiss = store_services["faiss"]
    store = faiss.store
    wanted = {i for i, a in enumerate(store.articles)
              if f.conditions() and all(c.admits((a.source or "").lower(), a.date or "") for c in f.conditions())}
    allowed = faiss.retriever.allowed_rows(f)
    assert {int(store.data.chunk_doc[r]) for r in allowed} == wanted  # conditions and rows say the same
    v = embedder.encode_query("Microsoft OpenAI partnership")
    exact = [int(r) for r in allowed[np.lexsort((allowed, -(np.asarray(store.data.chunk_vectors[allowed]) @ v)))]][:30]
    for kind, svc in store_services.items():
        where = svc.retriever.where(f)
        got = svc.retriever.backend.dense(v, 30, where).ids
        assert got == exact, (kind, name)
        if svc.retriever.backend.lexical_available:
            lex = svc.retriever.backend.lexical("Microsoft OpenAI equity", 30, where).ids
            assert set(lex) <= set(int(r) for r in allowed), (kind, name)
        docs = {p.doc_id for p in svc.ask("How much has Microsoft invested in OpenAI?", filters=f).passages}
        assert docs <= {store.articles[i].doc_id for i in wanted}, (kind, name)


@pytest.mark.parametrize("question", QUESTIONS[:3])
def test_answers_are_the_same_on_every_store(store_services, question):
    answers = {k: s.ask(question) for k, s in store_services.items()}
    ref = answers["faiss"]
    for kind, ans in answers.items():
        assert ans.answer == ref.answer, kind
        assert [c.doc_id for c in ans.citations] == [c.doc_id for c in ref.citations], kind
        if kind != "milvus":  # a server without BM25 fuses the dense list alone
            assert [p.chunk_id for p in ans.passages] == [p.chunk_id for p in ref.passages], kind


def test_a_time_window_is_searched_inside_the_store(store_services):
    """'in May 2025' favours that month's passages through the store's own date filter."""
    for kind, svc in store_services.items():
        ans = svc.ask("What did Microsoft and OpenAI negotiate in May 2025?", as_of="2025-09-01")
        assert ans.time_window and ans.time_window["found"], kind
        assert any(p.date and p.date.startswith("2025-05") for p in ans.passages[:3]), kind


@pytest.mark.parametrize("kind", [k for k in store_kinds() if k != "faiss"])
def test_incremental_add_change_delete_reach_the_store(tmp_path, embedder, kind):
    from qa.pipeline import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    ix = tmp_path / "ix"
    first = build(embedder, corpus, ix, kind, query_encoder=False)
    assert len(first.added) == 5
    (corpus / "chips.txt").write_text(NEW)
    changed = corpus / "004_1af9b507d74bec4a.txt"
    changed.write_text(changed.read_text().replace("Six years later,", "Six years later, with a quantum lemonade "
                                                                         "stand open in the lobby,"))
    (corpus / "001_5488d1fe02dc7f45.txt").unlink()
    rep = build(embedder, corpus, ix, kind, query_encoder=False)
    assert rep.added == ["chips"] and rep.changed == ["004_1af9b507d74bec4a"]
    assert rep.removed == ["001_5488d1fe02dc7f45"]
    svc = QAService(index_dir=ix, corpus=[corpus], progress=False, build=False, embedder=embedder,
                    store=store_uri(kind, tmp_path))
    backend = svc.retriever.backend
    assert backend.count() == len(svc.store.data.chunk_ids)
    client, name = backend.client, backend.name
    gone = client.query(name, filter='doc_id == "001_5488d1fe02dc7f45"', output_fields=["chunk_id"])
    assert list(gone) == []
    in_milvus = sorted(r["chunk_id"] for r in client.query(name, filter='doc_id == "004_1af9b507d74bec4a"',
                                                           output_fields=["chunk_id"]))
    assert in_milvus == sorted(c for c in svc.store.data.chunk_ids if c.startswith("004_1af9b507d74bec4a#"))
    v = embedder.encode_query("competition inquiry into a chip merger")
    top = backend.dense(v, 5).ids
    assert svc.store.chunk_article(top[0]).doc_id == "chips"
    every = backend.dense(v, 1000).ids
    assert len(every) == len(svc.store.data.chunk_ids)
    assert all(svc.store.chunk_article(r).doc_id != "001_5488d1fe02dc7f45" for r in every)
    if backend.lexical_available:
        hits = backend.lexical("quantum lemonade", 5).ids
        assert hits and svc.store.chunk_article(hits[0]).doc_id == "004_1af9b507d74bec4a"


@pytest.mark.parametrize("kind", [k for k in store_kinds() if k != "faiss"])
def test_readers_opening_during_an_update_are_served_and_refused_once_it_failed(tmp_path, embedder, kind,
                                                                                 monkeypatch):
    """A `qa ask` started while `qa index` syncs the collection (or between the sync and the folder's
    swap) is answered from the previous folder build, not refused as "out of step"; a collection
    left ahead of its folder by a build that is no longer running is still refused."""
    from qa.index import milvus
    from qa.index.milvus import read_meta
    from qa.pipeline import QAService

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    ix = tmp_path / "ix"
    build(embedder, corpus, ix, kind, query_encoder=False)
    open_it = lambda: QAService(index_dir=ix, corpus=[corpus], progress=False, build=False, embedder=embedder,
                                store=store_uri(kind, tmp_path))
    before = open_it()
    old_fp = before.store.manifest["fingerprint"]
    expected = before.ask(QUESTIONS[0]).answer
    (corpus / "chips.txt").write_text(NEW)

    seen = {}
    real_replace = milvus.MilvusBackend.replace

    def replace_then_read(self, doc_ids, chunks):
        seen["mid_sync"] = open_it()  # the collection is marked as syncing from old_fp now
        real_replace(self, doc_ids, chunks)

    from qa.index import builder as builder_mod

    real_write_index = builder_mod.write_index

    def read_then_write(index_dir, data):
        seen["before_swap"] = open_it()  # synced, the folder not yet swapped
        real_write_index(index_dir, data)

    monkeypatch.setattr(milvus.MilvusBackend, "replace", replace_then_read)
    monkeypatch.setattr(builder_mod, "write_index", read_then_write)
    rep = build(embedder, corpus, ix, kind, query_encoder=False)
    monkeypatch.undo()
    assert rep.added == ["chips"]
    for when in ("mid_sync", "before_swap"):
        svc = seen[when]
        assert svc.retriever.backend.updating, when
        assert svc.store.manifest["fingerprint"] == old_fp  # the previous folder build
        ans = svc.ask(QUESTIONS[0])
        assert ans.answer == expected, when
        assert any("was being updated" in n for n in ans.notes), (when, ans.notes)
    after = open_it()
    assert not after.retriever.backend.updating
    assert not any("was being updated" in n for n in after.ask(QUESTIONS[0]).notes)
    meta = read_meta(after.retriever.backend.client, after.retriever.backend.name)
    assert meta["previous"] == old_fp and meta["fingerprint"] == after.store.manifest["fingerprint"]

    # A build that died after its sync: the folder stays at the build before, no build runs.
    (corpus / "chips.txt").write_text(NEW + " The inquiry was later extended.")

    def die(index_dir, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(builder_mod, "write_index", die)
    with pytest.raises(KeyboardInterrupt):
        build(embedder, corpus, ix, kind, query_encoder=False)
    monkeypatch.undo()
    with pytest.raises(IndexError_, match="out of step"):
        open_it()


@pytest.mark.parametrize("kind", [k for k in store_kinds() if k != "faiss"])
def test_switching_a_folder_index_to_milvus_loads_every_passage(tmp_path, seeds_index, embedder, kind):
    """An index first built on the default store, then given --store: nothing is embedded again and
    every passage reaches the collection (a bug once loaded only the changed articles: none)."""
    from qa.pipeline import QAService

    ix = tmp_path / "ix"
    shutil.copytree(seeds_index, ix)
    rep = build(embedder, SEEDS, ix, kind)
    assert rep.embedded_texts == 0 and rep.unchanged == 5
    svc = QAService(index_dir=ix, corpus=[SEEDS], progress=False, build=False, embedder=embedder,
                    store=store_uri(kind, tmp_path))
    assert svc.retriever.backend.count() == len(svc.store.data.chunk_ids) > 0
    again = build(embedder, SEEDS, ix, kind)
    assert again.noop


@pytest.mark.parametrize("kind", [k for k in store_kinds() if k != "faiss"])
def test_a_service_that_may_build_loads_a_store_that_has_no_collection_yet(tmp_path, seeds_index, embedder, kind):
    """`qa serve --store` / `qa eval --beir --store` on a folder index never loaded there: the passages
    are loaded (nothing embedded again) instead of failing; with build=False it stays an error."""
    from qa.errors import StoreNotLoaded
    from qa.pipeline import QAService

    ix = tmp_path / "ix"
    shutil.copytree(seeds_index, ix)
    uri = store_uri(kind, tmp_path)
    with pytest.raises(StoreNotLoaded, match=r"no Milvus collection .* run `qa index --store"):
        QAService(index_dir=ix, corpus=[SEEDS], progress=False, build=False, embedder=embedder, store=uri)
    svc = QAService(index_dir=ix, corpus=[SEEDS], progress=False, embedder=embedder, store=uri)
    assert svc.last_build is not None and svc.last_build.embedded_texts == 0
    assert svc.retriever.backend.count() == len(svc.store.data.chunk_ids) > 0
    # A 2.3 server has no BM25: its hybrid answers fall back to dense, so compare with dense there.
    plain = QAService(index_dir=seeds_index, corpus=[SEEDS], progress=False, build=False, embedder=embedder,
                      mode="dense" if kind == "milvus" else "hybrid")
    for q in QUESTIONS[:2]:
        assert [p.chunk_id for p in svc.ask(q).passages] == [p.chunk_id for p in plain.ask(q).passages]


@pytest.mark.parametrize("kind", [k for k in store_kinds() if k != "faiss"])
def test_a_collection_from_another_model_or_build_is_refused(tmp_path, seeds_index, embedder, kind):
    from qa.index.milvus import read_meta, write_meta
    from qa.pipeline import QAService

    ix = tmp_path / "ix"
    shutil.copytree(seeds_index, ix)
    build(embedder, SEEDS, ix, kind)
    svc = QAService(index_dir=ix, corpus=[SEEDS], progress=False, build=False, embedder=embedder,
                    store=store_uri(kind, tmp_path))
    client, name = svc.retriever.backend.client, svc.retriever.backend.name
    meta = read_meta(client, name)
    open_it = lambda: QAService(index_dir=ix, corpus=[SEEDS], progress=False, build=False, embedder=embedder,
                                store=store_uri(kind, tmp_path))
    write_meta(client, name, {**meta, "model_id": "someone/else"})
    with pytest.raises(IndexError_, match="was built with model someone/else"):
        open_it()
    write_meta(client, name, {**meta, "fingerprint": "another build"})
    with pytest.raises(IndexError_, match="out of step"):
        open_it()
    rep = build(embedder, SEEDS, ix, kind)  # `qa index` puts it right, without embedding anything
    assert not rep.noop and rep.embedded_texts == 0
    assert open_it().retriever.backend.count() == len(svc.store.data.chunk_ids)


def test_a_server_that_is_down_is_a_clear_error(seeds_index, embedder):
    from qa.pipeline import QAService

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(IndexError_, match=f"cannot reach the Milvus server at 127.0.0.1:{port}"):
        QAService(index_dir=seeds_index, corpus=[SEEDS], progress=False, build=False, embedder=embedder,
                  store=f"milvus://127.0.0.1:{port}")


def test_the_store_comes_from_the_option_then_the_environment_then_the_config_file(tmp_path, monkeypatch):
    from qa.config import StoreURI, resolve_store

    monkeypatch.delenv("QA_STORE", raising=False)
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "qa.toml"))
    assert resolve_store() == StoreURI("faiss")
    (tmp_path / "qa.toml").write_text('store = "milvus://10.0.0.5:19530"\n')
    assert resolve_store() == StoreURI("milvus", "10.0.0.5:19530")
    monkeypatch.setenv("QA_STORE", "milvus-lite:/data/qa.db")
    assert resolve_store() == StoreURI("milvus-lite", "/data/qa.db")
    assert resolve_store("faiss") == StoreURI("faiss")
    with pytest.raises(ValueError, match="unknown store"):
        resolve_store("postgres://x")


def test_qa_ask_takes_store(store_services, capsys):
    import json

    from qa.cli import main

    out = {}
    for kind, svc in store_services.items():
        rc = main(["ask", QUESTIONS[0], "--index-dir", str(svc.index_dir), "--store", str(svc.store_uri), "--json",
                   "-q"])
        assert rc == 0, capsys.readouterr().err
        out[kind] = json.loads(capsys.readouterr().out)
    assert all(o["answer"] == out["faiss"]["answer"] for o in out.values())
