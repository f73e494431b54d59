"""Map names and titles: one definition shared by the map files, their titles and the report."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import cdv_geo as cg
from cdv_geo import maps
from cdv_geo.views.titles import quartier_display_name, quartier_slug, quartier_slugs
from tests.browser.fixture_territory import make_territory


def test_slugs_are_file_safe_and_unique() -> None:
    assert quartier_slug("Saint-Crépin Ouest") == "saint-crepin-ouest"
    assert quartier_slug("") == "quartier"
    assert re.fullmatch(r"[a-z0-9-]+", quartier_slug('<img src=x onerror="a">/../'))
    q = pd.DataFrame({"code": ["QP1", "QP2", "QP3"], "name": ["Centre", "Nord", "CENTRE"]})
    # "Centre" and "CENTRE" give the same slug: both get their code, by hand
    assert quartier_slugs(q) == {"QP1": "centre-qp1", "QP2": "nord", "QP3": "centre-qp3"}
    assert quartier_display_name(q, "QP3") == "CENTRE – QP3"
    assert quartier_display_name(q, "QP2") == "Nord"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[cg.Territory, dict[str, Path]]:
    t = make_territory(evil=False)
    q = t.quartiers.copy()
    q["name"] = ["Centre", "Centre"]
    t = cg.Territory("Testville", quartiers=q, facilities=t.facilities, settings=t.settings)
    out = tmp_path_factory.mktemp("twins")
    return t, maps.build_committee_maps(t, out, tiles=None)


def test_quartiers_sharing_a_name_get_their_code_in_file_and_title(
    twins: tuple[cg.Territory, dict[str, Path]],
) -> None:
    t, files = twins
    names = [n for n in files if n.startswith("quartier_")]
    assert names == ["quartier_centre-qn09901m", "quartier_centre-qn09902m"]
    for name, code in zip(names, ["QN09901M", "QN09902M"], strict=True):
        text = files[name].read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        assert title is not None
        expected = f"Quartier Centre – {code} (Testville)"
        assert title.group(1).strip() == expected
        # the report's title of that file is the map's own title
        assert maps.map_title(name, t) == expected
        assert maps.map_title(name, t, "en") == f"Quartier Centre – {code} (Testville)"


def test_every_committee_map_is_titled_as_map_title_says(
    twins: tuple[cg.Territory, dict[str, Path]],
) -> None:
    t, files = twins
    for name, path in files.items():
        title = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8"), re.S)
        assert title is not None
        assert title.group(1).strip() == maps.map_title(name, t).replace("'", "&#x27;"), name
    assert maps.map_title("overview", t, "en") == "Testville: overview"
    assert maps.map_title("renewal", t) == "Renouvellement urbain (NPNRU) — Testville"
    assert maps.map_title("unknown", t) == "unknown"
