"""Labels of the contrat's actions, the TFPB counterparts and the annual report: (French, English).

:data:`ACTION_LABELS` is merged into :data:`cdv_geo.core.labels.LABELS` (read it with
:func:`cdv_geo.core.labels.label`): the pillars (``pillar_<key>``), the TFPB axes
(``tfpb_axis_<key>``), the statuses of an action (``action_status_<key>``) and the words of the
annual report (``ar_*``). :data:`ACTION_COLUMN_LABELS` names the columns and index levels of the
ledger and TFPB tables (:func:`action_column_label`); :data:`PILLAR_LABELS` and
:data:`TFPB_AXIS_LABELS` are the ones :mod:`cdv_geo.schema.actions` reads its cells with.
"""

from __future__ import annotations

__all__ = [
    "ACTION_COLUMN_LABELS",
    "ACTION_LABELS",
    "ACTION_STATUS_LABELS",
    "PILLAR_LABELS",
    "TFPB_AXIS_LABELS",
    "action_column_label",
    "action_value_label",
]

#: (French, English) label of each pillar of a contrat de ville, then the cross-cutting axes.
PILLAR_LABELS: dict[str, tuple[str, str]] = {
    "social_cohesion": ("Cohésion sociale", "Social cohesion"),
    "living_environment": (
        "Cadre de vie et renouvellement urbain",
        "Living environment and urban renewal",
    ),
    "economic_development": (
        "Emploi et développement économique",
        "Employment and economic development",
    ),
    "youth": ("Jeunesse", "Youth"),
    "gender_equality": ("Égalité femmes-hommes", "Gender equality"),
    "anti_discrimination": ("Lutte contre les discriminations", "Fighting discrimination"),
    "citizenship": ("Citoyenneté et valeurs de la République", "Citizenship and civic values"),
}
#: (French, English) label of each axis of the national TFPB framework, and of the abatement.
TFPB_AXIS_LABELS: dict[str, tuple[str, str]] = {
    "local_presence": ("Renforcement de la présence de proximité", "Local staff presence"),
    "staff_training": (
        "Formation et soutien des personnels de proximité",
        "Training and support of local staff",
    ),
    "extra_maintenance": ("Sur-entretien", "Extra maintenance"),
    "waste": ("Gestion des déchets et encombrants", "Waste and bulky items"),
    "residential_tranquillity": ("Tranquillité résidentielle", "Residential safety"),
    "tenant_consultation": (
        "Concertation et sensibilisation des locataires",
        "Tenant consultation and awareness",
    ),
    "social_life": ("Animation, lien social, vivre ensemble", "Community life"),
    "small_works": (
        "Petits travaux d'amélioration de la qualité de service",
        "Small works improving the service",
    ),
}
#: (French, English) label of each status of an action.
ACTION_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "planned": ("Prévue", "Planned"),
    "in_progress": ("En cours", "In progress"),
    "done": ("Réalisée", "Completed"),
    "cancelled": ("Annulée", "Cancelled"),
}

#: Headers of the ledger and TFPB tables (columns and index levels).
ACTION_COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "n_actions": ("Actions (nombre)", "Actions (count)"),
    "amount_eur": ("Montant (€)", "Amount (€)"),
    "n_beneficiaries": ("Bénéficiaires (nombre)", "Beneficiaries (count)"),
    "n_actions_with_beneficiaries": (
        "Actions indiquant leurs bénéficiaires (nombre)",
        "Actions giving their beneficiaries (count)",
    ),
    "amount_per_inhabitant_eur": ("Montant par habitant (€)", "Amount per inhabitant (€)"),
    "beneficiaries_per_100": (
        "Bénéficiaires pour 100 habitants",
        "Beneficiaries per 100 residents",
    ),
    "pillar": ("Pilier", "Pillar"),
    "funder": ("Financeur", "Funder"),
    "year": ("Année", "Year"),
    "landlord": ("Bailleur", "Landlord"),
    "axis": ("Axe du cadre national", "Axis of the national framework"),
    "abatement_eur": ("Abattement de TFPB (€)", "TFPB abatement (€)"),
    "counterparts_eur": ("Contreparties (€)", "Counterparts (€)"),
    "n_counterparts": ("Contreparties (nombre)", "Counterparts (count)"),
    "balance_eur": (
        "Solde : contreparties − abattement (€)",
        "Balance: counterparts − abatement (€)",
    ),
    "spent_ratio": ("Part de l'abattement valorisée (0–1)", "Share of the abatement spent (0–1)"),
    "title": ("Action", "Action"),
    "operator": ("Porteur", "Operator"),
    "place": ("Localisation", "Place"),
    "place_label": ("Localisation", "Place"),
    # --- the renewal progress as the annual report prints it
    "operation": ("Opération", "Operation"),
    "n_planned": ("Logements prévus", "Dwellings planned"),
    "n_in_progress": ("Logements en cours", "Dwellings in progress"),
    "n_done": ("Logements livrés", "Dwellings completed"),
    "n_total": ("Total des logements", "All dwellings"),
}

