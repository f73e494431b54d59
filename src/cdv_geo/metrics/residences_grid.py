"""Residences from the INSEE Filosofi grid: each 200 m square's people on its buildings.

Where a contrat de ville has no dwelling-level residences layer, the Filosofi grid gives the
residents, households and children of every inhabited 200 m square. :func:`residences_from_grid`
turns those squares into a ``residences`` layer, the weights of coverage (``weight="population"``
or ``"children"``), green-space access, 3-30-300 and the children's metrics: each square's counts
go on the buildings inside it (by dwellings, else by floor area), or at its centre.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.assign import assign_quartier
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem
from cdv_geo.core.layers import as_layer, feature_ids
from cdv_geo.io.grid import grid_values, read_grid, require_grid_crs, square_ids
from cdv_geo.schema import SCHEMAS, compact_token

__all__ = [
    "CHILD_BANDS",
    "FLOOR_HEIGHT_M",
    "GRID_COUNT_NAMES",
    "floor_areas",
    "residences_from_grid",
]

#: Filosofi columns (lower case) -> canonical residences fields.
GRID_COUNT_NAMES: dict[str, str] = {
    "ind": "population",
    "men": "households",
    "men_pauv": "poor_households",
    "ind_0_3": "children_0_3",
    "ind_4_5": "children_4_5",
    "ind_6_10": "children_6_10",
    "ind_11_17": "children_11_17",
}

#: The age bands summed into ``children`` (0-17 years).
CHILD_BANDS: tuple[str, ...] = ("children_0_3", "children_4_5", "children_6_10", "children_11_17")

#: Storey height (m) that turns a building's height into its number of levels.
FLOOR_HEIGHT_M = 3.0

# Building fields, matched whatever their case and style (BD TOPO, OSM, cadastre).
_LEVELS = ("levels", "nb_etages", "nombre_d_etages", "etages", "nb_niveaux", "building_levels")
_HEIGHT = ("hauteur", "height", "haut")
_COUNT_PREFIXES = ("ind_", "men_", "log_")


def residences_from_grid(
    grid: gpd.GeoDataFrame | str | os.PathLike[str],
    buildings: gpd.GeoDataFrame | None = None,
    *,
    crs: Any = None,
    layer: str | None = None,
    territory: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    r"""Turn INSEE Filosofi 200 m squares into weighted residences.

    **With buildings**, each square's counts go on the buildings whose representative point
    lies in it (the square decided by :func:`cdv_geo.core.assign.assign_quartier`, as every
    quartier), in proportion to their ``dwellings`` (``nb_logements``,
    ``nombre_de_logements``...) when the square's buildings have some, else to their floor area:
    footprint × levels, the levels read from a ``levels`` / ``nb_etages`` /
    ``nombre_d_etages`` field, else ``hauteur`` / :data:`FLOOR_HEIGHT_M` (at least one), else
    the footprint alone. A square without any building puts its counts at its centre (a point
    residence; a warning counts them). Buildings outside every square, and those without
    dwellings in a square whose other buildings have some, are left out (nobody lives there
    according to the grid). **Without buildings**, one point residence at each square's centre.

    The counts are kept and renamed (:data:`GRID_COUNT_NAMES`): ``population`` (``Ind``),
    ``households`` (``Men``), ``poor_households`` (``Men_pauv``), ``children_0_3``,
    ``children_4_5``, ``children_6_10``, ``children_11_17`` (``Ind_0_3``...); the other counts
    (``ind_18_24``... ``ind_80p``, ``men_*``, ``log_soc``, ``ind_snv`` the sum of living
    standards...) keep their lower-case Filosofi names. Two sums are added when their bands
    are published: ``children`` (0-17 years, the four bands) and ``children_3_10``, estimated as
    :math:`Ind_{4-5} + Ind_{6-10} + \tfrac14 Ind_{0-3}`: the 0-3 band holds four ages (0, 1, 2
    and 3), taken as equally numerous. Every total is conserved: the sum over the residences
    equals the sum over the squares (a secret count stays missing on its square's residences).

    Parameters
    ----------
    grid : geopandas.GeoDataFrame or path
        The squares (GeoPackage, shapefile, or CSV of square codes; read with
        :func:`cdv_geo.io.grid.read_grid`). Column names in any case.
    buildings : geopandas.GeoDataFrame, optional
        Building footprints (polygons; BD TOPO ``batiment``, OSM, cadastre), with optional
        dwellings, levels or height fields.
    crs : str, int or pyproj.CRS, optional
        The grid's CRS when its file does not name one: Filosofi grids are in EPSG:3035 or,
        depending on the edition, Lambert-93 EPSG:2154 (a grid naming another CRS is an
        error: reproject it instead).
    layer : str, optional
        The GeoPackage layer holding the squares (when the file holds several).
    territory : geopandas.GeoDataFrame, optional
        Polygons (e.g. the communes): only the squares that intersect them are used (a
        département's grid clipped to the contrat de ville).

    Returns
    -------
    geopandas.GeoDataFrame
        A validated ``residences`` layer (buildings' CRS, else the grid's): ``id`` (the
        building's id, or the square's code), ``dwellings`` (the buildings' own, when given),
        ``population``, ``source`` (the grid's file), ``square`` (the square's code),
        ``placement`` (``"building"`` or ``"square_centre"``), the counts above, ``geometry``.

    Raises
    ------
    CRSError
        The grid has no CRS and `crs` is not given (naming the file).
    DataValidationError
        No ``Ind`` column, a square whose ``Ind`` is missing, a file with several layers and no
        `layer`, no square in the territory.
    LayerTypeError
        `grid` or `buildings` is not a GeoDataFrame (nor a path for `grid`).

    References
    ----------
    INSEE (2023). *Revenus, pauvreté et niveau de vie en 2019 - données carroyées*,
    documentation (carreaux de 200 m, variables Ind, Men, Ind_0_3...). Mennis, J. (2003).
    Generating surface models of population using dasymetric mapping. *The Professional
    Geographer*, 55(1), 31-42.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 3_835_600, 2_939_800
    >>> squares = gpd.GeoDataFrame(
    ...     {"Idcar_200m": ["A", "B"], "Ind": [52.5, 20.0], "Men": [21.0, 9.0],
    ...      "Ind_0_3": [4.0, 0.0], "Ind_4_5": [2.0, 1.0], "Ind_6_10": [5.0, 2.0],
    ...      "Ind_11_17": [6.0, 1.0]},
    ...     geometry=[box(x, y, x + 200, y + 200), box(x + 200, y, x + 400, y + 200)], crs=3035)
    >>> res = residences_from_grid(squares)
    >>> res[["id", "population", "households", "children", "children_3_10"]]
      id  population  households  children  children_3_10
    0  A        52.5        21.0      17.0            8.0
    1  B        20.0         9.0       4.0            3.0
    >>> res.geometry.iloc[0].coords[0]
    (3835700.0, 2939900.0)
    """
    g, source = _read(grid, crs, layer)
    if territory is not None:
        g = _clip(g, territory, source)
    counts = _counts(g, source)
    ids = square_ids(g)
    centres = gpd.GeoSeries(g.geometry.centroid, crs=g.crs)
    if buildings is None:
        out = _frame(counts, ids, "square_centre", ids, centres.to_numpy(), g.crs)
    else:
        out = _on_buildings(g, counts, ids, centres, buildings, source)
    if not out["id"].is_unique:
        out["id"] = [str(i + 1) for i in range(len(out))]
    out["source"] = "Filosofi grid" + ("" if source == "grid" else f" {source}")
    out.attrs["source"] = source
    return as_layer(out, "residences", kind="residences")


def _read(grid: Any, crs: Any, layer: str | None) -> tuple[gpd.GeoDataFrame, str]:
    """Return the grid (read when a path, with its CRS) and its source's name."""
    if isinstance(grid, str | os.PathLike):
        g = read_grid(grid, layer=layer, crs=crs)
        return g, str(g.attrs.get("source") or grid)
    if not isinstance(grid, gpd.GeoDataFrame):
        as_layer(grid, "grid")  # raises LayerTypeError naming the argument
    source = str(grid.attrs.get("source") or "grid")
    if layer is not None:
        raise DataValidationError(
            [
                Problem(
                    f"layer={layer!r} picks a layer of a file, but the grid is already a "
                    "GeoDataFrame: pass the file's path, or leave layer= out",
                    file=source,
                    layer="grid",
                )
            ]
        )
    g = require_grid_crs(grid, crs, source)
    if len(g) == 0:
        raise DataValidationError(
            [Problem("the grid has no square; give a grid with squares", file=source, layer="grid")]
        )
    return g, source


def _clip(g: gpd.GeoDataFrame, territory: Any, source: str) -> gpd.GeoDataFrame:
    """Return the squares that intersect the territory's polygons."""
    t = as_layer(territory, "territory", geometry="polygon").to_crs(g.crs)
    keep = g.sindex.query(t.geometry.to_numpy(), predicate="intersects")[1]
    if len(keep) == 0:
        raise DataValidationError(
            [
                Problem(
                    "no square of the grid touches the territory: check that the grid covers "
                    "it (right département) and that its CRS is right",
                    file=source,
                    layer="grid",
                )
            ]
        )
    out = g.iloc[np.unique(keep)]
    out.attrs.update(g.attrs)
    return out


def _counts(g: gpd.GeoDataFrame, source: str) -> pd.DataFrame:
    """Return the squares' counts under their canonical names, with the children's sums."""
    lower = [str(c).lower() for c in g.columns if c != g.geometry.name]
    cols = [c for c in lower if c in ("ind", "men") or c.startswith(_COUNT_PREFIXES)]
    if "ind" not in cols:
        raise DataValidationError(
            [
                Problem(
                    f"the grid has no 'Ind' column (residents per square); it has "
                    f"{', '.join(lower)}. Is it a Filosofi 200 m grid?",
                    file=source,
                    layer="grid",
                    field="ind",
                )
            ]
        )
    values = grid_values(g, cols, source).reset_index(drop=True)
    missing = values["ind"].isna().to_numpy()
    if missing.any():
        ids = square_ids(g)[missing]
        raise DataValidationError(
            [
                Problem(
                    f"{int(missing.sum())} square(s) have no number of residents "
                    f"({', '.join(map(str, ids[:5]))}{'...' if len(ids) > 5 else ''}); "
                    "drop them or fill Ind",
                    file=source,
                    layer="grid",
                    field="ind",
                )
            ]
        )
    values = values.rename(columns=GRID_COUNT_NAMES)
    if all(b in values for b in CHILD_BANDS):
        values["children"] = values[list(CHILD_BANDS)].sum(axis=1, skipna=False)
    if all(b in values for b in CHILD_BANDS[:3]):
        values["children_3_10"] = (
            values["children_4_5"] + values["children_6_10"] + values["children_0_3"] / 4
        )
    first = [c for c in ("population", "households", "poor_households") if c in values]
    kids = [c for c in (*CHILD_BANDS, "children", "children_3_10") if c in values]
    return values[[*first, *kids, *[c for c in values if c not in first + kids]]]


def _frame(
    counts: pd.DataFrame,
    ids: np.ndarray,
    placement: str,
    squares: np.ndarray,
    geoms: np.ndarray,
    crs: Any,
    dwellings: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Return residences: id, square, placement, dwellings, the counts, geometry."""
    data: dict[str, Any] = {"id": np.asarray(ids, dtype=object).astype(str)}
    data["square"] = np.asarray(squares, dtype=object)
    data["placement"] = placement
    if dwellings is not None:
        data["dwellings"] = dwellings
    for c in counts.columns:
        data[c] = counts[c].to_numpy(dtype=float)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def _field(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray | None:
    """Return the first column named like one of `names` as floats (NaN: not a number)."""
    by = {compact_token(str(c)): c for c in frame.columns if c != "geometry"}
    for n in names:
        col = by.get(compact_token(n))
        if col is not None:
            return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    return None


def floor_areas(buildings: gpd.GeoDataFrame, *, crs: Any = None) -> np.ndarray:
    """Return each building's floor area (m²): footprint × levels.

    Levels come from a ``levels`` / ``nb_etages`` / ``nombre_d_etages`` field, else from
    ``hauteur`` / ``height`` divided by :data:`FLOOR_HEIGHT_M` (rounded, at least 1); a
    building with neither counts one level. The footprint is measured in
    :func:`cdv_geo.core.crs.choose_metric_crs` (`crs` when given).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 728_000, 6_920_000
    >>> b = gpd.GeoDataFrame({"hauteur": [9.2, None]},
    ...     geometry=[box(x, y, x + 10, y + 20), box(x + 20, y, x + 30, y + 10)], crs=2154)
    >>> floor_areas(b).tolist()
    [600.0, 100.0]
    """
    footprint = shapely.area(
        buildings.to_crs(choose_metric_crs(buildings, crs)).geometry.to_numpy()
    )
    levels = _field(buildings, _LEVELS)
    height = _field(buildings, _HEIGHT)
    lv = np.full(len(buildings), np.nan) if levels is None else np.where(levels > 0, levels, np.nan)
    if height is not None:
        from_height = np.maximum(np.round(height / FLOOR_HEIGHT_M), 1.0)
        lv = np.where(np.isnan(lv) & (height > 0), from_height, lv)
    return np.asarray(footprint * np.where(np.isnan(lv), 1.0, lv), dtype=float)


def _on_buildings(
    g: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    ids: np.ndarray,
    centres: gpd.GeoSeries,
    buildings: Any,
    source: str,
) -> gpd.GeoDataFrame:
    """Split each square's counts between its buildings; squares without any at their centre."""
    b = as_layer(buildings, "buildings", geometry="polygon")
    dw_names = ("dwellings", *SCHEMAS["residences"].field("dwellings").aliases)
    dw = _field(b, dw_names)
    floor = floor_areas(b)
    pts = gpd.GeoSeries(b.geometry.representative_point(), crs=b.crs)
    cells = gpd.GeoDataFrame(
        {"code": [f"{i:09d}" for i in range(len(g))]}, geometry=g.geometry.to_numpy(), crs=g.crs
    )
    code = assign_quartier(pts, cells).to_numpy(dtype=object)
    cell = np.array([-1 if c is None else int(c) for c in code], dtype=np.int64)
    inside = cell >= 0
    n = len(g)
    dw0 = np.zeros(len(b)) if dw is None else np.nan_to_num(np.clip(dw, 0, None))
    sq_dw = np.bincount(cell[inside], weights=dw0[inside], minlength=n)
    sq_floor = np.bincount(cell[inside], weights=floor[inside], minlength=n)
    by_dw = sq_dw > 0
    total = np.where(by_dw, sq_dw, sq_floor)
    c = np.where(inside, cell, 0)
    w = np.where(by_dw[c], dw0, floor)
    share = np.where(inside & (total[c] > 0), w / np.where(total[c] > 0, total[c], 1.0), 0.0)
    keep = np.flatnonzero(inside & (share > 0))
    on_b = counts.iloc[cell[keep]].reset_index(drop=True).mul(share[keep], axis=0)
    res_b = _frame(
        on_b,
        feature_ids(b)[keep],
        "building",
        ids[cell[keep]],
        b.geometry.to_numpy()[keep],
        b.crs,
        dwellings=None if dw is None else dw[keep],
    )
    empty = np.flatnonzero(total <= 0)
    if dw is not None and (~by_dw & (sq_floor > 0)).any():
        warnings.warn(
            f"{int((~by_dw & (sq_floor > 0)).sum())} grid square(s) hold buildings without "
            "dwellings; their counts are split by floor area instead.",
            CdvGeoWarning,
            stacklevel=3,
        )
    if len(empty) == 0:
        return res_b
    people = float(counts["population"].iloc[empty].sum())
    warnings.warn(
        f"{source}: {len(empty)} grid square(s) hold no building ({people:,.1f} "
        "residents); their counts are placed at the square centres. Give the buildings of "
        "the whole grid, or clip the grid to them (territory=).",
        CdvGeoWarning,
        stacklevel=3,
    )
    res_c = _frame(
        counts.iloc[empty].reset_index(drop=True),
        ids[empty],
        "square_centre",
        ids[empty],
        centres.to_crs(b.crs).to_numpy()[empty],
        b.crs,
        dwellings=None if dw is None else np.full(len(empty), np.nan),
    )
    out = pd.concat([res_b, res_c], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=b.crs)
