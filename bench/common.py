"""Shared helpers: paths, timers, peak-RSS sampling, percentiles, generated questions."""
from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"
BBC_RAW = SHARED_DATA / "news-bbc" / "raw"
RTQA = SHARED_DATA / "news-realtimeqa" / "articles.jsonl"
SCIFACT = SHARED_DATA / "beir-scifact-train"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def rss_mb() -> float:
    """This process's resident memory in MiB (psutil; /proc on Linux when psutil is absent)."""
    try:
        import psutil
    except ImportError:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return psutil.Process().memory_info().rss / 2**20


class PeakRSS:
    """Sample this process's RSS every ``interval`` seconds in a thread; ``peak_mb`` after exit.

    A sampler rather than ``ru_maxrss`` because that is a lifetime maximum, and every section of the
    bench runs in one process.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.start_mb = 0.0
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.start_mb = self.peak_mb = rss_mb()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


@contextmanager
def timer(out: dict, key: str):
    t = time.perf_counter()
    try:
        yield
    finally:
        out[key] = time.perf_counter() - t


def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def summary_ms(values) -> dict:
    """p50 / p95 / mean of a list of milliseconds."""
    return {"p50": round(pct(values, 50), 2), "p95": round(pct(values, 95), 2),
            "mean": round(float(np.mean(values)), 2) if len(values) else float("nan"), "n": len(values)}


@dataclass
class Section:
    """One section's results: ``figures`` is free-form JSON; ``notes`` are sentences for the report."""

    name: str
    figures: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
_STARTS = ("What", "Who", "When", "Why", "How", "Which")


def make_questions(articles, n: int, seed: int = 0) -> list[str]:
    """``n`` questions generated from the articles' titles and sentences with a seeded RNG.

    Half are built from a title ("What happened with <title>?"), half from a random window of 4-10
    words of a random sentence led by a random wh-word, so they are neither hand-picked nor all
    trivially lexical copies of one passage.
    """
    from qa.chunk.sentences import split_sentences

    rng = random.Random(seed)
    arts = [a for a in articles if a.text]
    sent_cache: dict[int, list[tuple[int, int]]] = {}
    out: list[str] = []
    while len(out) < n:
        i = rng.randrange(len(arts))
        art = arts[i]
        if rng.random() < 0.5 and art.title:
            out.append(f"What happened with {art.title.rstrip('.?! ')}?")
            continue
        if i not in sent_cache:
            sent_cache[i] = split_sentences(art.text[:20000])
        sents = sent_cache[i]
        if not sents:
            continue
        s, e = sents[rng.randrange(len(sents))]
        words = _WORD.findall(art.text[s:e])
        if len(words) < 4:
            continue
        w = rng.randint(4, min(10, len(words)))
        lo = rng.randrange(len(words) - w + 1)
        out.append(f"{rng.choice(_STARTS)} {' '.join(words[lo:lo + w])}?")
    return out


def load_articles(paths: list[Path]):
    from qa.ingest.corpus import CorpusLoader

    return CorpusLoader().run([Path(p) for p in paths]).articles


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=str), encoding="utf-8")
