"""Geographic sanity: a layer in the wrong CRS or off the territory is found, with the fix."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely import LineString, Point, box

from cdv_geo.schema.geography import (
    CANDIDATE_CRS,
    crs_candidates,
    geography_problems,
    network_problems,
    outside_area_of_use,
    reference_area,
)

# Presles-like quartier in Soissons, Lambert-93 metres
QX0, QY0, QX1, QY1 = 727000.0, 6919500.0, 731000.0, 6922500.0


def quartiers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["QP002012"], "name": ["Presles"]},
        geometry=[box(QX0, QY0, QX1, QY1)],
        crs=2154,
    )


def points(xy: list[tuple[float, float]], crs: object, source: str = "f.geojson"):
    g = gpd.GeoDataFrame(geometry=[Point(x, y) for x, y in xy], crs=crs)
    g.attrs["source"] = source
    return g


def test_candidates_are_the_usual_french_crs() -> None:
    assert CANDIDATE_CRS[:3] == (2154, 4326, 3035)
    assert set(range(3942, 3951)) <= set(CANDIDATE_CRS)
    assert {3857, 27572} <= set(CANDIDATE_CRS)


@pytest.mark.parametrize(
    ("bounds", "crs", "outside"),
    [
        ((QX0, QY0, QX1, QY1), 2154, False),
        ((QX0, QY0, QX1, QY1), 4326, True),  # Lambert-93 metres read as degrees
        ((3.30, 49.37, 3.35, 49.39), 4326, False),
        ((3.30, 49.37, 3.35, 49.39), 2154, True),  # degrees read as Lambert-93 metres
        ((QX0, QY0, QX1, QY1), 3035, True),  # Lambert-93 read as LAEA: south of Europe
        ((3_787_800, 2_957_400, 3_790_000, 2_960_000), 3035, False),  # a LAEA grid in France
    ],
)
def test_area_of_use_both_sides(bounds, crs, outside) -> None:
    assert outside_area_of_use(bounds, crs) is outside


def test_area_of_use_margin_both_sides() -> None:
    # EPSG:3949 (CC49) is used between 48° and 50° N; half a degree beyond is tolerated
    lat_ok, lat_far = 50.45, 50.55
    to_cc49 = Transformer.from_crs(4326, 3949, always_xy=True)
    x, y_ok = to_cc49.transform(3.3, lat_ok)
    _, y_far = to_cc49.transform(3.3, lat_far)
    assert not outside_area_of_use((x, y_ok, x + 10, y_ok + 10), 3949)
    assert outside_area_of_use((x, y_far, x + 10, y_far + 10), 3949)


def test_reference_is_the_quartiers_buffered() -> None:
    kind, area, crs = reference_area({"quartiers": quartiers()}, buffer_m=500)
    # a 4 km x 3 km rectangle widened by 500 m: 5 x 4 km minus the four rounded corners
    expected = 5000 * 4000 - (4 - 3.14159265) * 500**2
    assert kind == "quartiers" and crs.to_epsg() == 2154
    assert area.area == pytest.approx(expected, rel=1e-3)


def test_a_layer_within_walking_distance_passes_and_beyond_fails() -> None:
    # 700 m east of the quartier: inside the 750 m walk; 800 m: outside, 50 m beyond it
    near = points([(QX1 + 700, 6921000)], 2154)
    far = points([(QX1 + 800, 6921000)], 2154)
    assert geography_problems({"quartiers": quartiers(), "facilities": near}, buffer_m=750) == []
    (p,) = geography_problems({"quartiers": quartiers(), "facilities": far}, buffer_m=750)
    assert p.layer == "facilities" and p.file == "f.geojson"
    assert "0.1 km away from the quartiers" in p.message  # 50 m, rounded
    assert "no usual French CRS" in p.message


def test_a_layer_off_the_territory_gives_its_distance() -> None:
    far = points([(QX1 + 10_000, 6921000)], 2154, "arrets_laon.geojson")
    (p,) = geography_problems({"quartiers": quartiers(), "facilities": far}, buffer_m=750)
    assert "9.2 km away from the quartiers" in p.message  # 10 000 m - 750 m
    assert "1 feature, extent x 741,000 to 741,000" in p.message
    assert "check that it is the right file" in p.message


def test_lambert93_without_crs_is_read_as_degrees_and_the_fix_is_named() -> None:
    raw = points([(728500, 6920500), (729500, 6921500)], 4326, "equipements.geojson")
    (p,) = geography_problems({"quartiers": quartiers(), "facilities": raw})
    assert p.file == "equipements.geojson" and p.layer == "facilities"
    assert "coordinates outside the area where EPSG:4326" in p.message
    assert "extent x 728,500 to 729,500, y 6,920,500 to 6,921,500 in EPSG:4326" in p.message
    assert "fall on the quartiers if read as EPSG:2154" in p.message
    assert 'crs = "EPSG:2154"' in p.message


def test_a_cc49_file_declared_lambert93_is_recognised() -> None:
    to_cc49 = Transformer.from_crs(2154, 3949, always_xy=True)
    x, y = to_cc49.transform(729000, 6921000)
    raw = points([(x, y)], 2154)
    (p,) = geography_problems({"quartiers": quartiers(), "facilities": raw})
    assert "if read as EPSG:3949:" in p.message  # the one zone that fits, alone


def test_quartiers_in_the_wrong_crs_are_placed_by_the_other_layers() -> None:
    q = quartiers().set_crs(4326, allow_override=True)
    fac = points([(729000, 6921000)], 2154)
    (p,) = geography_problems({"quartiers": q, "facilities": fac})
    assert p.layer == "quartiers" and "fall on the other layers if read as EPSG:2154" in p.message


def test_crs_candidates_excludes_the_declared_one() -> None:
    area = box(QX0, QY0, QX1, QY1)
    assert crs_candidates((QX0, QY0, QX1, QY1), area, quartiers().crs) == ["EPSG:2154"]
    assert crs_candidates((QX0, QY0, QX1, QY1), area, quartiers().crs, exclude=2154) == []


def test_two_network_sources_are_an_error() -> None:
    streets = gpd.GeoDataFrame(geometry=[LineString([(QX0 - 100, QY0), (QX1 + 100, QY1)])])
    streets = streets.set_crs(2154)
    streets.attrs["source"] = "/data/voies.geojson"
    ps = network_problems({"streets": streets}, {"osm_xml": ("/data/extrait.osm", None)})
    assert len(ps) == 1
    assert "two sources for the walking network" in ps[0].message
    assert "voies.geojson" in ps[0].message and "osm_xml = extrait.osm" in ps[0].message
    assert network_problems({"streets": streets}, {}) == []


def test_a_network_extract_must_cover_every_quartier_both_sides() -> None:
    to_ll = Transformer.from_crs(2154, 4326, always_xy=True)
    # an extract reaching 200 m beyond the quartier on each side covers it
    w, s, e, n = to_ll.transform_bounds(QX0 - 200, QY0 - 200, QX1 + 200, QY1 + 200)
    assert network_problems({"quartiers": quartiers()}, {"osm_xml": ("a.osm", (w, s, e, n))}) == []
    # one stopping 1 km short of its eastern edge does not (beyond the 100 m tolerance)
    w, s, e, n = to_ll.transform_bounds(QX0 - 200, QY0 - 200, QX1 - 1000, QY1 + 200)
    (p,) = network_problems({"quartiers": quartiers()}, {"osm_xml": ("a.osm", (w, s, e, n))})
    assert p.file == "a.osm" and p.layer == "network"
    assert "covers only part of the territory: quartier(s) Presles (QP002012)" in p.message


def test_a_streets_layer_must_cover_every_quartier() -> None:
    short = gpd.GeoDataFrame(geometry=[LineString([(QX0, QY0), (QX0 + 1000, QY1)])], crs=2154)
    (p,) = network_problems({"quartiers": quartiers(), "streets": short}, {})
    assert p.layer == "streets" and "Presles (QP002012)" in p.message
    full = gpd.GeoDataFrame(geometry=[LineString([(QX0, QY0), (QX1, QY1)])], crs=2154)
    assert network_problems({"quartiers": quartiers(), "streets": full}, {}) == []


def test_a_layer_elsewhere_in_the_commune_passes_and_communes_must_meet_the_quartiers() -> None:
    commune = gpd.GeoDataFrame(
        {"code": ["02722"]},
        geometry=[box(QX0 - 5000, QY0 - 5000, QX1 + 5000, QY1 + 5000)],
        crs=2154,
    )
    # a de-sealed square in the town centre, 3 km from the quartier but in the commune
    centre = points([(QX1 + 3000, QY1 + 3000)], 2154)
    layers = {"quartiers": quartiers(), "communes": commune, "desealed_areas": centre}
    assert geography_problems(layers) == []
    assert len(geography_problems({"quartiers": quartiers(), "desealed_areas": centre})) == 1
    # beyond the commune (and its 750 m): off the territory, named against both
    out = points([(QX1 + 6000, QY1)], 2154)
    (p,) = geography_problems({**layers, "desealed_areas": out})
    assert "0.2 km away from the quartiers or communes" in p.message  # 1000 m - 750 m
    # a commune file of another town misses the quartiers
    laon = commune.set_geometry([box(QX1 + 30_000, QY0, QX1 + 31_000, QY1)], crs=2154)
    (p,) = geography_problems({"quartiers": quartiers(), "communes": laon})
    assert p.layer == "communes" and "away from the quartiers" in p.message
