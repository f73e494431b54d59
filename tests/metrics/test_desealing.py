"""De-sealed areas per quartier, on boxes whose areas are known by hand."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box, intersection, union_all

from cdv_geo.core.errors import CRSError, DataValidationError, LayerTypeError
from cdv_geo.metrics.desealing import REASON_NO_BEFORE, desealing_summary
from cdv_geo.testing import assert_metric_table

from .renat_helpers import X, Y, three_quartiers, two_quartiers, write_raster


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return two_quartiers()


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
    assert_metric_table(s, quartiers, levels=("site_type", "year"))
    a = s.loc["QA"]
    assert a.loc[("school_yard", 2023), "desealed_m2"] == pytest.approx(400, rel=1e-6)
    assert a.loc[("school_yard", 2024), "desealed_m2"] == pytest.approx(400, rel=1e-6)
    assert a.loc[("car_park", 2024), "desealed_m2"] == pytest.approx(100, rel=1e-6)
    tot = a.loc[("all", "all")]
    # union: 400 + (400 - 200 overlap) + 100
    assert tot["desealed_m2"] == pytest.approx(700, rel=1e-6)
    assert tot["n_sites"] == 3
    assert tot["quartier_area_m2"] == pytest.approx(10_000, rel=1e-6)
    assert tot["desealed_share"] == pytest.approx(0.07, rel=1e-6)
    assert tot["impervious_before_share"] == 0.5
    assert tot["impervious_after_share"] == pytest.approx(0.43, rel=1e-6)
    assert tot["impervious_change_pp"] == pytest.approx(-7.0, rel=1e-6)
    assert np.isnan(a.loc[("car_park", 2024), "impervious_after_share"])
    assert "total row" in a.loc[("car_park", 2024), "reason"]
    b = s.loc[("QB", "all", "all")]
    assert b["desealed_m2"] == pytest.approx(100, rel=1e-6)  # its half of the car park
    # ...but the car park counts whole in one quartier: a tie of areas goes to the smaller code
    assert b["n_sites"] == 0
    assert b["impervious_after_share"] == 0.0  # 0.005 - 0.01, clipped at 0
    assert b["impervious_change_pp"] == pytest.approx(-0.5)
    # the qpv row holds the sites in the quartiers' union: the car park whole, not the far square
    qpv = s.loc[("qpv", "all", "all")]
    assert qpv["name"] == "Ensemble des QPV"
    assert qpv["desealed_m2"] == pytest.approx(400 + 200 + 200, rel=1e-6)
    assert qpv["n_sites"] == 3
    assert qpv["quartier_area_m2"] == pytest.approx(20_000, rel=1e-6)
    assert qpv["desealed_share"] == pytest.approx(800 / 20_000, rel=1e-6)
    # no sealed share of the qpv row was given: NaN, said
    assert np.isnan(qpv["impervious_after_share"]) and qpv["reason"] == REASON_NO_BEFORE
    assert s.loc[("qpv", "square", 2024), "desealed_m2"] == 0.0
    assert s.loc[("QA", "square", 2024), "desealed_m2"] == 0.0
    assert "commune" not in s.index.get_level_values(0)


def test_yard_straddling_three_quartiers() -> None:
    """A yard over a triple point: its m² are split, its count goes to the largest part (QC)."""
    q = three_quartiers()  # QC north, QB south-east, QA south-west; triple point (X+100, Y+100)
    yard = gpd.GeoDataFrame(
        {"site": ["cour"], "site_type": ["school_yard"], "year": [2024]},
        geometry=[box(X + 80, Y + 90, X + 130, Y + 110)],  # 50 m x 20 m = 1,000 m²
        crs=2154,
    )
    s = desealing_summary(yard, q, by=None)
    assert_metric_table(s, q)
    assert s.loc["QA", "desealed_m2"] == pytest.approx(20 * 10)
    assert s.loc["QB", "desealed_m2"] == pytest.approx(30 * 10)
    assert s.loc["QC", "desealed_m2"] == pytest.approx(50 * 10)
    assert s.loc["qpv", "desealed_m2"] == pytest.approx(1_000)
    assert s["n_sites"].to_dict() == {"QC": 1, "QB": 0, "QA": 0, "qpv": 1}
    assert s.loc["QC", "desealed_share"] == pytest.approx(500 / 20_000)


def test_desealing_with_raster_and_no_grouping(
    tmp_path: Path, desealed: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame
) -> None:
    p = write_raster(tmp_path / "imd.tif", np.full((10, 20), 60, dtype="uint8"))
    s = desealing_summary(desealed, quartiers, by=None, impervious=p)
    assert_metric_table(s, quartiers)
    assert list(s.index) == ["QA", "QB", "qpv"]
    assert s.loc["QA", "impervious_before_share"] == pytest.approx(0.6)
    assert s.loc["QA", "impervious_after_share"] == pytest.approx(0.53)
    assert s.loc["QB", "impervious_after_share"] == pytest.approx(0.59)
    # the union: 800 m² de-sealed in 20,000 m² at 60 %
    assert s.loc["qpv", "impervious_after_share"] == pytest.approx(0.6 - 0.04)


def test_desealing_commune_rows(
    tmp_path: Path, desealed: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame
) -> None:
    town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[box(X, Y, X + 1_000, Y + 100)], crs=2154)
    more = gpd.GeoDataFrame(
        {"site": ["border", "neighbour"], "site_type": ["square", "square"], "year": [2024] * 2},
        geometry=[
            box(X + 995, Y, X + 1_005, Y + 10),  # 100 m², exactly half inside the commune
            box(X + 2_000, Y, X + 2_010, Y + 10),  # the next commune's
        ],
        crs=2154,
    )
    sites = pd.concat([desealed, more], ignore_index=True)
    p = write_raster(tmp_path / "imd.tif", np.full((10, 200), 60, dtype="uint8"))
    s = desealing_summary(sites, quartiers, by=None, impervious=p, communes=town)
    assert_metric_table(s, quartiers)
    assert list(s.index) == ["QA", "QB", "qpv", "commune", "hors_qpv"]
    # commune: the quartiers' 800 m², the far square's 100 and the border site's half; the
    # neighbour's square never counts
    assert s.loc["commune", "desealed_m2"] == pytest.approx(800 + 100 + 50)
    assert s.loc["hors_qpv", "desealed_m2"] == pytest.approx(100 + 50)
    assert s.loc["qpv", "desealed_m2"] == pytest.approx(800)
    # counts: the border site has half its area inside, so the commune counts it (limit
    # inclusive); the neighbour's does not
    assert s["n_sites"].to_dict() == {"QA": 3, "QB": 0, "qpv": 3, "commune": 5, "hors_qpv": 2}
    assert s.loc["commune", "quartier_area_m2"] == pytest.approx(100_000)
    assert s.loc["hors_qpv", "quartier_area_m2"] == pytest.approx(80_000)
    assert s.loc["hors_qpv", "desealed_share"] == pytest.approx(150 / 80_000)
    # the sealed share before, measured on each row's polygon: 60 % everywhere
    assert s.loc["hors_qpv", "impervious_after_share"] == pytest.approx(0.6 - 150 / 80_000)
    assert s.loc["commune", "impervious_change_pp"] == pytest.approx(-100 * 950 / 100_000)
    # broken down by site type and year, every row still follows the contract
    long = desealing_summary(sites, quartiers, communes=town)
    assert_metric_table(long, quartiers, levels=("site_type", "year"))
    assert long.loc[("hors_qpv", "square", 2024), "desealed_m2"] == pytest.approx(150)
    assert long.loc[("commune", "school_yard", 2023), "desealed_m2"] == pytest.approx(400)
    # the quartier rows keep their values
    plain = desealing_summary(sites, quartiers, by=None, impervious=p)
    pd.testing.assert_frame_equal(s.loc[["QA", "QB", "qpv"]], plain)
    # a site just outside the commune (less than half inside) is left out of the count
    shifted = more.assign(geometry=[box(X + 996, Y, X + 1_006, Y + 10), more.geometry.iloc[1]])
    t = desealing_summary(shifted, quartiers, by=None, communes=town)
    assert t.loc["commune", "n_sites"] == 0
    assert t.loc["commune", "desealed_m2"] == pytest.approx(40)


def test_desealing_in_3949(desealed: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame) -> None:
    q49 = quartiers.to_crs(3949)
    s = desealing_summary(desealed, q49, by=None, crs="EPSG:3949")
    qa = q49.geometry.iloc[0]
    # the union of the parts inside Alpha, reprojected by pyproj and measured by shapely
    expected = union_all(intersection(desealed.to_crs(3949).geometry.to_numpy(), qa)).area
    assert s.loc["QA", "quartier_area_m2"] == pytest.approx(qa.area, rel=1e-9)
    assert s.loc["QA", "desealed_m2"] == pytest.approx(expected, rel=1e-9)
    assert abs(qa.area - 10_000) > 5  # not the Lambert-93 area
    assert abs(expected - 700) > 0.3


def test_desealing_bad_input(desealed: gpd.GeoDataFrame, quartiers: gpd.GeoDataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"field 'budget': cannot group by 'budget'"):
        desealing_summary(desealed, quartiers, by="budget")
    with pytest.raises(DataValidationError, match=r"feature QB: no sealed share given"):
        desealing_summary(desealed, quartiers, impervious=pd.Series({"QA": 0.5}))
    with pytest.raises(LayerTypeError, match=r"^desealed_areas must be a GeoDataFrame"):
        desealing_summary(pd.DataFrame(desealed.drop(columns="geometry")), quartiers)
    with pytest.raises(CRSError, match=r"^quartiers layer has no coordinate reference system"):
        desealing_summary(desealed, quartiers.set_crs(None, allow_override=True))
    with pytest.raises(DataValidationError, match=r"desealed_areas layer is empty"):
        desealing_summary(desealed.iloc[:0], quartiers)
    with pytest.raises(DataValidationError, match=r"takes polygon geometries"):
        desealing_summary(desealed.assign(geometry=desealed.centroid), quartiers)
