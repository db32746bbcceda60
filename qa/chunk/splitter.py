"""Cut an article into passages with langchain's recursive splitter, measured in model tokens.

The separators go from paragraph to line to sentence end before falling back to words, so a chunk
holds whole sentences unless a single sentence is longer than the token budget. Offsets are
verified against the article text, so ``text[start:end]`` is exactly the chunk.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


#: Paragraph, line, sentence end (".", "!" or "?", optionally closed by a quote or bracket, then
#: space), clause, word, character.
SEPARATORS = [r"\n\n", r"\n", r"(?<=[.!?])\s+", r"(?<=[.!?][\"'”’)\]])\s+", r";\s+", r",\s+", r"\s+", ""]


#: Chunks kept per article (``max_chunks``): about 1 MB of prose, far past any news or
#: encyclopedia article. Text without separators is cut character by character into chunks of
#: ~100 characters, so without a cap 5 MB of it made 50,000 chunks and a build of many minutes.
MAX_CHUNKS = 2500
#: An article is split in blocks of at most this many characters, cut at a paragraph, line or
#: space where there is one, so that tokenizing and splitting stop once ``max_chunks`` are made.
BLOCK_CHARS = 50_000


@dataclass(frozen=True)
class ChunkSpan:
    start: int
    end: int


def _blocks(text: str, size: int):
    """``(start, end)`` of consecutive blocks covering ``text``, each at most ``size`` characters,
    ending after a paragraph break, line break or space in its second half when there is one."""
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + size)
        if end < n:
            for sep in ("\n\n", "\n", " "):
                cut = text.rfind(sep, start + size // 2, end)
                if cut > 0:
                    end = cut + len(sep)
                    break
        yield start, end
        start = end


class TokenChunker:
    """Split text into chunks of at most ``chunk_tokens`` model tokens.

    Args:
        tokenizer: A Hugging Face tokenizer (the embedding model's own, so the budget is exact).
        chunk_tokens: Maximum tokens per chunk (default 128).
        overlap_tokens: Tokens shared between consecutive chunks (default 24).
        max_chunks: Chunks kept per article (default :data:`MAX_CHUNKS`, 2,500); the text after
            them is not chunked, and :attr:`truncated` says so after :meth:`run`.
    """

    def __init__(self, tokenizer, chunk_tokens: int = 128, overlap_tokens: int = 24,
                 max_chunks: int = MAX_CHUNKS) -> None:
        self.chunk_tokens = chunk_tokens
        self.max_chunks = max_chunks
        #: Whether the last :meth:`run` stopped at ``max_chunks`` before the end of its text.
        self.truncated = False
        if overlap_tokens >= chunk_tokens:
            raise ValueError(f"overlap_tokens ({overlap_tokens}) must be below chunk_tokens ({chunk_tokens})")
        # The Rust tokenizer directly: the Python wrapper's per-call overhead dominates on short pieces.
        self._encode = getattr(tokenizer, "backend_tokenizer", None)
        if self._encode is not None and (self._encode.truncation or self._encode.padding):
            # A loaded model's tokenizer keeps the truncation (max_seq_length) and padding of its last
            # encode call: count with a copy that has neither, or long pieces are under-counted.
            from tokenizers import Tokenizer

            self._encode = Tokenizer.from_str(self._encode.to_str())
            self._encode.no_truncation()
            self._encode.no_padding()
        self._tokenizer = tokenizer
        # Counting a piece by the article's tokens is exact only where words are tokenized one by
        # one and no token carries the space before it: BERT's pre-tokenizer with WordPiece.
        self._word_level = self._encode is not None and (
            type(getattr(self._encode, "pre_tokenizer", None)).__name__ == "BertPreTokenizer"
            and type(getattr(self._encode, "model", None)).__name__ == "WordPiece")
        self._memo: dict[str, int] = {}
        self._starts = None
        # Imported here: langchain's import (~0.8 s) is off the path of `qa ask`, which never splits.
        from langchain_text_splitters import RecursiveCharacterTextSplitter

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

    def _count(self, text: str) -> int:
        if self._encode is not None:
            return len(self._encode.encode(text, add_special_tokens=False).ids)
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prepare(self, text: str) -> None:
        """Tokenize the whole article once, so that pieces can be counted without re-tokenizing."""
        self._text, self._cursor, self._memo = text, 0, {}
        self._starts = self._ends = self._words = None
        if self._word_level:
            enc = self._encode.encode(text, add_special_tokens=False)
            self._starts = [a for a, _ in enc.offsets]
            self._ends = [b for _, b in enc.offsets]
            self._words = enc.word_ids

    def _length(self, piece: str) -> int:
        """Exact token count of ``piece``, a substring of the article being split.

        langchain asks for the length of the same pieces several times (while splitting, merging
        and sliding the overlap), and tokenizing each piece anew was most of the chunking time. The
        article's own tokens are counted instead when the piece starts and ends on word boundaries:
        BERT-style tokenizers split text into words first and tokenize each word on its own, so the
        piece then has exactly the tokens of its span. Any other piece is tokenized directly.
        """
        n = self._memo.get(piece)
        if n is None:
            n = self._span_count(piece)
            if n is None:
                n = self._count(piece)
            self._memo[piece] = n
        return n

    def _span_count(self, piece: str) -> int | None:
        if self._starts is None or not piece:
            return None
        # Pieces are asked for in text order (a long piece, then its parts), so search from the
        # start of the last one found.
        s = self._text.find(piece, self._cursor)
        if s < 0:
            s = self._text.find(piece)
            if s < 0:
                return None
        self._cursor = s
        e = s + len(piece)
        starts, ends, words = self._starts, self._ends, self._words
        a = bisect.bisect_left(starts, s)  # first token starting in the piece
        b = bisect.bisect_left(starts, e)  # first token starting after it
        if a == b or ends[b - 1] > e:
            return None  # no token inside (count directly), or the last one runs past the end
        if a > 0 and (ends[a - 1] > s or words[a - 1] == words[a]):
            return None  # a token or a word runs across the piece's start
        if b < len(starts) and words[b - 1] == words[b]:
            return None  # a word runs across the piece's end
        return b - a

    def run(self, text: str) -> list[ChunkSpan]:
        """Return the chunks of ``text`` as exact ``(start, end)`` spans, in order (at most
        ``max_chunks``; :attr:`truncated` tells whether text was left over)."""
        spans: list[ChunkSpan] = []
        self.truncated = False
        for b_start, b_end in _blocks(text, BLOCK_CHARS):
            if len(spans) >= self.max_chunks:
                self.truncated = bool(text[b_start:].strip())
                break
            block = text[b_start:b_end]
            spans.extend(ChunkSpan(b_start + s, b_start + e) for s, e in self._run_block(block))
        if len(spans) > self.max_chunks:
            self.truncated = True
            del spans[self.max_chunks:]
        return spans

    def _run_block(self, text: str) -> list[tuple[int, int]]:
        stripped = text.strip()
        if not stripped:
            return []
        self._prepare(text)
        # Short text (most articles of a JSONL feed) is one chunk: no need to split it and merge it back.
        if self._length(stripped) <= self.chunk_tokens:
            start = len(text) - len(text.lstrip())
            return [(start, start + len(stripped))]
        spans: list[tuple[int, int]] = []
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
            spans.append((start, start + len(piece)))
            prev_start, prev_end = start, start + len(piece)
        return spans


def whitespace_collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
