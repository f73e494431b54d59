"""3-30-300 and WHO green-space access, on hand-built cases with every threshold hit exactly."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, box

from cdv_geo.core.errors import CdvGeoWarning, CRSError, DataValidationError, LayerTypeError
from cdv_geo.metrics.green import green_space_access, parks, rule_3_30_300
from cdv_geo.testing import assert_metric_table

from .renat_helpers import X, Y, polygon_disc_ratio, three_quartiers, write_raster


@pytest.fixture
def rule_case() -> dict[str, gpd.GeoDataFrame]:
    homes = gpd.GeoDataFrame(
        {"id": ["H1", "H2", "H3"], "population": [10.0, None, 5.0], "dwellings": [4, 4, 2]},
        geometry=[Point(X, Y), Point(X + 3000, Y), Point(X + 1500, Y)],
        crs=2154,
    )
    trees = gpd.GeoDataFrame(
        {
            "trees": [2, 1, 1, 1],
            "crown_diameter_m": [3.0, 3.0, 3.0, 300.0],
        },
        # two points within 15 m of H1 (3 trees), one at 16 m, and a 300 m "wood" 100 m west
        geometry=[Point(X + 10, Y), Point(X, Y + 14), Point(X + 16, Y), Point(X - 100, Y)],
        crs=2154,
    )
    green = gpd.GeoDataFrame(
        {
            "name": ["Grand parc", "Square A", "Square B", "Parc privé"],
            "public": [True, True, True, False],
        },
        geometry=[
            box(X + 200, Y - 50, X + 300, Y + 50),  # 1 ha, 200 m east of H1
            box(X + 3050, Y - 50, X + 3090, Y + 50),  # 0.4 ha, 50 m east of H2 ...
            box(X + 3090, Y - 50, X + 3110, Y + 50),  # ... touching a 0.2 ha one
            box(X + 1510, Y - 100, X + 1710, Y + 100),  # 4 ha but private, by H3
        ],
        crs=2154,
    )
    quartiers = gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": ["Alpha", "Beta"]},
        geometry=[
            box(X - 10, Y - 10, X + 3010, Y + 10).difference(
                box(X + 1400, Y - 10, X + 1600, Y + 10)
            ),
            box(X + 1400, Y - 10, X + 1600, Y + 10),
        ],
        crs=2154,
    )
    return {"homes": homes, "trees": trees, "parks": green, "quartiers": quartiers}


def test_rule_3_30_300_hand_case(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    c = rule_case
    r = rule_3_30_300(
        c["homes"], trees=c["trees"], green_spaces=c["parks"], quartiers=c["quartiers"]
    )
    res = r.residences
    assert list(res["n_trees_within"]) == [3, 0, 0]
    # the wood (radius 150 m, 100 m away) lies inside H1's 250 m disc: 150² / 250² = 36 %
    # (both discs are regular polygons of the same order: the ratio is exact); the 3 small
    # crowns add their area
    small = (math.pi * 1.5**2 * 2 + 2 * math.pi * 1.5**2) * polygon_disc_ratio(16)
    disc = math.pi * 250**2 * polygon_disc_ratio(32)
    assert res.loc["H1", "canopy_share"] == pytest.approx(0.36 + small / disc, rel=2e-3)
    assert res.loc["H2", "canopy_share"] == 0.0
    assert (res["canopy_method"] == "tree points").all()
    assert res.loc["H1", "park_distance_m"] == pytest.approx(200)
    assert res.loc["H2", "park_distance_m"] == pytest.approx(50)  # the two squares merged
    assert res.loc["H3", "park_distance_m"] == pytest.approx(1200)  # private park ignored
    assert (res["park_distance_method"] == "straight_line").all()
    assert list(res["meets_3"]) == [True, False, False]
    assert list(res["meets_30"]) == [True, False, False]
    assert list(res["meets_300"]) == [True, True, False]
    assert list(res["meets_3_30_300"]) == [True, False, False]
    assert list(res["residents"]) == [10.0, 4 * 2.2, 5.0]
    assert list(res["quartier"]) == ["QA", "QA", "QB"]
    q = r.quartiers
    assert_metric_table(q, c["quartiers"])
    assert q.loc["QA", "meets_3_share"] == pytest.approx(10 / 18.8)
    assert q.loc["QA", "meets_300_share"] == pytest.approx(1.0)
    assert q.loc["QB", "meets_3_30_300_share"] == 0.0
    assert list(q.index) == ["QA", "QB", "qpv"]
    assert q.loc["qpv", "n_residents"] == pytest.approx(23.8)
    assert q.loc["qpv", "n_homes"] == 3
    assert q.loc["qpv", "meets_3_30_300_share"] == pytest.approx(10 / 23.8)
    # without merging, the two squares are each below 0.5 ha: H2 now fails "300"
    r2 = rule_3_30_300(c["homes"], trees=c["trees"], green_spaces=c["parks"], merge_adjacent=False)
    assert not r2.residences.loc["H2", "meets_300"]
    # without quartiers nor communes: no row can be named
    assert_metric_table(r2.quartiers)
    assert list(r2.quartiers.index) == []
    # without quartiers, with the commune (H1 and H3 in it, H2 beyond its eastern border)
    town = gpd.GeoDataFrame(
        {"code": ["02722"]}, geometry=[box(X - 500, Y - 500, X + 2000, Y + 500)], crs=2154
    )
    r3 = rule_3_30_300(c["homes"], trees=c["trees"], green_spaces=c["parks"], communes=town)
    assert_metric_table(r3.quartiers)
    assert list(r3.quartiers.index) == ["commune"]
    assert r3.quartiers.loc["commune", "n_residents"] == pytest.approx(15)
    assert r3.quartiers.loc["commune", "meets_3_30_300_share"] == pytest.approx(10 / 15)


@pytest.mark.parametrize("method", ["focal", "exact"])
def test_rule_3_30_300_with_canopy_raster(
    tmp_path: Path, rule_case: dict[str, gpd.GeoDataFrame], method: str
) -> None:
    # 70 % tree cover west of x = X, 0 east of it; raster 3.4 km x 600 m
    v = np.zeros((60, 340), dtype="uint8")
    v[:, :30] = 70
    p = write_raster(tmp_path / "tcd.tif", v, x0=X - 300, ytop=Y + 300)
    c = rule_case
    r = rule_3_30_300(
        c["homes"], trees=c["trees"], canopy=p, green_spaces=c["parks"], method=method
    )
    res = r.residences
    # H1's disc is cut in half by x = X (a pixel edge): 0.5 x 70 % = 35 %
    assert res.loc["H1", "canopy_share"] == pytest.approx(
        0.35, abs=1e-3 if method == "focal" else 1e-6
    )
    assert res.loc["H3", "canopy_share"] == pytest.approx(0.0, abs=1e-9)
    assert (res["canopy_method"] == method).all()
    assert list(res["meets_30"]) == [True, False, False]
    r2 = rule_3_30_300(
        c["homes"],
        trees=c["trees"],
        canopy=p,
        green_spaces=c["parks"],
        min_canopy_share=0.4,
        method=method,
    )
    assert not r2.residences["meets_30"].any()


@pytest.mark.parametrize("method", ["focal", "exact"])
def test_rule_thresholds_are_inclusive(tmp_path: Path, method: str) -> None:
    """Exactly 3 trees at exactly 15 m, exactly 30 % canopy, a park at exactly 300 m: passes."""
    homes = gpd.GeoDataFrame(
        {"id": ["on", "off"], "population": [1, 1]},
        geometry=[Point(X, Y), Point(X + 2000, Y)],
        crs=2154,
    )
    trees = gpd.GeoDataFrame(
        {"trees": [2, 1, 2]},
        # "on": 2 trees at 15 m east and 1 at 15 m north = exactly 3 at exactly 15 m;
        # "off": 2 trees only, at 15 m
        geometry=[Point(X + 15, Y), Point(X, Y + 15), Point(X + 2015, Y)],
        crs=2154,
    )
    green = gpd.GeoDataFrame(
        {"name": ["Parc", "Loin"]},
        geometry=[
            box(X - 400, Y - 50, X - 300, Y + 50),  # 1 ha, edge exactly 300 m west of "on"
            box(X + 2300.5, Y - 50, X + 2400.5, Y + 50),  # 300.5 m east of "off"
        ],
        crs=2154,
    )
    # a uniform 30 % tree cover around "on", 29 % around "off"
    v = np.full((60, 300), 30, dtype="uint8")
    v[:, 150:] = 29
    p = write_raster(tmp_path / "tcd.tif", v, x0=X - 500, ytop=Y + 300)
    town = gpd.GeoDataFrame(
        {"code": ["02722"]}, geometry=[box(X - 500, Y - 500, X + 2500, Y + 500)], crs=2154
    )
    r = rule_3_30_300(
        homes, trees=trees, canopy=p, green_spaces=green, method=method, communes=town
    )
    res = r.residences
    assert list(res["n_trees_within"]) == [3, 2]
    assert res.loc["on", "canopy_share"] == pytest.approx(0.30, abs=1e-9)
    assert res.loc["off", "canopy_share"] == pytest.approx(0.29, abs=1e-9)
    assert list(res["park_distance_m"]) == [300.0, 300.5]
    assert list(res["meets_3"]) == [True, False]
    assert list(res["meets_30"]) == [True, False]
    assert list(res["meets_300"]) == [True, False]
    assert list(res["meets_3_30_300"]) == [True, False]
    assert r.quartiers.loc["commune", "meets_3_30_300_share"] == 0.5


def test_rule_homes_on_borders_and_empty_quartier() -> None:
    """Homes on a border or triple point count in the smallest code; no home -> NaN + reason."""
    q = three_quartiers()  # QC, QB, QA; triple point (X + 100, Y + 100)
    homes = gpd.GeoDataFrame(
        {"population": [10, 20, 40]},
        geometry=[Point(X + 100, Y + 100), Point(X + 100, Y + 50), Point(X + 150, Y + 100)],
        crs=2154,
    )
    trees = gpd.GeoDataFrame(
        {"trees": [3, 3]}, geometry=[Point(X + 100, Y + 90), Point(X + 100, Y + 55)], crs=2154
    )
    green = gpd.GeoDataFrame(geometry=[box(X + 500, Y, X + 600, Y + 100)], crs=2154)
    r = rule_3_30_300(homes, trees=trees, green_spaces=green, quartiers=q)
    assert list(r.residences["quartier"]) == ["QA", "QA", "QB"]
    t = r.quartiers
    assert_metric_table(t, q)
    assert t.loc["QA", "n_residents"] == 30 and t.loc["QB", "n_residents"] == 40
    assert t.loc["QC", "n_homes"] == 0
    assert np.isnan(t.loc["QC", "meets_3_share"])
    assert t.loc["QC", "reason"] == "no residence in this quartier"
    # both QA homes have 3 trees within 15 m; the QB home (50 m away) has none
    assert t.loc["QA", "meets_3_share"] == 1.0 and t.loc["QB", "meets_3_share"] == 0.0
    assert t.loc["qpv", "meets_3_share"] == pytest.approx(30 / 70)


def test_rule_3_30_300_over_the_network(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    from cdv_geo.network import WalkNetwork

    # H1 reaches the big park's west edge (x = X + 200) only by a detour: north 150 m,
    # east 200 m, south 150 m = 500 m on foot, though 200 m as the crow flies.
    lines = [
        LineString([(X, Y), (X, Y + 150)]),
        LineString([(X, Y + 150), (X + 200, Y + 150)]),
        LineString([(X + 200, Y + 150), (X + 200, Y)]),
    ]
    streets = gpd.GeoDataFrame({"name": ["a", "b", "c"]}, geometry=lines, crs=2154)
    net = WalkNetwork.from_lines(streets)
    c = rule_case
    homes = c["homes"].iloc[[0]]
    with pytest.warns(CdvGeoWarning, match=r"Square A \+ Square B"):  # 3 km from the streets
        r = rule_3_30_300(homes, trees=c["trees"], green_spaces=c["parks"], network=net)
    res = r.residences
    assert res.loc["H1", "park_distance_method"] == "network"
    # the park is entered where its west side meets the street, at (X + 200, Y + 50)
    assert res.loc["H1", "park_distance_m"] == pytest.approx(150 + 200 + 100, abs=1e-6)
    assert not res.loc["H1", "meets_300"]
    # with a 450 m threshold (exactly the walk) it passes; in a straight line it was 200 m
    r2 = rule_3_30_300(
        homes,
        trees=c["trees"],
        green_spaces=c["parks"].iloc[[0]],
        network=net,
        park_distance_m=450,
    )
    assert r2.residences.loc["H1", "meets_300"]


def test_rule_in_3949(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    c = rule_case
    homes49, parks49 = c["homes"].to_crs(3949), c["parks"].to_crs(3949)
    r = rule_3_30_300(homes49, trees=c["trees"], green_spaces=parks49, crs="EPSG:3949")
    # H1 to the big park, measured by shapely in CC49 coordinates
    expected = homes49.geometry.iloc[0].distance(parks49.geometry.iloc[0])
    assert r.residences.loc["H1", "park_distance_m"] == pytest.approx(expected, rel=1e-9)
    assert abs(expected - 200) > 0.05  # not the Lambert-93 distance


def test_rule_bad_inputs(tmp_path: Path, rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    c = rule_case
    kw = {"trees": c["trees"], "green_spaces": c["parks"]}
    with pytest.raises(LayerTypeError, match=r"^residences must be a GeoDataFrame, not DataFrame"):
        rule_3_30_300(pd.DataFrame({"population": [1]}), **kw)
    with pytest.raises(CRSError, match=r"^residences layer has no coordinate reference system"):
        rule_3_30_300(c["homes"].set_crs(None, allow_override=True), **kw)
    with pytest.raises(DataValidationError, match=r"residences layer is empty"):
        rule_3_30_300(c["homes"].iloc[:0], **kw)
    with pytest.raises(LayerTypeError, match=r"^trees must be a GeoDataFrame, not NoneType"):
        rule_3_30_300(c["homes"], trees=None, green_spaces=c["parks"])
    with pytest.raises(LayerTypeError, match=r"^green_spaces must be a GeoDataFrame, not str"):
        rule_3_30_300(c["homes"], trees=c["trees"], green_spaces="parks.gpkg")
    with pytest.raises(LayerTypeError, match=r"^quartiers must be a GeoDataFrame, not DataFrame"):
        rule_3_30_300(c["homes"], quartiers=pd.DataFrame({"code": ["Q"]}), **kw)
    with pytest.raises(ValueError, match=r"method='fast'; expected 'focal' or 'exact'"):
        rule_3_30_300(c["homes"], method="fast", **kw)


# --- WHO green-space access ------------------------------------------------------------------


def test_green_space_access() -> None:
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Centre"]},
        geometry=[box(X - 1000, Y - 1000, X + 2000, Y + 1000)],
        crs=2154,
    )
    homes = gpd.GeoDataFrame(
        {"population": [30, 10, 60]},
        geometry=[
            box(X - 10, Y - 10, X + 10, Y + 10),  # footprint: edges 240 m from the 1 ha park
            Point(X + 600, Y),
            Point(X + 1800, Y),
        ],
        crs=2154,
    )
    green = gpd.GeoDataFrame(
        {"name": ["Parc", "Square", "Privé"], "public": [True, "oui", "non"]},
        geometry=[
            box(X + 250, Y - 50, X + 350, Y + 50),  # 1 ha: 240 m from home 1, 250 m from 2
            box(X + 700, Y + 0, X + 780, Y + 80),  # 0.64 ha: 100 m from home 2
            box(X + 1700, Y - 200, X + 1900, Y + 200),  # 8 ha, private, around home 3
        ],
        crs=2154,
    )
    a = green_space_access(homes, green, q)
    res = a.residences
    assert res.loc["1", "green_1ha_distance_m"] == pytest.approx(240)
    assert res.loc["2", "green_0_5ha_distance_m"] == pytest.approx(100)
    assert res.loc["2", "green_1ha_distance_m"] == pytest.approx(250)
    assert list(res["green_0_5ha"]) == [True, True, False]
    assert list(res["green_1ha"]) == [True, True, False]
    assert_metric_table(a.quartiers, q)
    assert list(a.quartiers.columns) == [
        "name",
        "n_residents",
        "n_homes",
        "green_0_5ha_share",
        "green_1ha_share",
    ]
    assert a.quartiers.loc["Q1", "green_0_5ha_share"] == pytest.approx(0.4)
    assert a.quartiers.loc["qpv", "green_1ha_share"] == pytest.approx(0.4)
    strict = green_space_access(homes, green, q, distance_m=245, min_area_ha=1.0)
    assert list(strict.residences["green_1ha"]) == [True, False, False]
    assert strict.quartiers.loc["Q1", "green_1ha_share"] == pytest.approx(0.3)
    everyone = green_space_access(homes, green, q, public_only=False)
    assert everyone.residences.loc["3", "green_1ha_distance_m"] == 0.0


def test_green_space_access_at_exactly_300_m() -> None:
    q = gpd.GeoDataFrame(
        {"code": ["Q1", "Q2"], "name": ["Un", "Deux"]},
        geometry=[box(X - 100, Y - 100, X + 100, Y + 100), box(X + 5000, Y, X + 5100, Y + 100)],
        crs=2154,
    )
    homes = gpd.GeoDataFrame(
        {"population": [7, 3]}, geometry=[Point(X, Y), Point(X, Y + 0.5)], crs=2154
    )
    # a 1 ha park whose south edge is exactly 300 m north of the first home (299.5 m of the 2nd)
    # (moved 0.25 m south, the first home is 300.25 m away and fails)
    green = gpd.GeoDataFrame(
        {"name": ["Nord"]}, geometry=[box(X - 50, Y + 300, X + 50, Y + 400)], crs=2154
    )
    a = green_space_access(homes, green, q, min_area_ha=1.0)
    assert list(a.residences["green_1ha_distance_m"]) == [300.0, 299.5]
    assert list(a.residences["green_1ha"]) == [True, True]
    far = green_space_access(homes.assign(geometry=[Point(X, Y - 0.25), Point(X, Y)]), green, q)
    assert list(far.residences["green_1ha"]) == [False, True]
    assert_metric_table(a.quartiers, q)
    assert a.quartiers.loc["Q1", "green_1ha_share"] == 1.0
    assert np.isnan(a.quartiers.loc["Q2", "green_1ha_share"])
    assert a.quartiers.loc["Q2", "reason"] == "no residence in this quartier"


def test_green_space_access_bad_inputs(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    c = rule_case
    with pytest.raises(LayerTypeError, match=r"^residences must be a GeoDataFrame"):
        green_space_access(None, c["parks"], c["quartiers"])
    with pytest.raises(LayerTypeError, match=r"^green_spaces must be a GeoDataFrame"):
        green_space_access(c["homes"], pd.DataFrame(), c["quartiers"])
    with pytest.raises(CRSError, match=r"^quartiers layer has no coordinate reference system"):
        green_space_access(
            c["homes"], c["parks"], c["quartiers"].set_crs(None, allow_override=True)
        )
    with pytest.raises(DataValidationError, match=r"quartiers layer is empty"):
        green_space_access(c["homes"], c["parks"], c["quartiers"].iloc[:0])
    with pytest.raises(DataValidationError, match=r"takes polygon geometries"):
        green_space_access(c["homes"], c["homes"], c["quartiers"])


def test_parks_merge_names() -> None:
    g = gpd.GeoDataFrame(
        {"name": ["B", "A", None], "public": [True, True, True]},
        geometry=[box(10, 0, 20, 10), box(0, 0, 10, 10), box(15, 5, 30, 10)],
        crs=2154,
    )
    p = parks(g)
    assert len(p) == 1
    assert p.loc[0, "name"] == "B + A"  # file order of the named parts
    assert p.loc[0, "area_m2"] == pytest.approx(200 + 50)
    with pytest.raises(LayerTypeError, match=r"^green_spaces must be a GeoDataFrame, not list"):
        parks([box(0, 0, 1, 1)])


def test_inputs_not_modified(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    c = rule_case
    copies = {k: v.copy() for k, v in c.items()}
    rule_3_30_300(c["homes"], trees=c["trees"], green_spaces=c["parks"], quartiers=c["quartiers"])
    green_space_access(c["homes"], c["parks"], c["quartiers"])
    for k in c:
        pd.testing.assert_frame_equal(c[k], copies[k])


def test_green_space_access_nearest_space_of_each_size() -> None:
    # a home 50 m from a 0.64 ha square and 200 m from a 1.44 ha park; a home next to the park
    x, y = 700000.0, 6900000.0
    homes = gpd.GeoDataFrame(
        {"id": ["h1", "h2"], "dwellings": [1, 1]},
        geometry=[box(x, y, x + 10, y + 10), box(x + 500, y, x + 510, y + 10)],
        crs=2154,
    )
    spaces = gpd.GeoDataFrame(
        {"name": ["Square", "Parc"], "access": ["public", "public"]},
        geometry=[box(x + 60, y, x + 140, y + 80), box(x + 210, y, x + 330, y + 120)],
        crs=2154,
    )
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Q"], "population": [10]},
        geometry=[box(x - 100, y - 100, x + 700, y + 300)],
        crs=2154,
    )
    per = green_space_access(homes, spaces, q).residences
    assert per["green_0_5ha_distance_m"].tolist() == [50.0, 170.0]
    assert per["green_1ha_distance_m"].tolist() == [200.0, 170.0]


def test_green_space_access_when_no_space_is_large_enough() -> None:
    """Only small or private spaces: nobody has access (0, not an error), distances are NaN."""
    q = three_quartiers()
    homes = gpd.GeoDataFrame(
        {"population": [10.0, 20.0]},
        geometry=[Point(X + 50, Y + 50), Point(X + 150, Y + 50)],
        crs=2154,
    )
    spaces = gpd.GeoDataFrame(
        {"name": ["square", "private park"], "public": [True, False]},
        geometry=[box(X + 60, Y + 60, X + 80, Y + 80), box(X, Y, X + 200, Y + 200)],
        crs=2154,
    )
    out = green_space_access(homes, spaces, q)
    assert_metric_table(out.quartiers, q)
    assert out.quartiers.loc["qpv", "green_0_5ha_share"] == 0.0
    assert out.quartiers.loc["qpv", "green_1ha_share"] == 0.0
