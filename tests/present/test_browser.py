"""The chat page in a real Chromium (Debian's /usr/bin/chromium through playwright).

One in-process server on a free loopback port serves a writable copy of the seeds index; the tests
run in file order against it (the upload tests add articles). Never wait for ``networkidle``: a
Gradio page keeps an SSE connection open. The key tests run on a 1400 x 1000 desktop and on a
390 x 844 phone screen. Screenshots and timings (``ui_timings.json``: measured and printed, never
asserted) are saved to ``$QA_ARTIFACTS`` (default: a folder in pytest's temporary directory; the
path is printed at the end of the run).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from tests.present.conftest import running_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
IP_QUESTION = "Until when have Microsoft's IP rights been extended?"
OFF_TOPIC = "Who won the 2022 football World Cup?"
#: Seconds measured by the tests (page usable, answer shown); handed to the ``timings`` fixture.
TIMINGS: dict[str, float] = {}


def _missing(reason: str):
    if os.environ.get("QA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"QA_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


class Recorder:
    """Wraps ``svc.ask`` to record the :class:`Question` objects (and keyword arguments: ``k``,
    ``filters``) the UI passes; ``delay`` seconds are slept first (to watch the loading state), or
    the next of ``delays`` while any are left. ``finished`` lists the questions answered (in the
    order they were), ``seconds`` how long each call took."""

    def __init__(self, svc) -> None:
        self.inner = svc.ask
        self.questions = []
        self.calls = []
        self.finished = []
        self.seconds = []
        self.delay = 0.0
        self.delays: list[float] = []

    def __call__(self, q, *a, **kw):
        self.questions.append(q)
        self.calls.append(kw)
        wait = self.delays.pop(0) if self.delays else self.delay
        if wait:
            time.sleep(wait)
        t0 = time.perf_counter()
        try:
            return self.inner(q, *a, **kw)
        finally:
            self.seconds.append(time.perf_counter() - t0)
            self.finished.append(getattr(q, "text", q))


@pytest.fixture(scope="module")
def server(seeds_index, embedder, tmp_path_factory, artifacts, timings):
    """(url, svc, recorder): the app on a copy of the seeds index."""
    with running_app(tmp_path_factory.mktemp("ui"), seeds_index, embedder) as (url, svc):
        rec = Recorder(svc)
        svc.ask = rec  # looked up per request, so questions asked through the page are recorded
        yield url, svc, rec
    if TIMINGS:  # printed at the end of the run by tests/present/conftest.py
        timings.update(TIMINGS)
        (artifacts / "ui_timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}


def _new_page(browser, viewport, **kw):
    ctx = browser.new_context(viewport=viewport, **kw)
    pg = ctx.new_page()
    pg.dialogs = []
    pg.errors = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    return ctx, pg


def _screen(browser, kind: str):
    if kind == "phone":  # a 390 x 844 phone screen (touch, mobile viewport)
        return _new_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    return _new_page(browser, DESKTOP)


@pytest.fixture
def page(browser, server, request):
    """A desktop page; ``@BOTH`` runs a test again on the phone screen."""
    ctx, pg = _screen(browser, getattr(request, "param", "desktop"))
    yield pg
    assert pg.errors == [], f"script errors on the page: {pg.errors}"
    ctx.close()


@pytest.fixture
def phone(browser, server):
    """A 390 x 844 phone screen (touch, mobile viewport)."""
    ctx, pg = _screen(browser, "phone")
    yield pg
    assert pg.errors == [], f"script errors on the page: {pg.errors}"
    ctx.close()


#: The key tests run on the desktop and again on the 390 x 844 phone screen.
BOTH = pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)


def open_page(page, url: str) -> float:
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("#qa-status [data-ready]")
    page.wait_for_selector("#qa-question textarea:not([disabled])")
    return time.perf_counter() - t0


def ask(page, text: str) -> float:
    """Type ``text``, press Enter, wait for the new bot message and its sources; returns seconds."""
    n = page.locator('[data-testid="bot"]').count()
    page.fill("#qa-question textarea", text)
    t0 = time.perf_counter()
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function(f"document.querySelectorAll('[data-testid=\"bot\"]').length > {n}")
    page.wait_for_selector("#qa-sources .qa-sources:not(.qa-empty)", state="attached")
    return time.perf_counter() - t0


def open_accordion(page, elem_id: str) -> None:
    """Open an accordion unless it is open already (its content is only put in the page when open)."""
    if page.locator(f"#{elem_id} .label-wrap.open").count() == 0:
        page.click(f"#{elem_id} .label-wrap")


def last_bot(page) -> str:
    return page.locator('[data-testid="bot"]').last.inner_text()


def bots(page):
    return page.locator('#qa-chat [data-testid="bot"]')


def wait_bots(page, n: int, timeout: float = 30000) -> None:
    page.wait_for_function(f"document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length === {n}",
                           timeout=timeout)


def pick_option(page, elem_id: str, text: str) -> None:
    """Choose ``text`` in a Gradio dropdown."""
    page.click(f"#{elem_id} input")
    page.fill(f"#{elem_id} input", "")
    page.keyboard.type(text[:30])
    page.locator("[role=option]", has_text=text[:30]).first.click()
    page.keyboard.press("Escape")


def two_citation_question(svc, as_of: str | None) -> str:
    """A seed question whose answer (as of ``as_of``, reading ten passages) cites two or more
    passages: which one does depends on the answerer, so it is looked up, not fixed."""
    from qa.pipeline import Question

    for q in ("Who is OpenAI's CEO?", "How much has Microsoft invested in OpenAI?", "Who is Microsoft's CEO?",
              "What did Microsoft and OpenAI agree?", IP_QUESTION):
        if len(svc.ask(Question(q, as_of=as_of), k=10).citations) >= 2:
            return q
    raise AssertionError("no seed question cites two passages; add one here")


def wait_for_file(page, stem: str) -> None:
    """Wait until the upload box lists a file (Gradio shows its name and suffix in separate elements)."""
    page.wait_for_function("s => (document.querySelector('#qa-files') || {}).innerText.includes(s)", arg=stem,
                           timeout=30000)


def feedback_records(svc) -> list[dict]:
    path = Path(svc.index_dir) / "feedback.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def wait_until(cond, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_answer_with_citation_and_highlight(page, server, artifacts):
    url, svc, rec = server
    TIMINGS["page_load_to_usable_s"] = round(open_page(page, url), 3)
    TIMINGS["question_answered_s"] = round(ask(page, IP_QUESTION), 3)
    TIMINGS["question_answered_server_s"] = round(rec.seconds[-1], 3)
    answer = last_bot(page)
    assert "2032" in answer and "[1]" in answer
    cited = page.locator("#qa-sources .qa-citation").first
    assert cited.locator(".qa-n").inner_text() == "[1]"
    mark = cited.locator("mark.qa-cited").inner_text()
    assert "2032" in mark
    # the highlighted text is the citation's exact quote from the article
    expected = svc.ask(IP_QUESTION).citations[0].quote
    assert " ".join(mark.split()) == " ".join(expected.split())
    assert cited.locator(".qa-title").inner_text().strip()
    # a second, timed question on the warm page
    TIMINGS["question_answered_warm_s"] = round(ask(page, "How much has Microsoft invested in OpenAI?"), 3)
    TIMINGS["question_answered_warm_server_s"] = round(rec.seconds[-1], 3)
    invest = svc.ask("How much has Microsoft invested in OpenAI?").citations[0].quote
    # clicking an earlier answer shows that answer's sources
    page.locator('[data-testid="bot"]').nth(1).click()
    page.wait_for_function("q => document.querySelector('#qa-sources mark.qa-cited').innerText.includes(q)",
                           arg=invest[:40])
    ask(page, IP_QUESTION)
    page.screenshot(path=str(artifacts / "chat_answered.png"), full_page=True)
    # why these passages: ranks from both retrievers and the question actually run
    open_accordion(page, "qa-why-acc")
    why = page.locator("#qa-why .qa-why")
    assert why.locator(".qa-query").inner_text() == IP_QUESTION
    assert why.locator("tbody tr").count() == 10
    assert "BM25 rank" in why.inner_text()


def test_follow_up_passes_history(page, server):
    url, _, rec = server
    TIMINGS["page_load_to_usable_warm_s"] = round(open_page(page, url), 3)
    ask(page, IP_QUESTION)
    ask(page, "And what about the research IP?")
    assert page.locator('[data-testid="bot"]').count() == 2
    assert rec.questions[-1].text == "And what about the research IP?"
    assert [h.question for h in rec.questions[-1].history] == [IP_QUESTION]
    open_accordion(page, "qa-why-acc")
    query = page.locator("#qa-why .qa-query").inner_text()
    assert query  # the question actually run (after follow-up resolution) is shown
    # clearing starts a new conversation: no history is passed any more
    page.click("#qa-clear")
    page.wait_for_function("document.querySelectorAll('[data-testid=\"bot\"]').length === 0")
    ask(page, IP_QUESTION)
    assert rec.questions[-1].history == ()


def _outlets_in_sources(page) -> set[str]:
    return {t.strip() for t in page.locator("#qa-sources .qa-outlet").all_text_contents()}


def test_outlet_filter_changes_sources(page, server):
    url, svc, _ = server
    open_page(page, url)
    ask(page, "What did Microsoft and OpenAI agree?")
    before = _outlets_in_sources(page)
    outlets = sorted({a.source for a in svc.store.articles if a.source})
    assert len(outlets) >= 2
    chosen = outlets[0]
    page.click("#qa-outlets input")
    page.keyboard.type(chosen)
    page.locator("[role=option]", has_text=chosen).first.click()
    page.keyboard.press("Escape")
    ask(page, "What did Microsoft and OpenAI agree?")
    after = _outlets_in_sources(page)
    assert after == {chosen}
    assert after != before


def test_date_filter_rejects_bad_date(page, server):
    url, _, _ = server
    open_page(page, url)
    page.fill("#qa-from textarea, #qa-from input", "last week")
    page.fill("#qa-question textarea", IP_QUESTION)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_selector("text=YYYY-MM-DD", timeout=10000)
    assert page.locator('[data-testid="bot"]').count() == 0


def test_abstention_state(page, server):
    url, _, _ = server
    open_page(page, url)
    ask(page, OFF_TOPIC)
    assert last_bot(page).startswith("Not in the articles")
    assert "[1]" not in last_bot(page)
    assert page.locator("#qa-sources .qa-abstained").is_visible()
    assert page.locator("#qa-sources .qa-citation").count() == 0


def test_thumbs_up_written_to_feedback(page, server):
    url, svc, _ = server
    open_page(page, url)
    ask(page, IP_QUESTION)
    feedback = Path(svc.index_dir) / "feedback.jsonl"
    n0 = len(feedback.read_text().splitlines()) if feedback.exists() else 0
    page.locator('[data-testid="bot"]').last.hover()
    page.locator('button[aria-label="Like"]').last.click()
    deadline = time.time() + 15
    while time.time() < deadline and (not feedback.exists() or len(feedback.read_text().splitlines()) == n0):
        time.sleep(0.1)
    rec = json.loads(feedback.read_text().splitlines()[-1])
    assert rec["liked"] is True and rec["question"] == IP_QUESTION and "2032" in rec["answer"]
    assert rec["citations"] and rec["citations"][0]["n"] == 1


# -- issue 14 point 1: every way of clearing clears the whole conversation --------------------------
@BOTH
def test_trash_icon_clears_whole_state(page, server):
    url, svc, rec = server
    open_page(page, url)
    ask(page, "Who is OpenAI's CEO?")
    page.click('#qa-chat button[aria-label="Clear"]')  # the chat's own trash icon
    wait_bots(page, 0)
    page.wait_for_selector("#qa-sources .qa-empty", state="attached")
    ask(page, IP_QUESTION)
    assert rec.questions[-1].history == ()  # the cleared question is not borrowed
    assert "2032" in page.locator("#qa-sources").inner_text()
    bots(page).last.hover()
    page.locator('#qa-chat button[aria-label="Like"]').last.click()
    wait_until(lambda: feedback_records(svc) and feedback_records(svc)[-1]["question"] == IP_QUESTION)
    ask(page, "Who runs it?")
    assert [h.question for h in rec.questions[-1].history] == [IP_QUESTION]


@BOTH
def test_trash_while_loading_drops_the_stale_answer(page, server):
    """Cleared while an answer loads: the answer, when it arrives, must not bring the cleared question
    back (chat, sources, Ask state, follow-up context, votes), also when a new question is loading."""
    url, svc, rec = server
    open_page(page, url)
    cleared_q = "Who is OpenAI's CEO?"
    rec.delays = [2.0, 4.0]  # the cleared question's answer lands while the next one is still loading
    try:
        done = len(rec.finished)
        page.fill("#qa-question textarea", cleared_q)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector("#qa-ask[disabled]", timeout=5000)  # loading
        page.click('#qa-chat button[aria-label="Clear"]')  # the chat's own trash icon, while loading
        page.wait_for_function("document.querySelectorAll('#qa-chat [data-testid=\"user\"]').length === 0")
        page.wait_for_selector("#qa-ask:not([disabled])")  # clearing lets the user ask again at once
        page.fill("#qa-question textarea", IP_QUESTION)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_function("document.querySelectorAll('#qa-chat [data-testid=\"user\"]').length === 1")
        wait_until(lambda: cleared_q in rec.finished[done:])  # the cleared question's answer is computed…
        page.wait_for_timeout(800)  # …and would be on the page by now
        assert bots(page).count() == 0, "the cleared question's answer came back"
        assert page.locator('#qa-chat [data-testid="user"]').all_inner_texts()[0].strip() == IP_QUESTION
        assert page.locator("#qa-ask").is_disabled()  # the new question is still loading
        assert page.locator("#qa-sources .qa-empty").count() == 1
        wait_bots(page, 1)
    finally:
        rec.delays = []
    page.wait_for_selector("#qa-ask:not([disabled])")
    assert "2032" in last_bot(page) and "2032" in page.locator("#qa-sources").inner_text()
    assert rec.questions[-1].text == IP_QUESTION and rec.questions[-1].history == ()
    assert page.locator('#qa-chat [data-testid="user"]').count() == 1
    bots(page).last.click(position={"x": 5, "y": 5})
    page.locator('#qa-chat button[aria-label="Like"]').last.click()
    wait_until(lambda: feedback_records(svc) and feedback_records(svc)[-1]["question"] == IP_QUESTION)
    ask(page, "Who runs it?")
    assert [h.question for h in rec.questions[-1].history] == [IP_QUESTION]  # not the cleared one


# -- point 2: examples are whole questions the articles answer, asked on click ------------------------
@BOTH
def test_examples_are_whole_answered_questions(page, server):
    url, _, rec = server
    open_page(page, url)
    examples = page.locator("#qa-examples .qa-example")
    texts = [t.strip() for t in examples.all_inner_texts()]
    assert texts
    for t in texts:
        assert t.endswith("?") and "…" not in t and not t.startswith("What is reported about")
    examples.first.click()
    wait_bots(page, 1)
    page.wait_for_selector("#qa-sources .qa-citation")
    assert rec.questions[-1].text == texts[0]
    assert not last_bot(page).startswith("Not in the articles")


# -- point 3: filters are said in the answer; undated articles one click away; bad ranges refused -----
def test_filtered_answer_says_so_and_offers_undated(page, server, capfd, artifacts):
    url, svc, rec = server
    open_page(page, url)
    assert page.input_value("#qa-asof input, #qa-asof textarea") == max(a.date for a in svc.store.articles if a.date)
    assert "over a year ago" in page.locator("#qa-asof").inner_text()  # the seeds are from 2025
    page.fill("#qa-from textarea, #qa-from input", "2025-08-01")
    ask(page, IP_QUESTION)
    undated = sum(1 for a in svc.store.articles if not a.date)
    bot = last_bot(page)
    assert "Filters: dated 2025-08-01 to …" in bot and f"{undated} undated articles left out" in bot
    assert "undated articles left out" in page.locator("#qa-sources .qa-filters-note").inner_text()
    page.click("#qa-include-undated")
    wait_bots(page, 2)
    page.wait_for_selector("#qa-sources .qa-citation")
    assert rec.calls[-1]["filters"].date_from == "2025-08-01"
    assert getattr(rec.calls[-1]["filters"], "keep_undated", False) or rec.calls[-1]["filters"].date_from is None
    assert "2032" in last_bot(page)  # the undated heise article answers it
    page.screenshot(path=str(artifacts / "filtered_answer.png"), full_page=True)
    # a reversed range and an unreal day are refused next to the fields, without error badges
    for lo, hi, said in (("2025-09-01", "2025-08-01", "after"), ("2025-13-45", "", "not a real day")):
        page.fill("#qa-from textarea, #qa-from input", lo)
        page.fill("#qa-to textarea, #qa-to input", hi)
        page.fill("#qa-question textarea", IP_QUESTION)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector(f"#qa-filter-msg .qa-invalid:has-text('{said}')")
        assert bots(page).count() == 2
        assert page.get_by_text("Error", exact=True).count() == 0
    assert "Traceback" not in capfd.readouterr().err


# -- point 4: the Passages slider bounds what the answer reads ---------------------------------------
@BOTH
def test_passages_slider_bounds_answer(page, server):
    url, svc, rec = server
    open_page(page, url)
    as_of = page.input_value("#qa-asof input, #qa-asof textarea")
    question = two_citation_question(svc, as_of)
    ask(page, question)
    assert page.locator("#qa-sources .qa-citation").count() >= 2
    page.fill("#qa-k input[type=number]", "1")
    page.press("#qa-k input[type=number]", "Enter")
    ask(page, question)
    assert rec.calls[-1]["k"] == 1 and rec.calls[-1].get("read") == 1
    assert page.locator("#qa-sources .qa-citation").count() == 1  # it reads only the one passage shown
    assert page.locator("#qa-sources .qa-uncited").count() == 0


# -- point 5: [n] is a button: its quote, its card scrolled to and highlighted ----------------------
@BOTH
def test_citation_click_shows_quote_and_card(page, server):
    url, svc, _ = server
    open_page(page, url)
    ask(page, two_citation_question(svc, page.input_value("#qa-asof input, #qa-asof textarea")))
    card2 = page.locator("#qa-sources .qa-citation[data-n='2']")
    quote2 = " ".join(card2.locator("mark.qa-cited").inner_text().split())
    page.evaluate("window.scrollTo(0, 0)")
    bots(page).last.locator(".qa-cite[data-n='2']").first.click()
    pop = page.locator(".qa-cite-pop")
    pop.wait_for()
    assert quote2[:60] in " ".join(pop.inner_text().split())
    assert page.locator("#qa-sources .qa-citation.qa-flash").get_attribute("data-n") == "2"
    box = card2.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]  # scrolled into view
    # by keyboard: Tab reaches it, Enter opens it
    page.keyboard.press("Escape")
    assert pop.count() == 0
    bots(page).last.locator(".qa-cite[data-n='1']").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#qa-sources .qa-citation.qa-flash[data-n='1']")
    first_quote = page.locator("#qa-sources .qa-citation[data-n='1'] mark.qa-cited").inner_text()
    # a marker of an earlier answer first shows that answer's sources
    ask(page, IP_QUESTION)
    assert page.locator("#qa-sources .qa-sources[data-turn='1']").count() == 1
    bots(page).first.locator(".qa-cite[data-n='1']").first.click()
    page.wait_for_selector("#qa-sources .qa-sources[data-turn='0'] .qa-citation.qa-flash[data-n='1']")
    assert page.locator("#qa-sources .qa-citation[data-n='1'] mark.qa-cited").inner_text() == first_quote


# -- point 7: one refusal sentence, styled apart; loading shows the question and holds a second one --
@BOTH
def test_refusal_once_and_loading_state(page, server):
    from qa.present.ui_render import REFUSAL

    url, _, rec = server
    open_page(page, url)
    ask(page, OFF_TOPIC)
    text = last_bot(page)
    assert text.startswith(REFUSAL) and text.count("Not in the articles") == 1
    assert "don't say" not in text and "I found nothing" not in text and "Leads:" in text
    assert "qa-refusal" in (bots(page).last.get_attribute("class") or "")
    rec.delay = 2.5
    try:
        page.fill("#qa-question textarea", IP_QUESTION)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_function("document.querySelectorAll('#qa-chat [data-testid=\"user\"]').length === 2", timeout=2000)
        assert bots(page).count() == 1  # the question is shown before its answer
        assert page.locator("#qa-ask").is_disabled()
        page.fill("#qa-question textarea", "And the research IP?")
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector("#qa-box-msg .qa-notice:has-text('Still answering')", timeout=2000)
        assert page.input_value("#qa-question textarea") == "And the research IP?"  # kept, not dropped
        wait_bots(page, 2)
    finally:
        rec.delay = 0.0
    page.wait_for_selector("#qa-ask:not([disabled])")
    assert "2032" in last_bot(page)


# -- point 8: notes the API returns are shown; the box says its limit ---------------------------------
@BOTH
def test_notes_and_question_limit_shown(page, server):
    url, _, _ = server
    open_page(page, url)
    box = page.locator("#qa-question textarea")
    assert box.get_attribute("maxlength") == "100000" and "2,000" in box.get_attribute("placeholder")
    long_q = IP_QUESTION + " " + "and also tell me more about it " * 80
    assert len(long_q) > 2000
    ask(page, long_q)
    assert "Note: the question is" in last_bot(page) and "2,000" in last_bot(page)


# -- point 9: selection marked, keyboard reachable, accessible names, narrow why, one vote ------------
def test_selection_keyboard_and_votes(page, server):
    url, svc, _ = server
    open_page(page, url)
    assert page.get_by_role("textbox", name="Question", exact=True).count() == 1
    ask(page, "Who is OpenAI's CEO?")
    ask(page, IP_QUESTION)
    first, second = bots(page).nth(0), bots(page).nth(1)
    assert "qa-selected" in second.get_attribute("class")  # the newest answer is the selected one
    first.click(position={"x": 5, "y": 5})
    page.wait_for_selector("#qa-sources .qa-sources[data-turn='0']")
    assert "qa-selected" in first.get_attribute("class") and "qa-selected" not in second.get_attribute("class")
    second.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#qa-sources .qa-sources[data-turn='1']")
    assert "qa-selected" in second.get_attribute("class")
    open_accordion(page, "qa-why-acc")
    why = page.locator("#qa-why .qa-why").inner_text()
    assert "[1]" in why and not any(cid in why for cid in list(svc.store.data.chunk_ids)[:60])
    # like / dislike: at least 32 px, one vote per answer, with an optional reason
    second.hover()
    like = page.locator('#qa-chat button[aria-label="Like"]').last
    bb = like.bounding_box()
    assert bb["width"] >= 32 and bb["height"] >= 32
    like.click()
    wait_until(lambda: any(r.get("liked") is True and r.get("question") == IP_QUESTION for r in feedback_records(svc)))
    page.locator('#qa-chat button[aria-label="Dislike"]').last.click()
    # the reason goes with the vote the server holds: wait (as a user sees the toast) for 👎 to land
    wait_until(lambda: any(r.get("liked") is False and r.get("question") == IP_QUESTION for r in feedback_records(svc)))
    page.wait_for_selector("#qa-reason-row textarea, #qa-reason textarea")
    page.fill("#qa-reason textarea", "the year is wrong")
    page.click("#qa-reason-send")
    wait_until(lambda: any(r.get("reason") == "the year is wrong" for r in feedback_records(svc)))
    voted = next(r for r in feedback_records(svc) if r.get("reason") == "the year is wrong")
    assert voted["liked"] is False and voted["question"] == IP_QUESTION
    assert sum(r["answer_id"] == voted["answer_id"] for r in feedback_records(svc)) == 1  # 👍 then 👎: one vote


# -- 390 x 844: the answered chat on a phone ----------------------------------------------------------
def test_phone_answer_citation_and_why_fit(phone, server, artifacts):
    url, _, _ = server
    TIMINGS["phone_page_load_to_usable_s"] = round(open_page(phone, url), 3)
    TIMINGS["phone_question_answered_s"] = round(ask(phone, "What did Microsoft and OpenAI agree?"), 3)
    ask(phone, "Who is OpenAI's CEO?")
    # the new answer's first line is in view (the chat does not jump to the bottom of a long answer)
    in_view = bots(phone).last.evaluate("""m => { let p = m.parentElement;
        while (p && !(/(auto|scroll)/.test(getComputedStyle(p).overflowY) && p.scrollHeight > p.clientHeight)) p = p.parentElement;
        if (!p) return true; const a = m.getBoundingClientRect(), b = p.getBoundingClientRect();
        return a.top >= b.top - 2 && a.top < b.bottom; }""")
    assert in_view
    bots(phone).last.locator(".qa-cite[data-n='1']").first.click()
    phone.wait_for_selector("#qa-sources .qa-citation.qa-flash[data-n='1']")
    open_accordion(phone, "qa-why-acc")
    fits = phone.locator("#qa-why .qa-why").evaluate(
        "e => { const t = e.querySelector('table'); return t.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().right <= window.innerWidth + 1; }")
    assert fits, "the why-these-passages table is wider than the phone screen"
    bots(phone).last.click(position={"x": 5, "y": 5})
    like = phone.locator('#qa-chat button[aria-label="Like"]').last
    bb = like.bounding_box()
    assert bb["width"] >= 32 and bb["height"] >= 32
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(artifacts / "chat_phone.png"))  # what a phone shows: the answered chat


# -- issue 17 point 9: /ask arguments are checked, the error names the argument ------------------------
@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"question": None}, "question"), ({"k": [1]}, "k"), ({"date_to": 12345}, "date_to"),
    ({"date_from": "2025-13-45"}, "date_from"), ({"outlets": "AInvest"}, "outlets"), ({"outlets": [1, 2]}, "outlets"),
])
def test_api_refuses_bad_arguments_by_name(server, capfd, kwargs, argument):
    from gradio_client import Client

    url, _, _ = server
    args = {"question": IP_QUESTION, **kwargs}
    with pytest.raises(Exception) as err:  # noqa: PT011 - gradio_client raises its AppError
        Client(url, verbose=False).predict(**args, api_name="/ask")
    assert f"{argument}:" in str(err.value)
    assert "Traceback" not in capfd.readouterr().err


def test_api_as_of_bounds_articles(server):
    from gradio_client import Client

    url, _, rec = server
    ans = Client(url, verbose=False).predict("Who is OpenAI's CEO?", as_of="2025-05-11", api_name="/ask")
    assert rec.questions[-1].as_of == "2025-05-11" and ans["as_of"] == "2025-05-11"
    assert all(c["date"] is None or c["date"] <= "2025-05-11" for c in ans["citations"])


NEW_ARTICLE = """Glimmerfield Council Opens Floating Library

