"""Helpers shared by the CLI commands: one option vocabulary, results as text or JSON on stdout, logs and
one-line errors on stderr, exit codes.

Exit codes: 0 ok, 1 a failed check (bad input, validation failed, reproduce FAIL), 2 a usage error.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import json
import logging
import os
import re
import sqlite3
import sys
import traceback
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from harness.config import MODEL_DIR_KEY
from harness.data.loader import load_dataset
from harness.data.model import Split, parse_id_ranges
from harness.errors import HarnessError, InputError
from harness.tasks import Task, UnknownTaskError, editions, get_task, task_ids
from harness.textutil import strip_control

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED_CHECK = 1
EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])


#: C1 control characters (U+007F-U+009F), which ``json.dumps(ensure_ascii=False)`` leaves raw; some terminals act
#: on them (U+009B is a one-character escape sequence). They can only occur inside JSON strings, so escaping them
#: keeps the document valid and equal.
_C1_ESCAPES = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def print_json(obj: Any) -> None:
    """Machine-readable output: one JSON document on stdout (no raw control characters)."""
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False).translate(_C1_ESCAPES))


#: Set to 1 to print a traceback after the one-line error (as ``-v`` does).
DEBUG_ENV = "ARCHEHR_DEBUG"

#: What to do after an ``OSError``, by errno.
_OS_ERROR_FIXES: dict[int, str] = {
    errno.ENOSPC: "no space left on the device; free some space (or write elsewhere) and rerun: finished work is kept",
    errno.EDQUOT: "disk quota exceeded; free some space (or write elsewhere) and rerun: finished work is kept",
    errno.EACCES: "permission denied; fix the permissions or choose another path",
    errno.EPERM: "operation not permitted; fix the permissions or choose another path",
    errno.EROFS: "read-only file system; choose a writable path",
    errno.EISDIR: "is a folder, where a file was expected; give a file path",
    errno.ENOTDIR: "a part of this path is a file, where a folder was expected; choose another path",
    errno.ENOENT: "no such file or folder; check the path",
    errno.EEXIST: "already exists (a file where a folder belongs?); move it away or choose another path",
    errno.ENAMETOOLONG: "file name too long; choose a shorter path",
}


def _debug_wanted() -> bool:
    """A traceback is shown with ``-v`` on the root command or ``ARCHEHR_DEBUG=1``."""
    if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        return True
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and (ctx.find_root().params.get("verbose") or 0) > 0)


def describe_error(exc: BaseException) -> list[str] | None:
    """The one-line message(s) for an expected error, or ``None`` for a bug (which keeps its traceback)."""
    if isinstance(exc, InputError):
        return [str(p) for p in exc.problems] or [str(exc)]
    if isinstance(exc, HarnessError):
        return [str(exc)]
    if isinstance(exc, OSError):
        fix = _OS_ERROR_FIXES.get(exc.errno or -1, f"{exc.strerror or exc}; check the path and rerun")
        names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
        where = f"file {' -> '.join(names)}: " if names else ""
        return [f"{where}{fix}"]
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        where = f"file {mark.name}: " if mark is not None and not str(mark.name).startswith("<") else ""
        return [f"{where}not valid YAML ({_yaml_problem(exc)}); fix the YAML and rerun"]
    if isinstance(exc, sqlite3.DatabaseError):
        return [f"database error ({exc}); give --db a leaderboard database, or move the file away to start a new one"]
    if isinstance(exc, json.JSONDecodeError):
        return [f"malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); fix or regenerate the file"]
    if isinstance(exc, UnicodeDecodeError):
        return [f"a file is not UTF-8 (byte {exc.start} cannot be decoded); re-save it as UTF-8"]
    if isinstance(exc, RecursionError):
        return ["input nested too deeply to read; it is not a file this harness wrote"]
    return None


def exit_on_error(exc: BaseException, *, config_file: str | None = None) -> None:
    """Print the one-line error(s) for ``exc`` on stderr and exit 1; return (doing nothing) for a bug.

    ``config_file`` names the command's ``--config`` for a YAML error that does not name its file."""
    lines = describe_error(exc)
    if lines is None:
        return
    if config_file and isinstance(exc, yaml.YAMLError) and not lines[0].startswith("file "):
        lines = [f"file {config_file}: {lines[0]}"]
    if _debug_wanted():
        traceback.print_exception(exc, file=sys.stderr)
    for line in lines:
        click.echo(f"error: {_ONE_LINE.sub(' ', strip_control(line)).strip()}", err=True)
    sys.exit(EXIT_FAILED_CHECK)


