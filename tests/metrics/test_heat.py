"""Heat exposure: exact zonal statistics against exactextract, hottest decile by hand."""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from exactextract import exact_extract
from rasterio.transform import from_origin
from shapely import Point, Polygon, box, union_all

from cdv_geo.core.errors import CdvGeoError, RasterError
from cdv_geo.metrics.heat import cool_places, heat_exposure
from cdv_geo.testing import assert_metric_table


@pytest.fixture
def heat_tif(tmp_path):
    """A 20 x 20 raster of 10 m pixels, values 20 + column + row / 10 (°C), one nodata pixel."""
    path = tmp_path / "lst.tif"
    values = 20 + np.arange(20)[None, :] + np.arange(20)[:, None] / 10.0
    values[5, 5] = -9999
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=20,
        height=20,
        count=1,
        dtype="float64",
        crs="EPSG:2154",
        transform=from_origin(700000, 6900200, 10, 10),
        nodata=-9999,
    ) as ds:
        ds.write(values, 1)
        ds.set_band_unit(1, "°C")
    return path


# an awkward polygon: a concave, slanted shape cutting pixels at odd fractions, and a hole
AWKWARD = Polygon(
    [(700013, 6900013), (700147, 6900031), (700081, 6900091), (700161, 6900177), (700023, 6900149)],
    holes=[[(700050, 6900050), (700070, 6900052), (700060, 6900070)]],
)
QUARTIERS = gpd.GeoDataFrame(
    {"code": ["QP2", "QP1"], "name": ["Awkward", "Corner"]},
    geometry=[AWKWARD, box(700150, 6900010, 700195, 6900060)],
    crs=2154,
)

#: The commune: the raster's whole extent
TOWN = gpd.GeoDataFrame(
    {"code": ["02722"]}, geometry=[box(700000, 6900000, 700200, 6900200)], crs=2154
)


def test_heat_statistics_equal_exactextract(heat_tif):
    out = heat_exposure(QUARTIERS, heat_tif)
    assert_metric_table(out.quartiers, QUARTIERS)
    with rasterio.open(heat_tif) as ds:
        ref = exact_extract(ds, QUARTIERS, ["mean", "quantile(q=0.9)"], output="pandas")
    assert out.quartiers.loc["QP2", "heat_mean"] == pytest.approx(ref["mean"][0], rel=1e-9)
    assert out.quartiers.loc["QP2", "heat_p90"] == pytest.approx(ref["quantile_90"][0], rel=1e-9)
    assert out.quartiers.loc["QP1", "heat_mean"] == pytest.approx(ref["mean"][1], rel=1e-9)
    assert list(out.quartiers.index) == ["QP2", "QP1", "qpv"]
    assert out.units == "°C"
    # without homes, the hottest decile starts at the 90th percentile of the valid pixels
    with rasterio.open(heat_tif) as ds:
        assert out.threshold == pytest.approx(
            np.quantile(ds.read(1, masked=True).compressed(), 0.9)
        )


def test_hottest_decile_by_hand(heat_tif):
    # homes on three pixels: the town's 90th percentile of valid pixels is computed by numpy
    homes = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "population": [10, 20, 30], "children": [1, 2, 5]},
        geometry=[Point(700015, 6900185), Point(700195, 6900005), Point(700185, 6900185)],
        crs=2154,
    )
    out = heat_exposure(QUARTIERS, heat_tif, residences=homes, communes=TOWN)
    # the hottest decile of the town's residents: from the hottest home down, 20 residents at
    # 40.9 °C already pass 10 % of the 60: the decile starts at 40.9 °C and holds home b only
    assert out.threshold == pytest.approx(40.9)
    # a: column 1 row 1 -> 21.1; b: column 19, row 19 -> 40.9; c: column 18, row 1 -> 38.1
    assert out.residences["heat"].tolist() == pytest.approx([21.1, 40.9, 38.1])
    hot = np.array([21.1, 40.9, 38.1]) >= 40.9
    assert out.residences["hottest_decile"].tolist() == hot.tolist()
    # the three homes lie in the commune, outside both quartiers
    for key in ("commune", "hors_qpv"):
        row = out.quartiers.loc[key]
        assert row["n_residents"] == 60
        assert row["hot_residents_share"] == pytest.approx(
            (np.array([10, 20, 30]) * hot).sum() / 60
        )
        assert row["hot_children_share"] == pytest.approx((np.array([1, 2, 5]) * hot).sum() / 8)
    qpv = out.quartiers.loc["qpv"]
    assert qpv["n_residents"] == 0 and np.isnan(qpv["hot_residents_share"])
    assert "no residents in this area" in qpv["reason"]
    assert_metric_table(out.quartiers, QUARTIERS)


