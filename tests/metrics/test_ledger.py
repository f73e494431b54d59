"""The contrat's ledger (cdv_geo.metrics.ledger), against figures computed by hand."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from cdv_geo.core.errors import CdvGeoWarning, DataValidationError
from cdv_geo.metrics.ledger import action_places, actions_apart, ledger, ledger_by
from cdv_geo.schema.actions import Programme
from cdv_geo.schema.actions_validate import validate_actions
from cdv_geo.testing import assert_metric_table

Q = gpd.GeoDataFrame(
    {"code": ["Q1", "Q2", "Q3"], "name": ["Presles", "Chevreux", "Saint-Crépin"]},
    geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 100, 200)],
    crs=2154,
)
TOWN = gpd.GeoDataFrame(
    {"code": ["02722"], "name": ["Soissons"]}, geometry=[box(0, 0, 400, 400)], crs=2154
)
POP = pd.DataFrame(
    {
        "population": [1000.0, 3000.0, 500.0, 4500.0, 20000.0, 15500.0],
        "population_source": ["official"] * 6,
    },
    index=pd.Index(["Q1", "Q2", "Q3", "qpv", "commune", "hors_qpv"], name="quartier"),
)


def _programme() -> Programme:
    """Return six actions.

    Two in quartiers, one located in Q2, one in the town outside the quartiers, one outside the
    town, one with no place.
    """
    rows = [
        # title, pillar, quartiers, start, end, beneficiaries, x, y, funder, amount, year
        ("A1", "Cohésion sociale", "Presles", "2024", None, 50, None, None, "État", "10 000 €",
         None),
        (None, None, None, None, None, None, None, None, "Ville", "2 000 €", None),
        ("A2", "Jeunesse", "Presles; Chevreux", "2024", "2025", "Presles : 30 ; Chevreux : 10",
         None, None, "Ville", "6 000 €", "2024"),
        (None, None, None, None, None, None, None, None, "CAF", "3 000 €", "2025"),
        ("A3", "Cadre de vie", None, "2024", None, 20, 300, 300, "État", "4 000 €", None),
        ("A4", "Emploi", None, "2024", None, None, 500, 500, "Région", "1 000 €", None),
        ("A5", "Citoyenneté", None, "2023", "2023", None, None, None, "État", "7 000 €", None),
        ("A6", "Jeunesse", None, "2024", None, None, 150, 50, "OPAL", "1 200 €", None),
    ]  # fmt: skip
    cols = [
        "Intitulé",
        "Pilier",
        "Quartiers",
        "Début",
        "Fin",
        "Bénéficiaires",
        "X",
        "Y",
        "Financeur",
        "Montant",
        "Année",
    ]
    return validate_actions(pd.DataFrame(rows, columns=cols, dtype=object), quartiers=Q)


def test_places() -> None:
    places = action_places(_programme(), Q, communes=TOWN)
    assert places["place"].tolist() == [
        "quartiers",
        "quartiers",
        "hors_qpv",
        "outside_commune",
        "no_place",
        "quartiers",
    ]
    assert places["quartiers"].tolist() == [("Q1",), ("Q1", "Q2"), (), (), (), ("Q2",)]
    # without the communes, the located action outside the quartiers is only "outside"
    assert action_places(_programme(), Q)["place"].iloc[2] == "outside_quartiers"


def test_ledger_by_hand() -> None:
    t = ledger(_programme(), Q, communes=TOWN, population=POP)
    assert_metric_table(t, Q)
    assert t.index.tolist() == ["Q1", "Q2", "Q3", "qpv", "commune", "hors_qpv"]
    # A2's 9,000 € split by population: Q1 1000 / 4000, Q2 3000 / 4000
    assert t["n_actions"].tolist() == [2, 2, 0, 3, 4, 1]
    assert t["amount_eur"].tolist() == pytest.approx([14250, 7950, 0, 22200, 26200, 4000])
    # beneficiaries: A1 50 in Q1, A2 30 in Q1 and 10 in Q2 as given, A3 20 outside
    assert t["n_beneficiaries"].tolist()[:2] == [80, 10]
    assert np.isnan(t.at["Q3", "n_beneficiaries"]) and "beneficiaries" in t.at["Q3", "reason"]
    assert t["n_beneficiaries"].tolist()[3:] == [90, 110, 20]
    assert t["n_actions_with_beneficiaries"].tolist() == [2, 1, 0, 2, 3, 1]
    assert t["amount_per_inhabitant_eur"].tolist() == pytest.approx(
        [14.25, 2.65, 0.0, 22200 / 4500, 1.31, 4000 / 15500]
    )
    assert t["beneficiaries_per_100"].tolist()[:2] == pytest.approx([8.0, 1 / 3])
    assert t["beneficiaries_per_100"].tolist()[3:] == pytest.approx([2.0, 0.55, 20 / 155])
    assert t["population_source"].tolist() == ["official"] * 6
    # the quartiers sum to qpv: nothing counted twice, nothing lost
    assert t.loc[["Q1", "Q2", "Q3"], "amount_eur"].sum() == pytest.approx(t.at["qpv", "amount_eur"])


def test_ledger_without_communes_or_population() -> None:
    t = ledger(_programme(), Q)
    assert_metric_table(t, Q)
    assert t.index.tolist() == ["Q1", "Q2", "Q3", "qpv"]
    assert "population" not in t.columns
    # equal parts without a population: A2's 9,000 € -> 4,500 € each
    assert t["amount_eur"].tolist() == pytest.approx([16500, 5700, 0, 22200])
    assert t.attrs["split"] == "equal"


def test_split_rules() -> None:
    equal = ledger(_programme(), Q, population=POP, split="equal")
    assert equal.at["Q1", "amount_eur"] == pytest.approx(16500)
    with pytest.raises(ValueError, match="population"):
        ledger(_programme(), Q, split="population")
    unknown = POP.assign(population=[1000.0, np.nan, 500.0, np.nan, 20000.0, np.nan])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = ledger(_programme(), Q, population=unknown)
    assert [w.category for w in caught] == [CdvGeoWarning]
    assert t.at["Q1", "amount_eur"] == pytest.approx(16500)  # equal parts for A2
    assert np.isnan(t.at["Q2", "amount_per_inhabitant_eur"])
    assert "population unknown" in t.at["Q2", "reason"]


def test_ledger_of_one_year() -> None:
    y24 = ledger(_programme(), Q, communes=TOWN, population=POP, year=2024)
    # 2024 lines: A1 12,000, A2 6,000 (Q1 a quarter), A3 4,000, A4 1,000, A6 1,200
    assert y24["amount_eur"].tolist() == pytest.approx([13500, 5700, 0, 19200, 23200, 4000])
    assert y24["n_actions"].tolist() == [2, 2, 0, 3, 4, 1]
    y25 = ledger(_programme(), Q, communes=TOWN, population=POP, year=2025)
    # only A2 runs in 2025 (the CAF's 3,000 €); A6 has no end: its start year only
    assert y25["amount_eur"].tolist() == pytest.approx([750, 2250, 0, 3000, 3000, 0])
    assert y25["n_actions"].tolist() == [1, 1, 0, 1, 1, 0]
    y23 = ledger(_programme(), Q, communes=TOWN, year=2023)
    assert y23["n_actions"].sum() == 0 and y23["amount_eur"].sum() == 0


def test_ledger_by_pillar_funder_year() -> None:
    prog = _programme()
    total = ledger(prog, Q, communes=TOWN, population=POP)
    for by in ("pillar", "funder", "year"):
        t = ledger_by(prog, Q, by, communes=TOWN, population=POP)
        assert_metric_table(t, Q, levels=[by])
        sums = t.groupby(level="quartier", sort=False)["amount_eur"].sum()
        assert sums.tolist() == pytest.approx(total["amount_eur"].tolist())
    p = ledger_by(prog, Q, "pillar", communes=TOWN, population=POP)
    assert p.index.get_level_values("pillar").unique().tolist() == [
        "social_cohesion", "living_environment", "economic_development", "youth", "citizenship"
    ]  # fmt: skip
    assert p.loc[("Q1", "social_cohesion"), "amount_eur"] == 12000
    assert p.loc[("Q2", "youth"), ["n_actions", "amount_eur"]].tolist() == [2, 7950]
    assert p.loc[("hors_qpv", "living_environment"), "amount_eur"] == 4000
    f = ledger_by(prog, Q, "funder", communes=TOWN, population=POP)
    # funders by total euros: État 21,000, Ville 8,000, CAF 3,000, OPAL 1,200, Région 1,000
    assert f.index.get_level_values("funder").unique().tolist() == [
        "État", "Ville", "CAF", "OPAL", "Région"
    ]  # fmt: skip
    assert f.loc[("Q1", "Ville"), ["n_actions", "amount_eur"]].tolist() == [2, 3500]
    assert f.loc[("Q1", "CAF"), "amount_eur"] == 750
    assert f.loc[("commune", "Région"), "amount_eur"] == 0  # A4 lies outside the town
    y = ledger_by(prog, Q, "year", communes=TOWN, population=POP)
    assert y.index.get_level_values("year").unique().tolist() == [2023, 2024, 2025]
    assert y.loc[("Q1", 2024), "amount_eur"] == 13500
    assert y.loc[("qpv", 2025), ["n_actions", "amount_eur"]].tolist() == [1, 3000]
    with pytest.raises(ValueError, match="by="):
        ledger_by(prog, Q, "operator")  # type: ignore[arg-type]


def test_actions_listed_apart() -> None:
    apart = actions_apart(_programme(), Q, communes=TOWN)
    assert apart["title"].tolist() == ["A3", "A4", "A5"]
    assert apart["place"].tolist() == ["hors_qpv", "outside_commune", "no_place"]
    assert apart["counted_in"].tolist() == ["hors_qpv", None, None]
    assert apart["amount_eur"].tolist() == [4000, 1000, 7000]
    assert apart["place_label"].iloc[2] == "sans quartier ni localisation"
    en = actions_apart(_programme(), Q, communes=TOWN, lang="en", year=2024)
    assert en["title"].tolist() == ["A3", "A4"]  # A5 ran in 2023
    assert en["place_label"].iloc[1] == "located outside the town"


def test_unknown_quartier_code() -> None:
    prog = _programme()
    actions = prog.actions.copy()
    actions.at[0, "quartiers"] = ("QP999999",)
    with pytest.raises(DataValidationError, match="QP999999"):
        ledger(Programme(actions, prog.funding), Q)


def test_sheet_read_without_quartiers_matches_names_and_tous() -> None:
    cells = pd.DataFrame(
        {
            "Intitulé": ["A", "B"],
            "Pilier": ["Jeunesse", "Jeunesse"],
            "Quartier": ["presles", "Tous"],
            "Financeur": ["État", "État"],
            "Montant": ["100 €", "300 €"],
        }
    )
    prog = validate_actions(cells)  # no quartiers: names kept as written
    assert prog.actions["quartiers"].tolist() == [("presles",), ("all",)]
    t = ledger(prog, Q)
    assert t["amount_eur"].tolist() == pytest.approx([200, 100, 100, 400])
