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
    "rp_limits": ("Limites :", "Limits:"),
    # --- the services page (issue 25): capacity, opening hours, commercial centres
    "theme_services": (
        "Services : capacité, horaires et commerces",
        "Services: capacity, opening hours and shops",
    ),
    "svc_h_capacity": (
        "Capacité des services à portée de marche (pour 10 000 habitants)",
        "Capacity of the services within walking reach (per 10,000 residents)",
    ),
    "svc_p_capacity": (
        "Capacité (ETP, places, guichets) des services à portée, partagée entre tous les "
        "habitants qui les atteignent et pondérée par le temps de marche (E2SFCA, comme l'APL "
        "de la DREES ; Luo et Qi 2009, Barlet et al. 2012). Limites : les habitants d'autres "
        "communes et les déplacements en voiture ou en bus ne sont pas comptés.",
        "Capacity (FTE, places, counters) of the services within reach, shared among all the "
        "residents who reach them and weighted by walking time (E2SFCA, as the DREES APL; Luo "
        "& Qi 2009, Barlet et al. 2012). Limits: residents of other towns and trips by car or "
        "bus are not counted.",
    ),
    "svc_h_hours": (
        "Heures d'ouverture à portée de marche (par semaine)",
        "Opening hours within walking reach (per week)",
    ),
    "svc_p_hours": (
        "Heures par semaine où au moins un service du type est ouvert à moins de {minutes} min "
        "à pied, en moyenne par habitant (semaine de référence sans jour férié). Limites : "
        "horaires déclarés, pas l'affluence ni les rendez-vous.",
        "Hours a week when at least one service of the kind is open within {minutes} min walk, "
        "the mean per resident (a reference week without public holiday). Limits: declared "
        "hours, not crowding nor appointments.",
    ),
    "svc_h_moments": (
        "Habitants avec un service ouvert à des moments clés (%) : {moments}",
        "Residents with a service open at key moments (%): {moments}",
    ),
    "svc_p_moments": (
        "Part des habitants ayant un service du type ouvert à portée de marche à ce moment.",
        "Share of residents with a service of the kind open within walking reach at that time.",
    ),
    "svc_moment_wednesday_14h": ("mercredi 14 h", "Wednesday 2 pm"),
    "svc_moment_saturday_10h": ("samedi 10 h", "Saturday 10 am"),
    "svc_moment_weekday_after_18h": ("après 18 h en semaine", "weekdays after 6 pm"),
    "svc_h_strip": (
        "Semaine type : habitants avec un service ouvert à portée",
        "Typical week: residents with a service open within reach",
    ),
    "svc_strip_caption": (
        "{quartier} : part des habitants ayant un service du type ouvert à portée, par jour "
        "et par heure (0 % blanc, 100 % bleu foncé)",
        "{quartier}: share of residents with a service of the kind open within reach, per day "
        "and hour (0 % white, 100 % dark blue)",
    ),
    "svc_strip_note": (
        "Chaque case : part des habitants ayant un service du type ouvert à portée de marche "
        "pendant cette heure (0 % blanc, 100 % bleu foncé).",
        "Each cell: share of residents with a service of the kind open within walking reach "
        "during that hour (0 % white, 100 % dark blue).",
    ),
    "svc_strip_never": (
        "{quartier} — jamais ouvert à portée de marche : {kinds}.",
        "{quartier} — never open within walking reach: {kinds}.",
    ),
    "svc_strip_scale": ("Part des habitants servis", "Share of residents served"),
    "svc_strip_hour": ("heure", "hour"),
    "svc_day_Mo": ("lundi", "Monday"),
    "svc_day_Tu": ("mardi", "Tuesday"),
    "svc_day_We": ("mercredi", "Wednesday"),
    "svc_day_Th": ("jeudi", "Thursday"),
    "svc_day_Fr": ("vendredi", "Friday"),
    "svc_day_Sa": ("samedi", "Saturday"),
    "svc_day_Su": ("dimanche", "Sunday"),
    "svc_h_retail": ("Densité commerciale", "Retail density"),
    "svc_p_retail": (
        "Commerces du périmètre pour 1 000 habitants. Limites : un commerce juste hors du "
        "quartier n'y compte pas ; la taille des commerces n'est prise en compte que si la "
        "surface est fournie.",
        "Shops within the boundary per 1,000 residents. Limits: a shop just outside the "
        "quartier does not count in it; the shops' size counts only when their area is given.",
    ),
    "svc_h_catchment": (
        "Zone de chalandise des centres commerciaux",
        "Catchment of the commercial centres",
    ),
    "svc_p_catchment": (
        "Part des habitants qui, selon le modèle de Huff (1963), font leurs courses dans un "
        "centre de leur propre périmètre, selon l'attractivité des centres et le temps de "
        "marche. Limites : paramètres non calés sur une enquête ; les centres absents de la "
        "couche n'attirent personne.",
        "Share of residents who, by the Huff model (1963), shop at a centre of their own "
        "boundary, from the centres' attractiveness and the walking time. Limits: parameters "
        "not fitted to a survey; centres missing from the layer draw nobody.",
    ),
    "svc_col_centre": ("Centre commercial", "Commercial centre"),
    "svc_col_quartier": ("Quartier", "Quartier"),
    "fig_access_per_10k": ("Capacité / 10 000 hab.", "Capacity / 10,000 res."),
    "fig_open_hours_week": ("Heures ouvertes / semaine", "Open hours / week"),
    "fig_per_1000_inhabitants": ("Commerces / 1 000 hab.", "Shops / 1,000 res."),
    "fig_per_1000_inhabitants_weight": (
        "{weight} des commerces / 1 000 hab.",
        "Shops' {weight} / 1,000 res.",
    ),
    "fig_n_shops": ("Commerces", "Shops"),
    "fig_retained_share": ("Habitants retenus par leurs centres", "Residents retained"),
    "fig_no_centre_share": ("Habitants sans centre à portée", "Residents with no centre in reach"),
    "fig_catchment_population": ("Habitants attirés", "Residents drawn"),
    "fig_n_homes_main": ("Résidences (centre principal)", "Homes (main centre)"),
    "svc_missing_capacity": (
        "Capacité des services : renseigner le champ « capacité » (ETP de médecin, places, "
        "guichets) de la couche des équipements.",
        "Capacity of the services: fill the field “capacity” (GP FTE, places, counters) of "
        "the facilities layer.",
    ),
    "svc_missing_hours": (
        "Horaires des services : renseigner le champ « horaires » (syntaxe "
        "OpenStreetMap, par exemple « Mo-Fr 09:00-12:00 ») de la couche des équipements.",
        "Opening hours of the services: fill the field “horaires” (OpenStreetMap syntax, "
        "e.g. “Mo-Fr 09:00-12:00”) of the facilities layer.",
    ),
    "svc_missing_shops": (
        "Commerces : fournir la couche des commerces (shops), avec leur surface si elle est "
        "connue, et les centres commerciaux.",
        "Shops: provide the shops layer, with their sales area where known, and the "
        "commercial centres.",
    ),
}
