"""Pick the news-bbc articles that ``eval/bbc.jsonl`` asks about, at random with a fixed seed.

The dev set was written by reading the articles this script prints, in this order: questions on
the first half of the printed articles form the ``tune`` split, the rest the ``test`` split. The
articles are drawn from what ``qa index`` keeps (cleaned, exact duplicates dropped), so every id
printed is an indexed doc id.

Usage (from the repository root)::

    python eval/make_bbc_sample.py                      # the ids, one a line
    python eval/make_bbc_sample.py --show 3             # also the cleaned text of each
    python eval/make_bbc_sample.py --check eval/bbc.jsonl   # verify evidence and answers

``--check`` fails (exit 1) when an evidence string is not verbatim in the cleaned text of the
item's first gold doc, or when an accepted answer is not inside its evidence (yes-no items, whose
answer is "Yes" or "No", excepted).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.ingest.corpus import CorpusLoader  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "news-bbc" / "articles.jsonl"
SEED = 20261202
N_ARTICLES = 100


def load_articles(corpus: Path) -> dict:
    """``doc_id -> Article`` as qa indexes them (cleaned, duplicates dropped)."""
    return {a.doc_id: a for a in CorpusLoader().run([corpus]).articles}


def sample_ids(articles: dict, n: int = N_ARTICLES, seed: int = SEED) -> list[str]:
    """``n`` doc ids drawn without replacement by ``random.Random(seed)`` from the sorted ids."""
    return random.Random(seed).sample(sorted(articles), n)


def check(path: Path, articles: dict) -> list[str]:
    """Problems with a dev set: unknown docs, evidence not verbatim, answers outside evidence."""
    problems = []
    # split on "\n" only: str.splitlines() also breaks inside a record at U+2028 / U+0085 (issue 17)
    for lineno, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        rec = json.loads(line)
        where = f"{path}:{lineno} ({rec.get('id')})"
        if rec["type"] == "unanswerable":
            if rec["answers"] or rec["docs"] or rec["evidence"]:
                problems.append(f"{where}: unanswerable item with answers/docs/evidence")
            continue
        art = articles.get(rec["docs"][0])
        if art is None:
            problems.append(f"{where}: doc {rec['docs'][0]!r} not indexed")
            continue
        if rec["evidence"] not in art.text:
            problems.append(f"{where}: evidence not verbatim in {art.doc_id}")
        for a in rec["answers"]:
            if rec.get("form") == "yes-no":
                if a not in ("Yes", "No"):
                    problems.append(f"{where}: a yes-no answer must be 'Yes' or 'No'")
            elif a not in rec["evidence"]:
                problems.append(f"{where}: answer {a!r} not in evidence")
        for key in ("form", "split"):
            if key not in rec:
                problems.append(f"{where}: no {key!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--n", type=int, default=N_ARTICLES)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--show", type=int, default=0, help="print the cleaned text of the first N picked articles")
    ap.add_argument("--skip", type=int, default=0, help="with --show: start after this many")
    ap.add_argument("--check", type=Path, help="verify a dev set against the cleaned articles instead")
    args = ap.parse_args(argv)
    articles = load_articles(args.corpus)
    if args.check:
        problems = check(args.check, articles)
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    ids = sample_ids(articles, args.n, args.seed)
    for i, doc_id in enumerate(ids):
        print(doc_id)
        if args.skip <= i < args.skip + args.show:
            print(articles[doc_id].text)
            print("-" * 40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
