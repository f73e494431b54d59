"""Metric tables of a territory -> CSV / XLSX / GeoPackage, static figures, committee bundle.

:func:`compute_metrics` runs every metric the territory's layers allow (walking coverage,
renaturation, renewal, indicators) and records, for each one it skips, why. It is the one place
where metrics are computed for a whole territory: the maps (``cdv_geo.maps``) call it for what they
are not given. :func:`write_tables` writes the tables with French (or English) column labels and
units, deterministically (same input, byte-identical CSV). :func:`build_report` writes the whole
committee pack: tables, derived layers, maps, static figures and an ``index.html`` that links them.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from cdv_geo._errors import CdvGeoError
from cdv_geo.io import atomic_path, write_layer
from cdv_geo.schema import FACILITY_KINDS, SCHEMAS
from cdv_geo.territory import Territory

__all__ = [
    "TABLES",
    "Metrics",
    "build_report",
    "column_label",
    "compute_metrics",
    "static_figures",
    "write_tables",
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
    from cdv_geo.proximity import coverage, nearest_facility, service_areas

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
    from cdv_geo import renaturation as rn

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

    from cdv_geo import renewal

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
    from cdv_geo import indicators as ind

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


# --- labels ---------------------------------------------------------------------------------------

_COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "id": ("Identifiant", "Id"),
    "code": ("Code", "Code"),
    "name": ("Nom", "Name"),
    "kind": ("Type de service", "Service type"),
    "year": ("Année", "Year"),
    "population": ("Population (hab.)", "Population (residents)"),
    "area_ha": ("Surface (ha)", "Area (ha)"),
    "area_m2": ("Surface (m²)", "Area (m²)"),
    "facilities": ("Équipements dans le quartier (nombre)", "Facilities in the quartier (count)"),
    "received": (
        "Logements reconstruits pour un autre quartier",
        "Dwellings rebuilt for another quartier",
    ),
    "rehabilitated": ("Logements réhabilités", "Dwellings rehabilitated"),
    "trees": ("Arbres plantés (nombre)", "Trees planted (count)"),
    "threshold_m": ("Seuil (m)", "Threshold (m)"),
    "threshold_min": ("Seuil (min à pied)", "Threshold (min walk)"),
    "covered_weight": ("Population couverte", "Covered population"),
    "total_weight": ("Population totale", "Total population"),
    "share": ("Part couverte (0–1)", "Covered share (0–1)"),
    "n_origins": ("Résidences (nombre)", "Residences (count)"),
    "n_covered": ("Résidences couvertes (nombre)", "Covered residences (count)"),
    "n_unreachable": ("Résidences injoignables (nombre)", "Unreachable residences (count)"),
    "weight": ("Pondération", "Weight"),
    "method": ("Méthode", "Method"),
    "snap_distance_m": ("Distance à la rue (m)", "Distance to the street (m)"),
    "reason": ("Motif", "Reason"),
    "desealed_m2": ("Surface désimperméabilisée (m²)", "De-sealed area (m²)"),
    "trees_planted": ("Arbres plantés (nombre)", "Trees planted (count)"),
    "demolished": ("Logements démolis", "Dwellings demolished"),
    "rebuilt": ("Logements reconstruits", "Dwellings rebuilt"),
    "median_income": ("Revenu médian disponible par UC (€)", "Median disposable income (€/CU)"),
    "indicator": ("Indicateur", "Indicator"),
    "value": ("Valeur", "Value"),
    "flag": ("Note", "Flag"),
    "level": ("Niveau", "Level"),
    "residents": ("Habitants", "Residents"),
}
_UNIT_SUFFIXES = (
    ("_distance_m", "distance à pied (m)", "walking distance (m)"),
    ("_time_min", "temps à pied (min)", "walking time (min)"),
    ("_facility_id", "équipement le plus proche", "nearest facility"),
    ("_share", "part (0–1)", "share (0–1)"),
    ("_ratio", "ratio", "ratio"),
    ("_m2", "(m²)", "(m²)"),
    ("_ha", "(ha)", "(ha)"),
    ("_pp", "(points de %)", "(percentage points)"),
)


def column_label(column: str, *, lang: str = "fr") -> str:
    """Return the table label of a column, with its unit.

    Known columns have a hand-written label; ``<kind>_distance_m``-like columns are named after
    the facility kind; other columns keep their name with the unit spelled out.

    Examples
    --------
    >>> column_label("water_play_area_time_min")
    "Aire de jeux d'eau : temps à pied (min)"
    >>> column_label("share", lang="en")
    'Covered share (0–1)'
    >>> column_label("health_centre_share_5min")
    'Maison de santé à 5 min à pied : part des habitants (0–1)'
    """
    i = 0 if lang == "fr" else 1
    if column in _COLUMN_LABELS:
        return _COLUMN_LABELS[column][i]
    kinds = SCHEMAS["facilities"].field("kind").enum or ()
    share = re.fullmatch(r"(\w+)_share_(\d+(?:\.\d+)?)min", column)
    if share and share.group(1) in kinds:
        minutes = share.group(2)
        kind = _kind_label(share.group(1), lang)
        if i == 0:
            return f"{kind} à {minutes} min à pied : part des habitants (0–1)"
        return f"{kind} within {minutes} min walk: share of residents (0–1)"
    for suffix, fr, en in _UNIT_SUFFIXES:
        if column.endswith(suffix):
            stem = column[: -len(suffix)]
            if stem in kinds:
                return f"{_kind_label(stem, lang)} : {fr if i == 0 else en}"
            if suffix.startswith("_") and suffix[1:] in ("m2", "ha", "pp"):
                return f"{stem} {fr if i == 0 else en}"
            return f"{stem} — {fr if i == 0 else en}"
    return column


def _kind_label(kind: str, lang: str) -> str:
    from cdv_geo.maps._style import value_label

    return value_label("kind", kind, lang)


# --- writing --------------------------------------------------------------------------------------


def _deterministic(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
    return out


def _labelled(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = _deterministic(df)
    out.columns = [column_label(str(c), lang=lang) for c in out.columns]
    if out.index.name is not None or not isinstance(out.index, pd.RangeIndex):
        out.index.name = column_label(str(out.index.name or "id"), lang=lang)
    return out


def write_tables(
    metrics: Metrics,
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("csv",),
    lang: str = "fr",
) -> list[Path]:
    r"""Write every metric table: one CSV per table, one XLSX sheet per table, a GeoPackage.

    CSV files are UTF-8 with ``\\n`` line ends and floats rounded to 6 decimals, so the same
    input gives byte-identical files. The GeoPackage ``derived_layers.gpkg`` holds the derived
    layers (service areas, residences with walking times, quartiers with their key figures) and
    opens in QGIS. Every file is written atomically.

    Parameters
    ----------
    metrics : Metrics
        From :func:`compute_metrics`.
    out_dir : path-like
        Output folder (created).
    formats : sequence of {"csv", "xlsx", "gpkg"}
        What to write.
    lang : {"fr", "en"}
        Language of the column labels.

    Returns
    -------
    list of pathlib.Path
    """
    unknown = set(formats) - {"csv", "xlsx", "gpkg"}
    if unknown:
        raise CdvGeoError(f"unknown table format(s) {sorted(unknown)}; use csv, xlsx or gpkg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    names = sorted(metrics.tables)
    if "csv" in formats:
        for name in names:
            path = out / f"{name}.csv"
            with atomic_path(path) as tmp:
                table = metrics.tables[name]
                _labelled(table, lang).to_csv(
                    tmp,
                    lineterminator="\n",
                    encoding="utf-8",
                    index=not isinstance(table.index, pd.RangeIndex),
                )
            written.append(path)
    if "xlsx" in formats and names:
        path = out / "tables.xlsx"
        with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name in names:
                title = TABLES.get(name, (name, name, ""))[0 if lang == "fr" else 1]
                sheet = re.sub(r"[\[\]:*?/\\]", " ", title)[:31]
                _labelled(metrics.tables[name], lang).to_excel(xl, sheet_name=sheet)
        written.append(path)
    if "gpkg" in formats and metrics.layers:
        path = out / "derived_layers.gpkg"
        with atomic_path(path) as tmp:
            for name in sorted(metrics.layers):
                write_layer(_deterministic(metrics.layers[name]), tmp, layer=name)
        written.append(path)
    return written


# --- static figures -------------------------------------------------------------------------------


def static_figures(
    territory: Territory, metrics: Metrics, out_dir: str | os.PathLike[str], *, lang: str = "fr"
) -> list[Path]:
    """Write PNG figures of each map theme and of the indicator comparison (for PDF/Word).

    Returns
    -------
    list of pathlib.Path
        The figures written (themes whose layers are missing are skipped).
    """
    import matplotlib

    from cdv_geo.maps._style import OPERATION_COLOURS, value_label

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fr = lang == "fr"
    written: list[Path] = []
    note = (
        ("Données illustratives" if fr else "Illustrative data") if territory.illustrative else ""
    )

    def base(title: str) -> tuple[Any, Any]:
        fig, ax = plt.subplots(figsize=(8, 7), dpi=120)
        if territory.communes is not None:
            territory.metric("communes").boundary.plot(ax=ax, color="#999", linewidth=0.8)
        if territory.streets is not None:
            territory.metric("streets").plot(ax=ax, color="#ccc", linewidth=0.5)
        if territory.quartiers is not None:
            q = territory.metric("quartiers")
            q.boundary.plot(ax=ax, color="#5b2a86", linewidth=1.5)
            for _, row in q.iterrows():
                p = row.geometry.representative_point()
                ax.annotate(
                    str(row["name"]),
                    (p.x, p.y),
                    ha="center",
                    fontsize=9,
                    color="#5b2a86",
                    weight="bold",
                )
        if territory.quartiers is not None:  # frame the quartiers, not the whole commune
            x0, y0, x1, y1 = territory.metric("quartiers").total_bounds
            pad = 0.08 * max(x1 - x0, y1 - y0) + 200
            ax.set_xlim(x0 - pad, x1 + pad)
            ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_title(title)
        ax.set_axis_off()
        return fig, ax

    def save(fig: Any, ax: Any, name: str) -> None:
        if note:
            fig.text(0.01, 0.01, f"{territory.name} — {note}", fontsize=8, color="#555")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        path = out / f"{name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight")
        plt.close(fig)
        written.append(path)

    if territory.quartiers is not None:
        fig, ax = base("Équipements et services" if fr else "Facilities and services")
        if territory.facilities is not None:
            fac = territory.metric("facilities")
            cmap = plt.get_cmap("tab20")
            for i, (kind, grp) in enumerate(sorted(fac.groupby("kind"), key=lambda x: x[0])):
                grp.plot(
                    ax=ax, color=cmap(i % 20), markersize=18, label=_kind_label(str(kind), lang)
                )
        save(fig, ax, "overview")

    areas = metrics.layers.get("service_areas")
    if areas is not None and len(areas):
        fig, ax = base(
            "Accès à pied aux aires de jeux d'eau" if fr else "Walking access to water play areas"
        )
        sel = areas[areas["kind"] == "water_play_area"].sort_values("threshold_m", ascending=False)
        for (_, row), colour in zip(sel.iterrows(), ("#9ecae1", "#3182bd"), strict=False):
            gpd.GeoSeries([row.geometry], crs=areas.crs).plot(
                ax=ax,
                color=colour,
                alpha=0.6,
                label=f"{row['threshold_m']:g} m " + ("à pied" if fr else "walk"),
            )
        if territory.facilities is not None:
            fac = territory.metric("facilities")
            wpa = fac[fac["kind"] == "water_play_area"]
            if len(wpa):
                wpa.plot(
                    ax=ax,
                    color="#08519c",
                    markersize=40,
                    marker="*",
                    label=_kind_label("water_play_area", lang),
                )
        save(fig, ax, "accessibility")

    if any(getattr(territory, k) is not None for k in ("desealed_areas", "tree_plantings")):
        fig, ax = base("Renaturation")
        if territory.green_spaces is not None:
            territory.metric("green_spaces").plot(
                ax=ax, color="#a1d99b", label="Espaces verts" if fr else "Green spaces"
            )
        if territory.desealed_areas is not None:
            territory.metric("desealed_areas").plot(
                ax=ax,
                color="#e6550d",
                label="Surfaces désimperméabilisées" if fr else "De-sealed areas",
            )
        if territory.tree_plantings is not None:
            territory.metric("tree_plantings").plot(
                ax=ax,
                color="#006d2c",
                markersize=6,
                label="Arbres plantés" if fr else "Trees planted",
            )
        save(fig, ax, "renaturation")

    if territory.renewal_sites is not None:
        fig, ax = base("Renouvellement urbain (NPNRU)" if fr else "Urban renewal (NPNRU)")
        sites = territory.metric("renewal_sites")
        colours = OPERATION_COLOURS
        for op, grp in sites.groupby("operation"):
            grp.plot(
                ax=ax,
                color=colours.get(str(op), "#777"),
                alpha=0.8,
                label=value_label("operation", str(op), lang),
            )
        save(fig, ax, "renewal")

    ind = metrics.tables.get("indicators")
    if ind is not None and len(ind):
        latest = ind[ind["value"].notna()]
        if len(latest):
            year = latest["year"].max()
            latest = latest[latest["year"] == year]
            wanted = [
                i
                for i in (
                    "median_income",
                    "poverty_rate",
                    "rsa_share",
                    "unemployment_rate",
                    "gini",
                    "no_diploma_share",
                )
                if i in set(latest["indicator"])
            ]
            if wanted:
                from cdv_geo.indicators import INDICATORS

                ncol = min(3, len(wanted))
                nrow = -(-len(wanted) // ncol)
                fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), dpi=120)
                axes = np.atleast_1d(axes).ravel()
                for ax in axes[len(wanted) :]:
                    ax.set_axis_off()
                for ax, name in zip(axes, wanted, strict=False):
                    spec = INDICATORS[name]
                    sel = latest[latest["indicator"] == name]
                    labels = [str(x) for x in sel.get("name", sel["code"])]
                    values = sel["value"].to_numpy(dtype=float)
                    if spec.unit == "fraction":  # shares are fractions; show percentages
                        values = values * 100
                    bars = ["#5b2a86" if lv == "qpv" else "#9e9e9e" for lv in sel["level"]]
                    ax.barh(labels, values, color=bars)
                    unit = {"fraction": "%", "EUR": "€"}.get(spec.unit, "")
                    title = spec.label_fr if fr else spec.label_en
                    ax.set_title(f"{title}{f' ({unit})' if unit else ''}", fontsize=8)
                    ax.tick_params(labelsize=7)
                fig.suptitle(("Indicateurs " if fr else "Indicators ") + str(year))
                if note:
                    fig.text(0.01, 0.01, note, fontsize=8, color="#555")
                path = out / "indicators.png"
                fig.tight_layout()
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, format="png", bbox_inches="tight")
                plt.close(fig)
                written.append(path)
    return written


# --- the committee bundle -------------------------------------------------------------------------


def _table_html(df: pd.DataFrame, lang: str) -> str:
    shown = _labelled(df, lang)
    more = ""
    if len(shown) > 50:
        rest = "lignes de plus dans le fichier" if lang == "fr" else "more rows in the file"
        more = f"<p>… {len(shown) - 50} {rest}</p>"
        shown = shown.head(50)
    body = shown.to_html(
        escape=True, na_rep="–", float_format=lambda v: f"{v:,.2f}", border=0, classes="table"
    )
    return f'<div class="scroll">{body}</div>{more}'


def _key_figures_html(kf: pd.DataFrame, lang: str) -> str:
    """Key figures as the committee reads them: one column per quartier, formatted values."""
    from cdv_geo.maps._style import fmt_area, fmt_number, fmt_percent

    e = html.escape
    names = [str(n) for n in kf["name"]]
    rows = []
    for col in kf.columns:
        if col in ("code", "name"):
            continue
        cells = []
        for v in kf[col]:
            if "_share" in col or col.startswith("impervious_"):
                cells.append(fmt_percent(v, lang, 1 if col.startswith("impervious_") else 0))
            elif col.endswith("_m2"):
                cells.append(fmt_area(v, lang))
            else:
                cells.append(fmt_number(v, lang))
        # values carry their unit here (44 %, 4 835 m²): drop it from the label
        label = column_label(col, lang=lang).replace(" (0–1)", "").replace(" (m²)", "")
        if col.startswith("impervious_"):
            year = col.split("_")[-1]
            label = (
                f"Surface imperméabilisée ({year})"
                if lang == "fr"
                else f"Impervious surface ({year})"
            )
        rows.append(
            f"<tr><th>{e(label)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>"
        )
    head = "<tr><th></th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"
    return f'<div class="scroll"><table class="table">{head}{"".join(rows)}</table></div>'


def _map_title(name: str, territory: Territory, lang: str) -> str:
    """Human title of a committee map file name (``quartier_presles`` -> "Quartier Presles")."""
    from cdv_geo.maps._style import label

    if name.startswith("quartier_") and territory.quartiers is not None:
        from cdv_geo.maps.compose import _slug

        for q in territory.quartiers["name"]:
            if _slug(str(q)) == name.removeprefix("quartier_"):
                return label("title_quartier", lang, quartier=q, territory=territory.name)
    titles = {
        "overview": ("Vue d'ensemble", "Overview"),
        "accessibility": ("Accès à pied aux services", "Walking access to services"),
        "renaturation": (
            "Renaturation : désimperméabilisation et arbres",
            "Renaturation: de-sealing and trees",
        ),
        "renewal": ("Renouvellement urbain (NPNRU)", "Urban renewal (NPNRU)"),
        "indicators": ("Indicateurs socio-économiques", "Socio-economic indicators"),
    }
    pair = titles.get(name)
    return pair[0 if lang == "fr" else 1] if pair else name


def build_report(
    territory: Territory,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "fr",
    assets: str = "cdn",
    asset_dir: str | os.PathLike[str] | None = None,
    formats: Sequence[str] = ("csv", "xlsx", "gpkg"),
    maps: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Write the committee pack of a territory and return the path of its ``index.html``.

    The pack holds the metric tables (:func:`write_tables`), the derived layers, the committee
    maps (``cdv_geo.maps``), static PNG figures (:func:`static_figures`) and an ``index.html``
    with the key figures per quartier, the tables and links to the maps. Every text taken from the
    data is HTML-escaped.

    Parameters
    ----------
    territory : Territory
    out_dir : path-like
        Output folder (created).
    lang : {"fr", "en"}
    assets : {"cdn", "inline"}
        How maps reference their JavaScript/CSS (see :func:`cdv_geo.maps.save_map`).
    asset_dir : path-like, optional
        Where the JavaScript/CSS files are for ``assets="inline"``.
    formats : sequence of str
        Table formats.
    maps : bool, default True
        Write the interactive maps.
    progress : callable, optional
        Progress wrapper for long steps.

    Returns
    -------
    pathlib.Path
    """
    if lang not in ("fr", "en"):
        raise CdvGeoError(f"unknown language {lang!r}; use 'fr' or 'en'")
    if not territory.layers():
        raise CdvGeoError(
            f"territory {territory.name!r} has no layer; add layers under [layers] in the "
            "project file (cdv-geo init writes a template)"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = compute_metrics(territory, progress=progress)
    tables = write_tables(metrics, out / "tables", formats=formats, lang=lang)
    figures = static_figures(territory, metrics, out / "figures", lang=lang)
    map_files: dict[str, Path] = {}
    if maps:
        from cdv_geo.maps import build_committee_maps

        map_files = dict(
            build_committee_maps(
                territory,
                out,
                metrics=metrics.as_dict(),
                lang=lang,
                assets=assets,  # type: ignore[arg-type]
                asset_dir=asset_dir,
                progress=progress,
            )
        )
    return _write_index(territory, metrics, out, tables, figures, map_files, lang)


def _write_index(
    territory: Territory,
    metrics: Metrics,
    out: Path,
    tables: list[Path],
    figures: list[Path],
    map_files: dict[str, Path],
    lang: str,
) -> Path:
    fr = lang == "fr"
    e = html.escape
    title = f"Contrat de ville — {territory.name}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
        "padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "th:first-child,td:first-child{text-align:left}.note{color:#8a4b00}"
        "img{max-width:100%;border:1px solid #ddd}.scroll{overflow-x:auto}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if territory.illustrative:
        parts.append(
            '<p class="note"><strong>'
            + ("Données illustratives" if fr else "Illustrative data")
            + "</strong> — "
            + e("démonstration, pas des relevés réels" if fr else "a demo, not surveyed data")
            + "</p>"
        )
    if territory.attribution:
        parts.append(f"<p>{e(territory.attribution)}</p>")
    if map_files:
        parts.append(f"<h2>{'Cartes' if fr else 'Maps'}</h2><ul>")
        for name, path in map_files.items():
            rel = os.path.relpath(path, out)
            parts.append(f'<li><a href="{e(rel)}">{e(_map_title(name, territory, lang))}</a></li>')
        parts.append("</ul>")
    kf = metrics.tables.get("key_figures")
    if kf is not None:
        parts.append(f"<h2>{'Chiffres clés par quartier' if fr else 'Key figures'}</h2>")
        parts.append(_key_figures_html(kf, lang))
    if figures:
        parts.append("<h2>Figures</h2>")
        for fig in figures:
            rel = os.path.relpath(fig, out)
            parts.append(f'<p><img src="{e(rel)}" alt="{e(fig.stem)}"></p>')
    parts.append(f"<h2>{'Tableaux' if fr else 'Tables'}</h2>")
    for name in sorted(metrics.tables):
        if name == "key_figures":
            continue
        t_fr, t_en, what = TABLES.get(name, (name, name, ""))
        parts.append(f"<h3>{e(t_fr if fr else t_en)}</h3><p>{e(what)}</p>")
        parts.append(_table_html(metrics.tables[name], lang))
    files = [p for p in tables]
    if files:
        parts.append(f"<h2>{'Fichiers' if fr else 'Files'}</h2><ul>")
        for p in files:
            parts.append(f'<li><a href="{e(os.path.relpath(p, out))}">{e(p.name)}</a></li>')
        parts.append("</ul>")
    if metrics.notes:
        parts.append(f"<h2>{'Remarques' if fr else 'Notes'}</h2><ul>")
        parts.extend(f"<li>{e(n)}</li>" for n in metrics.notes)
        parts.append("</ul>")
    parts.append("</body></html>")
    path = out / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path
