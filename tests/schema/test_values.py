"""French numbers, count aliases in any style, and warnings instead of silent defaults."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
from shapely import Point, box

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.schema import numeric_columns, parse_number, validate

X0, Y0 = 728400.0, 6920700.0


def pts(n: int) -> list[Point]:
    return [Point(X0 + 10 * i, Y0) for i in range(n)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("6 206", 6206.0),
        ("6\u202f206", 6206.0),  # narrow no-break space, as INSEE writes it
        ("6\u00a0206", 6206.0),  # no-break space
        ("3,5", 3.5),
        ("-2,25", -2.25),
        ("1 234 567,5", 1234567.5),
        ("1.234,5", 1234.5),
        ("1.234.567", 1234567.0),
        ("12.5", 12.5),
        (" 42 ", 42.0),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["deux", "1,2,3", "", "12 abc"])
def test_parse_number_refuses_text(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_number(text)


def test_french_numbers_in_every_numeric_field() -> None:
    trees = gpd.GeoDataFrame(
        {"trees": ["1 204", "3"], "crown_diameter_m": ["3,5", "12,25"]}, geometry=pts(2), crs=2154
    )
    out = validate(trees, "tree_plantings")
    assert list(out["trees"]) == [1204, 3]
    assert list(out["crown_diameter_m"]) == [3.5, 12.25]
    q = gpd.GeoDataFrame(
        {"code": ["Q1"], "name": ["Q"], "pop": ["6\u202f206"]}, geometry=[box(0, 0, 1, 1)], crs=2154
    )
    assert validate(q, "quartiers")["population"].iloc[0] == 6206
    res = gpd.GeoDataFrame({"habitants": ["12,5"]}, geometry=pts(1), crs=2154)
    assert validate(res, "residences")["population"].iloc[0] == 12.5


@pytest.mark.parametrize(
    "column", ["nbArbres", "nb_arbres", "NB_ARBRES", "nombre_arbres", "Nombre d'arbres", "NbArbres"]
)
def test_count_alias_in_any_case_and_style(column: str) -> None:
    raw = gpd.GeoDataFrame({column: [4, 2]}, geometry=pts(2), crs=2154)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a recognised column: no default, no warning
        out = validate(raw, "tree_plantings")
    assert list(out["trees"]) == [4, 2]
    assert column not in out.columns


def test_missing_count_warns_and_names_numeric_columns() -> None:
    raw = gpd.GeoDataFrame(
        {"essence": ["Tilia", "Acer"], "hauteur": [2.5, 3.0]}, geometry=pts(2), crs=2154
    )
    with pytest.warns(CdvGeoWarning) as rec:
        out = validate(raw, "tree_plantings", source="arbres.gpkg")
    msg = str(rec[0].message)
    assert "arbres.gpkg" in msg and "field 'trees': the field is missing, counted as 1" in msg
    assert "Numeric columns that could be meant: hauteur" in msg
    assert list(out["trees"]) == [1, 1]


def test_unrecognised_count_field_is_a_problem_until_chosen() -> None:
    # the town's layer: 2 planting points holding 3 + 5 = 8 trees, counted 2 when ignored
    raw = gpd.GeoDataFrame(
        {"essence": ["Tilia", "Acer"], "QTE_PLANT": ["3", "5"], "hauteur": [2.5, 3.0]},
        geometry=pts(2),
        crs=2154,
    )
    with pytest.raises(DataValidationError) as info:
        validate(raw, "tree_plantings", source="arbres.gpkg")
    msg = str(info.value)
    assert "arbres.gpkg" in msg and "which field holds the number of trees?" in msg
    assert 'set count_field = "QTE_PLANT"' in msg
    out = validate(raw, "tree_plantings", fields={"trees": "QTE_PLANT"})
    assert list(out["trees"]) == [3, 5]
    # the column named in any case or style
    assert list(validate(raw, "tree_plantings", fields={"trees": "qte_plant"})["trees"]) == [3, 5]
    with pytest.warns(CdvGeoWarning, match="counted as 1"):
        ones = validate(raw, "tree_plantings", fields={"trees": ""})
    assert list(ones["trees"]) == [1, 1]


@pytest.mark.parametrize("name", ["nb_sujets_plantes", "QTE_2024", "effectif_total", "nbre_arbres"])
def test_count_like_names(name: str) -> None:
    raw = gpd.GeoDataFrame({name: [2]}, geometry=pts(1), crs=2154)
    with pytest.raises(DataValidationError, match="which field holds the number of trees"):
        validate(raw, "tree_plantings")


def test_chosen_count_column_must_exist_and_names_the_columns() -> None:
    raw = gpd.GeoDataFrame({"QTE": [2]}, geometry=pts(1), crs=2154)
    with pytest.raises(DataValidationError) as info:
        validate(raw, "tree_plantings", fields={"trees": "QTE_PLANT"})
    assert "no column 'QTE_PLANT'" in str(info.value) and "its columns are QTE" in str(info.value)


def test_partly_missing_counts_and_population_warn_with_counts() -> None:
    raw = gpd.GeoDataFrame({"nb_arbres": [3, None, None]}, geometry=pts(3), crs=2154)
    with pytest.warns(CdvGeoWarning, match=r"'trees': 2 of 3 features have no value, counted as 1"):
        assert list(validate(raw, "tree_plantings")["trees"]) == [3, 1, 1]
    q = gpd.GeoDataFrame(
        {"code": ["Q1", "Q2"], "name": ["A", "B"], "population": ["1 000", ""]},
        geometry=[box(0, 0, 1, 1), box(2, 2, 3, 3)],
        crs=2154,
    )
    with pytest.warns(CdvGeoWarning, match=r"'population': 1 of 2 features have no value, left"):
        out = validate(q, "quartiers")
    assert out["population"].iloc[0] == 1000 and out["population"].isna().iloc[1]


def test_residences_without_weight_name_candidate_columns() -> None:
    from cdv_geo import DataValidationError

    raw = gpd.GeoDataFrame({"NB_LOGTS_SOC": [12, 30], "nom": ["a", "b"]}, geometry=pts(2), crs=2154)
    with pytest.raises(DataValidationError, match="could be meant: NB_LOGTS_SOC"):
        validate(raw, "residences")


def test_numeric_columns_reads_french_text() -> None:
    df = gpd.GeoDataFrame(
        {"a": ["1 204", None], "b": ["x", "2"], "c": [True, False], "d": [1, 2]},
        geometry=pts(2),
        crs=2154,
    )
    assert numeric_columns(df) == ["a", "d"]


def test_two_tree_count_columns_say_how_to_choose() -> None:
    raw = gpd.GeoDataFrame({"nb_arbres": [3], "quantite": [5]}, geometry=pts(1), crs=2154)
    with pytest.raises(DataValidationError) as info:
        validate(raw, "tree_plantings")
    assert "both mean 'trees'" in str(info.value)
    assert 'count_field = "nb_arbres"' in str(info.value)
    # the project's choice settles it: the other column is kept as it was
    out = validate(raw, "tree_plantings", fields={"trees": "quantite"})
    assert list(out["trees"]) == [5] and list(out["nb_arbres"]) == [3]
