"""Bounded load test of the chat server, on loopback only (issue 17): many users asking ordinary
questions while one asks about a pathological article and another uploads a large JSONL file.

    .venv/bin/python -m bench.load                      # 30 clients for 60 s (builds /tmp/qa-load/index once)
    .venv/bin/python -m bench.load --clients 10 --seconds 20 --jsonl-lines 20000

It serves the real app (``qa.present.ui``) on 127.0.0.1 in this process, over an index of
``seeds/`` plus one pathological article (``"from "`` × 12,000 around a sentence about Snorkel's
investors, which made one question take 74 s before issue 17). Then, at the same time:

- ``--clients`` users each ask the ordinary seed questions in turn through ``/ask`` (gradio_client);
- one user asks "Which investors gave money to Snorkel?" over and over;
- one upload of a ``--jsonl-lines``-line JSONL file (100,000 lines, ~9 MB, by default) goes through
  the page's upload handler (``ChatController.add_files``), which indexes it in the background.

It prints, and writes to ``--out`` as JSON: answers and errors per kind, p50/p95/max latency of the
ordinary questions, the pathological question's latencies, and when the upload was accepted and
finished. Figures only, no thresholds: the issue asks for 0 errors and an ordinary p95 under 2 s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Until when have Microsoft's IP rights been extended?",
    "How much has Microsoft invested in OpenAI?",
    "Who won the 2022 football World Cup?",
    "What did Microsoft and OpenAI agree?",
    "Who is OpenAI's CEO?",
    "What happens when AGI is declared?",
    "Who verifies AGI?",
    "What is the Stargate project?",
    "Does OpenAI plan an IPO?",
    "What share of revenue goes to Microsoft?",
]
PATHOLOGICAL_Q = "Which investors gave money to Snorkel?"


def pathological_article() -> str:
    return ("date 2025-05-01\nSnorkel funding round\n\nSnorkel AI said it raised $100 million "
            + "from " * 12_000 + "investors including Addition and Prosperity7.\n")


def big_jsonl(path: Path, lines: int) -> Path:
    rng = random.Random(0)
    words = ("market shares rose after the company reported strong quarterly earnings and investors "
             "welcomed new plans council budget harbour strike").split()
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(lines):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 11))) + f" {i}."
            fh.write(json.dumps({"id": f"load-{i}", "title": f"Report {i}", "text": text}) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--jsonl-lines", type=int, default=100_000)
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-load"))
    ap.add_argument("--out", type=Path, default=None, help="also write the figures here as JSON")
    args = ap.parse_args()

    from gradio_client import Client

    from qa.index.builder import IndexBuilder
    from qa.embed.model import Embedder
    from qa.pipeline import QAService
    from qa.present import ui

    work = args.work_dir
    base = work / "base-index"
    corpus = work / "corpus"
    if not (base / "CURRENT").is_file():
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.copytree(REPO / "seeds", corpus)
        (corpus / "snorkel.txt").write_text(pathological_article(), encoding="utf-8")
        print(f"building {base} (seeds + the pathological article) …", flush=True)
        IndexBuilder(Embedder(), progress=False).run([corpus], base)
    index_dir = work / "index"  # a fresh copy each run: the upload changes it
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(base, index_dir)
    upload = big_jsonl(work / "big.jsonl", args.jsonl_lines)

    svc = QAService(index_dir=index_dir, corpus=[corpus], progress=False, build=False)
    ctl = ui.ChatController(svc)
    app = ui.build_app(svc, controller=ctl)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               max_file_size=ui.MAX_UPLOAD_BYTES)
    url = f"http://127.0.0.1:{port}/"
    ui.warm_up(url)

    lock = threading.Lock()
    rec: dict = {"ordinary": [], "pathological": [], "errors": [], "upload": {}}
    start = time.monotonic()
    stop_at = start + args.seconds

    def asker(i: int, questions: list[str], kind: str) -> None:
        client = Client(url, verbose=False)
        n = i
        while time.monotonic() < stop_at:
            q = questions[n % len(questions)]
            n += 1
            t = time.monotonic()
            try:
                ans = client.predict(q, api_name="/ask")
                ok = isinstance(ans, dict) and not ans.get("error") and ans.get("answer")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                ok, ans = False, f"{type(exc).__name__}: {exc}"
            dt = time.monotonic() - t
            with lock:
                (rec[kind] if ok else rec["errors"]).append(dt if ok else {"kind": kind, "q": q, "what": str(ans)[:300]})

    def uploader() -> None:
        t = time.monotonic()
        try:
            msg = ctl.add_files([(str(upload), upload.name)])
        except Exception as exc:  # noqa: BLE001
            msg = f"{type(exc).__name__}: {exc}"
        rec["upload"] = {"accepted_after_s": round(time.monotonic() - t, 2), "message": str(msg)[:300],
                         "bytes": upload.stat().st_size, "lines": args.jsonl_lines}

    threads = [threading.Thread(target=asker, args=(i, QUESTIONS, "ordinary")) for i in range(args.clients)]
    threads.append(threading.Thread(target=asker, args=(0, [PATHOLOGICAL_Q], "pathological")))
    threads.append(threading.Thread(target=uploader))
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=args.seconds + 600)
    wall = time.monotonic() - start
    jobs = getattr(ctl, "jobs", None)
    status = getattr(jobs, "status", None)
    rec["upload"]["status_at_end"] = str(status() if callable(status) else status)[:300]
    rec["upload"]["upload_articles_searchable"] = sum(1 for a in svc.store.articles if a.doc_id.startswith("load-")) \
        if getattr(svc, "store", None) is not None else None
    app.close()

    lat = rec["ordinary"]
    out = {
        "clients": args.clients, "seconds": round(wall, 1), "cpus": os.cpu_count(),
        "ordinary_answers": len(lat), "pathological_answers": len(rec["pathological"]),
        "errors": len(rec["errors"]), "error_examples": rec["errors"][:5],
        "ordinary_p50_s": pct(lat, 0.5), "ordinary_p95_s": pct(lat, 0.95), "ordinary_max_s": pct(lat, 1.0),
        "pathological_p50_s": pct(rec["pathological"], 0.5), "pathological_max_s": pct(rec["pathological"], 1.0),
        "ordinary_mean_s": round(statistics.fmean(lat), 3) if lat else None,
        "upload": rec["upload"],
    }
    print(json.dumps(out, indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    rc = main()
    # The upload may still be indexing in the background (100,000 articles take many minutes on
    # 2 cores); its index is a scratch copy, so stop here instead of waiting for it.
    os._exit(rc)
