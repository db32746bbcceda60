"""The chat UI without a browser: HTML rendering, upload checks, feedback, history, binding."""
from __future__ import annotations

import inspect
import json
import os
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
    assert chat_text(a).startswith("Not in the articles")
    assert 'class="qa-abstained"' in render_sources(a)
    assert "Closest passages (2)" in render_sources(a)


def test_why_lists_ranks_scores_and_query():
    out = render_why(_answer("what was run"))
    assert '<q class="qa-query">what was run</q>' in out
    assert out.count("<tr><td") == 2 and "3.20" in out and "0.500" in out and "–" in out


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


def _seeds_controller(seeds_index, embedder, tmp_path, **kw):
    from qa.pipeline import QAService
    from qa.present.ui import ChatController

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index, index_dir)
    svc = QAService(index_dir=index_dir, corpus=[SEEDS], progress=False, build=False, embedder=embedder)
    return ChatController(svc, **kw)


@pytest.fixture
def controller(seeds_index, embedder, tmp_path):
    """A controller over a copy of the seeds index that builds uploads in-process: these tests are
    about what an upload does, not where it is built (a child costs ~7 s of model loading; the
    child path has its own test below)."""
    return _seeds_controller(seeds_index, embedder, tmp_path, child_builds=False)


def test_controller_upload_cannot_escape(controller, tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("Quillmoor Ferry Returns\n\nThe Quillmoor ferry returned to service on Monday after repairs.\n")
    index_dir = Path(controller.svc.index_dir)
    msg = controller.add_files([(src, "../escaped.txt"), (src, str(tmp_path / "abs.txt")), (src, "ferry.txt")],
                               wait=True)
    assert not (index_dir / "escaped.txt").exists() and not (index_dir.parent / "escaped.txt").exists()
    assert not (tmp_path / "abs.txt").exists()
    assert sorted(p.name for p in (index_dir / "uploads").iterdir()) == ["ferry.txt"]
    assert "Added 1 file" in msg and "directory part" in msg
    ans = controller.ask("When did the Quillmoor ferry return to service?")
    assert any(c["doc_id"].endswith("ferry") for c in ans["citations"]) or "Monday" in ans["answer"]


def test_controller_feedback_appends_jsonl(controller):
    ans = controller.ask("Until when have Microsoft's IP rights been extended?")
    other = controller.ask("Who is OpenAI's CEO?")
    turn = {"question": "Until when have Microsoft's IP rights been extended?", "history": [], "answer": ans}
    controller.record_feedback(turn, True)
    controller.record_feedback({"question": "Who is OpenAI's CEO?", "history": [], "answer": other}, True)
    controller.record_feedback(turn, False)  # a second vote on one answer replaces the first
    lines = (Path(controller.svc.index_dir) / "feedback.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    assert [(r["answer_id"], r["liked"]) for r in recs] == [(other["id"], True), (ans["id"], False)]
    assert recs[1]["answer"] == ans["answer"] and recs[1]["citations"][0]["n"] == 1


class FakeSvc:
    """Just what ChatController needs: an index dir, a store with articles, ``ask``."""

    def __init__(self, index_dir=Path("/nonexistent"), delay: float = 0.0, slow_word: str = "", onnx: bool = True):
        from types import SimpleNamespace

        self.index_dir = index_dir
        self.seen = []
        self.delay, self.slow_word = delay, slow_word
        arts = [SimpleNamespace(doc_id="a", title="A", source="heise", date="2025-05-01", path="x/a.txt", text="t"),
                SimpleNamespace(doc_id="b", title="B", source=None, date=None, path="x/b.txt", text="t")]
        self.store = SimpleNamespace(articles=arts, data=SimpleNamespace(chunk_ids=[0, 1], chunk_doc=[0, 1]))
        self.embedder = SimpleNamespace(has_query_encoder=onnx)

    def ask(self, q, k=10, filters=None, read=None):
        import time

        from qa.types import Answer

        self.seen.append((q, k, filters))
        if self.slow_word and self.slow_word in q.text:
            time.sleep(self.delay)
        return Answer(id=q.id, question=q.text, answer="ok", abstained=False)


def test_controller_passes_history_and_filters():
    from qa.pipeline import Question
    from qa.present.ui import ChatController

    svc = FakeSvc()
    ctl = ChatController(svc)
    ctl.ask("and then?", ["first?"], ["heise"], "2025-01-01", "", 5)
    q, k, f = svc.seen[-1]
    assert isinstance(q, Question) and q.history == ("first?",) and k == 5
    assert f.sources == ("heise",) and f.date_from == "2025-01-01" and f.date_to is None
    ctl.ask("plain")
    assert svc.seen[-1][2] is None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ctl.ask("x", date_from="yesterday")


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"question": None}, "question"), ({"question": 12}, "question"), ({"question": ["a?"]}, "question"),
    ({"question": "x" * 100_001}, "question"),
    ({"k": [1]}, "k"), ({"k": "5"}, "k"), ({"k": 0}, "k"), ({"k": 2.5}, "k"), ({"k": True}, "k"), ({"k": 99}, "k"),
    ({"date_to": 12345}, "date_to"), ({"date_from": "2025-13-45"}, "date_from"), ({"date_from": "2025-02-30"}, "date_from"),
    ({"date_from": "2025-09-01", "date_to": "2025-08-01"}, "date_from"), ({"as_of": "soon"}, "as_of"),
    ({"outlets": "heise"}, "outlets"), ({"outlets": [1, 2]}, "outlets"), ({"outlets": ["Nowhere Times"]}, "outlets"),
    ({"history": "first?"}, "history"), ({"history": [1]}, "history"),
])
def test_ask_arguments_are_checked_and_named(kwargs, argument):
    from qa.present.ui import ChatController
    from qa.present.ui_args import ArgumentError

    svc = FakeSvc()
    args = {"question": "ok?", **kwargs}
    with pytest.raises(ArgumentError) as err:
        ChatController(svc).ask(**args)
    assert err.value.argument == argument and str(err.value).startswith(f"{argument}: ")
    assert svc.seen == []  # refused before anything is searched


