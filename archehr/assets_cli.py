"""``archehr assets``: list external assets, fetch them explicitly, build a QuickUMLS index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from harness import assets
from harness.cli_support import Output, output_options, report_errors, safe_text, third_party_prints_to_log


@click.group("assets")
def assets_group() -> None:
    """External models and indexes: where they are found and how to supply them."""


@assets_group.command("status")
@output_options()
@report_errors
def status_command(output: Output) -> None:
    """Every asset: where it was found, or missing with how to supply it, and the metrics that need it."""
    from metrics.registry import metric_specs

    needed_by: dict[str, list[str]] = {}
    for spec in metric_specs():
        for name in spec.assets:
            needed_by.setdefault(name, []).append(spec.name)
    rows = [
        {
            **status.to_json(),
            "purpose": assets.ASSETS[status.name].purpose,
            "env_var": assets.ASSETS[status.name].env_var,
            "metrics": needed_by.get(status.name, []),
        }
        for status in assets.status_all()
    ]
    output.emit(rows, lambda decimals: _status_text(rows))


def _status_text(rows: list[dict[str, Any]]) -> str:
    """One line per asset (found: where; missing: why), then how to supply each missing one."""
    width = max(len(r["name"]) for r in rows)
    lines = [f"{r['name']:<{width}}  {r['status']:<7}  {r['found_at'] or r['problem'] or ''}" for r in rows]
    missing = [r for r in rows if r["status"] != "found" and r.get("how_to_supply")]
    if missing:
        lines.append("")
        lines += [f"{r['name']}: {r['how_to_supply']}" for r in missing]
    return safe_text("\n".join(lines))


@assets_group.command("fetch")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--out",
    "--dest",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to download into.",
)
@output_options()
@report_errors
def fetch_command(names: tuple[str, ...], dest: Path | None, output: Output) -> None:
    """Download NAME... from the model hub (needs internet; never happens implicitly)."""
    for name in names:
        try:
            assets.get_asset(name)
        except assets.UnknownAssetError as exc:
            raise click.UsageError(str(exc)) from None
    fetched = []
    for name in names:
        target = None if dest is None else (dest / name if len(names) > 1 else dest)
        path = assets.fetch(name, target)
        entry = {"name": name, "path": str(path)}
        env_var = assets.ASSETS[name].env_var
        if target is not None and env_var:
            entry["use_with"] = f"{env_var}={path}"
        fetched.append(entry)
    output.emit(fetched)


@assets_group.command("build-quickumls")
@click.argument("rrf_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out_dir", required=False, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), help="Folder for the index.")
@click.option("--lowercase/--no-lowercase", default=True, show_default=True, help="QuickUMLS -L flag.")
@click.option("--normalize-unicode/--no-normalize-unicode", default=True, show_default=True, help="QuickUMLS -U flag.")
@click.option("--backend", type=click.Choice(["unqlite", "leveldb"]), default="unqlite", show_default=True)
@output_options()
@report_errors
def build_quickumls_command(
    rrf_dir: Path,
    out_dir: Path | None,
    out: Path | None,
    lowercase: bool,
    normalize_unicode: bool,
    backend: str,
    output: Output,
) -> None:
    """Build a QuickUMLS index in --out from RRF_DIR (MRCONSO.RRF and MRSTY.RRF of a UMLS install).

    A positional OUT_DIR after RRF_DIR is still read."""
    if (out_dir is None) == (out is None):
        raise click.UsageError("give the index folder once: --out DIR")
    out = out or out_dir
    from metrics.medcon import build_quickumls_index

    with third_party_prints_to_log():
        info = build_quickumls_index(
            rrf_dir, out, lowercase=lowercase, normalize_unicode=normalize_unicode, backend=backend
        )
    output.emit({**info.to_json(), "use_with": f"ARCHEHR_QUICKUMLS_INDEX={info.index_dir}"})
