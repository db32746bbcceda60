"""The BEIR path end to end on a tiny synthetic BEIR folder (10 docs, 3 queries)."""
from __future__ import annotations

import json

import pytest

from qa.cli import main
from qa.evaluate.beir import beir_index_dir, load_beir, references
from qa.evaluate.dataset import DatasetError

DOCS = {
    "d0": ("Volcanic eruptions", "Basaltic lava flows from shield volcanoes cool into columnar jointing."),
    "d1": ("Honeybee navigation", "Foraging honeybees communicate the direction of nectar through a waggle dance."),
    "d2": ("Coral bleaching", "Rising ocean temperatures expel symbiotic algae from reef-building corals."),
    "d3": ("Insulin signalling", "Insulin binds its receptor tyrosine kinase and triggers glucose uptake in muscle."),
    "d4": ("Glacier retreat", "Alpine glaciers have lost mass every decade since the nineteenth century."),
    "d5": ("Antibiotic resistance", "Plasmids carrying beta-lactamase genes spread penicillin resistance among bacteria."),
    "d6": ("Sleep and memory", "Slow-wave sleep consolidates declarative memories in the hippocampus."),
    "d7": ("Photosynthesis", "Chlorophyll absorbs red and blue light to split water in photosystem two."),
    "d8": ("Bird migration", "Arctic terns migrate from pole to pole, the longest journey of any animal."),
    "d9": ("Telomeres", "Telomerase extends chromosome ends and is reactivated in most cancer cells."),
}
QUERIES = {"q1": "how do honeybees tell others where nectar is", "q2": "which enzyme lengthens telomeres in cancer",
           "q3": "what spreads penicillin resistance between bacteria", "q4": "an unjudged query"}
QRELS = [("q1", "d1", 1), ("q2", "d9", 1), ("q3", "d5", 2), ("q3", "d0", 0)]


def make_beir(root, split="test"):
    (root / "qrels").mkdir(parents=True)
    with open(root / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for did, (title, text) in DOCS.items():
            fh.write(json.dumps({"_id": did, "title": title, "text": text}) + "\n")
    with open(root / "queries.jsonl", "w", encoding="utf-8") as fh:
        for qid, text in QUERIES.items():
            fh.write(json.dumps({"_id": qid, "text": text, "metadata": {}}) + "\n")
    (root / "qrels" / f"{split}.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS), encoding="utf-8")
    return root


def test_load_beir_reads_judged_queries_only(tmp_path):
    beir = load_beir(make_beir(tmp_path / "beir-tiny"), "test")
    assert set(beir.queries) == {"q1", "q2", "q3"}  # q4 has no judgements
    assert beir.qrels["q3"] == {"d5": 2}  # score 0 is not relevant
    with pytest.raises(DatasetError, match="available: test"):
        load_beir(tmp_path / "beir-tiny", "train")
    with pytest.raises(DatasetError, match="corpus.jsonl is missing"):
        load_beir(tmp_path, "test")


def test_index_dir_and_references(tmp_path):
    assert beir_index_dir(tmp_path / "index", tmp_path / "data" / "beir-scifact-train") == \
        tmp_path / "index" / "beir" / "beir-scifact-train"
    assert references("beir-scifact-train")[0][1] == 0.665
    assert references("beir-nfcorpus") == []


def test_beir_end_to_end_and_reuses_its_index(tmp_path, capsys):
    root = make_beir(tmp_path / "beir-tiny")
    index_dir, out = tmp_path / "index", tmp_path / "out"
    argv = ["eval", "--beir", str(root), "--split", "test", "--index-dir", str(index_dir), "--out", str(out), "-q"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "nDCG@10" in printed and "hybrid" in printed
    built = beir_index_dir(index_dir, root)
    pointer = (built / "CURRENT").read_text()
    data = json.loads((out / "beir-metrics.json").read_text())
    assert data["meta"]["queries"] == 3 and data["meta"]["corpus_docs_indexed"] == 10
    for cfg in ("dense", "bm25", "hybrid"):
        m = data["metrics"][cfg]
        assert m["recall@100"] == 1.0  # 10 docs: every relevant one is found
        assert 0.0 < m["ndcg@10"] <= 1.0 and 0.0 < m["mrr@10"] <= 1.0
    assert data["metrics"]["bm25"]["mrr@10"] == 1.0  # each query shares rare words only with its doc
    runs = [json.loads(x) for x in (out / "beir-runs.jsonl").read_text().splitlines()]
    assert len(runs) == 9
    assert all(len(r["docs"]) == 10 for r in runs if r["config"] != "bm25")  # BM25 keeps only word matches
    assert all(r["docs"][0] == {"q1": "d1", "q2": "d9", "q3": "d5"}[r["query_id"]] for r in runs if r["config"] == "bm25")
    assert (out / "beir-report.md").read_text().startswith("# BEIR retrieval report")

    assert main(argv) == 0  # second run: the index is reused, nothing rebuilt
    assert (built / "CURRENT").read_text() == pointer


def test_write_subset_keeps_judged_docs(tmp_path):
    from qa.evaluate.beir import write_subset

    full = load_beir(make_beir(tmp_path / "beir-tiny"), "test")
    sub = load_beir(write_subset(full, tmp_path / "sub", n_queries=2, n_docs=4, seed=1), "test")
    assert len(sub.queries) == 2 and set(sub.qrels) <= set(full.qrels)
    ids = {json.loads(x)["_id"] for x in (tmp_path / "sub" / "corpus.jsonl").read_text().splitlines()}
    assert len(ids) == 4 and {d for rel in sub.qrels.values() for d in rel} <= ids
