"""The built wheel carries the demo data: the demo works after a plain (non-editable) install."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_demo_data(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("cdv_geo-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cdv_geo/data/project.toml" in names
    assert "cdv_geo/data/shapes/quartiers.geojson" in names
    # install the wheel alone into a folder that shadows the editable checkout
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    code = (
        "import cdv_geo, pathlib; t = cdv_geo.datasets.soissons(); print(t); "
        "print(pathlib.Path(cdv_geo.__file__).parent)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert "Territory('Soissons', illustrative" in out
    assert out.strip().splitlines()[-1] == str(target / "cdv_geo")
