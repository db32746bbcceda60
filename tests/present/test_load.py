"""The ``/ask`` API under load: 20 concurrent gradio_client users, 10 questions each, on loopback.

Bounded in count (200 requests) and time (every request has a deadline). Asserts zero errors and
answers identical to the single-user ones; latency percentiles are printed and written to
load.json in ``$QA_ARTIFACTS`` (see tests/present/conftest.py), never asserted.
"""
from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.present.conftest import running_app

USERS = 20
PER_USER = 10
DEADLINE_S = 600  # a hang fails the test instead of blocking CI; not a speed threshold
QUESTIONS = [
    "Until when have Microsoft's IP rights been extended?",
    "How much has Microsoft invested in OpenAI?",
    "Who won the 2022 football World Cup?",
    "What did Microsoft and OpenAI agree?",
    "Which outlet reported the renegotiation?",
    "What happens when AGI is declared?",
    "Who verifies AGI?",
    "What is the Stargate project?",
    "Does OpenAI plan an IPO?",
    "What share of revenue goes to Microsoft?",
]


@pytest.fixture(scope="module")
def api_url(seeds_index, embedder, tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("load"), seeds_index, embedder) as (url, _):
        yield url


def _stable(ans: dict) -> dict:
    """The answer without what legitimately differs per request (its id and timings)."""
    return {k: v for k, v in ans.items() if k not in ("id", "timing_ms")}


def test_api_returns_answer_json(api_url):
    from gradio_client import Client

    client = Client(api_url, verbose=False)
    ans = client.predict("Until when have Microsoft's IP rights been extended?", api_name="/ask")
    assert "2032" in ans["answer"] and "[1]" in ans["answer"] and not ans["abstained"]
    c = ans["citations"][0]
    assert c["n"] == 1 and c["quote"] and c["end"] > c["start"] and len(ans["passages"]) >= 10
    off = client.predict("Who won the 2022 football World Cup?", api_name="/ask")
    assert off["abstained"] and off["citations"] == []
    follow = client.predict("And the research IP?", ["Until when have Microsoft's IP rights been extended?"],
                            api_name="/ask")
    assert follow["question"] == "And the research IP?" and follow["query"]
    only = client.predict("What did Microsoft and OpenAI agree?", None, ["heise"], api_name="/ask")
    assert {p["source"] for p in only["passages"]} == {"heise"}


def test_twenty_concurrent_users(api_url, artifacts):
    from gradio_client import Client

    single = Client(api_url, verbose=False)
    expected = {q: _stable(single.predict(q, api_name="/ask")) for q in QUESTIONS}

    def user(u: int) -> list[tuple[str, float, dict | Exception]]:
        client = Client(api_url, verbose=False)
        out = []
        for i in range(PER_USER):
            q = QUESTIONS[(u + i) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                job = client.submit(q, api_name="/ask")
                res = job.result(timeout=DEADLINE_S)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                res = exc
            out.append((q, time.perf_counter() - t0, res))
        return out

    t0 = time.perf_counter()
    with ThreadPoolExecutor(USERS) as pool:
        results = [r for rs in pool.map(user, range(USERS)) for r in rs]
    wall = time.perf_counter() - t0
    errors = [f"{q}: {r!r}" for q, _, r in results if isinstance(r, Exception)]
    mismatched = [q for q, _, r in results if not isinstance(r, Exception) and _stable(r) != expected[q]]
    lat = sorted(s for _, s, _ in results)
    stats = {"users": USERS, "questions_per_user": PER_USER, "requests": len(results), "errors": len(errors),
             "mismatched": len(mismatched), "wall_s": round(wall, 2),
             "p50_s": round(statistics.median(lat), 3), "p95_s": round(lat[int(0.95 * (len(lat) - 1))], 3),
             "max_s": round(lat[-1], 3), "throughput_rps": round(len(results) / wall, 1)}
    (artifacts / "load.json").write_text(json.dumps(stats, indent=2) + "\n")
    print("\nload:", json.dumps(stats))
    assert len(results) == USERS * PER_USER
    assert errors == []
    assert mismatched == []


def test_server_refuses_oversized_upload(api_url):
    import httpx

    from qa.present.ui_uploads import MAX_UPLOAD_BYTES

    over = httpx.post(f"{api_url}gradio_api/upload", files={"files": ("big.txt", b"x" * (MAX_UPLOAD_BYTES + 1))})
    assert over.status_code == 413
    ok = httpx.post(f"{api_url}gradio_api/upload", files={"files": ("small.txt", b"x" * 100)})
    assert ok.status_code == 200
