"""Geographic sanity: every layer lies where its CRS says, and on the territory.

A Lambert-93 GeoJSON written without a CRS is read as degrees; a grid declared EPSG:3035 whose
coordinates are Lambert-93 lands in the sea. Both read without error and give figures of 0 %.
:func:`geography_problems` finds them before any figure is computed:

* coordinates outside the area of use of the declared CRS are an error;
* a layer whose extent does not meet the territory (the quartiers, else the communes, buffered
  by the walking distance) is an error;
* for both, the usual French CRSs (:data:`CANDIDATE_CRS`) are tried on the file's coordinates
  and the message says which one puts the layer on the territory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from cdv_geo.core.crs import choose_metric_crs, is_undefined_crs
from cdv_geo.core.errors import Problem

__all__ = [
    "CANDIDATE_CRS",
    "crs_candidates",
    "geography_problems",
    "network_problems",
    "outside_area_of_use",
    "reference_area",
]

#: The CRSs French files come in, tried in this order when a layer misses the territory:
#: Lambert-93, WGS84, ETRS89-LAEA (INSEE grids), the nine Lambert CC zones, Web Mercator and
#: the old Lambert II étendu.
CANDIDATE_CRS: tuple[int, ...] = (2154, 4326, 3035, *range(3942, 3951), 3857, 27572)

#: Tolerance around a CRS's area of use, in degrees: the CC zones are used a little outside
#: their band, and an extent may reach a few hundred metres offshore.
AREA_MARGIN_DEG = 0.5

#: The layers the territory is taken from, in order of preference.
REFERENCE_KINDS = ("quartiers", "communes")


def _label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else crs.name


def _extent_text(bounds: Sequence[float]) -> str:
    x0, y0, x1, y1 = (_num(float(v)) for v in bounds)
    return f"x {x0} to {x1}, y {y0} to {y1}"


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.5g}"


def _lonlat_bounds(bounds: Sequence[float], crs: CRS) -> tuple[float, float, float, float] | None:
    """Return the extent `bounds` (in `crs`) in longitude/latitude (None: not on Earth)."""
    x0, y0, x1, y1 = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return None
    if crs.is_geographic:
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            return None
        return x0, y0, x1, y1
    tr = Transformer.from_crs(crs, 4326, always_xy=True)
    out = tr.transform_bounds(x0, y0, x1, y1, densify_pts=5)
    if not all(math.isfinite(v) for v in out) or abs(out[1]) > 90 or abs(out[3]) > 90:
        return None
    return out


def outside_area_of_use(bounds: Sequence[float], crs: Any) -> bool:
    """Tell whether an extent (in `crs`) lies outside the area where `crs` is used.

    Examples
    --------
    >>> outside_area_of_use((728000, 6920000, 731000, 6923000), 2154)
    False
    >>> outside_area_of_use((728000, 6920000, 731000, 6923000), 4326)  # Lambert-93 as degrees
    True
    >>> outside_area_of_use((3.3, 49.37, 3.35, 49.39), 4326)
    False
    """
    c = CRS.from_user_input(crs)
    ll = _lonlat_bounds(bounds, c)
    if ll is None:
        return True
    area = c.area_of_use
    if area is None:
        return False
    m = AREA_MARGIN_DEG
    w, s, e, n = area.west - m, area.south - m, area.east + m, area.north + m
    if w > e:  # an area crossing the antimeridian: only the latitudes are checked
        return ll[1] < s or ll[3] > n
    return ll[0] < w or ll[2] > e or ll[1] < s or ll[3] > n


def reference_area(
    layers: Mapping[str, gpd.GeoDataFrame], *, buffer_m: float
) -> tuple[str, Any, CRS] | None:
    """Return the territory every layer must meet: ``(kind, buffered polygon, metric CRS)``.

    The quartiers (else the communes) whose coordinates lie in their CRS's area of use, merged
    and buffered by `buffer_m` metres in the metric CRS. None when no such layer is usable.

    Examples
    --------
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame(geometry=[box(728000, 6920000, 729000, 6921000)], crs=2154)
    >>> kind, area, crs = reference_area({"quartiers": q}, buffer_m=500)
    >>> kind, round(area.area / 1e6, 1), crs.to_epsg()
    ('quartiers', 3.8, 2154)
    """
    for kind in REFERENCE_KINDS:
        gdf = layers.get(kind)
        if gdf is None or gdf.empty or is_undefined_crs(gdf.crs):
            continue
        if outside_area_of_use(gdf.total_bounds, gdf.crs):
            continue
        metric = choose_metric_crs(gdf)
        union = shapely.union_all(np.asarray(gdf.to_crs(metric).geometry.array, dtype=object))
        return kind, union.buffer(buffer_m), metric
    return None


def _box_in(bounds: Sequence[float], src: CRS, dst: CRS) -> Any:
    """Return the extent `bounds` (in `src`) as a polygon in `dst` (None: not on Earth)."""
    if _lonlat_bounds(bounds, src) is None:
        return None
    tr = Transformer.from_crs(src, dst, always_xy=True)
    x0, y0, x1, y1 = (float(v) for v in bounds)
    out = tr.transform_bounds(x0, y0, x1, y1, densify_pts=11)
    if not all(math.isfinite(v) for v in out):
        return None
    return shapely.box(*out)


def crs_candidates(
    bounds: Sequence[float], area: Any, metric: CRS, *, exclude: Any = None
) -> list[str]:
    """Return the usual French CRSs that put an extent on the territory `area` (in `metric`).

    Each candidate of :data:`CANDIDATE_CRS` reads the file's raw coordinates `bounds`; it fits
    when the extent then lies in the candidate's area of use and meets `area`.

    Examples
    --------
    >>> from shapely import box
    >>> soissons = box(727000, 6919000, 732000, 6924000)  # Lambert-93 metres
    >>> crs_candidates((728000, 6920000, 729000, 6921000), soissons, CRS(2154), exclude=4326)
    ['EPSG:2154']
    """
    skip = CRS.from_user_input(exclude) if exclude is not None else None
    found: list[str] = []
    for code in CANDIDATE_CRS:
        cand = CRS.from_epsg(code)
        if skip is not None and cand.equals(skip, ignore_axis_order=True):
            continue
        if outside_area_of_use(bounds, cand):
            continue
        placed = _box_in(bounds, cand, metric)
        if placed is not None and placed.intersects(area):
            found.append(f"EPSG:{code}")
    return found


def _fix_hint(candidates: list[str], what: str) -> str:
    if not candidates:
        return (
            "; no usual French CRS (Lambert-93, WGS84, ETRS89-LAEA, CC42-CC50, Web Mercator, "
            "Lambert II) puts it there: check that it is the right file and its CRS"
        )
    first = candidates[0]
    others = f" (or {', '.join(candidates[1:])})" if len(candidates) > 1 else ""
    return (
        f"; these coordinates fall on {what} if read as {first}{others}: give the file its "
        f'true CRS (QGIS: Layer > Set CRS), or add crs = "{first}" to its entry in [layers] '
        "when the file names none"
    )


def _layer_problem(
    kind: str,
    gdf: gpd.GeoDataFrame,
    reference: tuple[str, Any, CRS] | None,
    buffer_m: float,
) -> Problem | None:
    src = gdf.attrs.get("source")
    crs = CRS.from_user_input(gdf.crs)
    bounds = gdf.total_bounds
    n = len(gdf)
    where = f"{n:,} feature{'s' if n > 1 else ''}, extent {_extent_text(bounds)} in {_label(crs)}"
    if outside_area_of_use(bounds, crs):
        area = crs.area_of_use
        # (an area's name lists every country of Europe for EPSG:3035: its first words suffice)
        use = f" ({area.name.split('.')[0].split(' - ')[0][:60]})" if area is not None else ""
        hint = ""
        if reference is not None:
            hint = _fix_hint(
                crs_candidates(bounds, reference[1], reference[2], exclude=crs),
                "the " + reference[0],
            )
        return Problem(
            f"coordinates outside the area where {_label(crs)}{use} is used ({where})" + hint,
            file=src,
            layer=kind,
        )
    if reference is None or kind == reference[0]:
        return None
    ref_kind, area, metric = reference
    placed = _box_in(bounds, crs, metric)
    if placed is None or placed.intersects(area):
        return None
    km = placed.distance(area) / 1000
    hint = _fix_hint(crs_candidates(bounds, area, metric, exclude=crs), f"the {ref_kind}")
    return Problem(
        f"layer lies {km:,.1f} km away from the {ref_kind} (buffered by {buffer_m:,.0f} m of "
        f"walking; {where})" + hint,
        file=src,
        layer=kind,
    )


def geography_problems(
    layers: Mapping[str, gpd.GeoDataFrame], *, buffer_m: float = 750.0
) -> list[Problem]:
    """Check that every layer lies where its CRS says and meets the territory.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        The layers by kind, as read (each with its CRS; ``attrs["source"]`` names the file).
    buffer_m : float, default 750
        The walking distance the territory is widened by (a facility 500 m outside a
        quartier still serves it).

    Returns
    -------
    list of Problem
        One per layer that is outside its CRS's area of use or off the territory, with the
        evidence (extent, distance) and the CRS that would put it on the territory.

    Examples
    --------
    >>> from shapely import Point, box
    >>> q = gpd.GeoDataFrame({"code": ["Q1"]}, crs=2154,
    ...                      geometry=[box(728000, 6920000, 729000, 6921000)])
    >>> f = gpd.GeoDataFrame(geometry=[Point(728500, 6920500)], crs=4326)  # no CRS: degrees
    >>> [p.message.split(";")[1].strip()[:60] for p in geography_problems(
    ...     {"quartiers": q, "facilities": f})]
    ['these coordinates fall on the quartiers if read as EPSG:2154']
    >>> geography_problems({"quartiers": q, "facilities": f.set_crs(2154, allow_override=True)})
    []
    """
    usable = {
        k: g
        for k, g in layers.items()
        if g is not None and not g.empty and not is_undefined_crs(g.crs)
    }
    reference = reference_area(usable, buffer_m=buffer_m)
    if reference is None:
        reference = _fallback_reference(usable, buffer_m)
    wide = _with_communes(reference, usable, buffer_m)
    problems: list[Problem] = []
    for kind, gdf in usable.items():
        if not np.isfinite(gdf.total_bounds).all():
            continue
        # (the communes must meet the quartiers; other layers the quartiers or the communes:
        # a town-centre layer far from every quartier still feeds the "hors QPV" rows)
        ref = reference if kind == "communes" else wide
        found = _layer_problem(kind, gdf, ref, buffer_m)
        if found is not None:
            problems.append(found)
    return problems


def _with_communes(
    reference: tuple[str, Any, CRS] | None,
    layers: Mapping[str, gpd.GeoDataFrame],
    buffer_m: float,
) -> tuple[str, Any, CRS] | None:
    """Return `reference` (the quartiers) widened by the communes when they are usable."""
    communes = layers.get("communes")
    if reference is None or reference[0] != "quartiers" or communes is None:
        return reference
    if outside_area_of_use(communes.total_bounds, communes.crs):
        return reference
    metric = reference[2]
    union = shapely.union_all(np.asarray(communes.to_crs(metric).geometry.array, dtype=object))
    area = shapely.union_all([reference[1], union.buffer(buffer_m)])
    return "quartiers or communes", area, metric


def _fallback_reference(
    layers: Mapping[str, gpd.GeoDataFrame], buffer_m: float
) -> tuple[str, Any, CRS] | None:
    """Return the extent of the other layers when the quartiers and communes are unusable.

    Their extents then tell which CRS would put the quartiers back among them.
    """
    good = [
        g
        for k, g in layers.items()
        if k not in REFERENCE_KINDS and not outside_area_of_use(g.total_bounds, g.crs)
    ]
    if not good:
        return None
    metric = choose_metric_crs(good[0])
    boxes = [_box_in(g.total_bounds, CRS.from_user_input(g.crs), metric) for g in good]
    parts = [b for b in boxes if b is not None]
    if not parts:
        return None
    return "other layers", shapely.union_all(parts).buffer(buffer_m), metric


def network_problems(
    layers: Mapping[str, gpd.GeoDataFrame],
    extracts: Mapping[str, tuple[str, Sequence[float] | None]],
    *,
    tolerance_m: float = 100.0,
) -> list[Problem]:
    """Check the walking network: one source only, and it covers every quartier.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        The layers by kind (``streets`` and ``quartiers`` are looked at).
    extracts : mapping of str to (str, extent)
        The ``[network]`` entries: name -> (file, its extent in degrees (west, south, east,
        north), or None when unknown).
    tolerance_m : float, default 100
        How far a quartier may reach beyond the network's extent.

    Returns
    -------
    list of Problem
        Two sources for the network (a ``streets`` layer and a ``[network]`` extract: which
        one would be used is not for the package to guess), and each source that leaves
        quartiers outside its extent (their homes would all be unreachable).

    Examples
    --------
    >>> from shapely import box
    >>> q = gpd.GeoDataFrame({"code": ["Q1", "Q2"], "name": ["Presles", "Chevreux"]}, crs=2154,
    ...     geometry=[box(728000, 6920000, 729000, 6921000), box(740000, 6920000, 741000, 6921000)])
    >>> w, s, e, n = gpd.GeoSeries([q.geometry[0]], crs=2154).to_crs(4326).total_bounds
    >>> [p.message[:63] for p in network_problems({"quartiers": q}, {"osm_xml": ("a.osm",
    ...     (w - 0.01, s - 0.01, e + 0.01, n + 0.01))})]
    ['the network extract covers only part of the territory: quartier']
    """
    problems: list[Problem] = []
    streets = layers.get("streets")
    if streets is not None and extracts:
        files = ", ".join(f"{k} = {Path(f).name}" for k, (f, _) in extracts.items())
        problems.append(
            Problem(
                f"two sources for the walking network: the streets layer "
                f"({Path(str(streets.attrs.get('source') or 'streets')).name}) and [network] "
                f"{files}; keep one: remove the streets entry of [layers] to walk on the "
                "OpenStreetMap extract, or the [network] section to walk on your own streets",
                layer="network",
            )
        )
    quartiers = layers.get("quartiers")
    if quartiers is None or quartiers.empty or is_undefined_crs(quartiers.crs):
        return problems
    if outside_area_of_use(quartiers.total_bounds, quartiers.crs):
        return problems  # (reported by geography_problems)
    metric = choose_metric_crs(quartiers)
    q = quartiers.to_crs(metric)
    sources: list[tuple[str, str, Any]] = []
    for name, (file, extent) in extracts.items():
        if extent is not None:
            sources.append((f"[network] {name}", file, _box_in(extent, CRS(4326), metric)))
    if streets is not None and not streets.empty and not is_undefined_crs(streets.crs):
        s_crs = CRS.from_user_input(streets.crs)
        placed = _box_in(streets.total_bounds, s_crs, metric)
        sources.append(("streets layer", str(streets.attrs.get("source") or ""), placed))
    for what, file, extent in sources:
        if extent is None:
            continue
        reach = extent.buffer(tolerance_m)
        out = [
            f"{name} ({code})"
            for code, name, geom in zip(q["code"], q["name"], q.geometry, strict=True)
            if not reach.contains(geom)
        ]
        if out:
            problems.append(
                Problem(
                    f"the network {'extract' if what.startswith('[') else 'layer'} covers only "
                    f"part of the territory: quartier(s) {', '.join(out)} reach beyond its "
                    f"extent ({_extent_text(extent.bounds)} in {_label(metric)}); their homes "
                    "and facilities would be unreachable. Extract a larger area (the communes "
                    "and 1 km around them)",
                    file=file or None,
                    layer="network" if what.startswith("[") else "streets",
                )
            )
    return problems
