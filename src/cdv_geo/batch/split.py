"""National inputs cut into one project folder per commune, for :func:`~cdv_geo.batch.run_batch`.

The State publishes national files: the official QPV perimeters (ANCT), facilities (BPE or a
national register), streets (an OSM extract), indicator tables (INSEE). :func:`split_national`
writes, for each commune, a folder with its QPV, the features of the other layers that lie within
`buffer_m` of the commune's QPV (a facility across the boundary still serves the quartier), the
indicator rows of its QPV, of the commune and of the national references, and a ``project.toml``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import pandas as pd

from cdv_geo.core.crs import DEFAULT_METRIC_CRS
from cdv_geo.core.errors import CdvGeoError, DataValidationError, Problem
from cdv_geo.schema import LAYER_KINDS

__all__ = ["split_national"]

LayerInput: TypeAlias = gpd.GeoDataFrame | str | os.PathLike[str]


def _frame(layer: LayerInput, kind: str) -> gpd.GeoDataFrame:
    gdf = layer if isinstance(layer, gpd.GeoDataFrame) else gpd.read_file(layer)
    if gdf.crs is None:
        raise DataValidationError(
            [Problem("layer has no CRS; set one (e.g. EPSG:2154) and save it again", layer=kind)]
        )
    return gdf


def _indicator_rows(table: pd.DataFrame, codes: list[str], towns: list[str]) -> pd.DataFrame:
    level = table["level"].astype(str).str.lower()
    keep = table["code"].astype(str).isin([*codes, *towns]) | ~level.isin(
        ["qpv", "commune", "iris", "epci", "departement", "region"]
    )
    cols = [c for c in ("code", "level", "indicator", "year", "value") if c in table.columns]
    return table.loc[keep, cols]


def split_national(
    qpv: str | os.PathLike[str],
    communes: Iterable[str],
    out: str | os.PathLike[str],
    *,
    layers: Mapping[str, LayerInput] | None = None,
    indicators: str | os.PathLike[str] | pd.DataFrame | None = None,
    buffer_m: float = 2000.0,
    crs: str = DEFAULT_METRIC_CRS,
) -> list[Path]:
    """Write one project folder per commune under `out` and return their ``project.toml``.

    Parameters
    ----------
    qpv : path-like
        The official QPV perimeter file (read with :func:`cdv_geo.read_qpv`,
        ``communes=[code]``).
    communes : iterable of str
        INSEE codes of the communes.
    out : path-like
        Folder receiving ``<code>/project.toml`` and its layers.
    layers : mapping of str to GeoDataFrame or path, optional
        National layers by kind (``facilities``, ``streets``, ``residences``...), read once and
        cut to the commune's QPV bounding box plus `buffer_m`.
    indicators : path or DataFrame, optional
        A national indicator table (read with ``read_indicators`` when a path); each commune
        keeps the rows of its QPV, of itself and of the national references.
    buffer_m : float, default 2000
        Margin around the QPV's bounding box, in metres of `crs`.
    crs : str
        Metric CRS of the projects.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    CdvGeoError
        On an unknown layer kind, or a commune without QPV in the file.
    """
    from cdv_geo.io import read_qpv
    from cdv_geo.io.insee import read_indicators

    given = dict(layers or {})
    unknown = [k for k in given if k not in LAYER_KINDS or k == "quartiers"]
    if unknown:
        raise CdvGeoError(
            f"split_national(layers=...): unknown layer kind(s) {unknown}; use "
            f"{', '.join(k for k in LAYER_KINDS if k != 'quartiers')}"
        )
    national = {k: _frame(v, k).to_crs(crs) for k, v in given.items()}
    table = None
    if indicators is not None:
        table = indicators if isinstance(indicators, pd.DataFrame) else read_indicators(indicators)
    written = []
    for code in communes:
        q = read_qpv(qpv, communes=[code])
        if q.empty:
            raise CdvGeoError(f"commune {code!r} has no QPV in {qpv}")
        folder = Path(out) / str(code)
        (folder / "layers").mkdir(parents=True, exist_ok=True)
        q.to_crs(crs).to_file(folder / "layers" / "quartiers.gpkg", driver="GPKG")
        x0, y0, x1, y1 = q.to_crs(crs).total_bounds
        entries = ['quartiers = "layers/quartiers.gpkg"']
        for kind, gdf in national.items():
            cut = gdf.cx[x0 - buffer_m : x1 + buffer_m, y0 - buffer_m : y1 + buffer_m]
            if len(cut):
                cut.to_file(folder / "layers" / f"{kind}.gpkg", driver="GPKG")
                entries.append(f'{kind} = "layers/{kind}.gpkg"')
        tables = ""
        if table is not None:
            towns = {str(code)}
            if "commune" in q.columns:  # INSEE codes (or names) of the QPV's communes
                towns.update(t for v in q["commune"].dropna() for t in str(v).split(";"))
            rows = _indicator_rows(table, [str(c) for c in q["code"]], sorted(towns))
            rows.to_csv(folder / "indicators.csv", sep=";", index=False)
            tables = '\n[tables]\nindicators = "indicators.csv"\n'
        name = str(code)
        project = folder / "project.toml"
        project.write_text(
            f'[territory]\nname = "{name}"\ncommune = "{code}"\ncrs = "{crs}"\n\n'
            "[layers]\n" + "\n".join(entries) + "\n" + tables,
            encoding="utf-8",
        )
        written.append(project)
    return written
