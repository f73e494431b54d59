"""Reading the planner's actions spreadsheet and the TFPB statement (cdv_geo.io.actions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cdv_geo.core.errors import DataValidationError
from cdv_geo.io.actions import read_actions, read_sheet, read_tfpb
from cdv_geo.schema.actions import (
    ROW,
    column_field,
    funder_of,
    parse_amount,
    parse_month,
)
from cdv_geo.schema.actions_validate import validate_actions

QUARTIERS = pd.DataFrame(
    {
        "code": ["QP002012", "QP002013", "QP002014"],
        "name": ["Saint-Crépin Ouest", "Presles", "Chevreux"],
    }
)


def _wide_workbook(path: Path) -> Path:
    """A title row, a two-row header (merged cells), one row per action, a funder per column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Programmation"
    ws["A1"] = "Programmation 2024 du contrat de ville de Soissons"
    ws.merge_cells("A1:I1")
    heads = ["Intitulé de l'action", "Pilier", "Quartier(s)", "Début", "Fin", "Coût total (€)"]
    for col, text in enumerate(heads, start=1):
        ws.cell(2, col, text)
        ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
    ws["G2"] = "Financements"
    ws.merge_cells("G2:I2")
    ws["G3"], ws["H3"], ws["I3"] = "État (P147)", "Ville", "CAF"
    ws.append(
        [
            "#AuLocal",
            "Cohésion sociale",
            "Presles",
            "03/2024",
            "12/2024",
            "20 000 €",
            "12 500 €",
            "7 500 €",
            None,
        ]
    )
    ws.append(
        [
            "Qu(Art)ier",
            "Citoyenneté",
            "Tous",
            dt.datetime(2024, 9, 1),
            "2025",
            30000,
            15000,
            "10\u202f000 €",
            "5 000,00 €",
        ]
    )
    ws.append(
        [
            "Aire de jeux d'eau",
            "cadre de vie",
            "QP002014 ; Saint-Crépin Ouest",
            "2024",
            None,
            None,
            None,
            "80 000 €",
            None,
        ]
    )
    ws.append(["TOTAL", None, None, None, None, 50000, 27500, "97 500 €", 5000])  # not an action
    wb.save(path)
    return path


def test_wide_xlsx_with_merged_headers_reads_without_conversion(tmp_path: Path) -> None:
    p = read_actions(_wide_workbook(tmp_path / "actions.xlsx"), quartiers=QUARTIERS)
    a = p.actions.set_index("id")
    assert a["title"].tolist() == ["#AuLocal", "Qu(Art)ier", "Aire de jeux d'eau"]
    assert a["pillar"].tolist() == ["social_cohesion", "citizenship", "living_environment"]
    assert a.at["2", "quartiers"] == ("QP002012", "QP002013", "QP002014")  # "Tous"
    assert a.at["3", "quartiers"] == ("QP002014", "QP002012")
    assert (a.at["1", "start_year"], a.at["1", "start_month"]) == (2024, 3)
    assert (a.at["2", "start_year"], a.at["2", "start_month"]) == (2024, 9)  # a date cell
    assert (a.at["2", "end_year"], pd.isna(a.at["2", "end_month"])) == (2025, True)
    assert a.at["1", "total_eur"] == 20000.0 and pd.isna(a.at["3", "total_eur"])
    # the title row (1) and the two header rows (2, 3) come before the first action (4)
    assert a[ROW].tolist() == [4, 5, 6]
    f = p.funding
    assert f["funder"].tolist() == ["État (P147)", "Ville", "État (P147)", "Ville", "CAF", "Ville"]
    assert f["amount_eur"].tolist() == [12500.0, 7500.0, 15000.0, 10000.0, 5000.0, 80000.0]
    assert f["action"].tolist() == ["1", "1", "2", "2", "2", "3"]
    assert f[ROW].tolist() == [4, 4, 5, 5, 5, 6]
    assert f["year"].tolist() == [2024] * 6  # each line takes its action's start year


