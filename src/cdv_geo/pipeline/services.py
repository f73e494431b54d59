"""The services step of :func:`~cdv_geo.pipeline.compute_metrics` (issue 25).

Access that counts what the walking time to the nearest facility ignores: the services'
**capacity** (floating catchments, E2SFCA as the DREES APL:
:func:`cdv_geo.metrics.catchment.floating_catchment`), their **opening hours** and permanences
(:func:`cdv_geo.metrics.opening_hours.opening_access`), and the **commercial centres**: the
share of each quartier's residents its own centres retain (Huff model,
:func:`cdv_geo.metrics.huff.huff`) and the retail density
(:func:`cdv_geo.metrics.huff.retail_density`). The project's ``[services]`` section says which
kinds and parameters (:class:`cdv_geo.territory.ServiceSettings`); by default the kinds whose
facilities have a capacity, and those that have opening hours.

Every output is measured on the run's walking network and the residences' population (where
people live is what a catchment shares out); the resident counts shown and the retail density's
denominator are the run's one population (:attr:`Metrics.population
<cdv_geo.pipeline.Metrics>`), with its ``population_source``. A project without capacities,
opening hours or shops gets a note (topic ``services``) for each output left out, never an
error; a facility of a measured kind without a value is left out with a warning saying which.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.assign import assign_quartier
from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning
from cdv_geo.core.layers import feature_ids
from cdv_geo.pipeline.results import Metrics, Note
from cdv_geo.pipeline.run import RunLike, walk_options

__all__ = [
    "CAPACITY_OUTPUTS",
    "CENTRE_OUTPUTS",
    "HOURS_OUTPUTS",
    "SERVICE_OUTPUTS",
    "step_services",
]

#: The outputs of the floating catchments, of the opening hours and of the commercial centres.
CAPACITY_OUTPUTS = ("capacity_access",)
HOURS_OUTPUTS = ("open_hours", "open_moments", "opening_strip")
CENTRE_OUTPUTS = ("retail_density", "commercial_catchment")
#: The outputs of this step (``compute_metrics(only=...)`` names).
SERVICE_OUTPUTS = (*CAPACITY_OUTPUTS, *HOURS_OUTPUTS, *CENTRE_OUTPUTS)
TOPIC = "services"


def _note(m: Metrics, key: str, text: str, **args: Any) -> None:
    note = Note(key, TOPIC, text, args)
    if note not in m.notes:
        m.notes.append(note)


def _kinds_with(fac: gpd.GeoDataFrame, column: str) -> list[str]:
    """Return the kinds some of whose facilities have a value in `column`, in the layer's order."""
    if column not in fac.columns:
        return []
    has = fac[column].notna() & (fac[column].astype(str).str.strip() != "")
    return list(dict.fromkeys(str(k) for k in fac.loc[has, "kind"].dropna()))


def _present(fac: gpd.GeoDataFrame) -> list[str]:
    """Return the kinds of `fac`, in the layer's order."""
    return list(dict.fromkeys(str(k) for k in fac["kind"].dropna()))


