"""Issue 17 point 1, extractor half: one pathological article must not stall the answerer.

The short-answer extractors (``qa/answer/extract.py``) and the span reader (``qa/answer/spans.py``)
read at most ``MAX_SENTENCE_CHARS`` characters (and ``MAX_TOKENS`` tokens) of a sentence, so their
work per question is bounded however long a "sentence" an article holds. These tests check that
bound by what the regular expressions are actually handed, not by the clock (timing figures are
printed by running this file: ``python tests/reliability/test_slow_extract.py``).
"""
from __future__ import annotations

import random
import re
import string
import time

import pytest

from qa.answer import extract, spans
from qa.answer.extract import MAX_SENTENCE_CHARS
from qa.answer.question import analyze
from qa.answer.spans import MAX_TOKENS, SpanReader, tokenize


def _pathological() -> dict[str, str]:
    """The inputs of issue 17: 60 KB of "from ", 10,000 capitalised words, 256 KB of text, and a
    long run of names next to role words (``person_near`` used to compare every pair)."""
    rng = random.Random(0)
    words = ["Alpha", "Beta", "Gamma", "Delta", "Sam", "Altman", "Chief", "Executive"]
    return {
        "from x12000": "from " * 12000,
        "10000 capitalised words": " ".join(rng.choice(words) for _ in range(10000)),
        "256 KB text": " ".join("".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 9)))
                                for _ in range(45000))[:262144],
        "names and roles": "CEO Sam Altman and chief Bob Smith, " * 8000,
        "comma run": "Apple, " * 10000,
        "list cues": "including A, B and C " * 5000,
    }


QUESTIONS = [
    "Which investors gave money to Snorkel?", "Who is Microsoft's CEO?", "What is Mistral valued at?",
    "When did Microsoft first invest?", "How many employees does Acme have?", "What percentage did sales fall?",
    "Which companies invested in the round?", "Where is the stadium?", "What is the name of his album?",
    "Who verifies that the target was met?", "How long is the ban?", "How old is the singer?",
]


class _Recorder:
    """Wraps a compiled pattern, or the ``re`` module, and records the length of every string searched."""

    def __init__(self, inner, seen: list[int]) -> None:
        self._inner = inner
        self._seen = seen

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name in {"finditer", "search", "match", "fullmatch", "findall", "split", "sub"} and callable(attr):
            def call(*args, **kwargs):
                text = args[0] if name not in {"sub"} else args[1]
                if isinstance(text, str) and not isinstance(self._inner, re.Pattern) and len(args) > 1:
                    text = args[1] if name != "sub" else args[2]  # re.search(pattern, string)
                if isinstance(text, str):
                    self._seen.append(len(text))
                return attr(*args, **kwargs)
            return call
        return attr


@pytest.fixture
def recorded(monkeypatch) -> list[int]:
    """Every module-level pattern of extract.py and spans.py (and their ``re``) records what it reads."""
    seen: list[int] = []
    for mod in (extract, spans):
        for name, value in vars(mod).items():
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(mod, name, _Recorder(value, seen))
        monkeypatch.setattr(mod, "re", _Recorder(re, seen))
    return seen


@pytest.mark.parametrize("name", sorted(_pathological()))
def test_extractors_read_only_a_bounded_prefix(recorded, name):
    text = _pathological()[name]
    assert len(text) > 20 * MAX_SENTENCE_CHARS
    extract.find_amounts(text, counts=True)
    extract.find_dates(text)
    extract.find_names(text)
    extract.person_near(text, ("ceo", "chief"))
    extract.find_list(text)
    extract.noun_phrase(text, "clouds")
    extract.polarity(text)
    for q in QUESTIONS:
        SpanReader(analyze(q)).read(text)
    assert recorded, "the recorder saw no pattern being used"
    assert max(recorded) <= MAX_SENTENCE_CHARS, f"a pattern was run over {max(recorded)} characters"


def test_tokens_are_capped():
    toks = tokenize("Word " * 10000)
    assert len(toks) == MAX_TOKENS
    assert toks[-1].end <= MAX_SENTENCE_CHARS


def test_an_answer_past_the_cap_is_not_read_but_one_before_it_is():
    filler = "and then " * (MAX_SENTENCE_CHARS // 9 + 10)
    late = filler + "Acme Corp is valued at $7 billion."
    early = "Acme Corp is valued at $7 billion, " + filler
    qa_ = analyze("What is Acme Corp valued at?")
    assert SpanReader(qa_).read(late) is None
    found = SpanReader(qa_).read(early)
    assert found is not None and found.text == "$7 billion"
    assert early[found.start:found.end] == found.text
    assert [p.text for p in extract.find_amounts(late)] == []


def test_person_near_still_pairs_names_with_their_role_in_a_long_sentence():
    text = ("Analysts expect growth, said Tom Reed. " * 3) + "Acme chief executive Jane Doe said growth would continue."
    found = extract.person_near(text, ("executive", "chief"))
    assert found is not None and found.text == "Jane Doe"


def test_comma_run_is_read_without_a_backtracking_regex():
    """The comma-run fallback of find_list: still finds "A, B, C and D" and stops at the cap."""
    found = extract.find_list("The group met Alpha Corp, Beta Ltd, Gamma and Delta Inc on Monday")
    assert found is not None and found.value == ("Alpha Corp", "Beta Ltd", "Gamma", "Delta Inc")
    long = "Apple, " * 10000
    found = extract.find_list(long)
    assert found is None or found.end <= MAX_SENTENCE_CHARS


def main() -> None:  # pragma: no cover - a figure printer, not a test
    """Print how long the extractors and the span reader take on each pathological input."""
    for name, text in _pathological().items():
        t = time.perf_counter()
        extract.find_amounts(text, counts=True), extract.find_dates(text), extract.find_names(text)
        extract.person_near(text, ("ceo",)), extract.find_list(text), extract.noun_phrase(text, "clouds")
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        for q in QUESTIONS:
            SpanReader(analyze(q)).read(text)
        t2 = time.perf_counter() - t
        print(f"{name:26s} {len(text):7d} chars  extractors {t1 * 1000:7.1f} ms  "
              f"span reader, {len(QUESTIONS)} questions {t2 * 1000:7.1f} ms")


if __name__ == "__main__":  # pragma: no cover
    main()

