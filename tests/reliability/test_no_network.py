"""qa makes no network connection: ``qa serve`` answering questions and a long ``qa batch`` run in a
network namespace that has only loopback, with a logging stub DNS resolver and listeners on ports 80
and 443 of every address (``netns_harness.py``); any lookup or connection fails the test.

Before ``qa.offline``, onnxruntime 1.32's built-in telemetry looked up
``mobile.events.data.microsoft.com`` about 10 s after start and connected to its port 443.

Needs root (``unshare -n -m``); skipped elsewhere unless ``QA_REQUIRE_NETNS=1`` (set in CI) makes
that a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import require_namespaces

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HARNESS = HERE / "netns_harness.py"
PORT = 7861  # the namespace has its own ports: nothing else can hold it
#: Long enough that the batch runs well past the ~10 s after which the telemetry started.
BATCH_QUESTIONS = 1500
HOLD_SECONDS = 25


@pytest.fixture(scope="module")
def netns():
    require_namespaces("-n", "-m")


def _questions(n: int) -> list[str]:
    qs = [json.loads(line)["question"] for line in (REPO / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()]
    return [f"{qs[i % len(qs)]}" for i in range(n)]


def run_offline(tmp_path: Path, index_dir: Path, questions: Path, env_extra: dict | None = None) -> dict:
    """Run ``qa serve`` (asked 5 questions) and ``qa batch`` in the namespace; returns the report."""
    qa = [sys.executable, "-m", "qa"]
    common = f"--index-dir {index_dir} --corpus {REPO / 'seeds'} -q"
    out = tmp_path / "answers.jsonl"
    report = tmp_path / "report.json"
    cmd = ["unshare", "-n", "-m", sys.executable, str(HARNESS), str(report),
           "--background", " ".join(qa + ["serve", "--port", str(PORT)]) + " " + common,
           "--ask-port", str(PORT), *sum((["--ask", q] for q in _questions(5)), []),
           "--run", " ".join(qa + ["batch", str(questions), "-o", str(out)]) + " " + common,
           "--min-seconds", str(HOLD_SECONDS), "--timeout", "400"]
    # The caller's own offline switches are removed: qa must set what it needs itself.
    env = {k: v for k, v in os.environ.items() if k not in {"ORT_DISABLE_TELEMETRY", "HF_HUB_OFFLINE",
                                                            "TRANSFORMERS_OFFLINE", "GRADIO_ANALYTICS_ENABLED",
                                                            "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK"}}
    env.update(env_extra or {})
    subprocess.run(cmd, check=True, env=env, cwd=REPO, timeout=600)
    rep = json.loads(report.read_text())
    rep["batch_records"] = sum(1 for line in out.read_text().splitlines() if line.strip()) if out.is_file() else 0
    return rep


def test_serve_and_batch_make_no_network_attempt(netns, tmp_path, seeds_index):
    ix = tmp_path / "ix"
    shutil.copytree(seeds_index, ix)
    qfile = tmp_path / "questions.txt"
    qfile.write_text("\n".join(_questions(BATCH_QUESTIONS)) + "\n", encoding="utf-8")
    rep = run_offline(tmp_path, ix, qfile)
    summary = json.dumps({k: rep[k] for k in ("dns", "connections", "notes", "commands")}, indent=1)[:6000]
    # the scenario really ran: the server answered, the batch answered every question ...
    assert rep["answers"] and all(a.get("answer") for a in rep["answers"]), summary
    batch = next(c for c in rep["commands"] if " batch " in c["cmd"])
    assert batch["rc"] == 0 and rep["batch_records"] == BATCH_QUESTIONS, summary
    serve = next(c for c in rep["commands"] if c.get("background"))
    assert serve["ran_until_stopped"] and serve["seconds"] >= HOLD_SECONDS - 10, summary
    # ... and nothing tried to leave the machine
    assert rep["dns"] == [], summary
    assert rep["connections"] == [], summary


def test_harness_sees_a_lookup_and_a_connection(netns, tmp_path):
    """The check above can fail: a process that looks a name up and connects out is logged.

    (Without ``qa.offline``'s ``ORT_DISABLE_TELEMETRY=1``, the test above logs onnxruntime's lookups
    of mobile.events.data.microsoft.com and connections to port 443 from about 10 s after start.)
    """
    code = ("import socket; a = socket.getaddrinfo('telemetry.example.com', 443)[0][4][0]; "
            "socket.create_connection((a, 443), timeout=5).close()")
    report = tmp_path / "report.json"
    subprocess.run(["unshare", "-n", "-m", sys.executable, str(HARNESS), str(report),
                    "--run", f"{sys.executable} -c \"{code}\"", "--timeout", "60"], check=True, timeout=120)
    rep = json.loads(report.read_text())
    assert rep["commands"][0]["rc"] == 0, rep["commands"][0]["output"]
    assert any(d["name"] == "telemetry.example.com" for d in rep["dns"]), rep
    assert any(c["to"].endswith(":443") for c in rep["connections"]), rep
