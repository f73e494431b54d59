"""The pipeline: every metric of one territory, computed once, as a typed :class:`Metrics`.

:func:`compute_metrics` runs every metric the territory's layers allow (walking coverage,
renaturation, renewal, indicators) with the project's metric CRS and settings, and records, for each
one it skips, why. It is the one place where metrics are computed for a whole territory: the maps
(``cdv_geo.maps``) and the writers (``cdv_geo.output``) only read its result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.schema import FACILITY_KINDS
from cdv_geo.territory import Territory

__all__ = [
    "TABLES",
    "Metrics",
    "compute_metrics",
]

log = logging.getLogger("cdv_geo")

Progress = Callable[[Iterable[Any], str], Iterable[Any]]

#: A structured note on an output left out for want of an input: ``(label key, arguments)``.
#: The key names a label of ``cdv_geo.maps._style`` (``missing_layer``, ``missing_raster``,
#: ``missing_table``) that the maps show in French or English under "Couches non affichées";
#: the arguments fill it and include ``topic`` (access, renaturation, renewal, indicators) so that
#: each map shows its own.
Note = tuple[str, dict[str, Any]]

#: Every table the package computes: name -> (French title, English title, what it answers).
TABLES: dict[str, tuple[str, str, str]] = {
    "key_figures": (
        "Chiffres clés par quartier",
        "Key figures per quartier",
        "population, area, services, coverage, renaturation, renewal, income",
    ),
    "coverage": (
        "Couverture à pied des services",
        "Walking coverage of services",
        "share of residents within N minutes' walk of each kind of service",
    ),
    "nearest": (
        "Service le plus proche de chaque résidence",
        "Nearest service per residence",
        "walking distance and time from each residence to each kind of service",
    ),
    "desealing": (
        "Désimperméabilisation",
        "De-sealing",
        "area de-sealed per quartier, site type and year",
    ),
    "trees": (
        "Plantations d'arbres",
        "Tree plantings",
        "trees planted per quartier and year, per hectare and per 1,000 residents",
    ),
    "impervious": (
        "Imperméabilisation",
        "Imperviousness",
        "impervious share of each quartier per raster year, and its change",
    ),
    "canopy": ("Canopée", "Tree canopy", "canopy share of each quartier"),
    "rule_3_30_300": (
        "Règle 3-30-300",
        "3-30-300 rule",
        "share of residents passing each part of the 3-30-300 rule",
    ),
    "green_space_access": (
        "Accès aux espaces verts (OMS)",
        "Green-space access (WHO)",
        "share of residents within 300 m of a green space of 0.5 / 1 ha",
    ),
    "renewal_balance": (
        "Bilan NPNRU des logements",
        "NPNRU dwelling balance",
        "demolished, rebuilt on/off site, reconstitution ratio, typology",
    ),
    "renewal_progress": ("Avancement NPNRU", "NPNRU progress", "dwellings by status"),
    "renewal_timeline": ("Calendrier NPNRU", "NPNRU timeline", "dwellings per year, cumulative"),
    "indicators": (
        "Indicateurs socio-économiques",
        "Socio-economic indicators",
        "indicators per quartier and reference, per vintage",
    ),
    "indicator_gaps": (
        "Écarts aux références",
        "Gaps to the references",
        "gap of each quartier to the town, EPCI and France",
    ),
    "indicator_trend": (
        "Évolution des indicateurs",
        "Indicator trends",
        "change between vintages and whether the gap narrowed",
    ),
    "income_grid": (
        "Revenus carroyés par quartier",
        "Gridded income per quartier",
        "Filosofi 200 m squares interpolated to the quartiers",
    ),
}


#: The results the committee maps read (``Metrics.as_dict()`` always holds these keys).
MAP_KEYS = (
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


@dataclass
class Metrics:
    """The metric results of a territory.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Metric tables by name (see :data:`TABLES`).
    layers : dict of str to geopandas.GeoDataFrame
        Derived layers (service areas, residences with walking times, quartiers with figures).
    notes : list of str
        What was skipped and why, and how results were obtained (e.g. straight-line distances),
        as sentences for the tables and the report's index.
    network : object, optional
        The :class:`~cdv_geo.network.WalkNetwork` used, if any.
    skipped : list of Note
        The skips of `notes`, structured for the maps: one ``(label key, arguments)`` per
        missing input (see :data:`Note`), e.g. ``("missing_layer", {"layer": "residences",
        "topic": "access"})``.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    network: Any = None
    skipped: list[Note] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the results keyed as :func:`cdv_geo.maps.prepare_metrics` documents them.

        The map builders take this dict and compute nothing again. ``notes`` is
        :attr:`skipped` (the structured notes the maps label).
        """
        out: dict[str, Any] = {**self.tables, **self.layers, "network": self.network}
        for key in MAP_KEYS:
            out.setdefault(key, None)
        imp = self.tables.get("impervious")
        out["impervious"] = (
            {}
            if imp is None
            else {
                # a raster named plain "impervious" has no year
                f"{cast(float, y):.0f}" if pd.notna(y) else "impervious": grp.drop(columns="year")
                for y, grp in imp.groupby("year", dropna=False)
            }
        )
        out["notes"] = list(self.skipped)
        return out


def _identity(items: Iterable[Any], desc: str) -> Iterable[Any]:
    return items


#: What `only` may name besides the tables of :data:`TABLES`.
_OUTPUTS_EXTRA = ("network", "service_areas", "impervious_change")
#: Outputs computed along with the one requested, because it is made from them.
_NEEDS: dict[str, tuple[str, ...]] = {
    "key_figures": ("coverage", "renewal_balance", "desealing", "trees", "impervious"),
    "indicator_gaps": ("indicators",),
    "indicator_trend": ("indicators",),
}


@dataclass(frozen=True)
class _Run:
    """What one :func:`compute_metrics` call computes."""

    wanted: frozenset[str]
    service_kinds: tuple[str, ...] | None
    breakdown: bool

    def want(self, *names: str) -> bool:
        return any(n in self.wanted for n in names)


def compute_metrics(
    territory: Territory,
    *,
    only: Iterable[str] | None = None,
    service_kinds: Sequence[str] | None = None,
    breakdown: bool = True,
    progress: Progress | None = None,
) -> Metrics:
    """Compute every metric the territory's layers, rasters and tables allow.

    A metric whose inputs are missing is skipped and the reason is added to ``notes`` (and, for
    the maps, to ``skipped``); it is never replaced by zeros. Bad data raises a
    :class:`~cdv_geo.CdvGeoError`.

    Parameters
    ----------
    territory : Territory
        The contrat de ville.
    only : iterable of str, optional
        Compute only these outputs (default: all): table names of :data:`TABLES`, or
        ``"impervious_change"``, ``"service_areas"`` (the layer) or ``"network"`` (the walking
        network alone). The outputs an output is made from come with it (``key_figures`` brings
        ``coverage``, ``renewal_balance``, ``desealing``, ``trees`` and ``impervious``;
        ``indicator_gaps`` and ``indicator_trend`` bring ``indicators``), a layer comes with its
        table (``residences_access`` with ``nearest``, ``residences_3_30_300`` with
        ``rule_3_30_300``, ``quartiers_figures`` with ``key_figures``), and the walking network
        with any walking-distance output. The maps ask only for what they draw, which spares the
        slower tables (3-30-300 rule, indicator gaps and trends, gridded income).
    service_kinds : sequence of str, optional
        Facility kinds whose service areas are drawn (default: every kind present); kinds
        without any facility are passed over.
    breakdown : bool, default True
        False computes the per-quartier totals only: ``desealing``, ``trees`` and
        ``renewal_balance`` without their breakdown by site type, year, operation and status
        (``by=None`` / ``by=()``), and ``desealing`` without the sealed share after the works.
        The totals are the same; the maps, which show only them, use this (it is faster).
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
    >>> m = compute_metrics(cg.datasets.soissons())
    >>> sorted(m.tables)[:3]
    ['canopy', 'coverage', 'desealing']
    >>> m = compute_metrics(cg.datasets.soissons(), only=["coverage", "indicators"])
    >>> sorted(m.tables), m.network is not None
    (['coverage', 'indicators'], True)
    """
    run = _Run(_wanted(only), _kinds(service_kinds), breakdown)
    wrap = progress or _identity
    m = Metrics()
    steps: list[tuple[str, Callable[[Territory, Metrics, _Run], None], tuple[str, ...]]] = [
        (
            "walking network",
            _step_network,
            ("network", "nearest", "coverage", "service_areas", "rule_3_30_300"),
        ),
        ("walking coverage", _step_proximity, ("nearest", "coverage", "service_areas")),
        (
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
        ("renewal", _step_renewal, ("renewal_balance", "renewal_progress", "renewal_timeline")),
        (
            "indicators",
            _step_indicators,
            ("indicators", "indicator_gaps", "indicator_trend", "income_grid"),
        ),
        ("key figures", _step_key_figures, ("key_figures",)),
    ]
    todo = [(name, step) for name, step, outputs in steps if run.want(*outputs)]
    for name, step in wrap(todo, "metrics"):
        log.info("computing %s", name)
        step(territory, m, run)
    return m


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


def _kinds(kinds: Sequence[str] | None) -> tuple[str, ...] | None:
    if kinds is None:
        return None
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in FACILITY_KINDS]
    if unknown:
        raise CdvGeoError(
            f"service kind {', '.join(map(repr, unknown))} is not a facility kind; use one of "
            f"{', '.join(FACILITY_KINDS)}"
        )
    return kinds


def _skip(m: Metrics, text: str, key: str, topic: str, **args: Any) -> None:
    """Record a skip: `text` in ``m.notes`` (once), ``(key, args + topic)`` in ``m.skipped``."""
    if text not in m.notes:
        m.notes.append(text)
    m.skipped.append((key, {**args, "topic": topic}))


def _missing(t: Territory, *kinds: str) -> list[str]:
    return [k for k in kinds if getattr(t, k) is None]


def _step_network(t: Territory, m: Metrics, run: _Run) -> None:
    from cdv_geo.network import WalkNetwork

    if t.network_file is not None:
        name = t.network_file.name.lower()
        if name.endswith(".graphml"):
            m.network = WalkNetwork.from_graphml(t.network_file, crs=t.settings.crs)
        else:
            m.network = WalkNetwork.from_osm_xml(t.network_file, crs=t.settings.crs)
        log.info("%r", m.network)
        return
    if t.streets is None:
        m.notes.append(
            "Pas de réseau de rues : distances à vol d'oiseau (method = euclidean). / "
            "No street network: straight-line distances."
        )
        return
    m.network = WalkNetwork.from_lines(t.streets.to_crs(t.settings.crs))
    log.info("%r", m.network)


def _step_proximity(t: Territory, m: Metrics, run: _Run) -> None:
    from cdv_geo.metrics.access import coverage, nearest_facility, service_areas

    s = t.settings
    if run.want("service_areas") and t.facilities is not None:
        # service areas need the facilities only
        fac = t.metric("facilities")
        kinds = run.service_kinds
        if kinds is not None:
            kinds = tuple(k for k in kinds if k in set(fac["kind"]))
        if kinds is None or kinds:
            m.layers["service_areas"] = service_areas(
                fac,
                network=m.network,
                thresholds_m=list(s.service_area_m),
                max_snap_m=s.max_snap_m,
                kinds=None if kinds is None else list(kinds),
            )
    if not run.want("nearest", "coverage"):
        return
    miss = _missing(t, "residences", "facilities")
    if miss:
        text = f"Coverage skipped: no {' / '.join(miss)} layer."
        for kind in miss:
            _skip(m, text, "missing_layer", "access", layer=kind)
        return
    res = t.metric("residences")
    fac = t.metric("facilities")
    if run.want("nearest"):
        near = nearest_facility(
            res, fac, network=m.network, speed_kmh=s.walking_speed_kmh, max_snap_m=s.max_snap_m
        )
        m.tables["nearest"] = near
        m.layers["residences_access"] = gpd.GeoDataFrame(
            res[["id", "dwellings", "population"]].join(near, on="id"),
            geometry=res.geometry.to_numpy(),
            crs=res.crs,
        )
    if run.want("coverage") and t.quartiers is not None:
        m.tables["coverage"] = coverage(
            res,
            fac,
            t.metric("quartiers"),
            network=m.network,
            threshold_min=list(s.thresholds_min),
            speed_kmh=s.walking_speed_kmh,
            max_snap_m=s.max_snap_m,
            weight="population" if res["population"].notna().all() else "dwellings",
        )


def _raster_years(t: Territory, prefix: str) -> list[tuple[int, Path]]:
    out = []
    for name, path in t.rasters.items():
        mt = re.fullmatch(rf"{prefix}_(\d{{4}})", name)
        if mt:
            out.append((int(mt.group(1)), path))
        elif name == prefix:
            out.append((0, path))
    return sorted(out)


def _step_renaturation(t: Territory, m: Metrics, run: _Run) -> None:
    if t.quartiers is None:
        _skip(
            m,
            "Renaturation skipped: no quartiers layer.",
            "missing_layer",
            "renaturation",
            layer="quartiers",
        )
        return
    from cdv_geo.metrics import renaturation as rn

    q = t.metric("quartiers")
    imp = _raster_years(t, "impervious")
    canopy = _raster_years(t, "canopy")
    if imp:
        if run.want("impervious"):
            rows = []
            for year, path in imp:
                share = rn.impervious_share(q, path)
                share.insert(0, "year", year or np.nan)
                rows.append(share)
            table = pd.concat(rows)
            table.index.name = "id"
            m.tables["impervious"] = table
        if len(imp) >= 2 and run.want("impervious_change"):
            m.tables["impervious_change"] = rn.impervious_change(q, imp[0][1], imp[-1][1])
    elif run.want("impervious", "impervious_change"):
        _skip(
            m,
            "Impervious shares skipped: no raster named impervious_<year>.",
            "missing_raster",
            "renaturation",
            name="impervious_<year>",
        )
    if t.desealed_areas is not None and run.want("desealing"):
        if run.breakdown:
            m.tables["desealing"] = rn.desealing_summary(
                t.metric("desealed_areas"), q, impervious=imp[0][1] if imp else None
            )
        else:
            m.tables["desealing"] = rn.desealing_summary(t.metric("desealed_areas"), q, by=None)
    if t.tree_plantings is not None:
        trees = t.metric("tree_plantings")
        if run.want("trees"):
            if run.breakdown:
                m.tables["trees"] = rn.tree_summary(trees, q)
            else:
                m.tables["trees"] = rn.tree_summary(trees, q, by=None)
        if run.want("canopy"):
            m.tables["canopy"] = rn.canopy_share(
                q, canopy[-1][1] if canopy else None, trees=None if canopy else trees
            )
        if run.want("rule_3_30_300") and t.residences is not None and t.green_spaces is not None:
            r = rn.rule_3_30_300(
                t.metric("residences"),
                trees=trees,
                canopy=canopy[-1][1] if canopy else None,
                green_spaces=t.metric("green_spaces"),
                network=m.network,
                quartiers=q,
            )
            m.tables["rule_3_30_300"] = r.quartiers
            m.layers["residences_3_30_300"] = _with_geometry(t.metric("residences"), r.residences)
    if run.want("green_space_access") and t.residences is not None and t.green_spaces is not None:
        g = rn.green_space_access(t.metric("residences"), t.metric("green_spaces"), q)
        m.tables["green_space_access"] = g.quartiers


def _with_geometry(layer: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    joined = layer[["id", "geometry"]].join(table, on="id")
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=layer.crs)


def _step_renewal(t: Territory, m: Metrics, run: _Run) -> None:
    miss = _missing(t, "renewal_sites", "quartiers")
    if miss:
        text = f"Renewal skipped: no {' / '.join(miss)} layer."
        for kind in miss:
            _skip(m, text, "missing_layer", "renewal", layer=kind)
        return
    import warnings

    from cdv_geo.metrics import renewal

    sites, q = t.metric("renewal_sites"), t.metric("quartiers")
    if run.want("renewal_balance"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = t.metric("residences") if t.residences is not None else None
            if run.breakdown:
                balance = renewal.renewal_balance(sites, q, residences=res)
            else:
                balance = renewal.renewal_balance(sites, q, residences=res, by=())
            m.tables["renewal_balance"] = balance
        m.notes.extend(str(w.message) for w in caught)
    if run.want("renewal_progress"):
        m.tables["renewal_progress"] = renewal.renewal_progress(sites, q)
    if run.want("renewal_timeline"):
        m.tables["renewal_timeline"] = renewal.renewal_timeline(sites, q)


def _step_indicators(t: Territory, m: Metrics, run: _Run) -> None:
    from cdv_geo.metrics import indicators as ind

    path = t.tables.get("indicators")
    if run.want("indicators") and path is None:  # (gaps and trends want it too)
        _skip(
            m,
            "Indicators skipped: no table named 'indicators' in [tables].",
            "missing_table",
            "indicators",
            name="indicators",
        )
    elif path is not None and run.want("indicators"):
        table = ind.read_indicators(path)
        m.tables["indicators"] = table
        if run.want("indicator_gaps"):
            m.tables["indicator_gaps"] = ind.compare_indicators(table)
        if run.want("indicator_trend") and table["year"].nunique() > 1:
            m.tables["indicator_trend"] = ind.indicator_trend(table)
    grid = t.tables.get("income_grid")
    if run.want("income_grid") and grid is not None and t.quartiers is not None:
        m.tables["income_grid"] = ind.interpolate_grid(
            ind.read_grid(grid),
            t.metric("quartiers"),
            residences=t.metric("residences") if t.residences is not None else None,
        )


# --- key figures ---------------------------------------------------------------------------------


def _step_key_figures(t: Territory, m: Metrics, run: _Run) -> None:
    if t.quartiers is None:
        return
    # one definition of the key figures, shared with the maps' panels
    from cdv_geo.maps import key_figures

    kf = key_figures(t, m.as_dict())
    threshold, service = kf.attrs.get("threshold_min"), kf.attrs.get("service")
    if threshold is not None and service:
        kf = kf.rename(columns={"coverage": f"{service}_share_{threshold:g}min"})
    kf.attrs = {}
    m.tables["key_figures"] = kf
    q = t.metric("quartiers")
    m.layers["quartiers_figures"] = gpd.GeoDataFrame(
        q[["id", "geometry"]].join(kf, on="id"), geometry="geometry", crs=q.crs
    )
