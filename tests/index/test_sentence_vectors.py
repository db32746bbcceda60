"""Sentence vectors: pooled from the chunks' own forward pass by default, or embedded separately."""
from __future__ import annotations

import numpy as np
import pytest

from qa.answer.answerer import CALIBRATION_FILE, AnswerConfig
from qa.config import SentenceVectors
from qa.index.builder import IndexBuilder, index_text
from qa.index.store import IndexStore


def test_pooled_build_runs_the_model_over_chunk_texts_only(tmp_path, seeds_copy, counting_embedder):
    report = IndexBuilder(counting_embedder, progress=False).run([seeds_copy], tmp_path / "ix")
    store = IndexStore.open(tmp_path / "ix")
    d = store.data
    chunk_texts = [index_text(store.chunk_article(r), int(d.chunk_span[r, 0]), int(d.chunk_span[r, 1]), True)
                   for r in range(len(d.chunk_ids))]
    assert counting_embedder.encoded == chunk_texts
    assert report.embedded_texts == report.chunks and report.sentences > report.chunks
    np.testing.assert_allclose(np.linalg.norm(np.asarray(d.sentence_vectors), axis=1), 1, rtol=1e-5)
    assert store.manifest["settings"]["sentence_vectors"] == "pooled"


def test_pooled_sentence_vectors_stay_close_to_separate_ones(tmp_path, embedder, seeds_index):
    from tests.conftest import SEEDS

    IndexBuilder(embedder, progress=False, sentence_vectors="separate").run([SEEDS], tmp_path / "sep")
    pooled, separate = IndexStore.open(seeds_index).data, IndexStore.open(tmp_path / "sep").data
    assert (pooled.sentences == separate.sentences).all()
    # One model pass either way; the batches differ, which in bfloat16 moves the last digits.
    cos = (np.asarray(pooled.chunk_vectors) * np.asarray(separate.chunk_vectors)).sum(axis=1)
    assert cos.min() > 0.9999
    sim = np.asarray(pooled.sentence_vectors) @ np.asarray(separate.sentence_vectors).T
    assert (np.argmax(sim, axis=1) == np.arange(len(sim))).mean() >= 0.85  # measured 0.95 on the seeds


def test_sentence_longer_than_a_chunk_gets_one_vector(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    long = "The committee " + ", ".join(f"reviewed item {i} of the budget" for i in range(60)) + "."
    (corpus / "a.txt").write_text(f"Budget review\n\nA short opening.\n\n{long}\n\nA short ending.", encoding="utf-8")
    report = IndexBuilder(embedder, progress=False).run([corpus], tmp_path / "ix")
    d = IndexStore.open(tmp_path / "ix").data
    assert report.chunks >= 3
    spans = [(int(s), int(e)) for _, s, e in d.sentences]
    long_row = max(range(len(spans)), key=lambda i: spans[i][1] - spans[i][0])
    in_chunks = [(lo <= long_row < hi) for lo, hi in d.chunk_sents]
    assert sum(in_chunks) >= 2  # really cut across chunks
    np.testing.assert_allclose(np.linalg.norm(np.asarray(d.sentence_vectors), axis=1), 1, rtol=1e-5)


def test_changing_the_mode_re_embeds_and_the_service_keeps_the_mode(tmp_path, seeds_copy, counting_embedder):
    from qa.pipeline import QAService

    ix = tmp_path / "ix"
    IndexBuilder(counting_embedder, progress=False).run([seeds_copy], ix)
    counting_embedder.encoded.clear()
    rep = IndexBuilder(counting_embedder, progress=False, sentence_vectors="separate").run([seeds_copy], ix)
    assert rep.embedded_texts == rep.chunks + rep.sentences == len(counting_embedder.encoded)
    svc = QAService(index_dir=ix, corpus=[seeds_copy], embedder=counting_embedder, progress=False)
    assert svc.builder().sentence_vectors is SentenceVectors.SEPARATE
    counting_embedder.encoded.clear()
    assert svc.builder().run(svc.corpus_paths(), ix).noop and counting_embedder.encoded == []


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid: pooled, separate"):
        SentenceVectors.parse("mean")


def test_each_mode_has_its_own_calibrated_threshold():
    import json

    cal = json.loads(CALIBRATION_FILE.read_text())
    assert AnswerConfig().threshold("pooled") == pytest.approx(cal["pooled"]["abstain_threshold"])
    assert AnswerConfig().threshold("separate") == pytest.approx(cal["separate"]["abstain_threshold"])
    assert AnswerConfig(abstain_threshold=0.2).threshold("separate") == 0.2
