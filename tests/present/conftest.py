"""Serve the chat app on a private copy of the seeds index (uploads and feedback change it)."""
from __future__ import annotations

import shutil
import socket
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import SEEDS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(workdir: Path, seeds_index: Path, embedder):
    """Yield ``(url, svc)`` for the app launched on loopback over a copy of ``seeds_index``."""
    from qa.pipeline import QAService
    from qa.present.ui import launch

    index_dir = workdir / "index"
    shutil.copytree(seeds_index, index_dir)
    svc = QAService(index_dir=index_dir, corpus=[SEEDS], progress=False, build=False, embedder=embedder)
    port = free_port()
    app = launch(svc, host="127.0.0.1", port=port, block=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", svc
    finally:
        app.close()
