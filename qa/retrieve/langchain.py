"""qa's hybrid retriever as a LangChain ``BaseRetriever`` (langchain-core only, no pickled docstore)."""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa.retrieve.hybrid import Filters, HybridRetriever


class QARetriever(BaseRetriever):
    """Use qa's retrieval in any LangChain chain: ``QARetriever(retriever=hybrid).invoke("question")``.

    Each ``Document`` carries the passage text and, in ``metadata``, its ``doc_id``, ``chunk_id``,
    offsets, title, outlet, date and ranking provenance.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int = 10
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hybrid: HybridRetriever = self.retriever
        result = hybrid.run(query, k=self.k, filters=self.filters)
        return [
            Document(
                page_content=p.text,
                id=p.chunk_id,
                metadata={
                    "rank": p.rank, "doc_id": p.doc_id, "chunk_id": p.chunk_id, "start": p.start, "end": p.end,
                    "title": p.title, "source": p.source, "date": p.date, "score": p.score,
                    "dense_rank": p.dense_rank, "dense_score": p.dense_score,
                    "bm25_rank": p.bm25_rank, "bm25_score": p.bm25_score,
                },
            )
            for p in result.passages
        ]
