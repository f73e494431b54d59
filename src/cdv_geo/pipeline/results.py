"""The result of a pipeline run: :class:`Metrics` (one named field per table) and :class:`Note`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from cdv_geo.core.labels import LABELS, fmt_number, fmt_percent, label
from cdv_geo.core.rows import row_label

__all__ = [
    "ACTION_TABLES",
    "LAYER_FIELDS",
    "SERVICE_TABLES",
    "TABLES",
    "TABLE_FIELDS",
    "Metrics",
    "Note",
]

#: Every table the package computes: name -> (French title, English title, what it answers).
TABLES: dict[str, tuple[str, str, str]] = {
    "key_figures": (
        "Chiffres clés par quartier",
        "Key figures per quartier",
        "residents, area, facilities, walking coverage, renewal, de-sealing, trees, imperviousness",
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
    "impervious_change": (
        "Évolution de l'imperméabilisation",
        "Change in imperviousness",
        "change of the impervious share between the first and last raster years",
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
    "children_access": (
        "Enfants à pied d'une aire de jeux d'eau",
        "Children within walking distance of a water play area",
        "share of children (0-17, and 3-10) within N minutes' walk of a water play area",
    ),
    "heat_exposure": (
        "Exposition à la chaleur",
        "Heat exposure",
        "mean and 90th percentile of the heat raster, residents and children in the town's "
        "hottest decile",
    ),
    "cool_access": (
        "Accès à pied aux lieux frais",
        "Walking access to cool places",
        "share of residents and children within N minutes' walk of a cool place (water play "
        "area, fountain, public park of 0.5 ha or more)",
    ),
    "incidents": (
        "Poteaux ouverts avant / après les aires de jeux d'eau",
        "Hydrant incidents before / after the water play areas",
        "incidents per summer near each play area and in the rest of the town, before and after "
        "it opened: rate ratios with their 95 % interval (descriptive, not causal)",
    ),
    "site_choice": (
        "Sites suggérés pour de nouvelles aires de jeux d'eau",
        "Suggested sites for new water play areas",
        "the candidate sites (public green spaces, school yards) that newly cover the most "
        "children within a short walk (maximal covering location problem)",
    ),
    "evaluation": (
        "Évolution comparée",
        "Compared change",
        "each quartier against comparable quartiers of France and its synthetic twin: "
        "estimate, interval or probability, pre-period fit, verdict in words",
    ),
}

#: The contrat's own tables (:mod:`cdv_geo.pipeline.actions`): name -> (French title, English
#: title, what it answers); among :data:`TABLES` (written to CSV/XLSX like every other).
ACTION_TABLES: dict[str, tuple[str, str, str]] = {
    "ledger": (
        "Actions du contrat de ville et leur financement",
        "The contrat's actions and their funding",
        "actions, euros and beneficiaries per quartier, per inhabitant and per 100 residents",
    ),
    "tfpb": (
        "Contreparties à l'abattement de TFPB",
        "Counterparts of the TFPB abatement",
        "abatement, counterparts and balance per landlord, quartier and year",
    ),
}

TABLES.update(ACTION_TABLES)
#: Access that counts capacity and opening hours, and the commercial centre
#: (:mod:`cdv_geo.pipeline.services`): name -> (French title, English title, what it answers).
SERVICE_TABLES: dict[str, tuple[str, str, str]] = {
    "capacity_access": (
        "Accès aux services selon leur capacité",
        "Access to services by their capacity",
        "floating-catchment access (E2SFCA, as the DREES APL): the capacity of the services "
        "within walking reach per 10,000 residents, per quartier and kind",
    ),
    "open_hours": (
        "Heures d'ouverture à portée de marche",
        "Opening hours within walking reach",
        "weekly hours when a service of each kind is open within N minutes' walk, per resident",
    ),
    "open_moments": (
        "Services ouverts à des moments clés",
        "Services open at key moments",
        "share of residents with a service of each kind open within reach on Wednesday "
        "afternoon, Saturday morning, after 18:00",
    ),
    "opening_strip": (
        "Semaine type des services ouverts",
        "Typical week of open services",
        "share of residents with a service of each kind open within reach, per day and hour",
    ),
    "retail_density": (
        "Densité commerciale",
        "Retail density",
        "shops (or sales area) per 1,000 inhabitants per quartier",
    ),
    "commercial_catchment": (
        "Zone de chalandise des centres commerciaux",
        "Commercial centres' catchment",
        "share of each quartier's residents its own commercial centres retain (Huff model)",
    ),
}
TABLES.update(SERVICE_TABLES)

#: The names of the table fields of :class:`Metrics`, in order.
TABLE_FIELDS = tuple(TABLES)
#: The names of the layer fields of :class:`Metrics`.
LAYER_FIELDS = (
    "service_areas",
    "residences_services",
    "commercial_centres",
    "residences_access",
    "residences_3_30_300",
    "quartiers_figures",
    "residences_heat",
    "water_service_areas",
    "suggested_sites",
    "hydrant_incidents",
)


@dataclass(frozen=True)
class Note:
    """One note of a run: an output left out for want of an input, a method, a warning.

    Attributes
    ----------
    key : str
        The label key the maps and the report show it with (``cdv_geo.core.labels``):
        ``missing_layer``, ``missing_raster``, ``missing_table`` (an output skipped for want of
        an input), ``method`` (how a result was obtained, e.g. straight-line distances),
        ``warning_<topic>`` (a metric of the topic warned about its data: the warning itself
        is in the log) or ``population_gap`` (two loaded populations of a row differ by more
        than 10 %).
    topic : str
        What it is about: ``access``, ``renaturation``, ``renewal``, ``indicators``,
        ``network``, ``key_figures``, ``heat`` (heat raster, cool places), ``water`` (water
        play areas, incidents, site choice) or ``services`` (capacity, opening hours,
        commercial centres); each map shows the notes of its topics.
    text : str
        The note as a plain English sentence (for logs, the CLI and the tables' notes): never
        a file path nor an exception's text.
    args : dict
        The arguments of the label (e.g. ``{"layer": "residences"}``), as data: numbers stay
        numbers, a row is its key, a source its code; :meth:`label` formats them.

    Examples
    --------
    >>> n = Note("missing_layer", "access", "Coverage skipped: no residences layer.",
    ...          {"layer": "residences"})
    >>> n.key, n.args["layer"], str(n)
    ('missing_layer', 'residences', 'Coverage skipped: no residences layer.')
    >>> n.label("en")
    'no residences layer'
    """

    key: str
    topic: str
    text: str
    args: dict[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return self.text

    def label(self, lang: str = "fr") -> str:
        """Return the note as the reader sees it: its label in `lang`, else its text.

        The arguments are formatted for `lang`: a number as a number of the language
        (``5 528`` / ``5,528``), ``gap`` and ``*_share`` as a percentage, ``row`` through
        :func:`cdv_geo.core.rows.row_label` (with the ``town`` argument), ``*source`` as the
        label of the population source.

        Examples
        --------
        >>> n = Note("population_gap", "key_figures", "Presles: ...",
        ...          {"row": "hors_qpv", "town": "Soissons", "value": 18000.0,
        ...           "source": "official", "alt_value": 21500.0, "alt_source": "grid",
        ...           "gap": 0.1944})
        >>> n.label("en")  # doctest: +ELLIPSIS
        'Soissons outside priority neighbourhoods: 18,000 residents (...), but 21,500 ...19%)'
        """
        if self.key not in LABELS:
            return self.text
        shown = {k: _shown(k, v, self.args, lang) for k, v in self.args.items()}
        try:
            return label(self.key, lang, **shown)
        except (KeyError, IndexError, ValueError):  # a label whose arguments the note lacks
            return self.text


def _shown(name: str, value: Any, args: Mapping[str, Any], lang: str) -> Any:
    """Format the label argument `name` of a note for `lang` (see :meth:`Note.label`)."""
    if name == "row":
        return row_label(value, town=args.get("town"), lang=lang)
    if name.endswith("source") and f"population_source_{value}" in LABELS:
        return label(f"population_source_{value}", lang)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if name == "gap" or name.endswith("_share"):
        return fmt_percent(value, lang)
    return fmt_number(value, lang)


@dataclass
class Metrics:
    """The metric results of a territory, one named field per table and derived layer.

    A field is None when its output was not asked for or could not be computed; in the latter
    case :attr:`notes` says why. Every per-quartier table follows the result-table contract of
    :mod:`cdv_geo.core.tables` (see :data:`TABLES` for what each answers).

    Attributes
    ----------
    key_figures, coverage, nearest, desealing, trees, impervious, impervious_change, canopy, \
rule_3_30_300, green_space_access, renewal_balance, renewal_progress, renewal_timeline, \
indicators, indicator_gaps, indicator_trend, income_grid, children_access, heat_exposure, \
cool_access, incidents, site_choice, evaluation : pandas.DataFrame or None
        The tables (``evaluation``: :func:`cdv_geo.pipeline.evaluation.step_evaluation`).
    ledger, tfpb : pandas.DataFrame or None
        The contrat's own tables (:data:`ACTION_TABLES`): ``ledger`` is
        :func:`cdv_geo.metrics.ledger.ledger` of the project's actions over the run's
        population, ``tfpb`` :func:`cdv_geo.metrics.tfpb.tfpb_balance` of its TFPB statement.
    capacity_access, open_hours, open_moments, opening_strip, retail_density, \
commercial_catchment : pandas.DataFrame or None
        Access that counts capacity and opening hours, and the commercial centres
        (:data:`SERVICE_TABLES`, :func:`cdv_geo.pipeline.services.step_services`):
        ``capacity_access`` is :attr:`Catchment.table
        <cdv_geo.metrics.catchment.Catchment>` (index ``quartier``, ``kind``), ``open_hours``,
        ``open_moments`` and ``opening_strip`` are :class:`OpeningAccess
        <cdv_geo.metrics.opening_hours.OpeningAccess>`'s ``hours`` (its ``n_facilities``
        named ``n_facilities_of_kind``), ``moments`` and ``strip``,
        ``commercial_catchment`` is :attr:`Huff.table <cdv_geo.metrics.huff.Huff>` and
        ``retail_density`` :func:`cdv_geo.metrics.huff.retail_density` per 1,000 of the run's
        population.
    residences_services, commercial_centres : geopandas.GeoDataFrame or None
        The residences with ``quartier``, ``population``, ``<kind>_access_per_10k``,
        ``<kind>_open_hours_week``, ``main_centre``, ``main_centre_name`` and
        ``main_probability``; the commercial centres (points) with ``id``, ``name``, ``kind``,
        ``attractiveness``, ``quartier``, ``catchment_population``, ``n_homes_main`` (and
        ``illustrative`` when the layer has it).
    service_areas, residences_access, residences_3_30_300, quartiers_figures, \