def _chosen(
    m: Metrics,
    fac: gpd.GeoDataFrame,
    asked: Sequence[str] | None,
    column: str,
    what: str,
    *,
    leave_out: bool = True,
) -> tuple[gpd.GeoDataFrame, list[str]] | None:
    """Return the facilities of the kinds measured that have a `column` value, and the kinds.

    `asked` None: every kind with a value. A kind asked for without any facility gets a
    ``missing_kind`` note; a facility of a measured kind without a value is left out with a
    warning naming it (a missing capacity is not a capacity of 0), or kept with
    ``leave_out=False`` (a service without opening hours: the metric counts it, never open).
    """
    kinds = list(asked) if asked is not None else _kinds_with(fac, column)
    if asked is None and not kinds:
        _note(
            m,
            "missing_field",
            f"{what} skipped: no facility has a {column!r} value.",
            field=column,
            layer="facilities",
        )
        return None
    present = set(map(str, fac["kind"].dropna()))
    for kind in kinds:
        if kind not in present:
            _note(m, "missing_kind", f"{what}: no facility of kind {kind!r}.", kind=kind)
    kinds = [k for k in kinds if k in present]
    of_kinds = fac[fac["kind"].astype(str).isin(kinds)]
    has = (
        of_kinds[column].notna() & (of_kinds[column].astype(str).str.strip() != "")
        if column in of_kinds.columns
        else pd.Series(False, index=of_kinds.index)
    )
    if (~has).any() and leave_out:
        left = of_kinds.loc[~has]
        names = ", ".join(
            f"{i} ({n})" if isinstance(n, str) and n else str(i)
            for i, n in zip(
                feature_ids(left)[:10], left.get("name", [None] * len(left)), strict=False
            )
        )
        warnings.warn(
            f"{what}: {len(left)} facilit{'y' if len(left) == 1 else 'ies'} of the kinds measured "
            f"without {column!r} left out ({names}{', ...' if len(left) > 10 else ''}); give "
            f"the {column} of each, or name the kinds to measure in [services]",
            CdvGeoWarning,
            stacklevel=3,
        )
    valued = of_kinds[has]
    for kind in [k for k in kinds if not (valued["kind"].astype(str) == k).any()]:
        if asked is not None:  # (a kind named in [services] whose facilities have no value)
            _note(
                m,
                "missing_field",
                f"{what}: no facility of kind {kind!r} has a {column!r} value.",
                field=column,
                layer="facilities",
            )
    kinds = [k for k in kinds if (valued["kind"].astype(str) == k).any()]
    kept = valued if leave_out else of_kinds[of_kinds["kind"].astype(str).isin(kinds)]
    if not kinds:
        if asked is not None:
            _note(
                m,
                "missing_field",
                f"{what} skipped: no facility of the kinds asked for has a {column!r} value.",
                field=column,
                layer="facilities",
            )
        return None
    return kept, kinds


def _capacity_found(t: Any, m: Metrics) -> tuple[gpd.GeoDataFrame, list[str]] | None:
    return _chosen(
        m, t.metric("facilities"), t.services.capacity_kinds, "capacity", "Capacity access"
    )


def _hours_found(t: Any, m: Metrics) -> tuple[gpd.GeoDataFrame, list[str]] | None:
    return _chosen(
        m, t.metric("facilities"), t.services.hours_kinds, "opening_hours", "Opening hours",
        leave_out=False,
    )  # fmt: skip


def _limits(t: Any) -> tuple[float, float] | None:
    """Return the capacity's last band and the opening hours' reach (None: bad bands)."""
    from cdv_geo.metrics.catchment import APL_BANDS

    s = t.services
    try:
        return float(list(s.bands or APL_BANDS)[-1][0]), float(s.within_min)
    except (TypeError, ValueError, IndexError, KeyError):
        return None  # (floating_catchment says what is wrong with them)


def _shared_times(
    t: Any, m: Metrics, run: RunLike, homes: gpd.GeoDataFrame, cap: Any, hrs: Any
) -> tuple[Any, Any]:
    """One walking-time matrix for the capacity and the opening hours (the same layer).

    Computed once on the facilities either measures, up to the larger of their limits, then
    each gets its facilities' columns; (None, None) when only one is measured (it computes its
    own) or when the facilities' index cannot match the two sets.
    """
    from cdv_geo.metrics.catchment_times import travel_times

    fac = t.metric("facilities")
    limits = _limits(t)
    if cap is None or hrs is None or limits is None or not fac.index.is_unique:
        return None, None
    either = fac.index.isin(cap[0].index) | fac.index.isin(hrs[0].index)
    both = fac[either]
    tt = travel_times(homes, both, max_time_min=max(limits), **walk_options(t, m, run))
    return (
        tt.columns(both.index.get_indexer(cap[0].index)),
        tt.columns(both.index.get_indexer(hrs[0].index)),
    )


def _capacity(
    t: Any, m: Metrics, run: RunLike, homes: gpd.GeoDataFrame, q: Any, found: Any, times: Any
) -> Any:
    from cdv_geo.metrics.catchment import APL_BANDS, floating_catchment
    from cdv_geo.metrics.population import on_population

    s = t.services
    if found is None:
        return None
    fac, kinds = found
    c = floating_catchment(
        homes,
        fac,
        q,
        kinds=kinds,
        method=s.method,
        bands=s.bands or APL_BANDS,
        supply="capacity",
        times=times,
        communes=run.communes,
        **walk_options(t, m, run),
    )
    table = c.table if m.population is None else on_population(c.table, m.population)
    table.attrs.update(method=s.method, bands=[list(b) for b in (s.bands or APL_BANDS)])
    m.capacity_access = table
    return c.homes


