"""INSEE Filosofi 200 m squares (or any grid) carried over to the quartiers.

The table follows the result-table contract (:mod:`cdv_geo.core.tables`): the quartiers, ``qpv``
(their union) and, given the communes, ``commune`` (the squares clipped to the commune: a square
across the border counts for its part inside) and ``hors_qpv`` (the commune minus the quartiers),
each interpolated on its own polygon (:func:`cdv_geo.core.assign.comparison_areas`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cdv_geo.schema  # noqa: F401  (registers the validator that as_layer(kind=...) runs)
from cdv_geo.core.assign import assign_quartier, comparison_areas
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem
from cdv_geo.core.layers import as_layer
from cdv_geo.core.tables import INDEX, quartier_table
from cdv_geo.io.grid import grid_values, read_grid, require_grid_crs

__all__ = ["DEFAULT_GRID_RATIOS", "interpolate_grid", "residence_weight"]

#: Ratios computed after summing the counts: name -> (numerator, denominator).
DEFAULT_GRID_RATIOS: dict[str, tuple[str, str]] = {
    "mean_living_standard": ("ind_snv", "ind"),
    "poor_household_share": ("men_pauv", "men"),
}


def _pieces(
    grid: gpd.GeoDataFrame, q: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell position, quartier position, intersection area) of every overlapping pair."""
    qi, gi = grid.sindex.query(q.geometry, predicate="intersects")
    areas = shapely.area(
        shapely.intersection(grid.geometry.to_numpy()[gi], q.geometry.to_numpy()[qi])
    )
    keep = areas > 0
    return gi[keep], qi[keep], areas[keep]


def residence_weight(residences: gpd.GeoDataFrame, weight: str | None) -> str:
    """Return the residences field that weighs the grid: `weight`, else dwellings or population.

    Without `weight`, ``dwellings`` when any residence has some, else ``population`` (residences
    made from the grid itself, or from population counts).

    Raises
    ------
    DataValidationError
        The field is missing or empty (naming the residences' file).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> res = gpd.GeoDataFrame({"population": [12.5]}, geometry=[Point(0, 0)], crs=2154)
    >>> residence_weight(res, None)
    'population'
    """
    if weight is None:
        has_dw = "dwellings" in residences.columns and bool(
            pd.to_numeric(residences["dwellings"], errors="coerce").fillna(0).gt(0).any()
        )
        weight = "dwellings" if has_dw else "population"
    if weight not in residences.columns or residences[weight].isna().all():
        raise DataValidationError(
            [
                Problem(
                    f"residences have no {weight!r} to weigh the grid with; give weight= one of "
                    "their numeric fields (dwellings, population)",
                    layer="residences",
                    field=weight,
                    file=residences.attrs.get("source"),
                )
            ]
        )
    return weight


