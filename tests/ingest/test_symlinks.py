"""Symbolic links never take the corpus outside its folder unless asked (``--follow-links``), the walk
has no recursion limit, and a link to ``/`` is neither walked nor a loop."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from qa import cli
from qa.index.store import IndexStore, read_manifest
from qa.ingest.corpus import CorpusLoader

STORY = "The council approved the budget on Tuesday. It rises by 4 percent next year, the mayor said."
SECRET = "root:x:0:0:root:/root:/bin/bash secret password line that must never be quoted in an answer."


def _corpus(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "story.txt").write_text(STORY, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    return root, outside


def _warnings(res, name: str) -> list[str]:
    return [i.message for i in res.issues if Path(i.path).name == name]


def test_file_link_outside_is_skipped_with_a_warning(tmp_path):
    root, outside = _corpus(tmp_path)
    (root / "passwd.txt").symlink_to(outside / "secret.txt")
    res = CorpusLoader().run([root])
    assert [a.doc_id for a in res.articles] == ["story"]
    [msg] = _warnings(res, "passwd.txt")
    assert "outside the corpus folder" in msg and "--follow-links" in msg


def test_folder_link_outside_is_skipped_with_a_warning(tmp_path):
    root, outside = _corpus(tmp_path)
    (root / "etc").symlink_to(outside, target_is_directory=True)
    res = CorpusLoader().run([root])
    assert [a.doc_id for a in res.articles] == ["story"]
    assert any("outside the corpus folder" in m for m in _warnings(res, "etc"))


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/group"])
def test_link_to_system_file_is_not_read(tmp_path, target):
    if not Path(target).is_file():
        pytest.skip(f"{target} missing here")
    root, _ = _corpus(tmp_path)
    (root / "passwd.txt").symlink_to(target)
    res = CorpusLoader().run([root])
    assert [a.doc_id for a in res.articles] == ["story"]


def test_follow_links_option_reads_them(tmp_path):
    root, outside = _corpus(tmp_path)
    (root / "passwd.txt").symlink_to(outside / "secret.txt")
    (root / "more").symlink_to(outside, target_is_directory=True)
    (outside / "back").symlink_to(root, target_is_directory=True)  # a loop through the outside folder
    res = CorpusLoader(follow_links=True).run([root])
    # the same text twice (file link and folder link) is one article, and the loop is cut
    assert sorted(a.doc_id for a in res.articles) == ["passwd", "story"]
    assert any("symlink loop" in i.message for i in res.issues)


def test_links_inside_the_corpus_still_followed(tmp_path):
    root, _ = _corpus(tmp_path)
    (root / "a").mkdir()
    (root / "a" / "inner.txt").write_text(STORY.replace("budget", "harbour plan"), encoding="utf-8")
    (root / "alias.txt").symlink_to(root / "a" / "inner.txt")
    (root / "b").symlink_to(root / "a", target_is_directory=True)
    res = CorpusLoader().run([root])
    assert "a/inner" in {a.doc_id for a in res.articles} or "alias" in {a.doc_id for a in res.articles}
    assert not [i for i in res.issues if "outside" in i.message]


def test_link_to_root_is_skipped_fast(tmp_path):
    root, _ = _corpus(tmp_path)
    (root / "everything").symlink_to("/", target_is_directory=True)
    t = time.perf_counter()
    res = CorpusLoader().run([root])
    assert time.perf_counter() - t < 5
    assert [a.doc_id for a in res.articles] == ["story"]
    assert any("outside the corpus folder" in m for m in _warnings(res, "everything"))


@pytest.fixture
def deep_tree(tmp_path):
    """A corpus 1,200 folders deep, removed bottom-up afterwards: pytest's own clean-up of old temp
    folders uses shutil.rmtree, which recurses and would fail on it in every later run."""
    root = tmp_path / "corpus"
    levels = [str(root)]
    for _ in range(1200):  # os.walk recursed once per level: RecursionError near 1,000
        levels.append(levels[-1] + "/d")
    for d in levels:
        os.mkdir(d)  # (Path.mkdir(parents=True) and os.makedirs recurse too)
    Path(levels[-1], "deep.txt").write_text(STORY, encoding="utf-8")
    yield root
    Path(levels[-1], "deep.txt").unlink(missing_ok=True)
    for d in reversed(levels):
        os.rmdir(d)


def test_deeply_nested_folders_have_no_recursion_limit(deep_tree):
    res = CorpusLoader().run([deep_tree])
    [art] = res.articles
    assert art.doc_id.endswith("/d/deep") and art.doc_id.count("/") == 1200


def test_walk_order_is_sorted_depth_first(tmp_path):
    root = tmp_path / "corpus"
    for rel in ["b/z.txt", "a/y.txt", "a/c/x.txt", "m.txt"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"{STORY} Distinct story number {rel}.", encoding="utf-8")
    ids = [a.doc_id for a in CorpusLoader().run([root]).articles]
    assert ids == ["m", "a/y", "a/c/x", "b/z"]


def test_cli_follow_links_is_kept_by_updates(tmp_path, embedder, monkeypatch, capsys):
    root, outside = _corpus(tmp_path)
    (root / "passwd.txt").symlink_to(outside / "secret.txt")
    ix = tmp_path / "ix"
    monkeypatch.setattr("qa.embed.model.Embedder", lambda *a, **k: embedder)
    base = ["index", "--corpus", str(root), "--index-dir", str(ix), "-q"]
    assert cli.main(base) == 0
    assert [a.doc_id for a in IndexStore.open(ix).articles] == ["story"]
    assert cli.main(base + ["--follow-links"]) == 0
    assert sorted(a.doc_id for a in IndexStore.open(ix).articles) == ["passwd", "story"]
    assert read_manifest(ix)["follow_links"] is True
    # an update through the service (an upload, say) reads the corpus the same way
    from qa.pipeline import QAService

    svc = QAService(index_dir=ix, corpus=[root], progress=False, build=False, embedder=embedder)
    (root / "new.txt").write_text(STORY.replace("budget", "school plan"), encoding="utf-8")
    svc.update()
    assert sorted(a.doc_id for a in svc.store.articles) == ["new", "passwd", "story"]
    json.dumps(read_manifest(ix))  # the manifest stays plain JSON
