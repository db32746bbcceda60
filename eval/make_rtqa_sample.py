"""Pick the news-realtimeqa articles that ``eval/rtqa.jsonl`` asks about, with a fixed seed, and
check the dated dev set against them.

``eval/rtqa.jsonl`` is a *dated* dev set: every question has an ``as_of`` date (the day it is
asked on), and its gold answer is copied verbatim from an article dated on or before that day.
It was written by reading the articles this script prints, in this order: questions on the first
half of the printed articles form the ``tune`` split, the rest the ``test`` split (an unanswerable
item goes with the split of its ``later_doc``). A plain question is asked 0-6 days (seeded) after
its article's date; a question phrased with relative time on the day that makes the phrase hold
("yesterday": the day after, "last week": 7-13 days after, "in March": any later day). An
unanswerable item is asked before its ``later_doc`` appeared, about what only that article reports. The picked
articles are dated in the first half of 2026, where most of the corpus lies, and are drawn from
what ``qa index`` keeps (cleaned, exact duplicates dropped), so every id printed is an indexed
doc id.

``--subset FILE`` writes the articles an evaluation index needs, as JSONL: the picked articles,
then, seeded, other articles of the same period (the later, after-its-date reports that an as-of
date must keep out, and the same weeks' other news), up to ``--subset-size`` (default 320: the
whole corpus takes 30-50 min to index on a loaded 2-core machine).

Usage (from the repository root)::

    python eval/make_rtqa_sample.py                         # the ids with their dates
    python eval/make_rtqa_sample.py --show 3                # also the cleaned text of each
    python eval/make_rtqa_sample.py --subset /tmp/x/rtqa.jsonl   # the evaluation corpus
    python eval/make_rtqa_sample.py --check eval/rtqa.jsonl # verify the dev set

``--check`` fails (exit 1) when an item's evidence is not verbatim in the cleaned text of its
first gold doc, when an accepted answer is not inside its evidence, when a gold doc is dated after
the item's ``as_of``, when an unanswerable item's ``later_doc`` is not dated after its ``as_of``
(or its answer is not in that later article), or when the set misses its proportions: at least
150 items, about a third phrased with relative time, about a tenth unanswerable as of their date.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.ingest.corpus import CorpusLoader  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "news-realtimeqa" / "articles.jsonl"
SEED = 20261213
N_ARTICLES = 70
#: The period the dev set's articles are drawn from (inclusive).
PERIOD = ("2026-01-01", "2026-07-10")
SUBSET_SIZE = 320
MIN_WORDS = 250

#: The relative-time expressions a question may be phrased with (issue 13's list).
RELATIVE = re.compile(r"\b(today|yesterday|this week|last week|this month|in (?:january|february|march|april|may|"
                      r"june|july|august|september|october|november|december)|last year|so far this year|recently|"
                      r"since (?:january|february|march|april|may|june|july)|latest|current(?:ly)?|now)\b",
                      re.IGNORECASE)


def load_articles(corpus: Path) -> dict:
    """``doc_id -> Article`` as qa indexes them (cleaned, duplicates dropped)."""
    return {a.doc_id: a for a in CorpusLoader().run([corpus]).articles}


def sample_ids(articles: dict, n: int = N_ARTICLES, seed: int = SEED) -> list[str]:
    """``n`` doc ids of substantial articles dated in :data:`PERIOD`, drawn by ``random.Random(seed)``
    from the sorted eligible ids."""
    lo, hi = PERIOD
    ok = sorted(d for d, a in articles.items()
                if a.date and lo <= a.date <= hi and len(a.text.split()) >= MIN_WORDS)
    return random.Random(seed).sample(ok, n)


def subset_ids(articles: dict, picked: list[str], size: int = SUBSET_SIZE, seed: int = SEED) -> list[str]:
    """The picked articles, then seeded same-period articles (dated in :data:`PERIOD`: the later
    reports an as-of date must keep out, and the same weeks' other news), then seeded older
    distractors, up to ``size`` (sorted ids)."""
    lo, hi = PERIOD
    rng = random.Random(seed)
    keep = set(picked)
    same = sorted(d for d, a in articles.items() if d not in keep and a.date and lo <= a.date <= hi)
    keep |= set(rng.sample(same, min(max(0, size - len(keep)), len(same))))
    rest = sorted(d for d in articles if d not in keep)
    keep |= set(rng.sample(rest, min(max(0, size - len(keep)), len(rest))))
    return sorted(keep)


def write_subset(corpus: Path, ids: set[str], out: Path) -> int:
    """Copy the raw records of ``ids`` from the corpus JSONL to ``out``; returns how many."""
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with corpus.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            if line.strip() and json.loads(line).get("id") in ids:
                dst.write(line if line.endswith("\n") else line + "\n")
                n += 1
    return n


def check(path: Path, articles: dict) -> list[str]:
    """Problems with the dated dev set (see the module docstring)."""
    problems = []
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for rec in recs:
        where = f"{path} ({rec.get('id')})"
        as_of = rec.get("as_of")
        if not as_of or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
            problems.append(f"{where}: no as_of date")
            continue
        for key in ("form", "split"):
            if key not in rec:
                problems.append(f"{where}: no {key!r}")
        if rec["type"] == "unanswerable":
            if rec["answers"] or rec["docs"] or rec["evidence"]:
                problems.append(f"{where}: unanswerable item with answers/docs/evidence")
            later = articles.get(rec.get("later_doc", ""))
            if later is None:
                problems.append(f"{where}: unanswerable item without a known later_doc")
            elif not later.date or later.date <= as_of:
                problems.append(f"{where}: later_doc {later.doc_id} is dated {later.date}, not after {as_of}")
            elif rec.get("later_answer") and rec["later_answer"] not in later.text:
                problems.append(f"{where}: later_answer not in {later.doc_id}")
            continue
        art = articles.get(rec["docs"][0])
        if art is None:
            problems.append(f"{where}: doc {rec['docs'][0]!r} not indexed")
            continue
        if not art.date or art.date > as_of:
            problems.append(f"{where}: gold doc {art.doc_id} dated {art.date}, after as_of {as_of}")
        if rec["evidence"] not in art.text:
            problems.append(f"{where}: evidence not verbatim in {art.doc_id}")
        for a in rec["answers"]:
            if a not in rec["evidence"]:
                problems.append(f"{where}: answer {a!r} not in evidence")
    n = len(recs)
    rel = sum(bool(RELATIVE.search(r["question"])) for r in recs)
    una = sum(r["type"] == "unanswerable" for r in recs)
    if n < 150:
        problems.append(f"only {n} items (need at least 150)")
    if n and not 0.28 <= rel / n <= 0.45:
        problems.append(f"{rel}/{n} items phrased with relative time (want about a third)")
    if n and not 0.08 <= una / n <= 0.15:
        problems.append(f"{una}/{n} items unanswerable as of their date (want about a tenth)")
    for split in ("tune", "test"):
        if not any(r.get("split") == split for r in recs):
            problems.append(f"no {split!r} items")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--n", type=int, default=N_ARTICLES)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--show", type=int, default=0, help="print the cleaned text of the first N picked articles")
    ap.add_argument("--skip", type=int, default=0, help="with --show: start after this many")
    ap.add_argument("--subset", type=Path, help="write the evaluation corpus (JSONL) here")
    ap.add_argument("--subset-size", type=int, default=SUBSET_SIZE)
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
    if args.subset:
        n = write_subset(args.corpus, set(subset_ids(articles, ids, args.subset_size, args.seed)), args.subset)
        print(f"wrote {n} articles to {args.subset}")
        return 0
    for i, doc_id in enumerate(ids):
        print(doc_id, articles[doc_id].date, articles[doc_id].title)
        if args.skip <= i < args.skip + args.show:
            print(articles[doc_id].text)
            print("-" * 40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
