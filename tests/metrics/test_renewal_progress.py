"""renewal_progress.py on the programme of tests/metrics/test_renewal.py (figures by hand)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest

from cdv_geo import CdvGeoError, CdvGeoWarning
from cdv_geo.metrics.renewal_progress import (
    PROGRESS_COLUMNS,
    TIMELINE_COLUMNS,
    renewal_progress,
    renewal_timeline,
)
from cdv_geo.testing import assert_metric_table
from tests.metrics.test_renewal import make_quartiers, make_sites

OPERATIONS = [
    "demolition", "reconstruction", "rehabilitation", "facade_requalification",
    "residentialisation",
]  # fmt: skip


@pytest.fixture
def quartiers() -> gpd.GeoDataFrame:
    return make_quartiers()


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    return make_sites()


def test_progress_of_the_territory(sites) -> None:
    p = renewal_progress(sites)
    assert_metric_table(p, levels=("operation",))
    assert list(p.columns) == list(PROGRESS_COLUMNS)
    assert p.index.get_level_values("operation").tolist() == OPERATIONS
    cols = ["n_planned", "n_in_progress", "n_done", "n_total"]
    assert p.loc[("all", "demolition"), cols].tolist() == [0, 60, 140, 200]
    assert p.loc[("all", "reconstruction"), cols].tolist() == [70, 40, 40, 150]
    assert p.loc[("all", "reconstruction"), "done_share"] == pytest.approx(40 / 150)
    assert (p["name"] == "ensemble").all()


def test_progress_per_quartier(sites, quartiers) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        p = renewal_progress(sites, quartiers)
    assert_metric_table(p, quartiers, levels=("operation",))
    assert len(p) == 4 * 5
    # reconstructions count in the quartier they compensate: QA R1 + R2 + R3
    assert p.loc[("QA", "reconstruction"), "n_total"] == 120
    assert p.loc[("QB", "reconstruction"), "n_planned"] == 20
    assert p.loc[("QC", "reconstruction"), "n_done"] == 10
    # QC demolished nothing: NaN share and its reason, never 0
    assert np.isnan(p.loc[("QC", "demolition"), "done_share"])
    assert p.loc[("QC", "demolition"), "reason"] == "no dwelling in this row"
    # every operation of this programme is attributed to a quartier (R2 and R4 compensate QA
    # and QB), so for each operation the quartier rows add up to the territory row
    per_op = p.drop(index="all", level="quartier").groupby(level="operation")["n_total"].sum()
    assert (per_op == p.xs("all", level="quartier")["n_total"].reindex(per_op.index)).all()


@pytest.mark.filterwarnings("ignore:.*no `compensates`:cdv_geo.CdvGeoWarning")
def test_progress_by_tenure_and_year(sites, quartiers) -> None:
    with pytest.warns(CdvGeoWarning, match=r"no year.*left out of the progress as of 2023"):
        p = renewal_progress(sites, quartiers, by="tenure", year=2023)
    assert_metric_table(p, quartiers, levels=("tenure",))
    # tenures present: social (R2, R3), private_rental (R4), ownership (R1), unknown (the rest)
    assert p.xs("all", level="quartier").index.tolist() == [
        "social", "private_rental", "ownership", "unknown",
    ]  # fmt: skip
    # up to 2023: R3 social 40 in progress (QA), R1 ownership 30 done (QA)
    assert p.loc[("QA", "social"), ["n_in_progress", "n_total"]].tolist() == [40, 40]
    assert p.loc[("all", "ownership"), "n_done"] == 30
    assert p.loc[("all", "private_rental"), "n_total"] == 0  # R4 is dated 2025
    with pytest.raises(CdvGeoError, match="status makes the columns"):
        renewal_progress(sites, by="status")


def test_timeline_cumulative_with_gaps_filled(sites) -> None:
    with pytest.warns(CdvGeoWarning, match=r"no year.*site R5"):
        t = renewal_timeline(sites)
    assert_metric_table(t, levels=("operation", "year"))
    assert list(t.columns) == list(TIMELINE_COLUMNS)
    years = t.index.get_level_values("year")
    assert years.min() == 2019 and years.max() == 2025
    demo = t.xs(("all", "demolition"), level=("quartier", "operation"))
    assert demo["n_dwellings"].to_dict() == {
        2019: 0, 2020: 100, 2021: 40, 2022: 60, 2023: 0, 2024: 0, 2025: 0
    }  # fmt: skip
    assert demo["n_cumulative"].tolist() == [0, 100, 140, 200, 200, 200, 200]
    rec = t.xs(("all", "reconstruction"), level=("quartier", "operation"))["n_cumulative"]
    assert rec.tolist() == [0, 0, 0, 30, 70, 120, 140]  # R5 (undated) left out


def test_timeline_done_only_per_quartier(sites, quartiers) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        t = renewal_timeline(sites, quartiers, statuses=["done"])
    assert_metric_table(t, quartiers, levels=("operation", "year"))
    # done: H1 2019 (QA), D1 2020 (QA), D3 2021 (QB), R1 2022 (QA); R5 undated
    years = sorted(set(t.index.get_level_values("year")))
    assert years == [2019, 2020, 2021, 2022]
    demo = t.xs(("demolition", 2022), level=("operation", "year"))["n_cumulative"]
    assert demo.tolist() == [100, 40, 0, 140]  # D2 (QA) is still in progress
    assert t.xs("QC", level="quartier")["n_dwellings"].sum() == 0
    with pytest.raises(CdvGeoError, match="statuses"):
        renewal_timeline(sites, statuses=["finished"])


def test_timeline_by_status(sites, quartiers) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        t = renewal_timeline(sites, quartiers, by="status")
    assert_metric_table(t, quartiers, levels=("status", "year"))
    planned = t.xs(("all", "planned"), level=("quartier", "status"))["n_dwellings"]
    # R2 50 + F1 80 in 2024, R4 20 in 2025
    assert planned.loc[2024] == 130 and planned.loc[2025] == 20


def test_timeline_without_any_dated_operation_warns(sites) -> None:
    undated = sites.assign(year=None)
    with pytest.warns(CdvGeoWarning, match=r"11 operation\(s\) have no year"):
        t = renewal_timeline(undated)
    assert t.empty and list(t.index.names) == ["quartier", "operation", "year"]
    assert list(t.columns) == list(TIMELINE_COLUMNS)
