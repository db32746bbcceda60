"""Serve the chat app on a private copy of the seeds index (uploads and feedback change it)."""
from __future__ import annotations

import json
import os
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import SEEDS

#: What the browser tests measured (seconds) and where their screenshots went ("artifacts"); printed
#: at the end of the run (a fixture's own output would be captured and never shown).
TIMINGS: dict[str, object] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    measured = {k: v for k, v in TIMINGS.items() if k != "artifacts"}
    terminalreporter.write_sep("-", "chat UI timings (measured, not asserted)")
    terminalreporter.write_line("seconds: " + json.dumps(measured))
    if "artifacts" in TIMINGS:
        terminalreporter.write_line(f"screenshots and ui_timings.json in {TIMINGS['artifacts']}")


@pytest.fixture(scope="session")
def timings() -> dict[str, object]:
    """The dict printed at the end of the run: tests add what they measured (the test module may be
    imported under another name than this conftest, so it is handed over, not imported)."""
    return TIMINGS


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where the UI tests' screenshots, timings and load figures go: ``$QA_ARTIFACTS`` (CI keeps
    it), else a folder in pytest's temporary directory (printed at the end of the run)."""
    given = os.environ.get("QA_ARTIFACTS")
    path = Path(given) if given else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    TIMINGS["artifacts"] = str(path)
    return path


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
