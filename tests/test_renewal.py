"""renewal.py on a hand-built programme where every figure is known.

Layout (Lambert-93, 500 m squares = 25 ha each, near Soissons):

    QA [0, 500]   QB [500, 1000]   (gap)   QC [2000, 2500]   (gap)   QZ [4000, 4500]

QA, QB, QC are the contract's quartiers; QZ is a QPV of another town (only in the `qpv` layer).

The programme (ROWS below): D* demolitions, R* reconstructions (R2 outside every quartier,
R3 in QB compensating QA, R4 in QZ compensating QB, R5 in QC with no `compensates` code and no
year), H1 rehabilitation, F1 façades, S1 residentialisation. Every expected figure in the tests
is summed by hand from that table.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo import CdvGeoError, CdvGeoWarning, DataValidationError
from cdv_geo.metrics.renewal import (
    renewal_balance,
    renewal_density,
    renewal_links,
    renewal_progress,
    renewal_timeline,
)
from tests.conftest import X0, Y0


def sq(x: float) -> object:
    return box(X0 + x, Y0, X0 + x + 500, Y0 + 500)


def pt(x: float, y: float = 250) -> Point:
    return Point(X0 + x, Y0 + y)


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["qa", "qb", "qc"], "code": ["QA", "QB", "QC"], "name": ["Alpha", "Beta", "Gamma"]},
        geometry=[sq(0), sq(500), sq(2000)],
        crs=2154,
    )


@pytest.fixture
def qpv(quartiers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    other = gpd.GeoDataFrame({"code": ["QZ"], "name": ["Zeta"]}, geometry=[sq(4000)], crs=2154)
    return pd.concat([quartiers.drop(columns="id"), other], ignore_index=True)


ROWS = [
    ("D1", "demolition", 100, pt(100), None, "collective", None, "done", 2020),
    ("D2", "demolition", 60, box(X0 + 300, Y0 + 300, X0 + 400, Y0 + 400), None, "collective",
     None, "in_progress", 2022),
    ("D3", "demolition", 40, pt(600), None, "individual", None, "done", 2021),
    ("R1", "reconstruction", 30, pt(200), "QA", "individual", "ownership", "done", 2022),
    ("R2", "reconstruction", 50, pt(1500), "QA", "collective", "social", "planned", 2024),
    ("R3", "reconstruction", 40, pt(800), "QA", "collective", "social", "in_progress", 2023),
    ("R4", "reconstruction", 20, pt(4200), "QB", "individual", "private_rental", "planned", 2025),
    ("R5", "reconstruction", 10, pt(2100), None, "collective", None, "done", None),
    ("H1", "rehabilitation", 200, pt(50), None, None, None, "done", 2019),
    ("F1", "facade_requalification", 80, pt(900), None, None, None, "planned", 2024),
    ("S1", "residentialisation", 120, pt(450), None, None, None, "in_progress", 2023),
]  # fmt: skip


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    cols = ["id", "operation", "dwellings", "geometry", "compensates", "housing_type", "tenure",
            "status", "year"]  # fmt: skip
    df = pd.DataFrame(ROWS, columns=cols)
    df["name"] = "site " + df["id"]
    return gpd.GeoDataFrame(df, geometry="geometry", crs=2154)


def balance(sites: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame, **kw: object) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        return renewal_balance(sites, quartiers, **kw)  # type: ignore[arg-type]


# --- links --------------------------------------------------------------------------------------


def test_links_attribution_location_and_warning(sites, quartiers, qpv) -> None:
    with pytest.warns(CdvGeoWarning, match=r"R5 \(site R5\) -> QC at 0 m.*compensates"):
        links = renewal_links(sites, quartiers, qpv=qpv)
    assert links.loc["R5", "link"] == "nearest quartier"
    assert links.loc["R2", "link"] == "compensates field"
    assert links.loc["D2", "link"] == "location"
    expected_location = {
        "R1": "on_site", "R2": "off_site", "R3": "off_site_in_qpv", "R4": "off_site_in_qpv",
        "R5": "on_site", "D1": "on_site", "D3": "on_site",
    }  # fmt: skip
    assert links["location"].loc[list(expected_location)].to_dict() == expected_location
    assert links.loc["R3", "located_in"] == "QB"
    assert pd.isna(links.loc["R4", "located_in"]) and links.loc["R4", "in_qpv"] == "QZ"
    # R2 stands at x=1500, QA's right edge is at x=500: 1000 m away
    assert links.loc["R2", "distance_m"] == pytest.approx(1000.0)
    assert links.loc["R1", "distance_m"] == 0.0


def test_nearest_quartier_for_site_outside_every_quartier(quartiers) -> None:
    s = gpd.GeoDataFrame(
        {"name": ["Tour isolée"], "operation": ["demolition"], "dwellings": [10]},
        geometry=[pt(1700)],  # 300 m from QC (x=2000), 1200 m from QB
        crs=2154,
    )
    with pytest.warns(CdvGeoWarning, match=r"outside every quartier.*QC at 300 m"):
        links = renewal_links(s, quartiers)
    assert links.loc["1", "quartier"] == "QC"
    assert links.loc["1", "link"] == "nearest quartier"


def test_unknown_compensates_code_names_site_and_field(sites, quartiers) -> None:
    bad = sites.copy()
    bad.loc[bad["id"] == "R2", "compensates"] = "QX"
    with pytest.raises(DataValidationError) as exc:
        renewal_links(bad, quartiers)
    msg = str(exc.value)
    assert "feature R2" in msg and "'compensates'" in msg and "'QX'" in msg
    assert "expected one of QA, QB, QC" in msg


# --- balance ------------------------------------------------------------------------------------


def test_balance_every_figure(sites, quartiers, qpv) -> None:
    b = balance(sites, quartiers, qpv=qpv, by=())
    assert list(b.index) == ["qa", "qb", "qc", "programme"]
    assert list(b["code"].iloc[:3]) == ["QA", "QB", "QC"]
    expected = {
        #                          QA     QB   QC   programme
        "demolished":            [160,   40,   0,  200],
        "rebuilt":               [120,   20,  10,  150],
        "rebuilt_on_site":       [30,     0,  10,   40],
        "rebuilt_off_site":      [90,    20,   0,  110],
        "rebuilt_off_site_in_qpv": [40,  20,   0,   60],
        "received":              [0,     40,   0,   40],
        "net_change":            [-130,   0,  10, -120],
        "rebuilt_minus_demolished": [-40, -20, 10, -50],
        "rehabilitated":         [200,    0,   0,  200],
        "residentialised":       [120,    0,   0,  120],
        "facades_requalified":   [0,     80,   0,   80],
    }  # fmt: skip
    for col, values in expected.items():
        assert b[col].tolist() == values, col
    np.testing.assert_allclose(b["reconstitution_ratio"], [120 / 160, 20 / 40, np.nan, 150 / 200])
    # typology: demolished in QA all collective, in QB all individual; programme 160/200
    np.testing.assert_allclose(b["collective_share_demolished"], [1, 0, np.nan, 0.8])
    np.testing.assert_allclose(b["individual_share_demolished"], [0, 1, np.nan, 0.2])
    # built inside: QA R1 (30 indiv.), QB R3 (40 coll.), QC R5 (10 coll.); programme 50/80
    np.testing.assert_allclose(b["collective_share_built"], [0, 1, 1, 50 / 80])
    np.testing.assert_allclose(b["individual_share_built"], [1, 0, 0, 30 / 80])
    # tenure known: R1 ownership (QA), R3 social (QB); R5 unknown -> QC missing
    np.testing.assert_allclose(b["social_share_built"], [0, 1, np.nan, 40 / 70])
    np.testing.assert_allclose(b["private_share_built"], [1, 0, np.nan, 30 / 70])
    # the programme row's net change is the sum of the quartiers'
    assert b["net_change"].iloc[:3].sum() == b.loc["programme", "net_change"]


def test_without_qpv_layer_other_town_qpv_is_plain_off_site(sites, quartiers) -> None:
    b = balance(sites, quartiers, by=())
    assert b.loc["qb", "rebuilt_off_site_in_qpv"] == 0
    assert b.loc["qa", "rebuilt_off_site_in_qpv"] == 40
    assert b.loc["programme", "rebuilt_off_site_in_qpv"] == 40


@pytest.mark.filterwarnings("ignore:.*no `compensates`:cdv_geo.CdvGeoWarning")
def test_balance_as_of_year(sites, quartiers) -> None:
    with pytest.warns(CdvGeoWarning, match=r"no year.*R5 \(site R5\)"):
        b = renewal_balance(sites, quartiers, by=(), year=2022)
    # up to 2022: D1, D2, D3, R1, H1
    assert b["demolished"].tolist() == [160, 40, 0, 200]
    assert b["rebuilt"].tolist() == [30, 0, 0, 30]
    assert b["rehabilitated"].tolist() == [200, 0, 0, 200]
    assert b["residentialised"].tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(b["reconstitution_ratio"], [30 / 160, 0, np.nan, 30 / 200])


def test_breakdown_by_operation_and_status(sites, quartiers) -> None:
    b = balance(sites, quartiers)
    qa = b.loc["qa"]
    assert qa["dwellings_demolition_done"] == 100
    assert qa["dwellings_demolition_in_progress"] == 60
    assert qa["dwellings_reconstruction_planned"] == 50
    assert qa["dwellings_reconstruction_in_progress"] == 40
    assert qa["dwellings_reconstruction_done"] == 30
    assert qa["dwellings_rehabilitation_done"] == 200
    assert b.loc["programme", "dwellings_reconstruction_planned"] == 70  # R2 + R4
    assert b.loc["qc", "dwellings_reconstruction_done"] == 10
    assert "dwellings_demolition_planned" not in b.columns  # absent combinations are not made up
    b2 = balance(sites, quartiers, by="tenure")
    assert b2.loc["programme", "dwellings_social"] == 90
    assert b2.loc["programme", "dwellings_unknown"] == 200 + 10 + 200 + 80 + 120


def test_stock_and_density(sites, quartiers) -> None:
    stock = {"QA": 1000, "QB": 500, "QC": 100}
    b = balance(sites, quartiers, by=(), stock=stock)
    np.testing.assert_allclose(b["area_ha"], [25, 25, 25, 75])
    np.testing.assert_allclose(b["dwellings_before"], [1000, 500, 100, 1600])
    np.testing.assert_allclose(b["dwellings_after"], [870, 500, 110, 1480])
    np.testing.assert_allclose(b["density_before"], [40, 20, 4, 1600 / 75])
    np.testing.assert_allclose(b["density_after"], [34.8, 20, 4.4, 1480 / 75])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        d = renewal_density(sites, quartiers, stock=pd.Series(stock))
    assert list(d.columns) == [
        "code", "name", "area_ha", "dwellings_before", "dwellings_after", "density_before",
        "density_after",
    ]  # fmt: skip
    np.testing.assert_allclose(d["density_after"], [34.8, 20, 4.4, 1480 / 75])


def test_stock_from_residences_and_from_quartiers_column(sites, quartiers) -> None:
    res = gpd.GeoDataFrame(
        {"dwellings": [600, 400, 500, 100, 999]},
        geometry=[pt(100), pt(300), pt(700), pt(2200), pt(3000)],  # the last one is outside
        crs=2154,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        d = renewal_density(sites, quartiers, residences=res)
    np.testing.assert_allclose(d["dwellings_before"], [1000, 500, 100, 1600])
    np.testing.assert_allclose(d["density_after"], [34.8, 20, 4.4, 1480 / 75])
    q2 = quartiers.assign(dwellings=[1000, 500, 100])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        d2 = renewal_density(sites, q2)
    np.testing.assert_allclose(d2["dwellings_before"], [1000, 500, 100, 1600])


def test_no_stock_means_missing_density_not_zero(sites, quartiers) -> None:
    b = balance(sites, quartiers, by=())
    assert b["dwellings_before"].isna().all() and b["density_after"].isna().all()


@pytest.mark.filterwarnings("ignore:.*no `compensates`:cdv_geo.CdvGeoWarning")
def test_negative_stock_after_warns(sites, quartiers) -> None:
    with pytest.warns(CdvGeoWarning, match=r"fewer than zero dwellings.*qa \(-30\)"):
        renewal_balance(sites, quartiers, by=(), stock={"QA": 100, "QB": 500, "QC": 100})


def test_bad_stock_and_bad_by(sites, quartiers) -> None:
    with pytest.raises(DataValidationError, match=r"no quartier: QX.*expected quartier codes"):
        balance(sites, quartiers, stock={"QA": 1, "QX": 2})
    with pytest.raises(DataValidationError, match=r"field 'stock'.*>= 0: QA=-5"):
        balance(sites, quartiers, stock={"QA": -5})
    with pytest.raises(CdvGeoError, match=r"unknown field\(s\) \['colour'\]; use any of"):
        balance(sites, quartiers, by=("operation", "colour"))


def test_french_input_and_inputs_not_mutated(quartiers) -> None:
    raw = gpd.GeoDataFrame(
        {
            "nom": ["Tour", "Maisons"],
            "type": ["Démolition", "Reconstitution"],
            "nb_logements": [50, 25],
            "quartier_compense": [None, "QA"],
            "statut": ["réalisé", "en cours"],
        },
        geometry=[pt(100), pt(1500)],
        crs=2154,
    )
    before_raw, before_q = raw.copy(), quartiers.copy()
    b = renewal_balance(raw, quartiers, by=("status",))
    assert b.loc["qa", ["demolished", "rebuilt_off_site"]].tolist() == [50, 25]
    assert b.loc["qa", "dwellings_done"] == 50 and b.loc["qa", "dwellings_in_progress"] == 25
    pd.testing.assert_frame_equal(raw, before_raw)
    pd.testing.assert_frame_equal(quartiers, before_q)


def test_quartiers_in_another_crs_give_the_same_balance(sites, quartiers) -> None:
    b1 = balance(sites, quartiers, by=(), stock={"QA": 1000, "QB": 500, "QC": 100})
    b2 = balance(
        sites.to_crs(4326), quartiers.to_crs(3857), by=(), stock={"QA": 1000, "QB": 500, "QC": 100}
    )
    pd.testing.assert_frame_equal(b1, b2, rtol=1e-6)


# --- progress and timeline ------------------------------------------------------------------------


def test_progress_by_operation(sites) -> None:
    p = renewal_progress(sites)
    assert list(p.index) == list(
        ["demolition", "reconstruction", "rehabilitation", "facade_requalification",
         "residentialisation"]
    )  # fmt: skip
    assert p.loc["demolition", ["planned", "in_progress", "done", "total"]].tolist() == [
        0, 60, 140, 200,
    ]  # fmt: skip
    assert p.loc["reconstruction", ["planned", "in_progress", "done", "total"]].tolist() == [
        70, 40, 40, 150,
    ]  # fmt: skip
    assert p.loc["reconstruction", "done_share"] == pytest.approx(40 / 150)


def test_progress_per_quartier(sites, quartiers) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        p = renewal_progress(sites, quartiers)
    assert p.loc[("QA", "reconstruction"), "total"] == 120
    assert p.loc[("QB", "reconstruction"), "planned"] == 20
    assert p.loc[("QC", "reconstruction"), "done"] == 10


def test_timeline_cumulative_with_gaps_filled(sites) -> None:
    with pytest.warns(CdvGeoWarning, match=r"no year.*site R5"):
        t = renewal_timeline(sites)
    assert t["year"].min() == 2019 and t["year"].max() == 2025
    demo = t[t["operation"] == "demolition"].set_index("year")
    assert demo["dwellings"].to_dict() == {
        2019: 0, 2020: 100, 2021: 40, 2022: 60, 2023: 0, 2024: 0, 2025: 0
    }  # fmt: skip
    assert demo["cumulative"].tolist() == [0, 100, 140, 200, 200, 200, 200]
    rec = t[t["operation"] == "reconstruction"].set_index("year")["cumulative"]
    assert rec.tolist() == [0, 0, 0, 30, 70, 120, 140]  # R5 (undated) left out


def test_timeline_done_only_per_quartier(sites, quartiers) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        t = renewal_timeline(sites, quartiers, statuses=["done"])
    qa_demo = t[(t["quartier"] == "QA") & (t["operation"] == "demolition")]
    assert qa_demo.set_index("year")["cumulative"].loc[2022] == 100  # D2 is still in progress
    assert set(t["quartier"]) == {"QA", "QB"}
    with pytest.raises(CdvGeoError, match="statuses"):
        renewal_timeline(sites, statuses=["finished"])
