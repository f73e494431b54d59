"""renewal.py and renewal_links.py on a hand-built programme where every figure is known.

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
from pyproj import Transformer
from shapely import Point, box

from cdv_geo import CdvGeoError, CdvGeoWarning, DataValidationError
from cdv_geo.core.errors import CRSError, LayerTypeError
from cdv_geo.metrics.renewal import (
    BALANCE_COLUMNS,
    STOCK_UNKNOWN,
    renewal_balance,
    renewal_density,
    renewal_links,
    renewal_progress,
    renewal_timeline,
)
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0


def sq(x: float) -> object:
    return box(X0 + x, Y0, X0 + x + 500, Y0 + 500)


def pt(x: float, y: float = 250) -> Point:
    return Point(X0 + x, Y0 + y)


def make_quartiers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["qa", "qb", "qc"], "code": ["QA", "QB", "QC"], "name": ["Alpha", "Beta", "Gamma"]},
        geometry=[sq(0), sq(500), sq(2000)],
        crs=2154,
    )


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


def make_sites() -> gpd.GeoDataFrame:
    cols = ["id", "operation", "dwellings", "geometry", "compensates", "housing_type", "tenure",
            "status", "year"]  # fmt: skip
    df = pd.DataFrame(ROWS, columns=cols)
    df["name"] = "site " + df["id"]
    return gpd.GeoDataFrame(df, geometry="geometry", crs=2154)


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return make_quartiers()


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    return make_sites()


@pytest.fixture
def qpv(quartiers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    other = gpd.GeoDataFrame({"code": ["QZ"], "name": ["Zeta"]}, geometry=[sq(4000)], crs=2154)
    return pd.concat([quartiers.drop(columns="id"), other], ignore_index=True)


def quiet(func, *args, **kw):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        return func(*args, **kw)


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


def test_reconstruction_outside_every_quartier_goes_to_the_nearest(quartiers) -> None:
    s = gpd.GeoDataFrame(
        {"name": ["Villas"], "operation": ["reconstruction"], "dwellings": [10]},
        geometry=[pt(1700)],  # 300 m from QC (x=2000), 700 m from QB (x=1000)
        crs=2154,
    )
    with pytest.warns(CdvGeoWarning, match=r"no `compensates`.*QC at 300 m"):
        links = renewal_links(s, quartiers)
    assert links.loc["1", ["quartier", "link", "location"]].tolist() == [
        "QC", "nearest quartier", "off_site",
    ]  # fmt: skip
    assert links.loc["1", "distance_m"] == pytest.approx(300.0)


def test_other_operation_outside_every_quartier_counts_in_no_quartier_row(quartiers) -> None:
    s = gpd.GeoDataFrame(
        {"name": ["Tour isolée"], "operation": ["demolition"], "dwellings": [10]},
        geometry=[pt(1700)],
        crs=2154,
    )
    with pytest.warns(CdvGeoWarning, match=r"outside every quartier.*count in no quartier row"):
        links = renewal_links(s, quartiers)
    assert links.loc["1", "quartier"] is None
    assert links.loc["1", ["link", "location"]].tolist() == ["outside", "outside"]
    b = quiet(renewal_balance, s, quartiers)
    assert_metric_table(b, quartiers)
    # QA, QB, QC, qpv: in no quartier, so not in qpv either
    assert b["n_demolished"].tolist() == [0, 0, 0, 0]
    assert b["net_change_dwellings"].tolist() == [0, 0, 0, 0]
    p = quiet(renewal_progress, s, quartiers)
    assert_metric_table(p, quartiers, levels=("operation",))
    assert p["n_total"].tolist() == [0, 0, 0, 0]


def test_unknown_compensates_code_names_site_and_field(sites, quartiers) -> None:
    bad = sites.copy()
    bad.loc[bad["id"] == "R2", "compensates"] = "QX"
    with pytest.raises(DataValidationError) as exc:
        renewal_links(bad, quartiers)
    msg = str(exc.value)
    assert "feature R2" in msg and "'compensates'" in msg and "'QX'" in msg
    assert "expected one of QA, QB, QC" in msg


# --- border, triple point, polygon site ---------------------------------------------------------


@pytest.fixture
def corner() -> gpd.GeoDataFrame:
    """QP3 [0,500]x[0,500], QP1 [500,1000]x[0,500], QP2 [0,1000]x[500,1000] (layer order)."""
    return gpd.GeoDataFrame(
        {"code": ["QP3", "QP1", "QP2"], "name": ["Trois", "Un", "Deux"]},
        geometry=[
            box(X0, Y0, X0 + 500, Y0 + 500),
            box(X0 + 500, Y0, X0 + 1000, Y0 + 500),
            box(X0, Y0 + 500, X0 + 1000, Y0 + 1000),
        ],
        crs=2154,
    )


def test_border_triple_point_and_polygon_sites(corner) -> None:
    s = gpd.GeoDataFrame(
        {
            "id": ["border", "triple", "poly", "rebuild"],
            "name": ["a", "b", "c", "d"],
            "operation": ["demolition", "demolition", "demolition", "reconstruction"],
            "dwellings": [10, 20, 40, 5],
            "status": ["done", "done", "planned", "done"],
            "year": [2020, 2020, 2021, 2022],
        },
        geometry=[
            pt(250, 500),  # border QP3 | QP2 -> QP2 (smaller code)
            pt(500, 500),  # triple point QP3, QP1, QP2 -> QP1
            box(X0 + 400, Y0 + 100, X0 + 700, Y0 + 200),  # 1 ha in QP3, 2 ha in QP1 -> QP1
            pt(500, 250),  # border QP3 | QP1, no compensates -> QP1, on site
        ],
        crs=2154,
    )
    links = quiet(renewal_links, s, corner)
    assert links["quartier"].tolist() == ["QP2", "QP1", "QP1", "QP1"]
    assert links["located_in"].tolist() == ["QP2", "QP1", "QP1", "QP1"]
    assert links.loc["rebuild", "location"] == "on_site"
    b = quiet(renewal_balance, s, corner)
    assert_metric_table(b, corner)
    # counted once, in one quartier: the quartier rows add up to the qpv row
    assert b["n_demolished"].tolist() == [0, 60, 10, 70]
    assert b["n_rebuilt_on_site"].tolist() == [0, 5, 0, 5]
    assert b["net_change_dwellings"].tolist() == [0, -55, -10, -65]
    p = quiet(renewal_progress, s, corner)
    assert p.xs("demolition", level="operation")["n_done"].tolist() == [0, 20, 10, 30]
    t = quiet(renewal_timeline, s, corner)
    tl = t.xs(("demolition", 2021), level=("operation", "year"))["n_cumulative"]
    assert tl.tolist() == [0, 60, 10, 70]


# --- balance ------------------------------------------------------------------------------------


def test_balance_every_figure(sites, quartiers, qpv) -> None:
    b = quiet(renewal_balance, sites, quartiers, qpv=qpv)
    assert_metric_table(b, quartiers)
    assert list(b.columns) == ["name", *BALANCE_COLUMNS, "reason"]
    assert b["name"].tolist() == ["Alpha", "Beta", "Gamma", "Ensemble des QPV"]
    # qpv: every operation is attributed to a quartier here (R2, R4 by `compensates`); what
    # stands in a quartier excludes R2 (x=1500) and R4 (in QZ)
    expected = {
        #                               QA     QB   QC   qpv
        "n_demolished":                [160,   40,   0,  200],
        "n_rebuilt":                   [120,   20,  10,  150],
        "n_rebuilt_on_site":           [30,     0,  10,   40],
        "n_rebuilt_off_site":          [90,    20,   0,  110],
        "n_rebuilt_off_site_in_qpv":   [40,    20,   0,   60],
        "n_received":                  [0,     40,   0,   40],  # R3, standing in QB
        "net_change_dwellings":        [-130,   0,  10, -120],  # R1 + R3 + R5 - 200
        "rebuilt_minus_demolished_dwellings": [-40, -20, 10, -50],
        "n_rehabilitated":             [200,    0,   0,  200],
        "n_residentialised":           [120,    0,   0,  120],
        "n_facades_requalified":       [0,     80,   0,   80],
    }  # fmt: skip
    for col, values in expected.items():
        assert b[col].tolist() == values, col
    np.testing.assert_allclose(b["reconstitution_ratio"], [120 / 160, 20 / 40, np.nan, 150 / 200])
    # typology: demolished in QA all collective, in QB all individual; all 160/200
    np.testing.assert_allclose(b["demolished_collective_share"], [1, 0, np.nan, 0.8])
    np.testing.assert_allclose(b["demolished_individual_share"], [0, 1, np.nan, 0.2])
    # built in QA: R1 (30 indiv.), QB: R3 (40 coll.), QC: R5 (10 coll.); qpv: those three
    np.testing.assert_allclose(b["built_collective_share"], [0, 1, 1, 50 / 80])
    np.testing.assert_allclose(b["built_individual_share"], [1, 0, 0, 30 / 80])
    # tenure known: R1 ownership (QA), R3 social (QB); R5 unknown -> QC missing;
    # qpv: R3 social (40) of R1 + R3 (70)
    np.testing.assert_allclose(b["built_social_share"], [0, 1, np.nan, 40 / 70])
    np.testing.assert_allclose(b["built_private_share"], [1, 0, np.nan, 30 / 70])
    reason_qc = b.loc["QC", "reason"]
    assert "nothing demolished" in reason_qc and "known tenure" in reason_qc
    # qpv is the quartiers together: every count is the sum of the quartier rows
    counts = [
        c for c in BALANCE_COLUMNS
        if (c.startswith("n_") or c.endswith("_dwellings")) and not c.startswith("n_dwellings")
    ]  # fmt: skip
    assert (b.loc["qpv", counts] == b[counts].iloc[:3].sum()).all()


def test_without_qpv_layer_other_town_qpv_is_plain_off_site(sites, quartiers) -> None:
    b = quiet(renewal_balance, sites, quartiers)
    assert b["n_rebuilt_off_site_in_qpv"].tolist() == [40, 0, 0, 40]


@pytest.mark.filterwarnings("ignore:.*no `compensates`:cdv_geo.CdvGeoWarning")
def test_balance_as_of_year(sites, quartiers) -> None:
    with pytest.warns(CdvGeoWarning, match=r"no year.*R5 \(site R5\)"):
        b = renewal_balance(sites, quartiers, year=2022)
    assert_metric_table(b, quartiers)
    # up to 2022: D1, D2, D3, R1, H1
    assert b["n_demolished"].tolist() == [160, 40, 0, 200]
    assert b["n_rebuilt"].tolist() == [30, 0, 0, 30]
    assert b["n_rehabilitated"].tolist() == [200, 0, 0, 200]
    assert b["n_residentialised"].tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(b["reconstitution_ratio"], [30 / 160, 0, np.nan, 30 / 200])


def test_old_breakdown_argument_points_to_progress(sites, quartiers) -> None:
    assert quiet(renewal_balance, sites, quartiers, by=()).shape == (4, len(BALANCE_COLUMNS) + 2)
    with pytest.raises(CdvGeoError, match=r"renewal_progress"):
        renewal_balance(sites, quartiers, by=("operation", "status"))


def test_stock_and_density(sites, quartiers) -> None:
    stock = {"QA": 1000, "QB": 500, "QC": 100}
    b = quiet(renewal_balance, sites, quartiers, stock=stock)
    assert_metric_table(b, quartiers)
    # qpv: the three 25 ha squares (75 ha), 1600 dwellings before, 1600 - 120 after
    np.testing.assert_allclose(b["area_m2"], [250_000, 250_000, 250_000, 750_000])
    np.testing.assert_allclose(b["n_dwellings_before"], [1000, 500, 100, 1600])
    np.testing.assert_allclose(b["n_dwellings_after"], [870, 500, 110, 1480])
    np.testing.assert_allclose(b["density_before_per_ha"], [40, 20, 4, 1600 / 75])
    np.testing.assert_allclose(b["density_after_per_ha"], [34.8, 20, 4.4, 1480 / 75])
    d = quiet(renewal_density, sites, quartiers, stock=pd.Series(stock))
    assert_metric_table(d, quartiers)
    assert list(d.columns) == [
        "name", "area_m2", "n_dwellings_before", "n_dwellings_after", "density_before_per_ha",
        "density_after_per_ha",
    ]  # fmt: skip
    np.testing.assert_allclose(d["density_after_per_ha"], [34.8, 20, 4.4, 1480 / 75])
    # the rows' reasons are about other columns (nothing demolished in QC): none kept here
    assert "reason" not in d.columns


def test_stock_from_residences_and_from_quartiers_column(sites, quartiers) -> None:
    res = gpd.GeoDataFrame(
        {"dwellings": [600, 400, 500, 100, 999]},
        geometry=[pt(100), pt(300), pt(700), pt(2200), pt(3000)],  # the last one is outside
        crs=2154,
    )
    d = quiet(renewal_density, sites, quartiers, residences=res)
    assert_metric_table(d, quartiers)
    # qpv: the homes of the quartiers (never the one at x=3000, outside them)
    np.testing.assert_allclose(d["n_dwellings_before"], [1000, 500, 100, 1600])
    np.testing.assert_allclose(d["n_dwellings_after"], [870, 500, 110, 1480])
    np.testing.assert_allclose(d["density_after_per_ha"], [34.8, 20, 4.4, 1480 / 75])
    q2 = quartiers.assign(dwellings=[1000, 500, np.nan])
    d2 = quiet(renewal_density, sites, q2)
    assert_metric_table(d2, q2)
    # QC unknown, so is the quartiers' sum
    np.testing.assert_allclose(d2["n_dwellings_before"], [1000, 500, np.nan, np.nan])
    assert d2["reason"].isna().tolist() == [True, True, False, False]
    assert d2["reason"].iloc[2:].tolist() == [STOCK_UNKNOWN, STOCK_UNKNOWN]


def test_no_stock_means_missing_density_not_zero(sites, quartiers) -> None:
    b = quiet(renewal_balance, sites, quartiers)
    assert b["n_dwellings_before"].isna().all() and b["density_after_per_ha"].isna().all()
    assert b["reason"].str.contains(STOCK_UNKNOWN).all()


@pytest.mark.filterwarnings("ignore:.*no `compensates`:cdv_geo.CdvGeoWarning")
def test_negative_stock_after_warns(sites, quartiers) -> None:
    with pytest.warns(CdvGeoWarning, match=r"fewer than zero dwellings.*QA \(-30\)"):
        renewal_balance(sites, quartiers, stock={"QA": 100, "QB": 500, "QC": 100})


def test_bad_stock(sites, quartiers) -> None:
    with pytest.raises(DataValidationError, match=r"no row of the table: QX.*expected quartier"):
        quiet(renewal_balance, sites, quartiers, stock={"QA": 1, "QX": 2})
    # the old whole-territory key: the message names its successor
    with pytest.raises(DataValidationError, match=r"'all' is gone.*'commune'.*communes="):
        quiet(renewal_balance, sites, quartiers, stock={"QA": 1, "all": 2})
    # without communes= there is no commune row to give a stock to
    with pytest.raises(DataValidationError, match=r"no row of the table: commune"):
        quiet(renewal_balance, sites, quartiers, stock={"commune": 2})
    with pytest.raises(DataValidationError, match=r"field 'stock'.*>= 0: QA=-5"):
        quiet(renewal_balance, sites, quartiers, stock={"QA": -5})


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
    b = renewal_balance(raw, quartiers)
    assert b.loc["QA", ["n_demolished", "n_rebuilt_off_site"]].tolist() == [50, 25]
    p = renewal_progress(raw, quartiers)
    assert p.loc[("QA", "demolition"), "n_done"] == 50
    assert p.loc[("QA", "reconstruction"), "n_in_progress"] == 25
    pd.testing.assert_frame_equal(raw, before_raw)
    pd.testing.assert_frame_equal(quartiers, before_q)


def test_quartiers_in_another_crs_give_the_same_balance(sites, quartiers) -> None:
    stock = {"QA": 1000, "QB": 500, "QC": 100}
    b1 = quiet(renewal_balance, sites, quartiers, stock=stock)
    b2 = quiet(renewal_balance, sites.to_crs(4326), quartiers.to_crs(3857), stock=stock)
    pd.testing.assert_frame_equal(b1, b2, rtol=1e-6)


def test_project_crs_3949_is_the_one_measured_in(sites, quartiers) -> None:
    """An EPSG:3949 project measures areas and distances in 3949, not in Lambert-93."""
    tr = Transformer.from_crs(2154, 3949, always_xy=True)

    def shoelace(x0: float, x1: float) -> float:
        xs, ys = tr.transform([X0 + x0, X0 + x1, X0 + x1, X0 + x0], [Y0, Y0, Y0 + 500, Y0 + 500])
        xs, ys = np.array(xs) - xs[0], np.array(ys) - ys[0]  # no cancellation on big numbers
        return 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(4)))

    d = quiet(renewal_density, sites, quartiers, stock={"QA": 1000}, crs="EPSG:3949")
    expected = [shoelace(0, 500), shoelace(500, 1000), shoelace(2000, 2500)]
    np.testing.assert_allclose(d["area_m2"].iloc[:3], expected, rtol=1e-8)
    assert abs(d.loc["QA", "area_m2"] - 250_000) > 10  # not the Lambert-93 area
    assert d.loc["QA", "density_before_per_ha"] == pytest.approx(1000 / (expected[0] / 1e4))
    # R2 (x=1500, y=250) to QA's right edge (x=500): measured between the 3949 coordinates
    links = quiet(renewal_links, sites, quartiers, crs=3949)
    ax, ay = tr.transform(X0 + 1500, Y0 + 250)
    (cx, dx), (cy, dy) = tr.transform([X0 + 500, X0 + 500], [Y0, Y0 + 500])
    seg = np.array([dx - cx, dy - cy])
    t = np.dot([ax - cx, ay - cy], seg) / np.dot(seg, seg)
    foot = np.array([cx, cy]) + t * seg
    assert links.loc["R2", "distance_m"] == pytest.approx(np.hypot(*(np.array([ax, ay]) - foot)))
    assert abs(links.loc["R2", "distance_m"] - 1000.0) > 0.01
    with pytest.raises(CRSError, match="not projected in metres"):
        quiet(renewal_balance, sites, quartiers, crs=4326)


# --- bad input ----------------------------------------------------------------------------------

CALLS = {
    "renewal_balance": (renewal_balance, ("qpv", "residences")),
    "renewal_density": (renewal_density, ("residences",)),
    "renewal_links": (renewal_links, ("qpv",)),
    "renewal_progress": (renewal_progress, ()),
    "renewal_timeline": (renewal_timeline, ()),
}


def layer_args() -> list[tuple[str, str]]:
    out = []
    for name, (_, optional) in CALLS.items():
        out += [(name, arg) for arg in ("renewal_sites", "quartiers", *optional)]
    return out


def call(name: str, arg: str, value: object) -> None:
    func, _ = CALLS[name]
    kw: dict[str, object] = {"renewal_sites": make_sites(), "quartiers": make_quartiers()}
    if arg == "residences":
        kw[arg] = gpd.GeoDataFrame({"dwellings": [5]}, geometry=[pt(100)], crs=2154)
    if arg == "qpv":
        kw[arg] = make_quartiers()
    layer = kw[arg]
    assert isinstance(layer, gpd.GeoDataFrame)
    kw[arg] = value(layer) if callable(value) else value
    quiet(func, kw.pop("renewal_sites"), kw.pop("quartiers"), **kw)


@pytest.mark.parametrize(("name", "arg"), layer_args())
def test_plain_dataframe_names_the_argument(name: str, arg: str) -> None:
    with pytest.raises(LayerTypeError, match=rf"^{arg} must be a GeoDataFrame, not DataFrame"):
        call(name, arg, lambda g: pd.DataFrame(g.drop(columns="geometry")))


@pytest.mark.parametrize(("name", "arg"), layer_args())
def test_layer_without_crs_names_the_argument(name: str, arg: str) -> None:
    with pytest.raises(CRSError, match=rf"^{arg} layer has no coordinate reference system"):
        call(name, arg, lambda g: g.set_crs(None, allow_override=True))


@pytest.mark.parametrize(("name", "arg"), layer_args())
def test_empty_layer_names_the_argument(name: str, arg: str) -> None:
    with pytest.raises(DataValidationError, match=rf"{arg} layer is empty"):
        call(name, arg, lambda g: g.iloc[:0])