def test_ask_accepts_what_the_page_sends():
    from qa.present.ui import ChatController

    svc = FakeSvc()
    ans = ChatController(svc).ask("ok?", [{"question": "a?", "query": "a", "entity": None}], ["HEISE"],
                                  " 2025-01-01 ", None, 5.0, "2025-06-01")
    q, k, f = svc.seen[-1]
    assert k == 5 and q.as_of == "2025-06-01" and f.sources == ("HEISE",) and f.date_from == "2025-01-01"
    # the answer says what it was filtered by, and how many undated articles the range left out
    assert ans["filters_note"].startswith("Filters: outlets HEISE; dated 2025-01-01 to …")
    assert ans["undated_left_out"] == 0  # the one undated article is not from heise
    ans = ChatController(svc).ask("ok?", date_from="2025-01-01")
    assert ans["undated_left_out"] == 1 and "1 undated article left out" in ans["filters_note"]


def test_default_as_of_is_today_or_the_newest_article():
    import datetime as dt

    from qa.present.ui import ChatController

    ctl = ChatController(FakeSvc())  # newest article 2025-05-01
    day, why = ctl.default_as_of(dt.date(2025, 6, 1))
    assert day == "2025-06-01" and "after this day" in why
    day, why = ctl.default_as_of(dt.date(2026, 12, 2))
    assert day == "2025-05-01" and "over a year ago" in why


def test_slow_question_does_not_hold_other_users():
    import threading
    import time

    from qa.present.ui import ChatController

    svc = FakeSvc(delay=3.0, slow_word="slow")
    ctl = ChatController(svc)
    t = threading.Thread(target=ctl.ask, args=("a slow question?",))
    t.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    ctl.ask("an ordinary question?")
    waited = time.perf_counter() - t0
    t.join()
    assert waited < 1.5, f"an ordinary question waited {waited:.1f} s behind a slow one"


def test_question_over_budget_answers_with_a_message():
    import time

    from qa.present.ui import ChatController

    svc = FakeSvc(delay=2.0, slow_word="slow")
    ctl = ChatController(svc, budget_s=0.3)
    t0 = time.perf_counter()
    ans = ctl.ask("a slow question?")
    assert time.perf_counter() - t0 < 1.5
    assert ans["abstained"] and "took more than" in ans["error"]
    assert ctl.ask("fine?")["answer"] == "ok"


def test_without_onnx_encoder_questions_are_serialised():
    import threading
    import time

    from qa.present.ui import ChatController

    svc = FakeSvc(delay=1.0, slow_word="slow", onnx=False)
    ctl = ChatController(svc)
    t = threading.Thread(target=ctl.ask, args=("a slow question?",))
    t.start()
    time.sleep(0.2)
    t0 = time.perf_counter()
    ctl.ask("ordinary?")
    t.join()
    assert time.perf_counter() - t0 > 0.5  # shared torch tokenizer: one at a time


