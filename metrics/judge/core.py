"""The LLM judge: rubric and prompt templates as data, one verdict per answer and sample, parsed and validated
with bounded retries; a verdict that stays invalid is recorded and its case's value is missing (docs/llm_judge.md).

Never part of an official score: the registry family ``llm-judge`` is in no task's ``families``; its numbers go
to the report's own ``judge`` section.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from harness import __version__
from harness.data.model import Split, sort_ids
from harness.errors import HarnessError, InputError
from harness.signature import Signature
from harness.tasks import Task
from llmkit.backends import ChatRequest, Completion, OpenAIBackend
from llmkit.cache import ResponseCache
from llmkit.client import LLMClient
from llmkit.templates import TemplateSet, load_templates
from metrics.judge.config import JudgeConfig, JudgeConfigError, Protocol
from metrics.registry import get_metric_spec

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
DEFAULT_RUBRIC = HERE / "rubric.yaml"
PROMPT_DIR = HERE / "prompts"
TEMPLATE_NAMES = ("system", "pointwise", "pairwise")
CACHE_FILE = "judge_cache.jsonl"
#: The tasks whose answers the judge reads (answer generation): the registry's word.
JUDGE_TASKS: tuple[str, ...] = get_metric_spec("llm-judge").judge_tasks
MEAN_KEY = "judge_mean"
NOT_OFFICIAL = "(LLM judge, not official)"
#: Raw output kept for an invalid verdict (characters).
_RAW_KEEP = 400


class JudgeError(HarnessError):
    """The judge cannot run as configured (bad rubric, bad template, task it does not apply to)."""


# ---------------------------------------------------------------------- rubric


def on_scale(percent: float, low: int, high: int) -> int:
    """A percent back on the integer scale ``low..high`` (rounded half up), for agreement with integer ratings."""
    return int(np.floor(low + percent / 100.0 * (high - low) + 0.5))


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    question: str
    anchors: Mapping[int, str]

    @property
    def output_key(self) -> str:
        return f"judge_{self.key}"


@dataclass(frozen=True)
class ExampleAnswer:
    """One answer of a worked example with the verdict the judge is shown for it."""

    text: str
    scores: Mapping[str, int]
    rationale: str


@dataclass(frozen=True)
class WorkedExample:
    """A made-up case of the rubric file, graded: shown before the real case when ``few_shot`` is on."""

    item: JudgeItem
    answers: tuple[ExampleAnswer, ...]
    comparison: str  # the rationale of the pairwise example (position-neutral)


@dataclass(frozen=True)
class Rubric:
    name: str
    scale_min: int
    scale_max: int
    criteria: tuple[Criterion, ...]
    sha256: str
    source: str
    examples: tuple[WorkedExample, ...] = ()

    def percent(self, value: float) -> float:
        return (value - self.scale_min) / (self.scale_max - self.scale_min) * 100.0

    def on_scale(self, percent: float) -> int:
        return on_scale(percent, self.scale_min, self.scale_max)

    @property
    def output_keys(self) -> tuple[str, ...]:
        return (*(c.output_key for c in self.criteria), MEAN_KEY)

    def display(self) -> dict[str, str]:
        names = {c.output_key: f"{c.name} {NOT_OFFICIAL}" for c in self.criteria}
        names[MEAN_KEY] = f"Judge mean {NOT_OFFICIAL}"
        return names


def read_rubric_keys(path: Path = DEFAULT_RUBRIC) -> list[tuple[str, str]]:
    """``(key, name)`` of each criterion of a rubric file, without validating the rest (the registry's view)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(str(c["key"]), str(c["name"])) for c in data["criteria"]]


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Read and validate a rubric YAML (see metrics/judge/rubric.yaml); problems name the file and field."""
    path = Path(path).expanduser() if path else DEFAULT_RUBRIC
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise JudgeConfigError(f"rubric {path}: cannot be read ({exc})") from None

    def bad(where: str, what: str) -> JudgeConfigError:
        return JudgeConfigError(f"rubric {path}: {where}: {what}")

    if not isinstance(data, dict):
        raise bad("(top)", "must be a mapping")
    scale = data.get("scale")
    if not isinstance(scale, dict) or not all(isinstance(scale.get(k), int) for k in ("min", "max")):
        raise bad("scale", "needs integer min and max")
    low, high = scale["min"], scale["max"]
    if not low < high:
        raise bad("scale", f"min {low} must be below max {high}")
    items = data.get("criteria")
    if not isinstance(items, list) or not items:
        raise bad("criteria", "needs a non-empty list")
    criteria: list[Criterion] = []
    for i, item in enumerate(items):
        where = f"criteria[{i}]"
        if not isinstance(item, dict):
            raise bad(where, "must be a mapping")
        key = item.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key) or key == "mean":
            raise bad(f"{where}.key", f"{key!r} is not a lower-case identifier (other than 'mean')")
        if key in {c.key for c in criteria}:
            raise bad(f"{where}.key", f"{key!r} is listed twice")
        for name in ("name", "question"):
            if not isinstance(item.get(name), str) or not item[name].strip():
                raise bad(f"{where}.{name}", "needs a non-empty string")
        anchors = item.get("anchors")
        if not isinstance(anchors, dict) or not anchors:
            raise bad(f"{where}.anchors", "needs a mapping score -> text")
        if not all(isinstance(s, int) and low <= s <= high and isinstance(t, str) for s, t in anchors.items()):
            raise bad(f"{where}.anchors", f"scores must be integers in {low}..{high} with text")
        criteria.append(Criterion(key, item["name"], item["question"], dict(sorted(anchors.items()))))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or "|" in name:
        raise bad("name", "needs a non-empty string without '|'")
    examples = _read_examples(data.get("examples", []), criteria, low, high, bad)
    return Rubric(name, low, high, tuple(criteria), hashlib.sha256(raw).hexdigest(), str(path), examples)


def _read_examples(
    items: Any, criteria: Sequence[Criterion], low: int, high: int, bad: Callable[[str, str], JudgeConfigError]
) -> tuple[WorkedExample, ...]:
    """The rubric's worked examples; every answer's verdict gives every criterion an integer on the scale."""
    if not isinstance(items, list):
        raise bad("examples", "must be a list")

    def text(where: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise bad(where, "needs a non-empty string")
        return value.strip()

    out = []
    for i, item in enumerate(items):
        where = f"examples[{i}]"
        if not isinstance(item, dict):
            raise bad(where, "must be a mapping")
        note = item.get("note")
        if not isinstance(note, list) or not note:
            raise bad(f"{where}.note", "needs a list of note sentences")
        sentences = [text(f"{where}.note[{n}]", s) for n, s in enumerate(note)]
        answers = item.get("answers")
        if not isinstance(answers, list) or not answers:
            raise bad(f"{where}.answers", "needs a non-empty list")
        graded = []
        for j, answer in enumerate(answers):
            at = f"{where}.answers[{j}]"
            if not isinstance(answer, dict) or not isinstance(answer.get("verdict"), dict):
                raise bad(at, "needs text and a verdict mapping")
            verdict = answer["verdict"]
            scores = {}
            for criterion in criteria:
                value = verdict.get(criterion.key)
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise bad(f"{at}.verdict.{criterion.key}", f"{value!r} is not an integer in {low}..{high}")
                scores[criterion.key] = value
            extra = sorted(set(verdict) - {c.key for c in criteria} - {"rationale"})
            if extra:
                raise bad(f"{at}.verdict", f"{', '.join(extra)} is not a criterion of the rubric")
            graded.append(
                ExampleAnswer(
                    text(f"{at}.text", answer.get("text")),
                    scores,
                    text(f"{at}.verdict.rationale", verdict.get("rationale")),
                )
            )
        case = JudgeItem(
            f"example-{i + 1}",
            text(f"{where}.narrative", item.get("narrative")),
            text(f"{where}.question", item.get("question")),
            "\n".join(f"[{n}] {s}" for n, s in enumerate(sentences, start=1)),
            text(f"{where}.reference", item.get("reference")),
            "",
        )
        comparison = item.get("comparison", "")
        if not isinstance(comparison, str):
            raise bad(f"{where}.comparison", "must be a string")
        out.append(WorkedExample(case, tuple(graded), comparison.strip()))
    return tuple(out)


def verdict_json(rubric: Rubric, scores: Mapping[str, int], rationale: str) -> str:
    """A verdict in the reply format the pointwise prompt asks for (criteria in rubric order, then rationale)."""
    return json.dumps({**{c.key: scores[c.key] for c in rubric.criteria}, "rationale": rationale}, ensure_ascii=False)


# ---------------------------------------------------------------------- prompts


def load_judge_templates(prompt_dir: str | None = None) -> TemplateSet:
    """The judge's templates, with ``prompt_dir``'s same-named files replacing the built-in ones."""
    return load_templates(
        PROMPT_DIR, TEMPLATE_NAMES, override_dir=prompt_dir, error=JudgeConfigError, label="judge config"
    )


# ---------------------------------------------------------------------- what is judged


@dataclass(frozen=True)
class JudgeItem:
    """One answer to judge with its case material."""

    case_id: str
    narrative: str
    question: str
    note: str
    reference: str
    answer: str


def check_task(task: Task) -> None:
    if task.id not in JUDGE_TASKS:
        raise JudgeError(f"the LLM judge reads answers: tasks {', '.join(JUDGE_TASKS)}, not {task.id}")


def answer_texts(task: Task, entries: Any, case_ids: Sequence[str], file: str) -> dict[str, str]:
    """The answer text of each case as the scorer reads it (length rule applied; 2025: citations removed)."""
    check_task(task)
    if not isinstance(entries, list):
        raise InputError.one("a submission must be a JSON array of objects", file=file)
    found = {e.get("case_id"): e.get(task.prediction_field) for e in entries if isinstance(e, dict)}
    out: dict[str, str] = {}
    for case_id in case_ids:
        value = found.get(case_id)
        if not isinstance(value, str):
            raise InputError.one(
                f"no string {task.prediction_field!r}", file=file, case_id=case_id, field=task.prediction_field
            )
        if task.prediction == "answer-2025":
            from submissions.format2025 import parse_answer_2025

            out[case_id] = parse_answer_2025(value).answer_text
        else:
            out[case_id], _ = task.truncate(value)
    return out


def judge_items(task: Task, split: Split, answers: Mapping[str, str]) -> list[JudgeItem]:
    """The judge's view of each answered case: patient message, question, numbered note, reference, answer."""
    check_task(task)
    chosen = split.select(list(answers))
    keys = chosen.keys or {}
    items = []
    for case in chosen.cases:
        key = keys.get(case.case_id)
        reference = key.clinician_answer_without_citations or key.clinician_answer if key else None
        if not reference and key is not None:  # 2025 keys: no clinician answer; the essential sentences
            texts = {s.id: s.text for s in case.sentences or ()}
            reference = " ".join(texts[i] for i in sort_ids(key.ids_with("essential")) if i in texts)
        sentences = case.sentences or ()
        note = "\n".join(f"[{s.id}] {s.text}" for s in sentences) if sentences else case.note_excerpt or ""
        items.append(
            JudgeItem(
                case.case_id,
                case.patient_narrative or "",
                case.clinician_question or "",
                note,
                (reference or "").strip(),
                answers[case.case_id],
            )
        )
    return items


# ---------------------------------------------------------------------- parsing


class VerdictError(ValueError):
    """An output that is not a valid verdict (the reason is recorded)."""


def _json_object(text: str, wanted: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The first JSON object in ``text`` holding one of the ``wanted`` keys (else the first object; code fences
    and chatter around it allowed)."""
    decoder = json.JSONDecoder()
    first: dict[str, Any] | None = None
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            if not wanted or wanted & set(value):
                return value
            first = value if first is None else first
    if first is not None:
        return first
    cut = _cut_in_rationale(text, decoder)
    if cut is not None:
        return cut
    raise VerdictError("no JSON object in the output")


_OPEN_RATIONALE = re.compile(r'"rationale"\s*:\s*"')
_PARTIAL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\(u[0-9a-fA-F]{0,3})?$")  # an odd run of backslashes


def _cut_in_rationale(text: str, decoder: json.JSONDecoder) -> dict[str, Any] | None:
    """An object whose output stopped inside its last field, the rationale string (``max_tokens`` reached):
    the fields before it are whole, so it is closed after the text it has (rationale ending in "…")."""
    opened = list(_OPEN_RATIONALE.finditer(text))
    if not opened:
        return None
    tail = text[opened[-1].end() :]
    if '"' in tail.replace("\\\\", "").replace('\\"', ""):
        return None  # the rationale string was closed: the object is broken elsewhere
    closed = _PARTIAL_ESCAPE.sub(lambda m: m.group(1) or "", text.rstrip("\n")) + '"}'
    for match in re.finditer(r"\{", text[: opened[-1].start()]):
        try:
            value, _ = decoder.raw_decode(closed, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("rationale"), str):
            value["rationale"] = value["rationale"].rstrip() + "…"
            return value
    return None


def parse_verdict(text: str, rubric: Rubric) -> tuple[dict[str, int], str]:
    """``({criterion: score}, rationale)`` from a judge output; every criterion must hold an integer on the
    scale (``4`` or ``"4"``; not ``4.5``, not ``true``)."""
    data = _json_object(text, frozenset(c.key for c in rubric.criteria))
    scores: dict[str, int] = {}
    for criterion in rubric.criteria:
        value = data.get(criterion.key)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise VerdictError(f"{criterion.key}: {value!r} is not an integer")
        if not rubric.scale_min <= value <= rubric.scale_max:
            raise VerdictError(f"{criterion.key}: {value} is outside {rubric.scale_min}..{rubric.scale_max}")
        scores[criterion.key] = value
    rationale = data.get("rationale")
    return scores, rationale.strip() if isinstance(rationale, str) else ""


PREFERENCES = {"1": 0, "2": 1, "tie": None}


def parse_preference(text: str) -> tuple[int | None, str]:
    """``(index of the better answer (0 or 1) or None for a tie, rationale)`` from a pairwise output."""
    data = _json_object(text, frozenset({"better"}))
    value = str(data.get("better", "")).strip().lower().removeprefix("answer").strip()
    if value not in PREFERENCES:
        raise VerdictError(f"better: {data.get('better')!r} is not 1, 2 or tie")
    rationale = data.get("rationale")
    return PREFERENCES[value], rationale.strip() if isinstance(rationale, str) else ""


# ---------------------------------------------------------------------- running the judge


@dataclass(frozen=True)
class Author:
    """Who the non-blind judge is told wrote an answer (``is_judge``: the judge's own system)."""

    name: str
    is_judge: bool = False


@dataclass
class CaseVerdict:
    """One case: the valid samples' scores and rationales, or why every attempt failed."""

    samples: list[dict[str, int]] = field(default_factory=list)
    rationales: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_raw: str = ""

    @property
    def valid(self) -> bool:
        return bool(self.samples)

    def to_json(self) -> dict[str, Any]:
        if self.valid:
            out: dict[str, Any] = {"samples": self.samples, "rationales": self.rationales}
            if self.errors:
                out["retried"] = self.errors
            return out
        return {"invalid": True, "errors": self.errors, "raw": self.last_raw[:_RAW_KEEP]}


@dataclass
class JudgeResult:
    """Pointwise verdicts of one protocol over one submission's answers."""

    rubric: Rubric
    protocol: Protocol
    author: Author | None
    case_ids: tuple[str, ...]
    verdicts: dict[str, CaseVerdict]
    signature: str

    def per_case(self) -> dict[str, dict[str, float | None]]:
        """Output key → case → percent (mean over valid samples), ``None`` for an invalid case."""
        out: dict[str, dict[str, float | None]] = {k: {} for k in self.rubric.output_keys}
        for case_id in self.case_ids:
            verdict = self.verdicts[case_id]
            means = []
            for c in self.rubric.criteria:
                value = (
                    self.rubric.percent(float(np.mean([s[c.key] for s in verdict.samples]))) if verdict.valid else None
                )
                out[c.output_key][case_id] = value
                means.append(value)
            out[MEAN_KEY][case_id] = float(np.mean(means)) if verdict.valid else None  # type: ignore[arg-type]
        return out

    @property
    def invalid(self) -> tuple[str, ...]:
        return tuple(c for c in self.case_ids if not self.verdicts[c].valid)

    def scores(self) -> dict[str, float | None]:
        """Mean over the valid cases per key (``None`` when no case is valid)."""
        out: dict[str, float | None] = {}
        for key, rows in self.per_case().items():
            values = [v for v in rows.values() if v is not None]
            out[key] = float(np.mean(values)) if values else None
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "not_official": True,
            "protocol": self.protocol,
            "author": None if self.author is None else {"name": self.author.name, "is_judge": self.author.is_judge},
            "rubric": {
                "name": self.rubric.name,
                "sha256": self.rubric.sha256,
                "scale": [self.rubric.scale_min, self.rubric.scale_max],
            },
            "scores": self.scores(),
            "display": self.rubric.display(),
            "n_cases": len(self.case_ids),
            "n_valid": len(self.case_ids) - len(self.invalid),
            "invalid": list(self.invalid),
            "per_case": self.per_case(),
            "verdicts": {c: self.verdicts[c].to_json() for c in self.case_ids},
            "signature": self.signature,
        }


class Judge:
    """A rubric, templates and an LLM client; :meth:`pointwise` and :meth:`pairwise` judge lists of items."""

    def __init__(self, config: JudgeConfig, client: LLMClient, *, rubric: Rubric | None = None) -> None:
        self.config = config
        self.client = client
        self.rubric = rubric or load_rubric(config.rubric)
        self.templates = load_judge_templates(config.prompt_dir)

    @classmethod
    def open(cls, config: JudgeConfig, cache_dir: str | Path) -> Judge:
        """A judge on the configured OpenAI-compatible endpoint (checked by the data-use guard), its responses
        cached in ``cache_dir/judge_cache.jsonl`` (``config.cache`` wins when set)."""
        backend = OpenAIBackend.from_settings(config)
        cache = ResponseCache(Path(config.cache or cache_dir) / CACHE_FILE)
        return cls(config, LLMClient(backend, cache, concurrency=config.concurrency))

    def close(self) -> None:
        self.client.close()

    @property
    def model_id(self) -> str:
        return self.client.backend.model_id

    def signature(self, protocol: str, mode: str = "pointwise") -> str:
        cfg = self.config
        model = self.model_id
        if Path(model).is_absolute():  # the local server names its model by its folder: keep the folder's name
            model = Path(model).name
        fields = {
            "model": model.replace("|", "/"),
            "rubric": f"{self.rubric.name}@sha256:{self.rubric.sha256[:16]}",
            "prompts": f"sha256:{self.templates.sha256[:16]}",
            "mode": mode,
            "protocol": protocol,
            "samples": cfg.samples,
            "seed": cfg.seed,
            "temperature": f"{cfg.temperature:g}",
            "retries": cfg.parse_retries,
            "few_shot": sum(len(e.answers) for e in self.examples),
            "harness": __version__,
        }
        return Signature.of("llm-judge", fields, "not-official").format()

    def _author_context(self, author: Author | None) -> dict[str, Any]:
        return {"author": None if author is None else author.name, "author_is_judge": bool(author and author.is_judge)}

    @property
    def examples(self) -> tuple[WorkedExample, ...]:
        """The rubric's worked examples shown before each case (none when ``few_shot`` is off)."""
        return self.rubric.examples if self.config.few_shot else ()

    def _system(self) -> list[tuple[str, str]]:
        system = self.templates.render("system")
        return [("system", system)] if system else []

    def pointwise_prompt(self, item: JudgeItem, author: Author | None) -> tuple[tuple[str, str], ...]:
        """System prompt, one graded exchange per worked-example answer (blind), then the case."""
        turns = self._system()
        for example in self.examples:
            for answer in example.answers:
                shown = replace(example.item, answer=answer.text)
                turns += [
                    ("user", self._pointwise_user(shown, None)),
                    ("assistant", verdict_json(self.rubric, answer.scores, answer.rationale)),
                ]
        return (*turns, ("user", self._pointwise_user(item, author)))

    def _pointwise_user(self, item: JudgeItem, author: Author | None) -> str:
        return self.templates.render(
            "pointwise",
            criteria=self.rubric.criteria,
            scale_min=self.rubric.scale_min,
            scale_max=self.rubric.scale_max,
            narrative=item.narrative,
            question=item.question,
            note=item.note,
            reference=item.reference,
            answer=item.answer,
            **self._author_context(author),
        )

    def _request(self, prompt: tuple[tuple[str, str], ...], sample: int, attempt: int) -> ChatRequest:
        cfg = self.config
        return ChatRequest(
            prompt,
            max_tokens=cfg.max_tokens,
            temperature=cfg.temperature if attempt == 0 else cfg.retry_temperature,
            top_p=cfg.top_p,
            seed=cfg.seed,
            sample_index=sample + attempt * cfg.samples,
        )

    def _rounds(self, prompts: Sequence[tuple[tuple[str, str], ...]], parse: Any) -> list[list[tuple[Any, str]]]:
        """For each prompt, per sample: ``(parsed, rationale)`` or ``(None, error)`` after the retries, plus the
        raw outputs; one batched request round per attempt."""
        cfg = self.config
        results: list[list[Any]] = [[None] * cfg.samples for _ in prompts]
        errors: list[list[list[str]]] = [[[] for _ in range(cfg.samples)] for _ in prompts]
        raws: list[list[str]] = [[""] * cfg.samples for _ in prompts]
        pending = [(p, s) for p in range(len(prompts)) for s in range(cfg.samples)]
        for attempt in range(cfg.parse_retries + 1):
            if not pending:
                break
            completions: list[Completion] = self.client.complete_many(
                [self._request(prompts[p], s, attempt) for p, s in pending]
            )
            still = []
            for (p, s), completion in zip(pending, completions, strict=True):
                raws[p][s] = completion.text
                try:
                    results[p][s] = parse(completion.text)
                except VerdictError as exc:
                    errors[p][s].append(f"attempt {attempt + 1}: {exc}")
                    still.append((p, s))
            pending = still
        return [[(results[p][s], errors[p][s], raws[p][s]) for s in range(cfg.samples)] for p in range(len(prompts))]

    def pointwise(self, items: Sequence[JudgeItem], author: Author | None = None) -> JudgeResult:
        """Judge each item on the rubric; ``author`` given: the non-blind protocol (the judge is told who wrote it)."""
        prompts = [self.pointwise_prompt(item, author) for item in items]
        rounds = self._rounds(prompts, lambda text: parse_verdict(text, self.rubric))
        verdicts: dict[str, CaseVerdict] = {}
        for item, samples in zip(items, rounds, strict=True):
            verdict = CaseVerdict()
            for parsed, errors, raw in samples:
                verdict.errors += errors
                if parsed is None:
                    verdict.last_raw = raw
                else:
                    verdict.samples.append(parsed[0])
                    verdict.rationales.append(parsed[1])
            verdicts[item.case_id] = verdict
        protocol: Protocol = "blind" if author is None else "non-blind"
        logger.info("judge: %d cases, %d invalid", len(items), sum(not v.valid for v in verdicts.values()))
        return JudgeResult(
            self.rubric, protocol, author, tuple(i.case_id for i in items), verdicts, self.signature(protocol)
        )

    def pairwise(
        self,
        items_a: Sequence[JudgeItem],
        items_b: Sequence[JudgeItem],
        authors: tuple[Author, Author] | None = None,
    ) -> dict[str, Any]:
        """Compare A's and B's answer of each case, judged in both orders (A first, then B first) to cancel
        position bias. Per case: A's preference in [0, 1] (1 win, 0.5 tie, 0 loss, averaged over the two
        orders), ``None`` when an order stays invalid; ``consistent`` when both orders agree."""
        if [i.case_id for i in items_a] != [i.case_id for i in items_b]:
            raise JudgeError("pairwise judging needs the same cases in the same order on both sides")
        shots = self._pairwise_examples()
        prompts = []
        for a, b in zip(items_a, items_b, strict=True):
            for first, second in ((0, 1), (1, 0)):
                pair = (a, b)
                who = (None, None) if authors is None else authors
                answers = [{"text": pair[k].answer, **_author_keys(who[k])} for k in (first, second)]
                prompts.append((*shots, ("user", self._pairwise_user(a, answers))))
        rounds = self._rounds(prompts, parse_preference)
        cases: dict[str, Any] = {}
        for n, item in enumerate(items_a):
            orders = []
            for order, swapped in ((rounds[2 * n], False), (rounds[2 * n + 1], True)):
                wins = []
                for parsed, _errors, _raw in order:
                    if parsed is None:
                        continue
                    better = parsed[0]
                    if better is None:
                        wins.append(0.5)
                    else:
                        wins.append(1.0 if (better == 0) != swapped else 0.0)
                orders.append(float(np.mean(wins)) if wins else None)
            valid = all(o is not None for o in orders)
            cases[item.case_id] = {
                "a_first": orders[0],
                "b_first": orders[1],
                "preference_a": float(np.mean(orders)) if valid else None,  # type: ignore[arg-type]
                "consistent": valid and orders[0] == orders[1],
            }
        valid_values = [c["preference_a"] for c in cases.values() if c["preference_a"] is not None]
        return {
            "not_official": True,
            "mode": "pairwise",
            "protocol": "blind" if authors is None else "non-blind",
            "preference_a": float(np.mean(valid_values)) if valid_values else None,
            "n_valid": len(valid_values),
            "invalid": [c for c, v in cases.items() if v["preference_a"] is None],
            "position_consistent": sum(bool(v["consistent"]) for v in cases.values()),
            "per_case": cases,
            "signature": self.signature("blind" if authors is None else "non-blind", mode="pairwise-swapped"),
        }

    def _pairwise_user(self, case: JudgeItem, answers: Sequence[Mapping[str, Any]]) -> str:
        return self.templates.render(
            "pairwise",
            criteria=self.rubric.criteria,
            narrative=case.narrative,
            question=case.question,
            note=case.note,
            reference=case.reference,
            answers=answers,
        )

    def _pairwise_examples(self) -> list[tuple[str, str]]:
        """System prompt, then per worked example with answers of different mean scores: its best and worst
        answer compared in both orders (blind), so the examples favour neither position."""
        turns = self._system()
        for example in self.examples:
            ranked = sorted(example.answers, key=lambda a: sum(a.scores.values()))
            worst, best = ranked[0], ranked[-1]
            if sum(worst.scores.values()) == sum(best.scores.values()):
                continue
            for pair, better in (((best, worst), "1"), ((worst, best), "2")):
                answers = [{"text": a.text, **_author_keys(None)} for a in pair]
                reply = json.dumps({"better": better, "rationale": example.comparison}, ensure_ascii=False)
                turns += [("user", self._pairwise_user(example.item, answers)), ("assistant", reply)]
        return turns


def _author_keys(author: Author | None) -> dict[str, Any]:
    return {"author": None if author is None else author.name, "author_is_judge": bool(author and author.is_judge)}


def author_for(config: JudgeConfig, name: str | None) -> Author | None:
    """The non-blind author of ``name`` (``None``: blind); the judge's own system when it is
    ``config.judge_system_name``."""
    if name is None:
        return None
    return Author(name, is_judge=config.judge_system_name is not None and name == config.judge_system_name)


# ---------------------------------------------------------------------- agreement with official metrics


def official_agreement(
    result: JudgeResult, per_case: Mapping[str, Mapping[str, Any]], aggregations: Mapping[str, str]
) -> dict[str, Any]:
    """Spearman of the judge mean with every per-case (``mean``-aggregated) official metric on the same cases."""
    from metrics.judge.agreement import spearman

    judge = result.per_case()[MEAN_KEY]
    out: dict[str, Any] = {}
    for key, rows in per_case.items():
        if aggregations.get(key) != "mean":
            continue
        cases = [c for c in result.case_ids if judge.get(c) is not None and isinstance(rows.get(c), (int, float))]
        rho = spearman([judge[c] for c in cases], [float(rows[c]) for c in cases]) if len(cases) >= 2 else None
        out[key] = {"spearman": rho, "n": len(cases)}
    return out


def add_to_report(report: Any, result: JudgeResult) -> Any:
    """``report`` (a :class:`~metrics.report.ScoreReport`) with the judge section (official keys untouched)."""
    if tuple(result.case_ids) != tuple(report.case_ids):
        raise JudgeError("the judge scored other cases than the report")
    section = result.to_json()
    section["agreement"] = {MEAN_KEY: official_agreement(result, report.per_case, report.aggregations)}
    return replace(report, judge=section)
