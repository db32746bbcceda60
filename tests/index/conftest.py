"""Fixtures for the search stores: the session's seeds index searched through FAISS (the folder),
an embedded milvus-lite file, and, when ``QA_MILVUS_URI`` names one (``.ci/run`` starts it with
``.ci/milvus start``), a real Milvus server."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import SEEDS

#: Set to ``milvus://127.0.0.1:PORT`` to run the store tests against a Milvus server as well.
SERVER_ENV = "QA_MILVUS_URI"


def store_kinds() -> list[str]:
    return ["faiss", "milvus-lite"] + (["milvus"] if os.environ.get(SERVER_ENV) else [])


def store_uri(kind: str, where: Path) -> str:
    """The ``--store`` value of ``kind`` for an index whose scratch files go in ``where``."""
    if kind == "faiss":
        return "faiss"
    if kind == "milvus-lite":
        return f"milvus-lite:{where / 'milvus.db'}"
    return os.environ[SERVER_ENV]


def build(embedder, corpus: Path, index_dir: Path, kind: str, **kw):
    """Build or update ``index_dir`` from ``corpus`` into the store ``kind``; the report."""
    from qa.index.builder import IndexBuilder

    return IndexBuilder(embedder, progress=False, store=store_uri(kind, index_dir.parent), **kw).run([corpus], index_dir)


@pytest.fixture(scope="session")
def store_services(seeds_index, tmp_path_factory, embedder) -> dict:
    """``{kind: QAService}`` over the same seeds build, one per store. The Milvus ones get a copy
    of the session's folder, so their build only loads the existing vectors into Milvus."""
    from qa.pipeline import QAService

    out = {}
    for kind in store_kinds():
        if kind == "faiss":
            ix = seeds_index
        else:
            ix = tmp_path_factory.mktemp(f"seeds-{kind}") / "ix"
            shutil.copytree(seeds_index, ix)
            rep = build(embedder, SEEDS, ix, kind)
            assert rep.embedded_texts == 0 and rep.store
        out[kind] = QAService(index_dir=ix, corpus=[SEEDS], progress=False, build=False, embedder=embedder,
                              store=store_uri(kind, ix.parent))
    return out


@pytest.fixture(params=store_kinds())
def store_kind(request) -> str:
    return request.param