_ONE_LINE = re.compile(r"\s*\n\s*")
_EXPECTED = (HarnessError, OSError, yaml.YAMLError, sqlite3.DatabaseError, ValueError, RecursionError)


def report_errors(func: F) -> F:
    """The CLI's error boundary: expected errors (bad input, a full disk, permission denied, a bad YAML, JSON or
    SQLite file) become one line on stderr and exit code 1; a traceback only with ``-v`` or ``ARCHEHR_DEBUG=1``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _EXPECTED as exc:
            config_file = kwargs.get("config_file")
            exit_on_error(exc, config_file=config_file if isinstance(config_file, str) else None)
            raise

    return wrapper  # type: ignore[return-value]


class GuardedGroup(click.Group):
    """A click group whose sub-commands all run inside the error boundary of :func:`report_errors`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _EXPECTED as exc:
            exit_on_error(exc)
            raise


def resolve_task(task_id: str | None, year: str | None, subtask: int | None, *, required: bool = True) -> Task | None:
    """The task named by ``--task``, or by its aliases ``--year``/``--subtask`` (``None``: not named and not
    ``required``). A usage error when they disagree or name no task."""
    if task_id is not None:
        task = _get_task(task_id)
        if (year is not None and year != task.edition) or (subtask is not None and subtask != task.number):
            raise click.UsageError(f"--task {task.id} disagrees with --year/--subtask; give --task alone")
        return task
    year = year or "2026"
    if year == "2025":
        if subtask is not None:
            raise click.UsageError("--subtask is not used with --year 2025 (the 2025 task has no subtasks)")
        return _get_task("2025")
    if subtask is None:
        if required:
            raise click.UsageError(f"name the task: --task {year}/N (or --year {year} --subtask N)")
        return None
    return _get_task(f"{year}/{subtask}")


def _get_task(task_id: str) -> Task:
    try:
        return get_task(task_id)
    except UnknownTaskError as exc:
        raise click.UsageError(str(exc)) from None


def task_options(*, required: bool = True) -> Callable[[F], F]:
    """``--task ID`` (e.g. ``2026/3``, ``2025``) with its aliases ``--year``/``--subtask``; the command gets
    ``task`` (a :class:`~harness.tasks.Task`, or ``None`` when not named and not ``required``)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, task_id: str | None, year: str | None, subtask: int | None, **kwargs: Any) -> Any:
            return func(*args, task=resolve_task(task_id, year, subtask, required=required), **kwargs)

        options = (
            click.option("--task", "task_id", default=None, help=f"Task id: {', '.join(task_ids())}."),
            click.option(
                "--year", type=click.Choice(editions()), default=None, help="Alias: the task's edition (default 2026)."
            ),
            click.option("--subtask", type=click.IntRange(1), default=None, help="Alias: the task's number."),
        )
        return _chain(*options)(wrapper)  # type: ignore[return-value]

    return decorate


def _known_system(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from harness.systems import UnknownSystemError, get_system_entry

    try:
        get_system_entry(value)
    except UnknownSystemError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def system_argument(func: F) -> F:
    """``SYSTEM``: a registered system name (an unknown name is a usage error, with "did you mean")."""
    return click.argument("system", callback=_known_system)(func)


def data_options(func: F) -> F:
    """``--data DIR|synthetic --split NAME``."""
    func = click.option("--split", required=True, help="Split folder name, e.g. dev, test, test-2026.")(func)
    return click.option(
        "--data", required=True, help="Data folder in the official layout, or 'synthetic' for the bundled dataset."
    )(func)


def _chain(*options: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying ``options``, listed in ``--help`` in the given order."""

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def config_options(config_help: str = "YAML config overrides.") -> Callable[[F], F]:
    """``--config FILE`` (into ``config_file``) and ``--set KEY=VALUE`` (repeatable, into ``settings``)."""
    return _chain(
        click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help=config_help),
        click.option("--set", "settings", multiple=True, help="One config override KEY=VALUE (repeatable)."),
    )


