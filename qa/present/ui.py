"""The Gradio chat UI (``qa serve`` / ``python app.py``) and its ``/ask`` API.

The page is a thin view over :class:`~qa.pipeline.QAService`: every answer is the same
:func:`~qa.present.serialize.answer_to_dict` JSON that ``qa ask --json`` prints, kept per
conversation in a ``gr.State`` and rendered into the chat, the sources panel and the "why these
passages" table. HTML is built only in :mod:`qa.present.ui_render`, which escapes all text.
"""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
import gradio as gr

from qa.answer.question import Turn
from qa.errors import QAError
from qa.pipeline import Question
from qa.present.serialize import answer_to_dict
from qa.present.ui_render import chat_text, render_sources, render_status, render_why
from qa.present.ui_uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, UploadPolicy, store_path
from qa.retrieve.hybrid import Filters

FEEDBACK_FILE = "feedback.jsonl"
DEFAULT_K = 10
MAX_K = 30

CSS = """
.qa-sources mark.qa-cited { background: #ffe680; color: inherit; padding: 0 .1em; }
.qa-citation, .qa-passage-card { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .5em; margin: .4em 0; }
.qa-meta { font-size: .9em; opacity: .85; margin-bottom: .3em; }
.qa-title { font-weight: 600; }
.qa-abstained { border-left: 4px solid #d9822b; padding: .5em; background: rgba(217,130,43,.1); }
.qa-error { border-left: 4px solid #c0392b; padding: .5em; }
.qa-why table { font-size: .85em; border-collapse: collapse; }
.qa-why td, .qa-why th { padding: .15em .4em; border-bottom: 1px solid var(--border-color-primary); }
"""


class ChatController:
    """What the page does, without Gradio: ask, keep feedback, add articles.

    One lock serialises calls into the service: the tokenizer is not safe for concurrent use, and an
    upload swaps the loaded index, which must not happen in the middle of an answer.

    Args:
        svc: The service answering questions.
        upload_policy: Which uploads are accepted (default: article types up to 10 MB).
    """

    def __init__(self, svc, upload_policy: UploadPolicy | None = None) -> None:
        self.svc = svc
        self.policy = upload_policy or UploadPolicy()
        self.lock = threading.Lock()
        self.feedback_path = Path(svc.index_dir) / FEEDBACK_FILE

    # -- index facts -------------------------------------------------------------------------
    def outlets(self) -> list[str]:
        return sorted({a.source for a in self.svc.store.articles if a.source}, key=str.lower)

    def date_span(self) -> tuple[str | None, str | None]:
        dates = sorted(a.date for a in self.svc.store.articles if a.date)
        return (dates[0], dates[-1]) if dates else (None, None)

    def status(self, message: str = "") -> str:
        store = self.svc.store
        return render_status(len(store.articles), len(self.outlets()), len(store.data.chunk_ids), message)

    def article_text(self, doc_id: str) -> str:
        return self.svc.store.article(doc_id).text

    def examples(self, n: int = 3) -> list[str]:
        """Starter questions from the index itself: the newest titled articles' headlines."""
        # headlines only: a title cut from the article's opening words ("…") makes a poor question
        arts = [a for a in self.svc.store.articles
                if a.title and len(a.title.split()) >= 3 and not a.title.rstrip().endswith(("…", "..."))]
        arts.sort(key=lambda a: a.date or "", reverse=True)
        out: list[str] = []
        for a in arts:
            q = f"What is reported about {a.title.rstrip('.?!')}?"
            if q not in out:
                out.append(q)
            if len(out) == n:
                break
        return out

    # -- asking ------------------------------------------------------------------------------
    @staticmethod
    def filters(outlets: list[str] | None, date_from: str | None, date_to: str | None) -> Filters | None:
        """Filters from the page's controls; raises ValueError on a malformed date."""
        f = Filters(sources=tuple(outlets or ()), date_from=(date_from or "").strip() or None,
                    date_to=(date_to or "").strip() or None)
        return f if f.active else None

    def ask(self, question: str, history: list[str | dict] | tuple[str | dict, ...] = (), outlets: list[str] | None = None,
            date_from: str | None = None, date_to: str | None = None, k: int = DEFAULT_K) -> dict:
        """Answer ``question`` as answer JSON. ``history``: earlier turns, oldest first, as question
        strings or dicts with ``question``, ``query`` and ``entity`` (the name the answer led with)."""
        filters = self.filters(outlets, date_from, date_to)
        k = max(1, min(int(k or DEFAULT_K), MAX_K))
        q = Question(str(question), id=uuid.uuid4().hex[:12], history=tuple(
            Turn(str(h.get("question") or ""), str(h.get("query") or ""), h.get("entity") or None)
            if isinstance(h, dict) else str(h) for h in history or ()))
        with self.lock:
            ans = self.svc.ask(q, k=k, filters=filters)
        return answer_to_dict(ans)

    # -- feedback ----------------------------------------------------------------------------
    def record_feedback(self, turn: dict, liked: bool) -> dict:
        """Append one thumbs up/down to ``<index_dir>/feedback.jsonl``; returns the record written."""
        ans = turn["answer"]
        rec = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "liked": bool(liked),
               "answer_id": ans.get("id"), "question": turn["question"], "history": turn.get("history", []),
               "query": ans.get("query"), "answer": ans.get("answer"), "abstained": ans.get("abstained"),
               "citations": [{k: c[k] for k in ("n", "doc_id", "start", "end")} for c in ans.get("citations", [])]}
        with self.lock:
            self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
            with self.feedback_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return rec

    # -- uploads -----------------------------------------------------------------------------
    def add_files(self, files: list[tuple[str | Path, str]], progress=None) -> str:
        """Check and index uploaded ``(path, client name)`` pairs; returns a one-line report."""
        check = self.policy.run(files)
        msgs = list(check.rejected)
        if check.accepted:
            up = Path(self.svc.index_dir) / "uploads"
            for _, name in check.accepted:
                store_path(up, name)  # refuses any name that would escape the upload folder
            if progress is not None:
                progress(0.1, desc=f"Indexing {len(check.accepted)} file(s)…")
            with self.lock:
                report = self.svc.add_files([p for p, _ in check.accepted], [n for _, n in check.accepted])
            new = len(report.added) + len(report.changed)
            msgs.insert(0, f"Added {len(check.accepted)} file(s): {new} new or changed article(s) indexed.")
            msgs += [str(i) for i in report.issues]
        return " ".join(msgs) if msgs else "No files to add."


