"""The evaluation step ("Évolution comparée"): the project's [evaluation], the demo's donor panel.

Expected values are computed by hand: on generated panels with parallel paths
(value = quartier level + year effect, + a planted effect after the intervention) the
difference-in-differences is the planted effect exactly, whatever comparisons are chosen; the
demo's extract is checked against the published national files read independently, and the
demo's figures against the published cells of the Presles line (parsed here with ``csv``).
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

import cdv_geo as cg
from cdv_geo.core.errors import DataValidationError
from cdv_geo.metrics.panel import indicator_panel
from cdv_geo.output.tables import write_tables
from cdv_geo.pipeline import Metrics
from cdv_geo.pipeline.evaluation import EVALUATION_COLUMNS, evaluate_quartiers, step_evaluation
from cdv_geo.territory.project import read_evaluation

DATA = Path(__file__).resolve().parents[2] / "data"
EXTRACT = DATA / "indicators" / "national"
NATIONAL = Path("/work/shared/real-data/insee-qpv-national")
YEARS = (2017, 2018, 2019, 2021, 2022)


def _panel(
    years: tuple[int, ...] = YEARS, effects: dict[str, float] | None = None, start: int = 2021
) -> pd.DataFrame:
    """40 quartiers on parallel paths; `effects` adds a jump from `start` on."""
    rng = np.random.default_rng(1)
    level = {f"QP{i:03d}": 0.3 + 0.2 * rng.random() for i in range(40)}
    step = {y: 0.004 * k + 0.01 * rng.random() for k, y in enumerate(years)}
    rows = []
    for code, a in level.items():
        for y in years:
            jump = (effects or {}).get(code, 0.0) if y >= start else 0.0
            rows.append((code, y, a + step[y] + jump))
    t = pd.DataFrame(rows, columns=["code", "year", "value"])
    return indicator_panel(t.assign(indicator="poverty_rate", level="qpv"))


def _row(table: pd.DataFrame, code: str, method: str, indicator: str = "poverty_rate") -> dict:
    assert table.index.names == ["quartier", "indicator", "method"]
    return table.loc[(code, indicator, method)].to_dict()


# --- the estimate on generated panels ---------------------------------------------------------


def test_planted_effect_recovered_and_other_treated_quartier_left_out() -> None:
    # QP000 has +0.05 from 2021; QP001 (another quartier of the territory, treated too) +1.0:
    # were QP001 a comparison, QP000's estimate would move by about -1.0 / 30
    panel = _panel(effects={"QP000": 0.05, "QP001": 1.0})
    out = evaluate_quartiers(panel, {"QP000": 2021, "QP001": 2021}, ["poverty_rate"])
    did = _row(out, "QP000", "did")
    assert did["estimate"] == pytest.approx(0.05, abs=1e-9)
    assert (did["n_pre"], did["n_post"]) == (3, 2)
    assert did["ci_low"] <= 0.05 <= did["ci_high"] or did["ci_low"] > 0
    # the jump of +1.0 is far outside what parallel quartiers do: detectable
    assert _row(out, "QP001", "did")["estimate"] == pytest.approx(1.0, abs=1e-9)
    assert set(out.reset_index().columns) == set(EVALUATION_COLUMNS)


def test_marked_treated_left_out_of_comparisons() -> None:
    panel = _panel(effects={"QP000": 0.05, "QP002": 1.0})
    kept = evaluate_quartiers(panel, {"QP000": 2021}, ["poverty_rate"])
    left_out = evaluate_quartiers(panel, {"QP000": 2021}, ["poverty_rate"], treated=["QP002"])
    assert _row(left_out, "QP000", "did")["estimate"] == pytest.approx(0.05, abs=1e-9)
    # kept as a comparison only if among the nearest: then its jump lowers the estimate
    assert _row(kept, "QP000", "did")["estimate"] <= 0.05 + 1e-9


def test_synthetic_control_refuses_a_short_pre_period_and_concludes_on_a_long_one() -> None:
    short = evaluate_quartiers(_panel(effects={"QP000": 0.05}), {"QP000": 2021}, ["poverty_rate"])
    sc = _row(short, "QP000", "synthetic_control")
    assert (sc["n_pre"], sc["verdict"], sc["reason"]) == (
        3,
        "cannot_conclude",
        "pre_period_too_short",
    )
    assert np.isnan(sc["p_value"])  # no p-value printed as if meaningful
    long_years = tuple(range(2010, 2023))  # 9 years before 2019, 4 after
    panel = _panel(long_years, effects={"QP000": 0.05}, start=2019)
    sc = _row(
        evaluate_quartiers(panel, {"QP000": 2019}, ["poverty_rate"]), "QP000", "synthetic_control"
    )
    assert sc["n_pre"] == 9 and not np.isnan(sc["p_value"])


def test_quartier_without_year_and_indicator_not_in_panel() -> None:
    out = evaluate_quartiers(
        _panel(), {"QP000": 2021, "QP005": None}, ["poverty_rate", "gini"]
    ).reset_index()
    assert set(out.loc[out["quartier"] == "QP005", "reason"]) == {"no_intervention_year"}
    gini = out[(out["indicator"] == "gini") & (out["quartier"] == "QP000")]
    assert set(gini["reason"]) == {"treated_not_in_panel"}
    assert len(out) == 2 * 2 * 2  # quartiers x indicators x methods
    paths = out.attrs["paths"]
    assert set(paths["quartier"]) == {"QP000"} and len(paths) == len(YEARS)


# --- the project's [evaluation] section --------------------------------------------------------


def _project(tmp_path: Path, section: str) -> Path:
    (tmp_path / "national").mkdir(exist_ok=True)
    p = tmp_path / "project.toml"
    p.write_text(f'[territory]\nname = "T"\n{section}', encoding="utf-8")
    return p


def test_read_evaluation_both_sides(tmp_path: Path) -> None:
    assert read_evaluation(_project(tmp_path, "")) is None
    assert read_evaluation(None) is None
    ok = read_evaluation(
        _project(tmp_path, '[evaluation]\ndonors = "national"\nyears = { QP1 = 2021 }\n')
    )
    assert ok is not None
    assert ok["years"] == {"QP1": 2021} and ok["donors"] == [(tmp_path / "national").resolve()]
    assert (ok["indicators"], ok["treated"], ok["illustrative"]) == (None, [], False)
    bad = '[evaluation]\ndonors = "nowhere"\nyears = { QP1 = "2021" }\nyear = 2021\n'
    with pytest.raises(DataValidationError) as err:
        read_evaluation(_project(tmp_path, bad))
    text = str(err.value)
    assert "'year'" in text and "nowhere" in text and "QP1" in text and "project.toml" in text


def test_validate_reports_the_evaluation_section(tmp_path: Path) -> None:
    import shutil

    import cdv_geo as cg

    # the demo project, copied, with a broken [evaluation]: loading it lists the section's problem
    src = cg.datasets.get_path("soissons")
    dst = tmp_path / "demo"
    shutil.copytree(src.parent, dst)
    text = (dst / src.name).read_text(encoding="utf-8")
    start = text.index("[evaluation]")
    end = text.find("\n[", start + 1)
    broken = '[evaluation]\ndonors = "nowhere"\nyears = { QP002013 = 2021 }\n'
    (dst / src.name).write_text(
        text[:start] + broken + (text[end:] if end >= 0 else ""), encoding="utf-8"
    )
    with pytest.raises(DataValidationError, match="nowhere"):
        cg.Territory.from_file(dst / src.name)


# --- the demo ----------------------------------------------------------------------------------


def _published(path: Path, code: str, column: str) -> float | None:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            if row["CODGEO"] == code:
                cell = row[column].replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
                return float(cell.replace(",", ".")) if cell else None
    return None


@pytest.mark.skipif(not NATIONAL.is_dir(), reason="shared national files not present")
def test_extract_holds_the_published_values() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = cg.read_indicators(sorted(NATIONAL.glob("REVN_*.csv")))
        extract = cg.read_indicators(EXTRACT)
    key = ["code", "indicator", "year", "source"]
    merged = extract.merge(full, on=key, how="left", suffixes=("", "_full"), validate="1:1")
    assert len(extract) > 5 * 1300 * 6  # every QPV, five vintages
    same = (merged["value"] == merged["value_full"]) | (
        merged["value"].isna() & merged["value_full"].isna()
    )
    assert same.all()
    # every QPV of every vintage is there
    for y in (2017, 2022):
        with (NATIONAL / f"REVN_{y}.csv").open(encoding="utf-8-sig") as fh:
            codes = {line.split(";")[0] for line in fh} - {"CODGEO", "Ensemble"}
        assert codes <= set(extract.loc[extract["year"] == y, "code"])


@pytest.fixture(scope="module")
def demo() -> Metrics:
    m = Metrics()
    step_evaluation(cg.datasets.soissons(), m, None)
    return m


def test_demo_presles(demo: Metrics) -> None:
    t = demo.evaluation
    assert t is not None and t.attrs["illustrative"] is True
    sc = _row(t, "QP002013", "synthetic_control")
    # REVN 2017, 2018, 2019 before 2021 (no 2020 vintage); 2021, 2022 after
    assert (sc["n_pre"], sc["n_post"]) == (3, 2)
    assert (sc["verdict"], sc["reason"]) == ("cannot_conclude", "pre_period_too_short")
    assert np.isnan(sc["p_value"])
    paths = t.attrs["paths"]
    presles = paths[(paths["quartier"] == "QP002013") & (paths["indicator"] == "poverty_rate")]
    for year, value in zip(presles["year"], presles["treated"], strict=True):
        published = _published(EXTRACT / f"REVN_{year}.csv", "QP002013", "TP60")
        assert value == pytest.approx(published / 100)
    assert _published(DATA / "indicators" / "REVN_2019.csv", "QP002013", "TP60") == 55.4
    # Chevreux' illustrative year 2023 is after the last vintage: nothing to conclude, said so
    assert set(t.xs("QP002014", level="quartier")["verdict"]) == {"cannot_conclude"}
    assert _row(t, "QP002014", "did")["reason"] == "no_post_period"


def test_demo_csv_in_words(demo: Metrics, tmp_path: Path) -> None:
    (path,) = write_tables(demo, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert path.name == "evaluation.csv"
    assert "impossible de conclure" in text and "pas de différence décelable" in text
    assert "Contrôle synthétique" in text and "trop peu d'années avant" in text
    for raw in ("cannot_conclude", "pre_period_too_short", "synthetic_control", "no_detectable"):
        assert raw not in text


def test_step_without_section_or_quartiers(tmp_path: Path) -> None:
    q = gpd.GeoDataFrame({"code": ["Q1"], "name": ["A"]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    m = Metrics()
    step_evaluation(cg.Territory("T", quartiers=q), m, None)  # not asked for: nothing, no note
    assert m.evaluation is None and m.notes == []
    section = '[evaluation]\ndonors = "national"\nyears = { QP1 = 2021 }\n'
    t = cg.Territory("T", project_file=_project(tmp_path, section))
    step_evaluation(t, m, None)  # asked for, but no quartiers: said
    assert m.evaluation is None
    assert [(n.key, n.args) for n in m.notes] == [("missing_layer", {"layer": "quartiers"})]


@pytest.mark.parametrize("years", [(2017, 2018, 2019, 2021, 2022), tuple(range(2012, 2023))])
def test_a_run_without_charts_gives_the_same_table(years: tuple[int, ...]) -> None:
    # 3 pre-years (too short for a p-value: the placebo refits are skipped) and 9 pre-years
    # (long enough: they run); either way the table is the one of a run with charts
    rng = np.random.default_rng(3)
    codes = [f"QP{i:03d}" for i in range(25)]
    level = dict(zip(codes, 0.3 + 0.2 * rng.random(len(codes)), strict=True))
    slope = dict(zip(codes, 0.01 * rng.standard_normal(len(codes)), strict=True))
    # QP000 is the mean of two comparison quartiers: its twin fits the pre-period well
    for c in ("QP000", "QP001"):
        level[c] = (level["QP002"] + level["QP003"]) / 2
        slope[c] = (slope["QP002"] + slope["QP003"]) / 2
    t = pd.DataFrame(
        [(c, y, level[c] + slope[c] * (y - 2012)) for c in codes for y in years],
        columns=["code", "year", "value"],
    ).assign(indicator="poverty_rate", level="qpv")
    panel = indicator_panel(t)
    plan = {"QP000": 2021, "QP001": 2021}
    full = evaluate_quartiers(panel, plan, ["poverty_rate"], exclude_evaluated=False)
    lean = evaluate_quartiers(panel, plan, ["poverty_rate"], exclude_evaluated=False, charts=False)
    pd.testing.assert_frame_equal(full, lean)
    assert len(full.attrs["paths"]) > 0 and len(lean.attrs["paths"]) == 0
    sc = full.xs("synthetic_control", level="method")
    if len(years) > 5:  # the p-value exists, so the lean run did run the placebos
        assert sc["p_value"].notna().all()
    else:
        assert (sc["reason"] == "pre_period_too_short").all()