def _hours(
    t: Any, m: Metrics, run: RunLike, homes: gpd.GeoDataFrame, q: Any, found: Any, times: Any
) -> Any:
    from cdv_geo.metrics.opening_hours import DEFAULT_MOMENTS, opening_access
    from cdv_geo.metrics.population import on_population

    s = t.services
    if found is None:
        return None
    fac, kinds = found
    r = opening_access(
        homes,
        fac,
        q,
        kinds=kinds,
        within_min=s.within_min,
        moments=dict(s.moments or DEFAULT_MOMENTS),
        times=times,
        communes=run.communes,
        **walk_options(t, m, run),
    )
    # (n_facilities: of the kind, not in the quartier as the key figures' column counts them)
    hours = r.hours.rename(columns={"n_facilities": "n_facilities_of_kind"})
    m.open_hours = hours if m.population is None else on_population(hours, m.population)
    m.open_moments = r.moments
    m.opening_strip = r.strip
    for table in (m.open_hours, m.open_moments, m.opening_strip):
        table.attrs.update(within_min=s.within_min)
    return r.homes


def _column(fac: gpd.GeoDataFrame, name: str | None, key: str) -> str | None:
    """Return the facilities' column `name` of ``[services] key`` (a French alias accepted)."""
    if name is None or name in fac.columns:
        return name
    from cdv_geo.schema import SCHEMAS, compact_token

    token = compact_token(name)
    for f in SCHEMAS["facilities"].fields:
        if token in {compact_token(a) for a in (f.name, *f.aliases)} and f.name in fac.columns:
            return f.name
    raise CdvGeoError(
        f"[services] {key} = {name!r}: the facilities have no such column; use one of "
        f'{", ".join(c for c in fac.columns if c != "geometry")}, or "count"'
    )


def _of_kinds(
    m: Metrics, t: Any, kinds: Sequence[str], setting: str, key: str, what: str, default: str
) -> tuple[gpd.GeoDataFrame, str | None] | None:
    """Return the facilities of `kinds` and the column `setting` names (None: "count"), or None.

    None after a note: no facility of the kinds, or none with a value in the column (a
    facility without one is said and left out).
    """
    fac = t.metric("facilities")
    chosen = fac[fac["kind"].astype(str).isin(kinds)]
    if chosen.empty:
        _note(
            m,
            "missing_kind",
            f"{what} skipped: no facility of kind {' or '.join(map(repr, kinds))}.",
            kind=kinds[0] if kinds else default,
        )
        return None
    column = _column(fac, setting, key)
    if column is not None:
        found = _chosen(m, chosen, _present(chosen), column, what)
        if found is None:
            return None
        chosen = found[0]
    return chosen, column


def _centres(t: Any, m: Metrics, run: RunLike, homes: gpd.GeoDataFrame, q: Any) -> Any:
    from cdv_geo.metrics.huff import huff
    from cdv_geo.metrics.population import on_population

    s = t.services
    picked = _of_kinds(
        m,
        t,
        s.centre_kinds,
        s.attractiveness,
        "attractiveness",
        "Commercial catchment",
        "commercial_centre",
    )
    if picked is None:
        return None
    centres, column = picked
    h = huff(
        homes,
        centres,
        q,
        attractiveness=column,
        alpha=s.alpha,
        beta=s.beta,
        max_time_min=s.max_time_min,
        communes=run.communes,
        **walk_options(t, m, run),
    )
    table = h.table if m.population is None else on_population(h.table, m.population)
    table.attrs.update(alpha=s.alpha, beta=s.beta, attractiveness=column or "count")
    m.commercial_catchment = table
    named = centres.assign(_id=feature_ids(centres).astype(str)).set_index("_id")
    out = h.centres.copy()
    out.insert(0, "name", named["name"].reindex(out.index).to_numpy())
    out.insert(1, "kind", named["kind"].reindex(out.index).to_numpy())
    if "illustrative" in named.columns:
        flag = named["illustrative"].reindex(out.index)  # (read as 1.0 / NaN from GeoJSON)
        out["illustrative"] = flag.fillna(False).astype(bool).to_numpy()
    geoms = named.geometry.reindex(out.index)
    points = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
    m.commercial_centres = gpd.GeoDataFrame(
        out.reset_index(), geometry=points.to_numpy(), crs=centres.crs
    )
    homes_out = h.homes.copy()
    homes_out.insert(
        1, "main_centre_name", named["name"].reindex(homes_out["main_centre"]).to_numpy()
    )
    return homes_out


