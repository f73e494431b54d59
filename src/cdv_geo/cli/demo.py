"""``cdv-geo demo``: the committee pack of the embedded Soissons demo (illustrative data)."""

from __future__ import annotations

from pathlib import Path

import click

from cdv_geo import datasets
from cdv_geo.cli.options import out_option
from cdv_geo.io import atomic_path, write_layer


@click.command()
@out_option(default="maps")
def demo(out: Path) -> None:
    """Build the committee pack of the Soissons demo (illustrative data) into OUT."""
    territory = datasets.soissons()
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "soissons_layers.gpkg"
    for kind, gdf in territory.layers().items():
        write_layer(gdf, gpkg, layer=kind)
    summary = territory.summary()
    with atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, lineterminator="\n")
    click.echo(f"{territory!r}")
    click.echo(summary.to_string())
    click.echo(f"Wrote {gpkg} and {out / 'summary.csv'}")
