"""The French/English labels of cdv_geo: one catalogue for maps, tables and reports.

Everything the package *says* to a reader lives here, in both languages, so that ``lang="en"``
switches every label at once and a planner can find (and fix) the wording in one place. French is
the default: the maps and tables are made for a French steering committee.

- :func:`label` -- furniture, titles, layer names, key figures (``LABELS``);
- :func:`value_label` -- enumerated values (facility kind, NPNRU operation, status...);
- :func:`column_label` -- the header of a result-table column, with its unit;
- :func:`fmt_number`, :func:`fmt_percent`, :func:`fmt_area`, :func:`fmt_distance`, :func:`kv` --
  numbers as a French (``1 234,5``) or English (``1,234.5``) reader expects them.

Labels are plain text: whoever puts them in HTML escapes them.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from cdv_geo.core import labels_evaluation as ev
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.labels_actions import ACTION_COLUMN_LABELS, ACTION_LABELS
from cdv_geo.core.labels_columns import MORE_COLUMN_LABELS, MORE_VALUE_LABELS
from cdv_geo.core.labels_heat import HEAT_COLUMN_LABELS, HEAT_LABELS
from cdv_geo.core.labels_kinds import FACILITY_LABELS, kind_label
from cdv_geo.core.labels_maps import MAP_LABELS
from cdv_geo.core.labels_report import REPORT_LABELS
from cdv_geo.core.labels_rows import ROW_LABELS

__all__ = [
    "COLUMN_LABELS",
    "FACILITY_LABELS",
    "HOUSING_LABELS",
    "KEY_FIGURE_LABELS",
    "LABELS",
    "LANGS",
    "OPERATION_LABELS",
    "POPULATION_SOURCE_LABELS",
    "SITE_TYPE_LABELS",
    "STATUS_LABELS",
    "TENURE_LABELS",
    "UNIT_SUFFIXES",
    "VALUE_LABELS",
    "check_lang",
    "column_label",
    "fmt_area",
    "fmt_distance",
    "fmt_number",
    "fmt_percent",
    "is_missing",
    "kind_label",
    "kv",
    "label",
    "value_label",
]

#: The languages every label exists in (French first: the default).
LANGS = ("fr", "en")

#: One entry per label: (French, English). Keys are stable identifiers used by the code.
LABELS: dict[str, tuple[str, str]] = {
    # --- map furniture
    "legend": ("Légende", "Legend"),
    "key_figures": ("Chiffres clés", "Key figures"),
    "layers": ("Couches", "Layers"),
    "fullscreen": ("Plein écran", "Full screen"),
    "fullscreen_exit": ("Quitter le plein écran", "Exit full screen"),
    "illustrative": (
        "données illustratives (démonstration), non officielles",
        "illustrative data (demo), not official",
    ),
    "source": ("Source", "Source"),
    "missing_layers": ("Couches non affichées", "Layers not shown"),
    "no_data": ("n.d.", "n/a"),
    "secret": ("secret statistique", "statistical secrecy"),
    "total": ("Ensemble", "All"),
    "inside_quartiers": ("dans les quartiers", "inside the quartiers"),
    "year": ("Année", "Year"),
    "unit": ("Unité", "Unit"),
    "status": ("Avancement", "Status"),
    "none": ("aucune", "none"),
    # --- map titles
    "title_overview": ("Contrat de ville — {territory} : vue d'ensemble", "{territory}: overview"),
    "title_quartier": ("Quartier {quartier} ({territory})", "Quartier {quartier} ({territory})"),
    "title_accessibility": (
        "Accès à pied : {service} — {territory}",
        "Walking access: {service} — {territory}",
    ),
    "title_renaturation": (
        "Renaturation : désimperméabilisation et arbres — {territory}",
        "Renaturation: de-sealing and trees — {territory}",
    ),
    "title_renewal": (
        "Renouvellement urbain (NPNRU) — {territory}",
        "Urban renewal (NPNRU) — {territory}",
    ),
    "title_indicators": ("Indicateurs — {territory}", "Indicators — {territory}"),
    # --- layers
    "layer_communes": ("Commune", "Municipality"),
    "layer_quartiers": ("Quartiers prioritaires (QPV)", "Priority neighbourhoods (QPV)"),
    "layer_facilities": ("Équipements et services", "Facilities and services"),
    "layer_service_areas": ("Zones de desserte : {service}", "Service areas: {service}"),
    "layer_renewal_sites": ("Opérations NPNRU", "NPNRU renewal operations"),
    "layer_desealed_areas": ("Surfaces désimperméabilisées", "De-sealed areas"),
    "layer_tree_plantings": ("Plantations d'arbres", "Tree plantings"),
    "layer_green_spaces": ("Espaces verts", "Green spaces"),
    "layer_residences": (
        "Logements : temps à pied vers {service}",
        "Homes: walking time to {service}",
    ),
    "layer_residences_plain": ("Résidences", "Residences"),
    "layer_streets": ("Rues", "Streets"),
    "layer_raster_impervious": ("Imperméabilisation {year}", "Impervious surfaces {year}"),
    "layer_raster_canopy": ("Canopée {year}", "Tree canopy {year}"),
    "layer_raster_change": (
        "Évolution de l'imperméabilisation {year}",
        "Change in impervious surfaces {year}",
    ),
    # --- why a layer is missing (notes of compose and of report.compute_metrics)
    "missing_layer": ("couche « {layer} » absente du territoire", "no {layer} layer"),
    "missing_raster": ("raster « {name} » absent", "no raster “{name}”"),
    "missing_table": ("table « {name} » absente", "no table “{name}”"),
    # --- field labels
    "name": ("Nom", "Name"),
    "kind": ("Type", "Type"),
    "opened": ("Ouverture", "Opened"),
    "operation": ("Opération", "Operation"),
    "dwellings": ("Logements", "Dwellings"),
    "housing_type": ("Typologie", "Housing type"),
    "tenure": ("Statut d'occupation", "Tenure"),
    "site": ("Site", "Site"),
    "site_type": ("Type de site", "Site type"),
    "area": ("Surface", "Area"),
    "trees": ("Arbres", "Trees"),
    "species": ("Essence", "Species"),
    "crown_diameter_m": ("Diamètre du houppier", "Crown diameter"),
    "population": ("Habitants", "Residents"),
    "public": ("Accès", "Access"),
    "public_yes": ("public", "public"),
    "public_no": ("privé", "private"),
    "walk_time": ("Temps à pied", "Walking time"),
    "walk_distance": ("Distance à pied", "Walking distance"),
    "nearest": ("Le plus proche", "Nearest"),
    "unreachable": ("hors réseau / injoignable", "off network / unreachable"),
    "code": ("Code", "Code"),
    # --- key figures
    "kf_coverage": (
        "Habitants à {threshold} min à pied : {service}",
        "Residents within {threshold} min walk: {service}",
    ),
    "kf_impervious": ("Surface imperméabilisée ({year})", "Impervious surface ({year})"),
    "kf_impervious_latest": ("Surface imperméabilisée", "Impervious surface"),
    "kf_impervious_change": (
        "Évolution de l'imperméabilisation (points de %)",
        "Change in impervious surface (% points)",
    ),
    "kf_coverage_any": (
        "Habitants à proximité à pied : {service}",
        "Residents within walking distance: {service}",
    ),
    "kf_area": ("Surface", "Area"),
    "kf_net_change": ("Solde de logements", "Net change in dwellings"),
    "kf_rebuilt": (
        "Logements reconstruits (pour le quartier)",
        "Dwellings rebuilt (for the quartier)",
    ),
    "kf_received": (
        "Reconstruits ici pour un autre quartier",
        "Rebuilt here for another quartier",
    ),
    "kf_rehabilitated": ("Logements réhabilités", "Dwellings rehabilitated"),
    "kf_demolished": ("Logements démolis", "Dwellings demolished"),
    "kf_desealed": ("Surface désimperméabilisée", "De-sealed area"),
    "kf_trees": ("Arbres plantés", "Trees planted"),
    "kf_facilities": ("Équipements dans le quartier", "Facilities in the quartier"),
    "kf_population": ("Habitants", "Residents"),
    "kf_programme": ("Programme", "Programme"),
    "quartier": ("Quartier", "Quartier"),
    "indicators_none": (
        "aucun indicateur : ajoutez une table [tables] indicators au projet",
        "no indicators: add an [tables] indicators table to the project",
    ),
    "basemap_none": ("sans fond de carte", "no basemap"),
    "minimap_show": ("Afficher la mini-carte", "Show the overview map"),
    "minimap_hide": ("Masquer la mini-carte", "Hide the overview map"),
    "nothing_here": ("aucun élément dans ce quartier", "nothing in this quartier"),
    # --- service areas
    "band_network": ("{distance} à pied (réseau piéton)", "{distance} walk (street network)"),
    "band_euclidean": (
        "cercle de {distance} à vol d'oiseau (sans réseau piéton)",
        "{distance} straight-line circle (no street network)",
    ),
    "time_class": ("{lo}–{hi} min", "{lo}–{hi} min"),
    "time_first": ("moins de {hi} min", "under {hi} min"),
    "time_last": ("{lo} min et plus", "{lo} min or more"),
    # --- rasters
    "impervious_unit": ("% de surface imperméable", "% impervious"),
    "canopy_unit": ("% de couvert arboré", "% tree canopy"),
    "change_unit": ("points de % (négatif : désimperméabilisé)", "% points (negative: de-sealed)"),
    # --- trees
    "tree_points": ("{n} points de plantation", "{n} planting points"),
    "tree_heat": ("densité de plantations", "planting density"),
    # --- indicators
    "indicator_missing": ("indicateur « {name} » absent", "indicator “{name}” missing"),
    "commune_value": ("commune : {value}", "municipality: {value}"),
}


OPERATION_LABELS: dict[str, tuple[str, str]] = {
    "demolition": ("Démolition", "Demolition"),
    "reconstruction": ("Reconstruction", "Reconstruction"),
    "rehabilitation": ("Réhabilitation", "Rehabilitation"),
    "facade_requalification": ("Requalification de façades", "Facade upgrade"),
    "residentialisation": ("Résidentialisation", "Residentialisation"),
}

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "planned": ("prévu", "planned"),
    "in_progress": ("en cours", "in progress"),
    "done": ("réalisé", "done"),
}

SITE_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "school_yard": ("Cour d'école", "School yard"),
    "street": ("Rue", "Street"),
    "square": ("Place", "Square"),
    "car_park": ("Parking", "Car park"),
    "green_space": ("Espace vert", "Green space"),
    "other": ("Autre", "Other"),
}

HOUSING_LABELS: dict[str, tuple[str, str]] = {
    "collective": ("collectif", "collective"),
    "individual": ("individuel", "individual"),
}

TENURE_LABELS: dict[str, tuple[str, str]] = {
    "social": ("locatif social", "social rent"),
    "intermediate": ("intermédiaire", "intermediate rent"),
    "private_rental": ("locatif libre", "private rent"),
    "ownership": ("accession", "home ownership"),
    "private": ("privé", "private"),
}

#: The label key (in :data:`LABELS`) of each key-figure column (``metrics.key_figures``).
KEY_FIGURE_LABELS: dict[str, str] = {
    "n_residents": "kf_population",
    "area_m2": "kf_area",
    "n_facilities": "kf_facilities",
    "coverage_share": "kf_coverage",
    "n_demolished": "kf_demolished",
    "n_rebuilt": "kf_rebuilt",
    "n_received": "kf_received",
    "n_rehabilitated": "kf_rehabilitated",
    "desealed_m2": "kf_desealed",
    "n_trees": "kf_trees",
    "impervious_share": "kf_impervious",
    "impervious_change_pp": "kf_impervious_change",
}

#: Where a quartier's population comes from (:mod:`cdv_geo.metrics.population`).
POPULATION_SOURCE_LABELS: dict[str, tuple[str, str]] = {
    k.removeprefix("population_source_"): v
    for k, v in ROW_LABELS.items()
    if k.startswith("population_source_")
}

VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "kind": FACILITY_LABELS,
    "population_source": POPULATION_SOURCE_LABELS,
    "operation": OPERATION_LABELS,
    "status": STATUS_LABELS,
    "site_type": SITE_TYPE_LABELS,
    "housing_type": HOUSING_LABELS,
    "tenure": TENURE_LABELS,
    **MORE_VALUE_LABELS,
}

#: Hand-written headers of the result-table columns: (French, English).
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "id": ("Identifiant", "Id"),
    "code": ("Code", "Code"),
    "name": ("Nom", "Name"),
    "kind": ("Type de service", "Service type"),
    "year": ("Année", "Year"),
    "population": ("Population (hab.)", "Population (residents)"),
    "population_source": ("Source de la population", "Population source"),
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
LABELS.update(HEAT_LABELS)  # heat and water (issue 14): cdv_geo.core.labels_heat
LABELS.update(MAP_LABELS)  # the maps: cdv_geo.core.labels_maps
LABELS.update(REPORT_LABELS)  # the dossier and index: cdv_geo.core.labels_report
LABELS.update(ROW_LABELS)  # comparison rows, population: cdv_geo.core.labels_rows
LABELS.update(ACTION_LABELS)  # actions, TFPB, annual report: cdv_geo.core.labels_actions
COLUMN_LABELS = {
    **HEAT_COLUMN_LABELS,
    **MORE_COLUMN_LABELS,
    **ACTION_COLUMN_LABELS,
    **COLUMN_LABELS,
}
LABELS.update(ev.EVALUATION_LABELS)  # Évolution comparée: cdv_geo.core.labels_evaluation
COLUMN_LABELS = {**ev.EVALUATION_COLUMN_LABELS, **COLUMN_LABELS}
VALUE_LABELS.update(
    {f: {**VALUE_LABELS.get(f, {}), **v} for f, v in ev.EVALUATION_VALUE_LABELS.items()}
)
#: Column-name suffixes and the unit they spell: (suffix, French, English).
UNIT_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    ("_distance_m", "distance à pied (m)", "walking distance (m)"),
    ("_time_min", "temps à pied (min)", "walking time (min)"),
    ("_facility_id", "équipement le plus proche", "nearest facility"),
    ("_share", "part (0–1)", "share (0–1)"),
    ("_ratio", "ratio", "ratio"),
    ("_m2", "(m²)", "(m²)"),
    ("_ha", "(ha)", "(ha)"),
    ("_pp", "(points de %)", "(percentage points)"),
)


def check_lang(lang: str) -> str:
    """Return `lang` if the maps speak it, else raise :class:`~cdv_geo.CdvGeoError`.

    Examples
    --------
    >>> check_lang("fr")
    'fr'
    >>> check_lang("de")
    Traceback (most recent call last):
    ...
    cdv_geo.core.errors.CdvGeoError: lang='de' is not available; use lang="fr" or lang="en"
    """
    if lang not in LANGS:
        raise CdvGeoError(f'lang={lang!r} is not available; use lang="fr" or lang="en"')
    return lang


def label(key: str, lang: str = "fr", **fmt: Any) -> str:
    """Return the label `key` in `lang`, formatted with `fmt` (plain text, not escaped).

    Examples
    --------
    >>> label("legend", "fr"), label("legend", "en")
    ('Légende', 'Legend')
    >>> label("title_quartier", "fr", quartier="Presles", territory="Soissons")
    'Quartier Presles (Soissons)'
    """
    fr, en = LABELS[key]
    text = fr if check_lang(lang) == "fr" else en
    return text.format(**fmt) if fmt else text


def value_label(field: str, value: Any, lang: str = "fr") -> str:
    """Return the display label of an enumerated value (facility kind, operation, status...).

    Unknown values are returned as they are, so that a new value still shows up.

    Examples
    --------
    >>> value_label("kind", "water_play_area")
    "Aire de jeux d'eau"
    >>> value_label("operation", "demolition", "en")
    'Demolition'
    >>> value_label("status", "zzz")
    'zzz'
    """
    if field == "kind" and not is_missing(value):  # open kinds: BPE labels, readable tokens
        return kind_label(value, check_lang(lang))
    table = VALUE_LABELS.get(field, {})
    pair = table.get(str(value))
    if pair is None:
        return "" if is_missing(value) else str(value)
    return pair[0] if check_lang(lang) == "fr" else pair[1]


def is_missing(value: Any) -> bool:
    """Return True for None, NaN and ``pd.NA`` (array-likes are not "missing").

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0), is_missing([1])
    (True, True, False, False)
    """
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes are not "missing"
        return False


def column_label(column: str, *, lang: str = "fr") -> str:
    """Return the table label of a column, with its unit.

    Known columns have a hand-written label; ``<kind>_distance_m``-like columns are named after
    the facility kind; another column reads as its words (no underscore), with its unit.

    Examples
    --------
    >>> column_label("water_play_area_time_min")
    "Aire de jeux d'eau : temps à pied (min)"
    >>> column_label("ludotheque_distance_m", lang="en")
    'Ludotheque: walking distance (m)'
    >>> column_label("name", lang="en")
    'Name'
    >>> column_label("health_centre_share_5min")
    'Maison de santé à 5 min à pied : part des habitants (0–1)'
    >>> column_label("impervious_m2")
    'Surface imperméabilisée (m²)'
    >>> column_label("new_thing_share")
    'New thing : part (0–1)'
    """
    i = 0 if check_lang(lang) == "fr" else 1
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column][i]
    share = re.fullmatch(r"(\w+)_share_(\d+(?:\.\d+)?)min", column)
    if share and share.group(1) in FACILITY_LABELS:
        minutes = share.group(2)
        kind = kind_label(share.group(1), lang)
        if i == 0:
            return f"{kind} à {minutes} min à pied : part des habitants (0–1)"
        return f"{kind} within {minutes} min walk: share of residents (0–1)"
    colon = " : " if i == 0 else ": "
    for suffix, fr, en in UNIT_SUFFIXES:
        if column.endswith(suffix) and len(column) > len(suffix):
            stem = column[: -len(suffix)]
            if stem in FACILITY_LABELS or suffix in _WALK_SUFFIXES:
                return f"{kind_label(stem, lang)}{colon}{fr if i == 0 else en}"
            words = _words(stem)
            if suffix[1:] in ("m2", "ha", "pp"):
                return f"{words} {fr if i == 0 else en}"
            return f"{words}{colon}{fr if i == 0 else en}"
    return _words(column)


# Suffixes only the per-facility-kind columns have (``<kind>_time_min``...).
_WALK_SUFFIXES = ("_distance_m", "_time_min", "_facility_id")


def _words(name: str) -> str:
    """Return a column name as words: ``new_thing`` -> ``New thing``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def kv(name: str, value: Any, lang: str = "fr") -> str:
    """Return ``name : value`` with the colon of the language (spaced in French).

    Examples
    --------
    >>> kv("Source", "Insee", "fr"), kv("Source", "Insee", "en")
    ('Source : Insee', 'Source: Insee')
    """
    return f"{name} : {value}" if check_lang(lang) == "fr" else f"{name}: {value}"


