"""The whole pipeline behind one object: open (or build) an index, then answer questions.

The CLI, the chat UI, the evaluator and the benchmarks all go through :class:`QAService`, so they
answer identically.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.answer.answerer import AnswerConfig, Answerer
from qa.answer.question import Turn, resolve_followup
from qa.config import DEFAULT_CORPUS, DEFAULT_INDEX_DIR, ChunkParams, Precision, SentenceVectors, StoreURI, resolve_store
from qa.embed.model import Embedder
from qa.embed.onnx import ensure_query_encoder
from qa.errors import IndexError_, StoreNotLoaded
from qa.index.builder import BuildReport, IndexBuilder
from qa.index.store import IndexStore, read_manifest
from qa.retrieve.hybrid import Filters, HybridRetriever, RetrievalMode
from qa.retrieve.timeframe import TimeFrame, find_timeframe, implicit_frame, parse_as_of, searched_text, short_date
from qa.types import Answer

#: Longest question that is embedded and searched; longer input is cut (and the answer says so).
MAX_QUESTION_CHARS = 2000
UPLOADS = "uploads"


def safe_text(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes from a terminal or file) made U+FFFD.

    Tokenizers and UTF-8 output both fail on them, so they must not get past the door.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # bytes smuggled in by surrogateescape (argv, file names): decode them for real
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def clean_question(text: str) -> str:
    """The text that is searched for a question: control and invisible format characters
    removed, white space collapsed, cut to :data:`MAX_QUESTION_CHARS`."""
    text = safe_text(text)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    return " ".join(text.split())[:MAX_QUESTION_CHARS]


@dataclass
class Question:
    """One question to answer.

    Attributes:
        text: The question as asked.
        id: The caller's id for it (batch records, eval questions).
        history: Earlier turns of the same conversation, oldest first: question strings, or
            :class:`~qa.answer.question.Turn` records (question, the query searched, the name the
            answer led with) so that a follow-up is resolved against what was really asked and
            answered ("What did he say?" after "Sam Altman").
        as_of: ``YYYY-MM-DD``: the day the question is asked on. Articles dated after it are never
            used, and relative time in the question ("this week", "latest") is read against it.
            None: no date bound.
    """

    text: str
    id: str = ""
    history: tuple[str | Turn, ...] = ()
    as_of: str | None = None


def check_model(index_dir: Path, embedder: Embedder) -> None:
    """Refuse an index built with a different model than ``embedder``'s."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return
    built = manifest.get("model", {})
    if built.get("model_id") != embedder.info.model_id or built.get("dim") != embedder.info.dim:
        raise IndexError_(
            f"the index in {index_dir} was built with model {built.get('model_id')} (dim {built.get('dim')}), "
            f"but this run uses {embedder.info.model_id} (dim {embedder.info.dim}). Use the same --model, "
            f"or rebuild the index with this model: `qa index --rebuild --model ... --index-dir {index_dir}`"
        )