def test_long_xlsx_with_cells_merged_down_the_funding_lines(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Action", "Pilier", "Quartier", "Porteur", "Financeur", "Montant", "Année"])
    ws.append(["GUSP", "Cadre de vie", "Chevreux", "Ville", "État", "8 000 €", "2024"])
    ws.append([None, None, None, None, "OPAL", "4 000 €", "2024"])
    ws.append(
        ["Cité éducative", "Jeunesse", "Tous", "Éducation nationale", "Etat", "50 000 €", "2024"]
    )
    ws.append(
        ["Cité éducative", "Jeunesse", "Tous", "Éducation nationale", "Ville", "20 000 €", "2025"]
    )
    for col in "ABCD":
        ws.merge_cells(f"{col}2:{col}3")
    wb.save(tmp_path / "long.xlsx")
    p = read_actions(tmp_path / "long.xlsx", quartiers=QUARTIERS)
    assert p.actions["title"].tolist() == ["GUSP", "Cité éducative"]
    assert p.actions["operator"].tolist() == ["Ville", "Éducation nationale"]
    f = p.funding
    assert f["action"].tolist() == ["1", "1", "2", "2"]
    assert f["amount_eur"].tolist() == [8000.0, 4000.0, 50000.0, 20000.0]
    assert f["year"].tolist() == [2024, 2024, 2024, 2025]
    assert f[ROW].tolist() == [2, 3, 4, 5]
    assert f["funder"].tolist() == ["État", "OPAL", "État", "Ville"]  # "Etat" is "État"


def test_csv_with_title_line_and_blank_continuation_rows(tmp_path: Path) -> None:
    path = tmp_path / "actions.csv"
    path.write_text(
        "Programmation du contrat de ville;;;;\n"
        "\n"
        "Intitulé;Pilier;Quartiers;Financeur;Montant (€)\n"
        "Nos Héros des Quartiers;Jeunesse;Presles, Chevreux;État;3\u00a0500 €\n"
        ";;;Ville;1 500 €\n",
        encoding="cp1252",  # as Excel saves a CSV on a French Windows
    )
    p = read_actions(path, quartiers=QUARTIERS)
    assert p.actions["quartiers"].tolist() == [("QP002013", "QP002014")]
    assert p.funding["amount_eur"].tolist() == [3500.0, 1500.0]
    assert p.funding[ROW].tolist() == [4, 5]


def test_ods_sheet(tmp_path: Path) -> None:
    rows = [
        ["Bilan 2024", None, None, None],
        ["Intitulé", "Pilier", "Quartier", "Montant État"],
        ["PRE", "Jeunesse", "Presles", "12 500 €"],
    ]
    pd.DataFrame(rows).to_excel(tmp_path / "a.ods", engine="odf", header=False, index=False)
    p = read_actions(tmp_path / "a.ods", quartiers=QUARTIERS)
    assert p.funding[["funder", "amount_eur"]].values.tolist() == [["État", 12500.0]]
    assert p.funding[ROW].tolist() == [3]


def test_every_problem_listed_once_with_spreadsheet_rows(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Programmation 2024"
    ws.append(
        ["Intitulé", "Pilier", "Quartier", "Début", "Fin", "Coût total", "Financeur", "Montant"]
    )
    ws.append(["A", "Cohésion sociale", "Presles", "2024", None, None, "État", "1 000 €"])  # 3 ok
    ws.append(["B", "Cohésion sociale", "Soissons-Nord", "2024", None, None, "État", "10"])  # 4
    ws.append(["C", "Jeunesse", "Presles", "2024", None, None, "Ville", "-500 €"])  # 5
    ws.append(["D", "Jeunesse", "Presles", "2024", None, "1 000 €", "État", "800 €"])  # 6
    ws.append([None, None, None, None, None, None, "Ville", "300 €"])  # 7: D's second line
    ws.append(["E", "Jeunesse", "Presles", "09/2024", "03/2024", None, "État", "10"])  # 8
    ws.append(["F", "Sport", "Chevreux", "2024", None, None, "État", "10"])  # 9
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(DataValidationError) as info:
        read_actions(tmp_path / "bad.xlsx", quartiers=QUARTIERS)
    problems = {(p.feature, p.field): p.message for p in info.value.problems}
    assert set(problems) == {
        ("row 4", "quartiers"),
        ("row 5", "amount"),
        ("row 6", "total"),
        ("row 8", "end"),
        ("row 9", "pillar"),
    }
    assert "Soissons-Nord" in problems[("row 4", "quartiers")]
    assert "negative" in problems[("row 5", "amount")]
    assert "1 100" in problems[("row 6", "total")]
    assert "before it starts" in problems[("row 8", "end")]
    assert "'Sport'" in problems[("row 9", "pillar")]
    assert "bad.xlsx" in str(info.value) and "row 9" in str(info.value)


def test_funders_at_the_total_limit() -> None:
    def cells(amount: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Intitulé": ["A"],
                "Pilier": ["Jeunesse"],
                "Coût total": ["100 €"],
                "Financeur": ["État"],
                "Montant": [amount],
            }
        )

    assert validate_actions(cells("100,50 €")).funding["amount_eur"].tolist() == [100.5]
    with pytest.raises(DataValidationError, match="above the action's total"):
        validate_actions(cells("101 €"))


def test_dates_at_the_order_limit() -> None:
    def cells(start: object, end: object) -> pd.DataFrame:
        return pd.DataFrame(
            {"Intitulé": ["A"], "Pilier": ["Jeunesse"], "Début": [start], "Fin": [end]}
        )

    assert validate_actions(cells("03/2024", "03/2024")).actions["end_month"].tolist() == [3]
    assert validate_actions(cells("03/2024", "2024")).actions["end_year"].tolist() == [2024]
    with pytest.raises(DataValidationError, match="before it starts"):
        validate_actions(cells("03/2024", "02/2024"))
    with pytest.raises(DataValidationError, match="before it starts"):
        validate_actions(cells("2024", "2023"))


def test_missing_columns_and_empty_sheet(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no column for the pillar"):
        validate_actions(pd.DataFrame({"Intitulé": ["A"], "Quartier": ["Presles"]}))
    path = tmp_path / "notes.csv"
    path.write_text("Notes de réunion\nrien à signaler\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="no header row"):
        read_actions(path)
    with pytest.raises(DataValidationError, match="does not exist"):
        read_actions(tmp_path / "absent.xlsx")


def test_beneficiaries_by_quartier_and_locations() -> None:
    cells = pd.DataFrame(
        {
            "Intitulé": ["PAV", "Permanence"],
            "Pilier": ["Cadre de vie", "Cohésion sociale"],
            "Quartier": [None, "Presles; Chevreux"],
            "Bénéficiaires": [None, "Presles : 40 ; Chevreux : 25"],
            "X": ["728 400", None],
            "Y": ["6 920 800", None],
        }
    )
    p = validate_actions(cells, quartiers=QUARTIERS)
    a = p.actions
    assert a.at[1, "beneficiaries_by_quartier"] == {"QP002013": 40, "QP002014": 25}
    assert a.at[1, "n_beneficiaries"] == 65
    assert (a.geometry.iloc[0].x, a.geometry.iloc[0].y) == (728400.0, 6920800.0)
    assert a.geometry.iloc[1] is None and a.crs.to_epsg() == 2154
    bad = cells.assign(**{"Bénéficiaires": [None, "Soissons : 4"]})
    with pytest.raises(DataValidationError, match="unknown quartier 'Soissons'"):
        validate_actions(bad, quartiers=QUARTIERS)


@pytest.mark.parametrize(
    ("text", "value"),
    [("12 500 €", 12500.0), ("12\u202f500,50 €", 12500.5), ("12,5 k€", 12500.0),
     ("1.234,5 EUR", 1234.5), (800, 800.0)],
)  # fmt: skip
def test_parse_amount(text: object, value: float) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["douze", "€", "12 500 $"])
def test_parse_amount_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("03/2024", (2024, 3)), ("3/2024", (2024, 3)), ("2024-03", (2024, 3)),
     ("15/03/2024", (2024, 3)), ("Mars 2024", (2024, 3)), (2024, (2024, None)),
     (dt.date(2024, 3, 15), (2024, 3)), ("1950", (1950, None)), ("2100", (2100, None))],
)  # fmt: skip
def test_parse_month(text: object, value: tuple[int, int | None]) -> None:
    assert parse_month(text) == value


