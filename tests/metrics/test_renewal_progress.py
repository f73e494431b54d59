"""renewal_progress.py on the programme of tests/metrics/test_renewal.py (figures by hand)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
from shapely import box

from cdv_geo import CdvGeoError, CdvGeoWarning
from cdv_geo.metrics.renewal_progress import (
    PROGRESS_COLUMNS,
    TIMELINE_COLUMNS,
    renewal_progress,
    renewal_timeline,
)
from cdv_geo.testing import assert_metric_table
from tests.conftest import X0, Y0
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


@pytest.fixture
def town() -> gpd.GeoDataFrame:
    """The commune: x in [-100, 2600], every site but R4 (x=4200, in another town's QPV)."""
    return gpd.GeoDataFrame(
        {"code": ["02722"], "name": ["Soissons"]},
        geometry=[box(X0 - 100, Y0 - 100, X0 + 2600, Y0 + 600)],
        crs=2154,
    )


def test_progress_of_the_commune_alone(sites, town) -> None:
    p = renewal_progress(sites, communes=town)
    assert_metric_table(p, levels=("operation",))
    assert list(p.columns) == list(PROGRESS_COLUMNS)
    assert p.index.get_level_values("operation").tolist() == OPERATIONS
    assert set(p.index.get_level_values("quartier")) == {"commune"}
    cols = ["n_planned", "n_in_progress", "n_done", "n_total"]
    assert p.loc[("commune", "demolition"), cols].tolist() == [0, 60, 140, 200]
    # R4 (planned, 20) stands in another commune: R2 50 planned, R3 40, R1 30 + R5 10 done
    assert p.loc[("commune", "reconstruction"), cols].tolist() == [50, 40, 40, 130]
    assert p.loc[("commune", "reconstruction"), "done_share"] == pytest.approx(40 / 130)
    assert (p["name"] == "Commune").all()
    with pytest.raises(CdvGeoError, match="give the quartiers.*or communes="):
        renewal_progress(sites)


def test_progress_of_the_quartiers_together(sites, quartiers) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CdvGeoWarning)
        p = renewal_progress(sites, quartiers)
    cols = ["n_planned", "n_in_progress", "n_done", "n_total"]
    # every operation is attributed to a quartier (R2, R4 by `compensates`, R5 the nearest)
    assert p.loc[("qpv", "demolition"), cols].tolist() == [0, 60, 140, 200]
    assert p.loc[("qpv", "reconstruction"), cols].tolist() == [70, 40, 40, 150]
    assert p.loc[("qpv", "reconstruction"), "done_share"] == pytest.approx(40 / 150)
    assert set(p.xs("qpv", level="quartier")["name"]) == {"Ensemble des QPV"}


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
    # each operation counts in one quartier, so for each operation the quartier rows add up
    # to the qpv row
    per_op = p.drop(index="qpv", level="quartier").groupby(level="operation")["n_total"].sum()
    assert (per_op == p.xs("qpv", level="quartier")["n_total"].reindex(per_op.index)).all()


@pytest.mark.filterwarnings("ignore:.*no `compensates`:cdv_geo.CdvGeoWarning")
def test_progress_by_tenure_and_year(sites, quartiers) -> None:
    with pytest.warns(CdvGeoWarning, match=r"no year.*left out of the progress as of 2023"):
        p = renewal_progress(sites, quartiers, by="tenure", year=2023)
    assert_metric_table(p, quartiers, levels=("tenure",))
    # tenures present: social (R2, R3), private_rental (R4), ownership (R1), unknown (the rest)
    assert p.xs("qpv", level="quartier").index.tolist() == [
        "social", "private_rental", "ownership", "unknown",
    ]  # fmt: skip
    # up to 2023: R3 social 40 in progress (QA), R1 ownership 30 done (QA)
    assert p.loc[("QA", "social"), ["n_in_progress", "n_total"]].tolist() == [40, 40]
    assert p.loc[("qpv", "ownership"), "n_done"] == 30
    assert p.loc[("qpv", "private_rental"), "n_total"] == 0  # R4 is dated 2025
    with pytest.raises(CdvGeoError, match="status makes the columns"):
        renewal_progress(sites, by="status")


@pytest.mark.filterwarnings("ignore:.*no `compensates`:cdv_geo.CdvGeoWarning")
def test_timeline_cumulative_with_gaps_filled(sites, quartiers) -> None:
    with pytest.warns(CdvGeoWarning, match=r"no year.*site R5"):
        t = renewal_timeline(sites, quartiers)
    assert_metric_table(t, quartiers, levels=("operation", "year"))
    assert list(t.columns) == list(TIMELINE_COLUMNS)
    years = t.index.get_level_values("year")
    assert years.min() == 2019 and years.max() == 2025
    demo = t.xs(("qpv", "demolition"), level=("quartier", "operation"))
    assert demo["n_dwellings"].to_dict() == {
        2019: 0, 2020: 100, 2021: 40, 2022: 60, 2023: 0, 2024: 0, 2025: 0
    }  # fmt: skip
    assert demo["n_cumulative"].tolist() == [0, 100, 140, 200, 200, 200, 200]
    rec = t.xs(("qpv", "reconstruction"), level=("quartier", "operation"))["n_cumulative"]
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
    planned = t.xs(("qpv", "planned"), level=("quartier", "status"))["n_dwellings"]
    # R2 50 + F1 80 in 2024, R4 20 in 2025
    assert planned.loc[2024] == 130 and planned.loc[2025] == 20


def test_timeline_without_any_dated_operation_warns(sites, town) -> None:
    undated = sites.assign(year=None)
    with pytest.warns(CdvGeoWarning, match=r"11 operation\(s\) have no year"):
        t = renewal_timeline(undated, communes=town)
    assert t.empty and list(t.index.names) == ["quartier", "operation", "year"]
    assert list(t.columns) == list(TIMELINE_COLUMNS)
