"""Typed records passed between pipeline stages.

Every offset is a character offset into the *cleaned* text of an article, so that
``article.text[start:end]`` is exactly the span a record points to.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` into an article's cleaned text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start


@dataclass
class Article:
    """One cleaned article, as indexed.

    Attributes:
        doc_id: Stable id: the path relative to the corpus root without extension, or the JSONL ``id``.
        title: Headline, or the opening words of the article when it has none.
        text: The cleaned article text; all offsets point into it.
        date: ``YYYY-MM-DD`` when known, else None.
        source: The outlet (publication) when known, else None.
        url: Where the article came from, when known.
        path: The file it was read from.
        content_hash: Hash of ``text``; unchanged hash means unchanged article for incremental builds.
    """

    doc_id: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    path: str | None = None
    content_hash: str = ""


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article. ``row`` is its position in the index's sentence table."""

    row: int
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a run of whole sentences, bounded by the model's token limit.

    Attributes:
        chunk_id: ``"<doc_id>#<n>"``.
        doc_id: The article it belongs to.
        start: Start offset into the article text.
        end: End offset into the article text.
        sent_lo: First sentence row (into the sentence table) overlapping the chunk.
        sent_hi: One past the last sentence row overlapping the chunk.
    """

    chunk_id: str
    doc_id: str
    start: int
    end: int
    sent_lo: int
    sent_hi: int


@dataclass
class Passage:
    """A retrieved chunk with its provenance: where each retriever ranked it and the fused score."""

    rank: int
    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    dense_score: float | None = None
    bm25_rank: int | None = None
    bm25_score: float | None = None
    title: str = ""
    source: str | None = None
    date: str | None = None


@dataclass
class Citation:
    """A cited sentence. ``quote == article.text[start:end]`` always holds."""

    n: int
    doc_id: str
    title: str
    source: str | None
    date: str | None
    quote: str
    start: int
    end: int


@dataclass
class Answer:
    """The result of answering one question; serialised by :mod:`qa.present.serialize`."""

    id: str
    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timing_ms: dict[str, float] = field(default_factory=dict)
    query: str | None = None
    error: str | None = None
    support: float | None = None
    notes: list[str] = field(default_factory=list)
    #: The short phrase that leads the answer ("Sam Altman", "$13 billion"), read off the first cited
    #: sentence; None when the answer is a quoted sentence, a list of claims, or an abstention.
    short_answer: str | None = None
    #: The day the question was asked on (``YYYY-MM-DD``): nothing dated after it was used; None: no bound.
    as_of: str | None = None
    #: The time window the question named ("this week"), as :meth:`qa.retrieve.timeframe.TimeFrame.to_dict`
    #: gives it (widened when the window as asked held nothing), or None.
    time_window: dict | None = None
