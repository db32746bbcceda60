"""``QAService.ask`` wall time over a question file, for comparing two checkouts on one index.

    .venv/bin/python bench/ask_latency.py INDEX_DIR CORPUS QUESTIONS.jsonl [N]

Run it from each checkout's folder (``git worktree add /tmp/old <commit>``, then ``cd /tmp/old``
with the same venv): it imports ``qa`` from the current folder and prints which one it used, with
p50/p95/mean over N questions (default 809) after 20 untimed ones (``bench.query.latency``).
QUESTIONS is JSONL with a ``text`` (BEIR queries) or ``question`` field. Alternate the two checkouts a few times: the
machine's load moves the figures more than small code changes do.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, ".")  # this checkout's qa and bench, not the installed ones


def main(argv: list[str]) -> int:
    import qa
    from bench.query import latency
    from qa.pipeline import QAService

    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    ix, corpus, qfile = argv[:3]
    n = int(argv[3]) if len(argv) == 4 else 809
    rows = [json.loads(line) for line in Path(qfile).read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r.get("text") or r.get("question") for r in rows][:n + 20]
    svc = QAService(index_dir=Path(ix), corpus=[Path(corpus)], progress=False, build=False)
    wall = latency(svc, qs, warmup=20)["wall"]
    print(json.dumps({"code": qa.__file__, "n": wall["n"], "p50_ms": wall["p50"], "p95_ms": wall["p95"],
                      "mean_ms": wall["mean"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
