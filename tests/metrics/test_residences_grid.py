"""metrics/residences_grid.py: Filosofi squares -> residences, checked by hand and against tobler.

Every expected value is computed here independently: shares by hand, the totals by summing the
grid, the per-quartier population by tobler's area_interpolate, the coverage share by hand.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, Point, box
from tobler.area_weighted import area_interpolate

from cdv_geo import CdvGeoWarning, CRSError, DataValidationError
from cdv_geo.core.assign import assign_quartier
from cdv_geo.metrics.access import coverage
from cdv_geo.metrics.grid import interpolate_grid
from cdv_geo.metrics.residences_grid import floor_areas, residences_from_grid
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0

COUNTS = {
    "population": "Ind",
    "households": "Men",
    "poor_households": "Men_pauv",
    "children_0_3": "Ind_0_3",
    "children_4_5": "Ind_4_5",
    "children_6_10": "Ind_6_10",
    "children_11_17": "Ind_11_17",
}


def squares(
    n: int = 3, *, x: float = X0, y: float = Y0, crs: int | None = 2154
) -> gpd.GeoDataFrame:
    """`n` 200 m squares in a row (west to east) with Filosofi columns as published."""
    rng = np.random.default_rng(n)
    ind = rng.integers(20, 300, n).astype(float) + 0.5
    bands = rng.integers(0, 20, (4, n)).astype(float)
    return gpd.GeoDataFrame(
        {
            "Idcar_200m": [f"CRS2154RES200mN{int(y)}E{int(x + 200 * i)}" for i in range(n)],
            "Ind": ind,
            "Men": np.floor(ind / 2.3),
            "Men_pauv": np.floor(ind / 9),
            "Ind_0_3": bands[0],
            "Ind_4_5": bands[1],
            "Ind_6_10": bands[2],
            "Ind_11_17": bands[3],
            "Ind_18_24": rng.integers(0, 30, n).astype(float),
            "Log_soc": rng.integers(0, 50, n).astype(float),
            "Ind_snv": ind * 18_000.0,
            "I_est_200": [0] * n,  # a flag, not a count: left out
        },
        geometry=[box(x + 200 * i, y, x + 200 * (i + 1), y + 200) for i in range(n)],
        crs=crs,
    )


def test_centre_points_without_buildings() -> None:
    g = squares(3)
    res = residences_from_grid(g)
    assert res.attrs["kind"] == "residences" and res.crs.to_epsg() == 2154
    assert res["id"].tolist() == g["Idcar_200m"].tolist()
    assert (res["placement"] == "square_centre").all()
    centres = [(X0 + 100 + 200 * i, Y0 + 100) for i in range(3)]
    assert [p.coords[0] for p in res.geometry] == centres
    for name, col in COUNTS.items():
        assert res[name].tolist() == g[col].tolist(), name
    kids = g["Ind_0_3"] + g["Ind_4_5"] + g["Ind_6_10"] + g["Ind_11_17"]
    assert res["children"].tolist() == kids.tolist()
    # ages 3-10: ages 4-5 and 6-10, plus one of the four ages (0, 1, 2, 3) of the 0-3 band
    by_hand = [g["Ind_4_5"][i] + g["Ind_6_10"][i] + g["Ind_0_3"][i] / 4 for i in range(3)]
    assert res["children_3_10"].tolist() == pytest.approx(by_hand)
    # the other counts keep their (lower-case) names; flags are left out
    assert res["ind_18_24"].tolist() == g["Ind_18_24"].tolist()
    assert res["log_soc"].tolist() == g["Log_soc"].tolist()
    assert "i_est_200" not in res.columns and "ind" not in res.columns
    assert res["dwellings"].isna().all()


def test_square_split_between_two_buildings_by_dwellings() -> None:
    g = squares(2)
    # square 0: two buildings of 30 and 10 dwellings (the small one has more dwellings: the
    # split follows the dwellings, not the footprints); square 1: no building
    b = gpd.GeoDataFrame(
        {"id": ["b1", "b2"], "nb_logements": [30, 10]},
        geometry=[
            box(X0 + 10, Y0 + 10, X0 + 30, Y0 + 30),
            box(X0 + 100, Y0 + 100, X0 + 190, Y0 + 190),
        ],
        crs=2154,
    )
    with pytest.warns(CdvGeoWarning, match=r"1 grid square\(s\) hold no building"):
        res = residences_from_grid(g, b)
    assert res["id"].tolist() == ["b1", "b2", g["Idcar_200m"][1]]
    assert res["placement"].tolist() == ["building", "building", "square_centre"]
    assert res["dwellings"].iloc[:2].tolist() == [30, 10] and pd.isna(res["dwellings"].iloc[2])
    for name, col in COUNTS.items():
        v = g[col]
        assert res[name].tolist() == pytest.approx([v[0] * 0.75, v[0] * 0.25, v[1]]), name
    assert res.geometry.iloc[0].equals(b.geometry.iloc[0])
    assert res.geometry.iloc[2].equals(Point(X0 + 300, Y0 + 100))


def test_footprint_or_floor_area_without_dwellings() -> None:
    g = squares(1)
    geoms = [box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20), box(X0 + 50, Y0 + 50, X0 + 80, Y0 + 60)]
    # footprints 100 m² and 300 m²: a quarter and three quarters
    res = residences_from_grid(g, gpd.GeoDataFrame(geometry=geoms, crs=2154))
    assert res["population"].tolist() == pytest.approx([g["Ind"][0] / 4, g["Ind"][0] * 3 / 4])
    # 3 levels x 100 m² against 1 level x 300 m²: halves
    lv = gpd.GeoDataFrame({"NB_ETAGES": [3, 1]}, geometry=geoms, crs=2154)
    res = residences_from_grid(g, lv)
    assert res["population"].tolist() == pytest.approx([g["Ind"][0] / 2] * 2)
    # hauteur 9 m = 3 levels of 3 m; a missing height counts one level
    h = gpd.GeoDataFrame({"hauteur": [9.0, None]}, geometry=geoms, crs=2154)
    assert floor_areas(h).tolist() == pytest.approx([300.0, 300.0])
    # a dwellings layer whose buildings in this square have none: floor area, with a warning
    dw = gpd.GeoDataFrame({"dwellings": [0, None]}, geometry=geoms, crs=2154)
    with pytest.warns(CdvGeoWarning, match="split by floor area"):
        res = residences_from_grid(g, dw)
    assert res["population"].tolist() == pytest.approx([g["Ind"][0] / 4, g["Ind"][0] * 3 / 4])


def test_building_without_dwellings_next_to_one_with_is_left_out() -> None:
    g = squares(1)
    b = gpd.GeoDataFrame(
        {"dwellings": [12, 0]},  # a garage (0 dwellings) next to a block of flats
        geometry=[box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20), box(X0 + 50, Y0 + 50, X0 + 90, Y0 + 90)],
        crs=2154,
    )
    res = residences_from_grid(g, b)
    assert len(res) == 1 and res["population"].iloc[0] == g["Ind"][0]


def test_totals_are_conserved() -> None:
    rng = np.random.default_rng(7)
    g = squares(8)
    # 40 buildings scattered over the first 6 squares (and some beyond the grid), in WGS84
    xy = rng.uniform([X0 - 100, Y0], [X0 + 1200, Y0 + 200], (40, 2))
    b = gpd.GeoDataFrame(
        {"dwellings": rng.integers(0, 40, 40), "hauteur": rng.uniform(3, 20, 40)},
        geometry=[box(x, y, x + 12, y + 8) for x, y in xy],
        crs=2154,
    ).to_crs(4326)
    with pytest.warns(CdvGeoWarning):
        res = residences_from_grid(g, b)
    assert res.crs.to_epsg() == 4326
    # which square holds each residence, decided independently: its point in the grid's CRS
    pts = res.to_crs(2154).geometry.representative_point()
    for name, col in COUNTS.items():
        assert res[name].sum() == pytest.approx(g[col].sum(), rel=1e-12), name
        for i, sq in enumerate(g.geometry):
            inside = pts.within(sq.buffer(1e-6)).to_numpy() & (res["square"] == g["Idcar_200m"][i])
            assert res.loc[inside, name].sum() == pytest.approx(g[col][i], rel=1e-12)
    for c in ("ind_snv", "log_soc", "ind_18_24"):
        assert res[c].sum() == pytest.approx(g[c.capitalize()].sum(), rel=1e-12)


def test_per_quartier_population_agrees_with_tobler() -> None:
    g = squares(6)
    # quartiers made of whole squares (1-2 and 4-5); squares 0 and 3 lie outside both
    q = gpd.GeoDataFrame(
        {"code": ["QP1", "QP2"], "name": ["Un", "Deux"]},
        geometry=[box(X0 + 200, Y0, X0 + 600, Y0 + 200), box(X0 + 800, Y0, X0 + 1200, Y0 + 200)],
        crs=2154,
    )
    res = residences_from_grid(g)
    ours = res.groupby(assign_quartier(res, q))[["population", "children_0_3"]].sum()
    ref = area_interpolate(g, q, extensive_variables=["Ind", "Ind_0_3"], allocate_total=False)
    np.testing.assert_allclose(ours.loc[["QP1", "QP2"], "population"], ref["Ind"], rtol=1e-12)
    np.testing.assert_allclose(ours.loc[["QP1", "QP2"], "children_0_3"], ref["Ind_0_3"], rtol=1e-12)


def test_interpolate_grid_weighs_by_population_without_dwellings() -> None:
    # two squares; quartier W holds the west half of each, E the east half
    g = gpd.GeoDataFrame(
        {"ind": [100.0, 60.0]},
        geometry=[box(X0, Y0, X0 + 200, Y0 + 200), box(X0, Y0 + 200, X0 + 200, Y0 + 400)],
        crs=2154,
    )
    q = gpd.GeoDataFrame(
        {"code": ["QW", "QE"], "name": ["W", "E"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 400), box(X0 + 100, Y0, X0 + 200, Y0 + 400)],
        crs=2154,
    )
    res = gpd.GeoDataFrame(  # only residents: 30 west, 10 east in square 1; 5 east in square 2
        {"population": [30.0, 10.0, 5.0]},
        geometry=[Point(X0 + 50, Y0 + 50), Point(X0 + 150, Y0 + 50), Point(X0 + 150, Y0 + 300)],
        crs=2154,
    )
    out = interpolate_grid(g, q, extensive=["ind"], residences=res)
    assert_metric_table(out, q)
    assert out.loc[["QW", "QE"], "ind"].tolist() == pytest.approx([75.0, 25.0 + 60.0])
    with pytest.raises(DataValidationError, match="no 'dwellings'"):
        interpolate_grid(g, q, extensive=["ind"], residences=res, weight="dwellings")


def test_grid_residences_weigh_interpolate_grid_like_tobler() -> None:
    g = squares(6)
    q = gpd.GeoDataFrame(
        {"code": ["QP1"], "name": ["Un"]},
        geometry=[box(X0 + 200, Y0, X0 + 600, Y0 + 200)],
        crs=2154,
    )
    res = residences_from_grid(g)  # population only: interpolate_grid weighs by it
    out = interpolate_grid(g, q, extensive=["ind", "men"], residences=res)
    ref = area_interpolate(g, q, extensive_variables=["Ind", "Men"], allocate_total=False)
    np.testing.assert_allclose(out.loc[["QP1"], "ind"], ref["Ind"], rtol=1e-12)
    np.testing.assert_allclose(out.loc[["QP1"], "men"], ref["Men"], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_undefined_crs(tmp_path) -> None:
    g = squares(2, crs=None)
    shp = tmp_path / "carreaux.shp"
    g.to_file(shp)
    with pytest.raises(CRSError) as exc:
        residences_from_grid(shp)
    msg = str(exc.value)
    assert str(shp) in msg and 'crs="EPSG:2154"' in msg and 'crs="EPSG:3035"' in msg
    res = residences_from_grid(shp, crs="EPSG:2154")
    assert res.crs.to_epsg() == 2154
    assert res["population"].tolist() == g["Ind"].tolist()
    assert res.geometry.iloc[0].equals(Point(X0 + 100, Y0 + 100))
    # a GeoDataFrame without CRS: its Lambert-93 coordinates are read, and only the CRS they
    # fit is suggested (never EPSG:3035 for them)
    with pytest.raises(CRSError, match='fit crs="EPSG:2154"') as exc:
        residences_from_grid(g)
    assert "EPSG:3035" not in str(exc.value)
    assert residences_from_grid(g, crs=2154).crs.to_epsg() == 2154


def test_several_layers(tmp_path) -> None:
    gpkg = tmp_path / "filosofi.gpkg"
    a, b = squares(2), squares(3)
    a.to_file(gpkg, layer="carreaux_2017")
    b.to_file(gpkg, layer="carreaux_2019")
    with pytest.raises(DataValidationError, match=r"several layers \(carreaux_2017, carreaux_2019"):
        residences_from_grid(gpkg)
    r17 = residences_from_grid(gpkg, layer="carreaux_2017")
    r19 = residences_from_grid(gpkg, layer="carreaux_2019")
    assert r17["population"].sum() == pytest.approx(a["Ind"].sum())
    assert r19["population"].sum() == pytest.approx(b["Ind"].sum()) and len(r19) == 3
    assert "carreaux_2019" in r19["source"].iloc[0]
    with pytest.raises(DataValidationError, match="no layer 'x'"):
        residences_from_grid(gpkg, layer="x")
    with pytest.raises(DataValidationError, match="already a GeoDataFrame"):
        residences_from_grid(a, layer="carreaux_2017")


def test_bad_grids() -> None:
    g = squares(2)
    with pytest.raises(DataValidationError, match="no 'Ind' column"):
        residences_from_grid(g.drop(columns="Ind"))
    secret = g.assign(Ind=g["Ind"].astype(object))
    secret.loc[1, "Ind"] = "s"
    with pytest.raises(DataValidationError, match=r"1 square\(s\) have no number of residents"):
        residences_from_grid(secret)
    with pytest.raises(DataValidationError, match="touches the territory"):
        far = gpd.GeoDataFrame(geometry=[box(X0 + 9000, Y0, X0 + 9500, Y0 + 500)], crs=2154)
        residences_from_grid(g, territory=far)


def test_territory_keeps_the_squares_it_touches() -> None:
    g = squares(5)
    town = gpd.GeoDataFrame(geometry=[box(X0 + 250, Y0 + 50, X0 + 450, Y0 + 150)], crs=2154)
    res = residences_from_grid(g, territory=town)
    assert res["id"].tolist() == g["Idcar_200m"][1:3].tolist()
    assert res["population"].sum() == pytest.approx(g["Ind"][1:3].sum())


def test_coverage_of_children_on_a_straight_street() -> None:
    # three squares along a street; a school at the west end; 5 min at 4.5 km/h = 375 m
    g = gpd.GeoDataFrame(
        {
            "Ind": [50.0, 80.0, 40.0],
            "Ind_0_3": [4.0, 8.0, 2.0],
            "Ind_4_5": [2.0, 3.0, 1.0],
            "Ind_6_10": [5.0, 9.0, 3.0],
            "Ind_11_17": [6.0, 7.0, 4.0],
        },
        geometry=[box(X0 + 200 * i, Y0, X0 + 200 * (i + 1), Y0 + 200) for i in range(3)],
        crs=2154,
    )
    res = residences_from_grid(g)
    school = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[Point(X0, Y0 + 100)], crs=2154)
    q = gpd.GeoDataFrame(
        {"code": ["QP1"], "name": ["Rue"]}, geometry=[box(X0, Y0, X0 + 600, Y0 + 200)], crs=2154
    )
    c = coverage(res, school, q, weight="children", threshold_min=5)
    assert_metric_table(c, q, levels=("kind", "threshold_min"))
    # centres at 100, 300 and 500 m from the school: the first two are covered
    kids = [17.0, 27.0, 10.0]
    row = c.loc[("QP1", "school", 5.0)]
    assert row["n_residents"] == pytest.approx(sum(kids))
    assert row["covered_share"] == pytest.approx((17 + 27) / 54)
    # the same by the street (a network along the row of centres) gives the same share
    from cdv_geo.network import WalkNetwork

    street = gpd.GeoDataFrame(
        geometry=[LineString([(X0, Y0 + 100), (X0 + 600, Y0 + 100)])], crs=2154
    )
    net = WalkNetwork.from_lines(street, crs=2154)
    c2 = coverage(res, school, q, network=net, weight="children_3_10", threshold_min=5)
    k310 = [2 + 5 + 4 / 4, 3 + 9 + 8 / 4, 1 + 3 + 2 / 4]
    assert c2.loc[("QP1", "school", 5.0), "covered_share"] == pytest.approx(
        (k310[0] + k310[1]) / sum(k310)
    )
    assert shapely.equals(res.geometry.iloc[1], Point(X0 + 300, Y0 + 100))
