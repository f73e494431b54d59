"""The services step of compute_metrics: capacity, opening hours, commercial centres, by hand.

One straight street of 3,000 m (walking at 4.5 km/h = 75 m a minute, so 300 m is 4 min). The
quartier QP1 covers its first 1,000 m; the commune covers the whole street.

* homes: ``a`` at 300 m (1,000 residents), ``b`` at 600 m (1,000), ``c`` at 2,000 m (500,
  outside the quartier);
* a GP (``doctor``, 1 FTE, open Tuesday 09:00-12:00) at 0 m; a CCAS at 900 m without capacity,
  with two permanences (``We 14:00-17:00 || Sa 09:00-12:00``);
* a shopping parade (``commercial_centre``, 1,000 m²) at 450 m, a supermarket (8,000 m²) at
  1,800 m, two shops at 100 and 200 m and one at 2,500 m.

Every expected value below is worked out from these distances, not from the code.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, box

from cdv_geo import Territory
from cdv_geo.core.errors import CdvGeoError, DataValidationError
from cdv_geo.pipeline import Metrics, compute_metrics
from cdv_geo.pipeline.services import SERVICE_OUTPUTS
from cdv_geo.territory import ServiceSettings, read_project, read_services
from cdv_geo.testing import assert_metric_table

X0, Y0 = 728_400.0, 6_920_700.0
HOSTILE = "=<script>&\"'"
LEVELS = {
    "capacity_access": ("kind",),
    "open_hours": ("kind",),
    "open_moments": ("kind", "moment"),
    "opening_strip": ("kind", "day", "hour"),
    "retail_density": (),
    "commercial_catchment": (),
}


def gdf(data: dict, geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=geoms, crs=2154)


def at(x: float) -> Point:
    return Point(X0 + x, Y0)


def layers(
    *, capacity: bool = True, surface_parade: float | None = 1000.0, gp2: bool = False
) -> dict:
    facilities = gdf(
        {
            "id": ["gp", "ccas", "parade", "hyper", "s1", "s2", "s3"],
            "name": ["Cabinet", "CCAS", HOSTILE, "Hyper", "Boulangerie", "Tabac", "Garage"],
            "kind": [
                "doctor",
                "ccas",
                "commercial_centre",
                "supermarket",
                "shop",
                "shop",
                "shop",
            ],
            "capacity": [1.0 if capacity else None, None, None, None, None, None, None],
            "opening_hours": [
                "Tu 09:00-12:00",
                "We 14:00-17:00 || Sa 09:00-12:00",
                None,
                None,
                None,
                None,
                None,
            ],
            "surface": [None, None, surface_parade, 8000.0, None, None, None],
        },
        [at(0), at(900), at(450), at(1800), at(100), at(200), at(2500)],
    )
    if gp2:  # a second GP at 300 m, without capacity nor opening hours
        second = gdf({"id": ["gp2"], "name": ["Cabinet 2"], "kind": ["doctor"]}, [at(300)])
        facilities = pd.concat([facilities, second], ignore_index=True)
    return {
        "communes": gdf(
            {"code": ["02722"], "name": ["Soissons"], "population": [5000]},
            [box(X0 - 100, Y0 - 500, X0 + 3100, Y0 + 500)],
        ),
        "quartiers": gdf(
            {"code": ["QP1"], "name": [HOSTILE], "population": [2000]},
            [box(X0 - 50, Y0 - 50, X0 + 1000, Y0 + 50)],
        ),
        "streets": gdf({"name": ["rue"]}, [LineString([(X0, Y0), (X0 + 3000, Y0)])]),
        "residences": gdf(
            {"id": ["a", "b", "c"], "population": [1000.0, 1000.0, 500.0], "dwellings": [1, 1, 1]},
            [at(300), at(600), at(2000)],
        ),
        "facilities": facilities,
    }


def territory(services: ServiceSettings | None = None, **kw: object) -> Territory:
    return Territory("T", services=services or ServiceSettings(), **layers(**kw))  # type: ignore[arg-type]


def run(t: Territory, only: tuple[str, ...] = SERVICE_OUTPUTS) -> Metrics:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the homes' and the official populations differ)
        return compute_metrics(t, only=only)


@pytest.fixture(scope="module")
def m() -> Metrics:
    return run(territory())


def test_every_table_follows_the_contract(m: Metrics) -> None:
    q = layers()["quartiers"]
    for name, levels in LEVELS.items():
        table = getattr(m, name)
        assert table is not None, name
        assert_metric_table(table, q, levels=levels)
        assert list(dict.fromkeys(table.index.get_level_values(0))) == [
            "QP1",
            "qpv",
            "commune",
            "hors_qpv",
        ]


def test_capacity_access_by_hand(m: Metrics) -> None:
    # a: 4 min (weight 1), b: 8 min (0.3), c: 26.7 min (0): R = 1 / (1000 + 300)
    r = 1 / 1300
    a, b = r * 1.0 * 1e4, r * 0.3 * 1e4
    t = m.capacity_access
    assert t.index.get_level_values("kind").unique().tolist() == ["doctor"]  # the CCAS has none
    assert t.loc[("QP1", "doctor"), "access_per_10k"] == pytest.approx((a + b) / 2, abs=1e-9)
    assert t.loc[("commune", "doctor"), "access_per_10k"] == pytest.approx(
        (1000 * a + 1000 * b) / 2500, abs=1e-9
    )
    assert t.loc[("hors_qpv", "doctor"), "access_per_10k"] == pytest.approx(0.0, abs=1e-12)
    # the resident counts are the run's one population (official figures), not the homes'
    assert t.loc[("QP1", "doctor"), "n_residents"] == 2000
    assert t.loc[("QP1", "doctor"), "population_source"] == "official"
    homes = m.residences_services.set_index("id")
    assert homes.loc["a", "doctor_access_per_10k"] == pytest.approx(a, abs=1e-9)
    assert homes.loc["c", "doctor_access_per_10k"] == 0.0


def test_opening_hours_by_hand(m: Metrics) -> None:
    # within 10 min: a and b reach the GP (4, 8 min) and the CCAS (8, 4 min); c neither
    h = m.open_hours
    assert h.loc[("QP1", "doctor"), "open_hours_week"] == pytest.approx(3.0)
    assert h.loc[("QP1", "ccas"), "open_hours_week"] == pytest.approx(6.0)
    assert h.loc[("commune", "ccas"), "open_hours_week"] == pytest.approx(6.0 * 2000 / 2500)
    assert h.loc[("hors_qpv", "ccas"), "open_hours_week"] == 0.0
    mo = m.open_moments["served_share"]
    assert mo[("QP1", "ccas", "wednesday_14h")] == 1.0
    assert mo[("QP1", "ccas", "saturday_10h")] == 1.0
    assert mo[("QP1", "ccas", "weekday_after_18h")] == 0.0
    assert mo[("commune", "ccas", "wednesday_14h")] == pytest.approx(0.8)
    assert mo[("QP1", "doctor", "wednesday_14h")] == 0.0
    strip = m.opening_strip["served_share"]
    assert strip[("QP1", "doctor", "Tu", 10)] == 1.0
    assert strip[("QP1", "doctor", "Tu", 12)] == 0.0
    homes = m.residences_services.set_index("id")
    assert homes.loc["b", "ccas_open_hours_week"] == 6.0
    assert homes.loc["c", "ccas_open_hours_week"] == 0.0


def huff_parade_share(minutes_parade: float, minutes_hyper: float, beta: float) -> float:
    u_parade = 1000.0 / max(minutes_parade, 1.0) ** beta
    u_hyper = 8000.0 / max(minutes_hyper, 1.0) ** beta
    return u_parade / (u_parade + u_hyper)


def test_commercial_catchment_by_hand(m: Metrics) -> None:
    # a: parade 150 m (2 min), hyper 1,500 m (20 min); b: 2 and 16 min; c: 1,550 m and 200 m
    pa = huff_parade_share(2.0, 20.0, 2.0)
    pb = huff_parade_share(2.0, 16.0, 2.0)
    pc = huff_parade_share(1550 / 75, 200 / 75, 2.0)
    t = m.commercial_catchment
    assert t.loc["QP1", "retained_share"] == pytest.approx((pa + pb) / 2, abs=1e-9)
    assert t.loc["hors_qpv", "retained_share"] == pytest.approx(1 - pc, abs=1e-9)
    assert t.loc["commune", "retained_share"] == pytest.approx(1.0)
    c = m.commercial_centres.set_index("id")
    assert c.loc["parade", "catchment_population"] == pytest.approx(1000 * (pa + pb) + 500 * pc)
    assert c.loc["parade", "quartier"] == "QP1"
    assert c.loc["parade", "name"] == HOSTILE  # kept as data: escaping is the writer's job
    assert c.loc["parade", "n_homes_main"] == 2 and c.loc["hyper", "n_homes_main"] == 1
    assert set(c.geometry.geom_type) == {"Point"}
    homes = m.residences_services.set_index("id")
    assert homes.loc["c", "main_centre"] == "hyper"
    assert homes.loc["c", "main_centre_name"] == "Hyper"
    assert homes.loc["a", "main_probability"] == pytest.approx(pa)


def test_retail_density_on_the_runs_population(m: Metrics) -> None:
    t = m.retail_density
    # QP1: 2 shops for the official 2,000; the commune: 3 shops and the supermarket for 5,000
    assert t.loc["QP1", "n_shops"] == 2
    assert t.loc["QP1", "per_1000_inhabitants"] == pytest.approx(1.0)
    assert t.loc["commune", "per_1000_inhabitants"] == pytest.approx(4 / 5000 * 1000)
    pop = m.population.loc["hors_qpv", "population"]
    assert t.loc["hors_qpv", "per_1000_inhabitants"] == pytest.approx(2 / pop * 1000)


def test_the_layers_keep_the_contract_columns(m: Metrics) -> None:
    res = m.residences_services
    for col in ("quartier", "population", "main_centre", "main_centre_name", "main_probability"):
        assert col in res.columns
    assert pd.isna(res.set_index("id").loc["c", "quartier"])
    assert len(res) == 3 and res.crs.to_epsg() == 2154
    cols = {"id", "name", "attractiveness", "quartier", "catchment_population", "n_homes_main"}
    assert cols <= set(m.commercial_centres.columns)


# --- skips: a note, never an error -------------------------------------------------------


def test_no_capacity_skips_the_catchment_with_a_note() -> None:
    m = run(territory(capacity=False))
    assert m.capacity_access is None
    note = next(n for n in m.notes if n.topic == "services" and n.key == "missing_field")
    assert note.args == {"field": "capacity", "layer": "facilities"}
    assert "doctor_access_per_10k" not in m.residences_services.columns
    assert m.open_hours is not None and m.commercial_catchment is not None  # the rest is there


def test_capacity_present_gives_no_skip_note(m: Metrics) -> None:
    assert not [n for n in m.notes if n.topic == "services"]


def test_a_service_without_hours_is_counted_never_open() -> None:
    m = run(territory(gp2=True), only=("open_hours",))
    h = m.open_hours
    assert h.loc[("QP1", "doctor"), "n_facilities_of_kind"] == 2
    assert h.loc[("QP1", "doctor"), "n_without_hours"] == 1
    assert h.loc[("QP1", "doctor"), "open_hours_week"] == pytest.approx(3.0)  # the first GP's
    assert not [n for n in m.notes if n.topic == "services"]


def test_a_gp_without_capacity_is_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="cdv_geo"):
        m = run(territory(gp2=True), only=("capacity_access",))
    # the second GP is left out (not a capacity of 0): the first GP's access, as without it
    r = 1 / 1300
    t = m.capacity_access
    assert t.loc[("QP1", "doctor"), "access_per_10k"] == pytest.approx(r * 1.3e4 / 2)
    assert t.loc[("QP1", "doctor"), "supply"] == 1.0
    assert "gp2 (Cabinet 2)" in caplog.text
    assert any(n.key == "warning_services" for n in m.notes)


def test_a_kind_asked_for_whose_facilities_have_no_value_is_noted() -> None:
    m = run(territory(ServiceSettings(hours_kinds=("doctor", "shop"))), only=("open_hours",))
    assert m.open_hours.index.get_level_values("kind").unique().tolist() == ["doctor"]
    assert any(
        n.key == "missing_field" and "'shop'" in n.text and n.args["field"] == "opening_hours"
        for n in m.notes
    )


def test_a_kind_asked_for_without_facility_is_noted() -> None:
    m = run(territory(ServiceSettings(capacity_kinds=("doctor", "pharmacy"))))
    assert m.capacity_access.index.get_level_values("kind").unique().tolist() == ["doctor"]
    assert any(n.key == "missing_kind" and n.args == {"kind": "pharmacy"} for n in m.notes)


def test_no_facilities_layer_is_noted() -> None:
    lay = layers()
    del lay["facilities"]
    m = compute_metrics(Territory("T", **lay), only=["commercial_catchment"])
    assert m.commercial_catchment is None and m.residences_services is None
    assert any(n.key == "missing_layer" and n.args == {"layer": "facilities"} for n in m.notes)


def test_no_centre_is_noted() -> None:
    m = run(territory(ServiceSettings(centre_kinds=("mall",))), only=("commercial_catchment",))
    assert m.commercial_catchment is None and m.commercial_centres is None
    assert any(n.key == "missing_kind" and n.args == {"kind": "mall"} for n in m.notes)


def test_a_centre_without_surface_is_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="cdv_geo"):
        m = compute_metrics(territory(surface_parade=None), only=["commercial_catchment"])
    assert m.commercial_centres["id"].tolist() == ["hyper"]
    assert any(n.key == "warning_services" for n in m.notes)  # (the note: plain words)
    assert "parade (=<script>" in caplog.text  # (the log: which facility)


# --- configuration: the project's [services] against the defaults ---------------------------


def test_beta_from_the_settings_changes_the_shares() -> None:
    m3 = run(territory(ServiceSettings(beta=3.0)), only=("commercial_catchment",))
    pa, pb = huff_parade_share(2.0, 20.0, 3.0), huff_parade_share(2.0, 16.0, 3.0)
    assert m3.commercial_catchment.loc["QP1", "retained_share"] == pytest.approx((pa + pb) / 2)


def test_count_attractiveness_gives_every_centre_the_same() -> None:
    m1 = run(territory(ServiceSettings(attractiveness=None)), only=("commercial_catchment",))
    pa = (1 / 4) / (1 / 4 + 1 / 400)  # time alone: 2 and 20 minutes
    homes = m1.residences_services.set_index("id")
    assert homes.loc["a", "main_probability"] == pytest.approx(pa)


def test_within_min_on_its_limit_counts() -> None:
    # b is exactly 8 minutes from the GP: within 8 it counts, within 7.99 it does not
    on = run(territory(ServiceSettings(within_min=8.0)), only=("open_hours",))
    off = run(territory(ServiceSettings(within_min=7.99)), only=("open_hours",))
    assert on.residences_services.set_index("id").loc["b", "doctor_open_hours_week"] == 3.0
    assert off.residences_services.set_index("id").loc["b", "doctor_open_hours_week"] == 0.0


def test_two_sfca_from_the_settings() -> None:
    m2 = run(territory(ServiceSettings(method="2sfca")), only=("capacity_access",))
    # every band weighs 1: R = 1 / 2000, a and b both 5 per 10,000
    t = m2.capacity_access
    assert t.loc[("QP1", "doctor"), "access_per_10k"] == pytest.approx(5.0)
    assert (t["method"] == "2sfca").all()


def test_a_french_column_name_for_the_attractiveness() -> None:
    m = run(
        territory(ServiceSettings(attractiveness="surface_de_vente")),
        only=("commercial_catchment",),
    )
    assert m.commercial_catchment.attrs["attractiveness"] == "surface"
    with pytest.raises(CdvGeoError, match="no such column.*count"):
        run(territory(ServiceSettings(attractiveness="chiffre")), only=("commercial_catchment",))


def _project(tmp_path: Path, section: str) -> Path:
    for name, layer in layers().items():
        layer.to_file(tmp_path / f"{name}.geojson")
    entries = "\n".join(f'{n} = "{n}.geojson"' for n in layers())
    p = tmp_path / "project.toml"
    p.write_text(
        f'[territory]\nname = "T"\ncrs = "EPSG:2154"\n\n[layers]\n{entries}\n\n{section}',
        encoding="utf-8",
    )
    return p


def test_project_file_section_is_read(tmp_path: Path) -> None:
    p = _project(tmp_path, '[services]\nbeta = 3\ncentre_kinds = ["commercial_centre"]\n')
    t = Territory.from_file(p)
    assert t.services.beta == 3.0 and t.services.centre_kinds == ("commercial_centre",)
    assert t.services.alpha == 1.0  # not given: the default


def test_project_file_without_section_gets_the_defaults(tmp_path: Path) -> None:
    assert Territory.from_file(_project(tmp_path, "")).services == ServiceSettings()


def test_unknown_key_names_the_known_ones(tmp_path: Path) -> None:
    p = _project(tmp_path, "[services]\nbeat = 3\nwithin_min = -1\n")
    with pytest.raises(DataValidationError) as err:
        read_project(p)
    text = str(err.value)
    assert "unknown [services] key 'beat'" in text and "beta" in text
    assert "within_min must be a number > 0" in text


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"bands": [[10, 1.0], [5, 0.3]]}, "increasing positive minutes"),
        ({"bands": "APL"}, "pairs"),
        ({"moments": {"mardi": "Mardi 9h"}}, "moment 'mardi'.*OpenStreetMap"),
        ({"moments": {"x": "We 24:00"}}, "moment 'x'"),
        ({"method": "3sfca"}, "e2sfca"),
        ({"capacity_kinds": "ccas, pmi"}, None),  # one name: a list of one, not an error
        ({"shop_kinds": [1]}, "list of facility kinds"),
        ({"alpha": True}, "number > 0"),
    ],
)
def test_bad_values_are_said(section: dict, message: str | None) -> None:
    if message is None:
        assert read_services(section).capacity_kinds == ("ccas, pmi",)
        return
    with pytest.raises(DataValidationError, match=message):
        read_services(section)


def test_moments_on_the_limits_of_a_day() -> None:
    s = read_services({"moments": {"early": "Mo 00:00", "late": "Su 23:59"}})
    assert s.moments == {"early": "Mo 00:00", "late": "Su 23:59"}


# --- files: French headers, hostile text --------------------------------------------------


def test_tables_are_written_with_french_headers(m: Metrics, tmp_path: Path) -> None:
    from cdv_geo.output import write_tables

    files = write_tables(m, tmp_path, formats=("csv", "xlsx"), town="Soissons")
    names = {p.name for p in files}
    assert {f"{n}.csv" for n in SERVICE_OUTPUTS} <= names and "tables.xlsx" in names
    cap = pd.read_csv(tmp_path / "capacity_access.csv", index_col=[0, 1])
    assert "Capacité à portée pour 10 000 habitants" in cap.columns
    assert cap.loc[("QP1", "doctor"), "Nom"] == "'" + HOSTILE  # not a formula
    assert cap.loc[("hors_qpv", "doctor"), "Nom"] == "Soissons hors QPV"
    moments = pd.read_csv(tmp_path / "open_moments.csv", index_col=[0, 1, 2])
    assert "mercredi à 14 h" in moments.index.get_level_values(2)
    strip = pd.read_csv(tmp_path / "opening_strip.csv", index_col=[0, 1, 2, 3])
    assert set(strip.index.get_level_values(2)) == {
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"
    }  # fmt: skip
    assert np.isclose(strip["Habitants avec un service ouvert à portée (0–1)"].max(), 1.0)


# --- the demo ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> Metrics:
    from cdv_geo import datasets

    return run(datasets.soissons())


def test_the_demo_computes_every_service_table(demo: Metrics) -> None:
    from cdv_geo import datasets

    q = datasets.soissons().quartiers
    for name, levels in LEVELS.items():
        assert_metric_table(getattr(demo, name), q, levels=levels)
    kinds = set(demo.capacity_access.index.get_level_values("kind"))
    assert {"health_centre", "ccas", "womens_rights_centre"} <= kinds
    assert {"ccas", "police", "other"} <= set(demo.open_hours.index.get_level_values("kind"))
    assert len(demo.commercial_centres) == 6
    assert demo.commercial_centres["illustrative"].all()
    assert not [n for n in demo.notes if n.topic == "services"]  # nothing skipped, no warning


def test_the_demo_permanences_in_one_building_add_up(demo: Metrics) -> None:
    # the Maison de l'égalité (Chevreux): the CIDFF's Mo-Fr 09:00-12:30, 13:30-17:00 (35 h);
    # the four permanences (PMI Tu 9-12, France victimes Th 14-17, CCAS Fr 9-12, police
    # We 14-16) fall within it: counted once, 35 h
    homes = demo.residences_services
    assert homes["womens_rights_centre_open_hours_week"].max() == pytest.approx(35.0)
    # the GSUP office of Saint-Crépin (kind "other"): mediators Mo,We,Fr 9-12 and Tu,Th 14-17
    # (15 h) and the CCAS permanence Tu 9-12 (3 h) in another part of the week: 18 h
    sc = homes[homes["quartier"] == "QP002012"]
    assert sc["other_open_hours_week"].max() == pytest.approx(18.0)


def test_capacity_and_hours_share_one_matrix_of_times(
    m: Metrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the GP (capacity, hours) and the CCAS (hours) routed once, up to the larger limit (the
    # APL's 15 min against within_min's 10); the centres (Huff) get their own matrix
    from cdv_geo.metrics import catchment, catchment_times, huff, opening_hours
    from cdv_geo.pipeline import services

    calls: list[tuple[list[str], float]] = []
    real = catchment_times.travel_times

    def counted(homes: object, facilities: gpd.GeoDataFrame, **kw: object) -> object:
        calls.append((facilities["id"].tolist(), float(kw["max_time_min"])))  # type: ignore[arg-type]
        return real(homes, facilities, **kw)  # type: ignore[arg-type]

    for module in (catchment_times, catchment, opening_hours, huff):
        monkeypatch.setattr(module, "travel_times", counted)
    shared = run(territory())
    assert calls == [(["gp", "ccas"], 15.0), (["parade", "hyper"], 30.0)]
    # the same tables as each measure computing its own times
    monkeypatch.setattr(services, "_shared_times", lambda *a: (None, None))
    calls.clear()
    alone = run(territory())
    # (alone, the capacity sums its catchments inside its own walks, without listing pairs,
    # when the compiled kernel runs; else it lists the GP's pairs)
    from cdv_geo.metrics.catchment_kernels import catchment_walks

    own = [] if catchment_walks.compiled is not None else [["gp"]]
    assert [c[0] for c in calls] == [*own, ["gp", "ccas"], ["parade", "hyper"]]
    for name in ("capacity_access", "open_hours", "open_moments", "opening_strip"):
        pd.testing.assert_frame_equal(getattr(shared, name), getattr(alone, name), rtol=1e-12)
        pd.testing.assert_frame_equal(getattr(shared, name), getattr(m, name), rtol=1e-12)