date 2025-09-14

The town of Glimmerfield opened a floating library on Lake Vessa on Saturday.
The library barge holds 12,000 books and was designed by the architect Orla Quenby.
Mayor Tamsin Reed said the barge would dock at four villages every week.
"""


def upload_new_article(page, tmp_path) -> None:
    """Upload NEW_ARTICLE as glimmerfield.txt through the page (already open) and wait until it is indexed."""
    path = tmp_path / "glimmerfield.txt"
    path.write_text(NEW_ARTICLE)
    open_accordion(page, "qa-upload-acc")
    page.set_input_files("#qa-files input[type=file]", str(path))
    wait_for_file(page, "glimmerfield")
    page.click("#qa-add")
    page.wait_for_selector("#qa-status :text('Added 1 file')", timeout=60000)


def test_upload_then_ask(page, server, tmp_path):
    url, svc, _ = server
    open_page(page, url)
    upload_new_article(page, tmp_path)
    assert (Path(svc.index_dir) / "uploads" / "glimmerfield.txt").exists()
    ask(page, "Who designed the floating library barge?")
    assert "Quenby" in last_bot(page)
    assert "Glimmerfield" in page.locator("#qa-sources .qa-citation").first.inner_text()
    # the date placeholders follow the upload (dated 2025-09-14, after every seed)
    assert page.get_attribute("#qa-to textarea, #qa-to input", "placeholder") == "2025-09-14"
    # Gradio's temporary copy of the upload is gone once it is stored
    cache = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    assert not list(cache.rglob("glimmerfield.txt"))
    assert str(svc.index_dir) not in page.locator("#qa-status").inner_text()


def test_upload_refuses_other_types(page, server, tmp_path):
    url, svc, _ = server
    path = tmp_path / "evil.sh"
    path.write_text("rm -rf /\n")
    open_page(page, url)
    open_accordion(page, "qa-upload-acc")
    page.set_input_files("#qa-files input[type=file]", str(path))
    page.click("#qa-add")
    # refused in the browser (file_types) or by the server's UploadPolicy: either way a message
    page.wait_for_selector("#qa-status :text-matches('No files to add|can be added', 'i')", timeout=30000)
    assert not (Path(svc.index_dir) / "uploads" / "evil.sh").exists()


HOSTILE = """Zorblax Reactor Report <script>window.__pwned = 'script'; alert('script')</script>

