"""The Gradio chat UI (``qa serve`` / ``python app.py``) and its ``/ask`` API.

The page is a thin view over :class:`~qa.pipeline.QAService`: every answer is the same
:func:`~qa.present.serialize.answer_to_dict` JSON that ``qa ask --json`` prints, kept per
conversation in a ``gr.State`` and rendered into the chat, the sources panel and the "why these
passages" table. HTML is built only in :mod:`qa.present.ui_render`, which escapes all text; the
page's only script (:mod:`qa.present.ui_assets`) makes ``[n]`` markers clickable without ever
turning text into HTML.

Every way of clearing the chat (the Clear button, the chat's own trash icon) clears the whole
conversation: the answers, the sources, the votes and what follow-ups borrow.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr

from qa.answer.question import Turn
from qa.errors import QAError
from qa.pipeline import MAX_QUESTION_CHARS, Question
from qa.present.serialize import answer_to_dict
from qa.present.ui_args import (MAX_QUESTION_INPUT, ArgumentError, check_history, check_k, check_outlets,
                                check_question, check_window)
from qa.present.ui_assets import CSS, HEAD
from qa.present.ui_examples import checked_examples
from qa.present.ui_feedback import FeedbackLog
from qa.present.ui_jobs import AnswerBudget, BudgetExceeded, ChildBuild, IndexJob, SwapLock, index_update
from qa.present.ui_library import Library
from qa.present.ui_render import (answer_notes, chat_text, esc, render_article, render_library, render_sources,
                                  render_status, render_why)
from qa.present.ui_uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, UploadPolicy, store_path
from qa.retrieve.hybrid import Filters

log = logging.getLogger(__name__)
FEEDBACK_FILE = "feedback.jsonl"
DEFAULT_K = 10
MAX_K = 30
#: When the newest article is older than this, the as-of date defaults to that article's day
#: (answering "latest" against today would find nothing), and the page says so.
STALE_CORPUS_DAYS = 365
#: Gradio's upload cache: swept every 10 minutes of files older than an hour, and emptied when the
#: server stops (each upload is also deleted as soon as it is indexed).
DELETE_CACHE = (600, 3600)
#: Whether this version of :class:`Filters` can keep undated articles under a date range.
KEEPS_UNDATED = "keep_undated" in {f.name for f in dataclasses.fields(Filters)}


class Conversations:
    """Which conversation each browser session is in: a number that every clearing raises.

    An answer is computed from the chat and the turns as they were when its question was sent, and
    Gradio writes its result back whatever happened meanwhile. Cleared while loading (the Clear
    button or the chat's trash icon), the old answer would bring the cleared question back into
    the chat, the sources, the votes and what follow-ups borrow. So a question remembers the
    conversation it was asked in, and its answer is dropped when that is no longer the current one.
    The numbers live here, not in a ``gr.State``, because a running answer only sees the state as
    it was when it started.
    """

    #: Sessions remembered (the oldest are forgotten first; a forgotten session is in conversation 0).
    MAX_SESSIONS = 10_000

    def __init__(self) -> None:
        self._n: dict[str, int] = {}
        self._lock = threading.Lock()

    def current(self, session: str | None) -> int:
        with self._lock:
            return self._n.get(session or "", 0)

    def clear(self, session: str | None) -> int:
        """Start a new conversation for ``session``; returns its number."""
        with self._lock:
            n = self._n.pop(session or "", 0) + 1
            self._n[session or ""] = n
            while len(self._n) > self.MAX_SESSIONS:
                del self._n[next(iter(self._n))]
            return n

    def forget(self, session: str | None) -> None:
        """The session's page was closed."""
        with self._lock:
            self._n.pop(session or "", None)


class ChatController:
    """What the page does, without Gradio: ask, keep feedback, add and edit articles.

    Questions are answered beside one another under a shared :class:`~qa.present.ui_jobs.SwapLock`
    when the service embeds questions through its ONNX query encoder (a tokenizer of its own, used
    read-only); only swapping in an updated index takes the lock alone. Without that encoder the
    torch model's tokenizer is shared with index builds and is not safe for concurrent use, so
    questions are then answered one at a time, as before. Each question has a time budget
    (:class:`~qa.present.ui_jobs.AnswerBudget`); uploads are indexed in the background
    (:class:`~qa.present.ui_jobs.IndexJob`).

    Args:
        svc: The service answering questions.
        upload_policy: Which uploads are accepted (default: article types up to 10 MB).
        budget_s: Seconds a question may take before its user is told (default 20).
        child_builds: Build uploads and edits in a lower-priority child process (default True), so
            a large upload does not take the server's CPU and GIL from the questions; False builds
            on the background worker thread of this process.
    """

    def __init__(self, svc, upload_policy: UploadPolicy | None = None, budget_s: float = 20.0,
                 child_builds: bool = True) -> None:
        self.svc = svc
        # A child needs a model it can load from a path; an injected encoder without one builds here.
        self.child = ChildBuild() if child_builds and getattr(svc.embedder, "path", None) else None
        self.policy = upload_policy or UploadPolicy()
        self.swap = SwapLock()
        self.budget = AnswerBudget(budget_s)
        self.jobs = IndexJob()
        self.feedback = FeedbackLog(Path(svc.index_dir) / FEEDBACK_FILE)
        self.feedback_path = self.feedback.path
        self.library = Library(svc, self._reindex)
        self.conversations = Conversations()
        # Serialises questions only when they would share the torch tokenizer (class docstring).
        self._serial = threading.Lock()

    # -- index facts -------------------------------------------------------------------------
    def outlets(self) -> list[str]:
        return sorted({a.source for a in self.svc.store.articles if a.source}, key=str.lower)

    def date_span(self) -> tuple[str | None, str | None]:
        dates = sorted(a.date for a in self.svc.store.articles if a.date)
        return (dates[0], dates[-1]) if dates else (None, None)

    def default_as_of(self, today: dt.date | None = None) -> tuple[str, str]:
        """The as-of date the page starts with, and a sentence saying why.

        Today, unless the newest article is more than :data:`STALE_CORPUS_DAYS` older: then that
        article's day, so "the latest" still means something.
        """
        today = today or dt.date.today()
        newest = self.date_span()[1]
        if newest and (today - dt.date.fromisoformat(newest)).days > STALE_CORPUS_DAYS:
            return newest, (f"The newest article is from {newest}, over a year ago, so questions are "
                            f"answered as of that day (set today's date to change it); articles dated "
                            f"after it are not used.")
        return today.isoformat(), "Articles dated after this day are not used; “latest” is read against it."

    def status(self, message: str = "") -> str:
        store = self.svc.store
        job = self.jobs.progress()
        msg = " ".join(m for m in (message, job) if m)
        return render_status(len(store.articles), len(self.outlets()), len(store.data.chunk_ids), msg)

    def article_text(self, doc_id: str) -> str:
        return self.svc.store.article(doc_id).text

    def examples(self, n: int = 3) -> list[str]:
        """Up to ``n`` questions the indexed articles answer, made from their text and checked by
        answering each (see :mod:`qa.present.ui_examples`)."""
        return checked_examples(list(self.svc.store.articles), lambda q: self.ask(q), n=n)

    # -- asking ------------------------------------------------------------------------------
    def filters(self, outlets: object = None, date_from: object = None, date_to: object = None,
                as_of: object = None, keep_undated: bool = False) -> Filters | None:
        """Checked filters from the page's controls or the API; raises :class:`ArgumentError`
        (naming the argument) on a malformed, unreal or reversed date or an unknown outlet."""
        names = check_outlets(outlets, self.outlets())
        window = check_window(date_from, date_to, as_of)
        extra = {"keep_undated": True} if keep_undated and KEEPS_UNDATED else {}
        f = Filters(sources=tuple(names), date_from=window.date_from, date_to=window.date_to, **extra)
        return f if f.active else None

    def undated_left_out(self, filters: Filters | None) -> int:
        """Undated articles (of the chosen outlets) that a date range excludes."""
        if filters is None or not (filters.date_from or filters.date_to) or getattr(filters, "keep_undated", False):
            return 0
        wanted = {s.lower() for s in filters.sources}
        return sum(1 for a in self.svc.store.articles
                   if not a.date and (not wanted or (a.source or "").lower() in wanted))

    def describe_filters(self, filters: Filters | None, as_of: str | None = None) -> str:
        """One line saying what an answer was restricted to ("" when nothing was)."""
        bits = []
        if filters is not None:
            if filters.sources:
                bits.append("outlets " + ", ".join(filters.sources))
            if filters.date_from or filters.date_to:
                bits.append(f"dated {filters.date_from or '…'} to {filters.date_to or '…'}")
                left = self.undated_left_out(filters)
                if left:
                    bits.append(f"{left} undated article{'s' if left != 1 else ''} left out")
                elif getattr(filters, "keep_undated", False):
                    bits.append("undated articles included")
        if not bits:
            return ""
        return "Filters: " + "; ".join(bits) + (f" (as of {as_of})" if as_of else "") + "."

    def ask(self, question: object, history: object = (), outlets: object = None, date_from: object = None,
            date_to: object = None, k: object = DEFAULT_K, as_of: object = None, keep_undated: bool = False) -> dict:
        """Answer ``question`` as answer JSON, every argument checked first.

        ``history``: earlier turns, oldest first, as question strings or dicts with ``question``,
        ``query`` and ``entity`` (the name the answer led with). The JSON gains ``filters_note``
        (what the answer was restricted to) and ``undated_left_out`` when filters were set.

        Raises:
            ArgumentError: an argument of the wrong type or value (the message names it).
        """
        text = check_question(question)
        turns = check_history(history)
        filters = self.filters(outlets, date_from, date_to, None, keep_undated)
        k_ = check_k(k, DEFAULT_K, MAX_K)
        day = check_window(None, None, as_of).as_of
        q = Question(text, id=uuid.uuid4().hex[:12], as_of=day, history=tuple(
            Turn(str(h.get("question") or ""), str(h.get("query") or ""), h.get("entity") or None)
            if isinstance(h, dict) else str(h) for h in turns))
        try:
            ans = self.budget.run(lambda: self._answer(q, k_, filters))
        except BudgetExceeded as exc:
            return {"id": q.id, "question": text, "answer": "", "abstained": True, "citations": [], "passages": [],
                    "timing_ms": {"total": self.budget.seconds * 1000}, "query": text, "short_answer": None,
                    "error": str(exc)}
        note = self.describe_filters(filters, day if filters else None)
        if note:
            ans["filters_note"] = note
            ans["undated_left_out"] = self.undated_left_out(filters)
        return ans

    def _answer(self, q: Question, k: int, filters: Filters | None) -> dict:
        if not self.swap.acquire_read(timeout=self.budget.seconds):
            raise BudgetExceeded("the index is being updated; ask again in a moment")
        try:
            # read=k: the answer reads only the passages the page retrieves and lists (the slider)
            if self.svc.embedder.has_query_encoder:  # its own tokenizer: safe from several threads
                ans = self.svc.ask(q, k=k, filters=filters, read=k)
            else:
                with self._serial:
                    ans = self.svc.ask(q, k=k, filters=filters, read=k)
        finally:
            self.swap.release_read()
        return answer_to_dict(ans)

    # -- feedback ----------------------------------------------------------------------------
    def record_feedback(self, turn: dict, liked: bool, reason: str = "") -> dict:
        """One vote on ``turn``'s answer in ``<index_dir>/feedback.jsonl`` (capped records, one vote
        per answer, the file bounded: see :mod:`qa.present.ui_feedback`); returns the record."""
        return self.feedback.vote(turn, liked, reason)

    # -- uploads -----------------------------------------------------------------------------
    def _reindex(self, describe: str, before=None, done: str = "") -> None:
        """Bring the index up to date in the background: ``before()`` first (on the worker), the
        build in a niced child process (:class:`~qa.present.ui_jobs.ChildBuild`), then the new
        index opened beside the loaded one and swapped in (:func:`~qa.present.ui_jobs.index_update`)."""
        self.jobs.submit(index_update(self.svc, self.swap, before, done, child=self.child), describe)

    def add_files(self, files: list[tuple[str | Path, str]], progress=None, wait: bool = False) -> str:
        """Check uploaded ``(path, client name)`` pairs, store them in ``uploads/`` and index them
        in the background; returns a one-line report (``wait``: index first, for scripts and tests)."""
        check = self.policy.run(files)
        msgs = list(check.rejected)
        up = Path(self.svc.index_dir) / "uploads"
        fresh = []
        for path, name in check.accepted:
            target = store_path(up, name)  # refuses any name that would escape the upload folder
            if target.is_file() and target.read_bytes() == Path(path).read_bytes():
                msgs.append(f"{name} is already indexed, unchanged.")
                continue
            up.mkdir(parents=True, exist_ok=True)
            target.write_bytes(Path(path).read_bytes())
            fresh.append(name)
        for path, _ in files:  # Gradio's temporary copy is not needed once stored (or refused)
            _remove_temp(path)
        if fresh:
            n = len(fresh)
            self._reindex(f"Indexing {n} file(s) in the background…",
                          done=f"Added {n} file(s): {{new}} new or changed article(s) indexed.")
            if wait:
                self.wait_for_jobs()
                msgs.insert(0, self.jobs.state.message)
            else:
                msgs.insert(0, f"Indexing {n} file(s) in the background…")
        return " ".join(msgs) if msgs else "No files to add."

    def wait_for_jobs(self, timeout: float = 600.0) -> None:
        """Block until the background indexer is idle (tests and scripts)."""
        deadline = time.monotonic() + timeout
        while self.jobs.state.running or self.jobs.state.queued:
            if time.monotonic() > deadline:
                raise TimeoutError("indexing did not finish")
            time.sleep(0.05)


def _remove_temp(path: str | Path) -> None:
    """Delete an upload's temporary file, but only one in Gradio's cache (never an article on disk)."""
    p = Path(path)
    cache = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()
    try:
        if cache in p.resolve().parents:
            p.unlink(missing_ok=True)
    except OSError:
        pass


def _session(request) -> str:
    """The browser session a page event comes from ("" when Gradio gives none)."""
    return str(getattr(request, "session_hash", None) or "")


def _chat_index(evt) -> int:
    return evt.index if isinstance(evt.index, int) else evt.index[0]


def build_app(svc, examples: list[str] | None = None, upload_policy: UploadPolicy | None = None,
              controller: ChatController | None = None):
    """The chat page over ``svc`` (a :class:`~qa.pipeline.QAService`, its index already open).

    Args:
        svc: The service; its index is loaded (or built) once, before the page is served.
        examples: Example questions; default: made from the articles and checked by answering them.
        upload_policy: Upload checks (default: ``.txt .md .html .jsonl`` up to 10 MB).
        controller: The :class:`ChatController` to use (default: a new one over ``svc``).

    Returns:
        The ``gr.Blocks`` app. Its API endpoint ``/ask`` takes ``question`` (plus optional
        ``history``, ``outlets``, ``date_from``, ``date_to``, ``k``, ``as_of``) and returns the
        answer JSON; a wrong argument is refused with an error naming it.
    """
    ctl = controller or ChatController(svc, upload_policy)
    first, last = ctl.date_span()
    as_of_default, as_of_info = ctl.default_as_of()
    shown = examples if examples is not None else ctl.examples()

    def turn_sources(turns, i):
        t = turns[i]
        return (render_sources(t["answer"], t["k"], ctl.article_text, turn=i,
                               filters_note=t["answer"].get("filters_note", "")),
                render_why(t["answer"], t["k"]))

    def start(message, busy, chat, outlets, date_from, date_to, as_of, k, request: gr.Request):
        """First step of asking (not queued): check, then show the question at once. The question
        remembers the conversation it was asked in (see :class:`Conversations`)."""
        message = message or ""
        skip6 = (gr.skip(),) * 6
        if not message.strip():
            return *skip6, None
        if busy:
            return (gr.skip(), gr.skip(), gr.skip(), '<div class="qa-notice" role="status">Still answering the '
                    "previous question: yours stays in the box; press Enter again when the answer is shown.</div>",
                    gr.skip(), gr.skip(), None)
        try:
            check_question(message)
            ctl.filters(outlets, date_from, date_to, as_of)
        except ArgumentError as exc:
            where = "filter" if exc.argument in ("date_from", "date_to", "as_of", "outlets") else "box"
            msg = f'<div class="qa-invalid" role="alert">{esc(_field_message(exc))}</div>'
            return (gr.skip(), gr.skip(), gr.skip(), msg if where == "box" else "",
                    msg if where == "filter" else "", gr.skip(), None)
        chat = list(chat or []) + [{"role": "user", "content": chat_text({"answer": message})}]
        return "", chat, True, "", "", gr.update(interactive=False), {
            "question": message, "conversation": ctl.conversations.current(_session(request))}

    def answer(pending, chat, turns, outlets, date_from, date_to, as_of, k, keep_undated, request: gr.Request):
        """Second step (queued): answer the question shown, always ending with Ask enabled again;
        nothing is written back when the conversation was cleared meanwhile (its clearing already
        enabled Ask again, and a newer question may be loading)."""
        session = _session(request)
        if not pending:
            return (gr.skip(),) * 4 + (False, gr.update(interactive=True), None, gr.skip(), gr.skip())
        if pending.get("conversation", 0) != ctl.conversations.current(session):
            return (gr.skip(),) * 9
        message = pending["question"]
        asked = [{"question": t["question"], "query": t["answer"].get("query"),
                  "entity": t["answer"].get("short_answer")} for t in turns]
        try:
            ans = ctl.ask(message, asked, outlets, date_from, date_to, k, as_of, bool(keep_undated))
        except (ArgumentError, QAError) as exc:
            ans = {"id": uuid.uuid4().hex[:12], "question": message, "answer": "", "abstained": True,
                   "citations": [], "passages": [], "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - the page must never stay stuck with Ask disabled
            log.exception("answering %r failed", message[:200])
            ans = {"id": uuid.uuid4().hex[:12], "question": message, "answer": "", "abstained": True,
                   "citations": [], "passages": [], "error": f"internal error ({type(exc).__name__}); see the server log"}
        if pending.get("conversation", 0) != ctl.conversations.current(session):
            return (gr.skip(),) * 9  # cleared while this answer was loading
        extra = answer_notes(ans) + ([ans["filters_note"]] if ans.get("filters_note") else [])
        turns = turns + [{"question": message, "history": [t["question"] for t in turns], "answer": ans,
                          "k": int(k or DEFAULT_K)}]
        chat = list(chat or []) + [{"role": "assistant", "content": chat_text(ans, extra)}]
        src, why_html = turn_sources(turns, len(turns) - 1)
        undated = gr.update(visible=bool(ans.get("undated_left_out")),
                            value=("Include the undated articles" if KEEPS_UNDATED
                                   else "Ask again without the date range"))
        return chat, turns, src, why_html, False, gr.update(interactive=True), None, undated, len(turns) - 1

    def select(turns, evt: gr.SelectData):
        i = _chat_index(evt) // 2
        if not turns or not 0 <= i < len(turns):
            return gr.skip(), gr.skip(), gr.skip()
        return *turn_sources(turns, i), i

    def like(turns, evt: gr.LikeData):
        i = _chat_index(evt) // 2
        if not turns or not 0 <= i < len(turns):
            return gr.skip(), gr.skip()
        liked = evt.liked if isinstance(evt.liked, bool) else str(evt.liked).lower() in ("like", "true", "1")
        ctl.record_feedback(turns[i], liked)
        gr.Info("Thanks: vote saved (one per answer; a second vote replaces the first).")
        return {"turn": i, "liked": liked}, gr.update(visible=True)

    def send_reason(turns, vote, reason):
        if not vote or not turns or vote["turn"] >= len(turns) or not (reason or "").strip():
            return gr.skip(), gr.skip()
        ctl.record_feedback(turns[vote["turn"]], vote["liked"], reason.strip())
        gr.Info("Thanks: reason saved with your vote.")
        return "", gr.update(visible=False)

    def clear(request: gr.Request):
        """A new conversation: answers, sources, votes, what follow-ups borrow, and any answer still
        loading (dropped when it arrives, see :class:`Conversations`)."""
        ctl.conversations.clear(_session(request))
        return ("", [], [], render_sources(None), render_why(None), False, None, None, "", "",
                gr.update(interactive=True), gr.update(visible=False), gr.update(visible=False), "", None)

    def closed(request: gr.Request):
        ctl.conversations.forget(_session(request))

    def include_undated(turns, date_from, date_to):
        if not turns:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        question = turns[-1]["question"]
        if KEEPS_UNDATED:
            return question, True, gr.skip(), gr.skip()
        return question, gr.skip(), "", ""

    def upload(files):
        pairs = [(f, Path(getattr(f, "orig_name", None) or f).name) for f in (files or [])]
        msg = ctl.add_files(pairs)
        return None, ctl.status(msg), gr.Timer(active=ctl.jobs.state.running)

    def refresh(as_of_now=None, as_of_before=None):
        """The page's index facts as they are now: status, outlets, date placeholders, as-of day, library.

        The as-of day is moved only when it still holds the default it was given (an upload newer
        than a stale corpus's newest article moves the default; a date the user typed stays)."""
        lo, hi = ctl.date_span()
        day, info = ctl.default_as_of()
        keep = as_of_now is not None and as_of_now != as_of_before
        return (ctl.status(), gr.update(choices=ctl.outlets()), gr.update(placeholder=lo or "YYYY-MM-DD"),
                gr.update(placeholder=hi or "YYYY-MM-DD"), gr.skip() if keep else gr.update(value=day, info=info),
                render_library(ctl.library.rows()), gr.update(choices=ctl.library.choices()), day)

    def poll(gen, as_of_now, as_of_before):
        """While indexing runs: the status line; when it ends, everything :func:`refresh` gives."""
        s = ctl.jobs.state
        if s.running:
            return (ctl.status(),) + (gr.skip(),) * 7 + (gen, gr.skip())
        return *refresh(as_of_now, as_of_before), s.generation, gr.Timer(active=False)

    def on_load():
        return refresh()

    def lib_open(doc_id, turns, selected):
        if not doc_id:
            return "", "", "", "", gr.update(visible=False)
        art = ctl.library.find(doc_id)
        if art is None:
            return '<div class="qa-invalid">That article is no longer indexed.</div>', "", "", "", gr.update(visible=False)
        ans = turns[selected]["answer"] if turns and selected is not None and selected < len(turns) else (
            turns[-1]["answer"] if turns else None)
        marks = [(c["start"], c["end"]) for c in (ans or {}).get("citations", []) if c["doc_id"] == doc_id]
        meta = " · ".join(x for x in (art.source, art.date, ctl.library.file_name(art)) if x)
        return (render_article(art.title, meta, art.text, marks), art.title or "", art.source or "", art.date or "",
                gr.update(visible=ctl.library.is_upload(art)))

    def lib_save(doc_id, title, source, date):
        try:
            msg = ctl.library.edit(doc_id, title, source, date)
        except ArgumentError as exc:
            return f'<div class="qa-invalid" role="alert">{esc(_field_message(exc))}</div>', gr.skip(), gr.skip()
        return f'<div class="qa-notice">{esc(msg)}</div>', ctl.status(), gr.Timer(active=True)

    def lib_delete(doc_id):
        try:
            msg = ctl.library.delete(doc_id)
        except ArgumentError as exc:
            return f'<div class="qa-invalid" role="alert">{esc(_field_message(exc))}</div>', gr.skip(), gr.skip()
        return f'<div class="qa-notice">{esc(msg)}</div>', ctl.status(), gr.Timer(active=True)

    def api_ask(question: str, history: list | None = None, outlets: list[str] | None = None,
                date_from: str | None = None, date_to: str | None = None, k: int = DEFAULT_K,
                as_of: str | None = None) -> dict:
        """Answer one question from the indexed articles; returns the answer JSON with its citations.
        A wrong argument is refused with an error that names it."""
        try:
            return ctl.ask(question, history, outlets, date_from, date_to, k, as_of)
        except ArgumentError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    with gr.Blocks(title="qa — ask the articles", analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("## Ask the articles\nAnswers come from the indexed articles only; every claim "
                    "carries a `[n]` marker: click it to see the sentence it comes from.")
        status = gr.HTML(ctl.status(), elem_id="qa-status")
        turns = gr.State([])
        busy = gr.State(False)
        pending = gr.State(None)
        vote = gr.State(None)
        selected = gr.State(None)
        generation = gr.State(0)
        as_of_given = gr.State(as_of_default)  # the default the as-of box was last given
        with gr.Row():
            with gr.Column(scale=3, min_width=320):
                chat = gr.Chatbot(label="Chat", elem_id="qa-chat", height=460, render_markdown=False,
                                  sanitize_html=True, latex_delimiters=[], allow_tags=False, autoscroll=False,
                                  feedback_options=("Like", "Dislike"), buttons=["copy"],
                                  placeholder="Ask a question about the articles.")
                with gr.Row(elem_id="qa-reason-row", visible=False) as reason_row:
                    reason = gr.Textbox(label="Why? (optional)", elem_id="qa-reason", scale=6, max_length=2000)
                    reason_send = gr.Button("Send", elem_id="qa-reason-send", scale=1, min_width=70)
                with gr.Row():
                    box = gr.Textbox(label="Question", show_label=False, elem_id="qa-question", scale=8,
                                     placeholder=f"Ask a question (the first {MAX_QUESTION_CHARS:,} characters are searched)…",
                                     max_length=MAX_QUESTION_INPUT, autofocus=True, lines=1, max_lines=6)
                    send = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=70)
                    clear_btn = gr.Button("Clear", elem_id="qa-clear", scale=1, min_width=70)
                box_msg = gr.HTML("", elem_id="qa-box-msg")
                include_btn = gr.Button("Include the undated articles", elem_id="qa-include-undated",
                                        visible=False, size="sm")
                example_btns = []
                if shown:
                    with gr.Row(elem_id="qa-examples"):
                        gr.Markdown("**Try:**")
                        for ex in shown:
                            example_btns.append(gr.Button(ex, size="sm", elem_classes=["qa-example"]))
            with gr.Column(scale=2, min_width=320):
                with gr.Accordion("Filters", open=True):
                    outlets = gr.Dropdown(ctl.outlets(), value=[], multiselect=True, label="Outlets",
                                          elem_id="qa-outlets", info="none selected = all outlets")
                    with gr.Row():
                        date_from = gr.Textbox(label="From", placeholder=first or "YYYY-MM-DD",
                                               elem_id="qa-from", max_length=10, min_width=120)
                        date_to = gr.Textbox(label="To", placeholder=last or "YYYY-MM-DD",
                                             elem_id="qa-to", max_length=10, min_width=120)
                    filter_msg = gr.HTML("", elem_id="qa-filter-msg")
                    keep_undated = gr.Checkbox(False, label="Keep undated articles when a date range is set",
                                               elem_id="qa-undated", visible=KEEPS_UNDATED)
                    as_of = gr.Textbox(as_of_default, label="As of", info=as_of_info, elem_id="qa-asof", max_length=10)
                    k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages", elem_id="qa-k",
                                  info="how many passages are retrieved, read and listed")
                gr.Markdown("### Sources")
                sources = gr.HTML(render_sources(None), elem_id="qa-sources")
                with gr.Accordion("Why these passages", open=False, elem_id="qa-why-acc"):
                    why = gr.HTML(render_why(None), elem_id="qa-why")
                with gr.Accordion("Library", open=False, elem_id="qa-library-acc") as lib_acc:
                    library = gr.HTML(render_library(ctl.library.rows()), elem_id="qa-library")
                    lib_doc = gr.Dropdown(ctl.library.choices(), value=None, label="Open an article",
                                          elem_id="qa-lib-doc")
                    with gr.Row():
                        lib_title = gr.Textbox(label="Title", elem_id="qa-lib-title", max_length=300)
                        lib_source = gr.Textbox(label="Outlet", elem_id="qa-lib-source", max_length=120)
                        lib_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD", elem_id="qa-lib-date",
                                              max_length=10)
                    with gr.Row():
                        lib_save_btn = gr.Button("Save and re-index", elem_id="qa-lib-save", size="sm")
                        lib_delete_btn = gr.Button("Delete this upload", elem_id="qa-lib-delete", size="sm",
                                                   variant="stop", visible=False)
                    lib_msg = gr.HTML("", elem_id="qa-lib-msg")
                    article_view = gr.HTML("", elem_id="qa-article")
                with gr.Accordion("Add articles", open=False, elem_id="qa-upload-acc"):
                    files = gr.File(file_count="multiple", file_types=list(ALLOWED_SUFFIXES),
                                    label=f"{', '.join(ALLOWED_SUFFIXES)} — up to {MAX_UPLOAD_BYTES // 2**20} MB each",
                                    elem_id="qa-files")
                    add = gr.Button("Add to index", elem_id="qa-add")
        timer = gr.Timer(1.0, active=False)

        start_in = [box, busy, chat, outlets, date_from, date_to, as_of, k]
        start_out = [box, chat, busy, box_msg, filter_msg, send, pending]
        answer_in = [pending, chat, turns, outlets, date_from, date_to, as_of, k, keep_undated]
        answer_out = [chat, turns, sources, why, busy, send, pending, include_btn, selected]

        def chain(trigger):
            trigger(start, start_in, start_out, queue=False, api_visibility="private").then(
                answer, answer_in, answer_out, api_visibility="private", concurrency_limit=4,
                # "multiple": a question asked after clearing while an earlier answer still loads
                # must be answered too (the default, "once", drops it while that answer is pending;
                # ``busy`` already keeps one question per conversation at a time)
                trigger_mode="multiple")

        chain(box.submit)
        chain(send.click)
        for btn in example_btns:
            chain(btn.click(lambda q: q, [btn], [box], queue=False, api_visibility="private").then)
        chain(include_btn.click(include_undated, [turns, date_from, date_to], [box, keep_undated, date_from, date_to],
                                queue=False, api_visibility="private").then)
        chat.select(select, [turns], [sources, why, selected], api_visibility="private")
        chat.like(like, [turns], [vote, reason_row], api_visibility="private")
        reason_send.click(send_reason, [turns, vote, reason], [reason, reason_row], api_visibility="private")
        clear_out = [box, chat, turns, sources, why, busy, pending, vote, box_msg, filter_msg, send, reason_row,
                     include_btn, reason, selected]
        clear_btn.click(clear, None, clear_out, queue=False, api_visibility="private")
        chat.clear(clear, None, clear_out, queue=False, api_visibility="private")  # the chat's trash icon
        add.click(upload, [files], [files, status, timer], api_visibility="private")
        facts = [status, outlets, date_from, date_to, as_of, library, lib_doc, as_of_given]
        timer.tick(poll, [generation, as_of, as_of_given], [*facts, generation, timer], api_visibility="private")
        demo.load(on_load, None, facts, queue=False, api_visibility="private")
        demo.unload(closed)
        lib_acc.expand(lambda: (render_library(ctl.library.rows()), gr.update(choices=ctl.library.choices())),
                       None, [library, lib_doc], queue=False, api_visibility="private")
        lib_doc.change(lib_open, [lib_doc, turns, selected],
                       [article_view, lib_title, lib_source, lib_date, lib_delete_btn], api_visibility="private")
        lib_save_btn.click(lib_save, [lib_doc, lib_title, lib_source, lib_date], [lib_msg, status, timer],
                           api_visibility="private")
        lib_delete_btn.click(lib_delete, [lib_doc], [lib_msg, status, timer], api_visibility="private")
        gr.api(api_ask, api_name="ask", concurrency_limit=4)
    demo.qa_controller = ctl
    return demo


