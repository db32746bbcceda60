"""``IndexStore.open`` reads ``CURRENT`` once: a pointer swapped during the open gives the old or the
new index, never a mix of one's manifest with the other's files (which was refused as "truncated")."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from qa.index.builder import IndexBuilder
from qa.index.store import POINTER, IndexStore


def _two_builds(tmp_path: Path, seeds_copy: Path, embedder) -> tuple[Path, str, str]:
    ix = tmp_path / "ix"
    IndexBuilder(embedder, progress=False, query_encoder=False).run([seeds_copy], ix)
    first = (ix / POINTER).read_text().strip()
    (seeds_copy / "extra.txt").write_text("A harbour strike ended after two weeks of talks between the union "
                                          "and the port authority, which agreed to a 4% raise.")
    IndexBuilder(embedder, progress=False, query_encoder=False).run([seeds_copy], ix)
    second = (ix / POINTER).read_text().strip()
    assert first != second and (ix / first).is_dir()  # the previous build is kept one generation
    return ix, first, second


def test_open_while_pointer_swaps(tmp_path, seeds_copy, embedder):
    ix, first, second = _two_builds(tmp_path, seeds_copy, embedder)
    stop = threading.Event()

    def swap() -> None:
        names, i = [first, second], 0
        while not stop.is_set():
            tmp = ix / f".{POINTER}.swap.tmp"
            tmp.write_text(names[i % 2], encoding="utf-8")
            os.replace(tmp, ix / POINTER)
            i += 1
            time.sleep(0.002)

    t = threading.Thread(target=swap, daemon=True)
    t.start()
    failures: list[str] = []
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 8.0
        opens = 0
        while opens < 300 and time.monotonic() < deadline:
            try:
                store = IndexStore.open(ix, verify=False)
                seen.add(store.folder.name)
                # what was loaded is one build, whole: its manifest's counts match its own files
                assert store.manifest["counts"]["chunks"] == len(store.data.chunk_ids)
            except Exception as exc:  # noqa: BLE001 - every failure is the defect under test
                failures.append(f"{type(exc).__name__}: {exc}")
            opens += 1
    finally:
        stop.set()
        t.join()
    assert not failures, f"{len(failures)} of {opens} opens failed, e.g. {failures[0]}"
    assert opens >= 20
    assert seen <= {first, second}
