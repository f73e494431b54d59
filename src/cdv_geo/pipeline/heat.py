"""The heat and water step of :func:`~cdv_geo.pipeline.compute_metrics` (issue 14).

Water play areas against street pooling: who lives within a short walk of a play area
(children), how hot the quartiers and their homes are, who can walk to a cool place, whether
hydrant incidents fell near the play areas after they opened, and where the next ones would
reach the most children. Each output whose inputs are missing is skipped with a
:class:`~cdv_geo.pipeline.Note` (topic ``heat`` or ``water``) saying what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.layers import feature_ids, quartier_codes
from cdv_geo.core.tables import COMPARISON_ROWS
from cdv_geo.pipeline.results import Metrics, Note
from cdv_geo.pipeline.run import RunLike, walk_options

__all__ = ["CHILDREN_WEIGHTS", "HEAT_OUTPUTS", "PLAY_KIND", "heat_raster", "step_heat"]

#: The outputs of this step (``compute_metrics(only=...)`` names).
HEAT_OUTPUTS = ("children_access", "heat_exposure", "cool_access", "incidents", "site_choice")
#: The facility kind of the water play areas.
PLAY_KIND = "water_play_area"
#: The residences' children columns, each a weight of the children tables.
CHILDREN_WEIGHTS = ("children", "children_3_10")


def heat_raster(t: Any) -> tuple[str, Path, int | None] | None:
    """Return the name, path and year of the territory's latest heat raster (``heat_<year>``).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> name, path, year = heat_raster(cg.datasets.soissons())
    >>> name, path.name, year
    ('heat_2023', 'heat_2023.tif', 2023)
    """
    found = []
    for name, path in t.rasters.items():
        mt = re.fullmatch(r"heat(?:_(\d{4}))?", name)
        if mt:
            found.append((name, Path(path), int(mt.group(1)) if mt.group(1) else None))
    if not found:
        return None
    return max(found, key=lambda f: -1 if f[2] is None else f[2])


def _note(m: Metrics, key: str, topic: str, text: str, **args: Any) -> None:
    note = Note(key, topic, text, args)
    if note not in m.notes:
        m.notes.append(note)


def _lacks(t: Any, m: Metrics, topic: str, what: str, *kinds: str) -> bool:
    """Note each layer of `kinds` the territory lacks; return True when one is missing."""
    miss = [k for k in kinds if getattr(t, k, None) is None]
    for kind in miss:
        _note(m, "missing_layer", topic, f"{what} skipped: no {kind} layer.", layer=kind)
    return bool(miss)


def _play_areas(t: Any, m: Metrics, what: str) -> gpd.GeoDataFrame | None:
    """Return the water play areas in the metric CRS, or None with a note."""
    if _lacks(t, m, "water", what, "facilities"):
        return None
    fac = t.metric("facilities")
    play = fac[fac["kind"] == PLAY_KIND]
    if play.empty:
        _note(
            m,
            "missing_kind",
            "water",
            f"{what} skipped: no facility of kind {PLAY_KIND!r}.",
            kind=PLAY_KIND,
        )
        return None
    return play


def _children_columns(t: Any, m: Metrics, what: str) -> list[str]:
    """Return the filled-in children columns of the residences (a note when there is none)."""
    res = t.residences
    cols = [c for c in CHILDREN_WEIGHTS if c in res.columns and res[c].notna().all()]
    if not cols:
        _note(
            m,
            "missing_field",
            "water",
            f"{what} skipped: the residences have no 'children' column (residents aged 0-17), "
            "or it has missing values.",
            field="children",
            layer="residences",
        )
    return cols


def _by_weight(q: gpd.GeoDataFrame, tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack coverage tables of several weights: index (quartier, kind, threshold_min, weight)."""
    out = pd.concat([tb.set_index("weight", append=True) for tb in tables])
    # the quartiers in layer order, then the comparison rows in the contract's order
    order = {str(c): i for i, c in enumerate([*quartier_codes(q), *COMPARISON_ROWS])}
    pos = [order.get(str(k), len(order)) for k in out.index.get_level_values("quartier")]
    out = out.iloc[np.argsort(pos, kind="stable")]
    if "reason" in out.columns:  # (only some weights may have one)
        out = out[[c for c in out.columns if c != "reason"] + ["reason"]]
    return out


def _children_access(t: Any, m: Metrics, run: RunLike, play: gpd.GeoDataFrame | None) -> None:
    from cdv_geo.metrics.access import coverage

    what = "Children's access to water play areas"
    if play is None or _lacks(t, m, "water", what, "quartiers", "residences"):
        return
    cols = _children_columns(t, m, what)
    if not cols:
        return
    q, res = t.metric("quartiers"), t.metric("residences")
    thresholds = list(t.settings.thresholds_min)
    tables = [
        coverage(
            res,
            play,
            q,
            threshold_min=thresholds,
            weight=w,
            communes=run.communes,
            **walk_options(t, m, run),
        )
        for w in cols
    ]
    m.children_access = _by_weight(q, tables)


