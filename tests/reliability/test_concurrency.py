"""Concurrent ``qa index`` runs on one index folder: one builds, the other stops at once with a
clear "busy" message and a non-zero exit, and the index is intact afterwards."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.errors import IndexBusyError
from qa.index.lock import index_lock
from qa.index.store import IndexStore
from qa.retrieve.hybrid import HybridRetriever

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUESTION = "How much has Microsoft invested in OpenAI?"


def qa_index(ix: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "index", "--corpus", str(SEEDS), "--index-dir", str(ix),
                             "-q", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})


def top(ix: Path, embedder) -> list[str]:
    store = IndexStore.open(ix)
    return [p.chunk_id for p in HybridRetriever(store, embedder).run(QUESTION, k=10).passages]


@pytest.fixture
def ix(tmp_path, seeds_index) -> Path:
    dst = tmp_path / "ix"
    shutil.copytree(seeds_index, dst)
    return dst


def test_lock_held_elsewhere_gives_busy_message(ix, embedder):
    before = top(ix, embedder)
    with index_lock(ix):  # this test process is the other writer
        proc = qa_index(ix, "--rebuild")
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == IndexBusyError.exit_code
    assert f"another qa process (pid {os.getpid()}) is building the index in {ix}" in err
    assert "wait for it to finish and try again" in err and "Traceback" not in err
    assert top(ix, embedder) == before


def test_lock_is_released_after_use(tmp_path):
    with index_lock(tmp_path):
        with pytest.raises(IndexBusyError, match="is building the index"):
            with index_lock(tmp_path):
                pass
    with index_lock(tmp_path):  # free again
        pass


@pytest.mark.slow
def test_two_real_index_processes(ix, embedder):
    """Two ``qa index`` processes on one index. The first is frozen (SIGSTOP) while it holds the
    lock, so that the second surely runs into it; then it resumes and finishes its build."""
    before = top(ix, embedder)
    first = qa_index(ix, "--rebuild")
    pid_file = ix / ".lock.pid"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        if pid_file.is_file() and pid_file.read_text().strip() == str(first.pid):
            break
        time.sleep(0.02)
    assert first.poll() is None, "the first build ended before the test could see it holding the lock"
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = qa_index(ix, "--rebuild")
        out2, err2 = second.communicate(timeout=300)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out1, err1 = first.communicate(timeout=600)
    assert first.returncode == 0, err1[-2000:]
    assert second.returncode == IndexBusyError.exit_code, err2[-2000:]
    assert f"another qa process (pid {first.pid}) is building the index in {ix}" in err2
    assert "Traceback" not in err1 + err2
    assert top(ix, embedder) == before  # the first build went through, and answers as before
    assert len(list(ix.glob("build-*"))) <= 2

    third = qa_index(ix)  # and the lock is free again afterwards
    out3, err3 = third.communicate(timeout=600)
    assert third.returncode == 0 and "up to date" in out3, err3[-2000:]
