"""Renaturation metrics on hand-built cases whose answers are computed by hand or analytically."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely import Point, box

from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, RasterError
from cdv_geo.metrics.renaturation import (
    CROWN_DIAMETERS_M,
    DEFAULT_CROWN_DIAMETER_M,
    canopy_share,
    desealing_summary,
    green_space_access,
    impervious_change,
    impervious_share,
    rule_3_30_300,
    tree_crowns,
    tree_summary,
)
from cdv_geo.schema import validate

X, Y = 728400.0, 6920700.0  # Lambert-93, Soissons
ROOT = Path(__file__).resolve().parents[1]


def write_raster(
    path: Path,
    values: np.ndarray,
    *,
    x0: float = X,
    ytop: float = Y + 100,
    res: float = 10.0,
    nodata: float | None = 255,
) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype=str(values.dtype),
        crs="EPSG:2154",
        nodata=nodata,
        transform=from_origin(x0, ytop, res, res),
    ) as dst:
        dst.write(values, 1)
    return path


def lens(r1: float, r2: float, d: float) -> float:
    """Area of the intersection of two discs (radii r1, r2, centres d apart)."""
    if d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        return math.pi * min(r1, r2) ** 2
    a = r1**2 * math.acos((d**2 + r1**2 - r2**2) / (2 * d * r1))
    b = r2**2 * math.acos((d**2 + r2**2 - r1**2) / (2 * d * r2))
    c = 0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    return a + b - c


def polygon_disc_ratio(quad_segs: int) -> float:
    """Area of shapely's buffer polygon over the true disc's (a regular 4q-gon inscribed)."""
    n = 4 * quad_segs
    return n * math.sin(2 * math.pi / n) / (2 * math.pi)


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    """Two 1 ha quartiers side by side (validated: their codes are their ids)."""
    raw = gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": ["Alpha", "Beta"], "population": [500, 200]},
        geometry=[box(X, Y, X + 100, Y + 100), box(X + 100, Y, X + 200, Y + 100)],
        crs=2154,
    )
    return validate(raw, "quartiers")


# --- impervious and canopy shares from rasters -------------------------------------------------


def test_impervious_share_and_change(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    # 10 x 20 pixels of 10 m over both quartiers: Alpha 80 % sealed, Beta 40 %
    before = np.zeros((10, 20), dtype="uint8")
    before[:, :10], before[:, 10:] = 80, 40
    after = before.copy()
    after[0:2, 0:2] = 0  # a 20 m x 20 m yard de-sealed in Alpha
    b = write_raster(tmp_path / "b.tif", before)
    a = write_raster(tmp_path / "a.tif", after)
    s = impervious_share(quartiers, b)
    assert s.loc["QA", "impervious_share"] == pytest.approx(0.8)
    assert s.loc["QB", "impervious_share"] == pytest.approx(0.4)
    assert s.loc["QA", "area_m2"] == pytest.approx(10_000)
    assert s.loc["QA", "impervious_m2"] == pytest.approx(8_000)
    ch = impervious_change(quartiers.to_crs(4326), b, a)
    # 400 m² of 80 % sealed pixels lost in 10,000 m²: -0.8 x 400 / 10,000 = -3.2 pp
    assert ch.loc["QA", "change_pp"] == pytest.approx(-3.2, abs=1e-5)
    assert ch.loc["QB", "change_pp"] == pytest.approx(0.0, abs=1e-9)
    assert ch.loc["QA", "impervious_after"] == pytest.approx(0.768, abs=1e-7)


def test_copernicus_codes_and_scale_errors(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    v = np.full((10, 20), 50, dtype="uint8")
    v[0, 0] = 254  # Copernicus "unclassifiable", not declared nodata in this file
    p = write_raster(tmp_path / "imd.tif", v)
    with pytest.raises(
        RasterError,
        match=r"imd\.tif: with scale=0\.01, imperviousness values "
        r"reach 2\.54.*nodata=\(254, 255\)",
    ):
        impervious_share(quartiers, p)
    s = impervious_share(quartiers, p, nodata=(254, 255))
    assert s.loc["QA", "impervious_share"] == pytest.approx(0.5)
    assert s.loc["QA", "nodata_share"] == pytest.approx(0.01)
    with pytest.raises(RasterError, match=r"imd\.tif: with scale=1.*use scale=0\.01"):
        impervious_share(quartiers, p, scale=1.0, nodata=254)


def test_raster_not_covering_quartiers(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    p = write_raster(tmp_path / "far.tif", np.zeros((5, 5), dtype="uint8"), x0=X + 50_000)
    with pytest.raises(RasterError, match=r"far\.tif does not overlap any of the 2 polygons"):
        canopy_share(quartiers, p)


def test_canopy_share_from_raster(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    v = np.zeros((10, 20), dtype="uint8")
    v[:5, :10] = 60  # northern half of Alpha at 60 %
    c = canopy_share(quartiers, write_raster(tmp_path / "tcd.tif", v))
    assert c.loc["QA", "canopy_share"] == pytest.approx(0.3)
    assert c.loc["QA", "canopy_m2"] == pytest.approx(3_000)
    assert c.loc["QB", "canopy_share"] == 0.0
    assert (c["source"] == "raster").all()


# --- canopy from tree points --------------------------------------------------------------------


def test_overlapping_crowns_counted_once() -> None:
    r, d = 5.0, 6.0
    trees = gpd.GeoDataFrame(
        {"crown_diameter_m": [2 * r, 2 * r]},
        geometry=[Point(X + 50, Y + 50), Point(X + 50 + d, Y + 50)],
        crs=2154,
    )
    whole = box(X, Y, X + 100, Y + 100)
    west = box(X, Y, X + 50 + d / 2, Y + 100)  # up to the crowns' axis of symmetry
    polys = gpd.GeoDataFrame({"id": ["whole", "west"]}, geometry=[whole, west], crs=2154)
    q = 64
    c = canopy_share(polys, trees=trees, quad_segs=q)
    union = 2 * math.pi * r**2 - lens(r, r, d)
    expected = union * polygon_disc_ratio(q)  # the discs are 256-gons: 0.01 % smaller
    assert c.loc["whole", "canopy_m2"] == pytest.approx(expected, rel=1e-4)
    assert c.loc["whole", "canopy_m2"] == pytest.approx(union, rel=2e-4)
    assert c.loc["whole", "canopy_m2"] < 2 * math.pi * r**2 * 0.95  # not double counted
    assert c.loc["west", "canopy_m2"] == pytest.approx(expected / 2, rel=1e-4)
    assert c.loc["whole", "canopy_share"] == pytest.approx(expected / 10_000, rel=1e-4)
    assert (c["source"] == "tree points").all()


def test_crown_sizes() -> None:
    t = gpd.GeoDataFrame(
        {
            "trees": [1, 1, 1, 4, 1, 1],
            "species": [
                "Tilia cordata",
                "Acer campestre",
                "Foo bar",
                "Quercus robur",
                "Tilia cordata",
                "Platanus x acerifolia 'Alphen'",
            ],
            "crown_diameter_m": [None, None, None, None, 3.0, None],
        },
        geometry=[Point(X + 30 * i, Y) for i in range(6)],
        crs=2154,
    )
    c = tree_crowns(t)
    assert list(c["crown_source"]) == ["genus", "species", "default", "genus", "field", "genus"]
    assert list(c["crown_diameter_m"]) == [
        CROWN_DIAMETERS_M["tilia"],
        CROWN_DIAMETERS_M["acer campestre"],
        DEFAULT_CROWN_DIAMETER_M,
        CROWN_DIAMETERS_M["quercus"],
        3.0,
        CROWN_DIAMETERS_M["platanus"],
    ]
    # 4 trees at one point: one disc of 4 crowns' area
    assert c["radius_m"].iloc[3] == pytest.approx(CROWN_DIAMETERS_M["quercus"] / 2 * 2)
    assert c.geometry.iloc[3].area == pytest.approx(
        4 * math.pi * (CROWN_DIAMETERS_M["quercus"] / 2) ** 2 * polygon_disc_ratio(16)
    )
    own = tree_crowns(t, crown_diameters={"tilia": 7.0}, default_crown_diameter_m=2.0)
    assert list(own["crown_diameter_m"]) == [7.0, 2.0, 2.0, 2.0, 3.0, 2.0]


def test_negative_tree_counts(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame(
        {"id": ["a", "b"], "nb_arbres": [2, -3]}, geometry=[Point(X, Y), Point(X + 5, Y)], crs=2154
    )
    raw.attrs["source"] = "plantations.geojson"
    with pytest.raises(
        DataValidationError,
        match=r"file plantations\.geojson, layer "
        r"tree_plantings, feature b, field 'trees': -3 is negative; expected",
    ):
        tree_crowns(raw)
    # a validated layer edited afterwards is checked again
    ok = validate(raw.assign(nb_arbres=[2, 3]), "tree_plantings", source="plantations.geojson")
    ok.loc[1, "trees"] = -3
    with pytest.raises(
        DataValidationError,
        match=r"feature b, field 'trees': tree count -3 is "
        r"negative; give the number of trees planted",
    ):
        canopy_share(
            gpd.GeoDataFrame({"id": ["q"]}, geometry=[box(X, Y, X + 9, Y + 9)], crs=2154), trees=ok
        )


def test_canopy_needs_a_source(quartiers: gpd.GeoDataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"pass raster=\.\.\. or trees=\.\.\."):
        canopy_share(quartiers)


# --- de-sealing ----------------------------------------------------------------------------------


@pytest.fixture
def desealed() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site": ["yard 1", "car park", "yard 1 ext", "far"],
            "site_type": ["cour d'école", "parking", "school_yard", "square"],
            "year": [2023, 2024, 2024, 2024],
            "area": [1, 1, 1, 1],  # wrong on purpose: areas come from the geometry
        },
        geometry=[
            box(X + 10, Y + 10, X + 30, Y + 30),  # 400 m² in Alpha
            box(X + 95, Y + 40, X + 105, Y + 60),  # 200 m², half in each quartier
            box(X + 20, Y + 10, X + 40, Y + 30),  # 400 m², 200 m² overlapping yard 1
            box(X + 900, Y, X + 910, Y + 10),  # outside both
        ],
        crs=2154,
    )


def test_desealing_summary(desealed: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame) -> None:
    s = desealing_summary(
        desealed.to_crs(4326), quartiers, impervious=pd.Series({"QA": 0.5, "QB": 0.005})
    )
    a = s.loc["QA"]
    assert a.loc[("school_yard", 2023), "desealed_m2"] == pytest.approx(400, rel=1e-6)
    assert a.loc[("school_yard", 2024), "desealed_m2"] == pytest.approx(400, rel=1e-6)
    assert a.loc[("car_park", 2024), "desealed_m2"] == pytest.approx(100, rel=1e-6)
    tot = a.loc[("all", "all")]
    # union: 400 + (400 - 200 overlap) + 100
    assert tot["desealed_m2"] == pytest.approx(700, rel=1e-6)
    assert tot["n_sites"] == 3
    assert tot["share_of_quartier"] == pytest.approx(0.07, rel=1e-6)
    assert tot["impervious_after_estimate"] == pytest.approx(0.43, rel=1e-6)
    assert tot["change_pp"] == pytest.approx(-7.0, rel=1e-6)
    assert np.isnan(a.loc[("car_park", 2024), "impervious_after_estimate"])
    b = s.loc[("QB", "all", "all")]
    assert b["desealed_m2"] == pytest.approx(100, rel=1e-6)
    assert b["impervious_after_estimate"] == 0.0  # 0.005 - 0.01, clipped at 0
    assert b["change_pp"] == pytest.approx(-0.5)
    assert s.attrs["outside_sites"] == ["far"]
    assert s.attrs["outside_m2"] == pytest.approx(100, rel=1e-6)


def test_desealing_with_raster_and_no_grouping(
    tmp_path: Path, desealed: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame
) -> None:
    p = write_raster(tmp_path / "imd.tif", np.full((10, 20), 60, dtype="uint8"))
    s = desealing_summary(desealed, quartiers, by=None, impervious=p)
    assert list(s.index) == ["QA", "QB"]
    assert s.loc["QA", "impervious_before"] == pytest.approx(0.6)
    assert s.loc["QA", "impervious_after_estimate"] == pytest.approx(0.53)
    assert s.loc["QB", "impervious_after_estimate"] == pytest.approx(0.59)


def test_desealing_bad_input(desealed: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"field 'budget': cannot group by 'budget'"):
        desealing_summary(desealed, quartiers, by="budget")
    with pytest.raises(DataValidationError, match=r"feature QB: no sealed share given"):
        desealing_summary(desealed, quartiers, impervious=pd.Series({"QA": 0.5}))


# --- trees -------------------------------------------------------------------------------------


def test_tree_summary(quartiers: gpd.GeoDataFrame) -> None:
    t = gpd.GeoDataFrame(
        {
            "trees": [6, 2, 2, 5],
            "species": ["Tilia cordata", "Tilia platyphyllos", "Acer campestre", "Acer rubrum"],
            "year": [2023, 2023, 2024, 2024],
        },
        geometry=[
            Point(X + 10, Y + 10),
            Point(X + 20, Y + 10),
            Point(X + 30, Y + 10),
            Point(X + 500, Y + 500),
        ],  # the last is outside
        crs=2154,
    )
    s = tree_summary(t, quartiers)
    tot = s.loc[("QA", "all")]
    assert tot["trees"] == 10 and tot["plantings"] == 3
    assert tot["trees_per_ha"] == pytest.approx(10, rel=1e-6)  # 1 ha quartier
    assert tot["trees_per_1000_inhabitants"] == pytest.approx(20)  # 10 / 500 x 1000
    assert tot["n_species"] == 3
    assert tot["top_species"] == "Tilia cordata" and tot["top_species_share"] == 0.6
    assert tot["top_genus"] == "Tilia" and tot["top_genus_share"] == 0.8
    assert tot["top_family"] == "Malvaceae" and tot["top_family_share"] == 0.8
    assert not tot["meets_10_20_30"]
    y23 = s.loc[("QA", 2023)]
    assert y23["trees"] == 8 and y23["n_species"] == 2
    assert s.loc[("QB", "all"), "trees"] == 0
    assert s.attrs["trees_outside"] == 5
    pop = tree_summary(t, quartiers, by=None, population=pd.Series({"QA": 2000, "QB": 10}))
    assert pop.loc["QA", "trees_per_1000_inhabitants"] == pytest.approx(5)


def test_10_20_30_rule(quartiers: gpd.GeoDataFrame) -> None:
    species = [
        "Acer campestre",
        "Acer platanoides",
        "Tilia cordata",
        "Tilia tomentosa",
        "Quercus robur",
        "Quercus petraea",
        "Prunus avium",
        "Prunus padus",
        "Ginkgo biloba",
        "Platanus orientalis",
    ]
    pts = [Point(X + 5 + 9 * i, Y + 50) for i in range(10)]
    t = gpd.GeoDataFrame({"species": species}, geometry=pts, crs=2154)
    # every species 10 %, every genus <= 20 %, every family <= 20 %: passes
    s = tree_summary(t, quartiers, by=None)
    assert s.loc["QA", "top_species_share"] == 0.1 and s.loc["QA", "top_genus_share"] == 0.2
    assert s.loc["QA", "meets_10_20_30"]
    # one more lime: Tilia 3/11 > 20 %
    t2 = pd.concat(
        [
            t,
            gpd.GeoDataFrame(
                {"species": ["Tilia platyphyllos"]}, geometry=[Point(X + 5, Y + 60)], crs=2154
            ),
        ]
    )
    t2 = t2.reset_index(drop=True)
    assert not tree_summary(t2, quartiers, by=None).loc["QA", "meets_10_20_30"]
    # a genus of unknown family, known families under 30 %: undecided, not "passes"
    t3 = t.assign(species=[*species[:9], "Xyzzy alba"])
    assert pd.isna(tree_summary(t3, quartiers, by=None).loc["QA", "meets_10_20_30"])


# --- 3-30-300 ----------------------------------------------------------------------------------


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
    parks = gpd.GeoDataFrame(
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
    return {"homes": homes, "trees": trees, "parks": parks, "quartiers": quartiers}


def test_rule_3_30_300_hand_case(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    c = rule_case
    r = rule_3_30_300(
        c["homes"], trees=c["trees"], green_spaces=c["parks"], quartiers=c["quartiers"]
    )
    res = r.residences
    assert list(res["trees_within"]) == [3, 0, 0]
    # the wood (radius 150 m, 100 m away) lies inside H1's 250 m disc: 150² / 250² = 36 %
    # (both discs are 64-gons, so the ratio is exact); the 3 small crowns add 28 m²
    small = (math.pi * 1.5**2 * 2 + 2 * math.pi * 1.5**2) * polygon_disc_ratio(16)
    disc = math.pi * 250**2 * polygon_disc_ratio(16)
    assert res.loc["H1", "canopy_share"] == pytest.approx(0.36 + small / disc, rel=1e-3)
    assert res.loc["H2", "canopy_share"] == 0.0
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
    assert q.loc["QA", "share_meets_3"] == pytest.approx(10 / 18.8)
    assert q.loc["QA", "share_meets_300"] == pytest.approx(1.0)
    assert q.loc["QB", "share_meets_3_30_300"] == 0.0
    assert q.loc["all", "residents"] == pytest.approx(23.8)
    assert q.loc["all", "share_meets_3_30_300"] == pytest.approx(10 / 23.8)
    # without merging, the two squares are each below 0.5 ha: H2 now fails "300"
    r2 = rule_3_30_300(c["homes"], trees=c["trees"], green_spaces=c["parks"], merge_adjacent=False)
    assert not r2.residences.loc["H2", "meets_300"]
    assert list(r2.quartiers.index) == ["all"]


def test_rule_3_30_300_with_canopy_raster(
    tmp_path: Path, rule_case: dict[str, gpd.GeoDataFrame]
) -> None:
    # 70 % tree cover west of x = X, 0 east of it; raster 3.4 km x 600 m
    v = np.zeros((60, 340), dtype="uint8")
    v[:, :30] = 70
    p = write_raster(tmp_path / "tcd.tif", v, x0=X - 300, ytop=Y + 300)
    c = rule_case
    r = rule_3_30_300(c["homes"], trees=c["trees"], canopy=p, green_spaces=c["parks"])
    res = r.residences
    # H1's disc is cut in half by x = X: 0.5 x 70 % = 35 %
    assert res.loc["H1", "canopy_share"] == pytest.approx(0.35, rel=1e-6)
    assert res.loc["H3", "canopy_share"] == 0.0
    assert list(res["meets_30"]) == [True, False, False]
    r2 = rule_3_30_300(
        c["homes"], trees=c["trees"], canopy=p, green_spaces=c["parks"], min_canopy_share=0.4
    )
    assert not r2.residences["meets_30"].any()


def _proximity_landed() -> bool:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "src/cdv_geo/proximity.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(out.stdout.strip())


@pytest.mark.skipif(not _proximity_landed(), reason="cdv_geo.metrics.access not committed yet")
def test_rule_3_30_300_over_the_network(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    from shapely import LineString

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
    # with a 500 m threshold it passes; in a straight line the park was 200 m away
    r2 = rule_3_30_300(
        homes,
        trees=c["trees"],
        green_spaces=c["parks"].iloc[[0]],
        network=net,
        park_distance_m=500,
    )
    assert r2.residences.loc["H1", "meets_300"]


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
    parks = gpd.GeoDataFrame(
        {"name": ["Parc", "Square", "Privé"], "public": [True, "oui", "non"]},
        geometry=[
            box(X + 250, Y - 50, X + 350, Y + 50),  # 1 ha: 240 m from home 1, 250 m from 2
            box(X + 700, Y + 0, X + 780, Y + 80),  # 0.64 ha: 100 m from home 2
            box(X + 1700, Y - 200, X + 1900, Y + 200),  # 8 ha, private, around home 3
        ],
        crs=2154,
    )
    a = green_space_access(homes, parks, q)
    res = a.residences
    assert res.loc["1", "green_1ha_distance_m"] == pytest.approx(240)
    assert res.loc["2", "green_0_5ha_distance_m"] == pytest.approx(100)
    assert res.loc["2", "green_1ha_distance_m"] == pytest.approx(250)
    assert list(res["green_0_5ha"]) == [True, True, False]
    assert list(res["green_1ha"]) == [True, True, False]
    assert a.quartiers.loc["Q1", "share_green_0_5ha"] == pytest.approx(0.4)
    assert a.quartiers.loc["all", "share_green_1ha"] == pytest.approx(0.4)
    strict = green_space_access(homes, parks, q, distance_m=245, min_area_ha=1.0)
    assert list(strict.residences["green_1ha"]) == [True, False, False]
    assert strict.quartiers.loc["Q1", "share_green_1ha"] == pytest.approx(0.3)
    everyone = green_space_access(homes, parks, q, public_only=False)
    assert everyone.residences.loc["3", "green_1ha_distance_m"] == 0.0


def test_inputs_not_modified(rule_case: dict[str, gpd.GeoDataFrame]) -> None:
    c = rule_case
    copies = {k: v.copy() for k, v in c.items()}
    rule_3_30_300(c["homes"], trees=c["trees"], green_spaces=c["parks"], quartiers=c["quartiers"])
    green_space_access(c["homes"], c["parks"], c["quartiers"])
    for k in c:
        pd.testing.assert_frame_equal(c[k], copies[k])


# --- the demo -----------------------------------------------------------------------------------


def test_demo_rasters_cover_the_quartiers() -> None:
    import cdv_geo as cg

    t = cg.datasets.soissons()
    assert set(t.rasters) >= {"impervious_2018", "impervious_2024", "canopy_2024"}
    ch = impervious_change(t.quartiers, t.rasters["impervious_2018"], t.rasters["impervious_2024"])
    assert ch["impervious_before"].between(0.2, 0.9).all()
    assert (ch["reason"] == "").all()
    for name in ("impervious_2018", "impervious_2024", "canopy_2024"):
        path = t.rasters[name]
        assert path.stat().st_size < 300_000
        with rasterio.open(path) as ds:
            assert ds.crs.to_epsg() == 2154 and ds.res == (10.0, 10.0)
            assert ds.dtypes[0] == "uint8" and ds.nodata == 255
            assert ds.profile["tiled"] and ds.overviews(1)