def _heat_exposure(t: Any, m: Metrics, run: RunLike) -> None:
    from cdv_geo.metrics.heat import heat_exposure

    what = "Heat exposure"
    raster = heat_raster(t)
    if raster is None:
        _note(
            m,
            "missing_raster",
            "heat",
            f"{what} skipped: no raster named heat_<year> in [rasters].",
            name="heat_<year>",
        )
        return
    if _lacks(t, m, "heat", what, "quartiers"):
        return
    name, path, year = raster
    res = t.metric("residences") if t.residences is not None else None
    he = heat_exposure(
        t.metric("quartiers"),
        path,
        residences=res,
        units=t.raster_units.get(name),
        crs=run.crs,
        communes=run.communes,
    )
    table = he.quartiers
    table.attrs.update(raster=name, year=year)
    m.heat_exposure = table
    if res is not None:
        keep = [c for c in ("id", "population", *CHILDREN_WEIGHTS) if c in res.columns]
        homes = res[keep].join(he.residences, on="id")
        m.residences_heat = gpd.GeoDataFrame(homes, geometry=res.geometry.to_numpy(), crs=res.crs)
        m.residences_heat.attrs.update(units=he.units, hottest_threshold=he.threshold)


def _cool_access(t: Any, m: Metrics, run: RunLike) -> None:
    from cdv_geo.metrics.access import coverage
    from cdv_geo.metrics.heat import cool_places

    what = "Access to cool places"
    if _lacks(t, m, "heat", what, "quartiers", "residences"):
        return
    if t.facilities is None and t.green_spaces is None:
        _lacks(t, m, "heat", what, "facilities", "green_spaces")
        return
    cool = cool_places(
        t.metric("facilities") if t.facilities is not None else None,
        t.metric("green_spaces") if t.green_spaces is not None else None,
    )
    if cool.empty:
        _note(
            m,
            "missing_kind",
            "heat",
            f"{what} skipped: no cool place (water play area, fountain, public park of 0.5 ha).",
            kind="cool_place",
        )
        return
    cool = cool.assign(kind="cool_place")
    q, res = t.metric("quartiers"), t.metric("residences")
    weights = ["population"] if res["population"].notna().all() else ["dwellings"]
    weights += [c for c in CHILDREN_WEIGHTS[:1] if c in res.columns and res[c].notna().all()]
    thresholds = list(t.settings.thresholds_min)
    tables = [
        coverage(
            res,
            cool,
            q,
            threshold_min=thresholds,
            weight=w,
            communes=run.communes,
            **walk_options(t, m, run),
        )
        for w in weights
    ]
    m.cool_access = _by_weight(q, tables)


def _incidents(t: Any, m: Metrics, run: RunLike, play: gpd.GeoDataFrame | None) -> None:
    from cdv_geo.metrics.incidents import incidents_before_after

    what = "Incidents before and after the play areas"
    if _lacks(t, m, "water", what, "incidents") or play is None:
        return
    if "opened" not in play.columns or play["opened"].isna().all():
        _note(
            m,
            "missing_field",
            "water",
            f"{what} skipped: no water play area has an 'opened' date.",
            field="opened",
            layer="facilities",
        )
        return
    m.incidents = incidents_before_after(
        t.metric("incidents"),
        play,
        threshold_min=list(t.settings.thresholds_min),
        communes=run.communes,
        **walk_options(t, m, run),
    )


#: Farthest an incident may lie from a hydrant to be counted on it (without a ``hydrant`` field).
HYDRANT_SNAP_M = 50.0


def _hydrant_incidents(t: Any, m: Metrics) -> None:
    """Count the incidents of each hydrant: the ``hydrant`` field, else the nearest within 50 m."""
    from cdv_geo.metrics.incidents import COUNTED_TYPES

    if t.hydrants is None or t.incidents is None:
        return
    hyd, inc = t.metric("hydrants"), t.metric("incidents")
    if "type" in inc.columns:
        inc = inc[inc["type"].isin(COUNTED_TYPES)]
    ids = pd.Index(feature_ids(hyd).astype(str))
    named = inc["hydrant"].astype("string") if "hydrant" in inc.columns else None
    if named is not None and named.isin(ids).any():
        held = named[named.isin(ids)]
    else:
        near = gpd.sjoin_nearest(
            inc[["geometry"]],
            hyd[["geometry"]].assign(_hid=ids.to_numpy()),
            max_distance=HYDRANT_SNAP_M,
        )
        held = near[~near.index.duplicated()]["_hid"]
    counts = pd.Series(held.to_numpy()).value_counts()
    out = hyd[[c for c in ("id", "name") if c in hyd.columns] + ["geometry"]].copy()
    out["n_incidents"] = counts.reindex(ids).fillna(0).astype(int).to_numpy()
    m.hydrant_incidents = out


