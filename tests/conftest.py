"""Shared fixtures: one model load and one seeds index per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def embedder():
    """The default model, loaded once."""
    from qa.embed.model import Embedder

    return Embedder()


@pytest.fixture
def counting_embedder(embedder):
    """The session model, recording every text it is asked to encode (``.encoded``)."""
    from qa.embed.recording import RecordingEmbedder

    return RecordingEmbedder(embedder)


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory, embedder) -> Path:
    """An index of seeds/ built once per session (read-only: copy it before changing it)."""
    from qa.index.builder import IndexBuilder

    index_dir = tmp_path_factory.mktemp("seeds-index")
    IndexBuilder(embedder, progress=False).run([SEEDS], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def service(seeds_index, embedder):
    """A QAService over the session's seeds index, sharing the loaded model."""
    from qa.pipeline import QAService

    return QAService(index_dir=seeds_index, corpus=[SEEDS], progress=False, build=False, embedder=embedder)


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of the seed articles."""
    dst = tmp_path / "corpus"
    shutil.copytree(SEEDS, dst)
    return dst


def article_text(store, doc_id: str) -> str:
    return store.article(doc_id).text
