"""``archehr ablate``: the aligner's components alone and together on one annotated split.

JSON (the table) on stdout, a human table on stderr. The aligner declares :data:`ablate_command` on its
registry entry, and the ``archehr`` group mounts the commands systems declare; heavy imports happen inside.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import click

from harness.cli_support import print_json, report_errors
from harness.systems import TrainOptions

logger = logging.getLogger(__name__)

SYSTEM_SUBTASK = {"qunlp-aligner": 4, "qunlp-evidence": 2}


@click.command("ablate")
@click.argument("system", type=click.Choice(sorted(SYSTEM_SUBTASK)))
@click.option("--data", required=True, help="Data folder in the official layout, or 'synthetic'.")
@click.option("--split", required=True, help="Annotated split to score, e.g. test.")
@click.option(
    "--model-dir",
    type=click.Path(exists=True, file_okay=False),
    help="A trained aligner (archehr train qunlp-aligner --out DIR); without it, one is trained in a temporary folder.",
)
@click.option("--train-split", default="dev", show_default=True, help="Split to train on when no --model-dir is given.")
@click.option(
    "--config", "config_file", type=click.Path(exists=True, dir_okay=False), help="Aligner YAML for that training."
)
@report_errors
def ablate_command(
    system: str, data: str, split: str, model_dir: str | None, train_split: str, config_file: str | None
) -> None:
    """Micro P/R/F1 of BM25 alone, TF-IDF alone, the cross-encoder alone and the ensemble of SYSTEM on a split."""
    from systems.qunlp.aligner.ablation import ablation_table, format_table

    with tempfile.TemporaryDirectory(prefix="aligner-ablate-") as tmp:
        if model_dir is None:
            from systems.qunlp.aligner.training import train_aligner

            logger.warning("no --model-dir: training an aligner on %s/%s first", data, train_split)
            model_dir = train_aligner(
                TrainOptions(config=config_file, out=str(Path(tmp)), data=data, split=train_split)
            )["model_dir"]
        table = ablation_table(model_dir, data, split, SYSTEM_SUBTASK[system])
        if table["model_dir"] == tmp:
            table["model_dir"] = None  # trained for this command and removed with it
    click.echo(format_table(table), err=True)
    print_json(table)
