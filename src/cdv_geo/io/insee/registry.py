"""The canonical indicator registry, and the published columns each indicator is read from.

:data:`INDICATORS` holds, for each canonical indicator, its labels, unit, definition, direction
(is a higher value better?), publisher, the published columns it is read from (``columns``) and,
for an indicator computed from others, its formula (``derived``). Rates and shares are
**fractions** in [0, 1] (published percentages are divided by 100 on reading).

The INSEE tables of the quartiers prioritaires (données infracommunales QPV) come in four
families whose columns are mapped here: :data:`FAMILY_COLUMNS` (``revn``: income, poverty, CAF
and CNAM figures; ``ipro``: employment and job seekers; ``demo``: population, households, CAF
recipients, children) and :data:`FILOSOFI_STEMS` (``filosofi``: ``DISP_<stem>_Ayy`` columns).
:data:`NOTE_SCOPES` says which columns each quality note (``NOTE_FILO``, ``NOTE_CNAF``...)
qualifies. Other tables are read with a column grammar, :func:`parse_column`.
:mod:`cdv_geo.io.insee` reads the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdv_geo.io.insee.income import INCOME_INDICATORS
from cdv_geo.io.insee.indicator import Indicator
from cdv_geo.io.insee.social import SOCIAL_INDICATORS
from cdv_geo.schema import normalize_token

__all__ = [
    "DERIVED",
    "FAMILY_COLUMNS",
    "FILOSOFI_STEMS",
    "INDICATORS",
    "NOTE_SCOPES",
    "SECRECY_CODES",
    "ColumnRule",
    "Indicator",
    "parse_column",
    "vintage",
]

#: The canonical indicator set, by name.
INDICATORS: dict[str, Indicator] = {i.name: i for i in (*INCOME_INDICATORS, *SOCIAL_INDICATORS)}

#: Derived indicators: name -> (numerator, denominator), both canonical, same code, year, source.
DERIVED: dict[str, tuple[str, str]] = {
    "rsa_share": ("n_rsa_recipients", "n_caf_recipients"),
    "css_share": ("n_css", "n_insured"),
    "commune_population_share": ("population", "commune_population"),
}


def _family_columns() -> dict[str, dict[str, tuple[str, float]]]:
    """Return published column -> (canonical indicator, scale) for each INSEE QPV family."""
    pct = 0.01
    revn: dict[str, tuple[str, float]] = {
        "PMIMP": ("taxed_households_share", pct),
        "DECUC_Q2": ("median_declared_income", 1.0),
        "DISP_Q2": ("median_income", 1.0),
        "DISP_D1D9": ("interdecile_ratio", 1.0),
        "DECUC_D1D9": ("declared_interdecile_ratio", 1.0),
        "TP60": ("poverty_rate", pct),
        "PACT": ("activity_income_share", pct),
        "PPEN": ("pension_share", pct),
        "PPSOC": ("social_benefits_share", pct),
        "PIMPOT": ("taxes_ratio", pct),
        "PPAT": ("property_income_share", pct),
        "CCMUC": ("n_css", 1.0),
        "CC2S": ("n_css", 1.0),
        "C_C2SNP": ("n_css", 1.0),
        "C_C2SP": ("n_css_contributory", 1.0),
        "C": ("n_insured", 1.0),
        "A": ("n_caf_recipients", 1.0),
        "APRES50": ("n_benefit_dependent_50", 1.0),
        "APRES100": ("n_benefit_dependent_100", 1.0),
        "APPA": ("n_activity_bonus_recipients", 1.0),
        "ARSAS": ("n_rsa_recipients", 1.0),
        "AAAH": ("n_aah_recipients", 1.0),
    }
    for stem in ("Q1", "Q3", "D1", "D9"):
        revn[f"DISP_{stem}"] = (f"income_{stem.lower()}", 1.0)
        revn[f"DECUC_{stem}"] = (f"declared_income_{stem.lower()}", 1.0)
    ipro = {
        "TX_TOT_EMPL": ("employment_rate", pct),
        "TX_F_EMPL": ("employment_rate_women", pct),
        "TX_ET_EMPL": ("employment_rate_foreigners", pct),
        "TX_TOT_EPREC": ("precarious_job_share", pct),
        "TX_TOT_EDLIM": ("limited_term_job_share", pct),
        "CA": ("n_subsidised_contracts", 1.0),
        "ABCDE": ("n_jobseekers_abcde", 1.0),
        "ABC": ("n_jobseekers_abc", 1.0),
        "A": ("n_jobseekers_a", 1.0),
        "ABC_F": ("n_jobseekers_abc_women", 1.0),
        "ABC_25": ("n_jobseekers_abc_under_26", 1.0),
        "ABC_RSA": ("n_jobseekers_abc_rsa", 1.0),
    }
    demo = {
        "POP_MUN": ("population", 1.0),
        "POP_COM": ("commune_population", 1.0),
        "POP_COM_QP": ("commune_qpv_population", 1.0),
        "TX_F": ("women_share", pct),
        "TX_TOT_0A24": ("under_25_share", pct),
        "TX_TOT_60ETPLUS": ("over_60_share", pct),
        "IND_JEUNE": ("youth_index", 1.0),
        "TX_TOT_MEN1": ("single_person_household_share", pct),
        "TX_TOT_MEN6": ("large_household_share", pct),
        "TX_TOT_ET": ("foreigner_share", pct),
        "A": ("n_caf_recipients", 1.0),
        "PERCOU": ("n_caf_covered_people", 1.0),
        "AM": ("n_single_parent_recipients", 1.0),
        "AI": ("n_single_recipients", 1.0),
        "ACSSENF": ("n_couple_no_child_recipients", 1.0),
        "ACAVENF": ("n_couple_children_recipients", 1.0),
        "ENF": ("n_children", 1.0),
        "ENF_2": ("n_children_0_2", 1.0),
        **{f"ENF_{a}_{b}": (f"n_children_{a}_{b}", 1.0) for a, b in ((3, 5), (6, 10), (11, 14))},
        **{f"ENF_{a}_{b}": (f"n_children_{a}_{b}", 1.0) for a, b in ((15, 17), (18, 24))},
    }
    return {"revn": revn, "ipro": ipro, "demo": demo}


#: Published column -> (canonical indicator, scale) of the ``revn``, ``ipro`` and ``demo``
#: families (the ``filosofi`` family, ``DISP_<stem>_Ayy``, follows :data:`FILOSOFI_STEMS`).
FAMILY_COLUMNS: dict[str, dict[str, tuple[str, float]]] = _family_columns()

#: Stems of the Filosofi ``DISP_<stem>_Ayy`` / ``DEC_<stem>_Ayy`` columns.
FILOSOFI_STEMS: dict[str, dict[str, tuple[str, float]]] = {
    "DISP": {
        "MED": ("median_income", 1.0),
        "Q2": ("median_income", 1.0),
        "Q1": ("income_q1", 1.0),
        "Q3": ("income_q3", 1.0),
        **{f"D{k}": (f"income_d{k}", 1.0) for k in range(1, 10)},
        "EQ": ("income_iqr_ratio", 1.0),
        "RD": ("interdecile_ratio", 1.0),
        "GINI": ("gini", 1.0),
        "GI": ("gini", 1.0),
        "S80S20": ("s80_s20_ratio", 1.0),
        "PACT": ("activity_income_share", 0.01),
        "PCHO": ("unemployment_benefit_share", 0.01),
        "PPEN": ("pension_share", 0.01),
        "PPAT": ("property_income_share", 0.01),
        "PPSOC": ("social_benefits_share", 0.01),
        "PPFAM": ("family_benefits_share", 0.01),
        "PPMINI": ("minimum_income_share", 0.01),
        "PPLOGT": ("housing_benefits_share", 0.01),
        "PIMPOT": ("taxes_ratio", 0.01),
        "TP60": ("poverty_rate", 0.01),
    },
    "DEC": {
        "MED": ("median_declared_income", 1.0),
        "Q2": ("median_declared_income", 1.0),
        "Q1": ("declared_income_q1", 1.0),
        "Q3": ("declared_income_q3", 1.0),
        **{f"D{k}": (f"declared_income_d{k}", 1.0) for k in range(1, 10)},
        "RD": ("declared_interdecile_ratio", 1.0),
    },
}

#: Quality-note columns -> regular expression of the published columns each one qualifies.
#: A non-zero note becomes part of the ``flag`` of those values (``"NOTE_FILO=1"``).
NOTE_SCOPES: dict[str, str] = {
    "NOTE_FILO": r"PMIMP|PART_CHOMPRINC|DECUC_\w+|BREV|DISP_\w+|TP60|PACT|PPEN|PPSOC|PIMPOT|PPAT",
    "NOTE_CNAM": r"CCMUC|C|CC2S|C_C2S\w*",
    "NOTE_CNAF": r"A|APRES\d+|APPA|ARSAS?|AAAH|PERCOU|AM|AI|AC\w*|A_NETUD_24|A_ETUD|ENF\w*",
    "NOTE_RP": r"POP_\w+|TX_\w+|IND_JEUNE",
    "NOTE_ASP": r"CA|CA_[FH]|CUI\w*|CIE\w*|CAE|EAV\w*",
    "NOTE_ASP_E": r"CA_N1?_E|EVOL_CA_N_E",
    "NOTE_PE": r"ABC\w*|A|A_[FH]",
    "NOTE_PE_T": r"A_N1?_T4|EVOL_\w+_T4",
    "DISP_NOTE_A": r"DISP_\w+",
}

#: INSEE secrecy and missing-value codes -> meaning (the ``flag`` of a missing value).
SECRECY_CODES: dict[str, str] = {
    "s": "secret statistique (too few households to publish)",
    "nd": "non disponible (not available)",
    "ns": "non significatif (not significant)",
    "c": "confidentiel (confidential)",
    "": "empty cell",
}


@dataclass(frozen=True)
class ColumnRule:
    """How one published column is read: its indicator, vintage, scale and family.

    ``percent`` says the value is published in % (checked <= 100, divided by 100).
    """

    indicator: str
    year: int | None
    scale: float
    family: str
    percent: bool


def vintage(text: str | None) -> int | None:
    """Return the year of a vintage suffix (``"19"`` -> 2019, ``"2021"`` -> 2021).

    Examples
    --------
    >>> vintage("19"), vintage("2021"), vintage(None)
    (2019, 2021, None)
    """
    if not text:
        return None
    y = int(text)
    return 2000 + y if y < 100 else y


_NEW = re.compile(r"^(disp|dec)_([a-z0-9]+?)_a(\d{2})$")
_OLD = re.compile(r"^(disp|decuc|dec)_?(q2|med|tp60|gi|rd|d[1-9])(?:_?(\d{4}|\d{2}))?$")
_OLD_TP60 = re.compile(r"^tp60(?:_?(\d{4}|\d{2}))?$")
_CANON = re.compile(
    r"^(" + "|".join(sorted(INDICATORS, key=len, reverse=True)) + r")(_pct)?(?:_a?(\d{4}|\d{2}))?$"
)
_SUFFIX = re.compile(r"(_pct)?(?:_a?(\d{4}|\d{2}))?$")
_FRENCH_ALIASES: dict[str, str] = {
    "revenu_median": "median_income",
    "niveau_de_vie_median": "median_income",
    "taux_de_pauvrete": "poverty_rate",
    "taux_pauvrete": "poverty_rate",
    "indice_de_gini": "gini",
    "part_rsa": "rsa_share",
    "part_menages_rsa": "rsa_share",
    "taux_de_chomage": "unemployment_rate",
    "taux_chomage": "unemployment_rate",
    "taux_emploi": "employment_rate",
    "part_sans_diplome": "no_diploma_share",
    "part_css": "css_share",
    "part_cmuc": "css_share",
    "densite_generalistes": "gp_density",
    "population": "population",
}
_OLD_STEMS = {"q2": "median", "med": "median", "tp60": "poverty_rate", "gi": "gini", "rd": "rd"}


def _filosofi(kind: str, stem: str, yy: str | None, family: str) -> ColumnRule:
    table = FILOSOFI_STEMS["DISP" if kind == "disp" else "DEC"]
    hit = table.get(stem.upper())
    if hit is None:  # a stem of the family outside the registry: kept under its own name
        return ColumnRule(f"{kind}_{stem}", vintage(yy), 1.0, family, False)
    return ColumnRule(hit[0], vintage(yy), hit[1], family, hit[1] != 1.0)


def parse_column(raw: str) -> ColumnRule | None:
    """Recognise a column header of a table outside the four INSEE QPV families.

    Recognised: the Filosofi naming (``DISP_MED_A21``, ``DEC_MED_A21``), the older INSEE
    naming (``disp_q2``, ``decuc_q2_17``, ``tp6017``...), canonical names as fractions
    (``rsa_share``) or percentages (``rsa_share_pct``), with an optional vintage
    (``rsa_share_2021``), and a few French names (``taux_pauvrete``). None for another column.

    Examples
    --------
    >>> parse_column("DISP_TP60_A21")
    ColumnRule(indicator='poverty_rate', year=2021, scale=0.01, family='filosofi', percent=True)
    >>> parse_column("decuc_d1_17").indicator, parse_column("rsa_share_pct_2021").scale
    ('declared_income_d1', 0.01)
    >>> parse_column("COMMENTAIRE") is None
    True
    """
    tok = normalize_token(raw)
    if m := _NEW.match(tok):
        return _filosofi(m.group(1), m.group(2), m.group(3), "filosofi")
    if m := _OLD.match(tok):
        kind, stem, yy = m.groups()
        kind = "disp" if kind == "disp" else "dec"
        return _filosofi(kind, {"gi": "gini"}.get(stem, stem), yy, "insee_legacy")
    if m := _OLD_TP60.match(tok):
        return ColumnRule("poverty_rate", vintage(m.group(1)), 0.01, "insee_legacy", True)
    if m := _CANON.match(tok):
        name, pct, yy = m.groups()
        return ColumnRule(name, vintage(yy), 0.01 if pct else 1.0, "canonical", bool(pct))
    base = _SUFFIX.sub("", tok)
    if base in _FRENCH_ALIASES:
        m2 = _SUFFIX.search(tok)
        pct, yy = (m2.group(1), m2.group(2)) if m2 else (None, None)
        return ColumnRule(
            _FRENCH_ALIASES[base], vintage(yy), 0.01 if pct else 1.0, "canonical", bool(pct)
        )
    return None