residences_heat, water_service_areas, suggested_sites, hydrant_incidents : \
geopandas.GeoDataFrame or None
        Derived layers: service areas, residences with their walking times, residences with
        their 3-30-300 results, quartiers with their key figures, residences with their heat,
        the walking-time service areas of the water play areas, the suggested sites, the
        hydrants with their count of past incidents ``n_incidents`` (in :attr:`crs`).
    population : pandas.DataFrame or None
        The population rule's table (:func:`cdv_geo.metrics.population.quartier_population`):
        the one population, and its ``population_source``, that every table dividing by
        population used in this run (None when no such table was asked for).
    network : WalkNetwork or None
        The walking network used (None: straight-line distances).
    crs : pyproj.CRS or None
        The metric CRS every metric of the run measured in.
    notes : list of Note
        What was skipped and why, how results were obtained, the metrics' warnings.
    """

    key_figures: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    nearest: pd.DataFrame | None = None
    desealing: pd.DataFrame | None = None
    trees: pd.DataFrame | None = None
    impervious: pd.DataFrame | None = None
    impervious_change: pd.DataFrame | None = None
    canopy: pd.DataFrame | None = None
    rule_3_30_300: pd.DataFrame | None = None
    green_space_access: pd.DataFrame | None = None
    renewal_balance: pd.DataFrame | None = None
    renewal_progress: pd.DataFrame | None = None
    renewal_timeline: pd.DataFrame | None = None
    indicators: pd.DataFrame | None = None
    indicator_gaps: pd.DataFrame | None = None
    indicator_trend: pd.DataFrame | None = None
    income_grid: pd.DataFrame | None = None
    children_access: pd.DataFrame | None = None
    heat_exposure: pd.DataFrame | None = None
    cool_access: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None
    site_choice: pd.DataFrame | None = None
    ledger: pd.DataFrame | None = None
    tfpb: pd.DataFrame | None = None
    evaluation: pd.DataFrame | None = None
    capacity_access: pd.DataFrame | None = None
    open_hours: pd.DataFrame | None = None
    open_moments: pd.DataFrame | None = None
    opening_strip: pd.DataFrame | None = None
    retail_density: pd.DataFrame | None = None
    commercial_catchment: pd.DataFrame | None = None
    residences_services: gpd.GeoDataFrame | None = None
    commercial_centres: gpd.GeoDataFrame | None = None
    service_areas: gpd.GeoDataFrame | None = None
    residences_access: gpd.GeoDataFrame | None = None
    residences_3_30_300: gpd.GeoDataFrame | None = None
    quartiers_figures: gpd.GeoDataFrame | None = None
    residences_heat: gpd.GeoDataFrame | None = None
    water_service_areas: gpd.GeoDataFrame | None = None
    suggested_sites: gpd.GeoDataFrame | None = None
    hydrant_incidents: gpd.GeoDataFrame | None = None
    population: pd.DataFrame | None = None
    network: Any = None
    crs: CRS | None = None
    notes: list[Note] = field(default_factory=list)

    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The tables computed, by name (read-only; :data:`TABLE_FIELDS` order)."""
        return MappingProxyType({k: v for k in TABLE_FIELDS if (v := getattr(self, k)) is not None})

    @property
    def layers(self) -> Mapping[str, gpd.GeoDataFrame]:
        """The derived layers computed, by name (read-only)."""
        return MappingProxyType({k: v for k in LAYER_FIELDS if (v := getattr(self, k)) is not None})

    def notes_on(self, *topics: str) -> list[Note]:
        """Return the notes on any of `topics` (all notes when none is given)."""
        return [n for n in self.notes if not topics or n.topic in topics]
