"""``QAService.ask`` wall time over a question file, for comparing two checkouts on one index.

    .venv/bin/python bench/ask_latency.py INDEX_DIR CORPUS QUESTIONS.jsonl [N]

Run it from each checkout's folder (``git worktree add /tmp/old <commit>``, then ``cd /tmp/old``
with the same venv): it imports ``qa`` from the current folder and prints which one it used, with
p50/p95/mean over the first N questions (default 809) after 20 untimed ones. QUESTIONS is JSONL with
a ``text`` (BEIR queries) or ``question`` field. Alternate the two checkouts a few times: the
machine's load moves the figures more than small code changes do.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, ".")


def main(argv: list[str]) -> int:
    import qa
    from qa.pipeline import QAService

    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    ix, corpus, qfile = argv[:3]
    n = int(argv[3]) if len(argv) == 4 else 809
    rows = [json.loads(line) for line in Path(qfile).read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r.get("text") or r.get("question") for r in rows][:n]
    svc = QAService(index_dir=Path(ix), corpus=[Path(corpus)], progress=False, build=False)
    for q in qs[:20]:
        svc.ask(q)
    ms = []
    for q in qs:
        t = time.perf_counter()
        svc.ask(q)
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    print(json.dumps({"code": qa.__file__, "n": len(ms), "p50_ms": round(statistics.median(ms), 2),
                      "p95_ms": round(ms[int(0.95 * len(ms))], 2), "mean_ms": round(statistics.fmean(ms), 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
