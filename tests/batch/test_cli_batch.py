"""``cdv-geo batch``: the subcommand calls run_batch and reports failures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from cdv_geo.cli.batch import batch
from tests.batch.generate import make_projects


def test_batch_command_inline(tmp_path: Path) -> None:
    make_projects(tmp_path / "projets", 2)
    bad = tmp_path / "projets" / "zz" / "project.toml"
    bad.parent.mkdir()
    bad.write_text("not toml [", encoding="utf-8")
    out = tmp_path / "national-out"
    runner = CliRunner()
    args = [str(tmp_path / "projets" / "*" / "project.toml"), "--out", str(out)]
    result = runner.invoke(batch, [*args, "--scheduler", "inline", "--k", "1"])
    assert result.exit_code == 3, result.output
    assert "3 territories: 2 computed, 0 already done, 1 failed" in result.output
    assert "cluster start 0.0 s, territories " in result.output  # inline: no cluster
    errors = pd.read_csv(out / "national" / "errors.csv")
    assert errors["step"].tolist() == ["read"] and "TOML" in errors["message"].iloc[0]
    peers = pd.read_parquet(out / "national" / "peers.parquet")
    assert (peers["n_peers"] == 1).all()
    again = runner.invoke(batch, [*args, "--scheduler", "inline", "--no-peers"])
    assert "2 already done" in again.output
