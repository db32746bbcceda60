"""Hybrid retrieval: fusion, filters before ranking, provenance, and the LangChain interface."""
from __future__ import annotations

import pytest
from langchain_core.documents import Document

from qa.retrieve.fusion import rrf
from qa.retrieve.hybrid import Filters, HybridRetriever, RetrievalMode
from qa.retrieve.langchain import QARetriever


def test_rrf_matches_formula():
    fused = rrf([[1, 2, 3], [3, 1]], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert sorted(fused, key=fused.get, reverse=True)[0] == 1


def test_mode_parse_lists_valid_values():
    with pytest.raises(ValueError, match="hybrid, dense, bm25"):
        RetrievalMode.parse("sparse")


def test_provenance_and_modes(service):
    r = service.retriever
    hyb = r.run("Until which year have Microsoft's IP rights been extended?", k=10)
    assert len(hyb.passages) == 10
    top = hyb.passages[0]
    assert "2032" in top.text and top.dense_rank is not None and top.bm25_rank is not None
    assert [p.rank for p in hyb.passages] == list(range(1, 11))
    assert all(a.score >= b.score for a, b in zip(hyb.passages, hyb.passages[1:]))
    dense = r.run("Until which year have Microsoft's IP rights been extended?", k=5, mode="dense")
    assert all(p.bm25_rank is None for p in dense.passages)
    bm25 = r.run("extended until 2032", k=5, mode="bm25")
    assert all(p.dense_rank is None and p.bm25_score > 0 for p in bm25.passages)


def test_no_duplicate_passages(service):
    res = service.retriever.run("Microsoft OpenAI partnership", k=30)
    texts = [p.text for p in res.passages]
    assert len(texts) == len(set(texts))


def test_filters_apply_before_ranking(service):
    r: HybridRetriever = service.retriever
    res = r.run("Microsoft investment", k=10, filters=Filters(sources=("heise",)))
    assert res.passages and {p.doc_id for p in res.passages} == {"003_0671461e846e04f9"}
    res = r.run("Microsoft investment", k=10, filters=Filters(date_from="2025-05-12", date_to="2025-12-31"))
    assert {p.date for p in res.passages} <= {"2025-05-12", "2025-08-06"} and res.passages
    assert r.run("Microsoft", filters=Filters(sources=("nobody",))).passages == []
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        Filters(date_from="May 2025")


def test_langchain_invoke(service):
    lc = QARetriever(retriever=service.retriever, k=3)
    docs = lc.invoke("Until which year have Microsoft's IP rights been extended?")
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    assert "2032" in docs[0].page_content
    md = docs[0].metadata
    assert {"doc_id", "chunk_id", "start", "end", "title", "source", "date", "dense_rank", "bm25_rank"} <= set(md)
    art = service.store.article(md["doc_id"])
    assert art.text[md["start"]:md["end"]] == docs[0].page_content


def test_bm25_mode_still_answers(service):
    ans = service.ask("Who is OpenAI's CEO?", mode="bm25")
    assert not ans.abstained and "Sam Altman" in ans.answer
    assert all(p.dense_rank is None for p in ans.passages)


@pytest.mark.parametrize("question", ["How much has Microsoft invested in OpenAI?", "Who leads OpenAI?",
                                      "revenue sharing agreement AGI", "zzzz qqqq"])
def test_bm25_alongside_the_embedding_gives_the_same_ranking(service, question):
    """BM25 runs on a worker thread while the question is embedded; given a precomputed vector it
    runs inline. Both paths, and a plain stable sort of all BM25 scores, must agree."""
    import numpy as np

    ret = HybridRetriever(service.store, service.embedder, depth=5)  # a small depth cuts inside ties
    threaded = ret.run(question, k=10)
    inline = ret.run(question, k=10, query_vector=service.embedder.encode_query(question))
    assert [p.chunk_id for p in threaded.passages] == [p.chunk_id for p in inline.passages]
    assert [p.bm25_rank for p in threaded.passages] == [p.bm25_rank for p in inline.passages]
    scores = service.store.data.lexical.scores(question)
    positive = np.flatnonzero(scores > 0)
    expected = positive[np.argsort(-scores[positive], kind="stable")][:30]
    ids, by_id, _ = ret._bm25(question, None, 30)
    assert ids == [int(i) for i in expected] and set(by_id) == set(ids)


@pytest.mark.parametrize("depth, expected", [(3, [1, 3, 4]), (5, [1, 3, 4, 6, 2]), (10, [1, 3, 4, 6, 2, 5])])
def test_bm25_cut_keeps_ties_in_row_order(depth, expected):
    from types import SimpleNamespace

    import numpy as np

    scores = np.array([0, 2, 1, 2, 2, 0.5, 2], dtype=np.float32)
    lexical = SimpleNamespace(scores=lambda q: scores.copy())
    store = SimpleNamespace(articles=[], data=SimpleNamespace(lexical=lexical))
    ids, by_id, _ = HybridRetriever(store, embedder=None)._bm25("q", None, depth)
    assert ids == expected and all(by_id[i] == scores[i] for i in ids)
    ids, _, _ = HybridRetriever(store, embedder=None)._bm25("q", np.array([2, 3, 5]), depth)
    assert ids == [3, 2, 5][:depth]


def test_small_share_filters_are_scored_exactly_not_through_a_starved_hnsw():
    """Why a hand-made 10-day --from/--to window lost answers on news-realtimeqa (68k chunks, HNSW):
    an HNSW graph searched with a selector admitting ~1% of rows returns only a few of them. The
    retriever scores such a set exactly, so the window's best passages are all found."""
    from types import SimpleNamespace

    import numpy as np

    from qa.index.dense import DenseKind, build_dense, search_dense

    rng = np.random.default_rng(7)
    n, dim = 6000, 32
    centres = rng.normal(size=(60, dim)).astype(np.float32)
    x = centres[rng.integers(0, 60, n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    hnsw = build_dense(x, DenseKind.HNSW)
    store = SimpleNamespace(articles=[], data=SimpleNamespace(chunk_vectors=x, dense=hnsw))
    r = HybridRetriever(store, embedder=None)
    allowed = np.sort(rng.choice(n, 60, replace=False))  # 1% of the rows
    q = x[int(allowed[0])] + 0.2 * rng.normal(size=dim).astype(np.float32)
    q /= np.linalg.norm(q)
    exact = [int(i) for i in allowed[np.argsort(-(x[allowed] @ q))][:50]]
    ids, _ = r._dense(q, 50, allowed)
    assert ids == exact
    starved, _ = search_dense(hnsw, q, 50, allowed)
    assert len(starved) < 50  # FAISS alone: the failure the exact path avoids


def test_keep_undated_lets_undated_articles_through_a_date_range(service):
    r: HybridRetriever = service.retriever
    dated_only = {p.doc_id for p in r.run("Microsoft OpenAI", k=30,
                                          filters=Filters(date_from="2025-01-01", date_to="2025-12-31")).passages}
    with_undated = {p.doc_id for p in r.run("Microsoft OpenAI", k=30, filters=Filters(
        date_from="2025-01-01", date_to="2025-12-31", keep_undated=True)).passages}
    undated = {a.doc_id for a in service.store.articles if not a.date}
    assert not dated_only & undated and with_undated & undated


def test_as_of_filter_drops_later_articles(service):
    res = service.retriever.run("Microsoft OpenAI partnership", k=30, filters=Filters(as_of="2025-05-11"))
    assert res.passages and all(not p.date or p.date <= "2025-05-11" for p in res.passages)
    assert any(p.date == "2025-05-11" for p in res.passages)


def test_time_window_is_preferred_not_a_wall(service):
    from qa.retrieve.timeframe import find_timeframe

    frame = find_timeframe("What did Microsoft and OpenAI agree this week?", "2025-08-08")
    res = service.retriever.run("What did Microsoft and OpenAI agree?", k=40, prefer=frame,
                                filters=Filters(as_of="2025-08-08"))
    assert res.frame is not None and res.frame.contains("2025-08-06")
    assert res.passages[0].date == "2025-08-06"
    assert any(p.date != "2025-08-06" for p in res.passages)  # outside the window still retrieved
