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
    # --- services: capacity, opening hours, commercial catchments (issue 25)
    "title_services": (
        "Services : capacité, horaires et commerces — {territory}",
        "Services: capacity, opening hours and shops — {territory}",
    ),
    "layer_capacity": (
        "Capacité à portée de marche : {service}",
        "Capacity within walking reach: {service}",
    ),
    "layer_open_hours": (
        "Heures d'ouverture à portée de marche : {service}",
        "Opening hours within walking reach: {service}",
    ),
    "layer_catchments": (
        "Zones de chalandise des centres commerciaux",
        "Catchments of the commercial centres",
    ),
    "layer_centres": ("Centres commerciaux", "Commercial centres"),
    "svc_access_value": ("{value} pour 10 000 habitants", "{value} per 10,000 residents"),
    "svc_access_unit": (
        "Unité : capacité (ETP de médecin, places, guichets…) à portée de marche pour 10 000 "
        "habitants, pondérée par la distance (E2SFCA, comme l'APL de la DREES)",
        "Unit: capacity (GP FTE, places, counters…) within walking reach per 10,000 "
        "residents, weighted by distance (E2SFCA, as the DREES APL)",
    ),
    "svc_access_zero": ("aucune capacité à portée (0)", "no capacity within reach (0)"),
    "svc_hours_value": ("{value} h par semaine", "{value} h a week"),
    "svc_hours_unit": (
        "Unité : heures par semaine où au moins un service de ce type est ouvert à moins de "
        "{minutes} min à pied",
        "Unit: hours a week when at least one service of this kind is open within {minutes} "
        "min walk",
    ),
    "svc_hours_unit_plain": (
        "Unité : heures par semaine où au moins un service de ce type est ouvert à portée de "
        "marche",
        "Unit: hours a week when at least one service of this kind is open within walking reach",
    ),
    "svc_hours_zero": ("jamais ouvert à portée (0 h)", "never open within reach (0 h)"),
    "svc_hours_first": ("moins de {hi} h", "under {hi} h"),
    "svc_hours_class": ("{lo} à {hi} h", "{lo} to {hi} h"),
    "svc_hours_last": ("{lo} h et plus", "{lo} h and more"),
    "svc_main_centre": ("Centre le plus probable", "Most likely centre"),
    "svc_probability": ("probabilité {value}", "probability {value}"),
    "svc_no_centre": ("aucun centre à portée", "no centre within reach"),
    "svc_other_centres": ("autres centres", "other centres"),
    "svc_catchment_population": ("Habitants attirés", "Residents drawn"),
    "svc_homes_main": ("Résidences dont c'est le centre principal", "Homes whose main centre"),
    "svc_attractiveness": ("Attractivité (surface, commerces)", "Attractiveness (area, shops)"),
    "svc_retained": (
        "Part des habitants de {quartier} retenue par ses centres",
        "Share of {quartier}'s residents retained by its centres",
    ),
    "svc_centres_note": (
        "Cercles proportionnels aux habitants attirés (modèle de Huff)",
        "Circles proportional to the residents drawn (Huff model)",
    ),
    "svc_catchments_note": (
        "Chaque résidence a la couleur de son centre le plus probable (modèle de Huff)",
        "Each home has the colour of its most likely centre (Huff model)",
    ),
    "svc_data": ("Données", "Data"),
    "svc_missing_map": (
        "capacité et horaires des services non calculés : renseigner les champs « capacité » "
        "(ETP, places, guichets) et « horaires » (syntaxe OpenStreetMap) des équipements",
        "capacity and opening hours of services not computed: fill the facilities' fields "
        "“capacity” (FTE, places, counters) and “horaires” (OpenStreetMap syntax)",
    ),
    "svc_col_access": ("Capacité / 10 000 hab.", "Capacity / 10,000 res."),
    "svc_col_hours": ("Heures ouvertes / semaine", "Open hours / week"),
    "svc_panel": ("Capacité et horaires à portée", "Capacity and hours within reach"),
    # --- the grouped layer control (maps with many layers: one heading per group)
    "group_capacity": ("Capacité à portée de marche", "Capacity within walking reach"),
    "group_open_hours": ("Heures d'ouverture à portée", "Opening hours within reach"),
    "group_shops": ("Commerces", "Shops"),
    "group_catchments": ("Zones de chalandise", "Catchments"),
    "group_context": ("Territoire et équipements", "Territory and facilities"),
    "group_other": ("Autres couches", "Other layers"),
    "group_none": ("Ne rien afficher", "Show none"),
    "group_fold": ("Cliquer pour replier ou déplier", "Click to fold or unfold"),
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
