"""Labels of the named comparison rows and the population rule: (French, English).

Merged into :data:`cdv_geo.core.labels.LABELS`; read them with :func:`cdv_geo.core.labels.label`,
or a row's display label with :func:`cdv_geo.core.rows.row_label`.
"""

from __future__ import annotations

__all__ = ["ROW_LABELS"]

ROW_LABELS: dict[str, tuple[str, str]] = {
    # --- the named comparison rows (cdv_geo.core.tables), with and without the town's name
    "row_qpv": ("Ensemble des QPV", "All priority neighbourhoods"),
    "row_commune": ("Commune", "Municipality"),
    "row_commune_town": ("{town} (commune)", "{town} (municipality)"),
    "row_hors_qpv": ("Commune hors QPV", "Municipality outside priority neighbourhoods"),
    "row_hors_qpv_town": ("{town} hors QPV", "{town} outside priority neighbourhoods"),
    "row_france_qpv": ("Ensemble des QPV de France", "All French priority neighbourhoods"),
    # --- where a population comes from (cdv_geo.metrics.population): noun phrases without
    # parentheses (the dossier's line puts its own around them), true of a quartier and a town
    "population_source_official": ("chiffre officiel", "official figure"),
    "population_source_insee": (
        "tableaux statistiques INSEE des QPV",
        "INSEE neighbourhood statistics tables",
    ),
    "population_source_residences": ("somme des résidences", "sum of the residences"),
    "population_source_grid": ("carroyage Filosofi 200 m", "Filosofi 200 m grid"),
    # --- the one line a dossier prints when two loaded sources disagree by more than 10 %
    "population_gap": (
        "{row} : {value} habitants ({source}), mais {alt_value} selon {alt_source} "
        "(écart de {gap})",
        "{row}: {value} residents ({source}), but {alt_value} according to {alt_source} "
        "(gap of {gap})",
    ),
    "population_unknown": (
        "population inconnue : aucune source chargée ne la donne",
        "population unknown: no loaded source gives it",
    ),
}
