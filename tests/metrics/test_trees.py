"""Crowns, canopy and the account of trees planted, on cases computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from cdv_geo.core.errors import CRSError, DataValidationError, LayerTypeError, RasterError
from cdv_geo.metrics.species import CROWN_DIAMETERS_M, DEFAULT_CROWN_DIAMETER_M
from cdv_geo.metrics.trees import canopy_share, tree_crowns, tree_summary
from cdv_geo.schema import validate
from cdv_geo.testing import assert_metric_table

from .renat_helpers import (
    X,
    Y,
    lens,
    polygon_disc_ratio,
    three_quartiers,
    two_quartiers,
    write_raster,
)


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return two_quartiers()


# --- canopy --------------------------------------------------------------------------------------


def test_canopy_share_from_raster(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    v = np.zeros((10, 20), dtype="uint8")
    v[:5, :10] = 60  # northern half of Alpha at 60 %
    c = canopy_share(quartiers, write_raster(tmp_path / "tcd.tif", v))
    assert_metric_table(c, quartiers)
    assert c.loc["QA", "canopy_share"] == pytest.approx(0.3)
    assert c.loc["QA", "canopy_m2"] == pytest.approx(3_000)
    assert c.loc["QB", "canopy_share"] == 0.0
    assert c.loc["qpv", "canopy_m2"] == pytest.approx(3_000)
    assert c.loc["qpv", "canopy_share"] == pytest.approx(0.15)
    assert (c["source"] == "raster").all()
    # the commune: the quartiers and a 1 ha strip east of them, 50 % covered on its east
    # half only; the raster's pixels outside the commune (100 %) never count
    v = np.zeros((10, 40), dtype="uint8")
    v[:5, :10] = 60
    v[:, 25:30] = 100
    v[:, 30:] = 100
    town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(X, Y, X + 300, Y + 100)], crs=2154)
    ct = canopy_share(quartiers, write_raster(tmp_path / "tcd2.tif", v), communes=town)
    assert_metric_table(ct, quartiers)
    assert list(ct.index) == ["QA", "QB", "qpv", "commune", "hors_qpv"]
    assert ct.loc["hors_qpv", "canopy_m2"] == pytest.approx(5_000)
    assert ct.loc["hors_qpv", "canopy_share"] == pytest.approx(0.5)
    assert ct.loc["commune", "canopy_m2"] == pytest.approx(8_000)
    assert ct.loc["commune", "canopy_share"] == pytest.approx(8_000 / 30_000)
    assert ct.loc["QA", "canopy_share"] == pytest.approx(0.3)


def test_overlapping_crowns_counted_once() -> None:
    r, d = 5.0, 6.0
    trees = gpd.GeoDataFrame(
        {"crown_diameter_m": [2 * r, 2 * r]},
        geometry=[Point(X + 50, Y + 50), Point(X + 50 + d, Y + 50)],
        crs=2154,
    )
    whole = box(X, Y, X + 100, Y + 100)
    west = box(X, Y, X + 50 + d / 2, Y + 100)  # up to the crowns' axis of symmetry
    polys = gpd.GeoDataFrame({"code": ["whole", "west"]}, geometry=[whole, west], crs=2154)
    q = 64
    c = canopy_share(polys, trees=trees, quad_segs=q)
    assert_metric_table(c, polys)
    union = 2 * math.pi * r**2 - lens(r, r, d)
    expected = union * polygon_disc_ratio(q)  # the discs are 256-gons: 0.01 % smaller
    assert c.loc["whole", "canopy_m2"] == pytest.approx(expected, rel=1e-4)
    assert c.loc["whole", "canopy_m2"] == pytest.approx(union, rel=2e-4)
    assert c.loc["west", "canopy_m2"] == pytest.approx(expected / 2, rel=1e-4)
    assert c.loc["whole", "canopy_share"] == pytest.approx(expected / 10_000, rel=1e-4)
    # the qpv row is the union of the two (west lies inside whole): counted once
    assert c.loc["qpv", "canopy_m2"] == pytest.approx(expected, rel=1e-4)
    assert "nodata_share" not in c.columns
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
    # crowns are built in the metric CRS asked for
    assert tree_crowns(t, crs="EPSG:3949").crs.to_epsg() == 3949


def test_negative_tree_counts() -> None:
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


def test_canopy_bad_inputs(tmp_path: Path, quartiers: gpd.GeoDataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"pass raster=\.\.\. or trees=\.\.\."):
        canopy_share(quartiers)
    with pytest.raises(LayerTypeError, match=r"^quartiers must be a GeoDataFrame, not DataFrame"):
        canopy_share(pd.DataFrame({"code": ["QA"]}), trees=quartiers)
    trees = gpd.GeoDataFrame(geometry=[Point(X, Y)])
    with pytest.raises(CRSError, match=r"^trees layer has no coordinate reference system"):
        canopy_share(quartiers, trees=trees)
    with pytest.raises(LayerTypeError, match=r"^trees must be a GeoDataFrame, not list"):
        tree_crowns([Point(X, Y)])
    with pytest.raises(DataValidationError, match=r"takes point geometries"):
        tree_crowns(quartiers)
    far = write_raster(tmp_path / "far.tif", np.zeros((5, 5), dtype="uint8"), x0=X + 50_000)
    with pytest.raises(RasterError, match=r"far\.tif does not overlap any of the 3 polygons"):
        canopy_share(quartiers, far)


# --- trees planted -------------------------------------------------------------------------------


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
    assert_metric_table(s, quartiers, levels=("year",))
    tot = s.loc[("QA", "all")]
    assert tot["n_trees"] == 10 and tot["n_plantings"] == 3
    assert tot["trees_per_ha"] == pytest.approx(10, rel=1e-6)  # 1 ha quartier
    assert tot["trees_per_1000_inhabitants"] == pytest.approx(20)  # 10 / 500 x 1000
    assert tot["n_species"] == 3
    assert tot["top_species"] == "Tilia cordata" and tot["top_species_share"] == 0.6
    assert tot["top_genus"] == "Tilia" and tot["top_genus_share"] == 0.8
    assert tot["top_family"] == "Malvaceae" and tot["top_family_share"] == 0.8
    assert not tot["meets_10_20_30"]
    y23 = s.loc[("QA", 2023)]
    assert y23["n_trees"] == 8 and y23["n_species"] == 2
    assert s.loc[("QB", "all"), "n_trees"] == 0
    assert s.loc[("QB", 2023), "n_trees"] == 0  # every quartier in every year
    # the qpv row counts the trees in some quartier: not the 5 outside
    assert s.loc[("qpv", "all"), "n_trees"] == 10
    assert s.loc[("qpv", 2024), "n_trees"] == 2
    assert s.loc[("qpv", "all"), "trees_per_ha"] == pytest.approx(10 / 2)  # 2 ha together
    # 500 + 200 inhabitants (the quartiers' official figures): 10 / 700 x 1000
    assert s.loc[("qpv", "all"), "trees_per_1000_inhabitants"] == pytest.approx(10_000 / 700)
    assert (s["population_source"] == "official").all()
    assert "commune" not in s.index.get_level_values(0)
    plain = s.xs("all", level="year")
    assert_metric_table(plain, quartiers)
    pop = tree_summary(t, quartiers, by=None, population=pd.Series({"QA": 2000, "QB": 10}))
    assert_metric_table(pop, quartiers)
    assert pop.loc["QA", "trees_per_1000_inhabitants"] == pytest.approx(5)
    # a quartier without inhabitants: NaN per 1,000 with a reason, never a division by zero
    nopop = tree_summary(t, quartiers, by=None, population=pd.Series({"QA": 2000, "QB": 0}))
    assert np.isnan(nopop.loc["QB", "trees_per_1000_inhabitants"])
    assert "population unknown" in nopop.loc["QB", "reason"]


def test_border_and_triple_point_trees() -> None:
    """A tree on a shared border or a triple point counts once, in the smallest code."""
    q = three_quartiers()  # layer order QC, QB, QA
    t = gpd.GeoDataFrame(
        {"trees": [1, 2, 4, 8, 16]},
        geometry=[
            Point(X + 100, Y + 50),  # border QA | QB -> QA
            Point(X + 150, Y + 100),  # border QB | QC -> QB
            Point(X + 100, Y + 100),  # triple point QA, QB, QC -> QA
            Point(X + 50, Y + 150),  # inside QC
            Point(X + 300, Y + 50),  # outside
        ],
        crs=2154,
    )
    s = tree_summary(t, q, by=None)
    assert_metric_table(s, q)
    assert list(s.index) == ["QC", "QB", "QA", "qpv"]
    assert s.loc["QA", "n_trees"] == 1 + 4
    assert s.loc["QB", "n_trees"] == 2
    assert s.loc["QC", "n_trees"] == 8
    assert s.loc["qpv", "n_trees"] == 15
    # every tree counted once: the quartiers make the qpv row
    assert s.loc[["QC", "QB", "QA"], "n_trees"].sum() == s.loc["qpv", "n_trees"]


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
    # every species exactly 10 %, every genus exactly 20 %: passes (the limits are inclusive)
    s = tree_summary(t, quartiers, by=None)
    assert_metric_table(s, quartiers)
    assert s.loc["QA", "top_species_share"] == 0.1 and s.loc["QA", "top_genus_share"] == 0.2
    assert s.loc["QA", "meets_10_20_30"]
    # one more lime: Tilia 3/11 > 20 %
    extra = gpd.GeoDataFrame(
        {"species": ["Tilia platyphyllos"]}, geometry=[Point(X + 5, Y + 60)], crs=2154
    )
    t2 = pd.concat([t, extra]).reset_index(drop=True)
    assert not tree_summary(t2, quartiers, by=None).loc["QA", "meets_10_20_30"]
    # a genus of unknown family, known families under 30 %: undecided, not "passes"
    t3 = t.assign(species=[*species[:9], "Xyzzy alba"])
    s3 = tree_summary(t3, quartiers, by=None)
    assert_metric_table(s3, quartiers)
    assert pd.isna(s3.loc["QA", "meets_10_20_30"])
    assert "undecided" in s3.loc["QA", "reason"]


def test_tree_summary_crs_and_bad_inputs(quartiers: gpd.GeoDataFrame) -> None:
    t = gpd.GeoDataFrame({"trees": [3]}, geometry=[Point(X + 10, Y + 10)], crs=2154)
    q49 = quartiers.to_crs(3949)
    s = tree_summary(t, q49, by=None, crs="EPSG:3949")
    ha = q49.geometry.area.iloc[0] / 1e4  # the quartier's area measured in CC49
    assert s.loc["QA", "trees_per_ha"] == pytest.approx(3 / ha, rel=1e-9)
    assert s.loc["QA", "trees_per_ha"] != pytest.approx(3.0, rel=1e-4)
    with pytest.raises(DataValidationError, match=r"field 'budget': cannot group by 'budget'"):
        tree_summary(t, quartiers, by="budget")
    with pytest.raises(DataValidationError, match=r"no column 'habitants' in quartiers"):
        tree_summary(t, quartiers, population="habitants")
    with pytest.raises(LayerTypeError, match=r"^tree_plantings must be a GeoDataFrame"):
        tree_summary(pd.DataFrame({"trees": [1]}), quartiers)
    with pytest.raises(LayerTypeError, match=r"^quartiers must be a GeoDataFrame, not NoneType"):
        tree_summary(t, None)
    with pytest.raises(DataValidationError, match=r"tree_plantings layer is empty"):
        tree_summary(t.iloc[:0], quartiers)


def _stock(rosaceae_prunus_avium: int, carpinus: int) -> tuple[pd.Series, np.ndarray]:
    """100 trees: every species <= 10 %, every genus <= 20 %; Rosaceae as asked."""
    rows = {
        "Prunus avium": rosaceae_prunus_avium,
        "Prunus padus": 8,
        "Malus sylvestris": 8,
        "Sorbus aucuparia": 8,  # Rosaceae
        "Tilia cordata": 10,
        "Tilia platyphyllos": 10,  # Malvaceae 20
        "Acer campestre": 10,
        "Aesculus hippocastanum": 10,  # Sapindaceae 20
        "Quercus robur": 10,
        "Fagus sylvatica": 8,  # Fagaceae 18
        "Betula pendula": 10,
        "Carpinus betulus": carpinus,  # Betulaceae
    }
    return pd.Series(list(rows)), np.array(list(rows.values()), dtype=float)


@pytest.mark.parametrize(
    ("prunus_avium", "carpinus", "family_share", "meets"),
    [
        (6, 2, 0.30, True),  # exactly 30 % of one family: inclusive, passes
        (8, 0, 0.32, False),  # 32 %: over the 30 % family limit (35 % would let it pass)
    ],
)
def test_10_20_30_family_limit_is_30_percent(prunus_avium, carpinus, family_share, meets):
    from cdv_geo.metrics.species import diversity

    species, counts = _stock(prunus_avium, carpinus)
    d = diversity(species, counts)
    assert d["top_family"] == "Rosaceae"
    assert d["top_family_share"] == pytest.approx(family_share)
    assert d["top_species_share"] <= 0.10 and d["top_genus_share"] <= 0.20
    assert d["meets_10_20_30"] is meets


def test_diversity_of_a_group_from_codes_parsed_once() -> None:
    from cdv_geo.metrics.species import diversity_of, species_codes

    species = pd.Series(
        ["Tilia cordata", "tilia  cordata ", "Acer campestre", None, "Quercus robur"]
    )
    codes = species_codes(species)
    d = diversity_of(codes, np.array([2, 1, 3, 4, 1]), np.array([True, True, True, True, False]))
    # Tilia cordata 3 trees, Acer campestre 3 (a tie: the first name), 4 of unknown species
    assert d["n_species"] == 2 and d["n_trees_species_unknown"] == 4.0
    assert (d["top_species"], d["top_species_share"]) == ("Acer campestre", 0.5)
    assert (d["top_genus"], d["top_genus_share"]) == ("Acer", 0.5)
    assert (d["top_family"], d["top_family_share"]) == ("Malvaceae", 0.5)
    assert d["meets_10_20_30"] is False
    # nothing selected with a known species: no top species
    none = diversity_of(
        codes, np.array([2, 1, 3, 4, 1]), np.array([False, False, False, True, False])
    )
    assert none["top_species"] is None and none["n_trees_species_unknown"] == 4.0
