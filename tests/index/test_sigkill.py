"""A real ``qa index --rebuild`` killed with SIGKILL at random points leaves the previous index
loadable and answering exactly as before, and its leftovers do not break the next build."""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.index.builder import IndexBuilder
from qa.index.store import IndexStore
from qa.retrieve.hybrid import HybridRetriever

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUESTIONS = ["How much has Microsoft invested in OpenAI?", "Who is OpenAI's CEO?",
             "Why did the harbour strike end?"]
TOPICS = ["harbour strike", "river bridge", "school budget", "energy prices", "city council vote",
          "railway line", "hospital wing", "water supply"]


def make_corpus(root: Path, n_articles: int = 12, seed: int = 7) -> Path:
    """The seed articles plus generated ones, so that a build runs for a few seconds."""
    rng = random.Random(seed)
    shutil.copytree(SEEDS, root)
    verbs = ["approved", "delayed", "criticised", "funded", "rejected", "reviewed", "announced"]
    people = ["the mayor", "union leaders", "the minister", "local residents", "the regulator"]
    for i in range(n_articles):
        topic = rng.choice(TOPICS)
        sents = [f"{rng.choice(people).capitalize()} {rng.choice(verbs)} the {topic} plan on day {rng.randint(1, 28)}, "
                 f"citing costs of {rng.randint(2, 900)} million and {rng.randint(2, 60)} weeks of work."
                 for _ in range(rng.randint(6, 10))]
        (root / f"gen_{i:03d}.txt").write_text(f"{topic.title()} update {i}\n\n" + " ".join(sents), encoding="utf-8")
    return root


def top_passages(store: IndexStore, embedder) -> list[list[tuple[str, str]]]:
    retriever = HybridRetriever(store, embedder)
    return [[(p.chunk_id, store.chunk_text(store.chunk_row[p.chunk_id])) for p in retriever.run(q, k=10).passages]
            for q in QUESTIONS]


def qa_index(corpus: Path, ix: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "index", "--rebuild", "--corpus", str(corpus),
                             "--index-dir", str(ix), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.mark.slow
def test_sigkill_during_build_keeps_previous_index(tmp_path, embedder):
    corpus = make_corpus(tmp_path / "corpus")
    ix = tmp_path / "ix"
    # Two complete runs of the same command; the second is timed to spread the kills over a build.
    # The first also exports the model (loading torch), which the rebuilds below reuse: they are
    # several times faster, and kills timed on the first would all come too late.
    for _ in range(2):
        t0 = time.monotonic()
        proc = qa_index(corpus, ix)
        _, err = proc.communicate(timeout=900)
        duration = time.monotonic() - t0
        assert proc.returncode == 0, err.decode()[-2000:]
    expected = top_passages(IndexStore.open(ix), embedder)
    assert all(expected)

    rng = random.Random(1234)
    n = 4
    delays = [duration * (i + rng.random()) / n for i in range(n)]  # one random point in each quarter
    killed = 0
    outcomes: list[str] = []
    for delay in delays:
        live_before = IndexStore.open(ix).folder
        proc = qa_index(corpus, ix)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL
            proc.wait()
            killed += 1
        proc.stdout.close()
        proc.stderr.close()
        store = IndexStore.open(ix)  # loadable, whichever build is live
        assert top_passages(store, embedder) == expected, f"after a kill at {delay:.2f}s"
        if proc.returncode == -9:
            outcomes.append("previous" if store.folder == live_before else "new")
    assert killed >= n // 2, f"only {killed} of {n} runs were killed (build took {duration:.1f}s, {outcomes})"

    # Leftover build folders do not break the next build, which cleans them up.
    report = IndexBuilder(embedder, progress=False).run([corpus], ix, rebuild=True)
    assert not report.noop
    final = IndexStore.open(ix)
    assert top_passages(final, embedder) == expected
    assert len(list(ix.glob("build-*"))) <= 2
    assert not list(ix.glob(".CURRENT.*.tmp"))
