"""Tests of cdv_geo.metrics.catchment: floating catchments (2SFCA, E2SFCA) and travel times.

Expected values are computed by hand (in the comments), by PySAL ``access`` on the same
population, supply and travel-time matrix, or by networkx shortest paths.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, MultiPoint, Point, box

from cdv_geo.core.errors import CdvGeoError, DataValidationError
from cdv_geo.metrics.access import nearest_facility
from cdv_geo.metrics.catchment import (
    APL_BANDS,
    band_weights,
    floating_catchment,
    travel_times,
)
from cdv_geo.network import WalkNetwork
from cdv_geo.testing import assert_metric_table

L93 = "EPSG:2154"
X0, Y0 = 724000.0, 6919000.0


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols or None, geometry=list(geoms), crs=L93)


def line_town():
    """A 2 km street; GP F1 (2 FTE) at x=0, F2 (1 FTE) at x=1000; homes at 300, 600, 1200.

    At 75 m/min: H1 4 min from F1, 9.33 from F2; H2 8 and 5.33; H3 16 and 2.67.
    """
    net = WalkNetwork.from_lines(gdf([LineString([(X0, Y0), (X0 + 2000, Y0)])]), crs=L93)
    homes = gdf(
        [Point(X0 + 300, Y0), Point(X0 + 600, Y0), Point(X0 + 1200, Y0)],
        id=["H1", "H2", "H3"],
        population=[100.0, 200.0, 300.0],
    )
    gps = gdf(
        [Point(X0, Y0), Point(X0 + 1000, Y0)],
        id=["F1", "F2"],
        kind=["doctor", "doctor"],
        capacity=[2.0, 1.0],
    )
    q = gdf([box(X0 - 10, Y0 - 50, X0 + 700, Y0 + 50)], code=["Q1"], name=["Presles"])
    return net, homes, gps, q


# --- the hand-computed 3-home / 2-facility case -------------------------------------------------


def test_e2sfca_hand_computed():
    net, homes, gps, q = line_town()
    c = floating_catchment(homes, gps, q, network=net)
    # weights (1 / 0.3 / 0.1 for 0-5 / 5-10 / 10-15 min): H1-F1 1, H1-F2 0.3, H2-F1 0.3,
    # H2-F2 0.3, H3-F1 0 (16 min), H3-F2 1. D1 = 100 + 60 = 160; D2 = 30 + 60 + 300 = 390.
    r1, r2 = 2 / 160, 1 / 390
    expected = {"H1": r1 + 0.3 * r2, "H2": 0.3 * r1 + 0.3 * r2, "H3": r2}
    got = c.homes["doctor_access_per_10k"]
    for h, v in expected.items():
        assert got[h] == pytest.approx(v * 1e4, rel=1e-12)
    assert c.facilities["demand"].tolist() == pytest.approx([160.0, 390.0])
    assert c.facilities["ratio_per_10k"].tolist() == pytest.approx([r1 * 1e4, r2 * 1e4])
    # Q1 holds H1 and H2: (100 A1 + 200 A2) / 300
    q1 = (100 * expected["H1"] + 200 * expected["H2"]) / 300 * 1e4
    assert c.table.loc[("Q1", "doctor"), "access_per_10k"] == pytest.approx(q1, rel=1e-12)
    assert c.table.loc[("Q1", "doctor"), "supply"] == 3.0
    assert_metric_table(c.table, q, levels=("kind",))


def test_2sfca_hand_computed_and_supply_conserved():
    net, homes, gps, q = line_town()
    c = floating_catchment(homes, gps, q, network=net, method="2sfca")
    # one 15-min threshold: D1 = 100 + 200 = 300 (H3 at 16 min out), D2 = 600
    a = c.homes["doctor_access_per_10k"] / 1e4
    assert a.tolist() == pytest.approx([2 / 300 + 1 / 600, 2 / 300 + 1 / 600, 1 / 600])
    # the supply is shared, never multiplied: Σ D_i A_i = Σ S_j (every facility has demand)
    assert float(a @ homes["population"].to_numpy()) == pytest.approx(3.0)


def test_band_limits_both_sides():
    upper, weight = np.array([5.0, 10.0, 15.0]), np.array([1.0, 0.3, 0.1])
    t = np.array([5.0 - 1e-9, 5.0, 5.0 + 1e-9, 15.0, 15.0 + 1e-9])
    assert band_weights(t, upper, weight).tolist() == [1.0, 1.0, 0.3, 0.1, 0.0]


def test_home_at_the_limit_is_in_and_beyond_is_out():
    # a home exactly 15 min (1125 m) from the GP counts with weight 0.1, one 1 m farther not
    net = WalkNetwork.from_lines(gdf([LineString([(X0, Y0), (X0 + 3000, Y0)])]), crs=L93)
    homes = gdf(
        [Point(X0 + 1125, Y0), Point(X0 + 1126, Y0)], id=["in", "out"], population=[10.0, 10.0]
    )
    gp = gdf([Point(X0, Y0)], kind=["doctor"], capacity=[1.0])
    q = gdf([box(X0, Y0 - 5, X0 + 3000, Y0 + 5)], code=["Q1"], name=["Q"])
    c = floating_catchment(homes, gp, q, network=net)
    # D = 10 * 0.1 = 1, R = 1: A(in) = 0.1 * 1 * 1e4, A(out) = 0 (placed, nothing in reach)
    assert c.homes["doctor_access_per_10k"].tolist() == pytest.approx([1000.0, 0.0])


# --- against PySAL access -----------------------------------------------------------------------


def grid_town(seed: int = 3):
    rng = np.random.default_rng(seed)
    side, block = 12, 80.0
    lines = []
    for i in range(side):
        lines.append(LineString([(X0 + i * block, Y0), (X0 + i * block, Y0 + (side - 1) * block)]))
        lines.append(LineString([(X0, Y0 + i * block), (X0 + (side - 1) * block, Y0 + i * block)]))
    net = WalkNetwork.from_lines(gdf(lines), crs=L93)
    span = (side - 1) * block
    hxy = rng.uniform(0, span, (120, 2)) + np.array([X0, Y0])
    fxy = rng.uniform(0, span, (9, 2)) + np.array([X0, Y0])
    homes = gdf(
        [Point(x, y) for x, y in hxy],
        id=[f"h{i}" for i in range(len(hxy))],
        population=rng.integers(1, 60, len(hxy)).astype(float),
    )
    facs = gdf(
        [Point(x, y) for x, y in fxy],
        id=[f"f{i}" for i in range(len(fxy))],
        kind=["doctor"] * len(fxy),
        capacity=rng.uniform(0.2, 3.0, len(fxy)),
    )
    q = gdf([box(X0, Y0, X0 + span / 2, Y0 + span)], code=["Q1"], name=["Ouest"])
    return net, homes, facs, q


@pytest.mark.filterwarnings("ignore:The inplace keyword")
@pytest.mark.parametrize("method", ["2sfca", "e2sfca"])
def test_equals_pysal_access(method):
    access = pytest.importorskip("access")
    net, homes, facs, q = grid_town()
    bands = ((4.0, 1.0), (7.0, 0.5), (10.0, 0.2))
    c = floating_catchment(homes, facs, q, network=net, method=method, bands=bands)
    tt = travel_times(homes, facs, network=net, max_time_min=10.0)
    cost = pd.DataFrame(
        {
            "origin": tt.home_ids[tt.home],
            "dest": tt.facility_ids[tt.facility],
            "cost": tt.time_min,
        }
    )
    dem = pd.DataFrame({"geoid": homes["id"], "pop": homes["population"]})
    sup = pd.DataFrame({"geoid": facs["id"], "cap": facs["capacity"]})
    a = access.Access(
        demand_df=dem, demand_index="geoid", demand_value="pop",
        supply_df=sup, supply_index="geoid", supply_value="cap",
        cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost",
    )  # fmt: skip
    if method == "2sfca":
        ref = a.two_stage_fca(max_cost=10.0)["2sfca_cap"]
    else:
        fn = access.weights.step_fn(dict(bands))
        ref = a.enhanced_two_stage_fca(max_cost=10.0, weight_fn=fn)["e2sfca_cap"]
    ours = c.homes["doctor_access_per_10k"] / 1e4
    ref = ref.reindex(ours.index).fillna(0.0)  # (PySAL leaves out homes that reach nothing)
    assert (ref > 0).sum() > 50
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-15)


# --- the travel-time engine ---------------------------------------------------------------------


def test_travel_times_match_networkx_and_nearest_facility():
    net, homes, facs, _ = grid_town(5)
    tt = travel_times(homes, facs, network=net, max_time_min=1e6)
    # every pair is there, and the nearest per home is nearest_facility's
    assert len(tt.home) == len(homes) * len(facs)
    m = np.full((len(homes), len(facs)), np.nan)
    m[tt.home, tt.facility] = tt.time_min
    near = nearest_facility(homes, facs, network=net)
    np.testing.assert_allclose(m.min(axis=1), near["doctor_time_min"].to_numpy(), rtol=1e-12)
    # one pair against networkx: snap + graph distance between the snapped points
    g = nx.Graph()
    for e, (u, v) in enumerate(net.edge_ends):
        g.add_edge(int(u), int(v), w=float(net.edge_length[e]))
    hs = net.snap(homes.iloc[[7]])
    fs = net.snap(facs.iloc[[2]])
    best = np.inf
    eh, ah = int(hs["edge"].iloc[0]), float(hs["along_m"].iloc[0])
    ef, af = int(fs["edge"].iloc[0]), float(fs["along_m"].iloc[0])
    for nu, cu in ((net.edge_u[eh], ah), (net.edge_v[eh], net.edge_length[eh] - ah)):
        for nv, cv in ((net.edge_u[ef], af), (net.edge_v[ef], net.edge_length[ef] - af)):
            best = min(best, cu + cv + nx.shortest_path_length(g, int(nu), int(nv), weight="w"))
    if eh == ef:
        best = min(best, abs(ah - af))
    total = best + hs["snap_distance_m"].iloc[0] + fs["snap_distance_m"].iloc[0]
    assert m[7, 2] == pytest.approx(total / 75.0, rel=1e-12)


def test_travel_times_entrances_and_euclidean():
    net = WalkNetwork.from_lines(gdf([LineString([(X0, Y0), (X0 + 1000, Y0)])]), crs=L93)
    homes = gdf([Point(X0 + 900, Y0 + 3)], population=[1.0])
    # a building with two entrances: the east one (x=800) is 100 m + 3 m snap away
    fac = gdf([MultiPoint([(X0, Y0), (X0 + 800, Y0)])], kind=["ccas"])
    tt = travel_times(homes, fac, network=net, max_time_min=5)
    assert tt.time_min.tolist() == pytest.approx([103 / 75])
    flat = travel_times(homes, gdf([Point(X0 + 900, Y0 + 78)]), max_time_min=1)
    assert flat.method == "euclidean" and flat.time_min.tolist() == pytest.approx([1.0])
    assert len(travel_times(homes, gdf([Point(X0 + 900, Y0 + 79)]), max_time_min=1).home) == 0


# --- rows, inputs and errors --------------------------------------------------------------------


def test_comparison_rows_and_age_weights():
    net, homes, gps, q = line_town()
    town = gdf([box(X0 - 10, Y0 - 50, X0 + 1100, Y0 + 50)], code=["02722"])
    young = homes.assign(age_0_14=[50.0, 0.0, 0.0], age_15_plus=[50.0, 200.0, 300.0])
    c = floating_catchment(
        young, gps, q, network=net, communes=town, age_weights={"age_0_14": 2.0, "age_15_plus": 1.0}
    )
    assert_metric_table(c.table, q, levels=("kind",))
    assert list(c.table.index.get_level_values(0)) == ["Q1", "qpv", "commune", "hors_qpv"]
    # demand: H1 = 2*50 + 50 = 150 instead of 100; D1 = 150 + 60 = 210, D2 = 45 + 60 + 300 = 405
    assert c.facilities["demand"].tolist() == pytest.approx([210.0, 405.0])
    # H3 (x=1200) is outside the commune: hors_qpv has no home
    assert c.table.loc[("hors_qpv", "doctor"), "n_homes"] == 0
    assert c.table.loc[("hors_qpv", "doctor"), "reason"] == "no home in this row"
    assert np.isnan(c.table.loc[("hors_qpv", "doctor"), "access_per_10k"])


def test_home_off_the_network_is_nan_with_count():
    net, homes, gps, q = line_town()
    far = pd.concat([homes, gdf([Point(X0 + 300, Y0 + 40)], id=["far"], population=[50.0])])
    c = floating_catchment(far, gps, q, network=net, max_snap_m=20)
    assert np.isnan(c.homes.loc["far", "doctor_access_per_10k"])
    row = c.table.loc[("Q1", "doctor")]
    assert row["n_unreachable"] == 1 and row["n_residents"] == 350.0


def test_bad_inputs_are_named():
    net, homes, gps, q = line_town()
    with pytest.raises(DataValidationError, match="feature F2, field 'capacity'"):
        floating_catchment(homes, gps.assign(capacity=[1.0, -2.0]), q, network=net)
    with pytest.raises(DataValidationError, match="no 'capacity' column"):
        floating_catchment(homes, gps.drop(columns="capacity"), q, network=net)
    with pytest.raises(DataValidationError, match="feature H2, field 'population'"):
        floating_catchment(homes.assign(population=[1.0, None, 3.0]), gps, q, network=net)
    with pytest.raises(CdvGeoError, match="increasing"):
        floating_catchment(homes, gps, q, network=net, bands=((10, 1), (5, 0.5)))
    with pytest.raises(CdvGeoError, match="method"):
        floating_catchment(homes, gps, q, network=net, method="3sfca")
    # supply=None counts facilities: the result is then per facility, not per FTE
    c = floating_catchment(homes, gps.drop(columns="capacity"), q, network=net, supply=None)
    assert c.facilities["supply"].tolist() == [1.0, 1.0]


def test_default_bands_are_the_apl_steps():
    assert APL_BANDS == ((5.0, 1.0), (10.0, 0.3), (15.0, 0.1))


def test_compiled_walks_equal_the_numpy_path():
    # the numba kernel and scipy's Dijkstra give the same pairs and distances
    from cdv_geo.metrics.catchment_times import _network_pairs
    from cdv_geo.metrics.walking import facility_seeds, point_xy

    net, homes, facs, _ = grid_town(7)
    xy = point_xy(np.asarray(homes.geometry.values, dtype=object))
    edge, along, snap = net.snap_xy(xy, max_snap_m=200)
    seeds = facility_seeds(net, np.asarray(facs.geometry.values, dtype=object), 200)
    out = []
    for compiled in (True, False):
        h, f, d = _network_pairs(net, edge, along, snap, seeds, len(facs), 600.0, compiled=compiled)
        order = np.lexsort((f, h))
        out.append((h[order], f[order], d[order]))
    (h1, f1, d1), (h2, f2, d2) = out
    assert len(h1) > 200
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_allclose(d1, d2, rtol=1e-12)


@pytest.mark.parametrize(
    "alias", ["capacite", "capacité", "ETP", "nb_places", "places", "guichets"]
)
def test_capacity_field_aliases_and_validation(alias):
    from cdv_geo.schema import validate

    raw = gdf(
        [Point(0, 0), Point(1, 1)], nom=["a", "b"], type=["ccas", "ccas"], **{alias: ["2,5", 3]}
    )
    assert validate(raw, "facilities")["capacity"].tolist() == [2.5, 3.0]
    bad = gdf([Point(0, 0)], nom=["a"], type=["ccas"], **{alias: [-1]})
    with pytest.raises(DataValidationError, match="field 'capacity'"):
        validate(bad, "facilities")


def test_opening_hours_field_aliases():
    from cdv_geo.schema import validate

    for alias in ("horaires", "heures_ouverture", "opening_hours"):
        raw = gdf([Point(0, 0)], nom=["a"], type=["ccas"], **{alias: ["Tu 09:00-12:00"]})
        assert validate(raw, "facilities")["opening_hours"].tolist() == ["Tu 09:00-12:00"]


def test_two_steps_compiled_equal_the_numpy_path():
    from cdv_geo.core import jit
    from cdv_geo.metrics.catchment import _two_steps, _two_steps_numpy

    rng = np.random.default_rng(11)
    n_pairs, n_homes, n_fac = 5000, 400, 30
    home = rng.integers(0, n_homes, n_pairs)
    fac = rng.integers(0, n_fac - 1, n_pairs)  # (the last facility has no demand)
    t = rng.uniform(0, 16, n_pairs)
    t[:4] = [5.0, 10.0, 15.0, np.nan]  # on the bounds, and a missing time
    upper, weight = np.array([5.0, 10.0, 15.0]), np.array([1.0, 0.3, 0.1])
    args = (home, fac, t, upper, weight, rng.uniform(1, 9, n_homes), rng.uniform(0, 3, n_fac),
            rng.integers(0, 2, n_fac), 2)  # fmt: skip
    out = []
    for fn in (_two_steps, _two_steps_numpy):
        arrays = np.zeros(n_fac), np.zeros(n_fac), np.zeros(2 * n_homes)
        fn(*args, *arrays)
        out.append(arrays)
    for a, b in zip(*out, strict=True):
        np.testing.assert_array_equal(a, b)
    assert out[0][1][-1] == 0.0 and out[0][0][-1] == 0.0
    # (numba present: the kernel compiled, it did not fall back on numpy)
    assert jit.engine() is None or _two_steps.compiled is not None


def test_several_kinds_equal_each_kind_alone():
    net, homes, gps, q = line_town()
    ccas = gdf([Point(X0 + 500, Y0)], id=["C1"], kind=["ccas"], capacity=[4.0])
    both = floating_catchment(homes, pd.concat([gps, ccas]), q, network=net)
    alone = floating_catchment(homes, ccas, q, network=net)
    doctors = floating_catchment(homes, gps, q, network=net)
    cols = ["doctor_access_per_10k", "ccas_access_per_10k"]
    assert both.homes.columns.tolist() == cols
    np.testing.assert_array_equal(both.homes[cols[1]], alone.homes[cols[1]])
    np.testing.assert_array_equal(both.homes[cols[0]], doctors.homes[cols[0]])
    # C1 at x=500: H1 200 m (2.67 min, 1), H2 100 m (1), H3 700 m (9.33 min, 0.3)
    d = 100 + 200 + 0.3 * 300
    assert alone.facilities["demand"].tolist() == pytest.approx([d])
    assert both.table.loc[("Q1", "ccas"), "supply"] == 4.0