ACTION_LABELS: dict[str, tuple[str, str]] = {
    **{f"pillar_{k}": v for k, v in PILLAR_LABELS.items()},
    **{f"tfpb_axis_{k}": v for k, v in TFPB_AXIS_LABELS.items()},
    "tfpb_axis_abatement": ("Abattement", "Abatement"),
    **{f"action_status_{k}": v for k, v in ACTION_STATUS_LABELS.items()},
    # --- the annual report on the politique de la ville (décret n° 2015-1118)
    "ar_title": (
        "Rapport annuel sur la mise en œuvre de la politique de la ville",
        "Annual report on the implementation of the politique de la ville",
    ),
    "ar_subtitle": ("{territory} — année {year}", "{territory} — year {year}"),
    "ar_decree": (
        "Rapport présenté au conseil municipal en application de l'article L. 1111-2 du code "
        "général des collectivités territoriales et du décret n° 2015-1118 du 3 septembre 2015.",
        "Report to the municipal council under article L. 1111-2 of the code général des "
        "collectivités territoriales and decree no. 2015-1118 of 3 September 2015.",
    ),
    "ar_illustrative": (
        "Données illustratives : aucun chiffre de ce rapport ne décrit la réalité.",
        "Illustrative data: no figure of this report describes reality.",
    ),
    "ar_contents": ("Sommaire", "Contents"),
    "ar_kicker": ("Contrat de ville", "Contrat de ville"),
    "ar_s_situation": (
        "1. La situation des quartiers et son évolution",
        "1. The quartiers' situation and its evolution",
    ),
    "ar_s_situation_intro": (
        "Chaque quartier est comparé à l'ensemble des QPV, à la commune hors QPV et à la "
        "commune entière.",
        "Each quartier is compared with all the priority neighbourhoods, the town outside "
        "them and the whole town.",
    ),
    "ar_s_actions": (
        "2. Les actions menées et leur financement",
        "2. The actions carried out and their funding",
    ),
    "ar_s_actions_intro": (
        "Actions menées ou financées en {year} et montants de {year}, par quartier ; une action "
        "de plusieurs quartiers est répartie entre eux selon leur population. La ligne "
        "« Ensemble des QPV » compte chaque action une fois.",
        "Actions carried out or funded in {year} and amounts of {year}, per quartier; an "
        "action of several quartiers is shared between them by population. The \u201cAll "
        "priority neighbourhoods\u201d row counts each action once.",
    ),
    "ar_by_pillar": ("Montants par pilier (ensemble des QPV)", "Amounts by pillar (all QPV)"),
    "ar_by_funder": ("Montants par financeur (ensemble des QPV)", "Amounts by funder (all QPV)"),
    "ar_none_this_year": (
        "Aucune action n'a de financement en {year}.",
        "No action has funding in {year}.",
    ),
    "ar_apart": (
        "Actions sans quartier ou hors des quartiers",
        "Actions with no quartier or outside the quartiers",
    ),
    "ar_no_actions": (
        "Aucun tableau des actions n'est fourni : l'ajouter au projet.",
        "No table of actions is provided: add it to the project.",
    ),
    "ar_s_tfpb": (
        "3. Les contreparties à l'abattement de TFPB",
        "3. The counterparts of the TFPB abatement",
    ),
    "ar_s_tfpb_intro": (
        "Les bailleurs sociaux bénéficient d'un abattement de 30 % de la taxe foncière sur "
        "leurs logements en QPV ; en contrepartie, ils financent des actions pour les "
        "locataires, selon les axes du cadre national.",
        "Social landlords get a 30 % abatement of the property tax on their dwellings in the "
        "priority neighbourhoods; in return they fund actions for the tenants, along the axes "
        "of the national framework.",
    ),
    "ar_tfpb_axes": ("Contreparties par axe (ensemble des QPV)", "Counterparts by axis (all QPV)"),
    "ar_no_tfpb": (
        "Aucun bilan de TFPB n'est fourni : l'ajouter au projet.",
        "No TFPB statement is provided: add it to the project.",
    ),
    "ar_s_renewal": (
        "4. L'avancement du renouvellement urbain",
        "4. Progress of the urban renewal",
    ),
    "ar_no_renewal": (
        "Aucune opération de renouvellement urbain n'est fournie.",
        "No urban renewal operation is provided.",
    ),
    "ar_s_prospects": (
        "5. Perspectives et orientations du conseil",
        "5. The council's prospects and orientations",
    ),
    "ar_no_prospects": (
        "À rédiger : ajouter le texte des perspectives au projet (section annual_report).",
        "To be written: add the prospects text to the project (annual_report section).",
    ),
    "ar_map_caption": (
        "Actions localisées et points d'apport volontaire financés par l'abattement de TFPB",
        "Located actions and waste drop-off points funded by the TFPB abatement",
    ),
    "ar_indicator": ("Indicateur", "Indicator"),
    "ar_quartier": ("Quartier", "Quartier"),
    "ar_value": ("Valeur (année)", "Value (year)"),
    "ar_change": ("Évolution", "Change"),
    "ar_spent": ("Part de l'abattement valorisée", "Share of the abatement spent"),
    "ar_source": ("Source : {source}", "Source: {source}"),
    "ar_total": ("Total", "Total"),
    "ar_page": ("Page", "Page"),
    # --- the actions map
    "am_title": (
        "Actions du contrat de ville — {territory}",
        "Contrat de ville actions — {territory}",
    ),
    "am_actions": ("Actions localisées", "Located actions"),
    "am_tfpb": ("Contreparties TFPB localisées", "Located TFPB counterparts"),
    "am_quartiers": ("Quartiers prioritaires", "Priority neighbourhoods"),
    "am_funding": ("Financement", "Funding"),
}