@pytest.mark.parametrize("text", ["13/2024", "1949", "2101", "bientôt", 2024.5])
def test_parse_month_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        parse_month(text)


def test_headers_and_funder_columns() -> None:
    assert column_field("QUARTIER(S)") == "quartiers"
    assert column_field("Montant (€)") == "amount"
    assert funder_of("Financement de la CAF") == "CAF"
    assert funder_of("Région (€)") == "Région"
    assert funder_of("Remarques") is None


def test_read_sheet_names_blank_headers(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("Intitulé;Pilier;;Quartier\nA;Jeunesse;note;Presles\n", encoding="utf-8")
    cells, funders = read_sheet(path)
    assert list(cells.columns) == ["Intitulé", "Pilier", "column C", "Quartier", ROW]
    assert funders == {} and cells[ROW].tolist() == [2]


def test_tfpb_statement(tmp_path: Path) -> None:
    path = tmp_path / "tfpb.csv"
    path.write_text(
        "Bailleur;Quartier;Année;Axe;Action;Montant\n"
        "OPAL;Chevreux;2024;Abattement;;80 000 €\n"
        "OPAL;Chevreux;2024;Gestion des déchets et encombrants;PAV;30 000 €\n"
        "Clésence;QP002013;2024;sur-entretien;Nettoyage renforcé;12 000 €\n",
        encoding="utf-8",
    )
    t = read_tfpb(path, quartiers=QUARTIERS)
    assert t["quartier"].tolist() == ["QP002014", "QP002014", "QP002013"]
    assert t["axis"].tolist() == ["abatement", "waste", "extra_maintenance"]
    assert t["amount_eur"].tolist() == [80000.0, 30000.0, 12000.0]
    assert t[ROW].tolist() == [2, 3, 4]


def test_tfpb_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "tfpb.csv"
    path.write_text(
        "Bailleur;Quartier;Année;Axe;Action;Montant\n"
        "OPAL;Chevreux;2024;Abattement;;80 000 €\n"  # 2
        "OPAL;Chevreux;2024;Abattement;;81 000 €\n"  # 3: a second abatement
        "OPAL;Soissons;2024;Sur-entretien;;1 000 €\n"  # 4: unknown quartier
        "OPAL;Chevreux;2024;Espaces verts;;1 000 €\n"  # 5: unknown axis
        ";Chevreux;2024;Sur-entretien;;-5 €\n",  # 6: no landlord, negative amount
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as info:
        read_tfpb(path, quartiers=QUARTIERS)
    found = {(p.feature, p.field) for p in info.value.problems}
    assert found == {
        ("row 3", "axis"),
        ("row 4", "quartier"),
        ("row 5", "axis"),
        ("row 6", "landlord"),
        ("row 6", "amount"),
    }


def test_tfpb_located_counterparts(tmp_path: Path) -> None:
    path = tmp_path / "tfpb.csv"
    path.write_text(
        "Bailleur;Quartier;Année;Axe;Action;Montant;X;Y\n"
        "OPAL;Chevreux;2024;Abattement;;80 000 €;;\n"
        "OPAL;Chevreux;2024;Déchets;PAV rue Jean Monnet;9 000 €;724 376;6 919 333\n",
        encoding="utf-8",
    )
    t = read_tfpb(path, quartiers=QUARTIERS)
    assert t.crs.to_epsg() == 2154 and t.geometry.iloc[0] is None
    assert (t.geometry.iloc[1].x, t.geometry.iloc[1].y) == (724376.0, 6919333.0)
    path.write_text(path.read_text(encoding="utf-8").replace("6 919 333", ""), encoding="utf-8")
    with pytest.raises(DataValidationError, match="only one of x/y"):
        read_tfpb(path, quartiers=QUARTIERS)


DEMO = Path(__file__).resolve().parents[2] / "data" / "actions"


def test_demo_programme_reads_and_holds_the_mayors_actions() -> None:
    p = read_actions(DEMO / "actions.xlsx", quartiers=QUARTIERS)
    titles = " | ".join(p.actions["title"]).lower()
    # every action the mayor's account names (shared/seed/interview-soissons-contrat-de-ville.txt)
    for words in (
        "npnru",
        "maison de santé",
        "supérette",
        "travailleurs sociaux du ccas",
        "médiateurs",
        "adultes relais",
        "gestion urbaine et sociale",
        "terrasses",
        "jeux d'eau de saint-crépin",
        "jeux d'eau de presles",
        "jeux d'eau de chevreux",
        "renaturation",
        "réussite éducative",
        "mission locale",
        "#aulocal",
        "cités lab",
        "police municipale",
        "centralité commerciale",
        "façades",
        "droits des femmes",
        "cidff",
        "groupes de parole",
        "activités artistiques",
        "condition féminine",
        "france victimes",
        "premiers secours",
        "pmi",
        "complexe sportif",
        "centre social",
        "ma maison dans l'aisne",
        "agences de proximité",
        "cité éducative",
        "qu(art)ier",
        "nos héros des quartiers",
    ):
        assert words in titles, words
    # the sheet's own totals equal its funder columns, action by action
    paid = p.funding.groupby("action")["amount_eur"].sum()
    totals = p.actions.set_index("id")["total_eur"].dropna()
    assert paid.reindex(totals.index).tolist() == totals.tolist()
    assert p.actions[ROW].iloc[0] == 4  # a title row and two header rows above


def test_demo_tfpb_reads() -> None:
    t = read_tfpb(DEMO / "tfpb.csv", quartiers=QUARTIERS)
    assert sorted(t["landlord"].unique()) == ["Bailleur B", "OPAL"]
    assert sorted(t["year"].unique()) == [2023, 2024]
    located = t[t.geometry.notna()]
    assert len(located) == 14 and (located["axis"] == "waste").all()  # the PAV


def test_two_row_header_from_a_sheet_saved_as_csv(tmp_path: Path) -> None:
    # merged cells saved as CSV (or read from ODS) keep their text in the first cell only
    path = tmp_path / "a.csv"
    path.write_text(
        "Intitulé;Pilier;Quartier;Financements;;\n"
        ";;;État (P147);Ville;CAF\n"
        "PRE;Jeunesse;Presles;70 000 €;40 000 €;\n",
        encoding="utf-8",
    )
    cells, funders = read_sheet(path)
    assert funders == {"État (P147)": "État (P147)", "Ville": "Ville", "CAF": "CAF"}
    assert list(cells.columns)[:3] == ["Intitulé", "Pilier", "Quartier"]
    p = read_actions(path, quartiers=QUARTIERS)
    assert p.funding[["funder", "amount_eur"]].values.tolist() == [
        ["État (P147)", 70000.0],
        ["Ville", 40000.0],
    ]
    assert p.funding[ROW].tolist() == [3, 3]


def test_csv_with_ragged_rows_keeps_its_semicolons(tmp_path: Path) -> None:
    # rows of unequal length defeat csv.Sniffer: the header line's delimiter is used
    import csv

    text = (
        "Intitulé;Pilier;Quartier;Financement État;Financement Ville\n"
        "A1;Jeunesse;Presles;10 €\nA2;Jeunesse;Presles;5 €;3 €\n"
    )
    with pytest.raises(csv.Error):
        csv.Sniffer().sniff(text, delimiters=";,\t")
    f = tmp_path / "ragged.csv"
    f.write_text(text, encoding="utf-8")
    p = read_actions(f, quartiers=QUARTIERS)
    assert p.funding["amount_eur"].tolist() == [10.0, 5.0, 3.0]
    assert p.funding["funder"].tolist() == ["État", "État", "Ville"]