def test_feedback_records_are_capped_and_one_per_answer(tmp_path):
    from qa.present.ui_feedback import MAX_TEXT, FeedbackLog

    log = FeedbackLog(tmp_path / "feedback.jsonl", max_records=3)
    big = "x" * 1_000_000
    cites = [{"n": i, "doc_id": "d" * 5000, "start": 0, "end": 1, "quote": big} for i in range(100)]
    turn = {"question": big, "history": [big] * 50, "answer": {"id": "a1", "answer": big, "citations": cites}}
    for i in range(50):
        log.vote(turn, liked=bool(i % 2))
    text = (tmp_path / "feedback.jsonl").read_text()
    recs = log.records()
    assert len(recs) == 1 and recs[0]["liked"] is True  # the last of 50 votes (i = 49), and only it
    assert len(text) < 25_000 and len(recs[0]["question"]) <= MAX_TEXT + 1
    assert len(recs[0]["citations"]) == 20 and "quote" not in recs[0]["citations"][0]
    log.vote(turn, liked=False, reason="wrong year")
    assert [r.get("reason") for r in log.records()] == ["wrong year"]
    for i in range(5):
        log.vote({"question": f"q{i}", "answer": {"id": f"b{i}"}}, liked=True)
    assert [r["answer_id"] for r in log.records()] == ["b2", "b3", "b4"]  # the newest 3 kept


def test_controller_removes_gradio_temp_upload(controller, tmp_path, monkeypatch):
    cache = tmp_path / "gradio-cache"
    (cache / "abc").mkdir(parents=True)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    tmp = cache / "abc" / "ferry.txt"
    tmp.write_text("Quillmoor Ferry Returns\n\nThe Quillmoor ferry returned to service on Monday after repairs.\n")
    keep = tmp_path / "mine.txt"  # a file outside Gradio's cache is never deleted
    keep.write_text("Other Ferry\n\nAnother ferry sailed on Tuesday from the harbour at dawn.\n")
    msg = controller.add_files([(tmp, "ferry.txt"), (keep, "mine.txt")], wait=True)
    assert "Added 2 file" in msg
    assert not tmp.exists() and keep.exists()
    # the same file again is recognised, not re-indexed
    again = tmp_path / "again.txt"
    again.write_text(keep.read_text())
    assert "already indexed, unchanged" in controller.add_files([(again, "mine.txt")])


def test_upload_indexes_in_a_child_while_questions_are_answered(seeds_index, embedder, tmp_path):
    """The page's upload path (issue 17.2): add_files returns at once, the build runs in a niced
    child process of the server, a question is answered meanwhile, and the upload is answerable
    once the job is done."""
    import time

    from tests.present.test_ui_jobs import _indexing_children, _nice_of, _wait_for
    from qa.present.ui_jobs import CHILD_NICE

    controller = _seeds_controller(seeds_index, embedder, tmp_path)
    assert controller.child is not None  # the default: uploads are built in a child
    store_before = controller.svc.store
    src = tmp_path / "ferry.txt"
    src.write_text("Quillmoor Ferry Returns\n\nThe Quillmoor ferry returned to service on Monday after repairs.\n")
    t0 = time.perf_counter()
    msg = controller.add_files([(src, "ferry.txt")])
    assert time.perf_counter() - t0 < 1.0 and "in the background" in msg
    assert _wait_for(lambda: _indexing_children(), 60), "no indexing child process was started"
    pid = _indexing_children()[0]
    assert _wait_for(lambda: (_nice_of(pid) or 0) >= min(19, os.nice(0) + CHILD_NICE), 30)
    ans = controller.ask("Until when have Microsoft's IP rights been extended?")
    assert "2032" in ans["answer"]
    assert controller.jobs.state.running and pid in _indexing_children(), \
        "the question should have been answered while the child was indexing"
    assert controller.svc.store is store_before
    assert "questions are answered meanwhile" in controller.status()
    controller.wait_for_jobs()
    assert "Added 1 file" in controller.status() and not _indexing_children()
    assert controller.child.last["pid"] == pid
    assert "Monday" in controller.ask("When did the Quillmoor ferry return to service?")["answer"]


def test_upload_builds_in_process_when_asked(seeds_index, embedder, tmp_path):
    ctl = _seeds_controller(seeds_index, embedder, tmp_path, child_builds=False)
    assert ctl.child is None
    src = tmp_path / "ferry.txt"
    src.write_text("Quillmoor Ferry Returns\n\nThe Quillmoor ferry returned to service on Monday after repairs.\n")
    assert "Added 1 file" in ctl.add_files([(src, "ferry.txt")], wait=True)
    assert "Monday" in ctl.ask("When did the Quillmoor ferry return to service?")["answer"]


