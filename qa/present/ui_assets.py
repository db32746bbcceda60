"""The chat page's stylesheet and its one script.

The script only rearranges text the page already shows: it wraps ``[n]`` markers of answers in
focusable buttons (built with ``createElement``/``textContent``, never ``innerHTML``), and on click
or Enter shows the cited quote, scrolls to and highlights its source card; it keeps a new answer's
first line in view, marks the selected answer, makes messages reachable by keyboard, and styles
refusals apart from answers.
"""
from __future__ import annotations

CSS = """
.qa-sources mark.qa-cited { background: #ffe680; color: inherit; padding: 0 .1em; }
.qa-citation, .qa-passage-card { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .5em; margin: .4em 0; }
.qa-citation.qa-flash { outline: 3px solid #e0a800; box-shadow: 0 0 0 4px rgba(224,168,0,.25); }
.qa-meta { font-size: .9em; opacity: .85; margin-bottom: .3em; }
.qa-title { font-weight: 600; }
.qa-abstained { border-left: 4px solid #d9822b; padding: .5em; background: rgba(217,130,43,.1); }
.qa-error, .qa-invalid { border-left: 4px solid #c0392b; padding: .3em .5em; color: #a93226; font-size: .9em; }
.qa-notice { border-left: 4px solid #2e86c1; padding: .3em .5em; font-size: .9em; }
.qa-filters-note { font-size: .9em; padding: .3em .5em; background: rgba(46,134,193,.08); border-radius: 4px; }
.qa-why table, .qa-library table { font-size: .85em; border-collapse: collapse; width: 100%; table-layout: fixed; }
.qa-why td, .qa-why th, .qa-library td, .qa-library th { padding: .15em .4em; border-bottom: 1px solid var(--border-color-primary);
  overflow-wrap: anywhere; vertical-align: top; text-align: left; }
.qa-why td.qa-rank, .qa-why th:first-child { width: 2.2em; }
.qa-why td.qa-cited-n, .qa-why th:nth-child(2) { width: 3.6em; }
.qa-why .qa-scores { font-size: .85em; opacity: .8; }
.qa-library { max-height: 320px; overflow-y: auto; }
.qa-missing { opacity: .6; font-style: italic; }
.qa-article { max-height: 420px; overflow-y: auto; white-space: pre-wrap; border: 1px solid var(--border-color-primary); padding: .5em; }
.qa-article mark.qa-cited { background: #ffe680; }
.qa-cite { color: var(--link-text-color, #1a5fb4); text-decoration: underline; cursor: pointer; border-radius: 3px; }
.qa-cite:focus-visible { outline: 2px solid #1a5fb4; }
.qa-cite-pop { position: absolute; z-index: 1000; max-width: min(420px, 90vw); background: var(--background-fill-primary, #fff);
  border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .5em; font-size: .9em; box-shadow: 0 2px 10px rgba(0,0,0,.2); }
#qa-chat .qa-refusal { border-left: 4px solid #d9822b !important; background: rgba(217,130,43,.1) !important; }
#qa-chat .qa-selected { outline: 2px solid #2e86c1; outline-offset: 2px; }
#qa-chat [data-testid="bot"]:focus-visible, #qa-chat [data-testid="user"]:focus-visible { outline: 2px solid #1a5fb4; }
#qa-chat button[aria-label="Like"], #qa-chat button[aria-label="Dislike"] { min-width: 32px !important; min-height: 32px !important; }
#qa-chat button[aria-label="Like"] svg, #qa-chat button[aria-label="Dislike"] svg { width: 20px; height: 20px; }
.qa-example { white-space: normal !important; text-align: left; height: auto !important; }
"""

