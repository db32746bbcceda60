"""Bytes of a text file to text, and text to records, the same way for articles and question files.

Two traps this module exists to avoid:

- ``str.splitlines()`` breaks on U+2028, U+2029, U+0085, form feed, vertical tab and the file/group/
  record separators as well as on line ends. Those characters occur inside real JSON strings and
  pasted questions, so splitting on them drops records and shifts every later line number. Records
  are split on ``\\n``, ``\\r\\n`` and ``\\r`` only.
- A byte-order mark. Excel writes UTF-8 CSV with one, Windows tools write UTF-16 with one; left in
  place it becomes part of the first record (``'\\ufeffquestion'``), and UTF-16's NUL bytes look
  binary.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

#: Longest BOM first: UTF-32-LE's begins with UTF-16-LE's.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_LINE_END = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from bytes.

    Attributes:
        text: The text, without a byte-order mark.
        encoding: The codec used (``utf-8``, ``utf-16-le`` …).
        replaced: Whether undecodable bytes were replaced with U+FFFD.
        bom: Whether the bytes began with a byte-order mark.
    """

    text: str
    encoding: str
    replaced: bool = False
    bom: bool = False


def sniff_bom(data: bytes) -> tuple[str | None, int]:
    """The encoding a byte-order mark at the start of ``data`` names, and the mark's length."""
    for mark, enc in _BOMS:
        if data.startswith(mark):
            return enc, len(mark)
    return None, 0


def decode_strict(data: bytes) -> DecodedText | None:
    """Decode ``data`` as its BOM says, else as UTF-8; None when the bytes do not decode."""
    enc, skip = sniff_bom(data)
    try:
        return DecodedText(data[skip:].decode(enc or "utf-8"), enc or "utf-8", bom=bool(skip))
    except UnicodeDecodeError:
        return None


def decode_lenient(data: bytes) -> DecodedText:
    """Decode ``data`` as its BOM says, else as UTF-8, replacing undecodable bytes with U+FFFD."""
    strict = decode_strict(data)
    if strict is not None:
        return strict
    enc, skip = sniff_bom(data)
    return DecodedText(data[skip:].decode(enc or "utf-8", errors="replace"), enc or "utf-8",
                       replaced=True, bom=bool(skip))


def split_records(text: str) -> list[str]:
    """``text`` cut at line ends (``\\n``, ``\\r\\n``, ``\\r``) only; a final line end adds no record.

    Unlike ``str.splitlines()``, U+2028, U+2029, U+0085, form feeds, vertical tabs and the
    information separators stay inside their record.
    """
    if not text:
        return []
    parts = _LINE_END.split(text)
    if parts and parts[-1] == "":
        parts.pop()
    return parts