def model_dir_option(func: F) -> F:
    """``--model-dir DIR``: the trained artefacts to use (what ``archehr train --model-dir`` wrote); the same as
    ``--set model_dir=DIR``, folded into the command's ``settings`` (after any ``--set``, so it wins)."""

    @functools.wraps(func)
    def wrapper(*args: Any, model_dir: str | None, settings: tuple[str, ...], **kwargs: Any) -> Any:
        if model_dir is not None:
            settings = (*settings, f"{MODEL_DIR_KEY}={json.dumps(model_dir)}")
        return func(*args, settings=settings, **kwargs)

    return click.option(
        "--model-dir",
        type=click.Path(exists=True, file_okay=False),
        default=None,
        help="Trained artefacts (what `archehr train SYSTEM --model-dir DIR` wrote); same as --set model_dir=DIR.",
    )(wrapper)  # type: ignore[return-value]


def run_options(ids_option: Callable[[F], F], *, out_default: str | None = None) -> Callable[[F], F]:
    """The options of a run command: ``--out DIR`` (required unless ``out_default``, a pattern of ``system``,
    ``task`` and ``split``, is given), ``ids_option`` (the command's subset of cases), :func:`config_options`,
    ``--model-dir DIR``, ``--batch-size N``, ``--fresh``."""
    out_help = "Output folder (run store, submission" + (", score" if out_default else "") + ")."
    if out_default:
        out_help += f" [default: {out_default}]"
    return _chain(
        click.option("--out", type=click.Path(file_okay=False), required=out_default is None, help=out_help),
        ids_option,
        model_dir_option,
        config_options(),
        click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True),
        click.option(
            "--fresh", is_flag=True, help="Discard the predictions stored for this system and run every case again."
        ),
    )


def parse_config_overrides(config_file: str | None, settings: tuple[str, ...]) -> dict[str, Any]:
    """A YAML config file (a mapping), then ``--set KEY=VALUE`` pairs on top, values read as YAML."""
    overrides: dict[str, Any] = {}
    if config_file:
        try:
            loaded = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError.one(f"not valid YAML ({_yaml_problem(exc)}); fix the file", file=config_file) from None
        except UnicodeDecodeError as exc:
            raise InputError.one(f"not UTF-8 (byte {exc.start}); re-save as UTF-8", file=config_file) from None
        if not isinstance(loaded, dict):
            raise InputError.one("config must be a YAML mapping", file=config_file)
        overrides.update(loaded)
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--set takes KEY=VALUE, got {item!r}")
        try:
            overrides[name.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise click.UsageError(
                f"--set {name.strip()}: the value is not plain YAML ({_yaml_problem(exc)})"
            ) from None
    return overrides


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1} column {mark.column + 1}" if mark is not None else str(problem)


def _parse_case_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    try:
        ids = parse_id_ranges(list(values))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if not ids:
        raise click.BadParameter("the case-id list is empty; give ids such as '1-3 5', or leave the option out")
    return ids


def case_ids_option(verb: str) -> Callable[[F], F]:
    """``--case-ids 21-120 5`` (repeatable), parsed into a list of ids, or ``None`` when not given."""
    return click.option(
        "--case-ids",
        "case_ids",
        multiple=True,
        callback=_parse_case_ids,
        help=f"{verb} only these cases, as the scorers' --case_ids_to_score (e.g. '21-120' or '1-3 5'; repeatable).",
    )


# ------------------------------------------------------------------ data


