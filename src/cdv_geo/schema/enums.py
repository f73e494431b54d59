"""Enumerations of the layer schemas, their French aliases, and the open facility kinds.

Values are matched after :func:`normalize_token` (lower case, no accents, ``_`` separators), so
``"Démolition"``, ``"DEMOLITION"`` and ``"démolition "`` are one value.

Facility kinds are *open*: a kind the package does not know is kept, as a snake_case token
(``"Ludothèque"`` -> ``"ludotheque"``), and gets a readable label from :func:`kind_label`. Known
kinds (:data:`FACILITY_KINDS`) also accept French names (:data:`FACILITY_ALIASES`) and French
generic categories (``"Santé"``, ``"Sport"``, ``"Action sociale"``...: :data:`KIND_CATEGORIES`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from cdv_geo.core.labels_kinds import FACILITY_LABELS, kind_label, register_kind_labels

__all__ = [
    "AMBIGUOUS_CATEGORIES",
    "FACILITY_ALIASES",
    "FACILITY_KINDS",
    "HOUSING_ALIASES",
    "HOUSING_TYPES",
    "KIND_CATEGORIES",
    "KIND_LABELS",
    "OPERATIONS",
    "OPERATION_ALIASES",
    "SITE_TYPES",
    "SITE_TYPE_ALIASES",
    "STATUSES",
    "STATUS_ALIASES",
    "TENURES",
    "TENURE_ALIASES",
    "compact_token",
    "facility_kind",
    "kind_label",
    "normalize_token",
    "note_ambiguous_kinds",
    "register_kind_labels",
]


def normalize_token(value: object) -> str:
    """Normalise a name or value for matching: lower case, no accents, ``_`` separators.

    Examples
    --------
    >>> normalize_token("Aire de jeux d'eau")
    'aire_de_jeux_d_eau'
    >>> normalize_token("Démolition")
    'demolition'
    >>> normalize_token("NB_ARBRES")
    'nb_arbres'
    """
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def compact_token(value: object) -> str:
    """Return :func:`normalize_token` without separators (``nb_arbres`` -> ``nbarbres``).

    Used to match field names whatever their case and style: ``nbArbres``, ``NB_ARBRES``,
    ``nb-arbres`` and ``Nb Arbres`` are one name.

    Examples
    --------
    >>> compact_token("nbArbres") == compact_token("NB_ARBRES") == compact_token("Nb arbres")
    True
    """
    return normalize_token(value).replace("_", "")


# --- facility kinds ---------------------------------------------------------------------------

#: Known facility kinds: they get French and English labels (:data:`KIND_LABELS`) and map icons.
#: Any other kind is accepted and kept as given (as a snake_case token).
FACILITY_KINDS: tuple[str, ...] = (
    "water_play_area",
    "health_centre",
    "social_centre",
    "ccas",
    "education_programme",
    "school",
    "shop",
    "police",
    "sports",
    "social_landlord_agency",
    "womens_rights_centre",
    "youth_employment",
    "waste_point",
    "park",
    "pharmacy",
    "doctor",
    "health",
    "post_office",
    "town_hall",
    "library",
    "culture",
    "childcare",
    "secondary_school",
    "supermarket",
    "commercial_centre",
    "social_services",
    "bus_stop",
    "train_station",
    "cool_place",
    "other",
)

#: French labels first, English second (the one catalogue: cdv_geo.core.labels_kinds).
KIND_LABELS = FACILITY_LABELS

#: French (and other) names of the known kinds, normalised -> kind.
FACILITY_ALIASES: dict[str, str] = {
    "aire_de_jeux_d_eau": "water_play_area",
    "aire_jeux_eau": "water_play_area",
    "jeux_d_eau": "water_play_area",
    "aire_de_jeux_deau": "water_play_area",
    "brumisateur": "water_play_area",
    "maison_de_sante": "health_centre",
    "maison_de_sante_pluriprofessionnelle": "health_centre",
    "maison_de_sante_pluridisciplinaire": "health_centre",
    "msp": "health_centre",
    "centre_de_sante": "health_centre",
    "centre_social": "social_centre",
    "centre_communal_d_action_sociale": "ccas",
    "pre": "education_programme",
    "programme_de_reussite_educative": "education_programme",
    "cite_educative": "education_programme",
    "ecole": "school",
    "ecole_maternelle": "school",
    "ecole_elementaire": "school",
    "ecole_primaire": "school",
    "college": "school",
    "groupe_scolaire": "school",
    "commerce": "shop",
    "superette": "shop",
    "epicerie": "shop",
    "boulangerie": "shop",
    "commerce_de_proximite": "shop",
    "police_municipale": "police",
    "poste_de_police": "police",
    "commissariat": "police",
    "gendarmerie": "police",
    "complexe_sportif": "sports",
    "equipement_sportif": "sports",
    "gymnase": "sports",
    "salle_de_sport": "sports",
    "stade": "sports",
    "agence_bailleur": "social_landlord_agency",
    "agence_bailleur_social": "social_landlord_agency",
    "bailleur_social": "social_landlord_agency",
    "maison_des_droits_des_femmes": "womens_rights_centre",
    "maison_de_l_egalite_et_des_droits_des_femmes": "womens_rights_centre",
    "cidff": "womens_rights_centre",
    "mission_locale": "youth_employment",
    "point_d_apport_volontaire": "waste_point",
    "pav": "waste_point",
    "point_de_collecte": "waste_point",
    "parc": "park",
    "square": "park",
    "jardin": "park",
    "jardin_public": "park",
    "pharmacie": "pharmacy",
    "medecin": "doctor",
    "medecin_generaliste": "doctor",
    "cabinet_medical": "doctor",
    "bureau_de_poste": "post_office",
    "poste": "post_office",
    "la_poste": "post_office",
    "agence_postale": "post_office",
    "relais_poste": "post_office",
    "mairie": "town_hall",
    "hotel_de_ville": "town_hall",
    "mairie_annexe": "town_hall",
    "bibliotheque": "library",
    "mediatheque": "library",
    "creche": "childcare",
    "halte_garderie": "childcare",
    "eaje": "childcare",
    "lycee": "secondary_school",
    "supermarche": "supermarket",
    "hypermarche": "supermarket",
    "centre_commercial": "commercial_centre",
    "galerie_marchande": "commercial_centre",
    "polarite_commerciale": "commercial_centre",
    "arret_de_bus": "bus_stop",
    "arret_bus": "bus_stop",
    "arret": "bus_stop",
    "abribus": "bus_stop",
    "gare": "train_station",
    "autre": "other",
}

#: French generic categories (as in a city register's "catégorie" column) -> kind.
KIND_CATEGORIES: dict[str, str] = {
    "sport": "sports",
    "sports": "sports",
    "sports_et_loisirs": "sports",
    "sante": "health",
    "soins": "health",
    "scolaire": "school",
    "action_sociale": "social_services",
    "social": "social_services",
    "solidarite": "social_services",
    "culture": "culture",
    "culturel": "culture",
    "equipement_culturel": "culture",
    "petite_enfance": "childcare",
    "commerces": "shop",
    "commerce_alimentaire": "shop",
    "espaces_verts": "park",
    "securite": "police",
    "proprete": "waste_point",
    "dechets": "waste_point",
}


#: Generic categories that cover several kinds: a city register's "Éducation" holds leisure
#: centres, childcare and a mission locale besides schools, "Transports" bus stops and stations.
#: They are never mapped to one kind: each becomes its own open kind (labelled with the file's
#: own words), and ``cdv-geo validate`` lists them so that the planner maps them in
#: project.toml (``kinds = { "Éducation" = "school" }``).
AMBIGUOUS_CATEGORIES: frozenset[str] = frozenset(
    {
        "education",
        "enseignement",
        "education_jeunesse",
        "enfance_jeunesse",
        "jeunesse",
        "services_publics",
        "service_public",
        "services",
        "equipement_public",
        "equipements_publics",
        "transport",
        "transports",
        "transport_en_commun",
        "loisirs",
        "divers",
        "equipement",
        "equipements",
    }
)


def facility_kind(value: object) -> str:
    """Return the kind a facility type means: known kind, alias, category, else a token.

    Examples
    --------
    >>> facility_kind("Maison de santé"), facility_kind("Santé"), facility_kind("arrêt de bus")
    ('health_centre', 'health', 'bus_stop')
    >>> facility_kind("Ludothèque")
    'ludotheque'
    >>> facility_kind("Éducation")  # ambiguous: its own kind, never "school"
    'education'
    """
    tok = normalize_token(value)
    if tok in FACILITY_KINDS:
        return tok
    if tok in FACILITY_ALIASES:
        return FACILITY_ALIASES[tok]
    return KIND_CATEGORIES.get(tok, tok)


def note_ambiguous_kinds(
    raw: Iterable[object], kinds: Iterable[object]
) -> dict[str, tuple[str, int]]:
    """Return the ambiguous categories met: kind -> (the file's own words, features).

    Each is labelled with the file's words (``"Éducation"``, not ``"Education"``) so that maps
    and tables read as the town's register does.

    Examples
    --------
    >>> note_ambiguous_kinds(["Éducation", "Santé", "Éducation"], ["education", "health"] * 2)
    {'education': ('Éducation', 2)}
    >>> kind_label("education")
    'Éducation'
    """
    found: dict[str, tuple[str, int]] = {}
    for value, kind in zip(raw, kinds, strict=False):
        if value is None or kind not in AMBIGUOUS_CATEGORIES or str(value) in ("", "nan"):
            continue
        label, n = found.get(str(kind), (str(value).strip(), 0))
        found[str(kind)] = (label, n + 1)
    register_kind_labels({k: (label, label) for k, (label, _) in found.items()})
    return found


# --- renewal and renaturation enumerations ----------------------------------------------------

OPERATIONS: tuple[str, ...] = (
    "demolition",
    "reconstruction",
    "rehabilitation",
    "facade_requalification",
    "residentialisation",
)
OPERATION_ALIASES: dict[str, str] = {
    "demolition": "demolition",
    "construction": "reconstruction",
    "reconstitution": "reconstruction",
    "renovation": "rehabilitation",
    "requalification_des_facades": "facade_requalification",
    "requalification_facades": "facade_requalification",
    "requalification_de_facades": "facade_requalification",
    "facades": "facade_requalification",
    "residentialization": "residentialisation",
}
HOUSING_TYPES: tuple[str, ...] = ("collective", "individual")
HOUSING_ALIASES: dict[str, str] = {
    "collectif": "collective",
    "logement_collectif": "collective",
    "individuel": "individual",
    "maison": "individual",
    "maison_individuelle": "individual",
    "logement_individuel": "individual",
}
TENURES: tuple[str, ...] = ("social", "intermediate", "private_rental", "ownership", "private")
TENURE_ALIASES: dict[str, str] = {
    "locatif_social": "social",
    "logement_social": "social",
    "hlm": "social",
    "intermediaire": "intermediate",
    "locatif_libre": "private_rental",
    "locatif_prive": "private_rental",
    "accession": "ownership",
    "accession_a_la_propriete": "ownership",
    "prive": "private",
    "libre": "private",
}
STATUSES: tuple[str, ...] = ("planned", "in_progress", "done")
STATUS_ALIASES: dict[str, str] = {
    "prevu": "planned",
    "programme": "planned",
    "projet": "planned",
    "en_projet": "planned",
    "en_cours": "in_progress",
    "chantier": "in_progress",
    "en_chantier": "in_progress",
    "livre": "done",
    "realise": "done",
    "termine": "done",
    "fait": "done",
}
SITE_TYPES: tuple[str, ...] = ("school_yard", "street", "square", "car_park", "other")
SITE_TYPE_ALIASES: dict[str, str] = {
    "cour_d_ecole": "school_yard",
    "cour_ecole": "school_yard",
    "cour_de_recreation": "school_yard",
    "cour_oasis": "school_yard",
    "rue": "street",
    "voirie": "street",
    "place": "square",
    "parking": "car_park",
    "stationnement": "car_park",
    "autre": "other",
}
INCIDENT_TYPES: tuple[str, ...] = ("hydrant_opened", "street_pooling", "other")
INCIDENT_TYPE_ALIASES: dict[str, str] = {
    "ouverture_de_poteau": "hydrant_opened",
    "ouverture_poteau": "hydrant_opened",
    "poteau_ouvert": "hydrant_opened",
    "ouverture_de_bouche": "hydrant_opened",
    "bouche_d_incendie_ouverte": "hydrant_opened",
    "poteau_incendie_ouvert": "hydrant_opened",
    "hydrant": "hydrant_opened",
    "street_pooling": "street_pooling",
    "streetpooling": "street_pooling",
    "baignade_sauvage": "street_pooling",
    "jeux_d_eau_sauvages": "street_pooling",
    "autre": "other",
}
