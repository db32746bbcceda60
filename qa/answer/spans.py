"""Read the short answer to a question off one sentence: typed candidate spans, scored by how well
their type fits the question and how closely they are tied to the question's words in the sentence.

A sentence offers candidates of several kinds: people, organisations, places and other names
(capitalised runs, with role words such as "Chief Executive" and nationality words peeled off),
amounts with currency and scale, percentages, counts with what they count, dates, years and
durations, lists, quoted titles, the title that follows the noun the question asks about ("the
album Final Straw"), and noun phrases in the place the question leaves open (the subject of the
question's verb, the object after its last word). A candidate never repeats the question's own
words: those are trimmed off its ends, and a candidate made only of them is dropped.

Each candidate is scored by ``fit × (base + tie)``: ``fit`` is how well its kind answers the
question's form (a person for "who", money for "how much"); ``tie`` sums the question words found
near it in the sentence, each weighted by closeness (the name right after "Microsoft CEO", the
amount right after "valued at"). When nothing fits well enough the reader returns None, and the
answer quotes the sentence without a lead phrase rather than lead with a wrong one.

The work per sentence is linear in its length and bounded: at most
:data:`~qa.answer.extract.MAX_SENTENCE_CHARS` characters and :data:`MAX_TOKENS` tokens are read,
and every question word is looked for in a fixed window around each candidate.

Usage::

    reader = SpanReader(analyze("Who is Microsoft's CEO?"), stem)
    reader.read("... and Microsoft CEO Satya Nadella said ...")   # Phrase('Satya Nadella', ...)
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.answer.extract import MAX_SENTENCE_CHARS, Phrase, find_amounts, find_dates, find_list, noun_phrase
from qa.answer.question import QUESTION_WORDS, AnswerType, QuestionAnalysis

#: Tokens read per sentence.
MAX_TOKENS = 400
#: Question words further than this many tokens from a candidate do not tie it to the question.
WINDOW = 12
#: The best candidate must score at least this much to become the short answer.
MIN_SCORE = 0.3

_TOKEN = re.compile(r"[\w€$£¥](?:[\w&%-]|['’](?![sS]\b)|\.(?=\w)|(?<=\d),(?=\d{3}(?!\d)))*|['’][sS]\b|[^\w\s]")

#: Capitalised words that start sentences or clauses without being names.
_FUNCTION = frozenset("""a an the and or but if in on at of for to by with from as it its this that these those he she
    they we i you his her their our my your there here when where while after before although though however
    meanwhile also both all some many most much more one each every other such no not only even still just yet so
    then now since until despite during under over about according earlier later last next what who which why how
    is was are were has have had will would can could should may might must do does did be been being any another
    several few first second third new old former ex among against between through within without into onto upon
    what whatever whoever instead nor either neither thus hence indeed perhaps today tomorrow yesterday tonight
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december""".split())
#: Titles kept as part of a person's name ("Sir Alan Budd", "Dr Rowan Williams").
_TITLES = frozenset("sir dame lord lady dr mr mrs ms miss prof professor rev st".split())
#: Capitalised role words peeled off the front of a name when a name of 2+ words remains.
_ROLES = frozenset("""chief executive executives president vice prime minister deputy secretary chancellor chairman
    chairwoman chair director manager coach captain judge referee governor commissioner detective inspector constable
    sergeant officer spokesman spokeswoman senator congressman mayor leader councillor ambassador general colonel
    major admiral analyst economist editor reporter correspondent singer actor actress star striker midfielder
    defender keeper goalkeeper winger prop skipper boss founder owner host presenter dj veteran shadow home foreign
    health education culture treasury labour tory conservative liberal democrat democratic republican mp mep pope
    rt hon archbishop bishop controller head vice-president vice-chairman md ceo cfo coo cto chief-executive
    striker manager full-back fly-half centre forward champion olympic world european""".split())
#: Nationality and region adjectives peeled off the front of a name ("British hurdler Sarah Claxton").
_DEMONYMS = frozenset("""british english scottish welsh irish northern american us uk french german italian spanish
    russian chinese japanese indian australian kenyan swedish dutch belgian brazilian greek turkish swiss european
    african asian argentine argentinian polish portuguese israeli palestinian iraqi iranian canadian mexican
    nigerian finnish danish norwegian slovenian hungarian czech korean pakistani angolan austrian croatian serbian
    romanian bulgarian ukrainian egyptian saudi syrian lebanese afghan bangladeshi thai vietnamese indonesian
    malaysian filipino colombian chilean peruvian venezuelan cuban jamaican zimbabwean ethiopian ghanaian
    moroccan algerian tunisian libyan sudanese somali icelandic estonian latvian lithuanian slovak georgian
    armenian belarusian anglo-swedish anglo-dutch anglo-american""".split())
_ORG_WORDS = frozenset("""inc corp corporation ltd plc group company co association agency authority commission committee
    council party union university college school institute foundation trust bank police office department ministry
    organisation organization federation league club society board court service services network airlines airways
    motors media news times post telegraph guardian journal alliance fund exchange securities holdings industries
    systems technologies labs laboratory laboratories records studios pictures entertainment communications press
    reserve army navy church assembly parliament congress senate government hospital museum brothers partners
    international bbc itv""".split())
_EVENT_WORDS = frozenset("""championships championship cup games olympics open awards award prize trophy marathon festival
    tournament series grand prix conference summit show final finals trials""".split())
_PLACE_WORDS = frozenset("""street road square bridge river lake mountains island islands bay beach city county province
    state valley castle palace tower hall centre center stadium park theatre theater airport station arena
    district region""".split())
#: Countries and other places that need no "in" before them to be read as places.
_PLACES = frozenset("""afghanistan albania algeria argentina armenia australia austria bangladesh belarus belgium bolivia
    bosnia brazil britain bulgaria cambodia canada chile china colombia croatia cuba cyprus denmark egypt england
    estonia ethiopia europe finland france georgia germany ghana greece holland hungary iceland india indonesia
    iran iraq ireland israel italy jamaica japan jordan kenya korea kuwait latvia lebanon libya lithuania
    luxembourg madagascar malaysia mexico morocco nepal netherlands nigeria norway pakistan peru philippines poland
    portugal qatar romania russia scotland serbia singapore slovakia slovenia somalia spain sudan sweden
    switzerland syria taiwan thailand tunisia turkey uganda ukraine uruguay venezuela vietnam wales yemen zambia
    zimbabwe africa asia america antarctica oceania london paris berlin madrid rome moscow beijing tokyo
    washington""".split())
#: Buildings and grounds: a name ending in one, after "at" or "in", is where something happened.
_BUILDINGS = frozenset("""school university college hospital museum church cathedral hotel club airport station
    stadium theatre theater centre center hall park palace prison court arena ground gallery library""".split())
#: Nouns for places that name the place after "of" ("the city of Tel Aviv").
_PLACE_NOUNS = frozenset("city town village county province state region island republic kingdom port".split())
_CONNECT = frozenset("of de di da du van von der den le la bin al del dos das & y".split())
_PLACE_PREP = frozenset("in at near from to across outside inside throughout into".split())
_AUXES = frozenset("""must will would can could should may might shall has have had is are was were be been being also then
    not never now still to do does did already just""".split())
_CLAUSE = frozenset("that which who whom whose if when while because but although though whether where after before "
                    "since unless as".split())
_NP_STOP = frozenset("""at in on from after before since during until because to when where as than for by with of into
    and or but that which who whose while is was are were has have had will would could should can may might
    must said says say told added""".split()) | {"and"}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
                 "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
                 "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
                 "dozen": 12, "a": 1, "an": 1, "several": 3}
_SCALES = {"million": 1e6, "billion": 1e9, "thousand": 1e3, "trillion": 1e12, "m": 1e6, "bn": 1e9, "mn": 1e6}
_DURATION_UNITS = re.compile(r"(?:second|minute|hour|day|week|fortnight|month|year|decade|season|game|match)s?$")
_QUOTES = {"\"": "\"", "“": "”", "‘": "’", "'": "'"}
_AGE = re.compile(r"\d{1,3}[- ]year[- ]old$", re.IGNORECASE)
#: Prepositions that may open a date phrase ("in 1981", "until 2030", "as of May").
_DATE_PREPS = frozenset("in on at by until till through since from before after as of".split())
#: Of those, the ones that change the meaning, kept when the question uses them ("Until when …?").
_MEANT_PREPS = frozenset("by until till through since before after".split())
#: Prepositions a question can end on ("valued at?", "invested in?"), the answer following them.
_STRANDED = frozenset("at in to for by from with on into as".split())
#: Reporting verbs: question words to retrieval, but the verb of "Which paper reported …?".
_REPORTING = frozenset("say said says report reports reported tell told".split())
#: Prepositions that open a sentence before its subject ("Under the deal, …", "After the vote …").
_LEAD_PREPS = frozenset("under after before during in on at following despite with without since until by".split())
_DETERMINERS = frozenset("the a an its their his her our this that these those".split())
_VERBISH = re.compile(r"(?:ed|ing)$")
_YEAR = re.compile(r"(?:19|20)\d\d$")
_COPULA = frozenset("is was are were be been being would will as called named titled dubbed known the a an : -".split())


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int
    low: str
    cap: bool  # starts with an upper-case letter
    num: bool  # starts with a digit or a currency sign
    word: bool  # a word (not punctuation)


def tokenize(text: str) -> list[_Tok]:
    """The tokens of ``text`` (at most :data:`MAX_TOKENS`, over at most ``MAX_SENTENCE_CHARS``
    characters), possessive 's as a token of its own, in one linear pass."""
    out = []
    for m in _TOKEN.finditer(text[:MAX_SENTENCE_CHARS]):
        t = m.group(0)
        c = t[0]
        out.append(_Tok(t, m.start(), m.end(), t.lower(), c.isupper(), c.isdigit() or c in "€$£¥",
                        c.isalnum() or c in "€$£¥"))
        if len(out) >= MAX_TOKENS:
            break
    return out