def load_split(data: str, split: str) -> Split:
    """``--data``/``--split`` → the split; an unknown split is a failed check naming the folder."""
    try:
        return load_dataset(data).split(split)
    except KeyError as exc:
        raise InputError.one(str(exc.args[0]), file=data, field="split") from None


# ------------------------------------------------------------------ output for people and machines

FORMATS = ("text", "json")
DEFAULT_DECIMALS = 2


@dataclass(frozen=True)
class Output:
    """How a command prints its result: ``text`` for people (the default on a terminal), ``json`` otherwise."""

    format: str
    decimals: int | None = None

    @property
    def places(self) -> int:
        """Decimals of numbers in text (``--decimals``, else 2)."""
        return DEFAULT_DECIMALS if self.decimals is None else self.decimals

    def emit(self, data: Any, text: Callable[[int], str] | None = None) -> None:
        """Print ``data`` as JSON (numbers rounded only when ``--decimals`` was given), or ``text(decimals)``
        (the generic :func:`render_text` of ``data`` when the command has no renderer of its own)."""
        if self.format == "json":
            print_json(data if self.decimals is None else round_floats(data, self.decimals))
            return
        click.echo((text or functools.partial(render_text, data))(self.places))


def _stdout_is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def output_options(*, legacy_json_flag: bool = False) -> Callable[[F], F]:
    """``--format text|json`` (default: text on a terminal, JSON otherwise) and ``--decimals N``; the command
    gets ``output`` (an :class:`Output`). ``legacy_json_flag`` keeps ``--json`` as an alias of
    ``--format json``."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, fmt: str | None, decimals: int | None, **kwargs: Any) -> Any:
            if kwargs.pop("as_json", False):
                fmt = "json"
            chosen = fmt or ("text" if _stdout_is_terminal() else "json")
            return func(*args, output=Output(chosen, decimals), **kwargs)

        options = [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default=None,
                help="Result on stdout: text (a table for people) or json. [default: text on a terminal, else json]",
            ),
            click.option(
                "--decimals",
                type=click.IntRange(0, 12),
                default=None,
                help=f"Decimals of numbers (text default {DEFAULT_DECIMALS}; JSON is unrounded unless given).",
            ),
        ]
        if legacy_json_flag:
            options.append(click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --format json."))
        return _chain(*options)(wrapper)  # type: ignore[return-value]

    return decorate


def round_floats(data: Any, decimals: int) -> Any:
    """``data`` with every float rounded to ``decimals`` places (containers copied)."""
    if isinstance(data, float):
        return round(data, decimals)
    if isinstance(data, dict):
        return {k: round_floats(v, decimals) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [round_floats(v, decimals) for v in data]
    return data


def format_number(value: Any, decimals: int) -> str:
    """A number for a table: floats with ``decimals`` places, ``—`` for ``None``."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def safe_text(text: str) -> str:
    """``text`` with control and format characters (but newlines and tabs) shown escaped (``\x1b``), never sent
    raw to a terminal."""
    return "".join(
        ascii(ch)[1:-1] if ch not in "\n\t" and unicodedata.category(ch) in {"Cc", "Cf"} else ch for ch in text
    )


def render_text(data: Any, decimals: int = DEFAULT_DECIMALS) -> str:
    """A readable rendering of any JSON-able result: ``key: value`` lines, nested blocks indented, a list of
    flat objects as an aligned table."""
    return "\n".join(_text_lines(data, decimals, 0)) or "(nothing)"


def _is_flat(value: Any) -> bool:
    return not isinstance(value, dict | list | tuple)


