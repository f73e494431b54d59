"""Read the INSEE Filosofi grid (200 m squares): GeoPackage, shapefile, or CSV of square codes."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from cdv_geo.core.crs import is_undefined_crs
from cdv_geo.core.errors import CRSError, DataValidationError, Problem
from cdv_geo.io.insee.cells import parse_value, read_rows
from cdv_geo.io.layers import assign_crs, read_vector
from cdv_geo.schema.geography import outside_area_of_use

__all__ = ["SQUARE_ID_COLUMNS", "grid_values", "read_grid", "require_grid_crs"]

_IDCAR = re.compile(r"CRS(\d+)RES(\d+)mN(\d+)E(\d+)", re.IGNORECASE)

#: Columns holding the square's code, by edition (lower case): 2017-2019 ``Idcar_200m``, 2015
#: ``IdINSPIRE``, the national ``Idcar_nat`` and 1 km codes last.
SQUARE_ID_COLUMNS: tuple[str, ...] = ("idcar_200m", "idinspire", "idcar_nat", "idcar_1km")


def read_grid(
    path: str | os.PathLike[str], *, layer: str | None = None, crs: Any = None
) -> gpd.GeoDataFrame:
    r"""Read an INSEE Filosofi grid (GeoPackage/shapefile, or CSV with ``idcar_200m`` codes).

    Column names are lower-cased (older vintages capitalise them: ``Ind``, ``Men_pauv``). A
    table without geometry is given its squares from the square code (``Idcar_200m`` or the
    2015 ``IdINSPIRE``, ``CRS3035RES200mN2957400E3787800``: lower-left corner, EPSG:3035).

    Parameters
    ----------
    path : str or path-like
        The file.
    layer : str, optional
        The layer of a GeoPackage holding several (required then, unless only one of them has
        geometries).
    crs : str, int or pyproj.CRS, optional
        The CRS of the coordinates when the file does not name one. Filosofi grids are in
        EPSG:3035 (ETRS89-LAEA) or, for some editions (2015), in Lambert-93 EPSG:2154. A file
        that names another CRS is an error (:func:`cdv_geo.io.layers.assign_crs`).

    Returns
    -------
    geopandas.GeoDataFrame
        Lower-case columns, ``attrs["source"]`` = the file.

    Raises
    ------
    CRSError
        The file has no CRS and `crs` is not given (naming the file), or names another one.
    DataValidationError
        A missing or unreadable file, several layers and no `layer`, a table with neither
        geometry nor square codes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "filo.csv"
    >>> _ = p.write_text("Idcar_200m;Ind;Men\nCRS3035RES200mN2957400E3787800;52,5;20\n")
    >>> g = read_grid(p)
    >>> g.crs.to_epsg(), list(g.columns), g.geometry.iloc[0].bounds
    (3035, ['idcar_200m', 'ind', 'men', 'geometry'], (3787800.0, 2957400.0, 3788000.0, 2957600.0))
    """
    p = Path(path)
    if not p.exists():
        raise DataValidationError([Problem("file does not exist", file=str(p), layer="grid")])
    if p.suffix.lower() in (".csv", ".txt"):
        rows = read_rows(p, SQUARE_ID_COLUMNS)
        head = [c.strip() for c in rows.cells[0]]
        body = [(r + [""] * len(head))[: len(head)] for r in rows.cells[1:]]
        return require_grid_crs(
            _grid_from_ids(pd.DataFrame(body, columns=head), str(p)), crs, str(p)
        )
    layer = _pick_layer(p, layer)
    where = f"{p}" + (f" (layer {layer})" if layer else "")
    try:
        g = read_vector(p, layer=layer, crs=crs, kind="grid")
    except CRSError as exc:
        if crs is not None:
            raise
        raise CRSError(_no_crs(where)) from exc
    g = g.rename(columns={c: c.lower() for c in g.columns if c != g.geometry.name})
    g.attrs["source"] = where
    return g


def _pick_layer(p: Path, layer: str | None) -> str | None:
    """Return the layer to read: `layer`, else the only one (with geometries) of the file."""
    try:
        layers = pyogrio.list_layers(p)
    except Exception as exc:
        raise DataValidationError(
            [Problem(f"cannot read the grid: {exc}", file=str(p), layer="grid")]
        ) from exc
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise DataValidationError(
                [
                    Problem(
                        f"no layer {layer!r} in the file; its layers are {', '.join(names)}",
                        file=str(p),
                        layer="grid",
                    )
                ]
            )
        return layer
    spatial = [str(n) for n, kind in layers if kind is not None]
    if len(names) > 1 and len(spatial) != 1:
        raise DataValidationError(
            [
                Problem(
                    f"the file holds several layers ({', '.join(spatial or names)}); say which "
                    f"one holds the squares with layer=, e.g. layer={(spatial or names)[0]!r}",
                    file=str(p),
                    layer="grid",
                )
            ]
        )
    return spatial[0] if len(names) > 1 else None


def require_grid_crs(grid: gpd.GeoDataFrame, crs: Any, source: str) -> gpd.GeoDataFrame:
    """Return `grid` with its CRS: its own, else `crs`; neither -> :class:`CRSError`.

    As :func:`cdv_geo.io.layers.assign_crs`: `crs` only assigns a CRS to a grid that has none
    (a grid naming another CRS than `crs` is an error).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"ind": [5.0]}, geometry=[box(0, 0, 200, 200)])
    >>> require_grid_crs(g, "EPSG:2154", "carreaux.shp").crs.to_epsg()
    2154
    >>> require_grid_crs(g, None, "carreaux.shp")
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.CRSError: the grid carreaux.shp has no coordinate reference system; ...
    """
    if is_undefined_crs(grid.crs) and crs is None:
        bounds = grid.total_bounds if len(grid) else None
        raise CRSError(_no_crs(source, bounds))
    out = assign_crs(grid, crs, source)
    out.attrs.update(grid.attrs)
    return out


def _no_crs(source: str, bounds: Any = None) -> str:
    """Say that the grid has no CRS, and which of the grid CRSs its coordinates fit."""
    options = {
        "EPSG:2154": 'crs="EPSG:2154" (Lambert-93, e.g. Filosofi 2015)',
        "EPSG:3035": 'crs="EPSG:3035" (ETRS89-LAEA, Filosofi 2017 and later)',
    }
    if bounds is not None and all(np.isfinite(bounds)):
        # the square codes (CRS3035RES200m...) name the CRS of the code, not always of the
        # coordinates: suggest only what the coordinates fit
        fit = [c for c in options if not outside_area_of_use(bounds, c)]
        if fit:
            return (
                f"the grid {source} has no coordinate reference system; its coordinates fit "
                + " or ".join(options[c] for c in fit)
                + ": say which with crs=..., or add the .prj of a shapefile"
            )
    return (
        f"the grid {source} has no coordinate reference system; say which one its "
        'coordinates are in with crs="EPSG:2154" (Lambert-93, e.g. Filosofi 2015) or '
        'crs="EPSG:3035" (ETRS89-LAEA, Filosofi 2017 and later; the square codes '
        "CRS3035RES200m... say so), or add the .prj of a shapefile"
    )


def grid_values(grid: gpd.GeoDataFrame, cols: Sequence[str], source: str) -> pd.DataFrame:
    """Return the numeric columns `cols` of the grid; secrecy codes -> NaN.

    Column names are matched case-insensitively; text other than a number or a secrecy code
    is an error naming the square and the column.

    Raises
    ------
    DataValidationError
        A missing column (listing those present), a cell that is not a number.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"Ind": ["52,5", "s"]}, geometry=[box(0, 0, 1, 1)] * 2, crs=3035)
    >>> grid_values(g, ["ind"], "filo.gpkg")["ind"].tolist()
    [52.5, nan]
    """
    lower = {str(c).lower(): c for c in grid.columns}
    missing = [c for c in cols if c.lower() not in lower]
    if missing:
        avail = [c for c in lower if c != "geometry"]
        raise DataValidationError(
            [
                Problem(
                    f"grid has no column {', '.join(missing)}; it has {', '.join(avail)}",
                    file=source,
                    layer="grid",
                    field=missing[0],
                )
            ]
        )
    ident = square_ids(grid)
    out: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    for c in cols:
        series = grid[lower[c.lower()]]
        if pd.api.types.is_numeric_dtype(series):
            out[c] = series.to_numpy(dtype=float)
            continue
        vals = np.empty(len(series))
        for i, cell in enumerate(series):
            v, _ = parse_value(cell)
            if v is None:
                problems.append(
                    Problem(
                        f"{cell!r} is not a number",
                        file=source,
                        layer="grid",
                        feature=str(ident[i]),
                        field=c,
                    )
                )
                v = np.nan
            vals[i] = v
        out[c] = vals
    if problems:
        raise DataValidationError(problems)
    return pd.DataFrame(out, index=grid.index)


def square_ids(grid: pd.DataFrame) -> np.ndarray:
    """Return each square's code (:data:`SQUARE_ID_COLUMNS`), else ``#1``, ``#2``... in order.

    Examples
    --------
    >>> import pandas as pd
    >>> square_ids(pd.DataFrame({"IdINSPIRE": ["CRS3035RES200mN1E2"]})).tolist()
    ['CRS3035RES200mN1E2']
    >>> square_ids(pd.DataFrame({"ind": [1, 2]})).tolist()
    ['#1', '#2']
    """
    lower = {str(c).lower(): c for c in grid.columns}
    col = next((lower[c] for c in SQUARE_ID_COLUMNS if c in lower), None)
    if col is None:
        return np.array([f"#{i + 1}" for i in range(len(grid))], dtype=object)
    return grid[col].astype(str).to_numpy(dtype=object)


def _grid_from_ids(df: pd.DataFrame, source: str) -> gpd.GeoDataFrame:
    df = df.rename(columns={c: c.lower().strip() for c in df.columns})
    col = next((c for c in SQUARE_ID_COLUMNS if c in df.columns), None)
    if col is None:
        raise DataValidationError(
            [
                Problem(
                    "the table has no geometry and no square code column "
                    f"({', '.join(SQUARE_ID_COLUMNS)}) to rebuild the squares",
                    file=source,
                    layer="grid",
                )
            ]
        )
    geoms: list[Any] = []
    crs: int | None = None
    problems: list[Problem] = []
    for i, code in enumerate(df[col]):
        m = _IDCAR.search(str(code))
        if m is None:
            problems.append(
                Problem(
                    f"{code!r} is not an INSEE square code (CRS3035RES200mN…E…)",
                    file=source,
                    layer="grid",
                    feature=f"line {i + 2}",
                    field=col,
                )
            )
            geoms.append(None)
            continue
        epsg, res, n, e = (int(v) for v in m.groups())
        crs = crs or epsg
        geoms.append(shapely.box(e, n, e + res, n + res))
    if problems:
        raise DataValidationError(problems)
    g = gpd.GeoDataFrame(df, geometry=geoms, crs=crs)
    g.attrs["source"] = source
    return g
