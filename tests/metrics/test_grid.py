"""metrics/grid.py and io/grid.py: Filosofi squares to quartiers, against tobler, conservation,
hand-computed dwelling weights; the per-quartier table contract (quartiers, qpv, commune,
hors_qpv)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely import Polygon, box
from tobler.area_weighted import area_interpolate

from cdv_geo import CdvGeoWarning, CRSError, DataValidationError
from cdv_geo.io.grid import read_grid
from cdv_geo.metrics.grid import interpolate_grid
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0


def grid_3035(nx: int = 6, ny: int = 5, seed: int = 0) -> gpd.GeoDataFrame:
    """Filosofi-like 200 m squares (EPSG:3035) over Soissons, capitalised like older vintages."""
    x, y = Transformer.from_crs(4326, 3035, always_xy=True).transform(3.32, 49.38)
    x, y = x // 200 * 200, y // 200 * 200
    rng = np.random.default_rng(seed)
    n = nx * ny
    cells = [box(x + 200 * i, y + 200 * j, x + 200 * (i + 1), y + 200 * (j + 1))
             for i in range(nx) for j in range(ny)]  # fmt: skip
    ind = rng.integers(20, 300, n).astype(float)
    men = np.floor(ind / rng.uniform(1.8, 2.8, n))
    return gpd.GeoDataFrame(
        {
            "Idcar_200m": [f"CRS3035RES200mN{int(c.bounds[1])}E{int(c.bounds[0])}" for c in cells],
            "Ind": ind,
            "Men": men,
            "Men_pauv": np.floor(men * rng.uniform(0.05, 0.5, n)),
            "Ind_snv": ind * rng.uniform(12000, 26000, n),
            "Mean_age": rng.uniform(0, 1, n),
        },
        geometry=cells,
        crs=3035,
    )


def two_quartiers(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two quartiers (Lambert-93) cutting squares in odd places, not covering the whole grid."""
    b = grid.to_crs(2154).total_bounds
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    a = Polygon([(cx - 500, cy - 400), (cx + 100, cy - 450), (cx + 150, cy + 300),
                 (cx - 420, cy + 350)])  # fmt: skip
    return gpd.GeoDataFrame(
        {"code": ["QA", "QB"], "name": ["A", "B"]},
        geometry=[a, box(cx + 150, cy - 300, cx + 520, cy + 200)],
        crs=2154,
    )


EXT = ["ind", "men", "men_pauv", "ind_snv"]


def test_agrees_with_tobler_area_interpolate() -> None:
    g = grid_3035()
    q = two_quartiers(g)
    full = interpolate_grid(g, q, extensive=EXT, intensive=["mean_age"])
    assert_metric_table(full, q)
    assert list(full.index) == ["QA", "QB", "qpv"]  # no communes: no commune row
    out = full.loc[["QA", "QB"]]
    src = g.to_crs(2154).rename(columns=str.lower)
    ref = area_interpolate(src, q, extensive_variables=EXT, intensive_variables=["mean_age"],
                           allocate_total=False)  # fmt: skip
    for c in [*EXT, "mean_age"]:
        np.testing.assert_allclose(out[c].to_numpy(), ref[c].to_numpy(), rtol=1e-6, err_msg=c)
    # the comparison rows are interpolated on their own polygons, as tobler does
    union = shapely.union_all(q.geometry.to_numpy())
    b = g.to_crs(2154).total_bounds
    town_shape = box(b[0] + 150, b[1] + 120, b[2] - 90, b[3] - 60)  # cuts the edge squares
    town = gpd.GeoDataFrame({"code": ["02722"]}, geometry=[town_shape], crs=2154)
    rows = interpolate_grid(g, q, extensive=EXT, intensive=["mean_age"], communes=town)
    assert_metric_table(rows, q)
    assert list(rows.index) == ["QA", "QB", "qpv", "commune", "hors_qpv"]
    targets = gpd.GeoDataFrame(geometry=[union, town_shape, town_shape.difference(union)], crs=2154)
    tref = area_interpolate(src, targets, extensive_variables=EXT,
                            intensive_variables=["mean_age"], allocate_total=False)  # fmt: skip
    for c in [*EXT, "mean_age"]:
        np.testing.assert_allclose(
            rows.loc[["qpv", "commune", "hors_qpv"], c].to_numpy(), tref[c].to_numpy(),
            rtol=1e-6, err_msg=c,
        )  # fmt: skip
    pd.testing.assert_frame_equal(rows.loc[["QA", "QB", "qpv"]], full)
    # ratios after summing the counts (from tobler's sums), not averaged over squares
    np.testing.assert_allclose(out["mean_living_standard"], ref["ind_snv"] / ref["ind"], rtol=1e-6)
    np.testing.assert_allclose(out["poor_household_share"], ref["men_pauv"] / ref["men"], rtol=1e-6)
    averaged = area_interpolate(src.assign(r=src["ind_snv"] / src["ind"]), q,
                                intensive_variables=["r"])["r"]  # fmt: skip
    assert not np.allclose(out["mean_living_standard"], averaged, rtol=1e-3)
    assert (out["covered_share"] > 0.999).all()  # both quartiers lie inside the grid


