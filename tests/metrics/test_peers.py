"""compare_to_peers and peer_table against hand-computed values and scipy references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import percentileofscore, zscore

from cdv_geo.core.errors import CdvGeoError, DataValidationError
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
