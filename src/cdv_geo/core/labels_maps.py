"""Labels of the maps (French, English): cluster labels, indicator selector, offline message.

Merged into :data:`cdv_geo.core.labels.LABELS`; read them with :func:`cdv_geo.core.labels.label`.
"""

from __future__ import annotations

__all__ = ["MAP_LABELS"]

MAP_LABELS: dict[str, tuple[str, str]] = {
    # --- tree clusters: a bubble counts the trees it gathers
    "cluster_trees": ("arbres plantés", "trees planted"),
    "cluster_trees_note": (
        "Chaque bulle indique le nombre d'arbres plantés qu'elle regroupe.",
        "Each bubble shows the number of trees planted it gathers.",
    ),
    # --- the indicators map: one grouped selector
    "indicator_selector": ("Indicateur affiché", "Indicator shown"),
    "indicator_group_income": ("Revenus", "Income"),
    "indicator_group_poverty": ("Pauvreté et prestations sociales", "Poverty and benefits"),
    "indicator_group_employment": ("Emploi et chômage", "Employment and unemployment"),
    "indicator_group_families": ("Population et familles", "Population and families"),
    "indicator_group_education": ("Éducation et formation", "Education and training"),
    "indicator_group_health": ("Santé", "Health"),
    "indicator_group_other": ("Autres indicateurs", "Other indicators"),
    "indicators_unlabelled": (
        "{n} colonne(s) du tableau d'indicateurs sans libellé connu, non cartographiée(s)",
        "{n} column(s) of the indicators table with no known label, not mapped",
    ),
    # --- a map saved with assets="cdn" opened without internet
    "offline_title": (
        "Cette carte ne peut pas s'afficher sans connexion internet",
        "This map cannot be shown without an internet connection",
    ),
    "offline_text": (
        "Elle charge ses outils d'affichage depuis internet, et ils n'ont pas pu être "
        "chargés. Ouvrez-la sur un ordinateur connecté à internet, ou demandez une version "
        "« hors ligne » de la carte, qui s'ouvre sans connexion : la personne qui produit les "
        "cartes l'obtient en ajoutant l'option --assets inline à la commande, par exemple "
        "« cdv-geo maps projet.toml --assets inline ».",
        "It loads its display tools from the internet, and they could not be loaded. Open it "
        "on a computer connected to the internet, or ask for an offline version of the map, "
        "which opens with no connection: whoever produces the maps gets it by adding the "
        "option --assets inline to the command, for example "
        "“cdv-geo maps project.toml --assets inline”.",
    ),
}