The Zorblax reactor in Quillmoor was switched on in 2031 <img src=x onerror="window.__pwned='img'; alert('img')">.
Engineers praised the Zorblax reactor <a href="javascript:window.__pwned='link'">read more</a> and [click](javascript:alert('md')).
The Zorblax reactor <svg onload="window.__pwned='svg'"></svg> cost **9 billion** crowns <iframe src="javascript:alert('iframe')"></iframe>.
"""


def test_hostile_text_is_shown_as_text(page, server, tmp_path):
    url, svc, _ = server
    path = tmp_path / "zorblax.txt"
    path.write_text(HOSTILE)
    svc.add_files([path])
    open_page(page, url)
    question = "When was the Zorblax reactor switched on? <img src=y onerror=\"window.__pwned='q'\"> <script>alert('q')</script>"
    ask(page, question)
    open_accordion(page, "qa-why-acc")
    page.locator("#qa-sources details").evaluate_all("els => els.forEach(e => e.open = true)")
    page.wait_for_timeout(500)
    sources = page.locator("#qa-sources").inner_text()
    assert "<img src=x onerror=" in sources  # shown as text, not made an element
    assert "<img src=y onerror=" in page.locator('[data-testid="user"]').last.inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert page.locator("#qa-sources img, #qa-sources script, #qa-sources svg, #qa-sources iframe, "
                        "#qa-sources a, [data-testid='user'] img, [data-testid='bot'] img").count() == 0


# -- point 6: the article library --------------------------------------------------------------------
def test_library_lists_edits_and_opens_articles(page, server, tmp_path, artifacts):
    url, svc, _ = server
    open_page(page, url)
    if not (Path(svc.index_dir) / "uploads" / "glimmerfield.txt").exists():  # run alone, not after the upload test
        (tmp_path / "first").mkdir()
        upload_new_article(page, tmp_path / "first")
    ask(page, IP_QUESTION)
    open_accordion(page, "qa-library-acc")
    rows = page.locator("#qa-library tbody tr")
    assert rows.count() == len(svc.store.articles)
    lib = page.locator("#qa-library").inner_text()
    assert str(svc.index_dir) not in lib and "/tmp" not in lib and "glimmerfield.txt (uploaded)" in lib
    assert "no outlet" in lib and "no date" in lib  # missing values are said, to be filled in
    # open the cited article whole, its cited sentence highlighted
    heise = next(a for a in svc.store.articles if "2032" in a.text)
    pick_option(page, "qa-lib-doc", heise.title)
    page.wait_for_selector("#qa-article mark.qa-cited")
    assert "2032" in page.locator("#qa-article mark.qa-cited").first.inner_text()
    assert page.locator("#qa-lib-delete").is_hidden()  # a corpus article cannot be deleted here
    # correct an uploaded article's outlet: saved and re-indexed
    pick_option(page, "qa-lib-doc", "Glimmerfield Council Opens Floating Library")
    page.wait_for_selector("#qa-lib-delete", state="visible")
    page.fill("#qa-lib-source textarea, #qa-lib-source input", "Glimmer Gazette")
    page.click("#qa-lib-save")
    page.wait_for_selector("#qa-status :text('Saved the details of glimmerfield.txt')", timeout=60000)
    page.wait_for_selector("#qa-library td:text('Glimmer Gazette')", timeout=15000)
    glim = next(a for a in svc.store.articles if a.title.startswith("Glimmerfield"))
    assert glim.source == "Glimmer Gazette"
    page.locator("#qa-library-acc").screenshot(path=str(artifacts / "library.png"))
    # re-uploading the unchanged file says so
    path = tmp_path / "glimmerfield.txt"
    path.write_text(NEW_ARTICLE)
    open_accordion(page, "qa-upload-acc")
    page.set_input_files("#qa-files input[type=file]", str(path))
    wait_for_file(page, "glimmerfield")
    page.click("#qa-add")
    page.wait_for_selector("#qa-status :text('already indexed, unchanged')", timeout=30000)
    # delete the upload
    n = len(svc.store.articles)
    page.click("#qa-lib-delete")
    page.wait_for_selector("#qa-status :text('Deleted glimmerfield.txt')", timeout=60000)
    assert len(svc.store.articles) == n - 1
    assert not (Path(svc.index_dir) / "uploads" / "glimmerfield.txt").exists()


# -- point 10: an article without metadata is attributed to the outlet its text names, undated said ---
NO_METADATA = """Orinex Buys the Quarrytown Solar Farm

