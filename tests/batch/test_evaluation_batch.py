"""Every quartier of a national panel evaluated at once (``cdv-geo batch --evaluate-year``).

The donor panel is a slice of the demo's real national extract (the first 40 QPV of each
vintage). Each quartier's national row must equal its own evaluation run alone
(:func:`cdv_geo.metrics.did.did_estimate` on the same panel): chunks, dask and the shared
matrices change nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import cdv_geo as cg
from cdv_geo.batch.evaluation import evaluate_national, plain_index
from cdv_geo.cli.batch import batch
from cdv_geo.metrics.did import did_estimate
from cdv_geo.metrics.panel import indicator_panel, panel_matrices
from cdv_geo.metrics.synthetic_control import synthetic_control
from tests.batch.generate import make_projects

EXTRACT = Path(__file__).resolve().parents[2] / "data" / "indicators" / "national"


@pytest.fixture(scope="module")
def donors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("national")
    for src in sorted(EXTRACT.glob("REVN_*.csv")):
        lines = src.read_bytes().split(b"\r\n")
        (d / src.name).write_bytes(b"\r\n".join(lines[:42]) + b"\r\n")  # header, Ensemble, 40
    return d


def _codes(donors: Path) -> list[str]:
    """The QPV codes of the slice, read from the files (the first 40 differ between vintages)."""
    rows = [
        line.split(";")[0]
        for f in donors.glob("*.csv")
        for line in f.read_text("utf-8-sig").splitlines()[1:]
    ]
    return sorted(set(rows) - {"Ensemble"})


@pytest.fixture(scope="module")
def panel(donors: Path) -> pd.DataFrame:
    return indicator_panel(cg.read_indicators(donors), keep=["poverty_rate"])


def test_each_row_equals_its_own_run(panel: pd.DataFrame, donors: Path) -> None:
    table, times = evaluate_national(panel, 2021, ["poverty_rate"], chunk=7)
    codes = _codes(donors)
    assert int(times["tasks"]) == -(-len(codes) // 7)  # every quartier, in chunks of 7
    did = table.xs("did", level="method").reset_index("indicator", drop=True)
    assert did.index.tolist() == codes
    for code in codes[:5] + codes[-2:]:
        alone = did_estimate(panel, code, "poverty_rate", 2021).summary["estimate"]
        assert did.loc[code, "estimate"] == pytest.approx(alone, nan_ok=True)
    assert times["cpu_seconds"] > 0


def test_dask_gives_the_same_table(panel: pd.DataFrame, donors: Path) -> None:
    from cdv_geo.batch.run import open_client

    inline, _ = evaluate_national(panel, 2021, ["poverty_rate"], chunk=20)
    with open_client(workers=1) as client:
        on_dask, times = evaluate_national(panel, 2021, ["poverty_rate"], client=client, chunk=20)
    assert int(times["tasks"]) == -(-len(_codes(donors)) // 20)
    for col in ("estimate", "ci_low", "ci_high", "p_value", "pre_fit"):
        assert np.allclose(inline[col].astype(float), on_dask[col].astype(float), equal_nan=True)


def test_cli_evaluate_year(tmp_path: Path, donors: Path) -> None:
    (project,) = make_projects(tmp_path / "projets", 1)
    with project.open("a", encoding="utf-8") as fh:
        fh.write(
            f'\n[evaluation]\ndonors = "{donors.as_posix()}"\nindicators = ["poverty_rate"]\n'
            "years = { QP900000 = 2021 }\n"
        )
    out = tmp_path / "out"
    args = [str(project), "--out", str(out), "--scheduler", "inline", "--no-peers"]
    result = CliRunner().invoke(batch, [*args, "--evaluate-year", "2021"])
    assert result.exit_code == 0, result.output
    assert "National evaluation:" in result.output
    n = len(_codes(donors))
    assert f"{n} quartiers x 1 indicators in" in result.output
    assert "cluster start 0.0 s" in result.output  # inline: no cluster
    table = pd.read_csv(out / "national" / "evaluation.csv")
    assert len(table) == len(_codes(donors)) * 2 and set(table["method"]) == {
        "did",
        "synthetic_control",
    }
    # without [evaluation]: said, no file
    (other,) = make_projects(tmp_path / "autres", 1)
    result = CliRunner().invoke(
        batch, [str(other), "--out", str(tmp_path / "o2"), "--scheduler", "inline",
                "--no-peers", "--evaluate-year", "2021"],
    )  # fmt: skip
    assert "nothing evaluated" in result.output
    assert not (tmp_path / "o2" / "national" / "evaluation.csv").exists()


def test_plain_index_keeps_every_value(panel: pd.DataFrame) -> None:
    """The matrices sent to the workers: object codes, the same values, rows and series."""
    arrow = panel_matrices(panel, ["poverty_rate"])
    m, series = arrow["poverty_rate"]
    plain, same = plain_index(arrow)["poverty_rate"]
    assert same == series and plain.index.dtype == object and plain.index.name == m.index.name
    assert plain.index.tolist() == [str(c) for c in m.index]
    np.testing.assert_array_equal(plain.to_numpy(), m.to_numpy())
    assert list(plain.columns) == list(m.columns)


def test_synthetic_rows_equal_their_own_run(panel: pd.DataFrame, donors: Path) -> None:
    """The synthetic-control rows of the national run: those of synthetic_control alone."""
    table, _ = evaluate_national(panel, 2021, ["poverty_rate"], chunk=9)
    sc = table.xs("synthetic_control", level="method").reset_index("indicator", drop=True)
    codes = _codes(donors)
    for code in codes[:3] + codes[-2:]:
        alone = synthetic_control(panel, code, "poverty_rate", 2021).summary
        for col in ("estimate", "pre_fit", "p_value"):
            assert sc.loc[code, col] == pytest.approx(alone[col], nan_ok=True)
        assert sc.loc[code, "reason"] == alone["reason"]
