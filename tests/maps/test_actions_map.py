"""The map of located actions and TFPB counterparts: markers, popups escaped, French labels."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.io.actions import read_actions, read_tfpb
from cdv_geo.maps.actions_map import actions_map

X0, Y0 = 700_000.0, 6_900_000.0
Q = gpd.GeoDataFrame(
    {"code": ["Q1", "Q2"], "name": ["Presles <i>nord</i>", "Chevreux"]},
    geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
    crs=2154,
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    d = tmp_path_factory.mktemp("map")
    a = d / "actions.csv"
    a.write_text(
        "Intitulé;Pilier;Quartier;Statut;Année;Financement État;Financement Ville;X;Y\n"
        f"<script>alert(1)</script>;Jeunesse;Q1;en cours;2024;1 000 €;500 €;{X0 + 50};{Y0 + 50}\n"
        "Sans lieu;Jeunesse;Q2;;2024;2 000 €;;;\n"
        f"${{x}} `y`;Cohésion sociale;Q2;réalisée;2024;;300 €;{X0 + 150};{Y0 + 50}\n",
        encoding="utf-8",
    )
    t = Path(d / "tfpb.csv")
    t.write_text(
        "Bailleur;Quartier;Année;Axe;Action;Montant;X;Y\n"
        "OPAL;Q1;2024;Abattement;;10 000 €;;\n"
        "OPAL;Q1;2024;Gestion des déchets et encombrants;PAV <b>1</b>;4 000 €;"
        f"{X0 + 20};{Y0 + 20}\n"
        f"OPAL;Q1;2023;Gestion des déchets et encombrants;PAV ancien;3 000 €;{X0 + 30};{Y0 + 30}\n",
        encoding="utf-8",
    )
    return read_actions(a, quartiers=Q), read_tfpb(t, quartiers=Q)


def _html(inputs: tuple[object, object], **kw: object) -> str:
    programme, tfpb = inputs
    return (
        actions_map(Q, programme=programme, tfpb=tfpb, territory="Soissons", **kw)
        .get_root()
        .render()
    )


def _unescape_js(html: str) -> str:
    """The page with the \\uXXXX escapes of its JSON strings decoded (layer names)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def test_one_marker_per_located_action_and_counterpart(inputs: tuple[object, object]) -> None:
    html = _html(inputs, year=2024)
    # two actions have a place (the third has none); one counterpart of 2024 has one
    assert len(set(re.findall(r"var (circle_marker_\w+) =", html))) == 2
    assert len(set(re.findall(r"var (regular_polygon_marker_\w+) =", html))) == 1
    every_year = _html(inputs)
    assert len(set(re.findall(r"var (regular_polygon_marker_\w+) =", every_year))) == 2


def test_popups_escaped(inputs: tuple[object, object]) -> None:
    html = _html(inputs, year=2024)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "PAV <b>1</b>" not in html and "PAV &lt;b&gt;1&lt;/b&gt;" in html
    assert "${x}" not in html and "&#36;&#123;x}" in html
    # the quartier names reach the page as escaped text in the GeoJSON
    decoded = _unescape_js(html)
    assert "Presles <i>nord</i>" not in decoded and "Presles &lt;i&gt;nord&lt;/i&gt;" in decoded


def test_french_labels_and_funding(inputs: tuple[object, object]) -> None:
    html = _unescape_js(_html(inputs, year=2024))
    for text in ("Actions localisées", "Contreparties TFPB localisées", "Quartiers prioritaires"):
        assert text in html
    assert "Pilier : Jeunesse" in html and "Avancement : En cours" in html
    assert "Financement — État : 1\u202f000\u00a0€" in html
    assert "Financement — Ville : 500\u00a0€" in html
    assert "Axe du cadre national : Gestion des déchets et encombrants" in html
    assert "youth" not in html and "in_progress" not in html


def test_english(inputs: tuple[object, object]) -> None:
    html = _unescape_js(_html(inputs, year=2024, lang="en"))
    assert "Located actions" in html and "Pillar : Youth" in html
    assert "Actions localisées" not in html


def test_needs_quartiers_with_crs() -> None:
    with pytest.raises(CdvGeoError, match="quartiers"):
        actions_map(Q.set_crs(None, allow_override=True))
