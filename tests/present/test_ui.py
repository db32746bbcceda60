"""The chat UI without a browser: HTML rendering, upload checks, feedback, history, binding."""
from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path

import pytest

from qa.present.ui_render import chat_text, citation_context, render_sources, render_why
from qa.present.ui_uploads import MAX_UPLOAD_BYTES, UploadPolicy, UploadRejected, safe_name, store_path
from tests.conftest import SEEDS

HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '"><iframe src=javascript:alert(1)>',
]


def _answer(text: str, abstained: bool = False) -> dict:
    passage = f"Before. The payload {text} is here. After."
    start = passage.index("The payload")
    end = passage.index(" After.")
    return {
        "id": "a1", "question": text, "answer": f"It says {text} [1].", "abstained": abstained, "query": text,
        "citations": [] if abstained else [{"n": 1, "doc_id": "d", "title": text, "source": text, "date": "2025-01-01",
                                            "quote": passage[start:end], "start": 100 + start, "end": 100 + end}],
        "passages": [{"rank": 1, "doc_id": "d", "chunk_id": "d#0", "score": 0.03, "text": passage, "start": 100,
                      "end": 100 + len(passage), "dense_rank": 1, "dense_score": 0.5, "bm25_rank": None,
                      "bm25_score": None, "title": text, "source": text, "date": None},
                     {"rank": 2, "doc_id": "e", "chunk_id": "e#0", "score": 0.02, "text": f"Other {text}", "start": 0,
                      "end": 6 + len(text), "dense_rank": 2, "dense_score": 0.4, "bm25_rank": 1, "bm25_score": 3.2,
                      "title": "t", "source": None, "date": None}],
        "timing_ms": {"total": 5.0},
    }


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize("render", [
    lambda a: render_sources(a), lambda a: render_why(a), lambda a: chat_text(a),
    lambda a: render_sources({**a, "abstained": True, "citations": []}),
], ids=["sources", "why", "chat", "abstained"])
def test_hostile_text_is_escaped(payload, render):
    out = render(_answer(payload))
    assert payload not in out
    for tag in ("<script", "<img", "<a ", "<svg", "<iframe"):
        assert tag not in out.lower()


def test_cited_sentence_is_highlighted_inside_its_passage():
    a = _answer("plain words")
    out = render_sources(a)
    assert '<mark class="qa-cited">The payload plain words is here.</mark>' in out
    assert out.index("Before.") < out.index("<mark") < out.index("After.")
    # the cited passage is not repeated among the uncited ones, the other passage is, collapsed
    uncited = out[out.index("<details"):]
    assert "Other plain words" in uncited and "The payload" not in uncited


def test_citation_outside_passages_uses_article_text():
    text = "A" * 500 + " The cited sentence. " + "B" * 500
    start = text.index("The cited")
    c = {"doc_id": "d", "start": start, "end": start + len("The cited sentence."), "quote": "The cited sentence."}
    out = citation_context(c, [], lambda doc_id: text)
    assert '<mark class="qa-cited">The cited sentence.</mark>' in out
    assert out.startswith("…") and out.endswith("…")


def test_abstention_is_marked():
    a = _answer("x", abstained=True)
    assert chat_text(a).startswith("Not in the articles.")
    assert 'class="qa-abstained"' in render_sources(a)
    assert "Closest passages (2)" in render_sources(a)


def test_why_lists_ranks_scores_and_query():
    out = render_why(_answer("what was run"))
    assert '<q class="qa-query">what was run</q>' in out
    assert out.count("<tr><td>") == 2 and "3.20" in out and "0.500" in out and "–" in out


@pytest.mark.parametrize("name", ["../evil.txt", "../../etc/cron.d/x.txt", "/etc/passwd.txt", "a/b.txt",
                                  "..\\evil.txt", "C:evil.txt", ".hidden.txt", "..", "", "x.sh", "x.txt.exe",
                                  "run.py", "bad\x00name.txt", "x\u202etxt.md"])
def test_safe_name_refuses(name):
    with pytest.raises(UploadRejected):
        safe_name(name)


@pytest.mark.parametrize("name", ["article.txt", "Notes.MD", "page.html", "feed.jsonl", "été 2025.txt"])
def test_safe_name_accepts(name):
    assert safe_name(name) == name