class QAService:
    """Open the index in ``index_dir`` (building it from ``corpus`` first if there is none) and answer.

    Args:
        index_dir: Where the index lives (default ``index/``).
        corpus: Article folders or files (default ``seeds/``); used when building.
        model: A local sentence-transformers model folder; None for the model the index was built
            with, or the default model when there is no index yet.
        progress: Show progress bars while building (default True).
        build: Build the index when it is missing, and load the folder's passages into a ``store`` that
            has none yet (default True).
        mode: Retrieval mode: ``hybrid`` (default), ``dense`` or ``bm25``.
        answer_config: Answering knobs (default: the calibrated ones).
        chunk_params: Chunking parameters for builds (default :class:`~qa.config.ChunkParams`).
        embedder: An already loaded :class:`~qa.embed.model.Embedder` to share (default: load ``model``).
        precision: The model's number format when ``embedder`` is not given: ``auto`` (default),
            ``float32`` or ``bfloat16`` (see :class:`~qa.config.Precision`).
        store: Where passages are searched: ``milvus-lite:PATH``, ``milvus://HOST:PORT``, or None
            for ``$QA_STORE`` / the config file / the index folder's FAISS (:func:`~qa.config.resolve_store`).
    """

    def __init__(self, index_dir: Path | str = DEFAULT_INDEX_DIR, corpus: Iterable[Path | str] = (DEFAULT_CORPUS,),
                 model: str | Path | None = None, progress: bool = True, build: bool = True,
                 mode: RetrievalMode | str = RetrievalMode.HYBRID, answer_config: AnswerConfig | None = None,
                 chunk_params: ChunkParams | None = None, embedder: Embedder | None = None,
                 precision: Precision | str = Precision.AUTO, store: StoreURI | str | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.store_uri = store if isinstance(store, StoreURI) else resolve_store(store)
        self.corpus = [Path(p) for p in corpus]
        self.progress = progress
        self.chunk_params = chunk_params
        manifest = read_manifest(self.index_dir)
        if model is None and manifest is not None:
            recorded = manifest.get("model", {}).get("path")
            if recorded and Path(recorded).is_dir():
                model = recorded
        self.embedder = embedder if embedder is not None else Embedder(model, precision=precision)
        self.last_build: BuildReport | None = None
        if manifest is None:
            if not build:
                raise IndexError_(f"no index in {self.index_dir}; build one with `qa index`")
            self.last_build = self.builder().run(self.corpus_paths(), self.index_dir)
        check_model(self.index_dir, self.embedder)
        # Once: updates keep the model, so the export (and its loaded session) stays valid.
        self.embedder.use_query_encoder(ensure_query_encoder(self.index_dir, self.embedder))
        self.mode = RetrievalMode.parse(mode)
        self.answer_config = answer_config
        try:
            self._load()
        except StoreNotLoaded:
            if not build:
                raise
            # A folder index never loaded into this --store: load it (nothing is embedded again).
            self.last_build = self.builder().run(self.corpus_paths(), self.index_dir)
            self._load()

    def builder(self) -> IndexBuilder:
        """A builder with the settings the index was built with, so an update re-embeds nothing old."""
        manifest = read_manifest(self.index_dir) or {}
        settings = manifest.get("settings", {})
        return IndexBuilder(self.embedder, self.chunk_params, progress=self.progress,
                            sentence_vectors=settings.get("sentence_vectors", SentenceVectors.POOLED),
                            follow_links=bool(manifest.get("follow_links", False)), store=self.store_uri)

    def corpus_paths(self) -> list[Path]:
        """The corpus plus the articles uploaded through the UI."""
        up = self.index_dir / UPLOADS
        return self.corpus + ([up] if up.is_dir() and any(up.iterdir()) else [])

    def _load(self) -> None:
        self.store = IndexStore.open(self.index_dir)
        backend = None
        if self.store_uri.kind != "faiss":
            from qa.index.milvus import open_backend

            lexical = self.store.data.lexical
            backend = open_backend(self.store_uri, self.store, terms_of=lambda q: " ".join(lexical.tokenize(q)))
        self.retriever = HybridRetriever(self.store, self.embedder, mode=self.mode, backend=backend)
        self.answerer = Answerer(self.store, self.answer_config)

    def reload(self) -> None:
        """Re-open the index from disk, keeping the loaded model: for callers that build the index
        beside the service (the chat page builds in the background and only swaps the new index in
        under its lock), where :meth:`update` would build again."""
        self._load()

    def update(self, rebuild: bool = False) -> BuildReport:
        """Bring the index up to date with the corpus (incrementally) and reload it."""
        report = self.builder().run(self.corpus_paths(), self.index_dir, rebuild=rebuild)
        self.last_build = report
        if not report.noop:
            self._load()
        return report

    def add_files(self, files: Iterable[Path], names: Iterable[str] | None = None) -> BuildReport:
        """Copy article files into ``<index_dir>/uploads/`` and index them incrementally."""
        up = self.index_dir / UPLOADS
        up.mkdir(parents=True, exist_ok=True)
        names = list(names) if names is not None else None
        for i, f in enumerate(files):
            name = Path(names[i] if names else Path(f).name).name
            shutil.copyfile(f, up / name)
        return self.update()

    @staticmethod
    def _query(q: Question) -> str:
        """The text actually searched: the cleaned question, with a follow-up's subject borrowed
        from the previous turn (see :func:`qa.answer.question.resolve_followup`)."""
        query = clean_question(q.text)
        if query and q.history:
            history = tuple(clean_question(h) if isinstance(h, str) else h for h in q.history)
            query = clean_question(resolve_followup(query, history))
        return query

    @staticmethod
    def plan(q: Question) -> SearchPlan:
        """What is searched for ``q``: its text (follow-up resolved, time expression left out when
        it only says *when*), its as-of date and the time frame its relative time names."""
        query = QAService._query(q)
        as_of = parse_as_of(q.as_of)
        frame = find_timeframe(query, as_of) if query else None
        searched = searched_text(query, frame)
        if frame is None and query:
            frame = implicit_frame(as_of)
        return SearchPlan(query=searched, as_of=as_of, frame=frame)

    def ask(self, question: str | Question, k: int = 10, filters: Filters | None = None,
            mode: RetrievalMode | str | None = None, read: int | None = None,
            as_of: str | dt.date | None = None) -> Answer:
        """Answer one question.

        Args:
            question: The question, or a :class:`Question` (with history and as-of date).
            k: Passages returned (at least 10 are retrieved and returned for provenance).
            filters: Outlet / date-range bounds.
            mode: Retrieval mode (default: the service's).
            read: Passages the answerer reads (default: all retrieved); ``read=k`` makes the answer
                cite only what the first ``k`` passages hold, and returns only those.
            as_of: The day the question is asked on (``YYYY-MM-DD``, ``today``, or a date);
                overrides ``question.as_of``. Articles dated after it are never used.
        """
        q = question if isinstance(question, Question) else Question(question)
        if as_of is not None:
            q = dataclasses.replace(q, as_of=as_of)
        return self._ask(q, self.plan(q), k, filters, mode, read=read)

    def _ask(self, q: Question, plan: SearchPlan, k: int, filters: Filters | None, mode=None,
             query_vector=None, read: int | None = None) -> Answer:
        t0 = time.perf_counter()
        text = safe_text(q.text)
        query = plan.query
        if not query:
            return Answer(id=q.id, question=text, answer="Please ask a question.", abstained=True,
                          error="empty question", timing_ms={"retrieve": 0.0, "answer": 0.0, "total": 0.0},
                          as_of=plan.as_of)
        if plan.as_of:
            base = filters or Filters()
            bound = min(plan.as_of, base.as_of) if base.as_of else plan.as_of
            filters = dataclasses.replace(base, as_of=bound)
        t = time.perf_counter()
        res = self.retriever.run(query, k=max(k, 10), filters=filters, mode=mode, query_vector=query_vector,
                                 prefer=plan.frame)
        t_ret = (time.perf_counter() - t) * 1000
        if read is not None:
            res.passages = res.passages[:max(1, read)]
        t = time.perf_counter()
        qvec = res.query_vector
        if qvec is None and res.passages:  # bm25-only retrieval: the answerer still compares meanings
            qvec = self.embedder.encode_query(query)
        # The answerer sees the cleaned, length-capped question (it may quote it); the record keeps the original.
        ans = self.answerer.run(clean_question(text), res.passages, qvec, qid=q.id, query=query)
        ans.question = text
        ans.notes.extend(n for n in res.notes if n not in ans.notes)
        t_ans = (time.perf_counter() - t) * 1000
        if len(" ".join(text.split())) > MAX_QUESTION_CHARS:
            ans.notes.append(f"the question is {len(text):,} characters long; only its first "
                             f"{MAX_QUESTION_CHARS:,} were searched")
        ans.as_of = plan.as_of
        if plan.frame is not None:
            say_window(ans, plan.frame, res.frame, self.store)
        ans.timing_ms = {"retrieve": t_ret, "answer": t_ans, "total": (time.perf_counter() - t0) * 1000,
                         **{f"retrieve_{k_}": v for k_, v in res.timing_ms.items()}}
        return ans

    def ask_many(self, questions: Iterable[Question], k: int = 10, filters: Filters | None = None,
                 batch_size: int = 64) -> Iterator[Answer]:
        """Answer questions in order, embedding them in batches; yields as each is answered."""
        batch: list[Question] = []
        for q in questions:
            batch.append(q)
            if len(batch) >= batch_size:
                yield from self._answer_batch(batch, k, filters)
                batch = []
        if batch:
            yield from self._answer_batch(batch, k, filters)

    def _answer_batch(self, batch: list[Question], k: int, filters: Filters | None) -> Iterator[Answer]:
        plans = [self.plan(q) for q in batch]
        nonempty = [i for i, p in enumerate(plans) if p.query]
        vecs = self.retriever.embed([plans[i].query for i in nonempty]) if nonempty else []
        vec_of = {i: vecs[j] for j, i in enumerate(nonempty)}
        for i, q in enumerate(batch):
            yield self._ask(q, plans[i], k, filters, query_vector=vec_of.get(i))


@dataclass(frozen=True)
class SearchPlan:
    """What one question searches: the text, the as-of bound and the favoured time frame."""

    query: str
    as_of: str | None = None
    frame: TimeFrame | None = None


def say_window(ans: Answer, asked: TimeFrame, used: TimeFrame | None, store: IndexStore) -> None:
    """Record on ``ans`` which time window it was answered from, and lead the answer with it
    ("In the week to 8 Jan 2026: …"), so a reader knows how "this week" was read.

    ``used`` is the window retrieval favoured (``asked``, or a widening of it), None when no window
    held anything about the question. The lead claims the window only when the first cited
    article lies inside it.
    """
    frame = used or asked
    if asked.implicit:  # the question named no time: recent reports were favoured a little, which is
        return          # ranking, not a window the reader asked for, so nothing is said or claimed
    ans.time_window = {**frame.to_dict(), "asked": asked.to_dict()["label"], "found": used is not None}
    if used is None:
        ans.notes.append(f"time: nothing {asked.label()} speaks to the question; all articles up to "
                         f"{asked.as_of} were searched")
    elif used.step:
        ans.notes.append(f"time: nothing {asked.label()} speaks to the question; widened to {used.label()}")
    else:
        ans.notes.append(f"time: favoured articles {used.label()}")
    if ans.abstained or not ans.citations or not ans.answer:
        return
    first = store.article(ans.citations[0].doc_id)
    inside = next((f for f in (used, asked) if f is not None and f.contains(first.date)), None)
    if inside is not None:
        lead = inside.label()
        dated = ans.answer.startswith("As of ")  # "As of 7 January 2026, CNN reports: …"
        body = ans.answer[len("As of "):] if dated else ans.answer
        ans.answer = f"{lead[:1].upper()}{lead[1:]}{' — as of ' if dated else ': '}{body}"
    else:
        when = f"a report of {short_date(dt.date.fromisoformat(first.date))}" if first.date else "an undated report"
        ans.answer = f"Nothing {asked.label()} answers this; from {when}: {ans.answer}"