def fmt_number(value: Any, lang: str = "fr", decimals: int = 0) -> str:
    r"""Format a number for display: ``1 234,5`` in French, ``1,234.5`` in English.

    Missing values give ``n.d.`` (``n/a``).

    Examples
    --------
    >>> fmt_number(1234.5, "fr", 1)
    '1\u202f234,5'
    >>> fmt_number(1234.5, "en", 1)
    '1,234.5'
    >>> fmt_number(None), fmt_number(-0.01, "fr", 1)
    ('n.d.', '0,0')
    """
    try:
        if is_missing(value):
            return label("no_data", lang)
        x = float(value)
    except (TypeError, ValueError):
        return label("no_data", lang)
    if not math.isfinite(x):
        return label("no_data", lang)
    x = round(x, decimals) + 0.0  # "-0,0" says a fall that is not there: 0,0
    text = f"{x:,.{decimals}f}"
    if check_lang(lang) == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def fmt_percent(share: Any, lang: str = "fr", decimals: int = 0) -> str:
    r"""Format a share in [0, 1] as a percentage (``42 %`` in French, ``42%`` in English).

    Examples
    --------
    >>> fmt_percent(0.4234, "fr"), fmt_percent(0.4234, "en", 1)
    ('42\xa0%', '42.3%')
    """
    try:
        if is_missing(share):
            return label("no_data", lang)
        x = float(share) * 100
    except (TypeError, ValueError):
        return label("no_data", lang)
    num = fmt_number(x, lang, decimals)
    return f"{num}\u00a0%" if lang == "fr" else f"{num}%"