def test_policy_caps_size_and_type(tmp_path):
    small, big, wrong = tmp_path / "s.txt", tmp_path / "b.txt", tmp_path / "w.exe"
    small.write_text("x" * 10)
    big.write_text("x" * 101)
    wrong.write_text("x")
    check = UploadPolicy(max_bytes=100).run([(small, "s.txt"), (big, "b.txt"), (wrong, "w.exe"),
                                             (small, "../s2.txt"), (small, "S.TXT")])
    assert [n for _, n in check.accepted] == ["s.txt"]
    assert len(check.rejected) == 4 and any("limit" in r for r in check.rejected)
    assert UploadPolicy().max_bytes == MAX_UPLOAD_BYTES == 10 * 1024 * 1024


def test_store_path_stays_in_upload_dir(tmp_path):
    up = tmp_path / "uploads"
    up.mkdir()
    assert store_path(up, "a.txt") == (up / "a.txt").resolve()
    for name in ("../a.txt", "/tmp/a.txt", "sub/a.txt"):
        with pytest.raises(UploadRejected):
            store_path(up, name)


@pytest.fixture
def controller(seeds_index, embedder, tmp_path):
    from qa.pipeline import QAService
    from qa.present.ui import ChatController

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index, index_dir)
    svc = QAService(index_dir=index_dir, corpus=[SEEDS], progress=False, build=False, embedder=embedder)
    return ChatController(svc)


def test_controller_upload_cannot_escape(controller, tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("Quillmoor Ferry Returns\n\nThe Quillmoor ferry returned to service on Monday after repairs.\n")
    index_dir = Path(controller.svc.index_dir)
    msg = controller.add_files([(src, "../escaped.txt"), (src, str(tmp_path / "abs.txt")), (src, "ferry.txt")])
    assert not (index_dir / "escaped.txt").exists() and not (index_dir.parent / "escaped.txt").exists()
    assert not (tmp_path / "abs.txt").exists()
    assert sorted(p.name for p in (index_dir / "uploads").iterdir()) == ["ferry.txt"]
    assert "Added 1 file" in msg and "directory part" in msg
    ans = controller.ask("When did the Quillmoor ferry return to service?")
    assert any(c["doc_id"].endswith("ferry") for c in ans["citations"]) or "Monday" in ans["answer"]


def test_controller_feedback_appends_jsonl(controller):
    ans = controller.ask("Until when have Microsoft's IP rights been extended?")
    turn = {"question": "Until when have Microsoft's IP rights been extended?", "history": [], "answer": ans}
    controller.record_feedback(turn, True)
    controller.record_feedback(turn, False)
    lines = (Path(controller.svc.index_dir) / "feedback.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    assert [r["liked"] for r in recs] == [True, False]
    assert recs[0]["answer_id"] == ans["id"] and recs[0]["answer"] == ans["answer"]


def test_controller_passes_history_and_filters():
    from qa.pipeline import Question
    from qa.present.ui import ChatController
    from qa.types import Answer

    seen = []

    class FakeSvc:
        index_dir = Path("/nonexistent")

        def ask(self, q, k=10, filters=None):
            seen.append((q, k, filters))
            return Answer(id=q.id, question=q.text, answer="ok", abstained=False)

    ctl = ChatController(FakeSvc())
    ctl.ask("and then?", ["first?"], ["heise"], "2025-01-01", "", 5)
    q, k, f = seen[-1]
    assert isinstance(q, Question) and q.history == ("first?",) and k == 5
    assert f.sources == ("heise",) and f.date_from == "2025-01-01" and f.date_to is None
    ctl.ask("plain")
    assert seen[-1][2] is None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ctl.ask("x", date_from="yesterday")


def test_binds_loopback_by_default():
    from qa.cli import build_parser
    from qa.present.ui import launch

    assert inspect.signature(launch).parameters["host"].default == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


@pytest.mark.parametrize("required", [True, False])
def test_missing_browser_fails_only_when_required(monkeypatch, required):
    from tests.present.test_browser import _missing

    if required:
        monkeypatch.setenv("QA_REQUIRE_BROWSER", "1")
    else:
        monkeypatch.delenv("QA_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception if required else pytest.skip.Exception):
        _missing("no chromium here")