def test_conservation_when_quartiers_tile_the_grid() -> None:
    g = grid_3035(5, 4, seed=3)
    union = shapely.union_all(g.to_crs(2154).geometry.to_numpy())
    b = union.bounds
    cut = Polygon([(b[0] - 10, b[1] - 10), (b[0] + 430, b[1] - 10), (b[0] + 610, b[3] + 10),
                   (b[0] - 10, b[3] + 10)])  # fmt: skip
    q = gpd.GeoDataFrame(
        {"code": ["QW", "QE"], "name": ["W", "E"]},
        geometry=[union.intersection(cut), union.difference(cut)],
        crs=2154,
    )
    town = gpd.GeoDataFrame(geometry=[union], crs=2154)
    full = interpolate_grid(g, q, extensive=EXT, communes=town)
    assert_metric_table(full, q)
    out = full.loc[["QW", "QE"]]
    for c in EXT:
        assert out[c].sum() == pytest.approx(g[c.capitalize()].sum(), rel=1e-9), c
        # the commune and qpv rows cover every square: the grid's total
        assert full.loc["commune", c] == pytest.approx(g[c.capitalize()].sum(), rel=1e-9), c
        assert full.loc["qpv", c] == pytest.approx(g[c.capitalize()].sum(), rel=1e-9), c
    assert full.loc["commune", "n_cells"] == len(g)
    # the quartiers are the whole commune: nothing (at most a floating-point sliver) outside
    assert (full.loc["hors_qpv", EXT].fillna(0.0).abs() < 1e-6).all()
    ref = area_interpolate(g.to_crs(2154).rename(columns=str.lower), q, extensive_variables=EXT)
    np.testing.assert_allclose(out["ind"], ref["ind"], rtol=1e-6)  # tobler's default too


