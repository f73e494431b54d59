"""facilities_from_osm on a small generated OSM extract (XML and PBF) and on a GeoDataFrame."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import osmium
import pandas as pd
import pytest
from pyproj import Geod
from shapely import LineString, Point

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.core.errors import LayerTypeError
from cdv_geo.io.osm import OSM_TAG_KINDS, facilities_from_osm, osm_kind

# Soissons, in degrees
LON, LAT = 3.3240, 49.3817

OSM_XML = f"""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="cdv_geo tests">
  <node id="1" lat="{LAT}" lon="{LON}" version="1">
    <tag k="amenity" v="pharmacy"/><tag k="name" v="Pharmacie de Presles"/>
  </node>
  <node id="2" lat="{LAT + 0.001}" lon="{LON}" version="1">
    <tag k="highway" v="bus_stop"/><tag k="name" v="Chevreux"/>
  </node>
  <node id="3" lat="{LAT}" lon="{LON + 0.001}" version="1"><tag k="amenity" v="bench"/></node>
  <node id="4" lat="{LAT + 0.002}" lon="{LON}" version="1"><tag k="shop" v="hairdresser"/></node>
  <node id="5" lat="{LAT + 0.003}" lon="{LON}" version="1">
    <tag k="amenity" v="school"/><tag k="school:FR" v="collège"/><tag k="name" v="Collège X"/>
  </node>
  <node id="10" lat="{LAT}" lon="{LON + 0.010}" version="1"/>
  <node id="11" lat="{LAT}" lon="{LON + 0.011}" version="1"/>
  <node id="12" lat="{LAT + 0.001}" lon="{LON + 0.011}" version="1"/>
  <node id="13" lat="{LAT + 0.001}" lon="{LON + 0.010}" version="1"/>
  <way id="100" version="1">
    <nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="10"/>
    <tag k="leisure" v="sports_hall"/><tag k="name" v="Gymnase de Chevreux"/>
  </way>
  <way id="101" version="1"><nd ref="10"/><nd ref="11"/><tag k="highway" v="footway"/></way>