@dataclass(frozen=True)
class _Cand:
    """A candidate span: tokens ``[i, j)`` of the sentence, or a Phrase from an extractor."""

    phrase: Phrase
    i: int
    j: int
    fit: float
    bonus: float = 0.0  # a tie to the question not made by its weighted words (the subject of its verb)


class SpanReader:
    """Reads short answers for one question off any number of sentences.

    Everything that depends only on the question (its word stems, the form it asks in, the noun it
    asks about) is worked out once here, so reading a sentence costs one pass over its tokens.

    Args:
        analysis: The question's :class:`~qa.answer.question.QuestionAnalysis` (``text`` set).
        stem: The stemmer the index uses (``LexicalIndex.stem``); the default only lower-cases and
            strips a plural "s".
    """

    def __init__(self, analysis: QuestionAnalysis, stem: Callable[[str], str] | None = None) -> None:
        self.qa = analysis
        self._stem_fn = stem or _plain_stem
        self._stems: dict[str, str] = {}
        text = analysis.text or " ".join(analysis.terms + analysis.entities)
        qtoks = tokenize(text)
        self.qwords = frozenset(t.low for t in qtoks if t.word)
        entity_words = {w.lower() for e in analysis.entities for w in e.split()}
        self.entity_words = frozenset(entity_words)
        self.weights: dict[str, float] = {}
        for t in qtoks:
            if not t.word or t.low in QUESTION_WORDS or len(t.low) < 2 or t.low in _CONNECT:
                continue
            st = self.stem(t.low)
            self.weights[st] = max(self.weights.get(st, 0.0), 0.6 if t.low in entity_words else 1.0)
        self.head = self.stem(analysis.head_noun) if analysis.head_noun else None
        # "Until when …?" is answered "until 2030"; "Until what year …?" by "1857"
        self.asked_preps = frozenset(m.group(1) for m in re.finditer(r"\b(\w+) when\b", text.lower()))
        self.counted = self._counted(qtoks)
        self.verb = self._main_verb(qtoks)
        self.last = self._last_word(qtoks)
        self.stranded = self._stranded(qtoks)

    # -- question side ---------------------------------------------------------------------------
    def stem(self, word: str) -> str:
        w = word.lower()
        s = self._stems.get(w)
        if s is None:
            s = self._stem_fn(w)
            if len(self._stems) < 20000:
                self._stems[w] = s
        return s

    def _counted(self, qtoks: list[_Tok]) -> tuple[str, ...]:
        """Stems of what "how many …" counts, head noun last: "how many big power stations did" →
        ("big", "power", "station")."""
        words = [t for t in qtoks if t.word]
        for k in range(len(words) - 1):
            if words[k].low == "how" and words[k + 1].low == "many":
                out = []
                for t in words[k + 2:k + 6]:
                    if t.low in QUESTION_WORDS or t.low in _NP_STOP or t.low in _CLAUSE:
                        break
                    if out and (_VERBISH.search(t.low) or t.low in _AUXES):
                        break  # "how many people died": "died" is no part of what is counted
                    out.append(self.stem(t.low))
                return tuple(out)
        return tuple(self.stem(w) for w in (self.qa.extras.get("counted") or ()))

    def _main_verb(self, qtoks: list[_Tok]) -> str | None:
        """The verb right after "who / what / which <noun>" ("Who verifies …" → "verifi")."""
        words = [t for t in qtoks if t.word]
        for k, t in enumerate(words[:-1]):
            if t.low in {"who", "what", "which"}:
                nxt = words[k + 1]
                head = self.qa.head_noun
                if t.low != "who" and head:  # "what corporate form is …": the verb comes after the noun
                    h = next((m for m in range(k + 1, min(len(words), k + 5)) if words[m].low == head), None)
                    if h is not None:
                        if h + 1 >= len(words):
                            return None
                        nxt = words[h + 1]
                if (nxt.low in QUESTION_WORDS and nxt.low not in _REPORTING) or nxt.cap:
                    return None
                return self.stem(nxt.low)
        return None

    def _stranded(self, qtoks: list[_Tok]) -> tuple[str, str] | None:
        """A question ending "<word> <preposition>?" ("What is it valued at?", "Who did she marry
        in?"): the word's stem and the preposition, the answer being what follows them in a sentence."""
        words = [t for t in qtoks if t.word]
        if len(words) >= 3 and words[-1].low in _STRANDED and words[-2].low not in QUESTION_WORDS:
            return self.stem(words[-2].low), words[-1].low
        return None

    def _last_word(self, qtoks: list[_Tok]) -> str | None:
        """The question's last content word: the answer often follows it in the sentence."""
        for t in reversed(qtoks):
            if t.word and t.low not in QUESTION_WORDS and len(t.low) > 1:
                return self.stem(t.low)
        return None

    def _match(self, tok: _Tok) -> float:
        if not tok.word:
            return 0.0
        st = self.stem(tok.low)
        w = self.weights.get(st)
        if w is not None:
            return w
        if len(st) >= 5:  # "partner" ~ "partnership"
            for q, qw in self.weights.items():
                if len(q) >= 5 and (st.startswith(q) or q.startswith(st)):
                    return qw
        return 0.0

    def _is_entity_word(self, tok: _Tok) -> bool:
        return tok.low in self.entity_words

    def _is_question_word(self, tok: _Tok) -> bool:
        return tok.low in self.qwords or (tok.word and self.stem(tok.low) in self.weights)

    # -- reading ---------------------------------------------------------------------------------
    def read(self, sentence: str) -> Phrase | None:
        """The short answer ``sentence`` gives to the question, or None when no candidate fits."""
        text = sentence[:MAX_SENTENCE_CHARS]
        toks = tokenize(text)
        if not toks:
            return None
        match = [self._match(t) for t in toks]
        self._breaks = [0]
        for t in toks:  # running count of words that separate phrases: "and", "or", commas …
            self._breaks.append(self._breaks[-1] + (t.low in _BREAKS))
        cands = self._candidates(text, toks, match)
        best, best_score = None, 0.0
        for c in cands:
            c = self._trim(c, text, toks)
            if c is None:
                continue
            score = c.fit * (0.35 + self._tie(c, toks, match) + c.bonus + self._stranded_tie(c, toks))
            if score > best_score:
                best, best_score = c, score
        if best is None or best_score < MIN_SCORE:
            return None
        return best.phrase

    def _stranded_tie(self, c: _Cand, toks: list[_Tok]) -> float:
        """0.6 when the candidate follows the question's closing "<word> <preposition>" in the
        sentence ("values the start-up at €11.7 billion" for "valued at?"), else 0."""
        if not self.stranded or c.i == 0 or toks[c.i - 1].low != self.stranded[1]:
            return 0.0
        word = self.stranded[0]
        for m in range(max(0, c.i - 7), c.i - 1):
            if toks[m].word and _same(self.stem(toks[m].low), word):
                return 0.6
        return 0.0

    def _tie(self, c: _Cand, toks: list[_Tok], match: list[float]) -> float:
        """Question words near the candidate, each weighted by 1 / (1 + tokens between)."""
        tie = 0.0
        seen: set[str] = set()
        lo, hi = max(0, c.i - WINDOW), min(len(toks), c.j + WINDOW)
        order = sorted(range(lo, hi), key=lambda k: c.i - k if k < c.i else k - c.j + 1)
        for k in order:
            if c.i <= k < c.j or not match[k]:
                continue
            st = self.stem(toks[k].low)
            if st in seen:
                continue
            seen.add(st)
            dist = c.i - k - 1 if k < c.i else k - c.j
            # "and", "or", a comma between them loosen the tie: in "OpenAI CEO Sam Altman and Microsoft
            # CEO Satya Nadella" the "Microsoft" after "and" belongs to the second name
            a, b = (k + 1, c.i) if k < c.i else (c.j, k)
            dist += 2 * (self._breaks[b] - self._breaks[a])
            tie += match[k] / (1.0 + dist)
        return min(tie, 2.5)

    def _trim(self, c: _Cand, text: str, toks: list[_Tok]) -> _Cand | None:
        """The candidate without the question's own words at its ends; None if little else is left."""
        if c.phrase.kind in {"money", "number", "percent", "date", "list", "duration", "age"}:
            inner = [t for t in toks if c.phrase.start <= t.start < c.phrase.end and t.word]
            if inner and all(self._is_question_word(t) for t in inner):
                return None
            return c
        i, j = c.i, c.j
        named = c.phrase.kind in _NAME_KINDS
        while i < j and (self._is_question_word(toks[i]) or not toks[i].word):
            if c.phrase.kind == "np" and self.head and _same(self.stem(toks[i].low), self.head):
                break  # "right of first refusal" keeps the noun asked about
            i += 1
        # at the end only the question's names go ("… Agency" answers "which agency", "Ozzy" does not)
        while j > i and (not toks[j - 1].word or toks[j - 1].low in _CONNECT or toks[j - 1].low in {"and", "or"}
                         or (self._is_entity_word(toks[j - 1]) if named else
                             self._is_question_word(toks[j - 1]) and c.phrase.kind != "np")):
            j -= 1  # a noun phrase built on the noun asked about keeps it ("exclusive cloud requirement")
        if i >= j:
            return None
        if i > c.i and toks[i].cap and toks[i - 1].cap and toks[i - 1].word and not (
                named and toks[i - 1].low in _ROLES | _DEMONYMS | _TITLES):
            return None  # what is left of a name once the question's words are cut off ("Festival")
        inner = [t for t in toks[i:j] if t.word]
        if all(t.low in _TITLES or t.low in _ROLES or t.low in _DEMONYMS for t in inner):
            return None  # "Mr" of "Mr Blunkett", "Italian" of "Italian government"
        qn = sum(1 for t in inner if self._is_question_word(t))
        if c.phrase.kind == "np":
            qn -= 1  # the noun asked about, kept on purpose
        if not inner or qn * 2 >= len(inner) + (1 if len(inner) > 3 else 0):
            return None
        if (i, j) == (c.i, c.j):
            return c
        start, end = toks[i].start, toks[j - 1].end
        p = c.phrase
        kind, fit = p.kind, c.fit
        if kind in _NAME_KINDS:  # "Microsoft CEO Satya Nadella" trimmed to "Satya Nadella" is a person
            kind = self._classify(toks, i, j)
            fit = self._name_fit(kind, (p, i, j))
        return _Cand(Phrase(text[start:end], start, end, text[start:end].lower(), kind, p.unit), i, j, fit, c.bonus)

    # -- candidates ------------------------------------------------------------------------------
    def _candidates(self, text: str, toks: list[_Tok], match: list[float]) -> list[_Cand]:
        t = self.qa.type
        ex = self.qa.extras
        out: list[_Cand] = []
        if t is AnswerType.AMOUNT:
            out += self._amounts(text, toks)
        elif t is AnswerType.DATE:
            if ex.get("how_long"):
                out += self._durations(text, toks, 1.0)
                out += [self._span(p, toks, 0.4) for p in self._dates(text)]
            else:
                out += [self._span(p, toks, 1.0 if _precise(p) else 0.85) for p in self._dates(text)]
                out += self._durations(text, toks, 0.3)
        elif t is AnswerType.LIST:
            found = find_list(text)
            if found is not None:
                out.append(self._span(found, toks, 1.0))
            elif self.qa.head_noun and ex.get("prep_which"):
                np_ = noun_phrase(text, self.qa.head_noun)
                if np_ is not None:
                    out.append(self._span(np_, toks, 0.9))
        elif t in {AnswerType.PERSON, AnswerType.ORG, AnswerType.PLACE, AnswerType.THING}:
            names = self._names(text, toks)
            for n in names:
                out.append(_Cand(n[0], n[1], n[2], self._name_fit(n[0].kind, n)))
            if t is AnswerType.PERSON:
                out += self._agents(text, toks, match)
            elif t is AnswerType.ORG:  # "Which newspaper reported …?": who did it, if a name
                out += [c for c in self._agents(text, toks, match, named_fit=0.95) if c.fit > 0]
            elif t is AnswerType.THING:
                out += self._things(text, toks, match)
            elif t is AnswerType.PLACE:
                out += self._joined_places(text, toks, names)
            if t is AnswerType.ORG and self.qa.head_noun:
                out += self._titles_after_head(text, toks, 0.9)
        return out

    def _dates(self, text: str) -> list[Phrase]:
        """Dates of the sentence, without a leading preposition unless the question asks with it:
        "When was it founded?" is answered "1981", not "in 1981"; "Until when …?" by "until 2030"."""
        out = []
        for p in find_dates(text):
            while True:
                first, _, rest = p.text.partition(" ")
                low = first.lower()
                if not rest.strip() or low not in _DATE_PREPS or (low in _MEANT_PREPS and low in self.asked_preps):
                    break
                skip = len(p.text) - len(rest.lstrip())
                p = Phrase(p.text[skip:], p.start + skip, p.end, p.value, p.kind, p.unit)
            out.append(p)
        return out

    def _span(self, p: Phrase, toks: list[_Tok], fit: float) -> _Cand:
        i = next((k for k, t in enumerate(toks) if t.end > p.start), len(toks))
        j = next((k for k in range(i, len(toks)) if toks[k].start >= p.end), len(toks))
        return _Cand(p, i, max(j, i + 1), fit)

    # amounts -------------------------------------------------------------------------------------
    def _amounts(self, text: str, toks: list[_Tok]) -> list[_Cand]:
        ex = self.qa.extras
        out = []
        if ex.get("age"):
            for k, t in enumerate(toks):
                if _AGE.match(t.text):
                    out.append(_Cand(Phrase(t.text, t.start, t.end, t.low, "age"), k, k + 1, 1.0))
                elif t.num and k + 1 < len(toks) and toks[k + 1].low in {"year-old", "years-old"}:
                    out.append(_Cand(Phrase(t.text, t.start, t.end, t.low, "age"), k, k + 2, 1.0))
                elif t.low == "aged" and k + 1 < len(toks) and toks[k + 1].num:
                    n = toks[k + 1]
                    out.append(_Cand(Phrase(n.text, n.start, n.end, n.low, "age"), k + 1, k + 2, 0.9))
            return out
        counting = bool(ex.get("count"))
        if not ex.get("percent"):
            out += self._counts(text, toks, counting)
        for p in find_amounts(text, counts=False):
            if p.kind == "percent":
                fit = 1.0 if ex.get("percent") or ex.get("by_how_much") else 0.35 if not counting else 0.0
            elif ex.get("percent"):
                fit = 0.0
            elif p.kind == "money":
                fit = 0.15 if counting else 1.0
            else:  # "130 billion", "674 million"
                fit = 0.8
            if fit:
                out.append(self._span(p, toks, fit))
        if ex.get("percent"):
            out += self._word_percents(text, toks)
        return out

    def _counts(self, text: str, toks: list[_Tok], counting: bool) -> list[_Cand]:
        """Numbers (digits or words) with the noun they count: "800 jobs", "seven able-bodied players",
        "26 big power stations" (read up to the question's counted noun), or alone ("killed five")."""
        out = []
        n = len(toks)
        for k, t in enumerate(toks):
            value = _number(t)
            if value is None or (t.low in {"a", "an", "several"}) or _YEAR.match(t.text):
                continue
            if k + 1 < n and toks[k + 1].low in {"%", "percent"} or t.text[0] in "€$£¥" or t.text.endswith("%"):
                continue
            if k > 0 and (toks[k - 1].text[0] in "€$£¥" or toks[k - 1].low in {"£", "$", "€"}):
                continue
            if k + 1 < n and _is_month(toks[k + 1].low) or k > 0 and _is_month(toks[k - 1].low):
                continue
            if "-" in t.text and not re.match(r"[\d,.]+-[\d,.]+$", t.text):
                continue  # "6-3", "24-18" scores are not counts; "200,000-300,000" is
            end = k + 1
            if end < n and toks[end].low in _SCALES:
                value *= _SCALES[toks[end].low]
                end += 1
            # What is counted: the question's counted noun within 4 words ("26 big power stations"),
            # else a word of it that ends the noun phrase ("325,000 items which"), else the next word.
            noun_end, fit = self._counted_noun(toks, end)
            if noun_end is None:
                if end < n and _DURATION_UNITS.match(toks[end].low) and not self.counted:
                    continue  # "six years" answers "how long", not "how many"
                if end < n and toks[end].word and not toks[end].cap and toks[end].low not in _NP_STOP \
                        and not toks[end].num:
                    noun_end = end + 1  # the noun it counts, as unit; not part of the answer
                # a count of something else ("six kilometres" for "how many households") fits least
                fit = (0.3 if noun_end else 0.5) if self.counted else 0.8
            if not counting:
                fit *= 0.5
            # The count with its noun when the words after the number are all the question's counted
            # words ("800 employees", "26 big power stations"); else the number alone ("600" of
            # "600 single snaps" for "how many single photos"), which no answer key rejects.
            start_c, end_c = t.start, toks[end - 1].end
            if noun_end and (not self.counted or fit >= 1.0 and all(
                    self.stem(x.low) in self.counted or _same(self.stem(x.low), self.counted[-1])
                    for x in toks[end:noun_end])):
                end_c = toks[noun_end - 1].end  # or, when the question names nothing counted, its unit ("200 metres")
            unit = toks[noun_end - 1].low if noun_end else ""
            out.append(_Cand(Phrase(text[start_c:end_c], start_c, end_c, float(value), "number", unit),
                             k, noun_end or end, fit))
        return out

    def _counted_noun(self, toks: list[_Tok], end: int) -> tuple[int | None, float]:
        """Where the counted noun after a number ends (token index past it) and how well it fits:
        the question's counted head within 4 words (1.0), or another of its counted words that ends
        the noun phrase (0.9); ``(None, 0)`` when neither is there."""
        if not self.counted:
            return None, 0.0
        n = len(toks)
        head, others = self.counted[-1], set(self.counted[:-1])
        for m in range(end, min(n, end + 4)):
            tm = toks[m]
            if not tm.word or tm.low in _NP_STOP or tm.num:
                break
            st = self.stem(tm.low)
            if _same(st, head):
                return m + 1, 1.0
            if st in others:
                nxt = toks[m + 1] if m + 1 < n else None
                if nxt is None or not nxt.word or nxt.low in _NP_STOP or nxt.low in _CLAUSE:
                    return m + 1, 0.9
        return None, 0.0

    def _word_percents(self, text: str, toks: list[_Tok]) -> list[_Cand]:
        out = []
        for k in range(len(toks) - 1):
            v = _number(toks[k])
            if v is not None and not toks[k].num and toks[k + 1].low in {"percent", "per"}:
                end = k + 2 if toks[k + 1].low == "percent" else k + 3
                end = min(end, len(toks))
                s, e = toks[k].start, toks[end - 1].end
                out.append(_Cand(Phrase(text[s:e], s, e, float(v), "percent"), k, end, 1.0))
        return out

    def _durations(self, text: str, toks: list[_Tok], fit: float) -> list[_Cand]:
        out = []
        for k, t in enumerate(toks):
            if _number(t) is None or _YEAR.match(t.text):
                continue
            end = k + 1
            if end + 2 < len(toks) and toks[end].low == "and" and toks[end + 1].low == "a" and toks[end + 2].low == "half":
                end += 3
            if end < len(toks) and _DURATION_UNITS.match(toks[end].low) and toks[end].low[:4] not in {"game", "matc", "seas"}:
                s, e = t.start, toks[end].end
                out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "duration"), k, end + 1, fit))
        return out

    # names ---------------------------------------------------------------------------------------
    def _names(self, text: str, toks: list[_Tok]) -> list[tuple[Phrase, int, int]]:
        """Capitalised runs, classified person / org / place / event / name, with role and
        nationality words peeled off the front ("Chief Executive Martin Sorrell" → "Martin Sorrell")."""
        out = []
        n = len(toks)
        k = 0
        while k < n:
            t = toks[k]
            if not (t.cap and t.word) or (t.low in _FUNCTION and t.low not in _TITLES):
                k += 1
                continue
            j = k + 1
            while j < n:
                tj = toks[j]
                if tj.cap and tj.word and (tj.low not in _FUNCTION or tj.low in _TITLES):
                    j += 1
                elif tj.low in _CONNECT and j + 1 < n and toks[j + 1].cap and toks[j + 1].low not in _FUNCTION:
                    j += 2
                else:
                    break
            pieces = self._split_run(toks, k, j)
            # "Paul Miller of Thames Valley Police": the person and the force as well as the whole
            pieces += [(x, y) for a, b in pieces for m in range(a + 1, b - 1)
                       if toks[m].low == "of" and toks[m - 1].low not in _PLACE_NOUNS
                       and toks[m - 1].low not in _BUILDINGS for x, y in ((a, m), (m + 1, b))]
            for a, b in pieces:
                if b - a == 1 and (toks[a].low in _DEMONYMS or toks[a].low in _ROLES):
                    continue
                if not (a == 0 and b - a == 1) or _marked(toks[a].text):  # a lone first word is no name
                    # unless it is marked as one ("EMI", "AstraZeneca")
                    s, e = toks[a].start, toks[b - 1].end
                    kind = self._classify(toks, a, b)
                    if any(x == a and y < b and self._classify(toks, x, y) == "person" for x, y in pieces):
                        kind = "name"  # "Paul Miller of Thames Valley Police" is neither one person nor the force
                    out.append((Phrase(text[s:e], s, e, text[s:e].lower(), kind), a, b))
            k = j
        return out

    @staticmethod
    def _split_run(toks: list[_Tok], k: int, j: int) -> list[tuple[int, int]]:
        """A capitalised run split at its role words: "Microsoft CEO Satya Nadella" → "Microsoft",
        "Satya Nadella"; "Chief Executive Martin Sorrell" → "Martin Sorrell". A run made only of
        role words ("Prime Minister") is kept whole."""
        pieces: list[tuple[int, int]] = []
        a = k
        m = k
        while m < j:
            low = toks[m].low
            if (low in _ROLES or low in _DEMONYMS) and low not in _TITLES and j - m > 1:
                if m > a:
                    pieces.append((a, m))
                a = m + 1
            m += 1
        if a < j:
            pieces.append((a, j))
        return pieces or [(k, j)]

    def _classify(self, toks: list[_Tok], i: int, j: int) -> str:
        words = [t.low for t in toks[i:j]]
        last = words[-1]
        prev = toks[i - 1].low if i > 0 else ""
        if any(w in _EVENT_WORDS for w in words[1:]) or last in _EVENT_WORDS:
            return "event"
        if prev in {"at", "in"} and last in _BUILDINGS:
            return "place?"  # "at Welling School", "in Guy's Hospital": where something happened
        before = toks[i - 2].low if i > 1 else ""
        if prev == "of" and before in _PLACE_NOUNS:
            return "place"  # "the city of Tel Aviv"
        if any(w in _ORG_WORDS for w in words):
            return "org"
        if last in _PLACE_WORDS or (len(words) == 1 and words[0] in _PLACES) or words[0] in _PLACES and len(words) == 1:
            return "place"
        if words[0] in _TITLES and len(words) >= 2:
            return "person"
        if any(t.text.isupper() and len(t.text) > 1 for t in toks[i:j]):
            return "org"
        if 2 <= len(words) <= 4 and all(t.text[:1].isupper() and not t.text.isupper() or t.low in _CONNECT
                                        for t in toks[i:j]) and words[0] not in _PLACES:
            if prev in _PLACE_PREP and prev not in {"from", "to"}:
                return "place?"  # "in Miami Beach" reads as a place, "at Shore Club" too
            return "person"
        if prev in _PLACE_PREP:
            return "place?"
        return "name"

    def _name_fit(self, kind: str, n: tuple[Phrase, int, int]) -> float:
        t = self.qa.type
        single = n[2] - n[1] == 1
        head = self.qa.head_noun or ""
        if t is AnswerType.PERSON:
            return {"person": 1.0, "name": 0.55 if single else 0.6, "org": 0.4, "place?": 0.25, "place": 0.05,
                    "event": 0.05}.get(kind, 0.3)
        if t is AnswerType.ORG:
            if head in {"team", "club", "side"}:
                return {"name": 1.0, "place?": 0.8, "place": 0.8, "org": 0.9, "person": 0.3}.get(kind, 0.2)
            return {"org": 1.0, "name": 0.85, "person": 0.35, "place?": 0.4, "place": 0.3, "event": 0.2}.get(kind, 0.3)
        if t is AnswerType.PLACE:
            return {"place": 1.0, "place?": 0.95, "name": 0.4, "org": 0.4, "person": 0.05, "event": 0.1}.get(kind, 0.2)
        return {"name": 0.35, "event": 0.4, "org": 0.35, "person": 0.3}.get(kind, 0.3)  # THING

    def _joined_places(self, text: str, toks: list[_Tok], names) -> list[_Cand]:
        """"Dublin's Point Theatre", "Miami Beach, Florida": a place with its owner or its region."""
        out = []
        for (p, i, j), nxt in zip(names, names[1:]):
            q, i2, j2 = nxt
            if i2 == j + 1 and toks[j].low in {"'s", "’s"}:
                fit = 1.0
            elif i2 == j + 1 and toks[j].text == "," and q.kind in {"place", "place?", "name"} and j2 - i2 == 1:
                fit = 0.9
            elif i2 == j + 1 and toks[j].low == "in" and q.kind in {"place", "place?"} and p.kind != "person":
                fit = 0.85  # "the Mater in Dublin"
            else:
                continue
            s, e = p.start, q.end
            out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "place"), i, j2, fit * 0.97))
        return out

    # noun phrases --------------------------------------------------------------------------------
    def _np_after(self, text: str, toks: list[_Tok], k: int, max_len: int = 9) -> tuple[int, int] | None:
        """The noun phrase starting at token ``k`` (one leading preposition skipped), up to a
        punctuation mark, a clause word, a preposition or a verb-like word."""
        n = len(toks)
        if k < n and toks[k].low in {"with", "for", "as", "by", "of", "to", "from", "in", "at", "on", "through", "via",
                                     "into", "under", "over", "about", "against", "towards", "toward"}:
            k += 1
        if k >= n or not toks[k].word or toks[k].low in _NP_STOP:
            return None
        j = k
        while j < n and j - k < max_len:
            t = toks[j]
            if not t.word and t.text not in {"-", "'s", "’s"} or (j > k and t.low in _NP_STOP and t.low != "of"):
                break
            if t.text in {"'s", "’s"}:
                j += 1
                continue
            j += 1
        while j > k and toks[j - 1].low in {"of", "-", "the", "a", "an"}:
            j -= 1
        return (k, j) if j > k else None

    def _subject_of(self, toks: list[_Tok], v: int) -> tuple[int, int] | None:
        """The clause's subject before the verb at token ``v``: from the clause's start (sentence
        start, a comma, a clause word) to the verb, auxiliaries left out, at most 14 tokens."""
        j = v
        while j > 0 and toks[j - 1].low in _AUXES:
            j -= 1
        i = j
        while i > 0 and j - i < 14:
            t = toks[i - 1]
            if not t.word and t.text not in {"'s", "’s", "-"} or t.low in {"if", "when", "while", "because", "but",
                                                                          "although", "though", "whether", "and"}:
                break
            i -= 1
        if i < j and toks[i].low in {"that"}:
            i += 1
        if i < j and toks[i].low in _LEAD_PREPS:
            # "Under the new terms an independent panel will decide": the subject follows the
            # opening phrase, from its last determiner on
            dets = [m for m in range(i + 1, j) if toks[m].low in _DETERMINERS]
            if len(dets) >= 2:
                i = dets[-1]
        return (i, j) if i < j and j - i <= 14 else None

    def _agents(self, text: str, toks: list[_Tok], match: list[float], named_fit: float | None = None) -> list[_Cand]:
        """For "Who <verb> …?": the subject of that verb in the sentence, or who it was done "by".

        With ``named_fit`` (organisation questions) only a subject that is a capitalised name counts,
        with that fit; any other subject gets fit 0."""
        if not self.verb:
            return []
        out = []
        for k, t in enumerate(toks):
            if not t.word or self.stem(t.low) != self.verb:
                continue
            span = None
            if k + 1 < len(toks) and toks[k + 1].low == "by":
                span = self._np_after(text, toks, k + 2)
            if span is None:
                span = self._subject_of(toks, k)
            if span:
                i, j = span
                fit = 0.75
                if named_fit is not None:
                    while i < j and toks[i].low in {"the", "a", "an"}:
                        i += 1
                    named = i < j and all(tk.cap or tk.low in _CONNECT for tk in toks[i:j]) and toks[i].cap
                    fit = named_fit if named else 0.0
                    if i >= j:
                        continue
                s, e = toks[i].start, toks[j - 1].end
                # the verb ties the subject to the question even when it is no weighted word ("reported")
                bonus = 0.5 if match[k] == 0 else 0.0
                kind = self._classify(toks, i, j) if named_fit is not None else "agent"
                out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), kind), i, j, fit, bonus))
        return out

    def _titles_after_head(self, text: str, toks: list[_Tok], fit: float) -> list[_Cand]:
        """The title or name that follows the noun asked about: "the album Final Straw", "the title
        HRH Duchess of Cornwall", "slogan would be “…”", "the new currency, the ariary"."""
        if not self.head:
            return []
        out = []
        n = len(toks)
        for k, t in enumerate(toks):
            if not t.word or t.cap or not _same(self.stem(t.low), self.head):  # "Sundance Film Festival": a name
                continue
            m = k + 1
            while m < n and m - k <= 3 and toks[m].low in _COPULA | {",", "would", "will", "be"}:
                m += 1
            if m >= n:
                continue
            if toks[m].text in _QUOTES:
                q = self._quoted(text, toks, m)
                if q:
                    out.append(_Cand(q[0], q[1], q[2], fit))
                continue
            if toks[m].cap:
                j = m
                while j < n and (toks[j].cap or toks[j].num or toks[j].text in {"'", "’", "-"} or toks[j].low in
                                 {"the", "a", "of", "and", "in", "on", "to", "for", "with", "at", "it"}
                                 and j + 1 < n and toks[j + 1].cap):
                    j += 1
                s, e = toks[m].start, toks[j - 1].end
                out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "title"), m, j, fit))
            elif m > k + 1 and toks[m - 1].text == ",":  # apposition: "a new currency, the ariary"
                span = self._np_after(text, toks, m, max_len=5)
                if span:
                    s, e = toks[span[0]].start, toks[span[1] - 1].end
                    out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "thing"), span[0], span[1],
                                     fit * 0.85))
        return out

    def _np_to_head(self, text: str, toks: list[_Tok], fit: float) -> list[_Cand]:
        """The modifiers in front of the noun asked about: "What Microsoft requirement …?" →
        "exclusive cloud computing requirement" (after "Microsoft's"), at most 5 words before it."""
        if not self.head:
            return []
        out = []
        for k, t in enumerate(toks):
            if not t.word or t.cap or not _same(self.stem(t.low), self.head):  # "Sundance Film Festival": a name
                continue
            i = k
            while i > 0 and k - i < 5:
                p = toks[i - 1]
                if not p.word or p.cap or p.num or p.low in _NP_STOP or p.low in _FUNCTION or p.low in _CLAUSE \
                        or self._is_question_word(p):
                    break
                i -= 1
            nxt = toks[k + 1] if k + 1 < len(toks) else None
            if nxt is not None and nxt.low == "of":  # "the right of first refusal": the head and what follows
                m = k + 2
                while m < len(toks) and m - k <= 5 and toks[m].word and not toks[m].cap \
                        and toks[m].low not in _NP_STOP and toks[m].low not in _CLAUSE:
                    m += 1
                if m > k + 2:
                    s, e = t.start, toks[m - 1].end
                    out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "np"), k, m, fit * 1.1))
                    continue
            if nxt is not None and nxt.word and not nxt.cap and nxt.low not in _NP_STOP and nxt.low not in _CLAUSE:
                continue  # "film festival": the noun asked about only modifies another here
            if i < k:
                s, e = toks[i].start, t.end
                out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "np"), i, k + 1, fit))
        return out

    def _quoted(self, text: str, toks: list[_Tok], m: int) -> tuple[Phrase, int, int] | None:
        close = _QUOTES[toks[m].text]
        for j in range(m + 1, min(len(toks), m + 40)):
            if toks[j].text == close or (close == "”" and toks[j].text == "\""):
                if j == m + 1:
                    return None
                s, e = toks[m + 1].start, toks[j - 1].end
                return Phrase(text[s:e], s, e, text[s:e].lower(), "title"), m + 1, j
        return None

    def _things(self, text: str, toks: list[_Tok], match: list[float]) -> list[_Cand]:
        """For "what / which <noun> …?": the title after the noun, a possessive's title ("Fatboy
        Slim's Palookaville"), a quoted title, the subject of the question's verb, and the noun
        phrase after the question's last word ("tested positive for ephedrine")."""
        out = self._titles_after_head(text, toks, 1.0)
        out += self._np_to_head(text, toks, 0.8)
        n = len(toks)
        if self.qa.head_noun and self.qa.extras.get("prep_which"):
            np_ = noun_phrase(text, self.qa.head_noun)
            if np_ is not None:
                out.append(self._span(np_, toks, 0.9))
        for k in range(n - 1):
            if toks[k].text in {"'s", "’s"} and k > 0 and match[k - 1] and toks[k + 1].cap:
                j = k + 1
                while j < n and toks[j].cap:
                    j += 1
                s, e = toks[k + 1].start, toks[j - 1].end
                out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "title"), k + 1, j, 0.8))
            if toks[k].text in _QUOTES and (k == 0 or toks[k - 1].text not in _QUOTES):
                q = self._quoted(text, toks, k)
                if q and any(match[max(0, k - 4):k]):
                    out.append(_Cand(q[0], q[1], q[2], 0.75))
        for k, t in enumerate(toks):
            if not t.word:
                continue
            st = self.stem(t.low)
            if self.verb and st == self.verb:
                span = self._subject_of(toks, k)
                if span:
                    s, e = toks[span[0]].start, toks[span[1] - 1].end
                    out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), "thing"), span[0], span[1], 0.7))
            if self.last and st == self.last:
                span = self._np_after(text, toks, k + 1)
                if span:
                    i, j = span
                    kind = "thing"
                    h = next((m for m in range(i, j) if self.head and not toks[m].cap
                              and _same(self.stem(toks[m].low), self.head)), None)
                    if h is not None and h > i:  # "… under its partner's exclusive cloud requirement": up to
                        j, kind = h + 1, "np"  # the noun asked about, after the owner
                        own = [m for m in range(i, h) if toks[m].text in {"'s", "’s"}]
                        i = own[-1] + 1 if own else i
                        while i < h and toks[i].low in _DETERMINERS:
                            i += 1
                    s, e = toks[i].start, toks[j - 1].end
                    out.append(_Cand(Phrase(text[s:e], s, e, text[s:e].lower(), kind), i, j, 0.7))
        return out