def test_residence_weighting_follows_dwellings() -> None:
    # two squares; quartier Q1 covers the west half of each, Q2 the east half
    x, y = X0, Y0
    g = gpd.GeoDataFrame({"ind": [100.0, 60.0], "mean_age": [0.2, 0.6]},
                         geometry=[box(x, y, x + 200, y + 200), box(x, y + 200, x + 200, y + 400)],
                         crs=2154)  # fmt: skip
    q = gpd.GeoDataFrame({"code": ["Q1", "Q2"], "name": ["W", "E"]},
                         geometry=[box(x, y, x + 100, y + 400), box(x + 100, y, x + 200, y + 400)],
                         crs=2154)  # fmt: skip
    # square 1: 30 dwellings west, 10 east; square 2: no residence (area fallback)
    res = gpd.GeoDataFrame({"dwellings": [30, 10]},
                           geometry=[shapely.Point(x + 50, y + 50), shapely.Point(x + 150, y + 50)],
                           crs=2154)  # fmt: skip
    with pytest.warns(CdvGeoWarning, match="1 grid square"):
        out = interpolate_grid(g, q, extensive=["ind"], intensive=["mean_age"], residences=res)
    assert_metric_table(out, q)
    # qpv: both squares lie in the quartiers' union, whole
    assert out.loc["qpv", "ind"] == pytest.approx(160)
    out = out.loc[["Q1", "Q2"]]
    assert out["ind"].tolist() == pytest.approx([100 * 0.75 + 60 * 0.5, 100 * 0.25 + 60 * 0.5])
    # intensive: dwelling-weighted within each quartier (square 2 has none, weight 0)
    assert out["mean_age"].tolist() == pytest.approx([0.2, 0.2])
    area = interpolate_grid(g, q, extensive=["ind"])
    assert area["ind"].loc[["Q1", "Q2"]].tolist() == pytest.approx([80.0, 80.0])


def test_secret_square_makes_the_sum_missing(square_quartiers) -> None:
    x, y = X0, Y0
    g = gpd.GeoDataFrame(
        {"ind": ["120", "s"], "mean_age": ["0,5", "nd"]},
        geometry=[box(x, y, x + 500, y + 500), box(x + 500, y, x + 1000, y + 500)],
        crs=2154,
    )
    with pytest.warns(CdvGeoWarning, match=r"ind \(QB, qpv\)"):
        out = interpolate_grid(g, square_quartiers, extensive=["ind"], intensive=["mean_age"])
    assert_metric_table(out, square_quartiers)
    assert "secret" in out.loc["QB", "reason"]
    assert out.loc["QA", "ind"] == 120.0 and math.isnan(out.loc["QB", "ind"])
    assert out.loc["QA", "mean_age"] == 0.5 and math.isnan(out.loc["QB", "mean_age"])


def test_read_grid_from_idcar_codes_and_file(tmp_path) -> None:
    g = grid_3035()
    csv = tmp_path / "filo.csv"
    g.drop(columns="geometry").to_csv(csv, sep=";", index=False)
    from_csv = read_grid(csv)
    assert from_csv.crs.to_epsg() == 3035
    assert list(from_csv.columns[:3]) == ["idcar_200m", "ind", "men"]
    assert from_csv.geometry.geom_equals_exact(g.geometry, tolerance=0).all()
    q = two_quartiers(g)
    a = interpolate_grid(csv, q, extensive=EXT)
    b = interpolate_grid(g, q, extensive=EXT)
    pd.testing.assert_frame_equal(a, b)
    gpkg = tmp_path / "filo.gpkg"
    g.to_file(gpkg)
    assert list(read_grid(gpkg).columns[:2]) == ["idcar_200m", "ind"]


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_grid_without_crs_names_the_file(tmp_path, square_quartiers) -> None:
    g = grid_3035().set_crs(None, allow_override=True)
    shp = tmp_path / "carreaux.shp"
    g.to_file(shp)
    with pytest.raises(CRSError) as exc:
        read_grid(shp)
    msg = str(exc.value)
    assert str(shp) in msg and "EPSG:3035" in msg and "no coordinate reference system" in msg
    # the hint follows the coordinates: LAEA ones fit EPSG:3035 only, never Lambert-93
    with pytest.raises(CRSError, match='fit crs="EPSG:3035"') as exc:
        interpolate_grid(g, square_quartiers)
    assert "EPSG:2154" not in str(exc.value)
    # told the CRS, the file reads and interpolates as the original
    q = two_quartiers(grid_3035())
    a = interpolate_grid(read_grid(shp, crs=3035), q, extensive=["ind"])
    b = interpolate_grid(grid_3035(), q, extensive=["ind"])
    assert a["ind"].loc[["QA", "QB"]].gt(0).all()
    np.testing.assert_allclose(a["ind"], b["ind"], rtol=1e-9)


