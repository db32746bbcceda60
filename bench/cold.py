"""Cold starts: ``qa ask`` in a fresh process and ``python app.py`` to first answer, against
``python -c "import sentence_transformers"`` alone."""
from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import REPO, Section


def _env() -> dict:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    return env


def _time_cmd(cmd: list[str], repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True)
        runs.append(time.perf_counter() - t)
        if p.returncode != 0:
            return {"error": f"exit {p.returncode}: {p.stderr[-400:]}", "runs_s": runs}
    return {"median_s": round(statistics.median(runs), 3), "runs_s": [round(r, 3) for r in runs]}


def import_profile(cmd_args: list[str], top: int = 12) -> list[dict]:
    """The slowest top-level imports of a command, from ``python -X importtime`` (cumulative µs)."""
    p = subprocess.run([sys.executable, "-X", "importtime", *cmd_args], cwd=REPO, env=_env(),
                       capture_output=True, text=True)
    best: dict[str, int] = {}
    for line in p.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 1:  # top-level imports only (one space of indent)
            best[m.group(3)] = max(best.get(m.group(3), 0), int(m.group(1)))
    return [{"module": k, "cumulative_ms": round(v / 1000, 1)}
            for k, v in sorted(best.items(), key=lambda kv: -kv[1])[:top]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_answer_via_api(url: str, question: str) -> str | None:
    """Ask one question through the app's Gradio API; returns the endpoint used, or None."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    api = client.view_api(print_info=False, return_format="dict")
    named = api.get("named_endpoints") or {}
    # qa's UI exposes /ask (question -> answer JSON); any other one-string endpoint is a fallback.
    for name, info in sorted(named.items(), key=lambda kv: kv[0] != "/ask"):
        params = info.get("parameters", [])
        if params and all(p.get("parameter_has_default") or i == 0 for i, p in enumerate(params)):
            try:
                client.predict(question, api_name=name)
                return name
            except Exception:  # noqa: BLE001 - try the next endpoint
                continue
    return None


def app_first_answer(index_dir: Path, corpus: Path, question: str, timeout: float = 180.0) -> dict:
    """Start ``python app.py`` on a free loopback port; time to HTTP 200 on / and to a first answer."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--index-dir", str(index_dir),
           "--corpus", str(corpus), "-q"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    out: dict = {"port": port}
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                out["error"] = f"app.py exited {proc.returncode}: {proc.stderr.read()[-400:].decode(errors='replace')}"
                return out
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        out["http_200_s"] = round(time.perf_counter() - t0, 2)
                        break
            except OSError:
                time.sleep(0.1)
        else:
            out["error"] = f"no HTTP 200 on {url} within {timeout:.0f}s"
            return out
        try:
            endpoint = _first_answer_via_api(url, question)
        except Exception as exc:  # noqa: BLE001 - the UI is still being finished; report what we saw
            endpoint, out["api_error"] = None, f"{type(exc).__name__}: {exc}"[:300]
        if endpoint:
            out["first_answer_s"] = round(time.perf_counter() - t0, 2)
            out["endpoint"] = endpoint
        else:
            out.setdefault("api_error", "no Gradio endpoint answered a one-string question")
        return out
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(ctx) -> Section:
    sec = Section("cold")
    index_dir, corpus, question = ctx.cold_index, ctx.cold_corpus, "How much has Microsoft invested in OpenAI?"
    r = ctx.cold_repeat
    sec.figures["import_sentence_transformers"] = _time_cmd([sys.executable, "-c", "import sentence_transformers"], r)
    sec.figures["import_torch"] = _time_cmd([sys.executable, "-c", "import torch"], r)
    ask = ["-m", "qa", "ask", question, "--index-dir", str(index_dir), "--corpus", str(corpus), "-q"]
    sec.figures["qa_ask"] = _time_cmd([sys.executable, *ask], r)
    sec.figures["qa_help"] = _time_cmd([sys.executable, "-m", "qa", "--help"], r)
    st, qa = sec.figures["import_sentence_transformers"], sec.figures["qa_ask"]
    if "median_s" in st and "median_s" in qa:
        sec.figures["ratio_qa_ask_vs_import_st"] = round(qa["median_s"] / st["median_s"], 2)
    sec.figures["qa_ask_slowest_imports"] = import_profile(ask)
    if not ctx.smoke:
        sec.figures["app"] = app_first_answer(index_dir, corpus, question)
        app = sec.figures["app"]
        if "first_answer_s" not in app:
            sec.notes.append("app.py: the Gradio API did not answer (UI still being finished?); "
                             "only the time to HTTP 200 on / is reported")
    return sec
