"""Open facility kinds: known kinds, French aliases and categories, other kinds labelled."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import Point

from cdv_geo import CdvGeoWarning
from cdv_geo.schema import (
    FACILITY_KINDS,
    KIND_LABELS,
    compact_token,
    facility_kind,
    kind_label,
    normalize_token,
    register_kind_labels,
    validate,
)

X0, Y0 = 728400.0, 6920700.0


def fac(names: list[str | None], kinds: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"nom": names, "categorie": kinds},
        geometry=[Point(X0 + 10 * i, Y0) for i in range(len(kinds))],
        crs=2154,
    )


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("Sport", "sports"),
        ("SANTÉ", "health"),
        ("Éducation", "education"),  # ambiguous: its own kind
        ("Action sociale", "social_services"),
        ("Culture", "culture"),
        ("arrêt de bus", "bus_stop"),
        ("Pharmacie", "pharmacy"),
        ("Bureau de poste", "post_office"),
        ("Gymnase", "sports"),
        ("Maison de santé pluridisciplinaire", "health_centre"),
    ],
)
def test_french_categories_and_names_map_to_kinds(given: str, kind: str) -> None:
    assert facility_kind(given) == kind
    out = validate(fac(["x"], [given]), "facilities")
    assert out["kind"].iloc[0] == kind


def test_unknown_kinds_are_kept_as_tokens_with_a_label() -> None:
    out = validate(fac(["a", "b"], ["Ludothèque municipale", "Jardins partagés"]), "facilities")
    assert list(out["kind"]) == ["ludotheque_municipale", "jardins_partages"]
    assert kind_label("ludotheque_municipale") == "Ludotheque municipale"
    assert kind_label("jardins_partages", "en") == "Jardins partages"


def test_every_known_kind_has_two_labels() -> None:
    assert set(KIND_LABELS) == set(FACILITY_KINDS)
    assert kind_label("bus_stop") == "Arrêt de bus" and kind_label("bus_stop", "en") == "Bus stop"
    with pytest.raises(ValueError, match="lang='de'"):
        kind_label("bus_stop", "de")


def test_registered_labels_for_nomenclature_kinds() -> None:
    register_kind_labels({"zz_test_kind": ("Équipement test", "Test facility")})
    assert kind_label("zz_test_kind") == "Équipement test"
    assert kind_label("zz_test_kind", "en") == "Test facility"
    register_kind_labels({"pharmacy": ("autre", "other")})  # known kinds keep theirs
    assert kind_label("pharmacy") == "Pharmacie"


def test_facilities_without_a_name_are_named_after_their_kind() -> None:
    raw = fac([None, "Officine Dupont", " "], ["pharmacie", "pharmacie", "Ludothèque"])
    with pytest.warns(CdvGeoWarning, match=r"2 facilities have no name; each is named after"):
        out = validate(raw, "facilities")
    assert list(out["name"]) == ["Pharmacie", "Officine Dupont", "Ludotheque"]
    no_column = raw.drop(columns="nom")
    with pytest.warns(CdvGeoWarning, match="3 facilities have no name"):
        assert validate(no_column, "facilities")["name"].iloc[0] == "Pharmacie"


def test_tokens_whatever_the_case_and_style() -> None:
    assert normalize_token("NB_ARBRES") == normalize_token("nb arbres") == "nb_arbres"
    assert normalize_token("QN00272M") == "qn00272m"  # codes are not split
    assert compact_token("nbArbres") == compact_token("NB_ARBRES") == "nbarbres"
