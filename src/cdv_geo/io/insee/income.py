"""Income and poverty indicators of the registry (INSEE Filosofi, by QPV).

Disposable income (``median_income``, ``income_q1`` ... ``income_d9``), declared income
(``median_declared_income``, ``declared_income_*``), poverty rate, inequality (Gini, ratios) and
the composition of disposable income (``*_share``). Assembled into
:data:`cdv_geo.io.insee.registry.INDICATORS`.
"""

from __future__ import annotations

from cdv_geo.io.insee.indicator import FILO, Indicator, indicator

__all__ = ["INCOME_INDICATORS"]


def _income_set(kind: str) -> list[Indicator]:
    """Return the quartiles and deciles of disposable or declared income per consumption unit."""
    disp = kind == "disposable"
    prefix = "income" if disp else "declared_income"
    fam, filo = ("DISP", "DISP") if disp else ("DECUC", "DEC")
    fr_kind = "disponible" if disp else "déclaré"
    out = []
    names = {"q1": ("1er quartile", "1st quartile", 25), "q3": ("3e quartile", "3rd quartile", 75)}
    for k in range(1, 10):
        fr = "1er" if k == 1 else f"{k}e"
        en = {1: "1st", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")
        names[f"d{k}"] = (f"{fr} décile", f"{en} decile", 10 * k)
    for stem, (fr, en, pct) in names.items():
        cols = [f"filosofi: {filo}_{stem.upper()}_Ayy"]
        if disp or stem in ("q1", "q3", "d1", "d9"):
            cols.insert(0, f"revn: {fam}_{stem.upper()}")
        out.append(
            indicator(
                f"{prefix}_{stem}",
                f"{fr} du revenu {fr_kind} par UC",
                f"{en} of {kind} income per consumption unit",
                "EUR",
                f"{kind.capitalize()} income per consumption unit below which {pct} % of the "
                "people of the area live (€ per year).",
                True,
                FILO,
                tuple(cols),
            )
        )
    return out


_INCOME = [
    indicator(
        "median_income",
        "Revenu disponible médian par UC",
        "Median disposable income per consumption unit",
        "EUR",
        "Median of the disposable income (after taxes and social benefits) per consumption "
        "unit of the people of the area, € per year (the 'niveau de vie' median).",
        True,
        FILO,
        ("revn: DISP_Q2", "filosofi: DISP_MED_Ayy", "older tables: disp_q2, disp_med"),
    ),
    indicator(
        "median_declared_income",
        "Revenu déclaré médian par UC",
        "Median declared income per consumption unit",
        "EUR",
        "Median of the income declared to the tax office (before redistribution) per "
        "consumption unit, € per year. `median_income` is the disposable one.",
        True,
        FILO,
        ("revn: DECUC_Q2", "filosofi: DEC_MED_Ayy", "older tables: decuc_q2, dec_med"),
    ),
    *_income_set("disposable"),
    *_income_set("declared"),
    indicator(
        "poverty_rate",
        "Taux de pauvreté (seuil à 60 %)",
        "Poverty rate (60 % threshold)",
        "fraction",
        "Share of people whose disposable income per consumption unit is below 60 % of the "
        "national median (the monetary poverty line).",
        False,
        FILO,
        ("revn: TP60 (%)", "filosofi: DISP_TP60_Ayy (%)", "older tables: tp60"),
    ),
    indicator(
        "interdecile_ratio",
        "Rapport interdécile (D9/D1)",
        "Interdecile ratio (D9/D1)",
        "ratio",
        "Ninth decile of disposable income per consumption unit divided by the first.",
        False,
        FILO,
        ("revn: DISP_D1D9", "filosofi: DISP_RD_Ayy"),
    ),
    indicator(
        "declared_interdecile_ratio",
        "Rapport interdécile du revenu déclaré (D9/D1)",
        "Interdecile ratio of declared income (D9/D1)",
        "ratio",
        "Ninth decile of declared income per consumption unit divided by the first.",
        False,
        FILO,
        ("revn: DECUC_D1D9", "filosofi: DEC_RD_Ayy"),
    ),
    indicator(
        "income_iqr_ratio",
        "Écart interquartile rapporté à la médiane",
        "Interquartile range over the median",
        "ratio",
        "(Q3 - Q1) / median of the disposable income per consumption unit.",
        False,
        FILO,
        ("filosofi: DISP_EQ_Ayy",),
    ),
    indicator(
        "s80_s20_ratio",
        "Rapport S80/S20",
        "S80/S20 ratio",
        "ratio",
        "Income held by the richest 20 % divided by the income held by the poorest 20 %.",
        False,
        FILO,
        ("filosofi: DISP_S80S20_Ayy",),
    ),
    indicator(
        "gini",
        "Indice de Gini du revenu disponible",
        "Gini index of disposable income",
        "index",
        "Gini index of the disposable income per consumption unit: 0 when everyone has the "
        "same income, 1 when one person has everything. The published value is used when "
        "there is one (see gini_from_grouped for estimates).",
        False,
        FILO,
        ("filosofi: DISP_GINI_Ayy", "older tables: DISP_GI_Ayy, disp_gi"),
    ),
    indicator(
        "taxed_households_share",
        "Part des ménages fiscaux imposés",
        "Share of tax households paying income tax",
        "fraction",
        "Tax households paying income tax divided by all tax households.",
        True,
        FILO,
        ("revn: PMIMP (%)",),
    ),
]


def _part(
    name: str, fr: str, en: str, revn: str | None, filo: str, better: bool | None
) -> Indicator:
    cols = ([f"revn: {revn} (%)"] if revn else []) + [f"filosofi: DISP_{filo}_Ayy (%)"]
    return indicator(
        name,
        f"Part des {fr} dans le revenu disponible",
        f"Share of {en} in disposable income",
        "fraction",
        f"{en.capitalize()} divided by the disposable income of the people of the area.",
        better,
        FILO,
        tuple(cols),
    )


_SHARES = [
    _part("activity_income_share", "revenus d'activité", "activity income", "PACT", "PACT", True),
    _part(
        "unemployment_benefit_share",
        "indemnités de chômage",
        "unemployment benefits",
        None,
        "PCHO",
        None,
    ),
    _part("pension_share", "pensions et retraites", "pensions", "PPEN", "PPEN", None),
    _part(
        "property_income_share", "revenus du patrimoine", "property income", "PPAT", "PPAT", None
    ),
    _part(
        "social_benefits_share", "prestations sociales", "social benefits", "PPSOC", "PPSOC", False
    ),
    _part(
        "family_benefits_share", "prestations familiales", "family benefits", None, "PPFAM", None
    ),
    _part(
        "minimum_income_share", "minima sociaux", "minimum income benefits", None, "PPMINI", False
    ),
    _part(
        "housing_benefits_share", "prestations logement", "housing benefits", None, "PPLOGT", None
    ),
    indicator(
        "taxes_ratio",
        "Impôts rapportés au revenu disponible",
        "Taxes over disposable income",
        "fraction",
        "Taxes paid (negative) divided by the disposable income of the people of the area.",
        None,
        FILO,
        ("revn: PIMPOT (%)", "filosofi: DISP_PIMPOT_Ayy (%)"),
        minimum=None,
    ),
]

#: Income, poverty and inequality indicators.
INCOME_INDICATORS: list[Indicator] = [*_INCOME, *_SHARES]