def test_examples_are_questions_the_articles_answer(controller):
    exs = controller.examples()
    assert exs, "no example question found in the seeds"
    for q in exs:
        assert q.endswith("?") and "…" not in q and not q.startswith("What is reported about")
        ans = controller.ask(q)
        assert not ans["abstained"] and ans["citations"]


def test_examples_skip_unanswered_candidates():
    from types import SimpleNamespace

    from qa.present.ui_examples import checked_examples

    arts = [SimpleNamespace(doc_id="a", date="2025-01-01",
                            text="Acme's CEO, Jane Roe, spoke. Acme invested $5 million in Zeta. Bolt CEO John Poe left.")]
    answers = {"Who is Acme's CEO?": {"answer": "Jane Roe [1].", "citations": [1]},
               "How much did Acme invest in Zeta?": {"answer": "The articles don't say.", "abstained": True}}
    got = checked_examples(arts, lambda q: answers.get(q, {"answer": "?", "citations": []}))
    assert got == ["Who is Acme's CEO?"]


def test_library_rows_and_edit_upload_metadata(controller, tmp_path):
    import json

    src = tmp_path / "ferry.txt"
    src.write_text("Quillmoor Ferry Returns\n\nThe Quillmoor ferry returned to service on Monday after repairs.\n")
    controller.add_files([(src, "ferry.txt")], wait=True)
    rows = controller.library.rows()
    assert len(rows) == 6 and all("/" not in r["file"] for r in rows)
    ferry = next(r for r in rows if r["file"] == "ferry.txt")
    assert ferry["uploaded"] and ferry["passages"] >= 1 and ferry["date"] is None
    seeds = [r for r in rows if not r["uploaded"]]
    with pytest.raises(ValueError, match="only uploaded articles"):
        controller.library.delete(seeds[0]["doc_id"])
    with pytest.raises(ValueError, match="date"):
        controller.library.edit(ferry["doc_id"], "T", "S", "2025-13-45")
    controller.library.edit(ferry["doc_id"], "Ferry back", "Quillmoor Post", "2025-09-01")
    controller.wait_for_jobs()
    side = json.loads((Path(controller.svc.index_dir) / "uploads" / "metadata.json").read_text())
    assert side[ferry["doc_id"]] == {"title": "Ferry back", "source": "Quillmoor Post", "date": "2025-09-01"}
    art = controller.svc.store.article(ferry["doc_id"])
    assert (art.title, art.source, art.date) == ("Ferry back", "Quillmoor Post", "2025-09-01")
    controller.library.delete(ferry["doc_id"])
    controller.wait_for_jobs()
    assert len(controller.library.rows()) == 5
    assert "Deleted ferry.txt" in controller.status() and str(controller.svc.index_dir) not in controller.status()


def test_refusal_is_said_once_with_leads():
    a = _answer("x", abstained=True)
    a["answer"] = "The articles don't say. I found nothing in them that answers it. The closest passages…"
    text = chat_text(a)
    assert text.startswith("Not in the articles: nothing in them answers this question.")
    assert "don't say" not in text and "I found nothing" not in text
    assert "Leads: “x”" in text


def test_why_shows_citation_numbers_and_snippets_not_ids():
    out = render_why(_answer("what was run"))
    assert "d#0" not in out and "e#0" not in out  # no raw chunk ids
    assert '<td class="qa-cited-n">[1]</td>' in out and "Other what was run" in out


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


def test_uploads_left_in_gradio_cache_are_removed_on_shutdown(seeds_index, embedder, tmp_path):
    import httpx

    from tests.present.conftest import running_app

    with running_app(tmp_path, seeds_index, embedder) as (url, _):
        r = httpx.post(url + "gradio_api/upload", files={"files": ("big.txt", b"x" * 100_000)})
        paths = [Path(p) for p in r.json()]
        assert paths and all(p.exists() for p in paths)  # uploaded but never added: still on disk
    assert not any(p.exists() for p in paths)


def test_conversations_number_each_clearing_per_session():
    """What lets an answer that was loading when its chat was cleared be dropped (issue 14)."""
    from qa.present.ui import Conversations

    conv = Conversations()
    asked_in = conv.current("s1")
    assert asked_in == 0 and conv.current("s2") == 0
    assert conv.clear("s1") == 1
    assert conv.current("s1") != asked_in  # the question asked before the clearing is stale
    assert conv.current("s2") == 0  # another browser's conversation is untouched
    conv.forget("s1")
    assert conv.current("s1") == 0
    conv.MAX_SESSIONS = 2
    for s_ in ("a", "b", "c"):
        conv.clear(s_)
    assert conv.current("a") == 0 and conv.current("c") == 1  # bounded: the oldest is forgotten
