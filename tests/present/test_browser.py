"""The chat page in a real Chromium (Debian's /usr/bin/chromium through playwright).

One in-process server on a free loopback port serves a writable copy of the seeds index; the tests
run in file order against it (the upload tests add articles). Never wait for ``networkidle``: a
Gradio page keeps an SSE connection open. Timings are measured and written to
tests/artifacts/ui_timings.json, never asserted.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.present.conftest import running_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
IP_QUESTION = "Until when have Microsoft's IP rights been extended?"
OFF_TOPIC = "Who won the 2022 football World Cup?"
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
    """Wraps ``svc.ask`` to record the :class:`Question` objects the UI passes."""

    def __init__(self, svc) -> None:
        self.inner = svc.ask
        self.questions = []

    def __call__(self, q, *a, **kw):
        self.questions.append(q)
        return self.inner(q, *a, **kw)


@pytest.fixture(scope="module")
def server(seeds_index, embedder, tmp_path_factory):
    """(url, svc, recorder): the app on a copy of the seeds index."""
    with running_app(tmp_path_factory.mktemp("ui"), seeds_index, embedder) as (url, svc):
        rec = Recorder(svc)
        svc.ask = rec  # looked up per request, so questions asked through the page are recorded
        yield url, svc, rec
    ARTIFACTS.mkdir(exist_ok=True)
    if TIMINGS:
        (ARTIFACTS / "ui_timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")
        print("\nUI timings (s):", json.dumps(TIMINGS))


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()


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
    """Open a closed accordion (its content is only put in the page when open)."""
    page.click(f"#{elem_id} .label-wrap")


def last_bot(page) -> str:
    return page.locator('[data-testid="bot"]').last.inner_text()


def test_answer_with_citation_and_highlight(page, server):
    url, svc, _ = server
    TIMINGS["page_load_to_usable_s"] = round(open_page(page, url), 3)
    TIMINGS["question_answered_s"] = round(ask(page, IP_QUESTION), 3)
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
    invest = svc.ask("How much has Microsoft invested in OpenAI?").citations[0].quote
    # clicking an earlier answer shows that answer's sources
    page.locator('[data-testid="bot"]').nth(1).click()
    page.wait_for_function("q => document.querySelector('#qa-sources mark.qa-cited').innerText.includes(q)",
                           arg=invest[:40])
    ask(page, IP_QUESTION)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_answered.png"), full_page=True)
    # why these passages: ranks from both retrievers and the question actually run
    open_accordion(page, "qa-why-acc")
    why = page.locator("#qa-why .qa-why")
    assert why.locator(".qa-query").inner_text() == IP_QUESTION
    assert why.locator("tbody tr").count() == 10
    assert "BM25 rank" in why.inner_text()


def test_follow_up_passes_history(page, server):
    url, _, rec = server
    open_page(page, url)
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


NEW_ARTICLE = """Glimmerfield Council Opens Floating Library

date 2025-09-14

The town of Glimmerfield opened a floating library on Lake Vessa on Saturday.
The library barge holds 12,000 books and was designed by the architect Orla Quenby.
Mayor Tamsin Reed said the barge would dock at four villages every week.
"""


def test_upload_then_ask(page, server, tmp_path):
    url, svc, _ = server
    path = tmp_path / "glimmerfield.txt"
    path.write_text(NEW_ARTICLE)
    open_page(page, url)
    open_accordion(page, "qa-upload-acc")
    page.set_input_files("#qa-files input[type=file]", str(path))
    page.wait_for_selector("#qa-files :text('glimmerfield.txt')", timeout=15000)
    page.click("#qa-add")
    page.wait_for_selector("#qa-status :text('Added 1 file')", timeout=60000)
    assert (Path(svc.index_dir) / "uploads" / "glimmerfield.txt").exists()
    ask(page, "Who designed the floating library barge?")
    assert "Quenby" in last_bot(page)
    assert "Glimmerfield" in page.locator("#qa-sources .qa-citation").first.inner_text()


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
