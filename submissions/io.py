"""Read submission files (untrusted: ``submission.json`` or a zip holding it) and write them atomically.

Reading never extracts anything to disk: only the root ``submission.json`` member is decompressed,
with its declared size checked first and the read itself capped, so a zip bomb costs nothing.
Writing goes through a temporary file and a rename; the zip is deterministic (fixed timestamp,
permissions and compression), so the same JSON always gives the same bytes.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from harness.atomic import atomic_write_bytes, atomic_write_text
from harness.data.json_io import dump_json, parse_json_bytes
from harness.errors import InputError

logger = logging.getLogger(__name__)

SUBMISSION_NAME = "submission.json"
MAX_SUBMISSION_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_DRIVE = re.compile(r"^[A-Za-z]:")


def looks_like_zip(path: str | Path) -> bool:
    """True when the file starts with a zip signature (whatever its name)."""
    with Path(path).open("rb") as handle:
        return handle.read(4) in _ZIP_MAGIC


def read_submission(path: str | Path, *, allow_zip: bool = True, max_bytes: int = MAX_SUBMISSION_BYTES) -> Any:
    """Parse a ``submission.json``, or (``allow_zip``) the root ``submission.json`` of a zip; errors name the file."""
    path = _existing_file(path)
    if allow_zip and (path.suffix.lower() == ".zip" or looks_like_zip(path)):
        raw = _read_zip_member(path, max_bytes)
        return parse_json_bytes(raw, file=f"{path}:{SUBMISSION_NAME}")
    return parse_json_bytes(_read_json_file(path, max_bytes), file=str(path))


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError.one("no such file", file=path)
    return path


def _read_json_file(path: Path, max_bytes: int) -> bytes:
    if looks_like_zip(path):
        raise InputError.one(f"a zip archive, not JSON; give the {SUBMISSION_NAME} itself", file=path)
    return _read_capped(path, max_bytes)


def _check_file_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError.one(f"file is {size} bytes, over the {max_bytes}-byte limit", file=path)


def _read_capped(path: Path, max_bytes: int) -> bytes:
    _check_file_size(path, max_bytes)
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InputError.one(f"file is over the {max_bytes}-byte limit", file=path)
    return raw


def _unsafe_member_name(name: str) -> bool:
    return (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or bool(_DRIVE.match(name))
        or ".." in PurePosixPath(name).parts
    )


def _read_zip_member(path: Path, max_bytes: int) -> bytes:
    """The bytes of the root ``submission.json`` of the zip at ``path``, refusing unsafe or oversized archives."""
    _check_file_size(path, max_bytes)
    count_zip_members(path, MAX_ZIP_MEMBERS)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_members(path, infos, max_bytes)
            info = next(i for i in infos if i.filename == SUBMISSION_NAME)
            return read_member_capped(archive, info, max_bytes, file=str(path))
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError.one(f"not a valid zip file ({exc})", file=path) from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted or unsupported compression
        raise InputError.one(f"cannot read the zip ({exc})", file=path) from None


_EOCD = struct.Struct("<4sHHHHIIH")  # end of central directory record
_CENTRAL = struct.Struct("<4s6H3I5H2I")  # central directory file header (46 bytes)


def count_zip_members(path: str | Path, limit: int) -> int:
    """Count the members of the zip at ``path`` by walking its central directory, stopping past ``limit``.

    Runs before :class:`zipfile.ZipFile` builds its member list, so a zip of a million empty entries costs
    ``limit`` header reads, not a million objects. ZIP64 archives (never needed for a submission) are refused.
    """
    path = Path(path)
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        tail_len = min(size, _EOCD.size + 0xFFFF)
        handle.seek(size - tail_len)
        tail = handle.read(tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            raise InputError.one("not a valid zip file (no end-of-central-directory record)", file=path)
        _, _, _, _, declared, cd_size, _, _ = _EOCD.unpack_from(tail, at)
        if declared == 0xFFFF or cd_size == 0xFFFFFFFF or tail[max(at - 20, 0) : at].startswith(b"PK\x06\x07"):
            raise InputError.one(
                "a ZIP64 archive (over 65,535 members or 4 GB); a submission zip holds one small file", file=path
            )
        if declared > limit:
            raise InputError.one(f"zip declares {declared} members, over the {limit} limit", file=path)
        position = size - tail_len + at - cd_size
        end = position + cd_size
        if position < 0:
            raise InputError.one("not a valid zip file (central directory out of range)", file=path)
        count = 0
        handle.seek(position)
        while position < end:
            header = handle.read(_CENTRAL.size)
            if len(header) < _CENTRAL.size or not header.startswith(b"PK\x01\x02"):
                raise InputError.one(f"not a valid zip file (bad central directory entry {count + 1})", file=path)
            count += 1
            if count > limit:
                raise InputError.one(f"zip holds more than {limit} members (stopped counting there)", file=path)
            fields = _CENTRAL.unpack(header)
            name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
            position += _CENTRAL.size + name_len + extra_len + comment_len
            handle.seek(position)
    return count


def _check_members(path: Path, infos: list[zipfile.ZipInfo], max_bytes: int) -> None:
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError.one(f"zip holds {len(infos)} members, over the {MAX_ZIP_MEMBERS} limit", file=path)
    unsafe = [i.filename for i in infos if _unsafe_member_name(i.filename)]
    if unsafe:
        raise InputError.one(
            f"unsafe member name(s) {', '.join(map(repr, unsafe))} (absolute, '..' or backslash): refused", file=path
        )
    names = [i.filename for i in infos]
    found = names.count(SUBMISSION_NAME)
    if found == 0:
        listed = ", ".join(names[:20]) + (" …" if len(names) > 20 else "") if names else "none"
        nested = [n for n in names if PurePosixPath(n).name == SUBMISSION_NAME]
        hint = f"; {nested[0]} is in a folder: zip the file itself, not its folder" if nested else ""
        raise InputError.one(f"no {SUBMISSION_NAME} at the root of the zip (members: {listed}){hint}", file=path)
    if found > 1:
        raise InputError.one(f"{SUBMISSION_NAME} appears {found} times in the zip", file=path)
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise InputError.one(
            f"zip declares {total} bytes uncompressed, over the {max_bytes}-byte limit (zip bomb?)", file=path
        )


def read_member_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int, *, file: str) -> bytes:
    """Decompress one member, stopping past ``max_bytes`` whatever its header claims."""
    with archive.open(info) as handle:
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InputError.one(
            f"{info.filename} expands past the {max_bytes}-byte limit (its header said {info.file_size}): zip bomb?",
            file=file,
        )
    return raw


def write_submission_json(path: str | Path, entries: list[dict[str, Any]]) -> Path:
    """Write entries as pretty-printed UTF-8 JSON, atomically."""
    return atomic_write_text(path, dump_json(entries))


def zip_bytes(json_bytes: bytes) -> bytes:
    """A deterministic zip holding ``json_bytes`` as ``submission.json`` at its root."""
    info = zipfile.ZipInfo(SUBMISSION_NAME, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, json_bytes, compresslevel=9)
    return buffer.getvalue()


def package_zip(json_path: str | Path, zip_path: str | Path, *, max_bytes: int = MAX_SUBMISSION_BYTES) -> Path:
    """Zip a ``submission.json`` for upload (atomic, deterministic); refuses files the scorer cannot parse."""
    json_path = _existing_file(json_path)
    raw = _read_json_file(json_path, max_bytes)
    parse_json_bytes(raw, file=str(json_path))
    out = atomic_write_bytes(zip_path, zip_bytes(raw))
    logger.info("wrote %s (%d bytes of JSON)", out, len(raw))
    return out