Orinex Energy has agreed to buy the Quarrytown solar farm in the Kestrel Valley for 410 million euros, the Financial Times reported on Monday.
The farm produces 300 megawatts and employs 85 people, according to the company.
Orinex chief executive Marit Halvorsen said the purchase would double the group's solar capacity.
"""


def test_attribution_without_metadata(page, server, tmp_path):
    url, svc, rec = server
    path = tmp_path / "orinex_solar.txt"  # no date line, no sidecar entry: nothing but the text
    path.write_text(NO_METADATA)
    svc.add_files([path])  # stored in uploads/ as the page's upload does (tested above), indexed now
    open_page(page, url)
    art = next(a for a in svc.store.articles if a.title.startswith("Orinex"))
    assert art.source is None and art.date is None
    ask(page, "How much did Orinex pay for the Quarrytown solar farm?")
    answer = last_bot(page)
    assert "410 million euros" in answer
    assert "In an undated article, Financial Times reports:" in answer  # the outlet the text names
    assert not re.search(r"“Orinex[^”]*” reports", answer)  # not its title or opening words
    # the seed the issue quoted: no outlet in its metadata, dated, its text says "Financial Times reported"
    ft = next(a for a in svc.store.articles if "Financial Times reported" in a.text and a.date and not a.source)
    ask(page, "Does OpenAI plan an IPO?")
    text = last_bot(page)
    assert any(c.doc_id == ft.doc_id for c in svc.ask(rec.questions[-1], **rec.calls[-1]).citations)
    assert "As of 12 May 2025, Financial Times reports:" in text
    assert not re.search(r"“OpenAI and Microsoft are in the midst[^”]*” reports", text)  # the reading
