"""Builders of leaderboard entries and score-report dicts; a real board on the synthetic data (real submissions,
the real scorer); a minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` for the page tests."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import random
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import pytest

from harness.data import SYNTHETIC, load_dataset
from harness.data.model import Split
from harness.tasks import get_task
from leaderboard.records import Entry, MetricResult, canonical_digest
from metrics.report import ScoreReport, Unavailable
from metrics.scoring import ScoringOptions, SubmissionScorer

ST3_COMPONENTS = ("bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon")
TEST_2026 = tuple(str(i) for i in range(121, 168))
KEY_HASH = "k" * 64


def signature_of(key: str, variant: str = "a") -> str:
    return f"{key}|impl:test|variant:{variant}|harness:0.1"


def make_entry(
    system: str = "sys",
    *,
    seed: int = 0,
    case_ids: Sequence[str] = TEST_2026,
    split: str = "test-2026",
    key_hash: str = KEY_HASH,
    missing: Sequence[str] = (),
    variants: dict[str, str] | None = None,
    shift: float = 0.0,
    lexical_only: bool = False,
    card: dict[str, Any] | None = None,
) -> Entry:
    """A subtask-3 entry with per-case values drawn from ``seed`` (plus ``shift`` on every value)."""
    rng = random.Random(seed)
    variants = variants or {}
    metrics: dict[str, MetricResult] = {}
    per_component: dict[str, dict[str, float]] = {}
    for key in ST3_COMPONENTS:
        signature = signature_of(key, variants.get(key, "a"))
        if key in missing:
            metrics[key] = MetricResult(
                key, signature, None, "unavailable", reason=f"{key} model not found", fix=f"supply the {key} asset"
            )
            continue
        values = {c: min(100.0, max(0.0, rng.uniform(10, 60) + shift)) for c in case_ids}
        per_component[key] = values
        metrics[key] = MetricResult(key, signature, sum(values.values()) / len(values), per_case=values)
    overall = {c: sum(v[c] for v in per_component.values()) / len(per_component) for c in case_ids}
    metrics["overall_score"] = MetricResult(
        "overall_score",
        signature_of("overall_score", variants.get("overall_score", "a")),
        sum(overall.values()) / len(overall),
        per_case=overall,
        missing=tuple(missing),
    )
    return Entry(
        system=system,
        year="2026",
        subtask=3,
        split=split,
        case_ids=tuple(case_ids),
        key_hash=key_hash,
        metrics=metrics,
        digest=canonical_digest([system, seed, list(case_ids), split, key_hash, list(missing), variants, shift]),
        fingerprint=(card or {}).get("fingerprint"),
        card=card,
        partial=bool(missing),
        missing=tuple(missing),
        lexical_only=lexical_only,
    )


def make_report(
    system: str | None = "sys",
    *,
    seed: int = 0,
    case_ids: Sequence[str] = TEST_2026,
    missing: Sequence[str] = (),
    shift: float = 0.0,
) -> dict[str, Any]:
    """A subtask-3 score-report dict as :class:`metrics.report.ScoreReport` writes it (values from
    :func:`make_entry`); with ``system`` it also carries a ``system`` card."""
    entry = make_entry(system or "unnamed", seed=seed, case_ids=case_ids, missing=missing, shift=shift)
    components = [entry.metrics[k] for k in ST3_COMPONENTS]
    available = [m.value for m in components if m.value is not None]
    overall_signature = f"overall_score|mean:{','.join(ST3_COMPONENTS)}|2026-subtask3|components:abc123"
    report = ScoreReport(
        task="2026/3",
        split="test-2026",
        case_ids=tuple(case_ids),
        key_hash=KEY_HASH,
        scores={**{m.key: m.value for m in components}, "overall_score": None if missing else mean(available)},
        overall_key="overall_score",
        signatures={
            **{m.key: m.signature for m in components},
            "overall_score": overall_signature,
            "scorer": "archehr-score|task:2026-subtask3|harness:0.1.0",
        },
        aggregations={**{k: "mean" for k in ST3_COMPONENTS}, "overall_score": "combined"},
        per_case={m.key: dict(m.per_case) for m in components if m.per_case},
        partial=bool(missing),
        missing=tuple(missing),
        partial_scores={"overall_score": mean(available)} if missing else {},
        unavailable={k: Unavailable(f"{k} model not found", f"supply the {k} asset") for k in missing},
        families={k: "rouge" if k.startswith("rouge") else k for k in ST3_COMPONENTS},
        components={"overall_score": tuple(ST3_COMPONENTS)},
    ).to_json()
    if system is not None:
        report["system"] = {"name": system, "version": "1", "fingerprint": f"fp-{system}-{seed}"}
    return report


def write_report(folder: Path, name: str, report: dict[str, Any]) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


@pytest.fixture
def entry_factory() -> Callable[..., Entry]:
    return make_entry


@pytest.fixture
def report_factory() -> Callable[..., dict[str, Any]]:
    return make_report


@pytest.fixture
def report_file(tmp_path: Path) -> Callable[..., Path]:
    """``report_file(name, **make_report_kwargs)`` writes a report under tmp_path and returns its path."""

    def build(name: str, **kwargs: Any) -> Path:
        return write_report(tmp_path / "reports", name, make_report(**kwargs))

    return build


# ---------------------------------------------------------------------- a real Chromium (DevTools over a pipe)
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FLAGS = (*HEADLESS_FLAGS, "--hide-scrollbars", "--remote-debugging-pipe")


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _onto_3_and_4(read_fd: int, write_fd: int) -> None:
    """In the child: the command pipe on fd 3, the reply pipe on fd 4 (via high copies, so neither clobbers)."""
    high_r, high_w = fcntl.fcntl(read_fd, fcntl.F_DUPFD, 10), fcntl.fcntl(write_fd, fcntl.F_DUPFD, 10)
    os.dup2(high_r, 3)
    os.dup2(high_w, 4)


class Browser:
    """One headless Chromium with one page; ``errors`` collects console errors and uncaught exceptions."""

    def __init__(self, profile: Path, *, timeout: float = 30.0) -> None:
        binary = chromium_path()
        if binary is None:
            raise RuntimeError("no Chromium installed")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4.
        self._proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=lambda: _onto_3_and_4(to_browser_r, from_browser_w),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._timeout = timeout
        self.errors: list[str] = []
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _read_message(self) -> dict[str, Any]:
        deadline = time.monotonic() + self._timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        self.events.append(message)
        if method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(json.dumps(params.get("args", []))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append(params["entry"].get("text", "")[:500])

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: bool = False) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._note(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            message = self._read_message()
            self._note(message)
            if message.get("method") == method:
                return message

    def open(self, url: str, *, width: int, height: int = 900) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            session=True,
        )
        self.events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_for("Page.loadEventFired")

    def eval(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params, session=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, TimeoutError):
            self.call("Browser.close")
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- a board on the synthetic data
def _evidence(split, keep: int) -> list[dict[str, Any]]:
    """Subtask 2: the first ``keep`` essential ids of each case plus sentence 1 (often a false positive)."""
    out = []
    for case in split.cases:
        essential = split.keys[case.case_id].ids_with("essential")
        out.append({"case_id": case.case_id, "prediction": sorted({*essential[:keep], "1"}, key=int)})
    return out


def _links(split, drop_last: bool) -> list[dict[str, Any]]:
    """Subtask 4: the gold links, without each answer sentence's last citation when ``drop_last``."""
    out = []
    for case in split.cases:
        items = []
        for a in split.keys[case.case_id].clinician_answer_sentences or ():
            cites = list(a.citations[:-1] if drop_last and len(a.citations) > 1 else a.citations)
            items.append({"answer_id": a.id, "evidence_id": cites})
        out.append({"case_id": case.case_id, "prediction": items})
    return out


