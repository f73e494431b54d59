"""Every validation rule of schema.validate, each checked on its message."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
from shapely import LineString, Point, Polygon, box

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.schema import SCHEMAS, describe, empty_layer, normalize_token, validate

X0, Y0 = 728400.0, 6920700.0


def pts(n: int) -> list[Point]:
    return [Point(X0 + 10 * i, Y0) for i in range(n)]


def fac(**cols: list[object]) -> gpd.GeoDataFrame:
    n = len(next(iter(cols.values())))
    return gpd.GeoDataFrame(cols, geometry=pts(n), crs=2154)


def problems_of(gdf: gpd.GeoDataFrame, kind: str, **kw: object) -> list[str]:
    with pytest.raises(DataValidationError) as info:
        validate(gdf, kind, source="layer.geojson", **kw)
    assert all(p.file == "layer.geojson" and p.layer == kind for p in info.value.problems)
    return [str(p) for p in info.value.problems]


def test_french_names_and_values_are_translated() -> None:
    raw = fac(
        nom=["Aire de jeux", "MSP", "Centre"],
        type=["aire_de_jeux_d_eau", "Maison de santé", "centre social"],
    )
    out = validate(raw, "facilities")
    assert list(out["name"]) == ["Aire de jeux", "MSP", "Centre"]
    assert list(out["kind"]) == ["water_play_area", "health_centre", "social_centre"]
    assert list(out["id"]) == ["1", "2", "3"]
    assert "nom" not in out.columns and "type" not in out.columns


def test_renewal_french_operations_and_counts() -> None:
    raw = gpd.GeoDataFrame(
        {
            "nom": ["A", "B", "C"],
            "type": ["démolition", "reconstruction", "Réhabilitation"],
            "nb_logements": ["120", 40, 30.0],
            "statut": ["livré", "en cours", "prévu"],
            "annee": [2021, "2024", 2026],
        },
        geometry=[box(X0, Y0, X0 + 10, Y0 + 10)] * 3,
        crs=2154,
    )
    out = validate(raw, "renewal_sites")
    assert list(out["operation"]) == ["demolition", "reconstruction", "rehabilitation"]
    assert list(out["dwellings"]) == [120, 40, 30]
    assert list(out["status"]) == ["done", "in_progress", "planned"]
    assert list(out["year"]) == [2021, 2024, 2026]
    assert str(out["dwellings"].dtype) == "Int64"


def test_other_aliases() -> None:
    trees = gpd.GeoDataFrame(
        {"essence": ["Tilia cordata", None], "nb_arbres": [3, None], "annee": [2022, 2023]},
        geometry=pts(2),
        crs=2154,
    )
    out = validate(trees, "tree_plantings")
    assert list(out["species"]) == ["Tilia cordata", None]
    assert list(out["trees"]) == [3, 1]  # default 1 tree per point
    res = gpd.GeoDataFrame({"pop": [12.5], "logements": [5]}, geometry=pts(1), crs=2154)
    out = validate(res, "residences")
    assert out["population"].iloc[0] == 12.5 and out["dwellings"].iloc[0] == 5


def test_duplicate_id_reported_and_unknown_kind_accepted() -> None:
    raw = fac(id=[7, 7, 8], name=["a", "b", "c"], kind=["school", "Zoo municipal", "shop"])
    msgs = problems_of(raw, "facilities")
    assert len(msgs) == 1
    assert "id '7' is used by 2 features" in msgs[0] and "feature 7" in msgs[0]
    raw["id"] = [7, 9, 8]
    assert list(validate(raw, "facilities")["kind"]) == ["school", "zoo_municipal", "shop"]


def test_missing_required_column_names_aliases() -> None:
    msgs = problems_of(fac(name=["a"]), "facilities")
    assert msgs == [
        "file layer.geojson, layer facilities, field 'kind': required field is missing "
        "(accepted names: kind, type, categorie, catégorie, nature, type_equipement)"
    ]


def test_missing_required_value() -> None:
    raw = gpd.GeoDataFrame(
        {"code": ["Q1", "Q2"], "name": ["a", None]}, geometry=[box(0, 0, 1, 1)] * 2, crs=2154
    )
    msgs = problems_of(raw, "quartiers")
    assert msgs == [
        "file layer.geojson, layer quartiers, feature Q2, field 'name': "
        "value is missing (required); fill it in"
    ]


def test_negative_count_and_bad_numbers() -> None:
    raw = gpd.GeoDataFrame({"trees": [-2, "deux", 1.5]}, geometry=pts(3), crs=2154)
    msgs = problems_of(raw, "tree_plantings")
    assert "feature 1, field 'trees': -2 is negative; expected a value >= 0" in msgs[0]
    assert "feature 2, field 'trees': 'deux' is not a number" in msgs[1]
    assert "feature 3, field 'trees': 1.5 is not a whole number" in msgs[2]


def test_year_out_of_range() -> None:
    raw = fac(name=["a", "b"], kind=["shop", "shop"], opened=[1949, 2101])
    msgs = problems_of(raw, "facilities")
    assert "feature 1, field 'opened': year 1949 is outside 1950–2100" in msgs[0]
    assert "feature 2, field 'opened': year 2101 is outside 1950–2100" in msgs[1]


def test_french_decimal_comma_accepted() -> None:
    raw = gpd.GeoDataFrame({"trees": [1], "crown_diameter_m": ["4,5"]}, geometry=pts(1), crs=2154)
    assert validate(raw, "tree_plantings")["crown_diameter_m"].iloc[0] == 4.5


def test_invalid_geometry_refused_then_repaired(bowtie: Polygon) -> None:
    raw = gpd.GeoDataFrame({"code": ["Q1"], "name": ["Q"]}, geometry=[bowtie], crs=2154)
    msgs = problems_of(raw, "quartiers")
    assert "feature Q1" in msgs[0] and "invalid (Self-intersection" in msgs[0]
    assert "repair=True" in msgs[0]
    with pytest.warns(CdvGeoWarning, match=r"repaired 1 invalid geometry.*Q1 \(Self-intersection"):
        out = validate(raw, "quartiers", repair=True)
    assert out.geometry.iloc[0].is_valid
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"
    # the two lobes of the bow tie are 50 m x 100 m triangles of 2,500 m² each
    assert out.geometry.iloc[0].area == pytest.approx(5000.0)
    assert out.attrs["repaired"] == ["Q1 (Self-intersection[728450 6920750])"]


def test_empty_missing_and_wrong_geometries() -> None:
    raw = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"], "kind": ["shop"] * 3},
        geometry=[Point(), None, LineString([(0, 0), (1, 1)])],
        crs=2154,
    )
    msgs = problems_of(raw, "facilities")
    assert "feature 1: geometry is empty" in msgs[0]
    assert "feature 2: geometry is missing" in msgs[1]
    assert "feature 3: geometry is a LineString; a facilities layer expects" in msgs[2]
    assert "MultiPolygon or Point or Polygon" in msgs[2]


def test_multipoint_refused_for_points_multipolygon_accepted() -> None:
    from shapely import MultiPoint, MultiPolygon

    raw = gpd.GeoDataFrame({"trees": [1]}, geometry=[MultiPoint([(0, 0), (1, 1)])], crs=2154)
    assert "MultiPoint" in problems_of(raw, "tree_plantings")[0]
    mp = MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])
    q = gpd.GeoDataFrame({"code": ["Q"], "name": ["Q"]}, geometry=[mp], crs=2154)
    assert validate(q, "quartiers").geometry.iloc[0].geom_type == "MultiPolygon"


def test_empty_layer() -> None:
    empty = gpd.GeoDataFrame({"name": [], "kind": []}, geometry=[], crs=2154)
    msgs = problems_of(empty, "facilities")
    assert msgs == [
        "file layer.geojson, layer facilities: layer is empty (no features); "
        "remove it from the project or fill it"
    ]


def test_every_problem_is_collected_once() -> None:
    raw = fac(
        id=["a", "a", "b", "c"],
        name=[None, "x", "y", "z"],
        kind=["shop", "???", "shop", "school"],
        opened=[2000, "deux mille", 1800, 2020],
    )
    with pytest.raises(DataValidationError) as info:
        validate(raw, "facilities", source="f.gpkg")
    fields = sorted((p.feature, p.field) for p in info.value.problems)
    assert fields == [("a", "id"), ("a", "kind"), ("a", "opened"), ("b", "opened")]
    assert str(info.value).startswith("4 problems in facilities layer f.gpkg:")


def test_residences_need_a_weight() -> None:
    raw = gpd.GeoDataFrame({"name": ["x"]}, geometry=pts(1), crs=2154)
    assert "need a 'dwellings'" in problems_of(raw, "residences")[0]
    raw = gpd.GeoDataFrame({"population": [3.0, None]}, geometry=pts(2), crs=2154)
    assert (
        "feature 2, field 'population': neither dwellings nor population is given"
        in (problems_of(raw, "residences")[0])
    )


def test_booleans_and_unknown_enum_in_french() -> None:
    raw = gpd.GeoDataFrame(
        {"nom": ["Parc", "Jardin privé"], "public": ["oui", "non"]},
        geometry=[box(0, 0, 1, 1), box(2, 2, 3, 3)],
        crs=2154,
    )
    assert list(validate(raw, "green_spaces")["public"]) == [True, False]
    raw["public"] = ["peut-être", "oui"]
    assert "'peut-être' is not a yes/no value" in problems_of(raw, "green_spaces")[0]


def test_ambiguous_alias_columns() -> None:
    raw = gpd.GeoDataFrame(
        {"code": ["Q1"], "nom": ["a"], "lib_qp": ["b"]}, geometry=[box(0, 0, 1, 1)], crs=2154
    )
    msg = problems_of(raw, "quartiers")[0]
    assert "both mean 'name'" in msg


def test_second_facility_name_column_is_a_fallback() -> None:
    # a register with an empty "nom" and the real names in "Title" (SharePoint export)
    raw = fac(nom=["a", None, None], Title=["A1", "B2", None], kind=["shop"] * 3)
    with pytest.warns(CdvGeoWarning, match="1 facilities have no name"):
        out = validate(raw, "facilities")
    assert list(out["name"]) == ["a", "B2", "Commerce de proximité"]


def test_canonical_name_wins_over_alias() -> None:
    raw = fac(name=["canonical"], nom=["alias"], kind=["shop"])
    out = validate(raw, "facilities")
    assert out["name"].iloc[0] == "canonical"
    assert out["nom"].iloc[0] == "alias"  # kept as an extra column


def test_extra_columns_kept_and_input_not_mutated() -> None:
    raw = fac(nom=["a"], type=["shop"], telephone=["03 23 00 00 00"])
    before = raw.copy()
    out = validate(raw, "facilities")
    assert out["telephone"].iloc[0] == "03 23 00 00 00"
    pd.testing.assert_frame_equal(pd.DataFrame(raw), pd.DataFrame(before))
    assert list(validate(raw, "facilities", extra="drop").columns) == [
        "id",
        "name",
        "kind",
        "opened",
        "capacity",
        "opening_hours",
        "surface",
        "source",
        "geometry",
    ]


def test_unknown_layer_kind() -> None:
    with pytest.raises(DataValidationError, match="unknown layer kind 'shops'"):
        validate(fac(name=["a"]), "shops")


def test_schema_helpers() -> None:
    assert normalize_token("  Point d'Apport Volontaire ") == "point_d_apport_volontaire"
    assert set(SCHEMAS) >= {
        "quartiers",
        "facilities",
        "renewal_sites",
        "desealed_areas",
        "tree_plantings",
        "residences",
        "green_spaces",
    }
    e = empty_layer("renewal_sites")
    assert len(e) == 0 and "dwellings" in e.columns
    assert "nb_logements" in describe(["renewal_sites"])


def test_repair_warning_is_not_raised_for_valid_data() -> None:
    q = gpd.GeoDataFrame({"code": ["Q"], "name": ["Q"]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate(q, "quartiers", repair=True)


def test_polygon_unrepairable_reported() -> None:
    flat = Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])  # collapses to a line
    q = gpd.GeoDataFrame({"code": ["Q"], "name": ["Q"]}, geometry=[flat], crs=2154)
    msgs = problems_of(q, "quartiers", repair=True)
    assert "could not be repaired" in msgs[0]


def test_quartiers_take_their_code_as_id() -> None:
    q = gpd.GeoDataFrame(
        {"code_qp": ["QN1", "QN2"], "nom": ["A", "B"]},
        geometry=[box(0, 0, 1, 1), box(2, 2, 3, 3)],
        crs=2154,
    )
    assert list(validate(q, "quartiers")["id"]) == ["QN1", "QN2"]
    q["code_qp"] = ["QN1", "QN1"]
    assert "id 'QN1' is used by 2 features" in problems_of(q, "quartiers")[0]
