"""Renaturation indicators: sealed and canopy shares, de-sealing, trees, 3-30-300, WHO access.

What the steering committee asks of the renaturation strand of a contrat de ville: how much was
de-sealed, where, and what it changed to the sealed share of each quartier; how much canopy
there is; how many trees were planted, of how many species; and who benefits — the share of
residents living by the **3-30-300** rule (Konijnendijk 2023) and within 300 m of a green space
(WHO Europe 2016).

Shares are fractions in [0, 1]; changes of a share are in percentage points (``_pp``); areas in
m². Every function reprojects its inputs to the metric CRS (EPSG:2154 by default) and returns a
table indexed by the input ``id``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.crs import choose_metric_crs, require_crs
from cdv_geo.core.errors import DataValidationError, Problem, RasterError
from cdv_geo.core.raster import RasterLike, open_raster
from cdv_geo.metrics.zonal import zonal_stats
from cdv_geo.schema import validate

__all__ = [
    "CROWN_DIAMETERS_M",
    "DEFAULT_CROWN_DIAMETER_M",
    "GENUS_FAMILY",
    "ResidentShares",
    "canopy_share",
    "desealing_summary",
    "green_space_access",
    "impervious_change",
    "impervious_share",
    "rule_3_30_300",
    "tree_crowns",
    "tree_summary",
]

#: Crown diameter (m) used for a tree whose species is not in :data:`CROWN_DIAMETERS_M`.
DEFAULT_CROWN_DIAMETER_M = 5.0

#: Indicative crown diameters (m) of established urban trees, by genus (or full species name,
#: which wins over its genus). Compiled for cdv_geo as orders of magnitude from common
#: street-tree and nursery guidance, not from one published table: give each planting its
#: ``crown_diameter_m`` (or your own mapping) for real accounting. Young trees are smaller:
#: a tree planted a few years ago has a crown of 2–4 m.
CROWN_DIAMETERS_M: dict[str, float] = {
    "acer": 10.0,
    "acer campestre": 8.0,
    "acer platanoides": 12.0,
    "acer pseudoplatanus": 14.0,
    "aesculus": 12.0,
    "alnus": 8.0,
    "amelanchier": 5.0,
    "betula": 8.0,
    "carpinus": 9.0,
    "castanea": 14.0,
    "catalpa": 10.0,
    "celtis": 12.0,
    "cercis": 6.0,
    "cornus": 5.0,
    "crataegus": 6.0,
    "fagus": 15.0,
    "fraxinus": 12.0,
    "ginkgo": 8.0,
    "gleditsia": 10.0,
    "juglans": 14.0,
    "koelreuteria": 7.0,
    "lagerstroemia": 5.0,
    "liquidambar": 9.0,
    "liriodendron": 12.0,
    "magnolia": 7.0,
    "malus": 6.0,
    "morus": 8.0,
    "ostrya": 8.0,
    "parrotia": 7.0,
    "paulownia": 10.0,
    "pinus": 8.0,
    "platanus": 18.0,
    "populus": 12.0,
    "prunus": 7.0,
    "pyrus": 5.0,
    "quercus": 15.0,
    "robinia": 10.0,
    "salix": 10.0,
    "sophora": 12.0,
    "sorbus": 6.0,
    "styphnolobium": 12.0,
    "tilia": 12.0,
    "ulmus": 12.0,
    "zelkova": 12.0,
}

#: Botanical family of common urban tree genera (APG IV), for the "30 % per family" part of
#: the 10-20-30 guideline.
GENUS_FAMILY: dict[str, str] = {
    "acer": "Sapindaceae",
    "aesculus": "Sapindaceae",
    "koelreuteria": "Sapindaceae",
    "alnus": "Betulaceae",
    "betula": "Betulaceae",
    "carpinus": "Betulaceae",
    "ostrya": "Betulaceae",
    "castanea": "Fagaceae",
    "fagus": "Fagaceae",
    "quercus": "Fagaceae",
    "amelanchier": "Rosaceae",
    "crataegus": "Rosaceae",
    "malus": "Rosaceae",
    "prunus": "Rosaceae",
    "pyrus": "Rosaceae",
    "sorbus": "Rosaceae",
    "catalpa": "Bignoniaceae",
    "celtis": "Cannabaceae",
    "cercis": "Fabaceae",
    "gleditsia": "Fabaceae",
    "robinia": "Fabaceae",
    "sophora": "Fabaceae",
    "styphnolobium": "Fabaceae",
    "cornus": "Cornaceae",
    "fraxinus": "Oleaceae",
    "ginkgo": "Ginkgoaceae",
    "juglans": "Juglandaceae",
    "lagerstroemia": "Lythraceae",
    "liquidambar": "Altingiaceae",
    "liriodendron": "Magnoliaceae",
    "magnolia": "Magnoliaceae",
    "morus": "Moraceae",
    "parrotia": "Hamamelidaceae",
    "paulownia": "Paulowniaceae",
    "pinus": "Pinaceae",
    "platanus": "Platanaceae",
    "populus": "Salicaceae",
    "salix": "Salicaceae",
    "tilia": "Malvaceae",
    "ulmus": "Ulmaceae",
    "zelkova": "Ulmaceae",
}

ALL = "all"  # label of the margin rows (every group, or every quartier)


@dataclass(frozen=True)
class ResidentShares:
    """Per-residence results and population-weighted shares per quartier.

    Attributes
    ----------
    residences : pandas.DataFrame
        One row per residence (indexed by residence id): the measures, the pass/fail flags,
        ``residents`` (the weight) and ``quartier`` (id of the quartier holding it, or None).
    quartiers : pandas.DataFrame
        One row per quartier (indexed by quartier id) plus a row ``"all"`` for every residence
        given: ``name``, ``residents`` and, for each flag, ``share_<flag>`` — the share of
        residents whose home passes it.
    """

    residences: pd.DataFrame
    quartiers: pd.DataFrame


# --- helpers ---------------------------------------------------------------------------------


def _layer(gdf: gpd.GeoDataFrame, kind: str, what: str) -> gpd.GeoDataFrame:
    """Return `gdf` validated as `kind` (already-validated layers pass through)."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise DataValidationError(
            [Problem(f"{what} must be a GeoDataFrame, not {type(gdf).__name__}", layer=kind)]
        )
    require_crs(gdf, gdf.attrs.get("source") or what)
    if gdf.attrs.get("kind") == kind:
        return gdf
    return validate(gdf, kind, source=gdf.attrs.get("source"))