def test_grid_bad_columns(square_quartiers) -> None:
    g = grid_3035()
    with pytest.raises(DataValidationError, match=r"no column log_soc; it has idcar_200m, ind"):
        interpolate_grid(g, square_quartiers, extensive=["ind", "log_soc"])
    with pytest.raises(DataValidationError, match=r"ratios x = ind_snv / men_pauv need both"):
        interpolate_grid(g, square_quartiers, extensive=["ind"],
                         ratios={"x": ("ind_snv", "men_pauv")})  # fmt: skip
    bad = g.assign(Ind=g["Ind"].astype(object))
    bad.loc[3, "Ind"] = "beaucoup"
    with pytest.raises(DataValidationError) as exc:
        interpolate_grid(bad, two_quartiers(g), extensive=["ind"])
    assert bad.loc[3, "Idcar_200m"] in str(exc.value) and "'ind'" in str(exc.value)


def test_demo_grid_follows_the_residences() -> None:
    import cdv_geo as cg

    t = cg.datasets.soissons()
    # weighting the squares by residents gives back the residents of each quartier, counted here
    # independently with a spatial join of the residences' representative points
    res = t.residences.to_crs(2154)
    pts = gpd.GeoDataFrame(res[["population"]], geometry=res.geometry.representative_point())
    joined = gpd.sjoin(pts, t.quartiers.to_crs(2154)[["code", "geometry"]], predicate="within")
    expected = joined.groupby("code")["population"].sum().astype(float)
    out = interpolate_grid(
        t.tables["income_grid"], t.quartiers, extensive=["ind"], residences=t.residences,
        weight="population", communes=t.communes,
    )  # fmt: skip
    assert_metric_table(out, t.quartiers)
    # (the grid rounds each square's residents to 0.1)
    q = out.loc[list(t.quartiers["code"])]
    np.testing.assert_allclose(q["ind"], expected.reindex(q.index), atol=1.0)
    # the qpv row is the quartiers together; the commune row holds them and the rest of the town
    assert out.loc["qpv", "ind"] == pytest.approx(q["ind"].sum(), abs=1.0)
    assert out.loc["commune", "ind"] == pytest.approx(
        out.loc["qpv", "ind"] + out.loc["hors_qpv", "ind"], abs=1.0
    )
    assert out.loc["hors_qpv", "ind"] > 0


def test_territory_is_the_old_name_of_communes() -> None:
    g = grid_3035()
    q = two_quartiers(g)
    town = gpd.GeoDataFrame(geometry=[shapely.union_all(q.geometry.to_numpy())], crs=2154)
    with pytest.warns(DeprecationWarning, match="communes"):
        old = interpolate_grid(g, q, extensive=EXT, territory=town)
    pd.testing.assert_frame_equal(old, interpolate_grid(g, q, extensive=EXT, communes=town))
    with pytest.raises(ValueError, match="communes= only"):
        interpolate_grid(g, q, extensive=EXT, communes=town, territory=town)


def test_quartier_outside_the_grid_is_missing_not_zero() -> None:
    g = grid_3035()
    q = two_quartiers(g)
    far_away = box(X0 + 50_000, Y0, X0 + 50_500, Y0 + 500)
    far = gpd.GeoDataFrame({"code": ["QF"], "name": ["Far"]}, geometry=[far_away], crs=2154)
    both = pd.concat([q, far], ignore_index=True)
    with pytest.warns(CdvGeoWarning, match=r"no grid square touches QF"):
        out = interpolate_grid(g, both, extensive=EXT)
    assert_metric_table(out, both)
    assert out.loc["QF", EXT].isna().all() and out.loc["QF", "n_cells"] == 0
    assert "no grid square" in out.loc["QF", "reason"]
    ref = interpolate_grid(g, q, extensive=EXT)
    pd.testing.assert_frame_equal(out.loc[["QA", "QB"], EXT], ref.loc[["QA", "QB"], EXT])