def short_answer(analysis: QuestionAnalysis, sentence: str, stem: Callable[[str], str] | None = None) -> Phrase | None:
    """The short answer ``sentence`` gives to the analysed question, or None (see :class:`SpanReader`;
    make one reader per question when reading many sentences)."""
    return SpanReader(analysis, stem).read(sentence)


_BREAKS = frozenset({"and", "or", ",", ";", "but", "while", "whereas", "(", ")"})
_NAME_KINDS = frozenset({"person", "org", "place", "place?", "name", "event"})
_FUNCTION_LEAD = frozenset({"the", "a", "an"}) - {"the", "a", "an"}  # leading articles are kept


def _marked(word: str) -> bool:
    """A word that is a name wherever it stands: an acronym ("EMI") or a word with an inner
    capital or digit ("AstraZeneca", "3GSM")."""
    return len(word) > 1 and (word.isupper() or any(ch.isupper() or ch.isdigit() for ch in word[1:]))


def _plain_stem(word: str) -> str:
    w = word.lower()
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def _same(a: str, b: str) -> bool:
    return a == b or (len(a) >= 4 and len(b) >= 4 and (a.startswith(b) or b.startswith(a)))


def _is_month(w: str) -> bool:
    return w in {"january", "february", "march", "april", "june", "july", "august", "september", "october",
                 "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                 "nov", "dec"}


def _number(t: _Tok) -> float | None:
    """The value of a number token: "12,575", "2.5", "seven", "Thirty"; None otherwise."""
    if t.low in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[t.low])
    if not t.text[:1].isdigit():
        return None
    m = re.match(r"\d[\d,]*(?:\.\d+)?", t.text)
    if not m or (len(m.group(0)) < len(t.text) and not re.match(r"[\d,.]+-[\d,.]+$", t.text)):
        return None
    try:
        return float(m.group(0).replace(",", ""))
    except ValueError:
        return None


def _precise(p: Phrase) -> bool:
    """A date with a day or a year ("8 April", "1857"), not a bare month."""
    return bool(re.search(r"\d", p.text))