def _metric(gdf: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    target = choose_metric_crs(gdf, crs)
    return gdf if require_crs(gdf).equals(target) else gdf.to_crs(target)


def _ids(gdf: gpd.GeoDataFrame) -> pd.Index:
    if "id" in gdf.columns:
        return pd.Index(gdf["id"].astype(str), name="id")
    return pd.Index(gdf.index, name="id")


def _geoms(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(gdf.geometry.array, dtype=object)


def _check_tree_counts(trees: gpd.GeoDataFrame) -> np.ndarray:
    """Return the tree counts (1 where absent); raise on negative or non-finite counts."""
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
                    layer="tree_plantings",
                    feature=str(fid),
                    field="trees",
                )
                for fid, v in zip(_ids(trees)[bad], trees["trees"].to_numpy()[bad], strict=True)
            ]
        )
    return counts


def _genus(species: Any) -> str | None:
    if species is None or (isinstance(species, float) and math.isnan(species)):
        return None
    text = str(species).strip()
    if not text:
        return None
    return text.split()[0].capitalize()


def _crown_lookup(species: Any, table: Mapping[str, float]) -> tuple[float | None, str]:
    if species is None or (isinstance(species, float) and math.isnan(species)):
        return None, "default"
    name = " ".join(str(species).lower().replace("×", " ").replace(" x ", " ").split())
    # cultivars ('Fastigiata') and authors do not change the lookup
    name = name.split("'")[0].strip()
    words = name.split()
    if len(words) >= 2 and f"{words[0]} {words[1]}" in table:
        return float(table[f"{words[0]} {words[1]}"]), "species"
    if words and words[0] in table:
        return float(table[words[0]]), "genus"
    return None, "default"


def _share_from_raster(
    polygons: gpd.GeoDataFrame,
    raster: RasterLike,
    what: str,
    *,
    scale: float,
    band: int,
    nodata: float | Sequence[float] | None,
) -> pd.DataFrame:
    """Coverage-weighted mean share; refuse a scale that gives shares outside [0, 1]."""
    z = zonal_stats(
        polygons,
        raster,
        stats=("mean", "min", "max", "nodata_share"),
        band=band,
        nodata=nodata,
        scale=scale,
    )
    hi, lo = z["max"].max(), z["min"].min()
    if (pd.notna(hi) and hi > 1 + 1e-9) or (pd.notna(lo) and lo < -1e-9):
        with open_raster(raster) as op:
            name = op.name
        worst = hi if pd.notna(hi) and hi > 1 else lo
        raise RasterError(
            f"raster {name}: with scale={scale:g}, {what} values reach {worst:g}, outside 0–1 "
            f"(stored value {worst / scale:g}). For a raster in percent (0–100, as Copernicus "
            "HRL) use scale=0.01; declare the codes that are not shares as nodata (Copernicus: "
            "nodata=(254, 255))"
        )
    return z


