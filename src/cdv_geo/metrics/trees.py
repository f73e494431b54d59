"""Trees: crown discs, canopy share of the quartiers, and the account of trees planted.

How much canopy each quartier has (from a tree-cover raster, or from the crowns of the tree
points when there is none), and how many trees were planted where, of how many species
(Santamour's 10-20-30 guideline, :func:`cdv_geo.metrics.species.diversity`). Tables follow the
result-table contract (:mod:`cdv_geo.core.tables`): indexed by ``quartier``, then ``qpv`` and,
given the communes, ``commune`` and ``hors_qpv``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cdv_geo.schema  # noqa: F401  (registers the validator that as_layer(kind=...) runs)
from cdv_geo.core.assign import assign_quartier, comparison_areas, in_communes
from cdv_geo.core.crs import choose_metric_crs
from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.core.layers import as_layer, feature_ids, quartier_codes
from cdv_geo.core.raster import RasterLike
from cdv_geo.core.tables import (
    COMMUNE,
    HORS_QPV,
    QPV,
    comparison_keys,
    is_comparison_row,
    join_reasons,
    quartier_table,
    rows_of,
)
from cdv_geo.metrics.breakdown import breakdown_table, by_columns
from cdv_geo.metrics.species import (
    DEFAULT_CROWN_DIAMETER_M,
    crown_diameters_of,
    diversity_of,
    species_codes,
)
from cdv_geo.metrics.zonal import share_stats

__all__ = ["canopy_share", "crown_cover", "tree_counts", "tree_crowns", "tree_summary"]

REASON_NO_AREA = "quartier without area"
REASON_NO_POPULATION = "population unknown"


def tree_counts(trees: gpd.GeoDataFrame, *, name: str = "tree_plantings") -> np.ndarray:
    """Return the ``trees`` count of each point (1 where absent or empty).

    Raises
    ------
    DataValidationError
        Naming each feature whose count is negative or not finite.

    Examples
    --------
    >>> import pandas as pd
    >>> tree_counts(pd.DataFrame({"trees": [3, None]})).tolist()
    [3.0, 1.0]
    """
    if "trees" not in trees.columns:
        return np.ones(len(trees))
    counts = pd.to_numeric(trees["trees"], errors="coerce").astype(float).fillna(1.0).to_numpy()
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        src = trees.attrs.get("source")
        raise DataValidationError(
            [
                Problem(
                    f"tree count {v} is negative; give the number of trees planted at this "
                    "point (0 or more), or leave it empty for 1",
                    file=src,
                    layer=name,
                    feature=str(fid),
                    field="trees",
                )
                for fid, v in zip(
                    feature_ids(trees)[bad],
                    trees["trees"].to_numpy()[bad],
                    strict=True,
                )
            ]
        )
    return counts


def tree_crowns(
    trees: gpd.GeoDataFrame,
    *,
    default_crown_diameter_m: float = DEFAULT_CROWN_DIAMETER_M,
    crown_diameters: Mapping[str, float] | None = None,
    quad_segs: int = 16,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    r"""Crown discs of tree points, in the metric CRS.

    The crown diameter of each point is, in order: its ``crown_diameter_m`` when given; the
    species' or genus' entry of `crown_diameters` (default
    :data:`~cdv_geo.metrics.species.CROWN_DIAMETERS_M`, matched on the Latin name, e.g.
    ``"Tilia cordata"`` → ``tilia``); else `default_crown_diameter_m`. A point recording
    :math:`n > 1` trees (an alignment whose positions are unknown) becomes one disc of the same
    total crown area, radius :math:`r\sqrt{n}`.

    Parameters
    ----------
    trees : geopandas.GeoDataFrame
        Tree points (``tree_plantings`` layer or a tree inventory): optional ``trees`` (count,
        default 1), ``species``, ``crown_diameter_m``.
    default_crown_diameter_m : float, default 5.0
        Diameter when neither the field nor the table gives one.
    crown_diameters : mapping, optional
        Genus or species (lower case Latin) → diameter in metres; replaces the default table.
    quad_segs : int, default 16
        Segments per quarter circle of the discs (16 → area 0.16 % below the true disc).
    crs : optional
        Metric CRS (:func:`cdv_geo.core.crs.choose_metric_crs`: EPSG:2154 in France).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by tree ``id``: ``trees``, ``crown_diameter_m``, ``radius_m``,
        ``crown_source`` (``field``, ``species``, ``genus`` or ``default``), disc geometry.

    Raises
    ------
    LayerTypeError, CRSError, DataValidationError
        `trees` is not a point layer with a CRS; a tree count is negative.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> t = gpd.GeoDataFrame({"species": ["Tilia cordata", "Ginkgo biloba", None],
    ...                       "crown_diameter_m": [None, 4.0, None]},
    ...                      geometry=[Point(700000, 6900000)] * 3, crs=2154)
    >>> tree_crowns(t)[["crown_diameter_m", "crown_source"]]
        crown_diameter_m crown_source
    id
    1               12.0        genus
    2                4.0        field
    3                5.0      default
    """
    trees = as_layer(trees, "trees", kind="tree_plantings", geometry="point")
    counts = tree_counts(trees)
    given = (
        pd.to_numeric(trees["crown_diameter_m"], errors="coerce").astype(float).to_numpy()
        if "crown_diameter_m" in trees.columns
        else np.full(len(trees), np.nan)
    )
    species = trees["species"] if "species" in trees.columns else pd.Series([None] * len(trees))
    looked, how = crown_diameters_of(species.reset_index(drop=True), crown_diameters)
    from_field = np.isfinite(given) & (given > 0)
    diam = np.where(from_field, given, np.where(np.isnan(looked), default_crown_diameter_m, looked))
    how = np.where(from_field, "field", how).astype(object)
    radius = diam / 2.0 * np.sqrt(np.maximum(counts, 0.0))
    m = trees.to_crs(choose_metric_crs(trees, crs))
    discs = shapely.buffer(np.asarray(m.geometry.array, dtype=object), radius, quad_segs=quad_segs)
    discs[counts <= 0] = shapely.Polygon()
    return gpd.GeoDataFrame(
        {"trees": counts, "crown_diameter_m": diam, "radius_m": radius, "crown_source": how},
        geometry=list(discs),
        crs=m.crs,
        index=pd.Index(feature_ids(trees), name="id"),
    )


def crown_cover(polygons: np.ndarray, crowns: np.ndarray) -> np.ndarray:
    """Area of each polygon covered by the union of the crowns (overlaps counted once).

    Parameters
    ----------
    polygons, crowns : numpy.ndarray of shapely geometries
        In the same metric CRS.

    Returns
    -------
    numpy.ndarray
        m² per polygon.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import box
    >>> crown_cover(np.array([box(0, 0, 10, 10)]), np.array([box(5, 0, 15, 10),
    ...                                                      box(8, 0, 20, 10)])).tolist()
    [50.0]
    """
    out = np.zeros(len(polygons))
    crowns = crowns[~(shapely.is_missing(crowns) | shapely.is_empty(crowns))]
    if len(crowns) == 0 or len(polygons) == 0:
        return out
    parts = shapely.get_parts(shapely.union_all(crowns))
    ok = ~(shapely.is_missing(polygons) | shapely.is_empty(polygons))
    src, dst = shapely.STRtree(parts).query(polygons[ok], predicate="intersects")
    src = np.flatnonzero(ok)[src]
    np.add.at(out, src, shapely.area(shapely.intersection(polygons[src], parts[dst])))
    return out


def _empty_reason(area: np.ndarray) -> list[str | None]:
    return ["empty geometry" if not a > 0 else None for a in area.tolist()]


def canopy_share(
    quartiers: gpd.GeoDataFrame,
    raster: RasterLike | None = None,
    *,
    trees: gpd.GeoDataFrame | None = None,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    default_crown_diameter_m: float = DEFAULT_CROWN_DIAMETER_M,
    crown_diameters: Mapping[str, float] | None = None,
    quad_segs: int = 16,
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    r"""Share of each quartier under tree canopy, from a tree-cover raster or from tree points.

    With a `raster` (Copernicus HRL *Tree Cover Density*, 10 m, 0–100 %): the coverage-weighted
    mean density (:func:`cdv_geo.zonal_stats`). Without one, from `trees`: the crowns of
    :func:`tree_crowns` are **unioned** (overlapping crowns count once) and

    .. math:: s = \frac{|P \cap \bigcup_k D_k|}{|P|}

    Each row is measured on its own polygon (:func:`cdv_geo.core.assign.comparison_areas`):
    ``qpv`` on the quartiers' union; with `communes`, ``commune`` on the communes' union and
    ``hors_qpv`` on the commune minus the quartiers (a crown outside the commune never counts).

    Parameters
    ----------
    quartiers : geopandas.GeoDataFrame
        Quartiers (or any polygon layer: rows keyed by its ``code``, else ``id``).
    raster : str, path-like or rasterio dataset, optional
        Tree-cover raster; takes precedence over `trees`.
    trees : geopandas.GeoDataFrame, optional
        Tree points (see :func:`tree_crowns`).
    scale, band, nodata
        Raster encoding, as in :func:`cdv_geo.metrics.impervious.impervious_share`.
    default_crown_diameter_m, crown_diameters, quad_segs
        Crown sizes, as in :func:`tree_crowns`.
    crs : optional
        Metric CRS of the areas (:func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` and ``hors_qpv`` rows.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``quartier`` (the codes, ``qpv``, with `communes` ``commune``, ``hors_qpv``):
        ``name``, ``canopy_share``, ``canopy_m2``, ``area_m2``, ``nodata_share`` (raster
        only), ``source`` (``"raster"`` or ``"tree points"``), ``reason``.

    Raises
    ------
    DataValidationError
        Neither a raster nor trees given; negative tree counts.
    RasterError
        Raster problems, or a `scale` making shares exceed 1.

    Examples
    --------
    Two crowns of 10 m diameter whose centres are 5 m apart, inside a 50 m × 50 m square:

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> sq = gpd.GeoDataFrame({"code": ["sq"]}, geometry=[box(x, y, x + 50, y + 50)], crs=2154)
    >>> t = gpd.GeoDataFrame({"crown_diameter_m": [10.0, 10.0]},
    ...                      geometry=[Point(x + 20, y + 25), Point(x + 25, y + 25)], crs=2154)
    >>> c = canopy_share(sq, trees=t, quad_segs=64)
    >>> round(float(c.loc["sq", "canopy_m2"]), 1)  # 2πr² − lens = 157.1 − 30.7
    126.4
    """
    quartiers = as_layer(quartiers, "quartiers", geometry="polygon")
    if raster is None and trees is None:
        raise DataValidationError(
            [
                Problem(
                    "canopy_share needs a tree-cover raster (e.g. Copernicus Tree Cover Density) "
                    "or tree points: pass raster=... or trees=...",
                    layer="canopy",
                )
            ]
        )
    qm = quartiers.to_crs(choose_metric_crs(quartiers, crs))
    rows_geo = comparison_areas(qm, communes)
    geoms = np.asarray(rows_geo.geometry.array, dtype=object)
    keys = [str(k) for k in rows_geo["code"]]
    area = shapely.area(geoms)
    cols: dict[str, Any] = {"area_m2": area}
    if raster is not None:
        polys = gpd.GeoDataFrame({"id": keys}, geometry=list(geoms), crs=qm.crs)
        z = share_stats(polys, raster, what="tree cover", scale=scale, band=band, nodata=nodata)
        share = z["mean"].to_numpy(dtype=float)
        cols.update(canopy_m2=share * area, nodata_share=z["nodata_share"].to_numpy(float))
        cols.update(source="raster", reason=[r or None for r in z["reason"]])
    else:
        sizes = {"default_crown_diameter_m": default_crown_diameter_m}
        crowns = tree_crowns(
            trees, crown_diameters=crown_diameters, quad_segs=quad_segs, crs=qm.crs, **sizes
        )
        covered = crown_cover(geoms, np.asarray(crowns.geometry.array, dtype=object))
        share = np.divide(covered, area, out=np.full(len(area), np.nan), where=area > 0)
        cols.update(canopy_m2=covered, source="tree points", reason=_empty_reason(area))
    table = pd.DataFrame({"canopy_share": share, **cols}, index=pd.Index(keys, dtype=object))
    rows = {str(k): {str(c): v for c, v in r.items()} for k, r in table.to_dict("index").items()}
    return quartier_table(quartiers, rows)


@dataclass(frozen=True)
class _Population:
    """The one population of each row key, where it comes from, and why it is unknown."""

    value: dict[str, float]
    source: dict[str, str | None]
    reason: dict[str, str | None]


def _population_table(population: pd.DataFrame) -> _Population:
    """Read the population rule's table (``population``, ``population_source``, ``reason``)."""
    if "population" not in population.columns:
        raise DataValidationError(
            [
                Problem(
                    "the population table has no 'population' column; pass the table of "
                    "cdv_geo.metrics.population.quartier_population, a Series indexed by "
                    "quartier code, or the name of a quartiers column",
                    layer="population",
                    field="population",
                )
            ]
        )
    keys = [str(k) for k in population.index]
    values = pd.to_numeric(population["population"], errors="coerce").astype(float).tolist()
    sources = (
        population["population_source"].tolist()
        if "population_source" in population.columns
        else [None] * len(keys)
    )
    reasons = (
        population["reason"].tolist() if "reason" in population.columns else [None] * len(keys)
    )
    return _Population(
        dict(zip(keys, values, strict=True)),
        {k: (None if pd.isna(v) else str(v)) for k, v in zip(keys, sources, strict=True)},
        {k: (None if pd.isna(v) else str(v)) for k, v in zip(keys, reasons, strict=True)},
    )


def _population(
    quartiers: gpd.GeoDataFrame,
    population: pd.DataFrame | pd.Series | str | None,
    communes: gpd.GeoDataFrame | None = None,
) -> _Population:
    """Inhabitants of each quartier and comparison row (NaN when unknown), with their source.

    A quartiers column named ``population`` is the official figure (the QPV file's); a Series
    or another column has no known source. The ``qpv`` row, when not given, is the sum of the
    quartiers' when every one is known; ``commune`` the communes' published ``population``;
    ``hors_qpv``, when not given, is ``commune - qpv``.
    """
    codes = list(quartier_codes(quartiers))
    if isinstance(population, pd.DataFrame):
        pop = _population_table(population)
    elif isinstance(population, pd.Series):
        given = population.copy()
        given.index = given.index.astype(str)
        values = pd.to_numeric(given, errors="coerce").astype(float)
        pop = _Population({c: float(values.get(c, np.nan)) for c in codes}, {}, {})
    else:
        col = population or "population"
        if col not in quartiers.columns:
            if population is not None:
                raise DataValidationError(
                    [
                        Problem(
                            f"no column {col!r} in quartiers; pass population=Series indexed "
                            "by quartier code, the name of a column, or the population table",
                            layer="quartiers",
                            field=col,
                        )
                    ]
                )
            field = np.full(len(codes), np.nan)
        else:
            field = pd.to_numeric(quartiers[col], errors="coerce").to_numpy(dtype=float)
        official = "official" if col == "population" else None
        pop = _Population(
            dict(zip(codes, field.tolist(), strict=True)),
            {c: official for c, v in zip(codes, field, strict=True) if np.isfinite(v)},
            {},
        )
    v, src = pop.value, pop.source
    inner = [v.get(c, np.nan) for c in codes]
    if not np.isfinite(v.get(QPV, np.nan)) and codes and all(np.isfinite(inner)):
        v[QPV] = float(sum(inner))
        kinds = {src.get(c) for c in codes}
        src[QPV] = kinds.pop() if len(kinds) == 1 else None
    published = _published(communes)
    if not np.isfinite(v.get(COMMUNE, np.nan)) and np.isfinite(published):
        v[COMMUNE], src[COMMUNE] = published, "published"
    town, union = v.get(COMMUNE, np.nan), v.get(QPV, np.nan)
    if not np.isfinite(v.get(HORS_QPV, np.nan)) and town >= union:  # NaN compares False
        v[HORS_QPV] = town - union
        src[HORS_QPV] = src.get(COMMUNE)
    return pop


def _published(communes: gpd.GeoDataFrame | None) -> float:
    """Return the communes' published population (their ``population`` summed), else NaN."""
    if communes is None or "population" not in communes.columns:
        return np.nan
    values = pd.to_numeric(communes["population"], errors="coerce").to_numpy(dtype=float)
    return float(values.sum()) if len(values) and np.isfinite(values).all() else np.nan


@dataclass(frozen=True)
class _Counted:
    """What :func:`tree_summary` counts: trees per planting, rows' masks, areas, population."""

    counts: np.ndarray
    masks: dict[str, np.ndarray]  # the plantings each row counts (rows_of)
    ha: dict[str, float]
    pop: _Population
    species: Any  # species_codes of the plantings


def _summary_row(key: str, sel: np.ndarray, total: bool, *, c: _Counted) -> dict[str, Any]:
    """Return the values of row `key` of :func:`tree_summary` over the plantings `sel`."""
    inside = sel & c.masks[key]
    n = float(c.counts[inside].sum())
    a, p = c.ha.get(key, np.nan), c.pop.value.get(key, np.nan)
    out: dict[str, Any] = {
        "n_trees": n,
        "n_plantings": int(inside.sum()),
        "trees_per_ha": n / a if a > 0 else np.nan,
        "trees_per_1000_inhabitants": 1000 * n / p if p > 0 else np.nan,
        "population_source": c.pop.source.get(key) if p > 0 else None,
    }
    out.update(diversity_of(c.species, c.counts, inside))
    out["reason"] = join_reasons(
        None if a > 0 else ("row without area" if is_comparison_row(key) else REASON_NO_AREA),
        None if p > 0 else (c.pop.reason.get(key) or REASON_NO_POPULATION),
        "no tree with a known species" if np.isnan(out["top_species_share"]) else None,
        "10-20-30 undecided: the family of some genus is unknown"
        if out["meets_10_20_30"] is pd.NA and out["n_species"]
        else None,
    )
    return out


def tree_summary(
    tree_plantings: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    population: pd.DataFrame | pd.Series | str | None = None,
    by: str | Sequence[str] | None = "year",
    crs: Any = None,
    communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    r"""Trees planted per quartier (and per year...): density, per resident, diversity.

    Trees are the sum of the ``trees`` counts of the planting points each quartier holds
    (:func:`cdv_geo.core.assign.assign_quartier`: a point on a border shared by two quartiers
    counts once, in the smaller code). ``qpv`` counts the points in some quartier; with
    `communes`, ``commune`` counts the points the communes cover (their border included: a
    planting outside the commune never counts) and ``hors_qpv`` those of them outside every
    quartier (:func:`cdv_geo.core.tables.rows_of`). Densities divide by each row's own area
    (:func:`cdv_geo.core.assign.comparison_areas`). Diversity follows the **10-20-30
    guideline** (Santamour 1990): no species over 10 % of the trees, no genus over 20 %, no
    family over 30 % (:func:`cdv_geo.metrics.species.diversity`). The guideline is meant for
    a whole stock: read it on the total rows; a single year of plantings often fails it by
    construction.

    Parameters
    ----------
    tree_plantings : geopandas.GeoDataFrame
        ``tree_plantings`` layer (``trees``, ``species``, ``year``).
    quartiers : geopandas.GeoDataFrame
        ``quartiers`` layer.
    population : pandas.DataFrame, pandas.Series or str, optional
        Inhabitants, the one population of the pack: the table of
        :func:`cdv_geo.metrics.population.quartier_population` (a ``population`` column indexed
        by row key, with ``population_source`` and ``reason``, copied into the output); or a
        Series indexed by quartier code, or the name of a quartiers column; by default the
        ``population`` field of `quartiers` (source ``"official"``). Rows not given: ``qpv``
        is the sum of the quartiers' when all are known, ``commune`` the communes' published
        ``population`` (source ``"published"``), ``hors_qpv`` is ``commune - qpv``.
    by : str or sequence of str, default "year"
        Fields of `tree_plantings` to break the totals down by (None: one row per quartier).
    crs : optional
        Metric CRS of the areas (:func:`cdv_geo.core.crs.choose_metric_crs`).
    communes : geopandas.GeoDataFrame, optional
        The territory's commune(s): adds the ``commune`` and ``hors_qpv`` rows.

    Returns
    -------
    pandas.DataFrame
        Index (``quartier``, *by*) laid out by
        :func:`cdv_geo.metrics.breakdown.breakdown_table` (the quartiers, ``qpv``, with
        `communes` ``commune`` and ``hors_qpv``; totals last, *by* levels ``"all"``).
        Columns: ``name``, ``n_trees``, ``n_plantings``, ``trees_per_ha``,
        ``trees_per_1000_inhabitants``, ``population_source`` (where the divisor comes from;
        None where it is unknown), ``n_species``, ``top_species``, ``top_species_share``,
        ``top_genus``, ``top_genus_share``, ``top_family``, ``top_family_share``,
        ``meets_10_20_30``, ``n_trees_species_unknown``, ``reason``.

    Raises
    ------
    DataValidationError
        Negative tree counts, unknown `by` fields, a `population` column that does not exist.

    References
    ----------
    Santamour, F. S. Jr. (1990). Trees for urban planting: diversity, uniformity, and common
    sense. *Proceedings of the 7th Conference of the Metropolitan Tree Improvement Alliance
    (METRIA)* 7: 57–65.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import Point, box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"], "population": [2000]},
    ...                      geometry=[box(x, y, x + 200, y + 100)], crs=2154)  # 2 ha
    >>> t = gpd.GeoDataFrame({"trees": [3, 1, 5], "species": ["Tilia cordata",
    ...                       "Acer campestre", None], "year": [2023, 2024, 2024]},
    ...                      geometry=[Point(x + 10, y + 10), Point(x + 50, y + 50),
    ...                                Point(x + 300, y + 50)], crs=2154)
    >>> town = gpd.GeoDataFrame({"code": ["02722"], "population": [3000]},
    ...                         geometry=[box(x, y, x + 400, y + 100)], crs=2154)  # 4 ha
    >>> pop = pd.DataFrame({"population": [2000, 2000, 3000],
    ...                     "population_source": ["official", "official", "published"]},
    ...                    index=["Q1", "qpv", "commune"])
    >>> s = tree_summary(t, q, by=None, communes=town, population=pop)
    >>> s[["n_trees", "trees_per_ha", "trees_per_1000_inhabitants", "population_source"]]
              n_trees  trees_per_ha  trees_per_1000_inhabitants population_source
    quartier
    Q1            4.0           2.0                         2.0          official
    qpv           4.0           2.0                         2.0          official
    commune       9.0          2.25                         3.0         published
    hors_qpv      5.0           2.5                         5.0         published
    """
    t = as_layer(tree_plantings, "tree_plantings", kind="tree_plantings", geometry="point")
    q = as_layer(quartiers, "quartiers", kind="quartiers", geometry="polygon")
    counts = tree_counts(t)
    by_cols = by_columns(t, by, name="tree_plantings")
    qm = q.to_crs(choose_metric_crs(q, crs))
    areas = comparison_areas(qm, communes)
    ha = dict(zip(map(str, areas["code"]), (areas.area / 1e4).tolist(), strict=True))
    pop = _population(q, population, communes)
    codes = assign_quartier(t, qm).to_numpy(dtype=object)
    town = None if communes is None else in_communes(t, communes)
    masks = rows_of(codes, q, in_commune=town)
    species = species_codes(
        (t["species"] if "species" in t.columns else pd.Series([None] * len(t))).reset_index(
            drop=True
        )
    )

    row = functools.partial(_summary_row, c=_Counted(counts, masks, ha, pop, species))
    values = t[by_cols].reset_index(drop=True)
    table = breakdown_table(q, values, by_cols, row, rows=comparison_keys(masks))
    table["meets_10_20_30"] = table["meets_10_20_30"].astype("boolean")
    return table
