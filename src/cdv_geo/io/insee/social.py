"""Population, household, benefit, health-cover and employment indicators of the registry.

Census (``population``, ``*_share`` of the population), CAF (recipients, RSA, children by age),
CNAM (CSS, ex-CMU-C), France Travail (job seekers by category), and the derived shares
(``rsa_share``, ``css_share``). Assembled into :data:`cdv_geo.io.insee.registry.INDICATORS`.
"""

from __future__ import annotations

from cdv_geo.io.insee.indicator import CAF, CNAM, FT, RP, Indicator, indicator

__all__ = ["SOCIAL_INDICATORS"]


def _count(name: str, fr: str, en: str, definition: str, source: str, cols: str) -> Indicator:
    return indicator(name, fr, en, "count", definition, None, source, tuple(cols.split(", ")))


_COUNTS = [
    _count(
        "population",
        "Population municipale",
        "Population",
        "Residents of the area (population municipale, census).",
        RP,
        "demo: POP_MUN",
    ),
    _count(
        "commune_population",
        "Population de la commune",
        "Population of the commune",
        "Residents of the whole commune the quartier lies in (the same on every quartier of it).",
        RP,
        "demo: POP_COM",
    ),
    _count(
        "commune_qpv_population",
        "Population des QPV de la commune",
        "Population of the commune's QPV",
        "Residents of all the QPV of the commune the quartier lies in.",
        RP,
        "demo: POP_COM_QP",
    ),
    _count(
        "n_caf_recipients",
        "Allocataires CAF",
        "CAF benefit recipients",
        "Households (allocataires) receiving at least one benefit from the CAF.",
        CAF,
        "revn: A, demo: A",
    ),
    _count(
        "n_caf_covered_people",
        "Personnes couvertes par la CAF",
        "People covered by CAF benefits",
        "Recipients, their spouses and dependants.",
        CAF,
        "demo: PERCOU",
    ),
    _count(
        "n_rsa_recipients",
        "Allocataires du RSA",
        "RSA recipients",
        "CAF recipients of the revenu de solidarité active (RSA socle until 2017).",
        CAF,
        "revn: ARSAS",
    ),
    _count(
        "n_activity_bonus_recipients",
        "Allocataires de la prime d'activité",
        "Activity bonus recipients",
        "CAF recipients of the prime d'activité.",
        CAF,
        "revn: APPA",
    ),
    _count(
        "n_aah_recipients",
        "Allocataires de l'AAH",
        "AAH recipients",
        "CAF recipients of the allocation aux adultes handicapés.",
        CAF,
        "revn: AAAH",
    ),
    _count(
        "n_benefit_dependent_50",
        "Allocataires dont les prestations font au moins 50 % des revenus",
        "Recipients living at least 50 % on benefits",
        "CAF recipients whose income comes at least half from CAF benefits.",
        CAF,
        "revn: APRES50",
    ),
    _count(
        "n_benefit_dependent_100",
        "Allocataires dont les prestations font 100 % des revenus",
        "Recipients living entirely on benefits",
        "CAF recipients whose income comes entirely from CAF benefits.",
        CAF,
        "revn: APRES100",
    ),
    _count(
        "n_single_parent_recipients",
        "Allocataires monoparents",
        "Single-parent recipients",
        "CAF recipients who are single parents.",
        CAF,
        "demo: AM",
    ),
    _count(
        "n_single_recipients",
        "Allocataires isolés sans enfant",
        "Single recipients without children",
        "CAF recipients living alone without children.",
        CAF,
        "demo: AI",
    ),
    _count(
        "n_couple_no_child_recipients",
        "Allocataires en couple sans enfant",
        "Couple recipients without children",
        "CAF recipients in a couple without children.",
        CAF,
        "demo: ACSSENF",
    ),
    _count(
        "n_couple_children_recipients",
        "Allocataires en couple avec enfants",
        "Couple recipients with children",
        "CAF recipients in a couple with children.",
        CAF,
        "demo: ACAVENF",
    ),
    _count(
        "n_children",
        "Enfants couverts par la CAF",
        "Children covered by the CAF",
        "Children (under 25) of CAF recipients.",
        CAF,
        "demo: ENF",
    ),
    *[
        _count(
            f"n_children_{a}_{b}",
            f"Enfants de {a} à {b} ans couverts par la CAF",
            f"Children aged {a}-{b} covered by the CAF",
            f"Children of CAF recipients aged {a} to {b}.",
            CAF,
            f"demo: ENF_{b if a == 0 else f'{a}_{b}'}",
        )
        for a, b in ((0, 2), (3, 5), (6, 10), (11, 14), (15, 17), (18, 24))
    ],
    _count(
        "n_css",
        "Bénéficiaires de la CSS sans participation (ex-CMU-C)",
        "People covered by the CSS without contribution (formerly CMU-C)",
        "People covered by the complémentaire santé solidaire without financial "
        "contribution (CMU-C until 2019).",
        CNAM,
        "revn: CCMUC (until 2019), revn: CC2S (2021), revn: C_C2SNP (2022)",
    ),
    _count(
        "n_css_contributory",
        "Bénéficiaires de la CSS avec participation",
        "People covered by the CSS with contribution",
        "People covered by the complémentaire santé solidaire with a financial contribution.",
        CNAM,
        "revn: C_C2SP",
    ),
    _count(
        "n_insured",
        "Bénéficiaires du régime général de l'Assurance maladie",
        "People covered by the general health insurance scheme",
        "People covered by the general scheme (insured and dependants).",
        CNAM,
        "revn: C",
    ),
    _count(
        "n_jobseekers_abc",
        "Demandeurs d'emploi de catégories A, B, C",
        "Job seekers, categories A, B, C",
        "Job seekers registered at France Travail, categories A, B, C (end of year).",
        FT,
        "ipro: ABC",
    ),
    _count(
        "n_jobseekers_abcde",
        "Demandeurs d'emploi de catégories A à E",
        "Job seekers, categories A to E",
        "Job seekers registered at France Travail, categories A to E (end of year).",
        FT,
        "ipro: ABCDE",
    ),
    _count(
        "n_jobseekers_a",
        "Demandeurs d'emploi de catégorie A",
        "Job seekers, category A",
        "Job seekers with no work at all in the month, category A.",
        FT,
        "ipro: A",
    ),
    _count(
        "n_jobseekers_abc_women",
        "Demandeuses d'emploi (A, B, C)",
        "Women job seekers (A, B, C)",
        "Women among the job seekers of categories A, B, C.",
        FT,
        "ipro: ABC_F",
    ),
    _count(
        "n_jobseekers_abc_under_26",
        "Demandeurs d'emploi de moins de 26 ans (A, B, C)",
        "Job seekers under 26 (A, B, C)",
        "Job seekers of categories A, B, C aged 25 or less.",
        FT,
        "ipro: ABC_25",
    ),
    _count(
        "n_jobseekers_abc_rsa",
        "Demandeurs d'emploi (A, B, C) allocataires du RSA",
        "Job seekers (A, B, C) receiving RSA",
        "Job seekers of categories A, B, C who receive the RSA.",
        FT,
        "ipro: ABC_RSA",
    ),
    _count(
        "n_subsidised_contracts",
        "Entrées en contrats aidés",
        "Subsidised job contracts",
        "Subsidised job contracts (contrats aidés) signed by residents.",
        "ASP, données infracommunales QPV de l'INSEE",
        "ipro: CA",
    ),
]


