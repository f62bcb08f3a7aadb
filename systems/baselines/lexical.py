"""The lexical baseline's logic (see the package docstring for what each subtask does)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

from rank_bm25 import BM25Okapi

from harness.data.model import Case, Subtask
from harness.systems import Prediction, SystemCard
from harness.textutil import cut_words, split_sentences, tokenize
from systems.baselines.config import BaselineConfig

VERSION = "0.1.0"


class LexicalBaseline:
    """BM25-based baseline answering all four subtasks; deterministic, no training."""

    def __init__(self, config: BaselineConfig) -> None:
        self.config = config
        self.card = SystemCard(
            name="baseline",
            version=VERSION,
            subtasks=(1, 2, 3, 4),
            description="Lexical BM25 baseline",
            config=asdict(config),
            components={"bm25": "rank-bm25 BM25Okapi", "tokenizer": "lowercase word tokens minus stopwords"},
        )

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        handlers = {
            Subtask.QUESTION_INTERPRETATION: self._question,
            Subtask.EVIDENCE_IDENTIFICATION: self._evidence,
            Subtask.ANSWER_GENERATION: self._answer,
            Subtask.EVIDENCE_ALIGNMENT: self._alignment,
        }
        handler = handlers[Subtask(subtask)]
        for case in cases:
            yield Prediction(case.case_id, handler(case))

    # ------------------------------------------------------------ subtasks

    def _question(self, case: Case) -> str:
        narrative = case.patient_narrative or ""
        sentences = split_sentences(narrative)
        asked = [s for s in sentences if "?" in s]
        if asked:
            chosen = asked[-1]
        elif case.phrases:
            chosen = case.phrases[0].text
        else:
            chosen = sentences[-1] if sentences else narrative
        return cut_words(chosen, self.config.question_words)

    def _scores(self, case: Case, query: str) -> list[float]:
        docs = [tokenize(s.text) or ["<empty>"] for s in case.sentences or ()]
        if not docs:
            return []
        bm25 = BM25Okapi(docs, k1=self.config.k1, b=self.config.b)
        return [float(x) for x in bm25.get_scores(tokenize(query))]

    def _selected(self, case: Case) -> list[str]:
        sentences = case.sentences or ()
        scores = self._scores(case, case.clinician_question or "")
        if not scores:
            return []
        best = max(scores)
        if best <= 0:
            return [sentences[0].id]
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        keep = [i for i in ranked if scores[i] >= self.config.relative_threshold * best][: self.config.max_evidence]
        return [sentences[i].id for i in sorted(keep)]

    def _evidence(self, case: Case) -> list[str]:
        return self._selected(case)

    def _answer(self, case: Case) -> str:
        chosen = set(self._selected(case))
        texts = [s.text for s in case.sentences or () if s.id in chosen]
        answer = ""
        for text in texts:
            candidate = f"{answer} {text}".strip()
            if len(candidate.split()) > self.config.answer_words:
                break
            answer = candidate
        return answer or cut_words(
            texts[0] if texts else (case.clinician_question or "No answer."), self.config.answer_words
        )

    def _alignment(self, case: Case) -> list[dict[str, Any]]:
        sentences = case.sentences or ()
        links = []
        for answer in case.answer_sentences or ():
            scores = self._scores(case, answer.text)
            evidence = []
            if scores and max(scores) > 0:
                evidence = [sentences[max(range(len(scores)), key=lambda i: (scores[i], -i))].id]
            links.append({"answer_id": answer.id, "evidence_id": evidence})
        return links
