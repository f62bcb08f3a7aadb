"""The page in a real headless Chromium (DevTools protocol over a pipe): synthetic-data provenance, no sideways
scroll at 420 px, a case drill-down with marked sentences, no console errors. Screenshots go to pytest's tmp dir."""

from __future__ import annotations

import pytest


@pytest.fixture
def site(synthetic_site):
    return synthetic_site


def test_wide_page_reads_synthetic_first(site, browser, tmp_path):
    browser.open(site.as_uri(), width=1400)
    assert browser.eval("document.documentElement.getAttribute('data-js')") == "ready"
    assert browser.eval("document.documentElement.scrollWidth <= innerWidth")
    banner = browser.eval("document.getElementById('provenance').getBoundingClientRect().top")
    assert banner < 200  # above the fold, under the title
    assert "Synthetic data" in browser.eval("document.getElementById('provenance').innerText")
    ranks = browser.eval(
        "[...document.getElementById('2026-subtask-2-test').querySelectorAll('table.scores tbody td.rank')]"
        ".map(td => td.textContent.trim())"
    )
    assert ranks == ["1", "2"]  # recall-all clearly beats recall-one on 12 cases: two clusters
    shot = browser.screenshot(tmp_path / "page-1400.png")
    print(f"screenshot: {shot}")
    assert browser.errors == []


def test_narrow_page_has_no_sideways_scroll(site, browser, tmp_path):
    browser.open(site.as_uri(), width=420)
    assert browser.eval("document.documentElement.scrollWidth") <= 420
    # the score tables scroll inside their own box, and the charts are scaled down to fit
    assert browser.eval(
        "[...document.querySelectorAll('svg.chart')].every(s => s.getBoundingClientRect().right <= 420)"
    )
    shot = browser.screenshot(tmp_path / "page-420.png")
    print(f"screenshot: {shot}")
    assert browser.errors == []


def test_drill_down_shows_marked_sentences(site, browser, tmp_path):
    browser.open(site.as_uri(), width=1400)
    block = "#cases-2026-subtask-2-test"
    assert browser.eval(f"document.querySelector('{block} .case-detail[data-case=\"21\"]').hidden")
    browser.eval(f"document.querySelector('{block} button.case-open[data-case=\"21\"]').click()")
    detail = f'{block} .case-detail[data-case="21"]'
    assert browser.eval(f"!document.querySelector('{detail}').hidden")
    sides = browser.eval(f"[...document.querySelectorAll('{detail} .side')].filter(s => !s.hidden).length")
    assert sides == 2  # A and B side by side
    marks = browser.eval(
        f"[...document.querySelectorAll('{detail} .side:not([hidden]) li')]"
        ".map(li => [li.className, li.querySelector('.sym').textContent])"
    )
    classes = {m[0] for m in marks}
    assert {"mark-both", "mark-predicted"} <= classes and "mark-gold" in classes  # recall-one misses gold ids
    assert {tuple(m) for m in marks} >= {("mark-both", "✓"), ("mark-gold", "○"), ("mark-predicted", "✗")}
    # note text of the synthetic data is shown
    assert "splenic laceration" in browser.eval(f"document.querySelector('{detail}').innerText")
    # sort cases by A - B: differences end up in descending order
    browser.eval(f"document.querySelector('{block} button.sort-diff').click()")
    diffs = browser.eval(
        f"[...document.querySelectorAll('{block} td.diff')].map(td => parseFloat(td.getAttribute('data-value')))"
    )
    assert diffs == sorted(diffs, reverse=True) and diffs[0] > 0
    browser.eval(f"document.querySelector('{detail}').scrollIntoView()")
    shot = browser.screenshot(tmp_path / "drill-down.png")
    print(f"screenshot: {shot}")
    assert browser.errors == []


def test_subtask4_and_text_drill_down(site, browser):
    browser.open(site.as_uri(), width=1400)
    browser.eval("document.querySelector('#cases-2026-subtask-4-test button.case-open').click()")
    links = browser.eval(
        "[...document.querySelectorAll('#cases-2026-subtask-4-test .case-detail:not([hidden]) "
        ".side:not([hidden]) ul.links li')].map(li => li.className)"
    )
    assert "mark-both" in links and "mark-gold" in links  # fewer-links drops gold links
    browser.eval("document.querySelector('#cases-2026-subtask-3-test button.case-open').click()")
    text = browser.eval("document.querySelector('#cases-2026-subtask-3-test .case-detail:not([hidden])').innerText")
    assert "Reference" in text and "BLEU" in text
    assert browser.errors == []
