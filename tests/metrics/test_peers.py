"""compare_to_peers and peer_table against hand-computed values and scipy references."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import percentileofscore, zscore

from cdv_geo.core.errors import CdvGeoError, CdvGeoWarning, DataValidationError
from cdv_geo.metrics.peers import NOTE, PEER_COLUMNS, compare_to_peers, peer_table

# poverty rate and median income of six QPV in 2017 and 2021, their town and France
POV = {
    "QP000001": (0.40, 0.36),
    "QP000002": (0.42, 0.41),
    "QP000003": (0.20, 0.21),
    "QP000004": (0.38, 0.30),
    "QP000005": (0.60, 0.58),
    "QP000006": (0.44, 0.40),
}
INC = {
    "QP000001": (12000, 12600),
    "QP000002": (12500, 12700),
    "QP000003": (20000, 20500),
    "QP000004": (11000, 12000),
    "QP000005": (9000, 9100),
    "QP000006": (11800, 12200),
}


def _table() -> pd.DataFrame:
    rows = []
    for code in POV:
        for i, year in enumerate((2017, 2021)):
            rows.append((code, "qpv", "poverty_rate", year, POV[code][i]))
            rows.append((code, "qpv", "median_income", year, float(INC[code][i])))
    for code, level, pov, inc in [
        ("02722", "commune", (0.24, 0.23), (18540, 19870)),
        ("Ensemble", "france", (0.43, 0.42), (13000, 13600)),
    ]:
        for i, year in enumerate((2017, 2021)):
            rows.append((code, level, "poverty_rate", year, pov[i]))
            rows.append((code, level, "median_income", year, float(inc[i])))
    return pd.DataFrame(rows, columns=["code", "level", "indicator", "year", "value"])


def test_one_baseline_by_hand() -> None:
    # on the poverty rate alone, QP000001 (0.40) is nearest to 0.38 (QP000004) and 0.42
    # (QP000002) at 0.02 each (tie: smaller code first), then 0.44 (QP000006)
    r = compare_to_peers(_table(), "QP000001", k=3, baseline=["poverty_rate"])
    assert r.attrs["peers"] == ["QP000002", "QP000004", "QP000006"]
    row = r.loc["poverty_rate"]
    assert row["change"] == pytest.approx(-0.04)
    # peer changes: -0.01, -0.08, -0.04 -> median -0.04, quartiles -0.06 and -0.025
    assert row["group_change_median"] == pytest.approx(-0.04)
    assert row["group_change_q1"] == pytest.approx(-0.06)
    assert row["group_change_q3"] == pytest.approx(-0.025)
    assert row["town_change"] == pytest.approx(-0.01)
    assert row["all_qpv_change"] == pytest.approx(-0.01)
    # gap to the group median value: 0.40 - 0.42 = -0.02, then 0.36 - 0.40 = -0.04: wider
    assert row["gap_first"] == pytest.approx(-0.02)
    assert row["gap_last"] == pytest.approx(-0.04)
    assert bool(row["gap_narrowed"]) is False
    # 2017: below 0.40 are 0.20, 0.38 -> (2 + 0.5) / 6; 2021: below 0.36 are 0.21, 0.30
    assert row["percentile_first"] == pytest.approx(100 * 2.5 / 6)
    assert row["percentile_last"] == pytest.approx(100 * 2.5 / 6)
    assert (row["first_year"], row["last_year"], row["n_peers"]) == (2017, 2021, 3)
    assert row["note"] == NOTE and "causal" in r.attrs["note"]
    assert list(r.columns) == list(PEER_COLUMNS)
    inc = r.loc["median_income"]
    assert inc["change"] == pytest.approx(600)
    assert inc["group_change_median"] == pytest.approx(400)  # 200, 1000, 400
    # gap: 12000 - 11800 = 200, then 12600 - 12200 = 400
    assert (inc["gap_first"], inc["gap_last"]) == (200, 400)
    assert bool(inc["gap_narrowed"]) is False
    r4 = compare_to_peers(_table(), "QP000004", k=1, baseline=["poverty_rate"])
    # QP000004 (0.38) is nearest to QP000001 (0.40); gap -0.02 then 0.30 - 0.36 = -0.06
    assert r4.attrs["peers"] == ["QP000001"]
    assert bool(r4.loc["poverty_rate", "gap_narrowed"]) is False
    r3 = compare_to_peers(_table(), "QP000003", k=1, baseline=["median_income"])
    # QP000003 (20000) is nearest to QP000002 (12500): gap 7500 then 20500 - 12700 = 7800
    assert r3.attrs["peers"] == ["QP000002"]
    assert r3.loc["median_income", "gap_last"] == 7800


def test_two_baselines_against_scipy() -> None:
    table = _table()
    codes = sorted(POV)
    base = np.array([[POV[c][0], INC[c][0]] for c in codes])
    z = zscore(base, axis=0, ddof=0)
    full = peer_table(table, k=2, baseline=["poverty_rate", "median_income"])
    for i, code in enumerate(codes):
        d = cdist(z[i : i + 1], z)[0]
        order = [codes[j] for j in np.lexsort((codes, d)) if j != i][:2]
        got = full.loc[(code, "median_income")]
        assert got["peers"] == ";".join(order)
        changes = [INC[p][1] - INC[p][0] for p in order]
        assert got["group_change_median"] == pytest.approx(np.median(changes))
        firsts = [INC[c][0] for c in codes]
        assert got["percentile_first"] == pytest.approx(
            percentileofscore(firsts, INC[code][0], kind="mean")
        )
    one = compare_to_peers(table, "QP000003", k=2, baseline=["poverty_rate", "median_income"])
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True),
        full.xs("QP000003", level="quartier").reset_index(drop=True),
    )


def test_missing_baseline_warns_and_sources() -> None:
    table = _table()
    with pytest.warns(UserWarning, match="under_25_share"):
        r = compare_to_peers(table, "QP000001", k=2)
    assert r.attrs["baseline"] == {"poverty_rate": "2017", "median_income": "2017"}
    mixed = pd.concat([table.assign(source="A"), table.assign(source="B")])
    with pytest.raises(CdvGeoError, match="source="):
        compare_to_peers(mixed, "QP000001", baseline=["poverty_rate"])
    r = compare_to_peers(mixed, "QP000001", k=1, baseline=["poverty_rate"], source="B")
    assert r.attrs["peers"] == ["QP000002"]
    # the baseline comes from the source covering most QPV (a tie here: the first name)
    assert r.attrs["baseline"] == {"poverty_rate": "A 2017 + B 2017"}
    # sources covering different QPV: the baseline takes each QPV from the one that has it
    split = table.assign(source=np.where(table["code"].isin(["QP000005", "QP000006"]), "B", "A"))
    r = compare_to_peers(split, "QP000005", k=1, baseline=["poverty_rate"], source="B")
    assert r.attrs["peers"] == ["QP000006"]  # 0.44 is the nearest to 0.60
    assert r.attrs["baseline"] == {"poverty_rate": "A 2017 + B 2017"}
    r = compare_to_peers(split, "QP000006", k=1, baseline=["poverty_rate"], source="B")
    assert r.attrs["peers"] == ["QP000002"]  # 0.42, of source A, is the nearest to 0.44
    # outcomes of one source, groups matched on another one's baseline
    other = pd.concat([table.assign(source="A"), table.assign(source="C", indicator="x")])
    r = compare_to_peers(other, "QP000001", k=1, baseline=["poverty_rate"], source="C")
    assert r.attrs["peers"] == ["QP000002"] and list(r.index) == ["x"]
    with pytest.raises(CdvGeoError, match="QP999999"):
        compare_to_peers(table, "QP999999", baseline=["poverty_rate"])
    with pytest.raises(DataValidationError, match="baseline"):
        compare_to_peers(table, "QP000001", baseline=["unknown"])


def test_missing_values_are_nan_with_reason() -> None:
    table = _table()
    table = table[~((table["code"] == "QP000001") & (table["year"] == 2021))]
    r = compare_to_peers(table, "QP000001", k=2, baseline=["poverty_rate"], outcomes=["gini"])
    assert np.isnan(r.loc["gini", "change"]) and "not in the table" in r.loc["gini", "reason"]
    r = compare_to_peers(table, "QP000001", k=2, baseline=["poverty_rate"])
    row = r.loc["poverty_rate"]
    assert np.isnan(row["change"]) and "2021" in row["reason"]
    assert pd.isna(row["gap_narrowed"])


def test_real_insee_files() -> None:
    """REVN 2017 and 2022 as INSEE publishes them (TP60 column, read by hand from the files)."""
    from pathlib import Path

    from cdv_geo.io.insee import read_indicators

    folder = Path("/work/shared/real-data/insee-qpv")
    if not folder.exists():
        pytest.skip("real INSEE extracts not available")
    table = read_indicators([folder / "REVN_2017.csv", folder / "REVN_2022.csv"])
    r = compare_to_peers(
        table, "QP002012", k=2, baseline=["poverty_rate"], outcomes=["poverty_rate"]
    )
    row = r.loc["poverty_rate"]
    # 2017 TP60: QP002012 44.9, QP002013 55.1, QP002014 65.6, QP02A001 41.8, QP093001 37.8,
    # QP974001 empty; 2022: 45.2, 57.0, 61.1, 45.3, 37.5, 59.7
    assert r.attrs["peers"] == ["QP02A001", "QP093001"]  # 0.031 and 0.071 away
    assert row["change"] == pytest.approx(0.003)
    assert row["group_change_median"] == pytest.approx((0.035 - 0.003) / 2)
    assert row["percentile_first"] == pytest.approx(50.0)  # (2 + 0.5) / 5
    assert row["percentile_last"] == pytest.approx(25.0)  # (1 + 0.5) / 6
    assert row["gap_first"] == pytest.approx(0.449 - 0.398)
    assert row["gap_last"] == pytest.approx(0.452 - 0.414)
    assert bool(row["gap_narrowed"]) is True
    # the Ensemble row publishes no TP60: missing, with its reason
    assert np.isnan(row["all_qpv_change"]) and "Ensemble" in row["reason"]


def _random_table(seed: int) -> pd.DataFrame:
    """40 QPV in three territories: coarse values (many ties), some missing."""
    rng = np.random.default_rng(seed)
    rows = []
    for n, number in enumerate(rng.choice(999999, size=40, replace=False)):
        code = f"QP{number:06d}"
        territory = ("tA", "tB", "tC")[n % 3]
        for year in (2017, 2021):
            for ind, value in [
                ("poverty_rate", float(rng.choice([0.1, 0.2, 0.3, 0.4]))),
                ("median_income", float(rng.choice([9000, 10000, 12000]))),
                ("unemployment", round(float(rng.uniform(0.05, 0.3)), 2)),
            ]:
                missing = rng.random() < 0.15
                rows.append((code, "qpv", ind, year, np.nan if missing else value, territory))
    for code, territory in [("91001", "tA"), ("91002", "tB"), ("91003", "tB")]:
        for year, value in [(2017, 0.2), (2021, 0.25)]:
            for ind in ("poverty_rate", "median_income", "unemployment"):
                rows.append((code, "commune", ind, year, value, territory))
    for year, value in [(2017, 0.3), (2021, 0.28)]:
        rows.append(("Ensemble", "france", "poverty_rate", year, value, None))
    return pd.DataFrame(rows, columns=["code", "level", "indicator", "year", "value", "territory"])


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    import statistics

    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q2, q1, q3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_table_against_per_quartier_reference(seed: int) -> None:
    """peer_table against a plain loop over quartiers written from the documented rules."""
    import math
    import statistics

    table = _random_table(seed)
    k, base = 5, ["poverty_rate", "median_income"]
    qpv = table[table["level"] == "qpv"]
    val = {(r.code, r.indicator, r.year): r.value for r in qpv.itertuples()}
    codes = list(dict.fromkeys(qpv["code"]))
    # baseline z-scores (2017, over the QPV that have the value, ddof 0); None when missing
    z: dict[str, list[float | None]] = {c: [] for c in codes}
    for ind in base:
        known = {c: val[c, ind, 2017] for c in codes if not math.isnan(val[c, ind, 2017])}
        mean, sd = statistics.fmean(known.values()), statistics.pstdev(known.values())
        for c in codes:
            z[c].append((known[c] - mean) / sd if c in known else None)
    territory = dict(zip(qpv["code"], qpv["territory"], strict=False))
    got = peer_table(table, k=k, baseline=base)
    # quartiers and indicators in sorted order, quartier by quartier
    inds = sorted(set(table["indicator"]))
    assert list(got.index) == [(c, i) for c in sorted(codes) for i in inds]
    for c in codes:
        dims = [j for j, v in enumerate(z[c]) if v is not None]
        dist = []
        for o in codes:
            if o != c and all(z[o][j] is not None for j in dims):
                d = math.sqrt(sum((z[o][j] - z[c][j]) ** 2 for j in dims))  # type: ignore[operator]
                dist.append((round(d, 9), o))
        peers = [o for _, o in sorted(dist)[:k]] if dims else []
        for ind in ("poverty_rate", "median_income", "unemployment"):
            row = got.loc[(c, ind)]
            assert row["peers"] == ";".join(peers) and row["n_peers"] == len(peers)
            v0, v1 = val[c, ind, 2017], val[c, ind, 2021]
            assert row["change"] == pytest.approx(v1 - v0, nan_ok=True)
            changes = [val[p, ind, 2021] - val[p, ind, 2017] for p in peers]
            changes = [x for x in changes if not math.isnan(x)]
            expected = _quartiles(changes) if changes else (np.nan,) * 3
            for name, x in zip(("median", "q1", "q3"), expected, strict=True):
                assert row[f"group_change_{name}"] == pytest.approx(x, abs=1e-12, nan_ok=True)
            gaps = []
            for when, v in ((2017, v0), (2021, v1)):
                alls = [val[o, ind, when] for o in codes if not math.isnan(val[o, ind, when])]
                pct = np.nan if math.isnan(v) else percentileofscore(alls, v, kind="mean")
                suffix = "first" if when == 2017 else "last"
                assert row[f"percentile_{suffix}"] == pytest.approx(pct, nan_ok=True)
                group = [val[p, ind, when] for p in peers if not math.isnan(val[p, ind, when])]
                gap = v - statistics.median(group) if group else np.nan
                assert row[f"gap_{suffix}"] == pytest.approx(gap, abs=1e-12, nan_ok=True)
                gaps.append(gap)
            if any(math.isnan(g) for g in gaps):
                assert pd.isna(row["gap_narrowed"])
            else:
                assert bool(row["gap_narrowed"]) is bool(abs(gaps[1]) < abs(gaps[0]))
            # the town of tA is 91001 (0.2 -> 0.25); tB has two communes, tC none
            expected_town = 0.05 if territory[c] == "tA" else np.nan
            assert row["town_change"] == pytest.approx(expected_town, nan_ok=True)
            everyone = -0.02 if ind == "poverty_rate" else np.nan
            assert row["all_qpv_change"] == pytest.approx(everyone, nan_ok=True)
            assert ("no value for 2017 and 2021" in str(row["reason"])) is math.isnan(v1 - v0)
            assert ("town not known" in str(row["reason"])) is (territory[c] != "tA")


NATIONAL = Path("/work/shared/real-data/insee-qpv-national")


def _published(path: Path, column: str) -> pd.Series:
    """A column of a published REVN file for every QPV, read with pandas (not the reader)."""
    raw = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig").set_index("CODGEO")
    col = raw.loc[raw.index.str.startswith("QP"), column].dropna()
    return col.str.replace("\u202f", "").str.replace(" ", "").str.replace(",", ".").astype(float)


@pytest.mark.skipif(not NATIONAL.is_dir(), reason="national REVN files not available")
def test_national_folder_soissons_presles() -> None:
    """The whole national folder in one read_indicators call, then Presles against its peers."""
    from cdv_geo.io.insee import read_indicators

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)  # the published negative PPAT (noted)
        table = read_indicators(NATIONAL, progress=False)
    r = compare_to_peers(
        table,
        "QP002013",
        k=5,
        baseline=["poverty_rate", "median_income"],
        outcomes=["poverty_rate", "median_income"],
        source="revn",
    )
    pov17 = _published(NATIONAL / "REVN_2017.csv", "TP60") / 100
    pov22 = _published(NATIONAL / "REVN_2022.csv", "TP60") / 100
    inc17 = _published(NATIONAL / "REVN_2017.csv", "DISP_Q2")
    # the quartier's own values are the files' cells
    row = r.loc["poverty_rate"]
    assert row["value_first"] == pytest.approx(pov17["QP002013"])
    assert row["value_last"] == pytest.approx(pov22["QP002013"])
    assert row["change"] == pytest.approx(pov22["QP002013"] - pov17["QP002013"])
    # the peers: the 5 nearest QPV of the 2017 file on the z-scored baseline (scipy)
    base = pd.concat([pov17, inc17], axis=1, keys=["pov", "inc"]).dropna()
    z = (base - base.mean()) / base.std(ddof=0)
    codes = list(base.index)
    d = cdist(z.loc[["QP002013"]].to_numpy(), z.to_numpy())[0]
    order = [codes[j] for j in np.lexsort((codes, d)) if codes[j] != "QP002013"][:5]
    peers = r.attrs["peers"]
    assert len(peers) == 5 and "QP002013" not in peers
    assert set(peers) <= set(pov17.index)  # drawn from the file's codes
    assert peers == order
    changes = [pov22[p] - pov17[p] for p in peers]
    assert row["group_change_median"] == pytest.approx(float(np.median(changes)))
