"""Bounded load test of the chat server, on loopback only (issue 17): many users asking ordinary
questions while one asks about a pathological article and another uploads a large JSONL file.

    .venv/bin/python -m bench.load                      # 30 clients for 60 s (builds /tmp/qa-load/index once)
    .venv/bin/python -m bench.load --clients 10 --seconds 20 --jsonl-lines 20000

It serves the real app (``qa.present.ui``) on 127.0.0.1 in this process, over an index of
``seeds/`` plus one pathological article (``"from "`` × 12,000 around a sentence about Snorkel's
investors, which made one question take 74 s before issue 17). Then, at the same time:

- ``--clients`` users each ask the ordinary seed questions in turn through ``/ask`` (Gradio's REST
  API, :class:`RawClient`);
- one user asks "Which investors gave money to Snorkel?" over and over;
- one upload of a ``--jsonl-lines``-line JSONL file (100,000 lines, ~9 MB, by default) goes through
  the page's upload handler (``ChatController.add_files``), which indexes it in the background.

It prints, and writes to ``--out`` as JSON: answers and errors per kind, p50/p95/max latency of the
ordinary questions, the pathological question's latencies, when the upload was accepted and
whether its indexing finished, and the machine's load average before and after (the figures mean
little on a machine other work is loading). Figures only, no thresholds: the issue asks for 0
errors and an ordinary p95 under 2 s.

``--client-procs N`` runs the askers in N separate processes (real users are not in the server's
process; in-process clients share its GIL); 0, the default, keeps them in this process. The
figures in issue 17 were measured with gradio_client askers in the server's process
(``--client gradio``), where the askers took most of the CPU. ``--no-upload`` / ``--no-pathological`` give the control runs.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
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
    """``lines`` short articles, one per line: 100,000 lines make 9.4 MB, the size of the upload in
    issue 17 and under the 10 MB upload limit (the first version wrote 13.1 MB, which the page
    refused, so its runs indexed nothing)."""
    rng = random.Random(0)
    words = ("market shares rose after the company reported strong quarterly earnings and investors "
             "welcomed new plans council budget harbour strike").split()
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(lines):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(4, 6))) + f" {i}."
            fh.write(json.dumps({"id": f"load-{i}", "title": f"Report {i}", "text": text},
                                separators=(",", ":")) + "\n")
    return path


class RawClient:
    """A user of ``/ask`` over Gradio's REST API (``POST /gradio_api/call/ask``, then read the
    event stream), on one keep-alive connection with the standard library.

    gradio_client costs about 61 ms of CPU per call on this machine against 27 ms for the server's
    whole answer (measured in separate processes), so 30 of them on the server's 2 cores measure
    mostly themselves; this one costs under 1 ms. ``--client gradio`` keeps gradio_client.
    """

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        import http.client
        from urllib.parse import urlsplit

        u = urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
        self.predict("warm up", api_name="/ask")

    def predict(self, question: str, api_name: str = "/ask"):
        # /ask's arguments in order: question, history, outlets, date_from, date_to, k, as_of.
        body = json.dumps({"data": [question, None, None, None, None, 10, None]})
        self.conn.request("POST", f"/gradio_api/call{api_name}", body=body,
                          headers={"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {raw[:200]!r}")
        self.conn.request("GET", f"/gradio_api/call{api_name}/{json.loads(raw)['event_id']}")
        resp = self.conn.getresponse()
        event, data = "", None
        for line in resp.read().decode("utf-8").splitlines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event in ("complete", "error"):
                data = line[6:]
        if event != "complete" or data is None:
            raise RuntimeError(f"event {event!r}: {str(data)[:200]}")
        return json.loads(data)[0]


def connect(url: str, tries: int = 5, kind: str = "raw"):
    """A client for ``url`` (``raw``: :class:`RawClient`; ``gradio``: gradio_client), made before the
    timed window (gradio_client fetches the API description, which a loaded server can be slow to
    give); retried a few times."""
    for attempt in range(tries):
        try:
            if kind == "raw":
                return RawClient(url)
            from gradio_client import Client

            return Client(url, verbose=False)
        except Exception:  # noqa: BLE001 - retried, then raised
            if attempt == tries - 1:
                raise
            time.sleep(1.0 + attempt)


def ask_loop(client, questions: list[str], first: int, stop_at: float) -> list[tuple[bool, float, str]]:
    """One user: ask ``questions`` in turn from ``first`` until ``stop_at`` (``time.time()``);
    returns ``(ok, seconds, what)`` per question."""
    out, n = [], first
    while time.time() < stop_at:
        q = questions[n % len(questions)]
        n += 1
        t = time.monotonic()
        try:
            ans = client.predict(q, api_name="/ask")
            ok = bool(isinstance(ans, dict) and not ans.get("error") and ans.get("answer"))
            what = "" if ok else str(ans)[:300]
        except Exception as exc:  # noqa: BLE001 - counted and reported
            ok, what = False, f"{type(exc).__name__}: {exc}"[:300]
        out.append((ok, time.monotonic() - t, f"{q} -> {what}" if what else ""))
    return out


def run_askers(url: str, askers: list[tuple[int, str]], wait_start, kind: str = "raw") -> dict:
    """Connect every asker, call ``wait_start()`` (returns the ``time.time()`` to stop at), then ask
    in threads until then; returns the latencies per kind and the errors."""
    rec: dict = {"ordinary": [], "pathological": [], "errors": []}
    lock = threading.Lock()
    clients = [connect(url, kind=kind) for _ in askers]
    stop_at = wait_start()

    def run(client, i: int, kind: str) -> None:
        qs = QUESTIONS if kind == "ordinary" else [PATHOLOGICAL_Q]
        for ok, dt, what in ask_loop(client, qs, i, stop_at):
            with lock:
                (rec[kind] if ok else rec["errors"]).append(dt if ok else {"kind": kind, "what": what})

    threads = [threading.Thread(target=run, args=(c, i, kind)) for c, (i, kind) in zip(clients, askers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return rec


def client_worker(spec: dict) -> int:
    """``--client-worker``: connect the askers ``spec`` lists, say READY, read the stop time from
    stdin, ask until then in threads, and print the results as JSON."""
    def wait_start() -> float:
        print("READY", flush=True)
        return float(sys.stdin.readline())

    print(json.dumps(run_askers(spec["url"], [tuple(a) for a in spec["askers"]], wait_start, spec["client"])),
          flush=True)
    return 0


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
    ap.add_argument("--client-procs", type=int, default=0,
                    help="run the askers in this many separate processes (default 0: in this process)")
    ap.add_argument("--client", choices=("raw", "gradio"), default="raw",
                    help="how the askers call /ask: raw REST calls (default) or gradio_client (CPU-heavy)")
    ap.add_argument("--no-upload", action="store_true", help="control run: no upload")
    ap.add_argument("--no-pathological", action="store_true", help="control run: no pathological question")
    ap.add_argument("--client-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client_worker:
        return client_worker(json.loads(args.client_worker))
    load_before = os.getloadavg()

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
    if not args.no_upload and upload.stat().st_size > ui.MAX_UPLOAD_BYTES:
        raise SystemExit(f"{upload} is {upload.stat().st_size / 1e6:.1f} MB, over the page's "
                         f"{ui.MAX_UPLOAD_BYTES / 1e6:.1f} MB limit: it would be refused; use fewer --jsonl-lines")

    svc = QAService(index_dir=index_dir, corpus=[corpus], progress=False, build=False)
    ctl = ui.ChatController(svc)
    app = ui.build_app(svc, controller=ctl)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               max_file_size=ui.MAX_UPLOAD_BYTES)
    url = f"http://127.0.0.1:{port}/"
    ui.warm_up(url)

    rec: dict = {"ordinary": [], "pathological": [], "errors": [], "upload": {}}
    askers = [(i, "ordinary") for i in range(args.clients)] + ([] if args.no_pathological else [(0, "pathological")])

    def uploader() -> None:
        t = time.monotonic()
        try:
            msg = ctl.add_files([(str(upload), upload.name)])
        except Exception as exc:  # noqa: BLE001
            msg = f"{type(exc).__name__}: {exc}"
        rec["upload"] = {"accepted_after_s": round(time.monotonic() - t, 2), "message": str(msg)[:300],
                         "bytes": upload.stat().st_size, "lines": args.jsonl_lines}

    # Every client connects first; the window (and the upload) starts when all are ready.
    procs = [subprocess.Popen([sys.executable, "-m", "bench.load", "--client-worker",
                               json.dumps({"url": url, "askers": askers[w::args.client_procs], "client": args.client})],
                              cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for w in range(max(0, args.client_procs))]
    for p in procs:
        if p.stdout.readline().strip() != "READY":
            raise SystemExit("a client process failed to connect")
    t0: dict = {}
    up_thread = None if args.no_upload else threading.Thread(target=uploader)

    def begin() -> float:
        """Every client is connected: start the window, tell the client processes, start the upload."""
        t0["start"], stop_at = time.monotonic(), time.time() + args.seconds
        for p in procs:
            p.stdin.write(f"{stop_at}\n")
            p.stdin.flush()
        if up_thread is not None:
            up_thread.start()
        return stop_at

    if procs:
        begin()
    else:
        part = run_askers(url, askers, begin, args.client)
        for kind in ("ordinary", "pathological", "errors"):
            rec[kind].extend(part[kind])
    for p in procs:
        out_, _ = p.communicate(timeout=args.seconds + 600)
        part = json.loads(out_.strip().splitlines()[-1])
        for kind in ("ordinary", "pathological", "errors"):
            rec[kind].extend(part[kind])
    if up_thread is not None:
        up_thread.join(timeout=600)
    wall = time.monotonic() - t0["start"]
    if not args.no_upload:
        rec["upload"]["status_at_end"] = ctl.jobs.progress()[:300]
        rec["upload"]["indexing_finished"] = not (ctl.jobs.state.running or ctl.jobs.state.queued)
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
        "client": args.client, "client_procs": args.client_procs, "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
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