</osm>
"""


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "soissons.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    return path


def check_layer(fac: gpd.GeoDataFrame) -> None:
    assert list(fac["kind"]) == [
        "pharmacy",
        "bus_stop",
        "hairdresser",
        "secondary_school",
        "sports",
    ]
    assert list(fac["name"])[:2] == ["Pharmacie de Presles", "Chevreux"]
    assert fac["name"].iloc[2] == "Hairdresser"  # no name tag: the kind's label
    assert list(fac["osm_id"]) == ["node/1", "node/2", "node/4", "node/5", "way/100"]
    assert fac["osm_tag"].iloc[4] == "leisure=sports_hall"
    first = fac.geometry.iloc[0]  # OSM stores 7 decimals
    assert (first.x, first.y) == (pytest.approx(LON, abs=1e-7), pytest.approx(LAT, abs=1e-7))
    hall = fac.geometry.iloc[4]
    assert hall.geom_type == "Polygon"
    # area of the 0.001° x 0.001° hall, measured on the ellipsoid as a reference
    lons = [LON + 0.010, LON + 0.011, LON + 0.011, LON + 0.010]
    lats = [LAT, LAT, LAT + 0.001, LAT + 0.001]
    ref = abs(Geod(ellps="GRS80").polygon_area_perimeter(lons, lats)[0])
    assert gpd.GeoSeries([hall], crs=4326).to_crs(2154).area.iloc[0] == pytest.approx(ref, 1e-3)


def test_osm_xml(osm_file: Path) -> None:
    with pytest.warns(CdvGeoWarning, match="1 facilities have no name"):
        fac = facilities_from_osm(osm_file)
    assert fac.crs.to_epsg() == 4326
    check_layer(fac)


def test_osm_pbf(osm_file: Path, tmp_path: Path) -> None:
    pbf = tmp_path / "soissons.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(osm_file)):
        writer.add(obj)
    writer.close()
    with pytest.warns(CdvGeoWarning):
        fac = facilities_from_osm(pbf, crs="EPSG:2154")
    assert fac.crs.to_epsg() == 2154
    check_layer(fac.to_crs(4326))


def test_osm_kinds_filter_and_errors(osm_file: Path, tmp_path: Path) -> None:
    fac = facilities_from_osm(osm_file, kinds=["pharmacy", "sports"])
    assert list(fac["name"]) == ["Pharmacie de Presles", "Gymnase de Chevreux"]
    with pytest.raises(DataValidationError, match=r"no OSM feature with a facility tag of kinds"):
        facilities_from_osm(osm_file, kinds=["library"])
    with pytest.raises(DataValidationError, match=r"missing\.osm.*does not exist"):
        facilities_from_osm(tmp_path / "missing.osm")


def test_osm_geodataframe_from_osmnx() -> None:
    gdf = gpd.GeoDataFrame(
        {
            "amenity": ["townhall", None, None, "parking"],
            "leisure": [None, "playground", None, None],
            "public_transport": [None, None, "platform", None],
            "bus": [None, None, "yes", None],
            "name": ["Mairie", None, "Presles", None],
        },
        geometry=[Point(LON, LAT), Point(LON, LAT), LineString([(0, 0), (2, 0)]), Point(0, 0)],
        crs=4326,
        index=[("node", 1), ("node", 2), ("way", 3), ("node", 4)],
    )
    with pytest.warns(CdvGeoWarning):
        fac = facilities_from_osm(gdf)
    assert list(fac["kind"]) == ["town_hall", "playground", "bus_stop"]
    assert list(fac["osm_id"]) == ["node/1", "node/2", "way/3"]
    assert fac.geometry.iloc[2].equals(Point(1, 0))  # a platform drawn as a line: its middle
    with pytest.raises(LayerTypeError, match="path_or_gdf"):
        facilities_from_osm(pd.DataFrame(gdf.drop(columns="geometry")))


def test_tag_table_is_documented() -> None:
    assert osm_kind({"leisure": "splash_pad"}) == ("water_play_area", "leisure=splash_pad")
    assert osm_kind({"public_transport": "platform"}) is None  # a tram platform
    assert osm_kind({"healthcare": "physiotherapist"}) == (
        "physiotherapist",
        "healthcare=physiotherapist",
    )
    assert all(isinstance(v, str) for table in OSM_TAG_KINDS.values() for v in table.values())


def _feature(props: dict, lon: float, lat: float, fid: str | None = None) -> dict:
    out = {"type": "Feature", "properties": props}
    out["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
    if fid is not None:
        out["id"] = fid
    return out


def _write_geojson(path: Path, features: list[dict]) -> Path:
    import json

    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def test_overpass_turbo_geojson_export(tmp_path: Path) -> None:
    # overpass-turbo "Export > GeoJSON": @id and the tags as properties
    path = _write_geojson(
        tmp_path / "export.geojson",
        [
            _feature(
                {"@id": "node/11", "amenity": "pharmacy", "name": "Pharmacie de Presles"},
                LON,
                LAT,
                "node/11",
            ),
            _feature({"@id": "node/12", "highway": "bus_stop", "name": "Chevreux"}, LON, LAT),
            _feature({"@id": "node/13", "amenity": "bench"}, LON, LAT),
        ],
    )
    fac = facilities_from_osm(path)
    assert list(fac["kind"]) == ["pharmacy", "bus_stop"]
    assert list(fac["osm_id"]) == ["node/11", "node/12"]
    assert list(fac["name"]) == ["Pharmacie de Presles", "Chevreux"]
    assert fac.attrs["source"] == str(path)


def test_osmium_and_ogr_exports(tmp_path: Path) -> None:
    # osmium export -a type,id: @type and a numeric @id
    osmium_export = _write_geojson(
        tmp_path / "osmium.geojson",
        [_feature({"@type": "node", "@id": 21, "amenity": "townhall"}, LON, LAT)],
    )
    fac = facilities_from_osm(osmium_export)
    assert list(fac["kind"]) == ["town_hall"] and list(fac["osm_id"]) == ["node/21"]
    # ogr2ogr's OSM driver: a few tags as columns, the others packed in other_tags
    ogr = _write_geojson(
        tmp_path / "ogr.geojson",
        [
            _feature(
                {
                    "osm_id": "31",
                    "name": "Collège X",
                    "other_tags": '"amenity"=>"school","school:FR"=>"collège"',
                },
                LON,
                LAT,
            )
        ],
    )
    fac = facilities_from_osm(ogr)
    assert list(fac["kind"]) == ["secondary_school"] and list(fac["osm_id"]) == ["node/31"]


def test_a_geojson_without_osm_tags_says_what_to_export(tmp_path: Path) -> None:
    path = _write_geojson(tmp_path / "x.geojson", [_feature({"nom": "a"}, LON, LAT)])
    with pytest.raises(DataValidationError) as info:
        facilities_from_osm(path)
    assert "x.geojson" in str(info.value) and "overpass-turbo" in str(info.value)
