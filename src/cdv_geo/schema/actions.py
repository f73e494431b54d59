"""The schema of the contrat's actions and of the TFPB counterparts: fields, French aliases, enums.

A contrat de ville is a programme of **actions** (the mayor's GUSP, Cité éducative,
Qu(Art)ier...), each with a pillar, quartiers, years and **funding lines** (funder, amount,
year). Planners keep them in a spreadsheet; :mod:`cdv_geo.io.actions` reads its cells and
:func:`~cdv_geo.schema.actions_validate.validate_actions` turns them into a :class:`Programme`,
or raises **one** :class:`~cdv_geo.DataValidationError` listing every problem with the row number
the spreadsheet shows (header rows included).

Pillars. The 2015 contrats de ville (loi Lamy, instruction of 15 October 2014) stand on three
pillars -- cohésion sociale; cadre de vie et renouvellement urbain; développement de l'activité
économique et de l'emploi -- and cross-cutting priorities: jeunesse, égalité femmes-hommes, lutte
contre les discriminations, to which the 2015 comité interministériel added citoyenneté et
valeurs de la République (préfecture du Nord, "Les contrats de ville 2015-2020"; préfecture
Centre-Val de Loire, "Les contrats de ville"). The "Engagements Quartiers 2030" contrats
(circulaire of 31 August 2023) drop the nationally fixed pillars for locally defined issues
(Montpellier Méditerranée Métropole, "Engagements Quartiers 2030"): :data:`PILLARS` keeps the
national vocabulary most programmes still file under, and ``pillars=`` adds a contrat's own.

TFPB axes. The national framework for the use of the TFPB abatement (cadre national
d'utilisation de l'abattement de TFPB, État / USH, 2015, renewed with the 2024 contrats) groups
the landlords' counterparts in eight axes (:data:`TFPB_AXES`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.core.labels_actions import PILLAR_LABELS, TFPB_AXIS_LABELS
from cdv_geo.core.layers import quartier_codes
from cdv_geo.schema.enums import compact_token, normalize_token
from cdv_geo.schema.problems import group_problems
from cdv_geo.schema.values import is_missing, parse_number

__all__ = [
    "ACTION_FIELDS",
    "ACTION_STATUSES",
    "ALL_QUARTIERS",
    "CROSS_CUTTING",
    "PILLARS",
    "PILLAR_ALIASES",
    "PILLAR_LABELS",
    "ROW",
    "STATUS_ALIASES",
    "TFPB_ABATEMENT",
    "TFPB_AXES",
    "TFPB_AXIS_ALIASES",
    "TFPB_AXIS_LABELS",
    "TFPB_FIELDS",
    "Programme",
    "column_field",
    "enum_value",
    "funder_of",
    "parse_amount",
    "parse_month",
    "quartier_lookup",
    "raise_problems",
]

#: Column of the raw tables holding the row number as the spreadsheet shows it.
ROW = "spreadsheet_row"

#: The national pillars, then the cross-cutting axes (:data:`CROSS_CUTTING`).
PILLARS: tuple[str, ...] = (
    "social_cohesion",
    "living_environment",
    "economic_development",
    "youth",
    "gender_equality",
    "anti_discrimination",
    "citizenship",
)
#: The cross-cutting axes among :data:`PILLARS`.
CROSS_CUTTING: tuple[str, ...] = PILLARS[3:]
#: Other spellings of the pillars (normalised).
PILLAR_ALIASES: dict[str, str] = {
    "cohesion_sociale": "social_cohesion",
    "cohesion": "social_cohesion",
    "cadre_de_vie": "living_environment",
    "cadre_de_vie_et_renouvellement_urbain": "living_environment",
    "renouvellement_urbain": "living_environment",
    "emploi": "economic_development",
    "emploi_et_developpement_economique": "economic_development",
    "developpement_economique": "economic_development",
    "developpement_economique_et_emploi": "economic_development",
    "developpement_de_l_activite_economique_et_de_l_emploi": "economic_development",
    "jeunesse": "youth",
    "jeunes": "youth",
    "egalite_femmes_hommes": "gender_equality",
    "egalite_hommes_femmes": "gender_equality",
    "egalite_f_h": "gender_equality",
    "lutte_contre_les_discriminations": "anti_discrimination",
    "discriminations": "anti_discrimination",
    "citoyennete": "citizenship",
    "citoyennete_et_valeurs_de_la_republique": "citizenship",
    "valeurs_de_la_republique": "citizenship",
    "citoyennete_valeurs_de_la_republique": "citizenship",
}

#: The abatement line of a TFPB table (the amount the landlord does not pay).
TFPB_ABATEMENT = "abatement"
#: The eight axes of the national TFPB framework, in its order.
TFPB_AXES: tuple[str, ...] = (
    "local_presence",
    "staff_training",
    "extra_maintenance",
    "waste",
    "residential_tranquillity",
    "tenant_consultation",
    "social_life",
    "small_works",
)
#: Other spellings of the TFPB axes and of the abatement line (normalised).
TFPB_AXIS_ALIASES: dict[str, str] = {
    "abattement": TFPB_ABATEMENT,
    "montant_de_l_abattement": TFPB_ABATEMENT,
    "abattement_tfpb": TFPB_ABATEMENT,
    "presence_de_proximite": "local_presence",
    "renforcement_de_la_presence_du_personnel_de_proximite": "local_presence",
    "presence": "local_presence",
    "formation": "staff_training",
    "formation_et_soutien_des_personnels": "staff_training",
    "formation_et_soutien_des_personnels_de_proximite": "staff_training",
    "sur_entretien": "extra_maintenance",
    "surentretien": "extra_maintenance",
    "dechets": "waste",
    "gestion_des_dechets": "waste",
    "gestion_des_dechets_et_encombrants": "waste",
    "gestion_des_dechets_et_encombrants_epaves": "waste",
    "tranquillite": "residential_tranquillity",
    "tranquillite_residentielle": "residential_tranquillity",
    "concertation": "tenant_consultation",
    "concertation_et_sensibilisation_des_locataires": "tenant_consultation",
    "animation": "social_life",
    "lien_social": "social_life",
    "animation_et_lien_social": "social_life",
    "animation_lien_social_vivre_ensemble": "social_life",
    "petits_travaux": "small_works",
    "petits_travaux_d_amelioration_de_la_qualite_de_service": "small_works",
}

#: Statuses of an action.
ACTION_STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "cancelled")
#: Other spellings of the statuses (normalised).
STATUS_ALIASES: dict[str, str] = {
    **{t: "planned" for t in ("prevu", "prevue", "programme", "programmee", "a_venir", "projet")},
    **{t: "in_progress" for t in ("en_cours", "engage", "engagee", "demarre", "demarree")},
    **{t: "done" for t in ("realise", "realisee", "termine", "terminee", "fait", "acheve")},
    **{t: "cancelled" for t in ("annule", "annulee", "abandonne", "abandonnee", "reporte")},
}

#: Words meaning every quartier of the territory.
ALL_QUARTIERS: frozenset[str] = frozenset(
    {"all", "tous", "toutes", "tous_les_quartiers", "tous_qpv", "tous_les_qpv", "ensemble",
     "ensemble_des_qpv", "ensemble_des_quartiers", "qpv"}
)  # fmt: skip

#: Canonical action fields -> accepted header names (matched whatever their case and accents).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "n", "no", "numero", "num", "ref", "reference", "code_action"),
    "title": ("title", "action", "intitule", "intitule_de_l_action", "libelle", "nom", "titre",
              "nom_de_l_action", "projet"),
    "pillar": ("pillar", "pilier", "axe", "axe_strategique", "orientation", "enjeu"),
    "theme": ("theme", "thematique", "domaine"),
    "operator": ("operator", "operateur", "porteur", "porteur_de_projet", "structure",
                 "maitre_d_ouvrage", "porteur_du_projet"),
    "quartiers": ("quartiers", "quartier", "qpv", "quartier_s", "quartiers_concernes",
                  "quartiers_cibles", "territoire"),
    "start": ("start", "debut", "date_de_debut", "date_debut", "annee_de_debut", "debut_action"),
    "end": ("end", "fin", "date_de_fin", "date_fin", "annee_de_fin", "fin_action"),
    "status": ("status", "statut", "etat", "avancement"),
    "beneficiaries": ("beneficiaries", "beneficiaires", "nb_beneficiaires",
                      "nombre_de_beneficiaires", "public_touche", "participants"),
    "total": ("total", "cout_total", "budget", "budget_total", "montant_total", "cout",
              "cout_de_l_action"),
    "funder": ("funder", "financeur", "cofinanceur", "partenaire_financeur", "financement"),
    "amount": ("amount", "montant", "montant_finance", "subvention", "montant_accorde",
               "montant_attribue"),
    "year": ("year", "annee", "exercice", "annee_de_financement"),
    "x": ("x", "coord_x", "x_l93", "lambert_x"),
    "y": ("y", "coord_y", "y_l93", "lambert_y"),
    "lon": ("lon", "longitude", "lng"),
    "lat": ("lat", "latitude"),
}  # fmt: skip

#: Canonical TFPB fields -> accepted header names.
TFPB_FIELDS: dict[str, tuple[str, ...]] = {
    "landlord": ("landlord", "bailleur", "organisme", "organisme_hlm", "bailleur_social"),
    "quartier": ("quartier", "qpv", "quartiers"),
    "year": ("year", "annee", "exercice"),
    "axis": ("axis", "axe", "axe_du_cadre_national", "rubrique"),
    "title": ("title", "action", "intitule", "libelle", "description"),
    "amount": ("amount", "montant", "montant_valorise", "cout", "montant_eur"),
    "x": ACTION_FIELDS["x"],
    "y": ACTION_FIELDS["y"],
    "lon": ACTION_FIELDS["lon"],
    "lat": ACTION_FIELDS["lat"],
}

# Headers of a wide sheet's funder columns: "Financement État", "Part Ville", "CAF (€)"...
_FUNDER_PREFIX = re.compile(
    r"^(financements?|montants?|parts?|subventions?|credits?|apports?|cofinancements?)\s+"
    r"(?:de\s+l[a']?\s*|du\s+|des\s+|de\s+)?(?P<name>.+)$",
    re.IGNORECASE,
)
_EURO_SUFFIX = re.compile(r"^(?P<name>.+?)\s*\((?:€|eur|euros|k€)\)$", re.IGNORECASE)
_FRENCH_MONTHS = {
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4,
    "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9,
    "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}  # fmt: skip


def column_field(header: Any, fields: Mapping[str, tuple[str, ...]] = ACTION_FIELDS) -> str | None:
    """Return the canonical field a column header names, or None.

    Headers are matched whatever their case, accents and punctuation; a unit in brackets
    (``"Montant (€)"``) is ignored.

    Examples
    --------
    >>> column_field("Intitulé de l'action"), column_field("Coût total (€)"), column_field("Zzz")
    ('title', 'total', None)
    """
    if is_missing(header):
        return None
    text = re.sub(r"\((?:€|eur|euros|k€|en\s*€)\)\s*$", "", str(header).strip(), flags=re.I)
    key = compact_token(text)
    for name, aliases in fields.items():
        if key == compact_token(name) or any(key == compact_token(a) for a in aliases):
            return name
    return None


def funder_of(header: Any) -> str | None:
    """Return the funder a wide sheet's column header names (``"Financement État"``), or None.

    Examples
    --------
    >>> funder_of("Financement État"), funder_of("Part de la Ville"), funder_of("CAF (€)")
    ('État', 'Ville', 'CAF')
    >>> funder_of("Coût total (€)") is None, funder_of("Quartier") is None
    (True, True)
    """
    if is_missing(header) or column_field(header) is not None:
        return None
    text = " ".join(str(header).split())
    m = _FUNDER_PREFIX.match(text)
    if m:
        return _EURO_SUFFIX.sub(r"\g<name>", m.group("name")).strip()
    m = _EURO_SUFFIX.match(text)
    return m.group("name").strip() if m else None


def parse_amount(value: Any) -> float:
    """Parse an amount in euros: ``12 500 €``, ``12 500,50 EUR``, ``12,5 k€``, a number.

    Raises
    ------
    ValueError
        If the text is not an amount.

    Examples
    --------
    >>> parse_amount("12\u202f500 €"), parse_amount("1 250,50 EUR"), parse_amount("12,5 k€")
    (12500.0, 1250.5, 12500.0)
    """
    if isinstance(value, str):
        text = value.strip()
        scale = 1.0
        m = re.search(r"\s*(k€|keur|k\s*euros?)$", text, flags=re.I)
        if m:
            scale, text = 1000.0, text[: m.start()]
        text = re.sub(r"\s*(€|eur|euros?)$", "", text, flags=re.I)
        text = text.lstrip("€").strip()
        try:
            return parse_number(text) * scale
        except ValueError:
            raise ValueError(f"{value!r} is not an amount in euros") from None
    try:
        return parse_number(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an amount in euros") from None


def parse_month(value: Any) -> tuple[int, int | None]:
    """Return ``(year, month)`` of a date cell; month is None when only a year is given.

    Accepts dates and datetimes (spreadsheet date cells), years (``2024``), and text:
    ``03/2024``, ``2024-03``, ``01/03/2024``, ``mars 2024``.

    Raises
    ------
    ValueError
        If the cell is not a date or a year (or the year lies outside 1950-2100).

    Examples
    --------
    >>> parse_month("03/2024"), parse_month(2024), parse_month("mars 2025")
    ((2024, 3), (2024, None), (2025, 3))
    >>> parse_month("15/09/2024"), parse_month("2024-09")
    ((2024, 9), (2024, 9))
    """
    if isinstance(value, dt.date | pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        return _checked(ts.year, ts.month, value)
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        if float(value).is_integer():
            return _checked(int(value), None, value)
        raise ValueError(f"{value!r} is not a year")
    text = str(value).strip()
    patterns = (
        (r"^(\d{4})$", lambda m: (int(m[1]), None)),
        (r"^(\d{1,2})[/.-](\d{4})$", lambda m: (int(m[2]), int(m[1]))),
        (r"^(\d{4})[/.-](\d{1,2})$", lambda m: (int(m[1]), int(m[2]))),
        (r"^\d{1,2}[/.-](\d{1,2})[/.-](\d{4})$", lambda m: (int(m[2]), int(m[1]))),
        (r"^(\d{4})[/.-](\d{1,2})[/.-]\d{1,2}(?:[ T].*)?$", lambda m: (int(m[1]), int(m[2]))),
    )
    for pattern, make in patterns:
        m = re.match(pattern, text)
        if m:
            year, month = make(m)
            return _checked(year, month, value)
    words = normalize_token(text).split("_")
    if len(words) == 2 and words[0] in _FRENCH_MONTHS and re.fullmatch(r"\d{4}", words[1]):
        return _checked(int(words[1]), _FRENCH_MONTHS[words[0]], value)
    raise ValueError(f"{value!r} is not a date (expected 03/2024, 2024 or mars 2024)")


def _checked(year: int, month: int | None, value: Any) -> tuple[int, int | None]:
    if not 1950 <= year <= 2100 or (month is not None and not 1 <= month <= 12):
        raise ValueError(f"{value!r} is not a date between 1950 and 2100")
    return year, month


def quartier_lookup(quartiers: pd.DataFrame | None) -> dict[str, str]:
    """Return ``{normalised code or name: code}`` of the quartiers (empty without them).

    Examples
    --------
    >>> q = pd.DataFrame({"code": ["QP002013"], "name": ["Presles"]})
    >>> quartier_lookup(q)
    {'qp002013': 'QP002013', 'presles': 'QP002013'}
    """
    if quartiers is None:
        return {}
    codes = [str(c) for c in quartier_codes(quartiers)]
    out = {normalize_token(c): c for c in codes}
    if "name" in quartiers.columns:
        for code, name in zip(codes, quartiers["name"], strict=True):
            if not is_missing(name):
                out.setdefault(normalize_token(name), code)
    return out


@dataclass(frozen=True)
class Programme:
    """The contrat's actions and their funding lines, as :func:`validate_actions` returns them.

    Attributes
    ----------
    actions : pandas.DataFrame
        One row per action (a GeoDataFrame when the sheet gives locations): ``id``, ``title``,
        ``pillar`` (:data:`PILLARS` or a contrat's own), ``theme``, ``operator``, ``quartiers``
        (tuple of quartier codes; every code for "tous"; empty when none is given),
        ``start_year``, ``start_month``, ``end_year``, ``end_month``, ``status``
        (:data:`ACTION_STATUSES`), ``n_beneficiaries``, ``beneficiaries_by_quartier`` (dict
        code -> count, or None), ``total_eur`` (the action's cost, NaN when not given) and
        :data:`ROW` (its first row in the spreadsheet).
    funding : pandas.DataFrame
        One row per funding line: ``action`` (the action's ``id``), ``funder``, ``amount_eur``,
        ``year`` (the line's year, else the action's start year) and :data:`ROW`.
    source : str or None
        The file read.
    """

    actions: pd.DataFrame
    funding: pd.DataFrame
    source: str | None = None

    def copy(self) -> Programme:
        """Return a copy whose frames can be changed without changing this one.

        Examples
        --------
        >>> p = Programme(pd.DataFrame({"id": ["1"]}), pd.DataFrame({"action": ["1"]}))
        >>> c = p.copy()
        >>> c.actions.loc[0, "id"] = "2"
        >>> p.actions["id"].tolist()
        ['1']
        """
        return Programme(self.actions.copy(), self.funding.copy(), self.source)


def raise_problems(problems: Sequence[Problem], what: str, source: str | None) -> None:
    """Raise one DataValidationError listing `problems` (nothing when there are none)."""
    if not problems:
        return
    grouped = group_problems(problems)
    n = len(problems)
    raise DataValidationError(
        grouped,
        summary=f"{n:,} problem{'s' if n > 1 else ''} in {what}"
        + (f" {source}" if source else "")
        + (f" ({len(grouped):,} distinct)" if len(grouped) < n else "")
        + " (rows numbered as the spreadsheet shows them):",
    )


def enum_value(
    value: Any, allowed: Iterable[str], aliases: Mapping[str, str], extra: Iterable[str] = ()
) -> str | None:
    """Return the canonical value of an enumerated cell, or None when unknown.

    Examples
    --------
    >>> enum_value("Cohésion sociale", PILLARS, PILLAR_ALIASES)
    'social_cohesion'
    >>> enum_value("Sport", PILLARS, PILLAR_ALIASES) is None
    True
    """
    tok = normalize_token(value)
    allowed = tuple(allowed)
    if tok in allowed:
        return tok
    if tok in aliases:
        return aliases[tok]
    labels = {
        normalize_token(fr): k for k, (fr, _) in {**PILLAR_LABELS, **TFPB_AXIS_LABELS}.items()
    }
    if labels.get(tok) in allowed:
        return labels[tok]
    for e in extra:
        if tok == normalize_token(e):
            return normalize_token(e)
    return None
