"""Uploads indexed in a lower-priority child process while questions are answered (issue 17, point 2).

Real model, real index, real child process: nothing is mocked. The child is seen through
``/proc`` (its parent, its niceness), so the tests say what a user of the server would notice: a
question is answered while the upload is being indexed, by a process other than the server's, and
the uploaded article is answerable once the job is done.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import SEEDS

FERRY = "Quillmoor Ferry Returns\n\nThe Quillmoor ferry returned to service on Monday after repairs.\n"
ORDINARY = "Until when have Microsoft's IP rights been extended?"
BUILD_TIMEOUT_S = 600  # a hang fails the test instead of blocking CI; not a speed threshold


def _nice_of(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[16])  # field 19 of stat; fields[0] is field 3 (state)


def _indexing_children() -> list[int]:
    """Pids of this process's children running the indexing child (``python -m qa.present.ui_jobs``)."""
    me = str(os.getpid())
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = (d / "stat").read_text().rsplit(")", 1)[1].split()[1]
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if ppid == me and b"qa.present.ui_jobs" in cmd:
            out.append(int(d.name))
    return out


def _wait_for(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def service_copy(seeds_index, embedder, tmp_path):
    from qa.pipeline import QAService

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index, index_dir)
    return QAService(index_dir=index_dir, corpus=[SEEDS], progress=False, build=False, embedder=embedder)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads the child's niceness from /proc")
def test_upload_is_indexed_in_a_niced_child_while_questions_are_answered(service_copy):
    from qa.present.ui_jobs import CHILD_NICE, ChildBuild, IndexJob, SwapLock, index_update

    svc = service_copy
    up = Path(svc.index_dir) / "uploads"
    up.mkdir()
    (up / "ferry.txt").write_text(FERRY, encoding="utf-8")
    store_before = svc.store
    swap, jobs, child = SwapLock(), IndexJob(), ChildBuild()
    fut = jobs.submit(index_update(svc, swap, done="Added {new} article(s).", child=child), "Indexing…")

    assert _wait_for(lambda: _indexing_children(), 60), "no indexing child process was started"
    pid = _indexing_children()[0]
    assert pid != os.getpid()
    assert _wait_for(lambda: (_nice_of(pid) or 0) >= min(19, os.nice(0) + CHILD_NICE), 30), \
        f"the indexing child runs at nice {_nice_of(pid)}, not below the server's priority"

    # A question asked now is answered from the loaded index while the child is still building.
    assert swap.acquire_read(timeout=5)
    try:
        ans = svc.ask(ORDINARY, k=10, read=10)
    finally:
        swap.release_read()
    assert "2032" in ans.answer
    assert pid in _indexing_children() and not fut.done(), "the question should be answered while indexing ran"
    assert svc.store is store_before  # nothing swapped in until the child has finished

    msg = fut.result(timeout=BUILD_TIMEOUT_S)
    assert msg.startswith("Added 1 article(s)."), msg
    assert child.last["pid"] == pid and child.last["nice"] >= min(19, os.nice(0) + CHILD_NICE)
    assert not _indexing_children()
    assert svc.store is not store_before and svc.retriever.store is svc.store and svc.answerer.store is svc.store
    assert svc.last_build is not None and not svc.last_build.noop and svc.last_build.added
    after = svc.ask("When did the Quillmoor ferry return to service?", k=10, read=10)
    assert "Monday" in after.answer
    assert any("ferry" in c.doc_id for c in after.citations)
    # the seed articles are still answered from the new index
    assert "2032" in svc.ask(ORDINARY, k=10, read=10).answer


def test_child_build_error_is_reported_not_raised_in_the_server(service_copy):
    import dataclasses

    from qa.errors import QAError
    from qa.present.ui_jobs import BuildSpec, ChildBuild, IndexJob

    spec = dataclasses.replace(BuildSpec.for_service(service_copy), model=str(Path(service_copy.index_dir) / "no-model"))
    with pytest.raises(QAError, match="no-model"):
        ChildBuild().run(spec)
    jobs = IndexJob()
    msg = jobs.submit(lambda: str(ChildBuild().run(spec)), "Indexing…").result(timeout=BUILD_TIMEOUT_S)
    assert msg.startswith("Indexing failed (QAError:") and "no-model" in msg
    assert "the articles indexed before are still searched" in msg and not jobs.state.running


def test_build_spec_carries_the_services_settings(service_copy):
    from qa.present.ui_jobs import BuildSpec

    svc = service_copy
    spec = BuildSpec.for_service(svc)
    b = svc.builder()
    assert BuildSpec.from_json(spec.to_json()) == spec
    assert spec.model == str(svc.embedder.path) and spec.index_dir == str(svc.index_dir)
    assert spec.chunk_params == b.params.to_dict() and spec.sentence_vectors == b.sentence_vectors.value
    assert list(spec.corpus) == [str(p) for p in svc.corpus_paths()]
