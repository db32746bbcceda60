"""Cut an article into passages with langchain's recursive splitter, measured in model tokens.

The separators go from paragraph to line to sentence end before falling back to words, so a chunk
holds whole sentences unless a single sentence is longer than the token budget. Offsets are
verified against the article text, so ``text[start:end]`` is exactly the chunk.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

#: Paragraph, line, sentence end (".", "!" or "?", optionally closed by a quote or bracket, then
#: space), clause, word, character.
SEPARATORS = [r"\n\n", r"\n", r"(?<=[.!?])\s+", r"(?<=[.!?][\"'”’)\]])\s+", r";\s+", r",\s+", r"\s+", ""]


@dataclass(frozen=True)
class ChunkSpan:
    start: int
    end: int


class TokenChunker:
    """Split text into chunks of at most ``chunk_tokens`` model tokens.

    Args:
        tokenizer: A Hugging Face tokenizer (the embedding model's own, so the budget is exact).
        chunk_tokens: Maximum tokens per chunk (default 128).
        overlap_tokens: Tokens shared between consecutive chunks (default 24).
    """

    def __init__(self, tokenizer, chunk_tokens: int = 128, overlap_tokens: int = 24) -> None:
        if overlap_tokens >= chunk_tokens:
            raise ValueError(f"overlap_tokens ({overlap_tokens}) must be below chunk_tokens ({chunk_tokens})")
        # The Rust tokenizer directly: the Python wrapper's per-call overhead dominates on short pieces.
        self._encode = getattr(tokenizer, "backend_tokenizer", None)
        self._tokenizer = tokenizer
        self._splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=chunk_tokens,
            chunk_overlap=overlap_tokens,
            length_function=self._length,
            add_start_index=True,
            strip_whitespace=True,
        )

    def _length(self, text: str) -> int:
        if self._encode is not None:
            return len(self._encode.encode(text, add_special_tokens=False).ids)
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def run(self, text: str) -> list[ChunkSpan]:
        """Return the chunks of ``text`` as exact ``(start, end)`` spans, in order."""
        spans: list[ChunkSpan] = []
        prev_start, prev_end = -1, 0
        for doc in self._splitter.create_documents([text]):
            piece = doc.page_content
            # Chunks come in order and leave no gap: each starts after the previous start and no later
            # than the previous end (plus white space). The latest match in that window is the true
            # one even in repetitive text, where langchain's own start_index can be off.
            limit = prev_end
            while limit < len(text) and text[limit].isspace():
                limit += 1
            start = text.rfind(piece, prev_start + 1, limit + len(piece))
            if start < 0:
                start = text.find(piece, prev_start + 1)
            if start < 0:  # cannot happen for a splitter that only cuts, but never emit a wrong span
                continue
            spans.append(ChunkSpan(start, start + len(piece)))
            prev_start, prev_end = start, start + len(piece)
        return spans


def whitespace_collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