def _field_message(exc: ArgumentError) -> str:
    """An argument error in the page's words ("From: …" rather than "date_from: …")."""
    names = {"date_from": "From", "date_to": "To", "as_of": "As of", "outlets": "Outlets", "question": "Question",
             "k": "Passages"}
    text = str(exc)
    prefix = f"{exc.argument}: "
    body = text[len(prefix):] if text.startswith(prefix) else text
    for arg, label in names.items():
        body = body.replace(arg, label)
    return f"{names.get(exc.argument, exc.argument)}: {body}"


def launch(svc, host: str = "127.0.0.1", port: int = 7860, block: bool = True, **kwargs):
    """Serve the page on ``host:port`` (default 127.0.0.1: this machine only) and return the app.

    Args:
        svc: The service (index already open).
        host: Address to bind; anything but loopback exposes the articles to the network.
        port: Port (default 7860).
        block: Serve until interrupted (default); False returns once the server is up (tests).
        **kwargs: Passed to ``Blocks.launch``.
    """
    app = build_app(svc)
    app.launch(server_name=host, server_port=port, max_file_size=MAX_UPLOAD_BYTES, css=CSS, head=HEAD,
               footer_links=["api"], prevent_thread_lock=True, **kwargs)
    warm_up(app.local_url)
    if block:
        app.block_thread()
    return app


def warm_up(url: str) -> None:
    """Ask one question through the server's own API, so the first user does not pay first-call costs
    (about a second: Gradio's first queued event, lazy imports, first inference)."""
    from gradio_client import Client

    try:
        Client(url, verbose=False).predict("warm up", api_name="/ask")
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only means a slower first answer
        print(f"qa serve: warm-up request failed ({exc}); the first answer may be slow")