def _text_lines(data: Any, decimals: int, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(data, dict):
        lines: list[str] = []
        for key, value in data.items():
            if _is_flat(value) or (isinstance(value, list | tuple) and all(_is_flat(v) for v in value)):
                lines.append(f"{pad}{safe_text(str(key))}: {_flat(value, decimals)}")
            elif not value:
                lines.append(f"{pad}{safe_text(str(key))}: (none)")
            else:
                lines.append(f"{pad}{safe_text(str(key))}:")
                lines.extend(_text_lines(value, decimals, indent + 1))
        return lines
    if isinstance(data, list | tuple):
        if data and all(isinstance(row, dict) and all(_is_flat(v) for v in row.values()) for row in data):
            return [pad + line for line in table(data, decimals)]
        lines = []
        for item in data:
            sub = _text_lines(item, decimals, indent + 1)
            if sub:
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines.extend(sub[1:])
        return lines
    return [pad + _flat(data, decimals)]


def _flat(value: Any, decimals: int) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_flat(v, decimals) for v in value) if value else "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return safe_text(format_number(value, decimals))


def table(rows: list[dict[str, Any]], decimals: int = DEFAULT_DECIMALS, columns: list[str] | None = None) -> list[str]:
    """Rows of flat objects as aligned text lines (header first); numbers right-aligned."""
    names = columns or list(dict.fromkeys(k for row in rows for k in row))
    cells = [[_flat(row.get(name), decimals) for name in names] for row in rows]
    widths = [max([len(name)] + [len(r[i]) for r in cells]) for i, name in enumerate(names)]
    numeric = [all(isinstance(row.get(n), int | float) or row.get(n) is None for row in rows) for n in names]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return [line(names), line(["-" * w for w in widths])] + [line(r) for r in cells]


# ------------------------------------------------------------------ logging and third-party noise

#: Loggers whose INFO records (progress of the main steps) show by default; everything else shows from WARNING.
APP_LOGGERS = ("archehr",)
#: Environment defaults that keep third-party libraries quiet unless ``-v`` (set only when not already set).
QUIET_ENV = {"TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false"}
_THIRD_PARTY_STDOUT = logging.getLogger("third_party.stdout")
_state = {"quiet": False}


def show_progress() -> bool:
    """Whether commands draw progress bars (on stderr, on a terminal): not under ``-q``."""
    return not _state["quiet"]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


#: Third-party loggers whose warnings concern optional accelerations (shown with ``-v``).
QUIET_LOGGERS = ("bitsandbytes",)


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Quiet by default: the app's progress (INFO of :data:`APP_LOGGERS`) and everyone's warnings on stderr,
    progress bars on a terminal; third-party load reports and FutureWarnings silenced. ``-v``: INFO from
    everyone and third-party reports; ``-vv``: DEBUG; ``-q``: errors only, no bars."""
    _state["quiet"] = quiet
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(_StderrHandler())
    if quiet:
        root.setLevel(logging.ERROR)
        os.environ["TQDM_DISABLE"] = "1"
    else:
        root.setLevel(logging.WARNING - 10 * min(verbose, 2))
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if quiet else min(logging.INFO, root.level))
    logging.captureWarnings(True)
    if verbose == 0:
        for key, value in QUIET_ENV.items():
            os.environ.setdefault(key, value)
        warnings.filterwarnings("ignore", category=FutureWarning)
        for name in QUIET_LOGGERS:  # their warnings are about optional speed-ups, not about the user's run
            logging.getLogger(name).setLevel(logging.ERROR)
    if "transformers" in sys.modules and verbose == 0:  # already imported (tests): quiet it directly
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


class _LogWriter(io.TextIOBase):
    """A text stream that turns each written line into an INFO record of ``third_party.stdout``."""

    def __init__(self) -> None:
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line.strip():
                _THIRD_PARTY_STDOUT.info("%s", safe_text(line.strip()))
        return len(text)

    def flush(self) -> None:
        if self._buffer.strip():
            _THIRD_PARTY_STDOUT.info("%s", safe_text(self._buffer.strip()))
        self._buffer = ""


@contextlib.contextmanager
def third_party_prints_to_log() -> Iterator[None]:
    """Route what libraries ``print`` while computing (QuickUMLS' "COMPLETED: …") into the log, keeping stdout
    for the command's result. Wrap the computation, never the printing of the result."""
    writer = _LogWriter()
    try:
        with contextlib.redirect_stdout(writer):
            yield
    finally:
        writer.flush()
