"""The actions step of compute_metrics: the project's actions and TFPB tables, by hand.

Two quartiers (Q1: 300 residents, Q2: 100) inside a commune of 1,000 residents. Actions:
A1 in Q1 (10,000 € État), A2 in Q1 and Q2 (6,000 € Ville, shared 300:100 by population),
A3 with no quartier but located in the commune outside the quartiers (2,000 € Ville), A4 located
outside the commune (500 €: never counts). TFPB: OPAL gets 100,000 € in Q1 and spends 60,000 €,
and 50,000 € in Q2 where it spends 55,000 €.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box

from cdv_geo import Territory
from cdv_geo.core.errors import DataValidationError
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.testing import assert_metric_table

X0, Y0 = 700_000.0, 6_900_000.0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("actions")
    actions = _write(
        d / "actions.csv",
        "Intitulé;Pilier;Quartier;Année;Financement État;Financement Ville;X;Y\n"
        "A1;Jeunesse;Q1;2024;10 000 €;;;\n"
        'A2;Cohésion sociale;"Q1 ; Q2";2024;;6 000 €;;\n'
        f"A3;Cohésion sociale;;2024;;2 000 €;{X0 + 500};{Y0 + 500}\n"
        f"A4;Cohésion sociale;;2024;;500 €;{X0 + 5000};{Y0 + 5000}\n",
    )
    tfpb = _write(
        d / "tfpb.csv",
        "Bailleur;Quartier;Année;Axe;Action;Montant\n"
        "OPAL;Q1;2024;Abattement;;100 000 €\n"
        "OPAL;Q1;2024;Gestion des déchets et encombrants;PAV;60 000 €\n"
        "OPAL;Q2;2024;Abattement;;50 000 €\n"
        "OPAL;Q2;2024;Animation, lien social, vivre ensemble;Fête;55 000 €\n",
    )
    return {"actions": actions, "tfpb": tfpb}


def _layers() -> dict[str, gpd.GeoDataFrame]:
    q = gpd.GeoDataFrame(
        {"code": ["Q1", "Q2"], "name": ["Presles", "Chevreux"], "population": [300, 100]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
        crs=2154,
    )
    c = gpd.GeoDataFrame(
        {"code": ["02722"], "name": ["Soissons"], "population": [1000]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)],
        crs=2154,
    )
    return {"quartiers": q, "communes": c}


@pytest.fixture(scope="module")
def metrics(files: dict[str, Path]) -> Metrics:
    t = Territory("Testville", tables=files, **_layers())
    return compute_metrics(t, only=["ledger", "tfpb"])


def test_ledger_by_hand(metrics: Metrics) -> None:
    led = metrics.ledger
    assert led is not None
    assert_metric_table(led)
    assert led.index.tolist() == ["Q1", "Q2", "qpv", "commune", "hors_qpv"]
    # A1 10,000 + 3/4 of A2's 6,000 in Q1; 1/4 in Q2; A3 only in commune and hors_qpv
    expected = {"Q1": 14_500.0, "Q2": 1_500.0, "qpv": 16_000.0, "commune": 18_000.0}
    for row, eur in expected.items():
        assert led.loc[row, "amount_eur"] == pytest.approx(eur)
    assert led.loc["hors_qpv", "amount_eur"] == pytest.approx(2_000.0)
    assert led["n_actions"].tolist() == [2, 1, 2, 3, 1]


def test_ledger_uses_the_runs_population(metrics: Metrics) -> None:
    led, pop = metrics.ledger, metrics.population
    assert led is not None and pop is not None
    for row in led.index:
        assert led.loc[row, "population"] == pop.loc[row, "population"]
        assert led.loc[row, "population_source"] == pop.loc[row, "population_source"]
    # 14,500 € / 300 residents; 16,000 / 400; 18,000 / 1,000 (the commune's published figure)
    assert led.loc["Q1", "amount_per_inhabitant_eur"] == pytest.approx(14_500 / 300)
    assert led.loc["qpv", "amount_per_inhabitant_eur"] == pytest.approx(40.0)
    assert led.loc["commune", "amount_per_inhabitant_eur"] == pytest.approx(18.0)


def test_tfpb_balance_by_hand(metrics: Metrics) -> None:
    tf = metrics.tfpb
    assert tf is not None
    assert_metric_table(tf, levels=["landlord", "year"])
    assert tf.loc[("Q1", "OPAL", 2024), "spent_ratio"] == pytest.approx(0.6)
    assert tf.loc[("Q2", "OPAL", 2024), "balance_eur"] == pytest.approx(5_000.0)
    assert tf.loc[("qpv", "OPAL", 2024), "spent_ratio"] == pytest.approx(115_000 / 150_000)


def test_no_tables_gives_notes_not_zeros() -> None:
    t = Territory("Testville", **_layers())
    m = compute_metrics(t, only=["ledger", "tfpb"])
    assert m.ledger is None and m.tfpb is None
    keys = {(n.key, n.topic, n.args.get("name")) for n in m.notes}
    assert ("missing_table", "actions", "actions") in keys
    assert ("missing_table", "actions", "tfpb") in keys
    assert "Ledger" not in " ".join(n.label("fr") for n in m.notes)


def test_project_reads_and_checks_the_tables(tmp_path: Path, files: dict[str, Path]) -> None:
    layers = _layers()
    layers["quartiers"].to_file(tmp_path / "q.geojson")
    layers["communes"].to_file(tmp_path / "c.geojson")
    bad = _write(
        tmp_path / "bad.csv",
        "Intitulé;Pilier;Quartier;Financement État\nA1;Jeunesse;Nowhere;10 €\n",
    )
    toml = (
        '[territory]\nname = "T"\n[layers]\nquartiers = "q.geojson"\ncommunes = "c.geojson"\n'
        f'[tables]\nactions = "{files["actions"].as_posix()}"\n'
        f'tfpb = "{files["tfpb"].as_posix()}"\n'
    )
    (tmp_path / "project.toml").write_text(toml, encoding="utf-8")
    t = Territory.from_file(tmp_path / "project.toml")
    assert t.table("actions").actions["title"].tolist() == ["A1", "A2", "A3", "A4"]
    assert set(t.table("tfpb")["quartier"]) == {"Q1", "Q2"}
    # an unknown quartier is a problem of the project, with the file and its row
    (tmp_path / "project.toml").write_text(
        toml.replace(files["actions"].as_posix(), bad.as_posix()), encoding="utf-8"
    )
    with pytest.raises(DataValidationError) as err:
        Territory.from_file(tmp_path / "project.toml")
    assert "Nowhere" in str(err.value) and "bad.csv" in str(err.value)
