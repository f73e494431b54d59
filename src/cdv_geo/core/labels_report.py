"""Labels of the dossier and the index (French, English): glossary, missing data, columns.

Merged into :data:`cdv_geo.core.labels.LABELS`; read them with :func:`cdv_geo.core.labels.label`.
"""

from __future__ import annotations

__all__ = ["REPORT_LABELS"]

REPORT_LABELS: dict[str, tuple[str, str]] = {
    # --- the "missing data" box of a page
    "rp_missing": ("Données manquantes", "Missing data"),
    "rp_missing_figure": ("{figure} : {advice}", "{figure}: {advice}"),
    "rp_missing_intro": (
        "Ces chiffres ne peuvent pas être calculés avec les données fournies :",
        "These figures cannot be computed from the data provided:",
    ),
    "rp_not_available": ("donnée non disponible", "not available"),
    "rp_provide_layer": (
        "Couche « {layer} » absente : la fournir dans le projet.",
        "Layer “{layer}” missing: add it to the project.",
    ),
    "rp_provide_raster": (
        "Carte « {raster} » absente : la fournir dans le projet.",
        "Map “{raster}” missing: add it to the project.",
    ),
    "rp_provide_table": (
        "Tableau « {table} » absent : le fournir dans le projet.",
        "Table “{table}” missing: add it to the project.",
    ),
    "rp_raster_impervious": ("imperméabilisation des sols", "imperviousness"),
    "rp_raster_canopy": ("couvert arboré (canopée)", "tree cover (canopy)"),
    "rp_raster_heat": ("température de surface", "land-surface temperature"),
    "rp_raster_other": ("carte {name}", "map {name}"),
    "rp_table_indicators": (
        "indicateurs socio-économiques de l'Insee",
        "INSEE socio-economic indicators",
    ),
    "rp_table_income_grid": (
        "revenus carroyés Filosofi (carreaux de 200 m)",
        "gridded Filosofi income (200 m squares)",
    ),
    "rp_table_other": ("tableau {name}", "table {name}"),
    "rp_source_raster": ("Carte : {what} {year}", "Map: {what} {year}"),
    "rp_source_table": ("Tableau : {what}", "Table: {what}"),
    "rp_demo_source": ("données de démonstration", "demonstration data"),
    "rp_population_sources": ("Habitants : {sources}.", "Residents: {sources}."),
    # --- comparison columns of a quartier page
    "rp_gap_hors_qpv": ("Écart au hors QPV", "Gap to outside QPV"),
    # --- headings and captions (one template each: see dossier_html.minutes_text)
    "rp_services_within": (
        "Habitants à moins de {minutes} min à pied des services",
        "Residents within {minutes} min walk of services",
    ),
    "rp_within_walk": ("Habitants à pied des services", "Residents within walking distance"),
    "rp_coverage_unknown_time": (
        "Habitants à pied : {service}",
        "Residents within walking distance: {service}",
    ),
    "rp_axis_from_zero": ("axe à partir de 0", "axis from 0"),
    # --- the glossary (annex)
    "rp_glossary": (
        "Glossaire — ce que mesurent les chiffres",
        "Glossary — what the figures measure",
    ),
    "rp_glossary_intro": (
        "Pour chaque chiffre du dossier : ce qu'il mesure, comment il est calculé, sa source.",
        "For each figure of the dossier: what it measures, how it is computed, its source.",
    ),
    "rp_glossary_rows": ("Les colonnes de comparaison", "The comparison columns"),
    "rp_glossary_figures": ("Les chiffres", "The figures"),
    "rp_how": ("Calcul :", "How:"),
    "rp_source": ("Source :", "Source:"),
    "rp_year": ("année", "year"),
}