def _rate(
    name: str, fr: str, en: str, definition: str, better: bool | None, source: str, cols: str
) -> Indicator:
    return indicator(name, fr, en, "fraction", definition, better, source, tuple(cols.split(", ")))


_RATES = [
    _rate(
        "employment_rate",
        "Taux d'emploi des 15-64 ans",
        "Employment rate of people aged 15-64",
        "People in employment aged 15 to 64 divided by all people aged 15 to 64 (census).",
        True,
        RP,
        "ipro: TX_TOT_EMPL (%)",
    ),
    _rate(
        "employment_rate_women",
        "Taux d'emploi des femmes de 15-64 ans",
        "Employment rate of women aged 15-64",
        "Women in employment aged 15 to 64 divided by all women aged 15 to 64 (census).",
        True,
        RP,
        "ipro: TX_F_EMPL (%)",
    ),
    _rate(
        "employment_rate_foreigners",
        "Taux d'emploi des étrangers de 15-64 ans",
        "Employment rate of foreigners aged 15-64",
        "Foreigners in employment aged 15 to 64 divided by all foreigners aged 15 to 64.",
        True,
        RP,
        "ipro: TX_ET_EMPL (%)",
    ),
    _rate(
        "precarious_job_share",
        "Part des emplois précaires",
        "Share of precarious jobs",
        "Employees on fixed-term, temporary, subsidised or apprenticeship contracts divided "
        "by all employees (census; published until the 2020 vintage).",
        False,
        RP,
        "ipro: TX_TOT_EPREC (%)",
    ),
    _rate(
        "limited_term_job_share",
        "Part des emplois à durée limitée",
        "Share of limited-term jobs",
        "Employees on limited-term contracts divided by all employees (census; from the "
        "2021 vintage, replacing TX_TOT_EPREC: do not chain the two).",
        False,
        RP,
        "ipro: TX_TOT_EDLIM (%)",
    ),
    _rate(
        "women_share",
        "Part des femmes",
        "Share of women",
        "Women divided by the population.",
        None,
        RP,
        "demo: TX_F (%)",
    ),
    _rate(
        "under_25_share",
        "Part des moins de 25 ans",
        "Share of people under 25",
        "People aged 0 to 24 divided by the population.",
        None,
        RP,
        "demo: TX_TOT_0A24 (%)",
    ),
    _rate(
        "over_60_share",
        "Part des 60 ans ou plus",
        "Share of people aged 60 or more",
        "People aged 60 or more divided by the population.",
        None,
        RP,
        "demo: TX_TOT_60ETPLUS (%)",
    ),
    _rate(
        "single_person_household_share",
        "Part des ménages d'une personne",
        "Share of one-person households",
        "Households of one person divided by all households.",
        None,
        RP,
        "demo: TX_TOT_MEN1 (%)",
    ),
    _rate(
        "large_household_share",
        "Part des ménages de 6 personnes ou plus",
        "Share of households of 6 people or more",
        "Households of six people or more divided by all households.",
        None,
        RP,
        "demo: TX_TOT_MEN6 (%)",
    ),
    _rate(
        "foreigner_share",
        "Part des étrangers",
        "Share of foreigners",
        "Foreign nationals divided by the population.",
        None,
        RP,
        "demo: TX_TOT_ET (%)",
    ),
]