def build_app(svc, examples: list[str] | None = None, upload_policy: UploadPolicy | None = None):
    """The chat page over ``svc`` (a :class:`~qa.pipeline.QAService`, its index already open).

    Args:
        svc: The service; its index is loaded (or built) once, before the page is served.
        examples: Example questions; default: drawn from the newest article headlines.
        upload_policy: Upload checks (default: ``.txt .md .html .jsonl`` up to 10 MB).

    Returns:
        The ``gr.Blocks`` app. Its API endpoint ``/ask`` takes ``question`` (plus optional
        ``history``, ``outlets``, ``date_from``, ``date_to``, ``k``) and returns the answer JSON.
    """
    ctl = ChatController(svc, upload_policy)
    first, last = ctl.date_span()

    def respond(message, chat, turns, outlets, date_from, date_to, k):
        message = (message or "").strip()
        if not message:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        history = [t["question"] for t in turns]
        # Follow-ups resolve against each turn's searched query and the name its answer led with.
        asked = [{"question": t["question"], "query": t["answer"].get("query"),
                  "entity": t["answer"].get("short_answer")} for t in turns]
        try:
            ans = ctl.ask(message, asked, outlets, date_from, date_to, k)
        except ValueError as exc:
            raise gr.Error(f"Filters: {exc}") from exc
        except QAError as exc:
            raise gr.Error(str(exc)) from exc
        turns = turns + [{"question": message, "history": history, "answer": ans, "k": int(k)}]
        chat = list(chat or []) + [{"role": "user", "content": chat_text({"answer": message})},
                                   {"role": "assistant", "content": chat_text(ans)}]
        return "", chat, turns, render_sources(ans, int(k), ctl.article_text), render_why(ans, int(k))

    def select(turns, evt: gr.SelectData):
        idx = evt.index if isinstance(evt.index, int) else evt.index[0]
        if not turns or not 0 <= idx // 2 < len(turns):
            return gr.skip(), gr.skip()
        t = turns[idx // 2]
        return render_sources(t["answer"], t["k"], ctl.article_text), render_why(t["answer"], t["k"])

    def like(turns, evt: gr.LikeData):
        idx = evt.index if isinstance(evt.index, int) else evt.index[0]
        if not turns or not 0 <= idx // 2 < len(turns):
            return
        liked = evt.liked if isinstance(evt.liked, bool) else str(evt.liked).lower() in ("like", "true", "1")
        ctl.record_feedback(turns[idx // 2], liked)
        gr.Info("Thanks: feedback saved.")

    def clear():
        return "", [], [], render_sources(None), render_why(None)

    def upload(files, progress=gr.Progress()):
        pairs = [(f, Path(getattr(f, "orig_name", None) or f).name) for f in (files or [])]
        msg = ctl.add_files(pairs, progress)
        return None, ctl.status(msg), gr.update(choices=ctl.outlets())

    def api_ask(question: str, history: list[str] | None = None, outlets: list[str] | None = None,
                date_from: str | None = None, date_to: str | None = None, k: int = DEFAULT_K) -> dict:
        """Answer one question from the indexed articles; returns the answer JSON with its citations."""
        try:
            return ctl.ask(question, history or [], outlets, date_from, date_to, k)
        except ValueError as exc:
            raise gr.Error(f"Filters: {exc}") from exc

    with gr.Blocks(title="qa — ask the articles", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the articles\nAnswers come from the indexed articles only; every claim "
                    "carries a `[n]` marker pointing to the sentence it comes from.")
        status = gr.HTML(ctl.status(), elem_id="qa-status")
        turns = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", elem_id="qa-chat", height=460, render_markdown=False,
                                  sanitize_html=True, latex_delimiters=[], allow_tags=False,
                                  feedback_options=("Like", "Dislike"), buttons=["copy"],
                                  placeholder="Ask a question about the articles.")
                with gr.Row():
                    box = gr.Textbox(show_label=False, placeholder="Ask a question…", elem_id="qa-question",
                                     scale=8, max_length=4000, autofocus=True)
                    send = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=70)
                    clear_btn = gr.Button("Clear", elem_id="qa-clear", scale=1, min_width=70)
                shown = examples if examples is not None else ctl.examples()
                if shown:
                    gr.Examples(shown, inputs=[box], label="Examples")
            with gr.Column(scale=2):
                with gr.Accordion("Filters", open=True):
                    outlets = gr.Dropdown(ctl.outlets(), value=[], multiselect=True, label="Outlets",
                                          elem_id="qa-outlets", info="none selected = all outlets")
                    with gr.Row():
                        date_from = gr.Textbox(label="From", placeholder=first or "YYYY-MM-DD",
                                               elem_id="qa-from", max_length=10)
                        date_to = gr.Textbox(label="To", placeholder=last or "YYYY-MM-DD",
                                             elem_id="qa-to", max_length=10)
                    k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages", elem_id="qa-k")
                gr.Markdown("### Sources")
                sources = gr.HTML(render_sources(None), elem_id="qa-sources")
                with gr.Accordion("Why these passages", open=False, elem_id="qa-why-acc"):
                    why = gr.HTML(render_why(None), elem_id="qa-why")
                with gr.Accordion("Add articles", open=False, elem_id="qa-upload-acc"):
                    files = gr.File(file_count="multiple", file_types=list(ALLOWED_SUFFIXES),
                                    label=f"{', '.join(ALLOWED_SUFFIXES)} — up to {MAX_UPLOAD_BYTES // 2**20} MB each",
                                    elem_id="qa-files")
                    add = gr.Button("Add to index", elem_id="qa-add")

        inputs = [box, chat, turns, outlets, date_from, date_to, k]
        outputs = [box, chat, turns, sources, why]
        for trigger in (box.submit, send.click):
            trigger(respond, inputs, outputs, api_visibility="private", concurrency_limit=4)
        chat.select(select, [turns], [sources, why], api_visibility="private")
        chat.like(like, [turns], None, api_visibility="private")
        clear_btn.click(clear, None, outputs, api_visibility="private")
        add.click(upload, [files], [files, status, outlets], api_visibility="private")
        gr.api(api_ask, api_name="ask", concurrency_limit=4)
    return demo


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
    app.launch(server_name=host, server_port=port, max_file_size=MAX_UPLOAD_BYTES, css=CSS,
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