def _residence_weights(
    residences: Any,
    field: str | None,
    grid: gpd.GeoDataFrame,
    rows: gpd.GeoDataFrame,
    gi: np.ndarray,
    qi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Dwellings of each (cell, row) piece and of each whole cell.

    The square and the quartier of each residence (its representative point) are decided by
    :func:`cdv_geo.core.assign.assign_quartier`, as everywhere else; a comparison row holds
    every residence its polygon covers.
    """
    res = as_layer(residences, "residences", kind="residences")
    field = residence_weight(res, field)
    pts = gpd.GeoSeries(res.to_crs(rows.crs).geometry.representative_point(), crs=rows.crs)
    w = res[field].astype(float).fillna(0.0).to_numpy()
    cells = gpd.GeoDataFrame(
        {"code": [f"{i:09d}" for i in range(len(grid))]},
        geometry=grid.geometry.to_numpy(),
        crs=rows.crs,
    )
    cell_code = assign_quartier(pts.to_numpy(), cells).to_numpy(dtype=object)
    cell_of = np.array([-1 if c is None else int(c) for c in cell_code])
    row_of = np.full((len(pts), len(rows)), False)
    for j in range(len(rows)):
        one = rows.iloc[[j]][["code", "geometry"]]
        row_of[:, j] = assign_quartier(pts.to_numpy(), one).notna().to_numpy()
    inside = cell_of >= 0
    per_cell = np.bincount(cell_of[inside], weights=w[inside], minlength=len(grid))
    per_piece = np.array(
        [float(w[(cell_of == g) & row_of[:, j]].sum()) for g, j in zip(gi, qi, strict=True)]
    )
    return per_piece, per_cell


def _communes(communes: Any, territory: Any) -> Any:
    """Return the communes layer, given as `communes` or under its old name `territory`."""
    if territory is None:
        return communes
    if communes is not None:
        raise ValueError("interpolate_grid: give communes= only (territory= is its old name)")
    warnings.warn(
        "interpolate_grid(territory=...) is now communes=...", DeprecationWarning, stacklevel=3
    )
    return territory


def _target_rows(quart: gpd.GeoDataFrame, communes: Any, target: Any) -> gpd.GeoDataFrame:
    """Return the polygons of the table's rows (quartiers, qpv, [commune, hors_qpv]) in `target`."""
    c = None if communes is None else as_layer(communes, "communes", geometry="polygon")
    return comparison_areas(quart.to_crs(target), c)


def interpolate_grid(
    grid: gpd.GeoDataFrame | str | os.PathLike[str],
    quartiers: gpd.GeoDataFrame,
    *,
    extensive: Sequence[str] = ("ind", "men", "men_pauv", "ind_snv", "log_soc"),
    intensive: Sequence[str] = (),
    ratios: Mapping[str, tuple[str, str]] | None = None,
    residences: gpd.GeoDataFrame | None = None,
    weight: str | None = None,
    communes: gpd.GeoDataFrame | None = None,
    crs: Any = None,
    territory: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    r"""Carry INSEE Filosofi 200 m squares (or any grid) over to the quartiers.

    **Area weighting** (default), as :func:`tobler.area_weighted.area_interpolate` with
    ``allocate_total=False``: with :math:`a_{ij}` the area of square *i* inside quartier *j*
    and :math:`a_i` the area of the square,

    - extensive counts (people, households, sums of income): :math:`v_j = \sum_i v_i a_{ij}/a_i`;
    - intensive values (already averages): :math:`v_j = \sum_i v_i a_{ij} / \sum_i a_{ij}`,
      over the squares where the value is known.

    **Dwelling weighting** (`residences` given): :math:`a_{ij}` is replaced by the dwellings (or
    population) of the residences (by their representative point, placed by
    :func:`cdv_geo.core.assign.assign_quartier`) in square *i* and quartier *j*, :math:`a_i` by
    those of the square; squares without any residence fall back to area (with a warning).

    **Ratios** (`ratios`) are computed *after* summing their extensive numerator and
    denominator — ``mean_living_standard = ind_snv / ind`` (€ per person per year),
    ``poor_household_share = men_pauv / men`` — never by averaging the squares' ratios.

    Parameters
    ----------
    grid : geopandas.GeoDataFrame or path
        The squares (any CRS; read with :func:`cdv_geo.io.grid.read_grid` when a path).
        Column names are matched case-insensitively (older vintages capitalise them).
    quartiers : geopandas.GeoDataFrame
        The ``quartiers`` layer.
    extensive, intensive : sequence of str
        Columns to sum (counts) and to average. A square whose count is missing (secret) makes
        the sum of every row it touches missing, never silently smaller.
    ratios : mapping, optional
        ``{name: (numerator, denominator)}`` among `extensive`; default
        :data:`DEFAULT_GRID_RATIOS` restricted to those whose columns are summed.
    residences : geopandas.GeoDataFrame, optional
        Weigh by dwellings (or population, or the `weight` field) instead of area.
    weight : str, optional
        The residences field used as weight; by default ``"dwellings"`` when the residences
        have any, else ``"population"`` (:func:`residence_weight`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` row (computed over the commune) and
        the ``hors_qpv`` row (the commune minus the quartiers).
    crs : optional
        Metric CRS of the areas (:func:`cdv_geo.core.crs.choose_metric_crs`).
    territory : geopandas.GeoDataFrame, optional
        Former name of `communes` (deprecated: it warns).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` (codes in layer order, ``qpv``, with `communes` ``commune``
        and ``hors_qpv``): ``name``, the extensive and intensive columns, the ratios,
        ``n_cells`` (squares touching the row), ``covered_share`` (share of the row's area
        covered by squares; Filosofi has squares only where people live), ``reason``.

    Raises
    ------
    DataValidationError
        A grid without CRS (naming the file), a missing column, a non-numeric cell (naming the
        square and the column), a ratio whose columns are not summed.
    ValueError
        Both `communes` and `territory` given.

    References
    ----------
    INSEE (2023). *Revenus, pauvreté et niveau de vie en 2019 - données carroyées*, documentation
    (carreaux de 200 m). Goodchild, M. F. & Lam, N. S.-N. (1980). Areal interpolation: a variant
    of the traditional spatial problem. *Geo-Processing*, 1, 297-312.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 728_000, 6_920_000
    >>> cells = gpd.GeoDataFrame({"Ind": [100, 50], "Men": [40, 20], "Men_pauv": [10, 2],
    ...                           "Ind_snv": [1.5e6, 1.0e6]},
    ...                          geometry=[box(x, y, x + 200, y + 200),
    ...                                    box(x + 200, y, x + 400, y + 200)], crs=2154)
    >>> q = gpd.GeoDataFrame({"code": ["QP002013"], "name": ["Presles"]},
    ...                      geometry=[box(x, y, x + 300, y + 200)], crs=2154)
    >>> town = gpd.GeoDataFrame(geometry=[box(x, y, x + 400, y + 200)], crs=2154)
    >>> out = interpolate_grid(cells, q, extensive=["ind", "men", "men_pauv", "ind_snv"],
    ...                        communes=town)
    >>> out[["ind", "men_pauv", "mean_living_standard", "poor_household_share"]]
                ind  men_pauv  mean_living_standard  poor_household_share
    quartier
    QP002013  125.0      11.0          16000.000000                  0.22
    qpv       125.0      11.0          16000.000000                  0.22
    commune   150.0      12.0          16666.666667                  0.20
    hors_qpv   25.0       1.0          20000.000000                  0.10
    """
    grid, source = _checked_grid(grid)
    quart = as_layer(quartiers, "quartiers", kind="quartiers", geometry="polygon")
    ext, inten = [c.lower() for c in extensive], [c.lower() for c in intensive]
    rat = _ratios(ratios, ext, source)
    rows = _target_rows(quart, _communes(communes, territory), choose_metric_crs(quart, crs))
    # A national grid has millions of squares: keep those near the rows before reprojecting.
    minx, miny, maxx, maxy = rows.to_crs(grid.crs).total_bounds
    grid = grid.cx[minx - 1 : maxx + 1, miny - 1 : maxy + 1]
    values = grid_values(grid, [*ext, *inten], source).reset_index(drop=True)
    g = grid.to_crs(rows.crs).reset_index(drop=True)
    gi, qi, a = _pieces(g, rows)
    w_ext, w_int = a / shapely.area(g.geometry.to_numpy())[gi], a
    if residences is not None:
        w_ext, w_int = _dwelling_weights(residences, weight, g, rows, (gi, qi, a, w_ext))
    out = _sums(values, rows, (gi, qi, w_ext, w_int), ext, inten, source)
    _measures(out, rat, rows, qi, a)
    return _finish(out, quart, [*ext, *inten, *rat], source)


def _measures(
    out: pd.DataFrame,
    ratios: Mapping[str, tuple[str, str]],
    rows: gpd.GeoDataFrame,
    qi: np.ndarray,
    a: np.ndarray,
) -> None:
    """Add the ratios, ``n_cells`` and ``covered_share`` of each row to `out` (in place)."""
    for name, (num_col, den_col) in ratios.items():
        out[name] = out[num_col] / out[den_col].where(out[den_col] > 0)
    n = len(rows)
    out["n_cells"] = np.bincount(qi, minlength=n).astype(int)
    row_area = shapely.area(rows.geometry.to_numpy())
    covered = np.bincount(qi, weights=a, minlength=n)
    # hors_qpv has no area when the quartiers cover the whole commune
    out["covered_share"] = np.where(
        row_area > 0, np.minimum(covered / np.where(row_area > 0, row_area, 1.0), 1.0), np.nan
    )


def _checked_grid(grid: Any) -> tuple[gpd.GeoDataFrame, str]:
    """Return the grid (read when a path) and its source; raise when it has no CRS."""
    if isinstance(grid, str | os.PathLike):
        grid = read_grid(grid)
    if not isinstance(grid, gpd.GeoDataFrame):
        as_layer(grid, "grid")  # raises LayerTypeError naming the argument
    source = str(grid.attrs.get("source") or "grid")
    grid = require_grid_crs(grid, None, source)  # says which CRS Filosofi grids are in
    return as_layer(grid, "grid", geometry="polygon"), source


def _dwelling_weights(
    residences: Any,
    weight: str | None,
    g: gpd.GeoDataFrame,
    rows: gpd.GeoDataFrame,
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Return the extensive and intensive weights of the pieces by dwellings (area fallback)."""
    gi, qi, a, w_ext = pieces
    piece_dw, cell_dw = _residence_weights(residences, weight, g, rows, gi, qi)
    inhabited = cell_dw[gi] > 0
    if (~inhabited).any():
        warnings.warn(
            f"{len(set(gi[~inhabited]))} grid square(s) hold no residence with a "
            f"{weight or 'dwellings/population'} weight; "
            "they are weighted by area instead.",
            CdvGeoWarning,
            stacklevel=3,
        )
    w_ext = np.where(inhabited, piece_dw / np.where(inhabited, cell_dw[gi], 1.0), w_ext)
    has = pd.Series(piece_dw).groupby(qi).sum().reindex(range(len(rows)), fill_value=0)
    w_int = np.where(has.to_numpy()[qi] > 0, piece_dw, a)
    return w_ext, w_int


def _sums(
    values: pd.DataFrame,
    rows: gpd.GeoDataFrame,
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ext: list[str],
    inten: list[str],
    source: str,
) -> pd.DataFrame:
    """Weighted sums (extensive) and means (intensive) of each row; secret squares -> NaN."""
    gi, qi, w_ext, w_int = pieces
    n = len(rows)
    out = pd.DataFrame(index=pd.Index(rows["code"], name=INDEX))
    nan_hits: list[str] = []
    for c in ext:
        v = values[c].to_numpy()[gi]
        s = np.bincount(qi, weights=np.nan_to_num(v * w_ext), minlength=n)
        bad = np.bincount(qi, weights=(np.isnan(v) & (w_ext > 0)).astype(float), minlength=n) > 0
        if bad.any():
            nan_hits.append(f"{c} ({', '.join(rows['code'][bad])})")
        out[c] = np.where(bad, np.nan, s)
    for c in inten:
        v = values[c].to_numpy()[gi]
        ok = ~np.isnan(v)
        num = np.bincount(qi[ok], weights=v[ok] * w_int[ok], minlength=n)
        den = np.bincount(qi[ok], weights=w_int[ok], minlength=n)
        out[c] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if nan_hits:
        warnings.warn(
            f"{source}: squares with a missing (secret) count touch some quartiers, whose sums "
            f"are left missing: {'; '.join(nan_hits)}. Fill the squares (e.g. with 0) only if "
            "you accept the undercount.",
            CdvGeoWarning,
            stacklevel=3,
        )
    out.attrs["secret"] = nan_hits
    return out


def _finish(
    out: pd.DataFrame,
    quart: gpd.GeoDataFrame,
    value_cols: list[str],
    source: str,
) -> pd.DataFrame:
    """Return the per-quartier table (quartiers, comparison rows); a reason on each NaN row."""
    reasons: dict[str, str | None] = {}
    for code, row in out.iterrows():
        why = None
        if row["n_cells"] == 0:
            why = "no grid square touches it (check that the grid covers it)"
        elif row[value_cols].isna().any():
            why = "a grid square it touches has a missing (secret) count"
        reasons[str(code)] = why
    uncovered = [c for c, n in zip(out.index, out["n_cells"], strict=True) if n == 0]
    if uncovered:
        # no square at all is more likely a grid that misses the quartier than nobody living there
        out.loc[uncovered, value_cols] = np.nan
        warnings.warn(
            f"{source}: no grid square touches {', '.join(map(str, uncovered))}; their values "
            "are left missing. Check that the grid covers them (right département, right file).",
            CdvGeoWarning,
            stacklevel=3,
        )
    data: dict[str, dict[str, Any]] = {
        k: {**{str(c): v for c, v in out.loc[k].items()}, "reason": reasons[k]}
        for k in map(str, out.index)
    }
    cols = [c for c in out.columns if c != "reason"]
    table = quartier_table(quart, data, columns=cols)
    table["n_cells"] = table["n_cells"].astype("Int64")
    return table


def _ratios(
    ratios: Mapping[str, tuple[str, str]] | None, ext: Sequence[str], source: str
) -> dict[str, tuple[str, str]]:
    if ratios is None:
        return {k: v for k, v in DEFAULT_GRID_RATIOS.items() if v[0] in ext and v[1] in ext}
    out = {k: (v[0].lower(), v[1].lower()) for k, v in ratios.items()}
    bad = [f"{k} = {a} / {b}" for k, (a, b) in out.items() if a not in ext or b not in ext]
    if bad:
        raise DataValidationError(
            [
                Problem(
                    f"ratios {', '.join(bad)} need both columns in `extensive`: a ratio is "
                    "computed from the summed counts, never averaged",
                    file=source,
                    layer="grid",
                    field="ratios",
                )
            ]
        )
    return out
