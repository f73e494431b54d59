"""The French/English labels of the heat and water outputs (issue 14).

Part of the one catalogue of :mod:`cdv_geo.core.labels`, which merges these entries into its
``LABELS`` and ``COLUMN_LABELS``: use :func:`cdv_geo.core.labels.label` and
:func:`~cdv_geo.core.labels.column_label`, not this module.
"""

from __future__ import annotations

import re

__all__ = ["CONCLUSIONS", "HEAT_COLUMN_LABELS", "HEAT_LABELS", "conclusion_text"]

#: Map, legend and note labels: (French, English).
HEAT_LABELS: dict[str, tuple[str, str]] = {
    "title_heat": (
        "Chaleur et eau : aires de jeux d'eau et poteaux d'incendie — {territory}",
        "Heat and water: water play areas and fire hydrants — {territory}",
    ),
    "layer_raster_heat": (
        "Chaleur : température de surface {year}",
        "Heat: surface temperature {year}",
    ),
    "heat_unit": ("température de surface ({units})", "surface temperature ({units})"),
    "layer_water_areas": (
        "Aires de jeux d'eau : zones à {minutes} min à pied",
        "Water play areas: {minutes} min walking areas",
    ),
    "band_minutes": ("{minutes} min à pied ({distance})", "{minutes} min walk ({distance})"),
    "layer_hydrants": ("Poteaux d'incendie", "Fire hydrants"),
    "layer_incidents": (
        "Incidents (poteaux ouverts, street pooling)",
        "Incidents (hydrants opened, street pooling)",
    ),
    "layer_hydrants_sized": (
        "Poteaux d'incendie (taille : incidents passés)",
        "Fire hydrants (size: past incidents)",
    ),
    "hydrant": ("Poteau d'incendie", "Fire hydrant"),
    "hydrant_incidents": (
        "Incidents (poteau ouvert, street pooling)",
        "Incidents (opened, pooling)",
    ),
    "hydrants_none": ("aucun incident", "no incident"),
    "hydrants_class": ("{lo} à {hi} incidents", "{lo} to {hi} incidents"),
    "hydrants_last": ("{lo} incidents et plus", "{lo} incidents or more"),
    "layer_suggested_sites": (
        "Sites suggérés pour une nouvelle aire de jeux d'eau",
        "Suggested sites for a new water play area",
    ),
    "site_rank": ("Site suggéré n° {rank}", "Suggested site no. {rank}"),
    "site_rank_short": ("n° {rank}", "no. {rank}"),
    "site_children": (
        "Enfants nouvellement à {minutes} min à pied",
        "Children newly within {minutes} min walk",
    ),
    "site_incidents": ("Incidents passés à {minutes} min", "Past incidents within {minutes} min"),
    "site_green_space": ("Espace vert public", "Public green space"),
    "site_method": (
        "choix exact (localisation à couverture maximale)",
        "exact choice (maximal covering location)",
    ),
    "heat_children_within": (
        "Enfants à {minutes} min d'une aire de jeux d'eau",
        "Children within {minutes} min of a water play area",
    ),
    "heat_mean_label": ("Température de surface moyenne", "Mean surface temperature"),
    "heat_hot_residents": (
        "Habitants dans le décile le plus chaud de la ville",
        "Residents in the town's hottest decile",
    ),
    "heat_cool_within": (
        "Habitants à {minutes} min d'un lieu frais",
        "Residents within {minutes} min of a cool place",
    ),
    "missing_field": (
        "champ « {field} » absent de la couche « {layer} »",
        "no “{field}” field in the {layer} layer",
    ),
    "missing_kind": ("aucun équipement « {kind} »", "no facility of kind “{kind}”"),
    "within_children": (
        "Enfants (0-17 ans) à {minutes} min",
        "Children (0-17) within {minutes} min",
    ),
    "within_children_3_10": (
        "Enfants de 3 à 10 ans à {minutes} min",
        "Children aged 3-10 within {minutes} min",
    ),
    "within_population": ("Habitants à {minutes} min", "Residents within {minutes} min"),
    "within_dwellings": ("Logements à {minutes} min", "Dwellings within {minutes} min"),
    "heat_mean_row": ("Moyenne ({units})", "Mean ({units})"),
    "heat_p90_row": ("90e centile ({units})", "90th percentile ({units})"),
    "hot_residents_row": (
        "Habitants dans le décile le plus chaud",
        "Residents in the hottest decile",
    ),
    "hot_children_row": ("Enfants dans le décile le plus chaud", "Children in the hottest decile"),
    "inc_area": (
        "Près de l'aire (≤ {minutes} min à pied)",
        "Near the play area (≤ {minutes} min walk)",
    ),
    "inc_before": ("Avant : incidents / étés", "Before: incidents / summers"),
    "inc_after": ("Après : incidents / étés", "After: incidents / summers"),
    "inc_rr": ("Rapport des taux après / avant (IC 95 %)", "Rate ratio after / before (95 % CI)"),
    "inc_rrr": (
        "Rapport à l'évolution du reste de la ville (IC 95 %)",
        "Ratio to the rest of the town's change (95 % CI)",
    ),
    "col_heat_mean": ("Chaleur moyenne ({units})", "Mean heat ({units})"),
    "col_heat_p90": ("Chaleur, 90e centile ({units})", "Heat, 90th percentile ({units})"),
    "incidents_note": (
        "Comparaison descriptive des incidents par été avant et après l'ouverture, près de "
        "l'aire (première durée de marche) et dans le reste de la ville : rapports de taux avec "
        "leur intervalle de confiance à 95 % ; ce n'est pas une estimation causale.",
        "Descriptive comparison of incidents per summer before and after opening, near the play "
        "area (first walking time) and in the rest of the town: rate ratios with their 95 % "
        "confidence interval; not a causal estimate.",
    ),
}