def _density(t: Any, m: Metrics, run: RunLike, homes: gpd.GeoDataFrame, q: Any) -> None:
    from cdv_geo.metrics.huff import retail_density
    from cdv_geo.metrics.population import on_population

    s = t.services
    picked = _of_kinds(
        m, t, s.shop_kinds, s.density_weight, "density_weight", "Retail density", "shop"
    )
    if picked is None:
        return
    shops, column = picked
    table = retail_density(shops, homes, q, weight=column, communes=run.communes)
    if m.population is not None:
        # shops per 1,000 of the run's one population (the pack's residents of each row)
        table = on_population(table, m.population)
        n = table["n_residents"].to_numpy(dtype=float)
        per = np.divide(
            table["shops_weight"].to_numpy(dtype=float) * 1000.0,
            n,
            out=np.full(len(n), np.nan),
            where=n > 0,
        )
        table["per_1000_inhabitants"] = per
    m.retail_density = table


def _layer(t: Any, m: Metrics, homes: gpd.GeoDataFrame, q: Any, parts: list[pd.DataFrame]) -> None:
    """Build ``residences_services``: access per 10,000, open hours, main centre (the map)."""
    ids = pd.Index(feature_ids(homes).astype(str), name="id")
    out = pd.DataFrame(
        {
            "id": ids,
            "quartier": assign_quartier(homes, q).to_numpy(),
            "population": homes["population"].to_numpy(dtype=float),
        },
        index=ids,
    )
    for part in parts:
        part = part.copy()
        part.index = part.index.astype(str)
        out = out.join(part)
    m.residences_services = gpd.GeoDataFrame(
        out.reset_index(drop=True), geometry=homes.geometry.to_numpy(), crs=homes.crs
    )


def step_services(t: Any, m: Metrics, run: RunLike) -> None:
    """Compute the capacity, opening-hours and commercial-centre outputs `run` wants into `m`.

    Missing layers, capacities, opening hours or shops leave their outputs None with a note
    (topic ``services``): ``missing_layer``, ``missing_field`` (no facility has the value) or
    ``missing_kind`` (no facility of a kind named). The layers ``residences_services`` and
    ``commercial_centres`` come with the tables they are made from.

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = cg.compute_metrics(cg.datasets.soissons(), only=["capacity_access"])
    >>> m.capacity_access.index.names
    FrozenList(['quartier', 'kind'])
    >>> "health_centre_access_per_10k" in m.residences_services.columns
    True
    """
    missing = [k for k in ("quartiers", "residences", "facilities") if getattr(t, k) is None]
    if missing:
        for kind in missing:
            _note(m, "missing_layer", f"Services skipped: no {kind} layer.", layer=kind)
        return
    homes = t.metric("residences")
    if "population" not in homes.columns or homes["population"].isna().any():
        _note(
            m,
            "missing_field",
            "Services skipped: the residences have no population, or some have none.",
            field="population",
            layer="residences",
        )
        return
    q = t.metric("quartiers")
    parts: list[pd.DataFrame] = []
    # the capacity and the opening hours measure the facilities layer: one matrix of walking
    # times for both, up to the larger limit (the commercial centres get their own)
    cap = _capacity_found(t, m) if run.want(*CAPACITY_OUTPUTS) else None
    hrs = _hours_found(t, m) if run.want(*HOURS_OUTPUTS) else None
    cap_times, hrs_times = _shared_times(t, m, run, homes, cap, hrs)
    for part in (
        _capacity(t, m, run, homes, q, cap, cap_times),
        _hours(t, m, run, homes, q, hrs, hrs_times),
        _centres(t, m, run, homes, q) if run.want("commercial_catchment") else None,
    ):
        if part is not None:
            parts.append(part)
    if run.want("retail_density"):
        _density(t, m, run, homes, q)
    if parts:
        _layer(t, m, homes, q, parts)
