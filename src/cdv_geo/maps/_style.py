"""Colours, pictograms and the French/English labels of the committee maps.

Everything a map *says* lives here, in both languages, so that ``lang="en"`` switches every
label at once and a planner can find (and fix) the wording in one place. French is the default:
the maps are made for a French steering committee.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from cdv_geo.core.errors import CdvGeoError

__all__ = [
    "FACILITY_STYLE",
    "LANGS",
    "OPERATION_COLOURS",
    "check_lang",
    "fmt_area",
    "fmt_number",
    "fmt_percent",
    "label",
]

LANGS = ("fr", "en")

# One entry per label: (French, English). Keys are stable identifiers used by the code.
_LABELS: dict[str, tuple[str, str]] = {
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
    "missing_raster": ("raster « {name} » absent", "no raster {name!r}"),
    "missing_table": ("table « {name} » absente", "no table {name!r}"),
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
    "indicator_missing": ("indicateur « {name} » absent", "indicator {name!r} missing"),
    "commune_value": ("commune : {value}", "municipality: {value}"),
}

_FACILITY_LABELS: dict[str, tuple[str, str]] = {
    "water_play_area": ("Aire de jeux d'eau", "Water play area"),
    "health_centre": ("Maison de santé", "Health centre"),
    "social_centre": ("Centre social", "Social centre"),
    "ccas": ("CCAS", "Municipal social services (CCAS)"),
    "education_programme": ("Réussite éducative", "Educational success programme"),
    "school": ("École", "School"),
    "shop": ("Commerce de proximité", "Local shop"),
    "police": ("Police municipale", "Municipal police"),
    "sports": ("Équipement sportif", "Sports facility"),
    "social_landlord_agency": ("Agence du bailleur social", "Social landlord office"),
    "womens_rights_centre": ("Droits des femmes", "Women's rights centre"),
    "youth_employment": ("Mission locale", "Youth employment (mission locale)"),
    "waste_point": ("Point d'apport volontaire", "Waste drop-off point"),
    "park": ("Parc, square", "Park"),
    "other": ("Autre équipement", "Other facility"),
}

_OPERATION_LABELS: dict[str, tuple[str, str]] = {
    "demolition": ("Démolition", "Demolition"),
    "reconstruction": ("Reconstruction", "Reconstruction"),
    "rehabilitation": ("Réhabilitation", "Rehabilitation"),
    "facade_requalification": ("Requalification de façades", "Facade upgrade"),
    "residentialisation": ("Résidentialisation", "Residentialisation"),
}

_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "planned": ("prévu", "planned"),
    "in_progress": ("en cours", "in progress"),
    "done": ("réalisé", "done"),
}

_SITE_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "school_yard": ("Cour d'école", "School yard"),
    "street": ("Rue", "Street"),
    "square": ("Place", "Square"),
    "car_park": ("Parking", "Car park"),
    "other": ("Autre", "Other"),
}

_HOUSING_LABELS: dict[str, tuple[str, str]] = {
    "collective": ("collectif", "collective"),
    "individual": ("individuel", "individual"),
}

_TENURE_LABELS: dict[str, tuple[str, str]] = {
    "social": ("locatif social", "social rent"),
    "intermediate": ("intermédiaire", "intermediate rent"),
    "private_rental": ("locatif libre", "private rent"),
    "ownership": ("accession", "home ownership"),
    "private": ("privé", "private"),
}

_VALUE_LABELS = {
    "kind": _FACILITY_LABELS,
    "operation": _OPERATION_LABELS,
    "status": _STATUS_LABELS,
    "site_type": _SITE_TYPE_LABELS,
    "housing_type": _HOUSING_LABELS,
    "tenure": _TENURE_LABELS,
}

# Simple pictograms in a 24x24 box, drawn with the marker's glyph colour. Inline SVG rather than
# an icon font: nothing to download, so the map also works offline and in `assets="inline"`.
_GLYPHS: dict[str, str] = {
    "drop": '<path d="M12 2.5C9 7.5 5.5 11 5.5 14.5a6.5 6.5 0 0 0 13 0C18.5 11 15 7.5 12 2.5z"/>',
    "cross": '<path d="M9.5 4h5v5.5H20v5h-5.5V20h-5v-5.5H4v-5h5.5z"/>',
    "people": (
        '<circle cx="9" cy="7.5" r="3.2"/><circle cx="16.5" cy="9" r="2.6"/>'
        '<path d="M2.5 20c0-4.2 2.9-7 6.5-7s6.5 2.8 6.5 7zM16 20c0-2.4-.6-4.3-1.8-5.7.7-.3 1.5'
        '-.5 2.3-.5 3 0 5 2.4 5 6.2z"/>'
    ),
    "heart": (
        '<path d="M12 20.5l-1.3-1.2C5.6 14.7 2.5 11.9 2.5 8.2 2.5 5.5 4.6 3.5 7.2 3.5c1.9 0 '
        '3.6 1 4.8 2.6 1.2-1.6 2.9-2.6 4.8-2.6 2.6 0 4.7 2 4.7 4.7 0 3.7-3.1 6.5-8.2 11.1z"/>'
    ),
    "star": '<path d="M12 2.5l2.9 6.3 6.8.7-5.1 4.6 1.5 6.8L12 17.4l-6.1 3.5 1.5-6.8-5.1-4.6 '
    '6.8-.7z"/>',
    "book": (
        '<path d="M3 5h6.5A2.5 2.5 0 0 1 12 7.5V20a2 2 0 0 0-2-2H3zM21 5h-6.5A2.5 2.5 0 0 0 '
        '12 7.5V20a2 2 0 0 1 2-2h7z"/>'
    ),
    "cart": (
        '<path d="M2 3.5h3.6l.8 3.5H21l-2.2 8.5H8.3l.4 2H19v2H7.1L4 5.5H2z"/>'
        '<circle cx="9" cy="21" r="1.6"/><circle cx="17" cy="21" r="1.6"/>'
    ),
    "shield": '<path d="M12 2l8 3.2v6c0 5-3.4 9.3-8 10.8-4.6-1.5-8-5.8-8-10.8v-6z"/>',
    "ball": (
        '<path fill-rule="evenodd" d="M12 3.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17zm0 '
        '3.6l3 2.2-1.1 3.5h-3.8L9 9.3z"/>'
    ),
    "house": '<path d="M12 3l9.5 8.5H18.5V21h-4.5v-6h-4v6H5.5v-9.5h-3z"/>',
    "venus": (
        '<path fill-rule="evenodd" d="M12 2.5a5.5 5.5 0 1 1 0 11 5.5 5.5 0 0 1 0-11zm0 2.3a3.2 '
        "3.2 0 1 0 0 6.4 3.2 3.2 0 0 0 0-6.4zM10.8 13.3h2.4v2.6h2.9v2.3h-2.9V21h-2.4v-2.8H7.9"
        'v-2.3h2.9z"/>'
    ),
    "briefcase": (
        '<path fill-rule="evenodd" d="M9 3.5h6a1.2 1.2 0 0 1 1.2 1.2V7H20a1.5 1.5 0 0 1 1.5 '
        "1.5v10A1.5 1.5 0 0 1 20 20H4a1.5 1.5 0 0 1-1.5-1.5v-10A1.5 1.5 0 0 1 4 7h3.8V4.7A1.2 "
        '1.2 0 0 1 9 3.5zm1.2 2V7h3.6V5.5z"/>'
    ),
    "bin": '<path d="M9 2.5h6l1 2h4.5v2.2h-17V4.5H8zM5.5 8h13l-1.2 13.5H6.7z"/>',
    "tree": '<path d="M12 2l6 8h-3l4.5 6.5H13V22h-2v-5.5H4.5L9 10H6z"/>',
    "dot": '<circle cx="12" cy="12" r="4.5"/>',
}

#: Colour and pictogram of each facility kind (one legend entry per kind).
FACILITY_STYLE: dict[str, dict[str, str]] = {
    "water_play_area": {"colour": "#1565c0", "glyph": "drop"},
    "health_centre": {"colour": "#c62828", "glyph": "cross"},
    "social_centre": {"colour": "#ef6c00", "glyph": "people"},
    "ccas": {"colour": "#ad1457", "glyph": "heart"},
    "education_programme": {"colour": "#6a1b9a", "glyph": "star"},
    "school": {"colour": "#4527a0", "glyph": "book"},
    "shop": {"colour": "#8d6e63", "glyph": "cart"},
    "police": {"colour": "#1a237e", "glyph": "shield"},
    "sports": {"colour": "#00796b", "glyph": "ball"},
    "social_landlord_agency": {"colour": "#5d4037", "glyph": "house"},
    "womens_rights_centre": {"colour": "#d81b60", "glyph": "venus"},
    "youth_employment": {"colour": "#f9a825", "glyph": "briefcase"},
    "waste_point": {"colour": "#546e7a", "glyph": "bin"},
    "park": {"colour": "#2e7d32", "glyph": "tree"},
    "other": {"colour": "#757575", "glyph": "dot"},
}

#: Fill colour of each NPNRU operation.
OPERATION_COLOURS: dict[str, str] = {
    "demolition": "#d7301f",
    "reconstruction": "#c51b7d",
    "rehabilitation": "#f28e2b",
    "facade_requalification": "#e3b505",
    "residentialisation": "#8856a7",
}

QUARTIER_COLOUR = "#4a148c"
COMMUNE_COLOUR = "#616161"
DESEALED_COLOUR = "#1b9e77"
TREE_COLOUR = "#238b45"
GREEN_PUBLIC = "#74c476"
GREEN_PRIVATE = "#c7e9c0"
SERVICE_BAND_COLOURS = ("#08519c", "#4292c6", "#9ecae1", "#c6dbef")
#: Walking-time classes, from near (green) to far (red); the last colour is "unreachable".
TIME_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
UNREACHABLE_COLOUR = "#9e9e9e"
CHOROPLETH_COLOURS = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
CHOROPLETH_GOOD_COLOURS = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
BACKGROUND_COLOUR = "#f4f1ea"


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
    fr, en = _LABELS[key]
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
    table = _VALUE_LABELS.get(field, {})
    pair = table.get(str(value))
    if pair is None:
        return "" if _missing(value) else str(value)
    return pair[0] if check_lang(lang) == "fr" else pair[1]


def glyph_svg(name: str, colour: str) -> str:
    """Return the inline SVG of a pictogram, filled with `colour`.

    Examples
    --------
    >>> glyph_svg("dot", "#fff")[:40]
    '<svg viewBox="0 0 24 24" fill="#fff" wid'
    """
    return (
        f'<svg viewBox="0 0 24 24" fill="{colour}" width="16" height="16" aria-hidden="true">'
        f"{_GLYPHS[name]}</svg>"
    )


def glyph_colour(background: str) -> str:
    """Return black or white, whichever reads better on `background` (a ``#rrggbb`` colour).

    Examples
    --------
    >>> glyph_colour("#1565c0"), glyph_colour("#f9a825")
    ('#ffffff', '#212121')
    """
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    return "#212121" if luminance > 0.35 else "#ffffff"


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes are not "missing"
        return False


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
    >>> fmt_number(None)
    'n.d.'
    """
    try:
        if _missing(value):
            return label("no_data", lang)
        x = float(value)
    except (TypeError, ValueError):
        return label("no_data", lang)
    if not math.isfinite(x):
        return label("no_data", lang)
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
        if _missing(share):
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
        if _missing(m2):
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
