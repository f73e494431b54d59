"""``cdv-geo batch PROJECTS... --out DIR``: every contrat de ville at once, on dask."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo.batch import INLINE, run_batch
from cdv_geo.cli.options import Options, out_option


@click.command()
@click.argument("projects", nargs=-1, required=True, metavar="PROJECT.toml...")
@out_option()
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDR",
    help="Address of a running dask scheduler (tcp://host:8786); default: a local cluster "
    f"started for the run. '{INLINE}' runs in this process, without dask.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the local cluster (default: one per core).",
)
@click.option("--force", is_flag=True, help="Compute again the territories already finished.")
@click.option(
    "--k",
    "k",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Size of each quartier's group of comparable quartiers.",
)
@click.option("--no-peers", is_flag=True, help="Skip the comparable quartiers (peers table).")
@click.option(
    "--evaluate-year",
    type=int,
    default=None,
    metavar="YEAR",
    help="Also evaluate every quartier of the national panel of the projects' [evaluation] "
    "(difference-in-differences, synthetic control) from YEAR: OUT/national/evaluation.csv.",
)
@click.pass_context
def batch(
    ctx: click.Context,
    projects: tuple[str, ...],
    out: Path,
    scheduler: str | None,
    workers: int | None,
    force: bool,
    k: int,
    no_peers: bool,
    evaluate_year: int | None,
) -> None:
    """Compute the metrics of many PROJECT.toml (files, folders or globs) into OUT.

    Each territory's tables go to OUT/territories/<slug>/, the national tables (one row per
    quartier, with its territory) to OUT/national/ as Parquet and CSV. A territory that fails
    is listed in OUT/national/errors.csv and the others go on; a rerun skips the territories
    already finished unless --force.
    """
    opts = ctx.find_object(Options) or Options()
    result = run_batch(
        list(projects),
        out,
        scheduler=scheduler,
        workers=workers,
        force=force,
        k=k,
        peers=not no_peers,
        show_progress=None if not opts.quiet else False,
        echo=None if opts.quiet else click.echo,
    )
    counts = result.territories["status"].value_counts()
    click.echo(
        f"{len(result.territories)} territories: {counts.get('done', 0)} computed, "
        f"{counts.get('skipped', 0)} already done, {counts.get('failed', 0)} failed"
    )
    t = result.timings
    click.echo(
        f"{t['total']:.1f} s: cluster start {t['start']:.1f} s, territories "
        f"{t['territories']:.1f} s, national tables {t['national']:.1f} s"
    )
    for row in result.errors.itertuples(index=False):
        click.echo(f"failed: {row.territory} [{row.step}] {row.message}", err=True)
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"National tables in {result.out / 'national'}")
    if evaluate_year is not None:
        from cdv_geo.batch.evaluation import run_national_evaluation

        files, times = run_national_evaluation(
            list(projects), out, evaluate_year, scheduler=scheduler, workers=workers
        )
        if files:
            click.echo(
                f"National evaluation: {int(times['quartiers'])} quartiers x "
                f"{int(times['indicators'])} indicators in {times['total']:.1f} s (files read "
                f"{times['read']:.1f} s, cluster start {times['start']:.1f} s, evaluation "
                f"{times['seconds']:.1f} s, {times['cpu_seconds']:.1f} s CPU in "
                f"{int(times['tasks'])} tasks): {files[-1]}"
            )
        else:
            click.echo("No project has an [evaluation] section: nothing evaluated.")
    if len(result.errors):
        ctx.exit(3)