#: The conclusions of :func:`cdv_geo.metrics.incidents.incidents_before_after`, in French.
CONCLUSIONS: dict[str, str] = {
    "no incident on one side: no interval": "aucun incident d'un côté : pas d'intervalle",
    "fewer incidents after opening (interval below 1)": (
        "moins d'incidents après l'ouverture (intervalle sous 1)"
    ),
    "more incidents after opening (interval above 1)": (
        "plus d'incidents après l'ouverture (intervalle au-dessus de 1)"
    ),
    "no clear change (the interval contains 1)": "pas de changement net (l'intervalle contient 1)",
}
_TOO_FEW = re.compile(
    r"too few incidents to conclude \((\d+) near the play area, fewer than (\d+)\)"
)


def conclusion_text(text: str, lang: str = "fr") -> str:
    """Return the conclusion of an incidents row in `lang` (unknown texts as they are).

    Examples
    --------
    >>> conclusion_text("no clear change (the interval contains 1)")
    "pas de changement net (l'intervalle contient 1)"
    >>> conclusion_text("too few incidents to conclude (3 near the play area, fewer than 10)")
    "trop peu d'incidents pour conclure (3 près de l'aire, moins de 10)"
    """
    if lang != "fr":
        return text
    few = _TOO_FEW.fullmatch(text)
    if few:
        n, least = few.groups()
        return f"trop peu d'incidents pour conclure ({n} près de l'aire, moins de {least})"
    return CONCLUSIONS.get(text, text)


#: Result-table column headers of the heat and water tables: (French, English).
HEAT_COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "heat_mean": ("Chaleur moyenne (unité du raster)", "Mean heat (raster units)"),
    "heat_p90": ("Chaleur, 90e centile (unité du raster)", "Heat, 90th percentile (raster units)"),
    "heat": ("Chaleur (unité du raster)", "Heat (raster units)"),
    "hottest_decile": ("Dans le décile le plus chaud", "In the hottest decile"),
    "hot_residents_share": (
        "Habitants dans le décile le plus chaud : part (0–1)",
        "Residents in the hottest decile: share (0–1)",
    ),
    "n_children": ("Enfants (nombre)", "Children (count)"),
    "hot_children_share": (
        "Enfants dans le décile le plus chaud : part (0–1)",
        "Children in the hottest decile: share (0–1)",
    ),
    "children": ("Enfants (0-17 ans)", "Children (0-17)"),
    "children_3_10": ("Enfants de 3 à 10 ans", "Children aged 3-10"),
    "facility": ("Aire de jeux d'eau (identifiant)", "Water play area (id)"),
    "zone": ("Zone", "Zone"),
    "opened": ("Ouverture", "Opened"),
    "n_summers_before": ("Étés observés avant", "Summers observed before"),
    "n_summers_after": ("Étés observés après", "Summers observed after"),
    "n_before": ("Incidents avant (nombre)", "Incidents before (count)"),
    "n_after": ("Incidents après (nombre)", "Incidents after (count)"),
    "rate_before": ("Incidents par été, avant", "Incidents per summer, before"),
    "rate_after": ("Incidents par été, après", "Incidents per summer, after"),
    "rate_ratio": ("Rapport des taux après / avant", "Rate ratio after / before"),
    "rate_ratio_low": ("Rapport des taux : borne basse (IC 95 %)", "Rate ratio: lower (95 % CI)"),
    "rate_ratio_high": ("Rapport des taux : borne haute (IC 95 %)", "Rate ratio: upper (95 % CI)"),
    "p_value": ("p (test exact)", "p (exact test)"),
    "did_per_summer": (
        "Différence de différences (incidents par été)",
        "Difference in differences (incidents per summer)",
    ),
    "ratio_of_rate_ratios": (
        "Rapport des rapports de taux (zone / reste de la ville)",
        "Ratio of rate ratios (zone / rest of town)",
    ),
    "rrr_low": ("Rapport des rapports : borne basse (IC 95 %)", "Ratio of ratios: lower (95 % CI)"),
    "rrr_high": (
        "Rapport des rapports : borne haute (IC 95 %)",
        "Ratio of ratios: upper (95 % CI)",
    ),
    "conclusion": ("Conclusion", "Conclusion"),
    "candidate": ("Site candidat", "Candidate site"),
    "site_type": ("Type de site", "Site type"),
    "rank": ("Rang", "Rank"),
    "n_children_covered": (
        "Enfants nouvellement couverts (nombre)",
        "Children newly covered (count)",
    ),
    "n_incidents_covered": (
        "Incidents passés à proximité (nombre)",
        "Past incidents nearby (count)",
    ),
    "n_incidents": ("Incidents (nombre)", "Incidents (count)"),
}