def action_column_label(column: str, *, lang: str = "fr") -> str:
    """Return the header of a ledger or TFPB column, else the catalogue's column label.

    Examples
    --------
    >>> action_column_label("amount_per_inhabitant_eur")
    'Montant par habitant (€)'
    >>> action_column_label("spent_ratio", lang="en")
    'Share of the abatement spent (0–1)'
    >>> action_column_label("name")
    'Nom'
    """
    from cdv_geo.core.labels import check_lang, column_label

    if column in ACTION_COLUMN_LABELS:
        return ACTION_COLUMN_LABELS[column][check_lang(lang) == "en"]
    return column_label(column, lang=lang)


def action_value_label(field: str, value: object, lang: str = "fr") -> str:
    """Return the label of a pillar, TFPB axis or action status; other values as they are.

    A contrat's own pillar, and a funder or landlord, are names the planner wrote: they are
    shown as written.

    Examples
    --------
    >>> action_value_label("pillar", "youth"), action_value_label("axis", "waste", "en")
    ('Jeunesse', 'Waste and bulky items')
    >>> action_value_label("pillar", "Sport et santé")
    'Sport et santé'
    """
    from cdv_geo.core.labels import check_lang

    table = {
        "pillar": PILLAR_LABELS,
        "axis": {**TFPB_AXIS_LABELS, "abatement": ACTION_LABELS["tfpb_axis_abatement"]},
        "status": ACTION_STATUS_LABELS,
    }.get(field, {})
    pair = table.get(str(value))
    if pair is None:
        return "" if value is None else str(value)
    return pair[check_lang(lang) == "en"]
