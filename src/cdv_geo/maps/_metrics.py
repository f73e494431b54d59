"""The metric results the maps show, computed once and shared by every committee map.

The maps only *show* metrics: they come from the metric modules (``proximity``,
``renaturation``, ``renewal``, ``indicators``), imported lazily. A metric that cannot be
computed -- its module missing, a layer absent, an error in the data -- is left out with a note
that the map prints in its legend or panel, so that a map always builds.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo._errors import CdvGeoError

__all__ = ["Note", "key_figures", "prepare_metrics"]

#: A note on something a map could not show: (label key, format arguments). The arguments
#: include ``topic`` (access, indicators, renewal, renaturation) so each map shows its own.
Note = tuple[str, dict[str, Any]]

_KEYS = (
    "network",
    "nearest",
    "coverage",
    "service_areas",
    "indicators",
    "renewal_balance",
    "desealing",
    "trees",
    "impervious",
)


def _module(name: str) -> Any:
    return importlib.import_module(f"cdv_geo.{name}")


def _note_module(notes: list[Note], what: str, module: str, exc: BaseException, topic: str) -> None:
    notes.append(
        ("missing_module", {"what": what, "module": module, "error": _short(exc), "topic": topic})
    )


def _note_error(notes: list[Note], what: str, exc: BaseException, topic: str) -> None:
    notes.append(("missing_metric", {"what": what, "error": _short(exc), "topic": topic}))


def _short(exc: BaseException) -> str:
    lines = [x.strip(" -") for x in str(exc).strip().splitlines() if x.strip()]
    # "N problems in file:" alone says nothing: keep the first problem with it.
    text = " ".join(lines[:2]) if lines else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def prepare_metrics(
    territory: Any,
    metrics: Mapping[str, Any] | None = None,
    *,
    services: tuple[str, ...] = ("water_play_area",),
) -> dict[str, Any]:
    """Return the metric results the maps need, computing those not given.

    Parameters
    ----------
    territory : Territory
        The contrat de ville.
    metrics : mapping, optional
        Results already computed, by key: ``network`` (a ``WalkNetwork``, or None for
        straight-line distances), ``nearest`` (:func:`~cdv_geo.proximity.nearest_facility`
        of the residences), ``coverage`` (:func:`~cdv_geo.proximity.coverage`),
        ``service_areas`` (:func:`~cdv_geo.proximity.service_areas`), ``indicators``
        (:func:`~cdv_geo.indicators.read_indicators`), ``renewal_balance``, ``desealing``
        (:func:`~cdv_geo.renaturation.desealing_summary` with ``by=None``), ``trees``
        (:func:`~cdv_geo.renaturation.tree_summary` with ``by=None``), ``impervious``
        (dict year -> :func:`~cdv_geo.renaturation.impervious_share` of the quartiers).
        They are used as given; the input mapping is not modified.
    services : tuple of str
        Facility kinds whose service areas are computed.

    Returns
    -------
    dict
        Every key above (None when not computable) and ``notes``: a list of
        ``(label key, arguments)`` saying what is missing and why.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from cdv_geo import Territory
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"]},
    ...                      geometry=[box(0, 0, 500, 500)], crs=2154)
    >>> m = prepare_metrics(Territory("Exemple", quartiers=q))
    >>> m["nearest"] is None, m["notes"][0][0]
    (True, 'missing_layer')
    """
    out: dict[str, Any] = dict(metrics or {})
    notes: list[Note] = list(out.get("notes", []))
    t = territory
    settings = t.settings
    speed = float(settings.walking_speed_kmh)
    snap = float(settings.max_snap_m)

    # --- walking network: None means straight-line distances, which the maps label as such
    if "network" not in out:
        out["network"] = None
        if t.streets is not None:
            try:
                net_mod = _module("network")
                out["network"] = net_mod.WalkNetwork.from_lines(t.streets, crs=settings.crs)
            except ImportError as exc:
                _note_module(
                    notes, "réseau piéton / walking network", "cdv_geo.network", exc, "access"
                )
            except Exception as exc:
                _note_error(notes, "réseau piéton / walking network", exc, "access")
    net = out["network"]

    proximity = None
    needs_prox = any(k not in out for k in ("nearest", "coverage", "service_areas"))
    if needs_prox:
        try:
            proximity = _module("proximity")
        except ImportError as exc:
            _note_module(notes, "accessibilité / accessibility", "cdv_geo.proximity", exc, "access")

    have_res = t.residences is not None
    have_fac = t.facilities is not None
    if "nearest" not in out:
        out["nearest"] = None
        if not (have_res and have_fac):
            missing = "residences" if not have_res else "facilities"
            notes.append(("missing_layer", {"layer": missing, "topic": "access"}))
        elif proximity is not None:
            try:
                out["nearest"] = proximity.nearest_facility(
                    t.residences, t.facilities, network=net, speed_kmh=speed, max_snap_m=snap
                )
            except Exception as exc:
                _note_error(notes, "temps d'accès / walking times", exc, "access")
    if "coverage" not in out:
        out["coverage"] = None
        if have_res and have_fac and t.quartiers is not None and proximity is not None:
            try:
                out["coverage"] = proximity.coverage(
                    t.residences,
                    t.facilities,
                    t.quartiers,
                    network=net,
                    threshold_min=list(settings.thresholds_min),
                    speed_kmh=speed,
                    max_snap_m=snap,
                )
            except Exception as exc:
                _note_error(notes, "couverture / coverage", exc, "access")
    if "service_areas" not in out:
        out["service_areas"] = None
        if have_fac:
            present = [k for k in services if k in set(t.facilities["kind"])]
            if present and proximity is not None:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        out["service_areas"] = proximity.service_areas(
                            t.facilities,
                            network=net,
                            thresholds_m=list(settings.service_area_m),
                            by="kind",
                            kinds=present,
                            max_snap_m=snap,
                        )
                except Exception as exc:
                    _note_error(notes, "zones de desserte / service areas", exc, "access")

    # --- indicators table
    if "indicators" not in out:
        out["indicators"] = None
        path = t.tables.get("indicators")
        if path is None:
            notes.append(("missing_table", {"name": "indicators", "topic": "indicators"}))
        else:
            try:
                out["indicators"] = _module("indicators").read_indicators(path)
            except ImportError as exc:
                _note_module(
                    notes, "indicateurs / indicators", "cdv_geo.indicators", exc, "indicators"
                )
            except Exception as exc:
                _note_error(notes, "indicateurs / indicators", exc, "indicators")

    # --- per-quartier summaries for the key figures
    q = t.quartiers
    if "renewal_balance" not in out:
        out["renewal_balance"] = None
        if q is not None and t.renewal_sites is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out["renewal_balance"] = _module("renewal").renewal_balance(
                        t.renewal_sites, q, by=(), residences=t.residences, crs=settings.crs
                    )
            except Exception as exc:
                _note_error(notes, "bilan NPNRU / renewal balance", exc, "renewal")
    for key, fn, layer in (
        ("desealing", "desealing_summary", t.desealed_areas),
        ("trees", "tree_summary", t.tree_plantings),
    ):
        if key not in out:
            out[key] = None
            if q is not None and layer is not None:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        out[key] = getattr(_module("renaturation"), fn)(
                            layer, q, by=None, crs=settings.crs
                        )
                except Exception as exc:
                    _note_error(notes, key, exc, "renaturation")
    if "impervious" not in out:
        out["impervious"] = {}
        rasters = {k: v for k, v in t.rasters.items() if k.startswith("impervious")}
        if q is not None and rasters:
            for name, path in sorted(rasters.items()):
                try:
                    share = _module("renaturation").impervious_share(q, path, crs=settings.crs)
                    out["impervious"][name.rsplit("_", 1)[-1]] = share
                except Exception as exc:
                    _note_error(notes, name, exc, "renaturation")
    out["notes"] = notes
    return out


def _by_quartier(table: pd.DataFrame | None, column: str, ids: pd.Index) -> pd.Series:
    """Return a column of a per-quartier table (index: quartier id), aligned on `ids`."""
    if table is None or column not in table.columns:
        return pd.Series(np.nan, index=ids, dtype="float64")
    s = table[column]
    if isinstance(s.index, pd.MultiIndex):  # (id, by...): keep the quartier total rows
        rest = [s.index.get_level_values(i) for i in range(1, s.index.nlevels)]
        keep = np.logical_and.reduce([np.asarray(r.astype(str) == "all") for r in rest])
        s = s[keep].droplevel(list(range(1, s.index.nlevels)))
    s = s.copy()
    s.index = s.index.astype(str)
    return pd.to_numeric(s.reindex(ids), errors="coerce")


def key_figures(
    territory: Any,
    metrics: Mapping[str, Any] | None = None,
    *,
    service: str = "water_play_area",
) -> pd.DataFrame:
    """Key figures per quartier, as the committee maps show them.

    Parameters
    ----------
    territory : Territory
        With a ``quartiers`` layer.
    metrics : mapping, optional
        Output of :func:`prepare_metrics` (computed when omitted).
    service : str
        Facility kind of the coverage column.

    Returns
    -------
    pandas.DataFrame
        Indexed by quartier ``id``: ``code``, ``name``, ``population``, ``facilities``
        (facilities inside), ``coverage`` (share of residents within the first walking-time
        threshold of `service`), ``demolished``, ``rebuilt`` (compensating the quartier,
        wherever built), ``received`` (built in it for another quartier), ``rehabilitated``,
        ``desealed_m2``, ``trees``, and ``impervious_<year>`` for each imperviousness raster.
        ``attrs["threshold_min"]`` holds the coverage threshold, ``attrs["notes"]`` the notes.

    Raises
    ------
    CdvGeoError
        If the territory has no quartiers layer.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> from cdv_geo import Territory
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"], "population": [900]},
    ...                      geometry=[box(0, 0, 500, 500)], crs=2154)
    >>> f = gpd.GeoDataFrame({"name": ["CCAS"], "kind": ["ccas"]},
    ...                      geometry=[Point(100, 100)], crs=2154)
    >>> k = key_figures(Territory("Exemple", quartiers=q, facilities=f))
    >>> k[["name", "population", "facilities"]]
          name  population  facilities
    id
    Q1  Centre         900           1
    """
    t = territory
    if t.quartiers is None:
        raise CdvGeoError(
            f"territory {getattr(t, 'name', '')!r} has no quartiers layer: key figures are per "
            "quartier; add one under [layers] in the project file"
        )
    m = prepare_metrics(t, metrics, services=(service,)) if metrics is None else dict(metrics)
    q = t.quartiers
    ids = pd.Index(q["id"].astype(str), name="id")
    out = pd.DataFrame(index=ids)
    out["code"] = q["code"].astype(str).to_numpy()
    out["name"] = q["name"].astype(str).to_numpy()
    pop = pd.to_numeric(q["population"], errors="coerce") if "population" in q.columns else None
    out["population"] = (
        pop.astype("Int64").to_numpy() if pop is not None else pd.array([pd.NA] * len(q))
    )
    if t.facilities is not None:
        out["facilities"] = _count_inside(t.facilities, q, t.settings.crs).to_numpy()
    else:
        out["facilities"] = pd.array([pd.NA] * len(q), dtype="Int64")
    cov = m.get("coverage")
    threshold = None
    out["coverage"] = np.nan
    if isinstance(cov, pd.DataFrame) and {"code", "kind", "share"} <= set(cov.columns):
        rows = cov[cov["kind"] == service]
        if "threshold_min" in rows.columns and len(rows):
            threshold = float(rows["threshold_min"].min())
            rows = rows[rows["threshold_min"] == threshold]
        share = pd.Series(rows["share"].to_numpy(), index=rows["code"].astype(str).to_numpy())
        share = share[~share.index.duplicated()]
        out["coverage"] = pd.to_numeric(share.reindex(out["code"]), errors="coerce").to_numpy()
    rb = m.get("renewal_balance")
    for col in ("demolished", "rebuilt", "received", "rehabilitated"):
        out[col] = _by_quartier(rb, col, ids).to_numpy()
    out["desealed_m2"] = _by_quartier(m.get("desealing"), "desealed_m2", ids).to_numpy()
    out["trees"] = _by_quartier(m.get("trees"), "trees", ids).to_numpy()
    for year, table in sorted((m.get("impervious") or {}).items()):
        out[f"impervious_{year}"] = _by_quartier(table, "impervious_share", ids).to_numpy()
    out.attrs["threshold_min"] = threshold
    out.attrs["service"] = service
    out.attrs["notes"] = list(m.get("notes", []))
    return out


def _count_inside(points: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame, crs: Any) -> pd.Series:
    """Count the features of `points` (a point inside polygons) in each quartier."""
    q = quartiers.to_crs(crs)
    p = points.to_crs(crs)
    pts = gpd.GeoDataFrame(geometry=p.geometry.representative_point(), crs=crs)
    joined = gpd.sjoin(pts, q[["geometry"]], how="inner", predicate="within")
    counts = joined.groupby("index_right").size()
    return pd.Series(counts.reindex(range(len(q)), fill_value=0).to_numpy(), index=q.index)