def _areas(polygons: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    return np.asarray(shapely.area(_geoms(_metric(polygons, crs))), dtype=float)


def _weights(res: gpd.GeoDataFrame, persons_per_dwelling: float) -> np.ndarray:
    def col(name: str) -> pd.Series:
        if name not in res.columns:
            return pd.Series(np.nan, index=res.index)
        return pd.to_numeric(res[name], errors="coerce").astype(float)

    pop, dw = col("population"), col("dwellings")
    w = pop.where(pop.notna(), dw * persons_per_dwelling)
    return w.fillna(0.0).to_numpy(dtype=float)


def _quartier_of(geoms: np.ndarray, quartiers: gpd.GeoDataFrame | None) -> np.ndarray:
    """Return the id of the quartier holding each geometry's representative point."""
    out = np.full(len(geoms), None, dtype=object)
    if quartiers is None or len(geoms) == 0:
        return out
    qids = np.asarray(_ids(quartiers), dtype=object)
    pts = shapely.point_on_surface(geoms)
    tree = shapely.STRtree(_geoms(quartiers))
    src, dst = tree.query(pts, predicate="within")
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    first = np.unique(src, return_index=True)[1]
    out[src[first]] = qids[dst[first]]
    return out


def _population_shares(
    flags: pd.DataFrame,
    weights: np.ndarray,
    quartier: np.ndarray,
    quartiers: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """Population-weighted share of residents passing each flag, per quartier and overall."""
    if quartiers is not None:
        qids = list(_ids(quartiers))
        names = dict(zip(qids, quartiers.get("name", pd.Series(qids)), strict=True))
    else:
        qids, names = [], {}
    rows = []
    for qid in [*qids, ALL]:
        sel = np.ones(len(weights), bool) if qid == ALL else (quartier == qid)
        w = weights[sel]
        total = float(w.sum())
        row: dict[str, Any] = {"id": qid, "name": names.get(qid, ALL), "residents": total}
        for col in flags.columns:
            f = flags[col].to_numpy(dtype=bool)[sel]
            row[f"share_{col}"] = float((w * f).sum() / total) if total > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("id")


def _parks(
    green_spaces: gpd.GeoDataFrame, *, public_only: bool, merge_adjacent: bool
) -> gpd.GeoDataFrame:
    """Public green spaces (metric CRS), touching ones merged, with their area in m²."""
    gs = green_spaces
    if public_only and "public" in gs.columns:
        gs = gs[gs["public"].fillna(True).astype(bool)]
    geoms = _geoms(gs)
    names = [str(n) for n in gs.get("name", pd.Series([""] * len(gs))).fillna("")]
    if merge_adjacent and len(geoms):
        merged = shapely.get_parts(shapely.union_all(geoms))
        merged = merged[shapely.get_type_id(merged) == 3]
        tree = shapely.STRtree(geoms)
        labels = []
        for part in merged:
            hit = tree.query(part, predicate="intersects")
            labels.append(" + ".join(dict.fromkeys(names[i] for i in sorted(hit) if names[i])))
        geoms, names = merged, labels
    return gpd.GeoDataFrame(
        {"name": names, "area_m2": shapely.area(geoms)}, geometry=list(geoms), crs=gs.crs
    )


def _ha_label(a: float) -> str:
    return f"{a:g}".replace(".", "_") + "ha"


# --- sealed and canopy shares ----------------------------------------------------------------


def impervious_share(
    polygons: gpd.GeoDataFrame,
    raster: RasterLike,
    *,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    r"""Share of each polygon that is sealed, from an imperviousness raster.

    .. math:: s = \frac{\sum_i c_i\,v_i}{\sum_i c_i} \times \text{scale}

    with :math:`c_i` the fraction of pixel :math:`i` inside the polygon and :math:`v_i` its
    imperviousness (see :func:`cdv_geo.zonal_stats`). Copernicus HRL *Imperviousness Density*
    (10 m, 0–100 %, 255 outside area) is the reference source in France; its default
    ``scale=0.01`` turns percent into a fraction.

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        Quartiers, school yards, service areas... (any polygon layer with a CRS).
    raster : str, path-like or rasterio dataset
        The imperviousness raster.
    scale : float, default 0.01
        Multiplies stored values to get a fraction (``1.0`` for a raster already in 0–1).
    band : int, default 1
        Band number.
    nodata : number or sequence, optional
        Extra nodata codes besides the raster's own (Copernicus: ``(254, 255)``).
    crs : optional
        Metric CRS of the area column (EPSG:2154 by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by polygon id: ``impervious_share``, ``area_m2`` (polygon area),
        ``impervious_m2`` (``impervious_share × area_m2``: nodata parts are assumed as sealed
        as the rest), ``nodata_share`` and ``reason`` (see :func:`~cdv_geo.zonal_stats`).

    Raises
    ------
    RasterError
        Besides the raster checks of :func:`~cdv_geo.zonal_stats`: if `scale` makes a share
        exceed 1 (e.g. a 0–100 raster read with ``scale=1``).

    Examples
    --------
    >>> import numpy as np, rasterio, geopandas as gpd, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> path = os.path.join(tempfile.mkdtemp(), "imd.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1,
    ...                    dtype="uint8", crs="EPSG:2154", nodata=255,
    ...                    transform=from_origin(700000, 6900010, 10, 10)) as dst:
    ...     dst.write(np.array([[100, 0]], dtype="uint8"), 1)
    >>> yard = gpd.GeoDataFrame({"id": ["yard"]}, geometry=[box(700005, 6900000, 700020,
    ...                         6900010)], crs=2154)
    >>> impervious_share(yard, path)[["impervious_share", "impervious_m2"]].round(4)
          impervious_share  impervious_m2
    id
    yard            0.3333           50.0
    """
    z = _share_from_raster(
        polygons, raster, "imperviousness", scale=scale, band=band, nodata=nodata
    )
    area = _areas(polygons, crs)
    out = pd.DataFrame(
        {
            "impervious_share": z["mean"].to_numpy(),
            "area_m2": area,
            "impervious_m2": z["mean"].to_numpy() * area,
            "nodata_share": z["nodata_share"].to_numpy(),
            "reason": z["reason"].to_numpy(),
        },
        index=z.index,
    )
    return out


def impervious_change(
    polygons: gpd.GeoDataFrame,
    before: RasterLike,
    after: RasterLike,
    *,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
) -> pd.DataFrame:
    r"""Change of the sealed share of each polygon between two imperviousness rasters.

    .. math:: \Delta = 100\,(s_\text{after} - s_\text{before}) \quad\text{(percentage points)}

    Negative values mean de-sealing. Both rasters are measured with exact coverage fractions
    (:func:`impervious_share`); they need not share a grid.

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        Quartiers or any polygon layer.
    before, after : str, path-like or rasterio dataset
        Imperviousness rasters of the two years, same encoding.
    scale, band, nodata
        As in :func:`impervious_share`, for both rasters.

    Returns
    -------
    pandas.DataFrame
        Indexed by polygon id: ``impervious_before``, ``impervious_after``, ``change_pp``,
        ``nodata_share_before``, ``nodata_share_after``, ``reason`` (the reasons of either
        raster, joined).

    Examples
    --------
    >>> import numpy as np, rasterio, geopandas as gpd, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> d = tempfile.mkdtemp()
    >>> for year, v in (("2018", [[80, 80]]), ("2024", [[80, 20]])):
    ...     with rasterio.open(os.path.join(d, f"imd_{year}.tif"), "w", driver="GTiff",
    ...                        width=2, height=1, count=1, dtype="uint8", nodata=255,
    ...                        crs="EPSG:2154",
    ...                        transform=from_origin(700000, 6900010, 10, 10)) as dst:
    ...         dst.write(np.array(v, dtype="uint8"), 1)
    >>> q = gpd.GeoDataFrame({"id": ["Q1"]}, geometry=[box(700000, 6900000, 700020,
    ...                      6900010)], crs=2154)
    >>> impervious_change(q, os.path.join(d, "imd_2018.tif"),
    ...                   os.path.join(d, "imd_2024.tif"))[["impervious_before",
    ...                                                     "impervious_after", "change_pp"]]
        impervious_before  impervious_after  change_pp
    id
    Q1                0.8               0.5      -30.0
    """
    a = impervious_share(polygons, before, scale=scale, band=band, nodata=nodata)
    b = impervious_share(polygons, after, scale=scale, band=band, nodata=nodata)
    reason = [
        "; ".join(f"{w}: {r}" for w, r in (("before", ra), ("after", rb)) if r)
        for ra, rb in zip(a["reason"], b["reason"], strict=True)
    ]
    return pd.DataFrame(
        {
            "impervious_before": a["impervious_share"],
            "impervious_after": b["impervious_share"],
            "change_pp": 100.0 * (b["impervious_share"] - a["impervious_share"]),
            "nodata_share_before": a["nodata_share"],
            "nodata_share_after": b["nodata_share"],
            "reason": reason,
        },
        index=a.index,
    )


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
    species' or genus' entry of `crown_diameters` (default :data:`CROWN_DIAMETERS_M`, matched on
    the Latin name, e.g. ``"Tilia cordata"`` → ``tilia``); else `default_crown_diameter_m`. A
    point recording :math:`n > 1` trees (an alignment whose positions are unknown) becomes one
    disc of the same total crown area, radius :math:`r\sqrt{n}`.

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
        Metric CRS (EPSG:2154 by default).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by tree id: ``trees``, ``crown_diameter_m``, ``radius_m``, ``crown_source``
        (``field``, ``species``, ``genus`` or ``default``), disc geometry.

    Raises
    ------
    DataValidationError
        If a tree count is negative.

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
    trees = _layer(trees, "tree_plantings", "trees")
    counts = _check_tree_counts(trees)
    table = {k.lower(): float(v) for k, v in (crown_diameters or CROWN_DIAMETERS_M).items()}
    given = (
        pd.to_numeric(trees["crown_diameter_m"], errors="coerce").astype(float).to_numpy()
        if "crown_diameter_m" in trees.columns
        else np.full(len(trees), np.nan)
    )
    species = trees["species"] if "species" in trees.columns else pd.Series([None] * len(trees))
    diam = np.empty(len(trees))
    how = np.empty(len(trees), dtype=object)
    for i, (g, sp) in enumerate(zip(given, species, strict=True)):
        if np.isfinite(g) and g > 0:
            diam[i], how[i] = g, "field"
            continue
        d, src = _crown_lookup(sp, table)
        diam[i], how[i] = (d, src) if d is not None else (default_crown_diameter_m, "default")
    radius = diam / 2.0 * np.sqrt(np.maximum(counts, 0.0))
    m = _metric(trees, crs)
    discs = shapely.buffer(_geoms(m), radius, quad_segs=quad_segs)
    discs[counts <= 0] = shapely.Polygon()
    return gpd.GeoDataFrame(
        {"trees": counts, "crown_diameter_m": diam, "radius_m": radius, "crown_source": how},
        geometry=list(discs),
        crs=m.crs,
        index=_ids(trees),
    )


def canopy_share(
    polygons: gpd.GeoDataFrame,
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
) -> pd.DataFrame:
    r"""Share of each polygon under tree canopy, from a tree-cover raster or from tree points.

    With a `raster` (Copernicus HRL *Tree Cover Density*, 10 m, 0–100 %): the coverage-weighted
    mean density, as in :func:`impervious_share`. Without one, from `trees`: the crowns of
    :func:`tree_crowns` are **unioned** (overlapping crowns count once) and

    .. math:: s = \frac{|P \cap \bigcup_k D_k|}{|P|}

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        Polygons to measure.
    raster : str, path-like or rasterio dataset, optional
        Tree-cover raster; takes precedence over `trees`.
    trees : geopandas.GeoDataFrame, optional
        Tree points (see :func:`tree_crowns`).
    scale, band, nodata
        Raster encoding, as in :func:`impervious_share`.
    default_crown_diameter_m, crown_diameters, quad_segs
        Crown sizes, as in :func:`tree_crowns`.
    crs : optional
        Metric CRS (EPSG:2154 by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by polygon id: ``canopy_share``, ``canopy_m2``, ``area_m2``, ``nodata_share``
        (raster only, else NaN), ``reason`` and ``source`` (``"raster"`` or ``"tree points"``).

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
    >>> sq = gpd.GeoDataFrame({"id": ["sq"]}, geometry=[box(x, y, x + 50, y + 50)], crs=2154)
    >>> t = gpd.GeoDataFrame({"crown_diameter_m": [10.0, 10.0]},
    ...                      geometry=[Point(x + 20, y + 25), Point(x + 25, y + 25)], crs=2154)
    >>> c = canopy_share(sq, trees=t, quad_segs=64)
    >>> round(float(c.loc["sq", "canopy_m2"]), 1)  # 2πr² − lens = 157.1 − 30.7
    126.4
    """
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
    mcrs = choose_metric_crs(polygons, crs)
    area = _areas(polygons, mcrs)
    if raster is not None:
        z = _share_from_raster(
            polygons, raster, "tree cover", scale=scale, band=band, nodata=nodata
        )
        return pd.DataFrame(
            {
                "canopy_share": z["mean"].to_numpy(),
                "canopy_m2": z["mean"].to_numpy() * area,
                "area_m2": area,
                "nodata_share": z["nodata_share"].to_numpy(),
                "reason": z["reason"].to_numpy(),
                "source": "raster",
            },
            index=z.index,
        )
    assert trees is not None
    crowns = tree_crowns(
        trees,
        default_crown_diameter_m=default_crown_diameter_m,
        crown_diameters=crown_diameters,
        quad_segs=quad_segs,
        crs=mcrs,
    )
    polys = _metric(polygons, mcrs)
    covered = _covered_area(_geoms(polys), _geoms(crowns))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, covered / np.where(area > 0, area, 1.0), np.nan)
    reason = np.where(area > 0, "", "empty geometry")
    return pd.DataFrame(
        {
            "canopy_share": share,
            "canopy_m2": covered,
            "area_m2": area,
            "nodata_share": np.nan,
            "reason": reason,
            "source": "tree points",
        },
        index=_ids(polygons),
    )


def _covered_area(polys: np.ndarray, discs: np.ndarray) -> np.ndarray:
    """Area of each polygon covered by the union of the discs (overlaps counted once)."""
    out = np.zeros(len(polys))
    discs = discs[~shapely.is_empty(discs)]
    if len(discs) == 0 or len(polys) == 0:
        return out
    parts = shapely.get_parts(shapely.union_all(discs))
    tree = shapely.STRtree(parts)
    ok = ~(shapely.is_missing(polys) | shapely.is_empty(polys))
    src, dst = tree.query(polys[ok], predicate="intersects")
    src = np.flatnonzero(ok)[src]
    areas = shapely.area(shapely.intersection(polys[src], parts[dst]))
    np.add.at(out, src, areas)
    return out


# --- de-sealing and tree accounts --------------------------------------------------------------


def _by_columns(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _check_by(gdf: gpd.GeoDataFrame, by: list[str], kind: str) -> None:
    missing = [b for b in by if b not in gdf.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    f"cannot group by {b!r}: no such field; available: "
                    f"{', '.join(c for c in gdf.columns if c != gdf.geometry.name)}",
                    file=gdf.attrs.get("source"),
                    layer=kind,
                    field=b,
                )
                for b in missing
            ]
        )


def _group_keys(df: pd.DataFrame, by: list[str]) -> list[tuple[Any, ...]]:
    if not by:
        return [()]
    keys = df[by].drop_duplicates()
    keys = keys.sort_values(by, na_position="last", key=lambda s: s.astype(str))
    return [tuple(None if pd.isna(v) else v for v in row) for row in keys.itertuples(index=False)]


def _select(df: pd.DataFrame, by: list[str], key: tuple[Any, ...]) -> np.ndarray:
    sel = np.ones(len(df), bool)
    for col, v in zip(by, key, strict=True):
        sel &= (df[col].isna() if v is None else df[col] == v).to_numpy(dtype=bool)
    return sel


def desealing_summary(
    desealed_areas: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    by: str | Sequence[str] | None = ("site_type", "year"),
    impervious: RasterLike | pd.Series | None = None,
    scale: float = 0.01,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    r"""De-sealed area per quartier (and per site type, year...), with the sealed share after.

    Areas are computed from the geometries in the metric CRS — an ``area`` field in the file is
    ignored — and clipped to each quartier (a yard straddling a boundary counts in both, for its
    part in each). Overlapping de-sealed polygons count once (their union is measured).

    When the quartiers' sealed share *before* is known (`impervious`: a raster, or a Series of
    fractions indexed by quartier id), the **vector estimate** of the share after de-sealing,
    for when no "after" raster exists yet, is

    .. math:: s_\text{after} = \max\left(0,\; s_\text{before} - \frac{A_\text{desealed}}
              {A_\text{quartier}}\right)

    which assumes every de-sealed m² was fully sealed before and is fully permeable after: an
    upper bound of the gain. It is given on the quartier total rows (``"all"``), since it is the
    effect of every site. Filter `desealed_areas` first to count only finished works
    (``d[d.status == "done"]``).

    Parameters
    ----------
    desealed_areas : geopandas.GeoDataFrame
        ``desealed_areas`` layer (``site``, ``site_type``, ``year``, ``status``).
    quartiers : geopandas.GeoDataFrame
        ``quartiers`` layer.
    by : str or sequence of str, default ("site_type", "year")
        Fields of `desealed_areas` to break the totals down by (None: one row per quartier).
    impervious : raster or pandas.Series, optional
        Sealed share of each quartier before de-sealing: an imperviousness raster (measured
        with :func:`impervious_share`) or fractions indexed by quartier id.
    scale, band, nodata
        Encoding of the `impervious` raster.
    crs : optional
        Metric CRS (EPSG:2154 by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by (quartier ``id``, *by*); each quartier has a total row whose *by* levels are
        ``"all"``. Columns: ``name``, ``n_sites``, ``desealed_m2``, ``quartier_area_m2``,
        ``share_of_quartier``; with `impervious`: ``impervious_before``,
        ``impervious_after_estimate``, ``change_pp`` (on the ``"all"`` rows). Sites outside
        every quartier are listed in ``result.attrs["outside_sites"]`` and their area in
        ``result.attrs["outside_m2"]``.

    Examples
    --------
    A 100 m × 100 m quartier, 60 % sealed, with a 20 m × 20 m yard de-sealed in 2023:

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"]},
    ...                      geometry=[box(x, y, x + 100, y + 100)], crs=2154)
    >>> d = gpd.GeoDataFrame({"site": ["École"], "site_type": ["cour d'école"],
    ...                       "year": [2023], "area": [9999]},
    ...                      geometry=[box(x + 10, y + 10, x + 30, y + 30)], crs=2154)
    >>> s = desealing_summary(d, q, by="year", impervious=pd.Series({"Q1": 0.6}))
    >>> s[["desealed_m2", "share_of_quartier", "impervious_after_estimate"]]
             desealed_m2  share_of_quartier  impervious_after_estimate
    id year
    Q1 2023        400.0               0.04                        NaN
       all         400.0               0.04                       0.56
    """
    d = _layer(desealed_areas, "desealed_areas", "desealed_areas")
    q = _layer(quartiers, "quartiers", "quartiers")
    by_cols = _by_columns(by)
    _check_by(d, by_cols, "desealed_areas")
    qm = _metric(q, crs)
    dm = d.to_crs(qm.crs)
    qids = list(_ids(q))
    qgeoms = _geoms(qm)
    qarea = shapely.area(qgeoms)
    dgeoms = _geoms(dm)
    sites = np.asarray(d["site"].astype(str)) if "site" in d.columns else np.asarray(_ids(d))

    before: pd.Series | None = None
    if impervious is not None:
        if isinstance(impervious, pd.Series):
            before = impervious.copy()
            before.index = before.index.astype(str)
            missing = [i for i in qids if i not in before.index]
            if missing:
                raise DataValidationError(
                    [
                        Problem(
                            "no sealed share given for this quartier in `impervious`; index "
                            "the Series by quartier id",
                            layer="quartiers",
                            feature=m,
                        )
                        for m in missing
                    ]
                )
        else:
            before = impervious_share(
                q, impervious, scale=scale, band=band, nodata=nodata, crs=crs
            )["impervious_share"]

    rows: list[dict[str, Any]] = []
    index: list[tuple[Any, ...]] = []
    covered_any = np.zeros(len(dgeoms), bool)
    for qi, qid in enumerate(qids):
        parts = shapely.intersection(dgeoms, qgeoms[qi])
        inside = shapely.area(parts) > 0
        covered_any |= inside
        name = q["name"].iloc[qi] if "name" in q.columns else qid
        keys = _group_keys(d[inside], by_cols) if by_cols else []
        for key in [*keys, (ALL,) * len(by_cols)]:
            sel = inside if (not by_cols or key[0] == ALL) else inside & _select(d, by_cols, key)
            m2 = float(shapely.area(shapely.union_all(parts[sel]))) if sel.any() else 0.0
            row: dict[str, Any] = {
                "name": name,
                "n_sites": int(sel.sum()),
                "desealed_m2": m2,
                "quartier_area_m2": float(qarea[qi]),
                "share_of_quartier": m2 / qarea[qi] if qarea[qi] > 0 else np.nan,
            }
            if before is not None:
                is_total = not by_cols or key[0] == ALL
                b = float(before.get(qid, np.nan))
                after = max(0.0, b - row["share_of_quartier"]) if np.isfinite(b) else np.nan
                row["impervious_before"] = b if is_total else np.nan
                row["impervious_after_estimate"] = after if is_total else np.nan
                row["change_pp"] = 100.0 * (after - b) if is_total else np.nan
            rows.append(row)
            index.append((qid, *key))
    names = ["id", *by_cols]
    out = pd.DataFrame(
        rows,
        index=pd.MultiIndex.from_tuples(index, names=names)
        if by_cols
        else pd.Index([i[0] for i in index], name="id"),
    )
    out.attrs["outside_sites"] = [str(s) for s in sites[~covered_any]]
    out.attrs["outside_m2"] = float(shapely.area(dgeoms[~covered_any]).sum())
    return out


def _diversity(species: pd.Series, counts: np.ndarray) -> dict[str, Any]:
    """Species, genus and family composition of a set of trees (weighted by counts)."""
    known = species.notna() & (species.astype(str).str.strip() != "")
    sp = species[known].astype(str).str.strip()
    w = counts[known.to_numpy()]
    out: dict[str, Any] = {"trees_species_unknown": float(counts[~known.to_numpy()].sum())}
    total = float(w.sum())
    if total <= 0:
        return {
            **out,
            "n_species": 0,
            "top_species": None,
            "top_species_share": np.nan,
            "top_genus": None,
            "top_genus_share": np.nan,
            "top_family": None,
            "top_family_share": np.nan,
            "meets_10_20_30": pd.NA,
        }
    norm = sp.map(lambda s: " ".join(s.split()).capitalize())
    by_species = pd.Series(w, index=norm.to_numpy()).groupby(level=0).sum()
    genus = norm.map(_genus)
    by_genus = pd.Series(w, index=genus.to_numpy()).groupby(level=0).sum()
    fam = genus.map(lambda g: GENUS_FAMILY.get(str(g).lower()))
    fam_known = fam.notna().to_numpy()
    by_family = pd.Series(w[fam_known], index=fam[fam_known].to_numpy()).groupby(level=0).sum()
    s_top = by_species.sort_values(ascending=False, kind="stable")
    g_top = by_genus.sort_values(ascending=False, kind="stable")
    f_top = by_family.sort_values(ascending=False, kind="stable")
    species_ok = bool(s_top.iloc[0] / total <= 0.10)
    genus_ok = bool(g_top.iloc[0] / total <= 0.20)
    if fam_known.all():
        family_ok: Any = bool(f_top.iloc[0] / total <= 0.30)
    elif len(f_top) and f_top.iloc[0] / total > 0.30:
        family_ok = False  # already over the limit among the known families
    else:
        family_ok = pd.NA
    verdict = (
        pd.array([species_ok], dtype="boolean") & genus_ok & pd.array([family_ok], dtype="boolean")
    )
    return {
        **out,
        "n_species": len(by_species),
        "top_species": s_top.index[0],
        "top_species_share": float(s_top.iloc[0] / total),
        "top_genus": g_top.index[0],
        "top_genus_share": float(g_top.iloc[0] / total),
        "top_family": f_top.index[0] if len(f_top) else None,
        "top_family_share": float(f_top.iloc[0] / total) if len(f_top) else np.nan,
        "meets_10_20_30": verdict[0],
    }


def tree_summary(
    tree_plantings: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    population: pd.Series | str | None = None,
    by: str | Sequence[str] | None = "year",
    crs: Any = None,
) -> pd.DataFrame:
    r"""Trees planted per quartier (and per year...): density, per resident, diversity.

    Trees are the sum of the ``trees`` counts of the planting points inside each quartier.
    Diversity follows the **10-20-30 guideline** (Santamour 1990): in an urban tree stock, no
    species should exceed 10 % of the trees, no genus 20 %, no family 30 %. The genus is the
    first word of the Latin species name (``Acer campestre`` → *Acer*); the family comes from
    :data:`GENUS_FAMILY`. Shares are over the trees whose species is known; when some genus has
    no known family and the known ones stay under 30 %, the family test (and so
    ``meets_10_20_30``) is ``<NA>``. The guideline is meant for a whole stock: read it on the
    ``"all"`` rows; a single year of plantings often fails it by construction.

    Parameters
    ----------
    tree_plantings : geopandas.GeoDataFrame
        ``tree_plantings`` layer (``trees``, ``species``, ``year``).
    quartiers : geopandas.GeoDataFrame
        ``quartiers`` layer.
    population : pandas.Series or str, optional
        Inhabitants per quartier: a Series indexed by quartier id, or the name of a quartiers
        column; by default the ``population`` field of `quartiers`.
    by : str or sequence of str, default "year"
        Fields of `tree_plantings` to break the totals down by (None: one row per quartier).
    crs : optional
        Metric CRS (EPSG:2154 by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by (quartier ``id``, *by*), with a total row per quartier whose *by* levels are
        ``"all"``. Columns: ``name``, ``trees``, ``plantings`` (points), ``trees_per_ha``,
        ``trees_per_1000_inhabitants``, ``n_species``, ``top_species``,
        ``top_species_share``, ``top_genus``, ``top_genus_share``, ``top_family``,
        ``top_family_share``, ``meets_10_20_30``, ``trees_species_unknown``. Trees outside
        every quartier: ``result.attrs["trees_outside"]``.

    Raises
    ------
    DataValidationError
        Negative tree counts, unknown `by` fields, population missing for a quartier.

    References
    ----------
    Santamour, F. S. Jr. (1990). Trees for urban planting: diversity, uniformity, and common
    sense. *Proceedings of the 7th Conference of the Metropolitan Tree Improvement Alliance
    (METRIA)* 7: 57–65.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"], "population": [2000]},
    ...                      geometry=[box(x, y, x + 200, y + 100)], crs=2154)  # 2 ha
    >>> t = gpd.GeoDataFrame({"trees": [3, 1], "species": ["Tilia cordata", "Acer campestre"],
    ...                       "year": [2023, 2024]},
    ...                      geometry=[Point(x + 10, y + 10), Point(x + 50, y + 50)], crs=2154)
    >>> s = tree_summary(t, q, by=None)
    >>> s[["trees", "trees_per_ha", "trees_per_1000_inhabitants", "top_species_share"]]
        trees  trees_per_ha  trees_per_1000_inhabitants  top_species_share
    id
    Q1    4.0           2.0                         2.0               0.75
    """
    t = _layer(tree_plantings, "tree_plantings", "tree_plantings")
    q = _layer(quartiers, "quartiers", "quartiers")
    counts = _check_tree_counts(t)
    by_cols = _by_columns(by)
    _check_by(t, by_cols, "tree_plantings")
    qm = _metric(q, crs)
    qids = list(_ids(q))
    qarea = shapely.area(_geoms(qm))
    pop = _population(q, population, qids)
    where = _quartier_of(_geoms(t.to_crs(qm.crs)), qm)
    species = t["species"] if "species" in t.columns else pd.Series([None] * len(t), index=t.index)

    rows: list[dict[str, Any]] = []
    index: list[tuple[Any, ...]] = []
    for qi, qid in enumerate(qids):
        inside = where == qid
        name = q["name"].iloc[qi] if "name" in q.columns else qid
        keys = _group_keys(t[inside], by_cols) if by_cols else []
        for key in [*keys, (ALL,) * len(by_cols)]:
            sel = inside if (not by_cols or key[0] == ALL) else inside & _select(t, by_cols, key)
            n = float(counts[sel].sum())
            ha = qarea[qi] / 1e4
            p = pop.get(qid, np.nan)
            row: dict[str, Any] = {
                "name": name,
                "trees": n,
                "plantings": int(sel.sum()),
                "trees_per_ha": n / ha if ha > 0 else np.nan,
                "trees_per_1000_inhabitants": 1000 * n / p if p and p > 0 else np.nan,
            }
            row.update(_diversity(species[sel], counts[sel]))
            rows.append(row)
            index.append((qid, *key))
    out = pd.DataFrame(
        rows,
        index=pd.MultiIndex.from_tuples(index, names=["id", *by_cols])
        if by_cols
        else pd.Index([i[0] for i in index], name="id"),
    )
    out["meets_10_20_30"] = out["meets_10_20_30"].astype("boolean")
    out.attrs["trees_outside"] = float(counts[pd.isna(where)].sum())
    return out


def _population(
    q: gpd.GeoDataFrame, population: pd.Series | str | None, qids: list[str]
) -> pd.Series:
    if isinstance(population, pd.Series):
        pop = population.copy()
        pop.index = pop.index.astype(str)
    else:
        col = population or "population"
        if col not in q.columns:
            if population is None:
                return pd.Series(np.nan, index=qids)
            raise DataValidationError(
                [
                    Problem(
                        f"no column {col!r} in quartiers; pass population=Series indexed by "
                        "quartier id or the name of a column",
                        layer="quartiers",
                        field=col,
                    )
                ]
            )
        pop = pd.Series(pd.to_numeric(q[col], errors="coerce").to_numpy(dtype=float), index=qids)
    return pop.astype(float)


# --- who benefits: 3-30-300 and WHO green-space access --------------------------------------


def _distance_to_parks(geoms: np.ndarray, parks: gpd.GeoDataFrame) -> np.ndarray:
    """Straight-line distance (m) from each geometry to the nearest park edge (0 inside)."""
    out = np.full(len(geoms), np.nan)
    if len(parks) == 0 or len(geoms) == 0:
        return out
    tree = shapely.STRtree(_geoms(parks))
    (src, _dst), dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out[src] = dist
    return out


def rule_3_30_300(
    residences: gpd.GeoDataFrame,
    *,
    trees: gpd.GeoDataFrame,
    canopy: RasterLike | None = None,
    green_spaces: gpd.GeoDataFrame,
    network: Any = None,
    quartiers: gpd.GeoDataFrame | None = None,
    tree_radius_m: float = 15.0,
    canopy_radius_m: float = 250.0,
    min_park_ha: float = 0.5,
    park_distance_m: float = 300.0,
    min_trees: int = 3,
    min_canopy_share: float = 0.30,
    canopy_scale: float = 0.01,
    persons_per_dwelling: float = 2.2,
    public_only: bool = True,
    merge_adjacent: bool = True,
    max_snap_m: float = 200.0,
    crs: Any = None,
) -> ResidentShares:
    """Which homes meet the 3-30-300 rule, and the share of residents who do, per quartier.

    Konijnendijk's rule of thumb for urban forestry: every resident should see at least **3**
    trees from home, every neighbourhood should have **30 %** tree canopy, and everyone should
    live within **300 m** of a public green space. The rule gives no measurement protocol; this
    function uses the following, each threshold a parameter:

    - **3** — trees (sum of the ``trees`` counts) within `tree_radius_m` (15 m) of the home's
      footprint (or point): a proxy for *visible from home*, as no viewshed is computed.
    - **30** — canopy share of the disc of radius `canopy_radius_m` (250 m) around the home's
      representative point: from the `canopy` raster (tree-cover density, ``canopy_scale``
      0.01) when given, else from the unioned crowns of `trees` (:func:`canopy_share`).
    - **300** — distance to the nearest *public* green space of at least `min_park_ha`
      (0.5 ha; touching polygons merged into one space first): over the walking `network`
      when given (:func:`cdv_geo.nearest_facility`: the park is entered from the streets that
      border it), else in a straight line from the home's footprint to the park's edge.
      ``park_distance_method`` says which.

    Shares are population-weighted: ``population`` of each residence, else ``dwellings ×
    persons_per_dwelling`` (about 2.2 persons per household in France, INSEE census).

    Parameters
    ----------
    residences : geopandas.GeoDataFrame
        ``residences`` layer (building footprints or points, ``population``/``dwellings``).
    trees : geopandas.GeoDataFrame
        Tree points: the tree inventory, or at least the ``tree_plantings``.
    canopy : str, path-like or rasterio dataset, optional
        Tree-cover raster (0–100 %); without it, canopy comes from `trees`' crowns.
    green_spaces : geopandas.GeoDataFrame
        ``green_spaces`` layer (``public``; private ones are ignored when `public_only`).
    network : cdv_geo.WalkNetwork, optional
        Walking network for the 300 m test; straight line without it.
    quartiers : geopandas.GeoDataFrame, optional
        ``quartiers`` layer for the per-quartier shares.
    tree_radius_m, canopy_radius_m, min_park_ha, park_distance_m, min_trees, min_canopy_share
        The rule's thresholds (15 m, 250 m, 0.5 ha, 300 m, 3 trees, 30 %).
    canopy_scale : float, default 0.01
        Scale of the canopy raster.
    persons_per_dwelling : float, default 2.2
        Residents per dwelling where a residence has no ``population``.
    public_only, merge_adjacent : bool, default True
        Green-space selection (see :func:`green_space_access`).
    max_snap_m : float, default 200
        With a `network`: homes and parks farther than this from every street are unreachable
        (NaN distance, failing "300").
    crs : optional
        Metric CRS (EPSG:2154 by default).

    Returns
    -------
    ResidentShares
        ``.residences``: ``trees_within``, ``meets_3``, ``canopy_share``, ``meets_30``,
        ``park_distance_m``, ``park_distance_method``, ``meets_300``, ``meets_3_30_300``,
        ``residents``, ``quartier``. ``.quartiers``: ``share_meets_3``, ``share_meets_30``,
        ``share_meets_300``, ``share_meets_3_30_300`` per quartier and ``"all"``.

    References
    ----------
    Konijnendijk, C. C. (2023). Evidence-based guidelines for greener, healthier, more
    resilient neighbourhoods: Introducing the 3–30–300 rule. *Journal of Forestry Research*
    34: 821–830. https://doi.org/10.1007/s11676-022-01523-z

    Examples
    --------
    Two homes: one with 3 trees in front and a 1 ha park 50 m away, one 2 km off. The three
    trees' crowns (60 m across in all) cover 5.8 % of the 250 m disc: neither passes "30".

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> homes = gpd.GeoDataFrame({"population": [4, 2]},
    ...     geometry=[Point(x, y), Point(x + 2000, y)], crs=2154)
    >>> trees = gpd.GeoDataFrame({"trees": [3], "crown_diameter_m": [60.0]},
    ...     geometry=[Point(x + 5, y)], crs=2154)
    >>> park = gpd.GeoDataFrame({"name": ["Parc"]}, crs=2154,
    ...     geometry=[box(x + 50, y - 50, x + 150, y + 50)])
    >>> r = rule_3_30_300(homes, trees=trees, green_spaces=park)
    >>> r.residences[["trees_within", "meets_3", "meets_30", "park_distance_m", "meets_300"]]
        trees_within  meets_3  meets_30  park_distance_m  meets_300
    id
    1            3.0     True     False             50.0       True
    2            0.0    False     False           1850.0      False
    >>> r.quartiers.loc["all", ["residents", "share_meets_3", "share_meets_3_30_300"]]
    residents               6.000000
    share_meets_3           0.666667
    share_meets_3_30_300    0.000000
    Name: all, dtype: float64
    """
    res = _layer(residences, "residences", "residences")
    gs = _layer(green_spaces, "green_spaces", "green_spaces")
    tr = _layer(trees, "tree_plantings", "trees")
    counts = _check_tree_counts(tr)
    rm = _metric(res, crs)
    mcrs = rm.crs
    q = _layer(quartiers, "quartiers", "quartiers").to_crs(mcrs) if quartiers is not None else None
    ids = _ids(res)
    geoms = _geoms(rm)

    # 3: trees within tree_radius_m of the home
    tgeoms = _geoms(tr.to_crs(mcrs))
    n_trees = np.zeros(len(geoms))
    if len(tgeoms):
        src, dst = shapely.STRtree(tgeoms).query(geoms, predicate="dwithin", distance=tree_radius_m)
        np.add.at(n_trees, src, counts[dst])

    # 30: canopy share of the disc around the home
    centres = shapely.point_on_surface(geoms)
    discs = gpd.GeoDataFrame(
        {"id": list(ids)},
        geometry=list(shapely.buffer(centres, canopy_radius_m, quad_segs=16)),
        crs=mcrs,
    )
    if canopy is not None:
        cshare = canopy_share(discs, canopy, scale=canopy_scale, crs=mcrs)["canopy_share"]
    else:
        cshare = canopy_share(discs, trees=tr, crs=mcrs)["canopy_share"]

    # 300: nearest public green space of at least min_park_ha
    parks = _parks(gs.to_crs(mcrs), public_only=public_only, merge_adjacent=merge_adjacent)
    parks = parks[parks["area_m2"] >= min_park_ha * 1e4]
    if network is not None:
        method = "network"
        park_d = np.full(len(geoms), np.nan)
        if len(parks):
            from cdv_geo.metrics.access import nearest_facility

            origins = gpd.GeoDataFrame({"id": list(ids)}, geometry=list(geoms), crs=mcrs)
            names = [str(n) for n in parks["name"]]
            # park names as ids, so proximity's messages name them, unless they clash
            unique = len(set(names)) == len(names) and all(names)
            facilities = gpd.GeoDataFrame(
                {
                    "id": names if unique else [f"park_{i + 1}" for i in range(len(parks))],
                    "name": list(parks["name"]),
                    "kind": "park",
                },
                geometry=list(_geoms(parks)),
                crs=mcrs,
            )
            nf = nearest_facility(
                origins, facilities, network=network, kinds=["park"], max_snap_m=max_snap_m
            )
            park_d = nf["park_distance_m"].reindex(ids).to_numpy(dtype=float)
    else:
        park_d = _distance_to_parks(geoms, parks)
        method = "straight_line"

    meets_3 = n_trees >= min_trees
    meets_30 = np.nan_to_num(cshare.to_numpy(dtype=float), nan=-1.0) >= min_canopy_share
    meets_300 = np.nan_to_num(park_d, nan=np.inf) <= park_distance_m
    per = pd.DataFrame(
        {
            "trees_within": n_trees,
            "meets_3": meets_3,
            "canopy_share": cshare.to_numpy(dtype=float),
            "meets_30": meets_30,
            "park_distance_m": park_d,
            "park_distance_method": method,
            "meets_300": meets_300,
            "meets_3_30_300": meets_3 & meets_30 & meets_300,
            "residents": _weights(res, persons_per_dwelling),
            "quartier": _quartier_of(geoms, q),
        },
        index=ids,
    )
    flags = per[["meets_3", "meets_30", "meets_300", "meets_3_30_300"]]
    shares = _population_shares(flags, per["residents"].to_numpy(), per["quartier"].to_numpy(), q)
    return ResidentShares(per, shares)


def green_space_access(
    residences: gpd.GeoDataFrame,
    green_spaces: gpd.GeoDataFrame,
    quartiers: gpd.GeoDataFrame,
    *,
    distance_m: float = 300.0,
    min_area_ha: float | Iterable[float] = (0.5, 1.0),
    public_only: bool = True,
    merge_adjacent: bool = True,
    persons_per_dwelling: float = 2.2,
    crs: Any = None,
) -> ResidentShares:
    """Share of residents within `distance_m` (straight line) of a green space of each size.

    The WHO Regional Office for Europe's indicator of urban green-space availability: the
    share of the population living within 300 m (straight-line distance) of a public green
    space of at least 0.5–1 ha. Distances run from the home's footprint (or point) to the green
    space's edge (0 when inside). Green spaces are the *public* ones (``public`` field) when
    `public_only`; touching or overlapping polygons (a lawn and the playground beside it) are
    merged into one space before their area is tested when `merge_adjacent`. Residents are
    weighted as in :func:`rule_3_30_300`.

    Parameters
    ----------
    residences : geopandas.GeoDataFrame
        ``residences`` layer.
    green_spaces : geopandas.GeoDataFrame
        ``green_spaces`` layer.
    quartiers : geopandas.GeoDataFrame
        ``quartiers`` layer.
    distance_m : float, default 300
        Straight-line distance threshold.
    min_area_ha : float or iterable of float, default (0.5, 1.0)
        Minimum green-space sizes, one indicator each.
    public_only, merge_adjacent : bool, default True
        Green-space selection (see above).
    persons_per_dwelling : float, default 2.2
        Residents per dwelling where a residence has no ``population``.
    crs : optional
        Metric CRS (EPSG:2154 by default).

    Returns
    -------
    ResidentShares
        ``.residences``: for each size *a* (``0_5ha``, ``1ha``...), ``green_<a>_distance_m``
        and ``green_<a>`` (within `distance_m`), plus ``residents`` and ``quartier``.
        ``.quartiers``: ``share_green_<a>`` per quartier and ``"all"`` (every residence given).

    References
    ----------
    WHO Regional Office for Europe (2016). *Urban green spaces and health: a review of
    evidence*. Copenhagen: WHO Europe.

    Examples
    --------
    A home 50 m from a 0.64 ha square and 250 m from a 1 ha park (30 residents), another
    far from both (10 residents):

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> x, y = 728400, 6920700  # Lambert-93, Soissons
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"]},
    ...                      geometry=[box(x, y, x + 1000, y + 1000)], crs=2154)
    >>> homes = gpd.GeoDataFrame({"population": [30, 10]}, crs=2154,
    ...     geometry=[Point(x + 100, y + 100), Point(x + 900, y + 900)])
    >>> parks = gpd.GeoDataFrame({"name": ["Square", "Parc"]}, crs=2154,
    ...     geometry=[box(x + 150, y + 100, x + 230, y + 180),
    ...               box(x + 350, y + 100, x + 450, y + 200)])
    >>> a = green_space_access(homes, parks, q)
    >>> a.residences[["green_0_5ha_distance_m", "green_1ha_distance_m", "residents"]].round(1)
        green_0_5ha_distance_m  green_1ha_distance_m  residents
    id
    1                     50.0                 250.0       30.0
    2                    832.2                 832.2       10.0
    >>> a.quartiers
           name  residents  share_green_0_5ha  share_green_1ha
    id
    Q1   Centre       40.0               0.75             0.75
    all     all       40.0               0.75             0.75
    """
    res = _layer(residences, "residences", "residences")
    gs = _layer(green_spaces, "green_spaces", "green_spaces")
    q = _layer(quartiers, "quartiers", "quartiers")
    rm = _metric(res, crs)
    qm = q.to_crs(rm.crs)
    sizes = [float(min_area_ha)] if isinstance(min_area_ha, int | float) else list(min_area_ha)
    geoms = _geoms(rm)
    parks = _parks(gs.to_crs(rm.crs), public_only=public_only, merge_adjacent=merge_adjacent)
    per = pd.DataFrame(index=_ids(res))
    for a in sizes:
        lab = _ha_label(a)
        d = _distance_to_parks(geoms, parks[parks["area_m2"] >= a * 1e4])
        per[f"green_{lab}_distance_m"] = d
        per[f"green_{lab}"] = np.nan_to_num(d, nan=np.inf) <= distance_m
    per["residents"] = _weights(res, persons_per_dwelling)
    per["quartier"] = _quartier_of(geoms, qm)
    flags = per[[f"green_{_ha_label(a)}" for a in sizes]]
    shares = _population_shares(flags, per["residents"].to_numpy(), per["quartier"].to_numpy(), qm)
    return ResidentShares(per, shares)