def _candidates(t: Any) -> gpd.GeoDataFrame | None:
    """Public green spaces and school yards (de-sealed areas of type ``school_yard``)."""
    parts = []
    if t.green_spaces is not None:
        gs = t.metric("green_spaces")
        if "public" in gs.columns:
            gs = gs[gs["public"].fillna(True).astype(bool)]
        parts.append(
            pd.DataFrame(
                {
                    "id": [f"green_space:{i}" for i in feature_ids(gs)],
                    "name": gs["name"].to_numpy() if "name" in gs.columns else None,
                    "site_type": "green_space",
                    "geometry": gs.geometry.to_numpy(),
                }
            )
        )
    if t.desealed_areas is not None:
        d = t.metric("desealed_areas")
        yards = d[d["site_type"] == "school_yard"] if "site_type" in d.columns else d.iloc[:0]
        parts.append(
            pd.DataFrame(
                {
                    "id": [f"school_yard:{i}" for i in feature_ids(yards)],
                    "name": yards["site"].to_numpy() if "site" in yards.columns else None,
                    "site_type": "school_yard",
                    "geometry": yards.geometry.to_numpy(),
                }
            )
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=t.metric_crs)


def _site_choice(t: Any, m: Metrics, run: RunLike, play: gpd.GeoDataFrame | None) -> None:
    from cdv_geo.metrics.siting import choose_sites

    what = "Site choice for new water play areas"
    if _lacks(t, m, "water", what, "residences") or not _children_columns(t, m, what):
        return
    cand = _candidates(t)
    if cand is None:
        _note(
            m,
            "missing_layer",
            "water",
            f"{what} skipped: no candidate site (public green spaces, school yards).",
            layer="green_spaces",
        )
        return
    res = t.metric("residences")
    demand = res[res["children"] > 0]
    threshold = float(min(t.settings.thresholds_min))
    k = max(1, min(int(t.settings.new_sites), len(cand)))
    also = {"incidents": t.metric("incidents")} if t.incidents is not None else None
    sc = choose_sites(
        cand,
        demand,
        k=k,
        weight="children",
        threshold_min=threshold,
        existing=play,
        also=also,
        **walk_options(t, m, run),
    )
    sites = sc.sites.rename(columns={"n_demand_covered": "n_children_covered"})
    types = cand.set_index("id")["site_type"]
    sites.insert(2, "site_type", types.reindex(sites.index).to_numpy())
    sites.attrs.update(
        threshold_min=threshold,
        k=k,
        n_children_covered=sc.covered,
        n_children_uncovered=sc.uncovered,
        status=sc.status,
    )
    m.site_choice = sites
    geoms = cand.set_index("id").geometry.reindex(sites.index)
    layer = sites.reset_index().assign(geometry=geoms.to_numpy())
    m.suggested_sites = gpd.GeoDataFrame(layer, geometry="geometry", crs=cand.crs)


def _service_areas(t: Any, m: Metrics, run: RunLike, play: gpd.GeoDataFrame) -> None:
    """Compute the play areas' service areas at the settings' walking times (for the maps)."""
    from cdv_geo.metrics.service_areas import service_areas

    s = t.settings
    minutes = sorted(s.thresholds_min)
    metres = [x * s.walking_speed_kmh * 1000 / 60 for x in minutes]
    areas = service_areas(
        play,
        network=m.network,
        thresholds_m=metres,
        kinds=[PLAY_KIND],
        max_snap_m=s.max_snap_m,
        crs=run.crs,
    )
    by_m = dict(zip(metres, minutes, strict=True))
    areas["threshold_min"] = [by_m.get(float(x), np.nan) for x in areas["threshold_m"]]
    m.water_service_areas = areas


def step_heat(t: Any, m: Metrics, run: RunLike) -> None:
    """Compute the heat and water outputs `run` wants into `m` (notes for what is missing)."""
    play = None
    if run.want("children_access", "incidents", "site_choice"):
        play = _play_areas(t, m, "Water play areas")
        if play is not None:
            _service_areas(t, m, run, play)
    if run.want("children_access"):
        _children_access(t, m, run, play)
    if run.want("heat_exposure"):
        _heat_exposure(t, m, run)
    if run.want("cool_access"):
        _cool_access(t, m, run)
    if run.want("incidents"):
        _incidents(t, m, run, play)
        _hydrant_incidents(t, m)
    if run.want("site_choice"):
        _site_choice(t, m, run, play)
