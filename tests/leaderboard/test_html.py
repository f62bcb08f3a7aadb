"""The static page: hostile text is escaped; it renders in headless Chromium (tables, charts, script), offline."""

from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from leaderboard.comparability import build_tables
from leaderboard.records import MetricResult
from leaderboard.render_html import render_page, write_page

HOSTILE = "<script>alert(1)</script>"


class _Elements(HTMLParser):
    """Counts elements and collects event-handler attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.handlers: list[str] = []
        self.text: list[str] = []
        self.root_attrs: dict[str, str | None] = {}
        self._in_tbody = 0
        self.body_rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "html":
            self.root_attrs = dict(attrs)
        if tag == "tbody":
            self._in_tbody += 1
        if tag == "tr" and self._in_tbody:
            self.body_rows += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_tbody -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _board(entry_factory):
    """Two comparable subtask-3 entries (one hostile) and one apart (other case ids)."""
    hostile = entry_factory(
        HOSTILE,
        seed=1,
        card={
            "name": HOSTILE,
            "fingerprint": "f" * 64,
            "description": '<img src=x onerror="alert(2)">',
            "config": {"prompt": "</pre><script>alert(3)</script>"},
        },
    )
    metrics = dict(hostile.metrics)
    metrics["<b>odd</b>"] = MetricResult("<b>odd</b>", 'odd|<svg onload="alert(4)">', 1.0)
    hostile = replace(hostile, metrics=metrics, split="test-2026")
    entries = [
        hostile.with_id(1, "t"),
        entry_factory("qunlp", seed=2, shift=5).with_id(2, "t"),
        entry_factory("dev-run", seed=3, case_ids=[str(i) for i in range(121, 131)]).with_id(3, "t"),
    ]
    return build_tables(entries)


def test_report_text_is_escaped(entry_factory):
    html = render_page(_board(entry_factory))
    parsed = _parse(html)
    assert parsed.counts["script"] == 1  # only the page's own script
    assert parsed.handlers == []  # no onerror/onload smuggled in
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "<svg onload" not in html and "<b>odd</b>" not in html
    text = "".join(parsed.text)
    assert HOSTILE in text  # shown as text
    assert '<img src=x onerror="alert(2)">' in text
    # nothing is fetched: the only URL is the SVG namespace
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in html


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_page_renders_in_headless_chromium(entry_factory, tmp_path, headless_chromium):
    tables = _board(entry_factory)
    page = write_page(tables, tmp_path / "site")

    dom = subprocess.run(
        [*headless_chromium, "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    parsed = _parse(dom)
    assert parsed.root_attrs.get("data-js") == "ready"  # the inline script ran
    assert parsed.counts.get("table", 0) >= len(tables)
    assert parsed.body_rows >= sum(len(t.rows) for t in tables)
    bars = sum(1 for t in tables for c in t.columns if any(c.id in r.values for r in t.rows))
    assert parsed.counts.get("svg", 0) >= bars + 1  # bar charts plus per-case plots
    assert parsed.counts.get("circle", 0) >= 47 * 2  # one dot per case and system
    assert HOSTILE in "".join(parsed.text)
    assert parsed.counts.get("script", 0) == 1

    shot = tmp_path / "leaderboard.png"
    subprocess.run(
        [*headless_chromium, "--hide-scrollbars", "--window-size=1280,1800", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000
    assert _png_size(shot) == (1280, 1800)
    print(f"leaderboard screenshot: {shot}")
