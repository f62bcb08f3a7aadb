"""Load a data folder (official layout) or the bundled synthetic dataset; write a split back.

A data folder is either one split folder (holding ``archehr-qa.xml``) or a folder of split
folders (``dev/``, ``test/``, ``test-2026/`` …). The official 2026 repository nests them
one level deeper (``data/subtask_1/test/``); such folders are found too and named
``subtask_1/test``. The key and the mapping are optional, as in the releases.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path

from harness.data.json_io import load_key, load_mapping, write_key, write_mapping
from harness.data.model import Dataset, SourceFiles, Split
from harness.data.xml_io import load_cases_xml, write_cases_xml
from harness.errors import InputError, Problem

logger = logging.getLogger(__name__)

CASES_FILE = "archehr-qa.xml"
KEY_FILE = "archehr-qa_key.json"
MAPPING_FILE = "archehr-qa_mapping.json"
SYNTHETIC = "synthetic"


def synthetic_root() -> Path:
    """The folder of the bundled synthetic dataset (package data)."""
    return Path(str(files("harness.data") / "synthetic"))


def resolve_data_path(data: str | Path) -> Path:
    """``"synthetic"`` → the bundled dataset; anything else must be an existing folder."""
    if str(data) == SYNTHETIC:
        return synthetic_root()
    path = Path(data).expanduser()
    if not path.is_dir():
        raise InputError.one("no such data folder (give a folder holding archehr-qa.xml, or 'synthetic')", file=path)
    return path


def load_split(folder: str | Path, name: str | None = None) -> Split:
    """Load one split folder; errors in the cases, key and mapping are reported together."""
    folder = Path(folder)
    xml_path = folder / CASES_FILE
    if not xml_path.is_file():
        raise InputError.one(f"no {CASES_FILE} in this folder", file=folder)
    cases, declaration = load_cases_xml(xml_path)
    keys = style = None
    if (folder / KEY_FILE).is_file():
        keys, style = load_key(folder / KEY_FILE)
        _check_key_matches_cases(folder / KEY_FILE, [c.case_id for c in cases], keys)
    mapping = None
    if (folder / MAPPING_FILE).is_file():
        mapping = tuple(load_mapping(folder / MAPPING_FILE))
    return Split(
        name=name or folder.name,
        cases=tuple(cases),
        keys=keys,
        mapping=mapping,
        source=SourceFiles(str(folder), declaration, style),  # type: ignore[arg-type]
    )


def _check_key_matches_cases(key_path: Path, case_ids: list[str], keys: dict) -> None:
    missing = [c for c in case_ids if c not in keys]
    extra = [c for c in keys if c not in set(case_ids)]
    problems = [Problem("case is in the XML but not in the key", str(key_path), c, "case_id") for c in missing]
    problems += [Problem("case is in the key but not in the XML", str(key_path), c, "case_id") for c in extra]
    if problems:
        raise InputError(problems)


class LazySplits(Mapping[str, Split]):
    """Split folders by name, each loaded (and its errors raised) only when first used, so one malformed
    split never blocks a command on another."""

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self._folders = dict(folders)
        self._loaded: dict[str, Split] = {}

    def __getitem__(self, name: str) -> Split:
        if name not in self._loaded:
            folder = self._folders[name]  # KeyError for an unknown name, as a Mapping should
            self._loaded[name] = load_split(folder, name)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._folders

    def __iter__(self) -> Iterator[str]:
        return iter(self._folders)

    def __len__(self) -> int:
        return len(self._folders)


def split_folders(data: str | Path) -> tuple[Path, dict[str, Path]]:
    """The data root and its split folders by name (nothing is parsed)."""
    root = resolve_data_path(data)
    if (root / CASES_FILE).is_file():
        return root, {root.name: root}
    folders: dict[str, Path] = {}
    for xml_path in sorted(root.glob(f"*/{CASES_FILE}")) + sorted(root.glob(f"*/*/{CASES_FILE}")):
        folders[xml_path.parent.relative_to(root).as_posix()] = xml_path.parent
    if not folders:
        raise InputError.one(f"no {CASES_FILE} here or in its sub-folders", file=root)
    return root, folders


def load_dataset(data: str | Path) -> Dataset:
    """The splits under ``data`` (a folder or ``"synthetic"``), each parsed on first use."""
    root, folders = split_folders(data)
    logger.debug("found splits %s in %s", list(folders), root)
    return Dataset(LazySplits(folders), str(root))


def write_split(split: Split, folder: str | Path) -> Path:
    """Write a split in the official layout (cases, and key and mapping where present)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_cases_xml(folder / CASES_FILE, split.cases, xml_declaration=split.source.xml_declaration)
    if split.keys is not None:
        write_key(folder / KEY_FILE, list(split.keys.values()))
    if split.mapping is not None:
        write_mapping(folder / MAPPING_FILE, split.mapping)
    return folder