def _answers(split, first_only: bool) -> list[dict[str, Any]]:
    """Subtask 3: the reference's first sentence, or the patient narrative's first 12 words."""
    out = []
    for case in split.cases:
        ref = split.keys[case.case_id].clinician_answer_without_citations or ""
        text = ref.split(". ")[0] if first_only else " ".join((case.patient_narrative or "").split()[:12])
        out.append({"case_id": case.case_id, "prediction": text})
    return out


def build_reports(root: Path, split: Split | None = None) -> list[Path]:
    """Write two systems' submissions and score reports for subtasks 2, 3 (lexical metrics) and 4 on ``split``
    (default: the synthetic test split)."""
    split = split or load_dataset(SYNTHETIC).split("test")
    plan = {
        2: {"recall-all": _evidence(split, 99), "recall-one": _evidence(split, 1)},
        3: {"first-sentence": _answers(split, True), "narrative": _answers(split, False)},
        4: {"gold-links": _links(split, False), "fewer-links": _links(split, True)},
    }
    reports = []
    for number, systems in plan.items():
        scorer = SubmissionScorer(split, get_task(f"2026/{number}"), options=ScoringOptions(lexical_only=True))
        for name, entries in systems.items():
            folder = root / name / f"subtask{number}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "submission.json").write_text(json.dumps(entries), encoding="utf-8")
            card = {"name": name, "version": "1", "fingerprint": f"fp-{name}"}
            reports.append(
                scorer.score(entries, file=str(folder / "submission.json"), system=card).write(folder / "score.json")
            )
    return reports


@pytest.fixture(scope="module")
def synthetic_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page of a board of real reports on the synthetic test split (subtasks 2, 3 lexical, 4)."""
    from leaderboard.api import add_reports_and_render

    root = tmp_path_factory.mktemp("board")
    reports = build_reports(root / "runs")
    return Path(add_reports_and_render(reports, root / "lb.sqlite", root / "site")["html"])


@pytest.fixture
def headless_chromium(tmp_path: Path) -> list[str]:
    """A headless Chromium command with its own profile (the test is skipped without Chromium)."""
    binary = chromium_path()
    if binary is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium)")
    return [binary, *HEADLESS_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if chromium_path() is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium)")
    with Browser(tmp_path_factory.mktemp("profile")) as b:
        yield b


@pytest.fixture(scope="session")
def board_builder() -> Callable[..., list[Path]]:
    """``board_builder(root, split=None)``: :func:`build_reports`."""
    return build_reports
