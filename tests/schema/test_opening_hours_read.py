"""Opening hours are checked when a layer is read: one problem per feature, in plain words."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely import Point

from cdv_geo.core.errors import DataValidationError
from cdv_geo.schema import validate
from cdv_geo.territory import read_project

X0, Y0 = 728_400.0, 6_920_700.0


def facilities(hours: list[object], **extra: list[object]) -> gpd.GeoDataFrame:
    n = len(hours)
    return gpd.GeoDataFrame(
        {
            "id": [f"f{i}" for i in range(n)],
            "nom": [f"Service {i}" for i in range(n)],
            "type": ["ccas"] * n,
            "horaires": hours,
            **extra,
        },
        geometry=[Point(X0 + 10 * i, Y0) for i in range(n)],
        crs=2154,
    )


def test_valid_schedules_are_kept_as_written() -> None:
    hours = [
        "Mo-Fr 09:00-12:00,14:00-17:00; PH off",
        "24/7",
        "week 1-53/2 We 14:00-17:00",
        "Tu 09:00-12:00 || Th 14:00-17:00",  # two permanences in one building
        None,
        "  ",
    ]
    out = validate(facilities(hours), "facilities")
    assert out["opening_hours"].tolist()[:4] == hours[:4]
    assert out["opening_hours"].isna().tolist()[4:] == [True, True]


def test_every_invalid_schedule_is_one_problem_naming_the_feature() -> None:
    bad = facilities(["Mo 9h-12h", "Tu 09:00-12:00", "Tu 09:00-12:00 || lundi matin", "<b>&"])
    bad.attrs["source"] = "equipements.geojson"
    with pytest.raises(DataValidationError) as err:
        validate(bad, "facilities", source="equipements.geojson")
    problems = err.value.problems
    assert [p.feature for p in problems] == ["f0", "f2", "f3"]
    assert {p.field for p in problems} == {"opening_hours"}
    assert {p.layer for p in problems} == {"facilities"}
    text = str(err.value)
    assert "'Mo 9h-12h' is not in the OpenStreetMap opening_hours syntax" in text
    assert "'lundi matin'" in text  # the permanence that does not parse, not the whole cell
    assert "'<b>&'" in text
    assert "like 'Mo-Fr 09:00-12:00; Sa 10:00-12:00; PH off'" in text  # what was expected


def test_capacity_french_aliases() -> None:
    for alias in ("capacite", "etp", "places", "guichets", "nombre_de_places", "nb_guichets"):
        out = validate(facilities([None], **{alias: ["2,5"]}), "facilities")
        assert out["capacity"].tolist() == [2.5], alias
    out = validate(facilities([None], surface_de_vente=["1 200"]), "facilities")
    assert out["surface"].tolist() == [1200.0]


def test_validate_reports_invalid_hours_of_a_project(tmp_path: Path) -> None:
    facilities(["Mo 9h-12h", "Sa 10:00-12:00"]).to_file(tmp_path / "equipements.geojson")
    p = tmp_path / "project.toml"
    p.write_text(
        '[territory]\nname = "T"\ncrs = "EPSG:2154"\n\n'
        '[layers]\nfacilities = "equipements.geojson"\n',
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as err:
        read_project(p)
    [problem] = [q for q in err.value.problems if q.field == "opening_hours"]
    assert problem.feature == "f0" and "equipements.geojson" in str(problem.file)
