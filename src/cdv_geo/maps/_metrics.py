"""The metric results the maps show, computed once and shared by every committee map.

The maps only *show* metrics. Those they are not given come from
:func:`cdv_geo.pipeline.compute_metrics`, the one orchestrator of the metric modules, asked for
just what the maps draw. A metric whose inputs are absent (a layer, a raster, a table) is left
out with a note that the map prints under "Couches non affichées", so that a map still builds;
bad data raises a :class:`~cdv_geo.CdvGeoError`, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.pipeline import MAP_KEYS

__all__ = ["Note", "key_figures", "prepare_metrics"]

#: A note on something a map could not show: (label key, format arguments), as
#: :attr:`cdv_geo.pipeline.Metrics.skipped` records them. The arguments include ``topic``
#: (access, indicators, renewal, renaturation) so each map shows its own.
Note = tuple[str, dict[str, Any]]

#: The keys of the maps' metrics, each also an output name of ``compute_metrics(only=...)``.
_KEYS = MAP_KEYS


def prepare_metrics(
    territory: Any,
    metrics: Mapping[str, Any] | None = None,
    *,
    services: tuple[str, ...] = ("water_play_area",),
    keys: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Return the metric results the maps need, computing those not given.

    The missing ones are computed by :func:`cdv_geo.pipeline.compute_metrics`, with ``only=``
    the missing keys and ``breakdown=False`` (the maps show per-quartier totals), so that maps
    and report tables share one definition.

    Parameters
    ----------
    territory : Territory
        The contrat de ville.
    metrics : mapping, optional
        Results already computed, keyed as :meth:`cdv_geo.pipeline.Metrics.as_dict` returns
        them: ``network`` (a ``WalkNetwork``, or None for straight-line distances), ``nearest``
        (:func:`~cdv_geo.metrics.access.nearest_facility` of the residences), ``coverage``
        (:func:`~cdv_geo.metrics.access.coverage`), ``service_areas``
        (:func:`~cdv_geo.metrics.access.service_areas`), ``indicators``
        (:func:`~cdv_geo.metrics.indicators.read_indicators`), ``renewal_balance``, ``desealing``
        (:func:`~cdv_geo.metrics.renaturation.desealing_summary`), ``trees``
        (:func:`~cdv_geo.metrics.renaturation.tree_summary`), ``impervious`` (dict year ->
        :func:`~cdv_geo.metrics.renaturation.impervious_share` of the quartiers) and ``notes`` (a list
        of :data:`Note`). They are used as given; the input mapping is not modified.
    services : tuple of str
        Facility kinds whose service areas are computed.
    keys : sequence of str, optional
        The keys above to fill (default: all); a map asks only for those it draws.

    Returns
    -------
    dict
        The given keys, every key asked for (None, or ``{}`` for ``impervious``, when not
        computable) and
        ``notes``: the given notes followed by those of the computation, as
        ``(label key, arguments)`` saying what is missing.

    Raises
    ------
    CdvGeoError
        On bad data (see :func:`cdv_geo.pipeline.compute_metrics`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from cdv_geo import Territory
    >>> q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Centre"]},
    ...                      geometry=[box(0, 0, 500, 500)], crs=2154)
    >>> m = prepare_metrics(Territory("Exemple", quartiers=q))
    >>> m["nearest"] is None, m["notes"][0]
    (True, ('missing_layer', {'layer': 'residences', 'topic': 'access'}))
    """
    out: dict[str, Any] = dict(metrics or {})
    notes: list[Note] = list(out.get("notes", []))
    if keys is None:
        keys = _KEYS
    unknown = [k for k in keys if k not in _KEYS]
    if unknown:
        raise CdvGeoError(f"prepare_metrics: unknown key(s) {unknown}; use some of {_KEYS}")
    missing = [k for k in _KEYS if k in keys and k not in out]
    if missing:
        # imported here: report imports the maps lazily too, neither needs the other to load
        from cdv_geo.pipeline import compute_metrics

        computed = compute_metrics(
            territory, only=missing, service_kinds=services, breakdown=False
        ).as_dict()
        out.update({k: computed[k] for k in missing})
        notes += computed["notes"]
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
