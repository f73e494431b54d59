"""``cdv-geo annual-report``: the demo's report, its options, and its errors without traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cdv_geo as cg
from cdv_geo.cli import main


@pytest.fixture(scope="module")
def demo_project() -> Path:
    return Path(cg.datasets.get_path("soissons"))


def test_demo_report_in_french(demo_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "rapport"
    res = CliRunner().invoke(
        main, ["annual-report", str(demo_project), "--year", "2024", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert (out / "rapport_annuel_2024.pdf").read_bytes()[:5] == b"%PDF-"
    html = (out / "rapport_annuel_2024.html").read_text(encoding="utf-8")
    assert "Rapport annuel sur la mise en œuvre de la politique de la ville" in html
    assert "Soissons — année 2024" in html
    assert (out / "carte_actions_2024.html").exists()


def test_demo_report_in_english(demo_project: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main,
        [
            "annual-report",
            str(demo_project),
            "--year",
            "2023",
            "--out",
            str(tmp_path),
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0, res.output
    html = (tmp_path / "annual_report_2023.html").read_text(encoding="utf-8")
    assert "Annual report on the implementation" in html and "year 2023" in html


def test_year_out_of_range_is_refused(demo_project: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["annual-report", str(demo_project), "--year", "1789"])
    assert res.exit_code == 2 and "1789" in res.output


def test_bad_project_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["annual-report", str(tmp_path / "nowhere.toml")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "project file does not exist" in res.output