def fmt_area(m2: Any, lang: str = "fr") -> str:
    r"""Format an area given in m²: m² below one hectare, hectares above.

    Examples
    --------
    >>> fmt_area(850), fmt_area(25_000, "en")
    ('850\xa0m²', '2.50\xa0ha')
    """
    try:
        if is_missing(m2):
            return label("no_data", lang)
        x = float(m2)
    except (TypeError, ValueError):
        return label("no_data", lang)
    if abs(x) < 10_000:
        return f"{fmt_number(x, lang, 0)}\u00a0m²"
    return f"{fmt_number(x / 10_000, lang, 2)}\u00a0ha"


def fmt_distance(m: float, lang: str = "fr") -> str:
    r"""Format a distance given in metres (``300 m``, ``1,2 km``).

    Examples
    --------
    >>> fmt_distance(300), fmt_distance(1200, "en")
    ('300\xa0m', '1.2\xa0km')
    """
    if m < 1000:
        return f"{fmt_number(m, lang, 0)}\u00a0m"
    return f"{fmt_number(m / 1000, lang, 1)}\u00a0km"


# --- output: the tables, figures and committee bundle (helper "pipeline") -------------------------

LABELS.update(
    {
        # static figures
        "fig_illustrative": ("Données illustratives", "Illustrative data"),
        "fig_access": ("Accès à pied : {service}", "Walking access: {service}"),
        "fig_walk_band": ("{distance} à pied", "{distance} walk"),
        "fig_renaturation": ("Renaturation", "Renaturation"),
        "fig_renewal": ("Renouvellement urbain (NPNRU)", "Urban renewal (NPNRU)"),
        "fig_indicators": ("Indicateurs {year}", "Indicators {year}"),
        # the committee bundle (index.html)
        "report_title": ("Contrat de ville — {territory}", "Contrat de ville — {territory}"),
        "report_illustrative": (
            "démonstration, pas des relevés réels",
            "a demo, not surveyed data",
        ),
        "report_maps": ("Cartes", "Maps"),
        "report_key_figures": ("Chiffres clés par quartier", "Key figures per quartier"),
        "report_figures": ("Figures", "Figures"),
        "report_tables": ("Tableaux", "Tables"),
        "report_files": ("Fichiers", "Files"),
        "report_notes": ("Remarques", "Notes"),
        "report_more_rows": (
            "… {n} lignes de plus dans le fichier",
            "… {n} more rows in the file",
        ),
    }
)