HEAD = r"""
<script>
(() => {
  const CITE = /\[(\d{1,3})\]/g;
  let pending = null;  // {turn, n}: a citation to highlight once its answer's sources are shown
  let lastBots = 0;

  const bots = () => Array.from(document.querySelectorAll('#qa-chat [data-testid="bot"]'));

  function wrapCites(msg) {
    const walker = document.createTreeWalker(msg, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) {
      const t = walker.currentNode;
      CITE.lastIndex = 0;
      if (CITE.test(t.data) && !t.parentElement.closest('.qa-cite, button')) nodes.push(t);
    }
    for (const t of nodes) {
      const s = t.data, frag = document.createDocumentFragment();
      let last = 0;
      CITE.lastIndex = 0;
      for (const m of s.matchAll(CITE)) {
        frag.append(document.createTextNode(s.slice(last, m.index)));
        const b = document.createElement('span');
        b.className = 'qa-cite';
        b.setAttribute('role', 'button');
        b.tabIndex = 0;
        b.dataset.n = m[1];
        b.setAttribute('aria-label', 'source ' + m[1]);
        b.textContent = m[0];
        frag.append(b);
        last = m.index + m[0].length;
      }
      frag.append(document.createTextNode(s.slice(last)));
      t.replaceWith(frag);
    }
  }

  function closePop() { document.querySelectorAll('.qa-cite-pop').forEach(p => p.remove()); }

  function showCite(turn, n, anchor) {
    const panel = document.querySelector('#qa-sources .qa-sources');
    if (!panel || String(panel.dataset.turn) !== String(turn)) { pending = {turn, n, anchor}; return; }
    pending = null;
    const card = panel.querySelector('.qa-citation[data-n="' + n + '"]');
    if (!card) return;
    document.querySelectorAll('.qa-citation.qa-flash').forEach(c => c.classList.remove('qa-flash'));
    card.classList.add('qa-flash');
    card.scrollIntoView({block: 'center', behavior: 'instant'});
    closePop();
    if (anchor && anchor.isConnected) {
      const mark = card.querySelector('mark.qa-cited');
      const pop = document.createElement('div');
      pop.className = 'qa-cite-pop';
      pop.setAttribute('role', 'tooltip');
      pop.textContent = '[' + n + '] ' + (mark ? mark.textContent : card.textContent);
      document.body.append(pop);
      const r = anchor.getBoundingClientRect();
      pop.style.left = Math.max(4, Math.min(window.scrollX + r.left, window.scrollX + document.documentElement.clientWidth - pop.offsetWidth - 4)) + 'px';
      pop.style.top = (window.scrollY + r.bottom + 4) + 'px';
      anchor.setAttribute('aria-describedby', 'qa-cite-pop');
      pop.id = 'qa-cite-pop';
    }
  }

  function select(msg) {
    document.querySelectorAll('#qa-chat .qa-selected').forEach(m => m.classList.remove('qa-selected'));
    if (msg) { msg.classList.add('qa-selected'); msg.setAttribute('aria-current', 'true'); }
    bots().forEach(m => { if (m !== msg) m.removeAttribute('aria-current'); });
  }

  function scrollerOf(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  }

  function tidy() {
    const list = bots();
    list.forEach((m, i) => {
      m.dataset.turn = i;
      if (!m.hasAttribute('tabindex')) {
        m.tabIndex = 0;
        m.setAttribute('aria-label', 'answer ' + (i + 1) + ': press Enter to show its sources');
      }
      wrapCites(m);
      const text = (m.innerText || '').trim();
      m.classList.toggle('qa-refusal', text.startsWith('Not in the articles') || text.startsWith('Could not answer'));
    });
    document.querySelectorAll('#qa-chat [data-testid="user"]').forEach(m => { if (!m.hasAttribute('tabindex')) m.tabIndex = 0; });
    if (list.length !== lastBots) {
      if (list.length > lastBots && list.length) {
        const newest = list[list.length - 1];
        select(newest);
        const sc = scrollerOf(newest);
        if (sc) {
          const users = document.querySelectorAll('#qa-chat [data-testid="user"]');
          const q = users[users.length - 1];
          const top = (q && newest.getBoundingClientRect().bottom - q.getBoundingClientRect().top <= sc.clientHeight) ? q : newest;
          sc.scrollTop += top.getBoundingClientRect().top - sc.getBoundingClientRect().top - 8;
        }
      }
      lastBots = list.length;
    }
    if (pending) showCite(pending.turn, pending.n, pending.anchor);
    const box = document.querySelector('#qa-question textarea');
    if (box && !box.getAttribute('aria-label')) box.setAttribute('aria-label', 'Question');
  }

  document.addEventListener('click', (e) => {
    const cite = e.target.closest && e.target.closest('#qa-chat .qa-cite');
    const msg = e.target.closest && e.target.closest('#qa-chat [data-testid="bot"]');
    if (msg) select(msg);
    if (cite && msg) { showCite(msg.dataset.turn, cite.dataset.n, cite); return; }
    if (!(e.target.closest && e.target.closest('.qa-cite-pop'))) closePop();
  }, true);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { closePop(); return; }
    if (e.key !== 'Enter' && e.key !== ' ') return;
    const t = e.target;
    if (t.classList && (t.classList.contains('qa-cite') || t.matches('#qa-chat [data-testid="bot"], #qa-chat [data-testid="user"]'))) {
      e.preventDefault();
      t.click();
    }
  });
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; tidy(); });
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
</script>
"""
