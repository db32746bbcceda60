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

#: ``QA_START_MILVUS=1`` (set by ``.ci/run``): the session starts the registry's Milvus standalone
#: server on 127.0.0.1 with ``.ci/milvus`` (before collection, since the store tests are parametrised
#: on it) and stops it at the end, so the store tests also run against a real server.
START_MILVUS_ENV = "QA_START_MILVUS"
_MILVUS_PORT = "19530"


#: ``QA_REQUIRE_NETNS=1`` (set by ``.ci/run``): a test that needs Linux namespaces fails where it
#: cannot make them instead of skipping, so CI never passes by skipping them.
REQUIRE_NAMESPACES_ENV = "QA_REQUIRE_NETNS"


def namespaces_unavailable(*flags: str) -> str | None:
    """Why ``unshare FLAGS`` (e.g. ``-n``, ``-m``) cannot run here, or None when it can."""
    import shutil
    import subprocess

    if os.geteuid() != 0:
        return f"needs root for unshare {' '.join(flags)}"
    if not shutil.which("unshare"):
        return "no unshare"
    r = subprocess.run(["unshare", *flags, "true"], capture_output=True, text=True)
    return None if r.returncode == 0 else f"unshare {' '.join(flags)} failed: {r.stderr.strip()}"


def require_namespaces(*flags: str) -> None:
    """Skip the calling test unless ``unshare FLAGS`` works; fail instead under ``QA_REQUIRE_NETNS=1``."""
    why = namespaces_unavailable(*flags)
    if why:
        if os.environ.get(REQUIRE_NAMESPACES_ENV) == "1":
            pytest.fail(f"{REQUIRE_NAMESPACES_ENV}=1 but {why}")
        pytest.skip(why)


def pytest_configure(config) -> None:
    if os.environ.get(START_MILVUS_ENV) != "1" or os.environ.get("QA_MILVUS_URI"):
        return
    import subprocess

    env = {**os.environ, "QA_MILVUS_PORT": _MILVUS_PORT}
    run = subprocess.run(["bash", str(REPO / ".ci" / "milvus"), "start"], env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise pytest.UsageError(f"{START_MILVUS_ENV}=1 but the Milvus server did not start: {run.stderr.strip()}")
    print(run.stdout.strip())
    os.environ["QA_MILVUS_URI"] = f"milvus://127.0.0.1:{_MILVUS_PORT}"
    config._qa_started_milvus = True


def pytest_unconfigure(config) -> None:
    if getattr(config, "_qa_started_milvus", False):
        import subprocess

        subprocess.run(["bash", str(REPO / ".ci" / "milvus"), "stop"], env={**os.environ, "QA_MILVUS_PORT": _MILVUS_PORT},
                       capture_output=True)


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
