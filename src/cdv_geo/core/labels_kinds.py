"""The one catalogue of facility-kind labels (French, English), for every table, map and page.

Known kinds have their labels here; kinds of a published nomenclature (the BPE) get theirs
when its reader registers them (:func:`register_kind_labels`); any other kind is made readable
from its token (``"ludotheque_municipale"`` -> ``"Ludotheque municipale"``).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["FACILITY_LABELS", "kind_label", "register_kind_labels"]

#: Labels of the known kinds: (French, English).
FACILITY_LABELS: dict[str, tuple[str, str]] = {
    "water_play_area": ("Aire de jeux d'eau", "Water play area"),
    "cool_place": ("Lieu frais", "Cool place"),
    "health_centre": ("Maison de santé", "Health centre"),
    "social_centre": ("Centre social", "Social centre"),
    "ccas": ("CCAS", "Municipal social services (CCAS)"),
    "education_programme": ("Réussite éducative", "Educational success programme"),
    "school": ("École", "School"),
    "shop": ("Commerce de proximité", "Local shop"),
    "police": ("Police", "Police"),
    "sports": ("Équipement sportif", "Sports facility"),
    "social_landlord_agency": ("Agence du bailleur social", "Social landlord office"),
    "womens_rights_centre": ("Droits des femmes", "Women's rights centre"),
    "youth_employment": ("Mission locale", "Youth employment (mission locale)"),
    "waste_point": ("Point d'apport volontaire", "Waste drop-off point"),
    "park": ("Parc, square", "Park"),
    "pharmacy": ("Pharmacie", "Pharmacy"),
    "doctor": ("Médecin généraliste", "General practitioner"),
    "health": ("Santé", "Health"),
    "post_office": ("Bureau de poste", "Post office"),
    "town_hall": ("Mairie", "Town hall"),
    "library": ("Bibliothèque", "Library"),
    "culture": ("Équipement culturel", "Cultural facility"),
    "childcare": ("Accueil du jeune enfant", "Childcare"),
    "secondary_school": ("Collège, lycée", "Secondary school"),
    "supermarket": ("Supermarché", "Supermarket"),
    "commercial_centre": ("Centre commercial", "Shopping centre"),
    "social_services": ("Action sociale", "Social services"),
    "bus_stop": ("Arrêt de bus", "Bus stop"),
    "train_station": ("Gare", "Railway station"),
    "other": ("Autre équipement", "Other facility"),
}

# Labels of kinds that are not known but come from a published nomenclature (the BPE): set
# with register_kind_labels() by the readers, looked up by kind_label().
_EXTRA_LABELS: dict[str, tuple[str, str]] = {}


def register_kind_labels(labels: Mapping[str, tuple[str, str]]) -> None:
    """Give labels (French, English) to kinds that are not known.

    Readers of published nomenclatures (the BPE) call it so that their kinds read well on maps.
    Known kinds keep their own labels.
    """
    for kind, pair in labels.items():
        if kind not in FACILITY_LABELS:
            _EXTRA_LABELS[kind] = (str(pair[0]), str(pair[1]))


def kind_label(kind: object, lang: str = "fr") -> str:
    """Return the display label of a facility kind, known or not.

    Examples
    --------
    >>> kind_label("pharmacy"), kind_label("pharmacy", "en")
    ('Pharmacie', 'Pharmacy')
    >>> kind_label("ludotheque_municipale")
    'Ludotheque municipale'
    """
    if lang not in ("fr", "en"):
        raise ValueError(f"lang={lang!r}; expected 'fr' or 'en'")
    text = "" if kind is None else str(kind)
    pair = FACILITY_LABELS.get(text) or _EXTRA_LABELS.get(text)
    if pair is not None:
        return pair[0] if lang == "fr" else pair[1]
    words = text.replace("_", " ").strip()
    return words[:1].upper() + words[1:]
