"""Table cells and panels in the committee's language (issue 22): labels, numbers, n.d., escaping.

Every expected text below is written by hand from the French and English number rules: a
narrow no-break space (U+202F) between thousands and a comma before decimals in French, a
comma between thousands and a point in English; "%" after a no-break space in French.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cdv_geo.views.cells import cell_reason, cell_text, index_text, shown_rows, table_html
from cdv_geo.views.panels import (
    balance_table,
    coverage_table,
    figures_table,
    panel_rows,
    popup_figures,
    quartier_rows,
    row_names,
)

NNBSP, NBSP = "\u202f", "\u00a0"
EVIL = "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    ("column", "value", "lang", "expected"),
    [
        ("n_residents", 12210.0, "fr", f"12{NNBSP}210"),
        ("n_residents", 12210.0, "en", "12,210"),
        ("net_change_dwellings", -39252.0, "fr", f"-39{NNBSP}252"),
        ("net_change_dwellings", -39252.0, "en", "-39,252"),
        ("mean_living_standard", 12210.4, "fr", f"12{NNBSP}210{NBSP}€"),
        ("impervious_share", 0.4962, "fr", f"49,6{NBSP}%"),
        ("impervious_share", 0.4962, "en", "49.6%"),
        ("impervious_share", 0.0, "fr", f"0,0{NBSP}%"),  # a zero is a value, not n.d.
        ("area_m2", 330949.6, "fr", f"330{NNBSP}950{NBSP}m²"),
        ("impervious_change_pp", -0.01, "fr", "0,0"),  # no "-0,0"
        ("trees_per_ha", 12.345, "fr", "12,3"),
        ("trees_per_ha", 2.345, "en", "2.35"),
        ("reconstitution_ratio", 0.51, "fr", "0,51"),
        ("year", 2024, "fr", "2024"),  # a year has no thousands separator
        ("year", 2024.0, "en", "2024"),
        ("n_residents", None, "fr", "n.d."),
        ("n_residents", np.nan, "en", "n/a"),
        ("worse_off_commune", pd.NA, "fr", "n.d."),
        ("improved", True, "fr", "oui"),
        ("improved", np.False_, "en", "no"),
        ("weight", "children", "fr", "enfants"),
        ("method", "network", "en", "walking along the streets"),
        ("name", EVIL, "fr", EVIL),  # as is: the HTML writer escapes it
    ],
)
def test_cell_text(column: str, value: object, lang: str, expected: str) -> None:
    assert cell_text(column, value, lang) == expected


def test_cell_text_of_an_indicator_is_in_its_unit() -> None:
    # poverty rate: a fraction shown in %; median income: euros
    assert cell_text("value", 0.412, "fr", indicator="poverty_rate") == f"41,2{NBSP}%"
    assert cell_text("commune_value", 0.216, "en", indicator="poverty_rate") == "21.6%"
    assert cell_text("gap_to_commune", 0.196, "fr", indicator="poverty_rate") == "19,6 pts"
    assert cell_text("value", 13580, "en", indicator="median_income") == "13,580 €"
    # a raw published column has no unit: a plain number
    assert cell_text("value", 0.25, "fr", indicator="a_etud") == "0,25"


def test_cell_text_reason_is_words_never_raw() -> None:
    assert cell_text("reason", "no residences layer", "en").startswith("Residences file missing")
    assert cell_text("reason", "KeyError: 'x'", "fr") == "donnée non disponible"


def test_index_text() -> None:
    assert index_text("quartier", "qpv") == "Ensemble des QPV"
    assert index_text("quartier", "commune", "en", town="Soissons") == "Soissons (municipality)"
    assert index_text("quartier", "hors_qpv", town="Soissons") == "Soissons hors QPV"
    assert index_text("quartier", "QP002013") == "QP002013"
    assert index_text("kind", "water_play_area") == "Aire de jeux d'eau"
    assert index_text("threshold_min", 10.0, "en") == f"10{NBSP}min"
    assert index_text("year", "all") == "Ensemble"  # a sub-total over the years
    assert index_text("operation", "demolition", "en") == "Demolition"
    assert index_text("indicator", "poverty_rate", "en").startswith("Poverty rate")


def test_cell_reason_keeps_the_parts_of_its_column() -> None:
    why = "n_trees: no tree plantings; area_m2: empty geometry; no value"
    assert cell_reason(why, "n_trees", "en") == (
        "Tree plantings missing: provide the plantings layer."
    )
    # a column the reason does not name: the parts about no column
    assert cell_reason(why, "n_homes", "en") == "No value in the data provided."


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [EVIL, "Presles", "Ensemble des QPV", "Commune"],
            "n_trees": [12.0, np.nan, 12.0, 30.0],
            "impervious_share": [0.5, 0.25, pd.NA, 0.1],
            "reason": [None, "n_trees: no tree plantings", EVIL, None],
        },
        index=pd.Index(["QP1", "QP2", "qpv", "commune"], name="quartier"),
    )


def test_table_html_labels_formats_and_escapes() -> None:
    html, left_out = table_html(_table(), "fr", town="Laon")
    assert left_out == 0
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    cells = re.findall(r"<t[dh](?: [^>]*)?>(.*?)</t[dh]>", html)
    # headers in French, the reason column left to the tooltips and the list under the table
    assert cells[:3] == ["Quartier (code)", "Nom", "Arbres plantés (nombre)"]
    assert "Motif" not in cells
    # comparison rows by their labels, with the town; the quartiers by their code
    assert "Laon (commune)" in cells and "Ensemble des QPV" in cells and "QP1" in cells
    assert f"50,0{NBSP}%" in cells and "12" in cells
    assert not {"nan", "None", "&lt;NA&gt;", "<NA>"} & set(cells)
    # each missing cell: n.d. and, in its tooltip, why
    assert (
        '<td title="Plantations d&#x27;arbres absentes : fournir la couche des plantations.">'
        in (html)
    )
    assert '<td title="donnée non disponible">n.d.</td>' in html  # the hostile reason
    assert "Données manquantes" in html


def test_table_html_in_english_and_row_limit() -> None:
    html, left_out = table_html(_table(), "en", max_rows=2)
    assert left_out == 2
    cells = re.findall(r"<t[dh](?: [^>]*)?>(.*?)</t[dh]>", html)
    assert cells[:2] == ["Quartier (code)", "Name"] and "50.0%" in cells
    assert "n/a" in cells and "Missing data" in html


def test_shown_rows_leave_raw_indicator_codes_to_the_files() -> None:
    t = pd.DataFrame(
        {"value": [0.1, 0.4]},
        index=pd.MultiIndex.from_tuples(
            [("QP1", "a_etud"), ("QP1", "poverty_rate")], names=["quartier", "indicator"]
        ),
    )
    assert shown_rows(t).index.get_level_values("indicator").tolist() == ["poverty_rate"]
    html, left_out = table_html(t, "fr")
    assert left_out == 1 and "a_etud" not in html


# --- panels: the quartiers, then the town outside the QPV, then the whole town ----------------


def _kf() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["Nord", "Sud", "Ensemble des QPV", "Commune", "Commune hors QPV"],
            "n_trees": [12.0, 3.0, 15.0, 40.0, 25.0],
            "n_rebuilt": [np.nan, 5.0, 5.0, 5.0, 0.0],
            "reason": ["n_rebuilt: no renewal balance", None, None, None, None],
        },
        index=pd.Index(["QN", "QS", "qpv", "commune", "hors_qpv"], name="quartier"),
    )


def test_panel_rows_and_names() -> None:
    kf = _kf()
    assert panel_rows(kf).index.tolist() == ["QN", "QS", "hors_qpv", "commune"]
    assert panel_rows(kf, ["QS"]).index.tolist() == ["QS", "hors_qpv", "commune"]
    assert quartier_rows(kf).index.tolist() == ["QN", "QS"]
    assert row_names(panel_rows(kf), "en", town="Laon") == [
        "Nord",
        "Sud",
        "Laon outside priority neighbourhoods",
        "Laon (municipality)",
    ]
    assert list(popup_figures(kf, "fr")) == ["QN", "QS"]


def test_figures_table_compares_with_the_town() -> None:
    html = figures_table(_kf(), "fr", ["QN"], town="Laon")
    assert re.findall(r"<th>(.*?)</th>", html) == ["", "Nord", "Laon hors QPV", "Laon (commune)"]
    row = re.search(r"<tr><td>Arbres plantés</td>(.*?)</tr>", html)
    assert row is not None and re.findall(r"<td>(.*?)</td>", row.group(1)) == ["12", "25", "40"]
    # the missing value says why
    assert '<td title="Bilan du renouvellement urbain absent' in html
    # the town's name from the table when none is given
    kf = _kf()
    kf.attrs["town"] = "Soissons"
    assert "<th>Soissons (commune)</th>" in figures_table(kf, "fr")


def test_coverage_and_balance_tables() -> None:
    idx = pd.MultiIndex.from_tuples(
        [(q, "school", t) for q in ("QN", "qpv", "commune", "hors_qpv") for t in (5.0, 10.0)],
        names=["quartier", "kind", "threshold_min"],
    )
    cov = pd.DataFrame(
        {
            "name": ["Nord"] * 2 + ["x"] * 6,
            "covered_share": [0.4, 0.9, 0.4, 0.9, 0.3, 0.8, 0.2, 0.7],
        },
        index=idx,
    )
    html = coverage_table(cov, "school", "fr", town="Laon")
    assert html is not None
    names = re.findall(r"<tr><td>(.*?)</td>", html)
    assert names == ["Nord", "Laon hors QPV", "Laon (commune)"]  # the QPV row is the quartier's
    assert f"<td>Laon (commune)</td><td>30{NBSP}%</td><td>80{NBSP}%</td>" in html
    rb = pd.DataFrame(
        {"name": ["Nord", "Ensemble des QPV"], "n_demolished": [120.0, 120.0]},
        index=pd.Index(["QN", "qpv"], name="quartier"),
    )
    assert re.findall(r"<th>(.*?)</th>", balance_table(rb, "fr") or "") == [
        "",
        "Nord",
        "Programme",
    ]
