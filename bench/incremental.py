"""Incremental re-indexing on a writable copy of news-bbc: unchanged, +10 articles, 1 changed, 1 deleted."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from bench.common import Section


def _step(builder, corpus: list[Path], index_dir: Path) -> dict:
    t = time.perf_counter()
    r = builder.run(corpus, index_dir)
    wall = time.perf_counter() - t
    return {"wall_s": round(wall, 3), "noop": r.noop, "embedded_texts": r.embedded_texts,
            "added": len(r.added), "changed": len(r.changed), "removed": len(r.removed),
            "unchanged": r.unchanged, "articles": r.articles,
            "timings_s": {k: round(v, 3) for k, v in r.timings.items()}}


def run(ctx) -> Section:
    """Needs the build section's index of ``ctx.incr_name`` (copied, never modified)."""
    from qa.index.builder import IndexBuilder

    sec = Section("incremental")
    src_corpus = ctx.build_corpora[ctx.incr_name][0]
    work = ctx.work / "incr"
    shutil.rmtree(work, ignore_errors=True)
    corpus = work / "corpus"
    if src_corpus.is_dir():
        shutil.copytree(src_corpus, corpus)
    else:
        corpus.mkdir(parents=True)
        shutil.copyfile(src_corpus, corpus / src_corpus.name)
    index_dir = work / "index"
    shutil.copytree(ctx.out / "idx" / ctx.incr_name, index_dir, symlinks=True)
    builder = IndexBuilder(ctx.embedder, progress=False)
    # The copied index was built from the original path; the first run re-bases it onto the copy.
    sec.figures["rebase_to_copy"] = _step(builder, [corpus], index_dir)
    sec.figures["unchanged"] = _step(builder, [corpus], index_dir)

    # Ten new articles, written as .txt files (title line, blank line, body) from another corpus.
    extra = ctx.extra_articles[:10]
    add_dir = corpus / "bench-added"
    add_dir.mkdir()
    for i, a in enumerate(extra):
        (add_dir / f"added-{i:02d}.txt").write_text(f"{a['title']}\n\n{a['text']}\n", encoding="utf-8")
    sec.figures["add_10"] = _step(builder, [corpus], index_dir)

    files = sorted(p for p in corpus.rglob("*.txt") if add_dir not in p.parents)
    victim, changed = files[0], files[len(files) // 2]
    # Edit a paragraph that survives cleaning (an appended or junk line could be dropped as page junk).
    from bench.common import load_articles

    raw = changed.read_text(encoding="utf-8")
    kept = [ln for a in load_articles([changed]) for ln in a.text.split("\n") if ln.strip() and ln in raw]
    para = max(kept, key=len)
    changed.write_text(raw.replace(para, para.rstrip() + " The benchmark changed this paragraph.", 1), encoding="utf-8")
    sec.figures["change_1"] = _step(builder, [corpus], index_dir)

    victim.unlink()
    sec.figures["delete_1"] = _step(builder, [corpus], index_dir)
    sec.figures["corpus"] = ctx.incr_name
    shutil.rmtree(work, ignore_errors=True)
    return sec


def extra_articles(path: Path, n: int = 10) -> list[dict]:
    """The last ``n`` records of a JSONL corpus, as {title, text}."""
    lines = path.read_text(encoding="utf-8").splitlines()[-n:]
    return [{"title": json.loads(x).get("title", ""), "text": json.loads(x)["text"]} for x in lines]