_DERIVED = [
    indicator(
        "rsa_share",
        "Part des allocataires CAF percevant le RSA",
        "Share of CAF recipients receiving RSA",
        "fraction",
        "CAF recipients of the RSA divided by all CAF recipients of the area (derived from "
        "two published counts of one file). Older tables: households receiving RSA over all "
        "households.",
        False,
        CAF,
        ("revn: ARSAS / A", "older tables: rsa_share, part_rsa"),
        derived="n_rsa_recipients / n_caf_recipients",
    ),
    indicator(
        "css_share",
        "Part des assurés couverts par la CSS sans participation",
        "Share of insured people covered by the CSS without contribution",
        "fraction",
        "People covered by the CSS without contribution (ex-CMU-C) divided by the people "
        "covered by the general scheme (derived; published from 2021). Older tables: over "
        "the population.",
        False,
        CNAM,
        ("revn: CC2S / C, C_C2SNP / C", "older tables: css_share, part_cmuc"),
        derived="n_css / n_insured",
    ),
    indicator(
        "commune_population_share",
        "Part des habitants de la commune vivant dans le quartier",
        "Share of the commune's residents living in the quartier",
        "fraction",
        "Population of the quartier divided by the population of its commune (derived).",
        None,
        RP,
        ("demo: POP_MUN / POP_COM",),
        derived="population / commune_population",
    ),
]

_OTHERS = [
    indicator(
        "youth_index",
        "Indice de jeunesse",
        "Youth index",
        "ratio",
        "People under 20 divided by people aged 60 or more.",
        None,
        RP,
        ("demo: IND_JEUNE",),
    ),
    _rate(
        "unemployment_rate",
        "Taux de chômage des 15-64 ans (recensement)",
        "Unemployment rate of people aged 15-64 (census)",
        "Unemployed people (census definition, self-declared) divided by the labour force "
        "aged 15 to 64.",
        False,
        RP,
        "older tables: unemployment_rate, taux_chomage",
    ),
    _rate(
        "jobseeker_ratio",
        "Demandeurs d'emploi (cat. A, B, C) par habitant de 15-64 ans",
        "Job seekers (categories A, B, C) per resident aged 15-64",
        "Registered job seekers (categories A, B, C) divided by the population aged 15 to "
        "64, where published (a fraction: 0.22 = 22 per 100). NOT an unemployment rate.",
        False,
        "France Travail (DEFM) et INSEE (population), via l'ANCT",
        "older tables: jobseeker_ratio",
    ),
    _rate(
        "no_diploma_share",
        "Part des 15 ans ou plus non scolarisés sans diplôme",
        "Share of people aged 15+ out of school with no diploma",
        "People aged 15 or more, no longer at school, with no diploma (or at most the "
        "brevet des collèges), divided by all people aged 15+ no longer at school.",
        False,
        RP,
        "older tables: no_diploma_share, part_sans_diplome",
    ),
    _rate(
        "early_leaving_share",
        "Part des 16-25 ans non scolarisés sans diplôme (décrochage)",
        "Share of people aged 16-25 out of school with no diploma (early leaving)",
        "People aged 16 to 25, no longer at school, with no diploma, divided by all people "
        "aged 16 to 25.",
        False,
        RP,
        "older tables: early_leaving_share",
    ),
    indicator(
        "gp_density",
        "Médecins généralistes pour 10 000 habitants",
        "General practitioners per 10,000 residents",
        "per_10000",
        "Practising general practitioners located in the area per 10,000 residents.",
        True,
        "CNAM / DREES (RPPS), INSEE (population)",
        ("older tables: gp_density",),
    ),
]

#: Population, benefit, health-cover and employment indicators.
SOCIAL_INDICATORS: list[Indicator] = [*_COUNTS, *_RATES, *_DERIVED, *_OTHERS]
