"""Compute every metric of one territory, once, in one CRS: :func:`compute_metrics`."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.pipeline.actions import ACTION_OUTPUTS, step_actions
from cdv_geo.pipeline.evaluation import EVALUATION_OUTPUTS, step_evaluation
from cdv_geo.pipeline.heat import HEAT_OUTPUTS, step_heat
from cdv_geo.pipeline.notes import warning_note
from cdv_geo.pipeline.population import indicator_table, step_population
from cdv_geo.pipeline.results import TABLES, Metrics, Note
from cdv_geo.pipeline.run import walk_options
from cdv_geo.pipeline.services import SERVICE_OUTPUTS, step_services
from cdv_geo.schema import FACILITY_KINDS
from cdv_geo.territory import Territory

__all__ = ["Progress", "compute_metrics"]

log = logging.getLogger("cdv_geo")

#: ``progress(iterable, description)``: wraps the steps of a run (the CLI passes a progress bar).
Progress = Callable[[Iterable[Any], str], Iterable[Any]]


def _identity(items: Iterable[Any], desc: str) -> Iterable[Any]:
    return items


#: What `only` may name besides the tables of :data:`TABLES`.
_OUTPUTS_EXTRA = ("network", "service_areas")
#: Outputs computed along with the one requested, because it is made from them.
_NEEDS: dict[str, tuple[str, ...]] = {
    "key_figures": (
        "coverage",
        "renewal_balance",
        "desealing",
        "trees",
        "impervious",
        "impervious_change",
    ),
    "indicator_gaps": ("indicators",),
    "indicator_trend": ("indicators",),
}
#: The tables that divide by the population: they all take the one population of the run.
_BY_POPULATION = ("trees", "key_figures", "ledger", *SERVICE_OUTPUTS)


@dataclass(frozen=True)
class _Run:
    """What one :func:`compute_metrics` call computes, and in which CRS."""

    wanted: frozenset[str]
    service_kinds: tuple[str, ...] | None
    breakdown: bool
    crs: CRS
    #: The territory's communes in the metric CRS (None: no communes layer): every metric that
    #: makes a per-quartier table gets them, for its ``commune`` and ``hors_qpv`` rows.
    communes: gpd.GeoDataFrame | None = field(default=None, compare=False)

    def want(self, *names: str) -> bool:
        return any(n in self.wanted for n in names)


Step = Callable[[Territory, Metrics, _Run], None]


def compute_metrics(
    territory: Territory,
    *,
    only: Iterable[str] | None = None,
    service_kinds: Sequence[str] | None = None,
    breakdown: bool = True,
    progress: Progress | None = None,
) -> Metrics:
    """Compute every metric the territory's layers, rasters and tables allow.

    Every metric measures in one CRS, the territory's metric CRS
    (:func:`cdv_geo.core.crs.choose_metric_crs` of the project's ``crs``: a project declared in
    EPSG:3949 is measured in EPSG:3949), recorded in :attr:`Metrics.crs`. A metric whose inputs
    are missing is skipped and a :class:`Note` says why; it is never replaced by zeros. Bad data
    raises a :class:`~cdv_geo.CdvGeoError`.

    Every per-quartier table has the same rows (:mod:`cdv_geo.core.tables`): the quartiers, then
    ``qpv``, and when the territory has a communes layer ``commune`` and ``hors_qpv`` (each
    metric is given the communes: a feature outside them never counts in ``commune``). The
    population rule is applied once (:func:`cdv_geo.pipeline.population.step_population`, kept
    in :attr:`Metrics.population`) and its table given to every table that divides by
    population (``trees``, ``key_figures``, ``ledger``, the services' tables of
    :data:`~cdv_geo.pipeline.results.SERVICE_TABLES`): they show the same residents and
    ``population_source``; two loaded populations more than 10 % apart give one
    ``population_gap`` note per row. A warning a metric raises (``UserWarning``) is logged as it
    is, and the run keeps one plain-words ``warning_<topic>`` note per step that warned (the
    warning's text, which may name a file, never reaches a note).

    Parameters
    ----------
    territory : Territory
        The contrat de ville.
    only : iterable of str, optional
        Compute only these outputs (default: all): table names of :data:`TABLES`,
        ``"service_areas"`` (the layer), ``"network"`` (the walking network alone), or the
        contrat's ``"ledger"`` and ``"tfpb"`` (:data:`~cdv_geo.pipeline.results.ACTION_TABLES`). The
        outputs an output is made from come with it (``key_figures`` brings ``coverage``,
        ``renewal_balance``, ``desealing``, ``trees``, ``impervious`` and
        ``impervious_change``; ``indicator_gaps`` and ``indicator_trend`` bring
        ``indicators``), a layer comes with its table (``residences_access`` with ``nearest``,
        ``residences_3_30_300`` with ``rule_3_30_300``, ``quartiers_figures`` with
        ``key_figures``, ``residences_services`` with ``capacity_access``, ``open_hours`` or
        ``commercial_catchment``, ``commercial_centres`` with ``commercial_catchment``), and
        the walking network with any walking-distance output. The project's ``[services]``
        section (:class:`~cdv_geo.territory.ServiceSettings`) says how the services' tables
        are measured (:mod:`cdv_geo.pipeline.services`). The maps ask
        only for what they draw, which spares the slower tables.
    service_kinds : sequence of str, optional
        Facility kinds whose service areas are drawn (default: every kind present); kinds
        without any facility are passed over.
    breakdown : bool, default True
        False computes ``desealing`` and ``trees`` without their breakdown by site type and
        year (``by=None``), and ``desealing`` without the sealed share after the works. The
        per-quartier totals are the same; the maps, which show only them, use this (faster).
    progress : callable, optional
        ``progress(iterable, description)`` wrapping the steps (the CLI passes a progress bar).

    Returns
    -------
    Metrics

    Raises
    ------
    CdvGeoError
        On an unknown output name or facility kind, and on bad data (from the metric functions).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> m = compute_metrics(cg.datasets.soissons(), only=["coverage", "indicators"])
    >>> sorted(m.tables), m.network is not None, m.crs.to_epsg()
    (['coverage', 'indicators'], True, 2154)
    >>> m.coverage.index.names
    FrozenList(['quartier', 'kind', 'threshold_min'])
    """
    communes = territory.metric("communes") if territory.communes is not None else None
    run = _Run(
        _wanted(only),
        _kinds(service_kinds, territory),
        breakdown,
        territory.metric_crs,
        communes=communes,
    )
    wrap = progress or _identity
    m = Metrics(crs=run.crs)
    steps: list[tuple[str, str, Step, tuple[str, ...]]] = [
        (
            "walking network",
            "network",
            _step_network,
            (
                "network",
                "nearest",
                "coverage",
                "service_areas",
                "rule_3_30_300",
                "children_access",
                "cool_access",
                "incidents",
                "site_choice",
                *SERVICE_OUTPUTS,
            ),
        ),
        ("population", "key_figures", step_population, _BY_POPULATION),
        ("walking coverage", "access", _step_access, ("nearest", "coverage", "service_areas")),
        (
            "renaturation",
            "renaturation",
            _step_renaturation,
            (
                "impervious",
                "impervious_change",
                "desealing",
                "trees",
                "canopy",
                "rule_3_30_300",
                "green_space_access",
            ),
        ),
        (
            "renewal",
            "renewal",
            _step_renewal,
            ("renewal_balance", "renewal_progress", "renewal_timeline"),
        ),
        (
            "indicators",
            "indicators",
            _step_indicators,
            ("indicators", "indicator_gaps", "indicator_trend", "income_grid"),
        ),
        ("key figures", "key_figures", _step_key_figures, ("key_figures",)),
        ("heat and water", "heat", step_heat, HEAT_OUTPUTS),
        ("actions", "actions", step_actions, ACTION_OUTPUTS),
        ("services", "services", step_services, SERVICE_OUTPUTS),
        ("evaluation", "indicators", step_evaluation, EVALUATION_OUTPUTS),
    ]
    todo = [(name, topic, step) for name, topic, step, outputs in steps if run.want(*outputs)]
    for name, topic, step in wrap(todo, "metrics"):
        log.info("computing %s", name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            step(territory, m, run)
        _warnings_to_notes(m, topic, caught)
    return m


def _warnings_to_notes(m: Metrics, topic: str, caught: list[warnings.WarningMessage]) -> None:
    """Log the metrics' warnings in full, and note each step that warned, in plain words.

    The message of a warning is for the person who runs the metrics (it may name a file, a
    field or a setting): it goes to the log only. The note the maps and the dossier print says,
    from the label catalogue, which computation met a problem in the data.
    """
    said: set[str] = set()  # (several tables of a step may warn alike: logged once)
    for w in caught:
        if not issubclass(w.category, UserWarning):  # a library's deprecation, numpy's...
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        text = " ".join(str(w.message).split())
        if text in said:
            continue
        said.add(text)
        log.warning("%s", text)
        note = warning_note(topic)
        if note not in m.notes:  # (several tables of a step may warn alike)
            m.notes.append(note)


def _wanted(only: Iterable[str] | None) -> frozenset[str]:
    valid = (*TABLES, *_OUTPUTS_EXTRA)
    if only is None:
        return frozenset(valid)
    names = [only] if isinstance(only, str) else list(only)
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise CdvGeoError(
            f"compute_metrics(only=...): unknown output(s) {', '.join(map(repr, unknown))}; "
            f"use names among {', '.join(sorted(valid))}"
        )
    out = set(names)
    for name in names:
        out.update(_NEEDS.get(name, ()))
    return frozenset(out)


def _kinds(kinds: Sequence[str] | None, territory: Territory) -> tuple[str, ...] | None:
    """Check the service kinds: a known kind, or one present in the facilities layer."""
    if kinds is None:
        return None
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    present = set() if territory.facilities is None else set(territory.facilities["kind"])
    unknown = [k for k in kinds if k not in FACILITY_KINDS and k not in present]
    if unknown:
        raise CdvGeoError(
            f"service kind {', '.join(map(repr, unknown))} is not a facility kind; use one of "
            f"{', '.join(dict.fromkeys([*FACILITY_KINDS, *sorted(map(str, present))]))}"
        )
    return kinds


def _missing(t: Territory, m: Metrics, topic: str, what: str, *kinds: str) -> bool:
    """Note each layer of `kinds` the territory lacks; return True when one is missing."""
    miss = [k for k in kinds if getattr(t, k) is None]
    for kind in miss:
        m.notes.append(
            Note(
                "missing_layer",
                topic,
                f"{what} skipped: no {kind} layer.",
                {"layer": kind},
            )
        )
    return bool(miss)


def _step_network(t: Territory, m: Metrics, run: _Run) -> None:
    from cdv_geo.network import WalkNetwork

    if t.network_file is not None:
        name = t.network_file.name.lower()
        if name.endswith(".graphml"):
            m.network = WalkNetwork.from_graphml(t.network_file, crs=run.crs)
        else:
            m.network = WalkNetwork.from_osm_xml(t.network_file, crs=run.crs)
    elif t.streets is not None:
        m.network = WalkNetwork.from_lines(t.metric("streets"), crs=run.crs)
    else:
        m.notes.append(
            Note(
                "method",
                "network",
                "No street network: straight-line distances (method = euclidean).",
                {"method": "euclidean"},
            )
        )
        return
    log.info("%r", m.network)


def _step_access(t: Territory, m: Metrics, run: _Run) -> None:
    from cdv_geo.metrics.access import coverage, nearest_facility
    from cdv_geo.metrics.population import on_population
    from cdv_geo.metrics.service_areas import service_areas

    s = t.settings
    if run.want("service_areas") and t.facilities is not None:
        # service areas need the facilities only
        fac = t.metric("facilities")
        kinds = run.service_kinds
        if kinds is not None:
            kinds = tuple(k for k in kinds if k in set(fac["kind"]))
        if kinds is None or kinds:
            m.service_areas = service_areas(
                fac,
                network=m.network,
                thresholds_m=list(s.service_area_m),
                max_snap_m=s.max_snap_m,
                kinds=None if kinds is None else list(kinds),
                crs=run.crs,
            )
    if not run.want("nearest", "coverage"):
        return
    if _missing(t, m, "access", "Walking coverage", "residences", "facilities"):
        return
    res, fac = t.metric("residences"), t.metric("facilities")
    if run.want("nearest"):
        near = nearest_facility(res, fac, **walk_options(t, m, run))
        m.nearest = near
        m.residences_access = gpd.GeoDataFrame(
            res[["id", "dwellings", "population"]].join(near, on="id"),
            geometry=res.geometry.to_numpy(),
            crs=res.crs,
        )
    if run.want("coverage") and not _missing(t, m, "access", "Walking coverage", "quartiers"):
        m.coverage = coverage(
            res,
            fac,
            t.metric("quartiers"),
            threshold_min=list(s.thresholds_min),
            weight="population" if res["population"].notna().all() else "dwellings",
            communes=run.communes,
            **walk_options(t, m, run),
        )
        if "population_source" in m.coverage.columns and m.population is not None:
            # shares over the homes; resident counts on the pack's one population
            m.coverage = on_population(m.coverage, m.population)


def _raster_years(t: Territory, prefix: str) -> list[tuple[int | None, Path]]:
    """Return the rasters ``<prefix>_<year>`` (or ``<prefix>``: no year), oldest first."""
    out: list[tuple[int | None, Path]] = []
    for name, path in t.rasters.items():
        mt = re.fullmatch(rf"{prefix}_(\d{{4}})", name)
        if mt:
            out.append((int(mt.group(1)), path))
        elif name == prefix:
            out.append((None, path))
    return sorted(out, key=lambda yp: -1 if yp[0] is None else yp[0])


def _step_renaturation(t: Territory, m: Metrics, run: _Run) -> None:
    """Imperviousness, de-sealing, trees, canopy, 3-30-300 rule and green-space access."""
    if _missing(t, m, "renaturation", "Renaturation", "quartiers"):
        return
    q = t.metric("quartiers")
    imp = _raster_years(t, "impervious")
    _impervious(t, m, run, q, imp)
    if run.want("desealing") and not _missing(t, m, "renaturation", "De-sealing", "desealed_areas"):
        from cdv_geo.metrics.desealing import desealing_summary

        sites = t.metric("desealed_areas")
        if run.breakdown:
            before = imp[0][1] if imp else None
            m.desealing = desealing_summary(
                sites, q, impervious=before, crs=run.crs, communes=run.communes
            )
        else:
            m.desealing = desealing_summary(sites, q, by=None, crs=run.crs, communes=run.communes)
    if run.want("trees", "canopy", "rule_3_30_300") and not _missing(
        t, m, "renaturation", "Tree metrics", "tree_plantings"
    ):
        _trees(t, m, run, q)
    if run.want("green_space_access") and not _missing(
        t, m, "renaturation", "Green-space access", "residences", "green_spaces"
    ):
        from cdv_geo.metrics.green import green_space_access
        from cdv_geo.metrics.population import on_population

        g = green_space_access(
            t.metric("residences"),
            t.metric("green_spaces"),
            q,
            crs=run.crs,
            communes=run.communes,
        )
        m.green_space_access = (
            g.quartiers if m.population is None else on_population(g.quartiers, m.population)
        )


def _impervious(
    t: Territory, m: Metrics, run: _Run, q: gpd.GeoDataFrame, imp: list[tuple[int | None, Path]]
) -> None:
    """Impervious share per raster year, and its change from the first year to the last."""
    from cdv_geo.metrics.impervious import impervious_change, impervious_share

    if not imp and run.want("impervious", "impervious_change"):
        m.notes.append(
            Note(
                "missing_raster",
                "renaturation",
                "Impervious shares skipped: no raster named impervious_<year>.",
                {"name": "impervious_<year>"},
            )
        )
    if imp and run.want("impervious"):
        shares = [
            (year, impervious_share(q, path, crs=run.crs, communes=run.communes))
            for year, path in imp
        ]
        m.impervious = _by_year(shares)
    if len(imp) >= 2 and run.want("impervious_change"):
        m.impervious_change = impervious_change(
            q, imp[0][1], imp[-1][1], crs=run.crs, communes=run.communes
        )


def _trees(t: Territory, m: Metrics, run: _Run, q: gpd.GeoDataFrame) -> None:
    """Tree plantings, canopy (the latest canopy raster, else the trees' crowns), 3-30-300."""
    from cdv_geo.metrics.green import rule_3_30_300
    from cdv_geo.metrics.trees import canopy_share, tree_summary

    trees = t.metric("tree_plantings")
    canopy = _raster_years(t, "canopy")
    latest = canopy[-1][1] if canopy else None
    if run.want("trees"):
        by: dict[str, Any] = {} if run.breakdown else {"by": None}
        m.trees = tree_summary(
            trees, q, crs=run.crs, communes=run.communes, population=m.population, **by
        )
    if run.want("canopy"):
        m.canopy = canopy_share(
            q,
            latest,
            trees=None if latest else trees,
            crs=run.crs,
            communes=run.communes,
        )
    if run.want("rule_3_30_300") and not _missing(
        t, m, "renaturation", "The 3-30-300 rule", "residences", "green_spaces"
    ):
        res = t.metric("residences")
        r = rule_3_30_300(
            res,
            trees=trees,
            canopy=latest,
            green_spaces=t.metric("green_spaces"),
            network=m.network,
            quartiers=q,
            crs=run.crs,
            communes=run.communes,
        )
        m.rule_3_30_300 = r.quartiers
        m.residences_3_30_300 = _with_geometry(res, r.residences)


def _by_year(tables: list[tuple[int | None, pd.DataFrame]]) -> pd.DataFrame:
    """Stack one per-quartier table per raster year: index (``quartier``, ``year``)."""
    parts = []
    for year, table in tables:
        part = table.copy()
        part["year"] = pd.array([year] * len(part), dtype="Int64")
        parts.append(part.set_index("year", append=True))
    return pd.concat(parts)


def _with_geometry(layer: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    joined = layer[["id", "geometry"]].join(table, on="id")
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=layer.crs)


def _step_renewal(t: Territory, m: Metrics, run: _Run) -> None:
    if _missing(t, m, "renewal", "Renewal", "renewal_sites", "quartiers"):
        return
    from cdv_geo.metrics import renewal

    sites, q = t.metric("renewal_sites"), t.metric("quartiers")
    if run.want("renewal_balance"):
        res = t.metric("residences") if t.residences is not None else None
        m.renewal_balance = renewal.renewal_balance(
            sites, q, residences=res, crs=run.crs, communes=run.communes
        )
    if run.want("renewal_progress"):
        m.renewal_progress = renewal.renewal_progress(sites, q, crs=run.crs, communes=run.communes)
    if run.want("renewal_timeline"):
        m.renewal_timeline = renewal.renewal_timeline(sites, q, crs=run.crs, communes=run.communes)


def _step_indicators(t: Territory, m: Metrics, run: _Run) -> None:
    from cdv_geo.metrics import indicators as ind
    from cdv_geo.metrics.grid import interpolate_grid

    q = t.metric("quartiers") if t.quartiers is not None else None
    table = indicator_table(t, q)
    if table is None and run.want("indicators"):  # (gaps and trends want it too)
        m.notes.append(
            Note(
                "missing_table",
                "indicators",
                "Indicators skipped: no table named 'indicators' in [tables].",
                {"name": "indicators"},
            )
        )
    elif table is not None and run.want("indicators"):
        m.indicators = table
        if run.want("indicator_gaps"):
            m.indicator_gaps = ind.compare_indicators(table, quartiers=q)
        if run.want("indicator_trend") and table["year"].nunique() > 1:
            m.indicator_trend = ind.indicator_trend(table, quartiers=q)
    grid = t.tables.get("income_grid")
    if run.want("income_grid") and grid is not None and q is not None:
        m.income_grid = interpolate_grid(
            t.table("income_grid"),
            q,
            residences=t.metric("residences") if t.residences is not None else None,
            crs=run.crs,
            communes=run.communes,
        )


def _step_key_figures(t: Territory, m: Metrics, run: _Run) -> None:
    if _missing(t, m, "key_figures", "Key figures", "quartiers"):
        return
    from cdv_geo.metrics.key_figures import key_figures

    q = t.metric("quartiers")
    kf = key_figures(
        q,
        facilities=t.metric("facilities") if t.facilities is not None else None,
        communes=run.communes,
        residences=t.metric("residences") if t.residences is not None else None,
        coverage=m.coverage,
        renewal_balance=m.renewal_balance,
        desealing=m.desealing,
        trees=m.trees,
        impervious=m.impervious,
        impervious_change=m.impervious_change,
        crs=run.crs,
        population=m.population,
    )
    m.key_figures = kf
    m.quartiers_figures = gpd.GeoDataFrame(
        q[["id", "code", "geometry"]].join(kf.drop(columns="name"), on="code"),
        geometry="geometry",
        crs=q.crs,
    )