def test_comparison_rows_equal_exactextract(heat_tif):
    """Each comparison row is measured on its own polygon, as exactextract measures it."""
    out = heat_exposure(QUARTIERS, heat_tif, communes=TOWN)
    t = out.quartiers
    assert_metric_table(t, QUARTIERS)
    assert list(t.index) == ["QP2", "QP1", "qpv", "commune", "hors_qpv"]
    union = union_all(QUARTIERS.geometry.to_numpy())
    shapes = gpd.GeoDataFrame(
        {"key": ["qpv", "commune", "hors_qpv"]},
        geometry=[union, TOWN.geometry.iloc[0], TOWN.geometry.iloc[0].difference(union)],
        crs=2154,
    )
    with rasterio.open(heat_tif) as ds:
        ref = exact_extract(ds, shapes, ["mean", "quantile(q=0.9)"], output="pandas")
    for i, key in enumerate(shapes["key"]):
        assert t.loc[key, "heat_mean"] == pytest.approx(ref["mean"][i], rel=1e-9), key
        assert t.loc[key, "heat_p90"] == pytest.approx(ref["quantile_90"][i], rel=1e-9), key
    # the quartier rows keep their values
    plain = heat_exposure(QUARTIERS, heat_tif).quartiers
    assert t.loc[["QP2", "QP1", "qpv"], "heat_mean"].tolist() == plain["heat_mean"].tolist()
    # without homes the hottest decile is the 90th percentile of the commune's valid pixels
    # (the commune is the raster's east half here)
    east = gpd.GeoDataFrame(geometry=[box(700100, 6900000, 700200, 6900200)], crs=2154)
    half = heat_exposure(QUARTIERS, heat_tif, communes=east)
    with rasterio.open(heat_tif) as ds:
        v = ds.read(1, masked=True)[:, 10:].compressed()
    assert half.threshold == pytest.approx(np.quantile(v, 0.9))


def test_territory_is_the_old_name_of_communes(heat_tif):
    with pytest.warns(DeprecationWarning, match="communes"):
        old = heat_exposure(QUARTIERS, heat_tif, territory=TOWN)
    new = heat_exposure(QUARTIERS, heat_tif, communes=TOWN)
    assert old.quartiers.equals(new.quartiers)
    with pytest.raises(ValueError, match="communes= only"):
        heat_exposure(QUARTIERS, heat_tif, communes=TOWN, territory=TOWN)


def test_raster_without_units_is_refused(tmp_path, heat_tif):
    path = tmp_path / "nounits.tif"
    with rasterio.open(heat_tif) as src:
        profile, data = src.profile, src.read()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(RasterError, match="no units"):
        heat_exposure(QUARTIERS, path)
    assert heat_exposure(QUARTIERS, path, units="°C").units == "°C"


def test_cool_places_keeps_cool_kinds_and_large_public_parks():
    fac = gpd.GeoDataFrame(
        {
            "id": ["1", "2", "3"],
            "name": ["AJE", "CCAS", "Fontaine"],
            "kind": ["water_play_area", "ccas", "fountain"],
        },
        geometry=[Point(700000, 6900000), Point(700005, 6900005), Point(700009, 6900009)],
        crs=2154,
    )
    parks = gpd.GeoDataFrame(
        {"id": ["p", "q", "r"], "name": ["big", "small", "private"], "public": [True, True, False]},
        # Lambert-93 over France: the metric CRS is the layer's own (5,000 m² stays 5,000 m²)
        geometry=[
            box(700000, 6900000, 700100, 6900050),
            box(700000, 6900000, 700010, 6900010),
            box(700000, 6900000, 700100, 6900100),
        ],
        crs=2154,
    )
    out = cool_places(fac, parks)
    assert out["id"].tolist() == ["fac:1", "fac:3", "park:p"]
    assert out["kind"].tolist() == ["water_play_area", "fountain", "green_space"]


def test_bad_quartiers():
    with pytest.raises(CdvGeoError, match="quartiers"):
        heat_exposure(QUARTIERS.drop(columns="geometry"), "x.tif")
