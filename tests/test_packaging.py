"""The source archive and the wheel build cleanly and carry what a planner's install needs.

`python -m build` (offline: ``--no-isolation``, the backend is in the test extra) makes the
sdist and, from it, the wheel; `twine check --strict` passes on both. The sdist carries the
package, the demo data, the tests, the licence, the changelog and the README; the wheel the
package, the demo data (``cdv_geo/data``), the changelog and the licence. Installed into a fresh
venv, without ``make``, the wheel runs ``cdv-geo demo --no-dossier`` from an unrelated folder.

The fresh venv takes the dependencies from this project's venv (a ``.pth`` line, as
``tests/test_install_readonly.py`` does): nothing is downloaded.
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import cdv_geo

ROOT = Path(__file__).resolve().parents[1]
VERSION = cdv_geo.__version__

pytestmark = pytest.mark.slow


@dataclass
class Dist:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = out.glob("cdv_geo-*.tar.gz")
    (wheel,) = out.glob("cdv_geo-*.whl")
    return Dist(sdist, wheel)


def test_twine_check_passes_on_the_sdist_and_the_wheel(dist: Dist) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2


def test_the_names_carry_the_packages_version(dist: Dist) -> None:
    assert dist.sdist.name == f"cdv_geo-{VERSION}.tar.gz"
    assert dist.wheel.name == f"cdv_geo-{VERSION}-py3-none-any.whl"


def test_the_sdist_carries_the_data_licence_changelog_and_readme(dist: Dist) -> None:
    top = f"cdv_geo-{VERSION}/"
    with tarfile.open(dist.sdist) as tar:
        names = {n.removeprefix(top) for n in tar.getnames()}
    for name in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "src/cdv_geo/__init__.py",
        "src/cdv_geo/cli/doctor.py",
        "data/project.toml",
        "data/shapes/quartiers.geojson",
        "tests/test_packaging.py",
    ):
        assert name in names, name
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "maps/README.md" not in names  # (the demo's output folder is no source)
    assert not [n for n in names if n.startswith((".venv/", ".cache/", "maps/"))]


def test_the_wheel_carries_the_data_licence_and_changelog(dist: Dist) -> None:
    info = f"cdv_geo-{VERSION}.dist-info"
    with zipfile.ZipFile(dist.wheel) as whl:
        names = set(whl.namelist())
        metadata = email.message_from_bytes(whl.read(f"{info}/METADATA"))
        entry_points = whl.read(f"{info}/entry_points.txt").decode()
        licence = whl.read(f"{info}/licenses/LICENSE").decode()
        changelog = whl.read("cdv_geo/CHANGELOG.md").decode()
    assert "cdv_geo/data/project.toml" in names
    assert "cdv_geo/data/shapes/quartiers.geojson" in names
    assert "cdv_geo/output/templates/dossier.css" in names
    assert not [n for n in names if n.startswith("cdv_geo/tests") or "__pycache__" in n]
    assert licence.startswith("MIT License") and licence == (ROOT / "LICENSE").read_text()
    assert changelog.startswith("# Changelog") and "## [Unreleased]" in changelog
    assert "cdv-geo = cdv_geo.cli:main" in entry_points
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.11"
    classifiers = metadata.get_all("Classifier")
    for c in (
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Natural Language :: French",
    ):
        assert c in classifiers


def test_wheel_ships_demo_data(dist: Dist, tmp_path: Path) -> None:
    # install the wheel alone into a folder that shadows the editable checkout
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(target), str(dist.wheel)],
        check=True,
    )  # fmt: skip
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


@pytest.fixture(scope="module")
def venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; its dependencies read from this project's venv."""
    root = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(dist.wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    # the dependencies: this venv's site-packages as a plain path (its .pth files, among them
    # the editable install of this checkout, are not read from there)
    deps = sysconfig.get_paths()["purelib"]
    (Path(site) / "cdv_geo_test_deps.pth").write_text(f"{deps}\n")
    return bindir


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CDV_GEO"))}
    home.mkdir(exist_ok=True)
    return {**env, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}


def test_a_fresh_venv_runs_the_demo_without_make(venv: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"  # (an unrelated working folder)
    elsewhere.mkdir()
    env = _env(tmp_path / "home")
    python = venv / ("python.exe" if os.name == "nt" else "python")
    where = subprocess.run(
        [python, "-c", "import cdv_geo; print(cdv_geo.__file__)"],
        capture_output=True, text=True, cwd=elsewhere, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    assert not Path(where).is_relative_to(ROOT)  # (the wheel, not this checkout)

    out = tmp_path / "pack"
    exe = venv / ("cdv-geo.exe" if os.name == "nt" else "cdv-geo")
    proc = subprocess.run(
        [exe, "demo", "--no-dossier", "--out", str(out), "-q"],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=1200,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Wrote the committee pack of the demo (illustrative data): {out}" in proc.stdout
    assert "Traceback" not in proc.stderr
    for name in (
        "index.html",
        "overview.html",
        "quartier_presles.html",
        "quartier_chevreux.html",
        "quartier_saint-crepin-ouest.html",
        "renewal.html",
        "renaturation.html",
        "tables/key_figures.csv",
        "tables/coverage.csv",
        "tables/tables.xlsx",
    ):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert list((out / "figures").glob("*.png"))
    assert not (out / "dossier.pdf").exists()
    assert list(elsewhere.iterdir()) == []  # (nothing written where it ran)

    # each quartier's population is the official one of the data file, read here with json
    features = json.loads((ROOT / "data" / "shapes" / "quartiers.geojson").read_text())
    official = {
        f["properties"]["code"]: f["properties"]["population"] for f in features["features"]
    }
    kf = pd.read_csv(out / "tables" / "key_figures.csv", index_col=0)
    assert {code: kf.loc[code, "Habitants"] for code in official} == official
    assert kf.loc["qpv", "Habitants"] == sum(official.values())
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Presles" in index and "quartier_presles.html" in index


def test_doctor_in_the_fresh_venv_finds_the_wheels_demo_data(venv: Path, tmp_path: Path) -> None:
    exe = venv / ("cdv-geo.exe" if os.name == "nt" else "cdv-geo")
    proc = subprocess.run(
        [exe, "doctor"], capture_output=True, text=True, cwd=tmp_path,
        env=_env(tmp_path / "home"), timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if "Demo data:" in ln]
    assert line.startswith("ok ") and "cdv_geo/data" in line.replace(os.sep, "/")
    assert str(ROOT / "data") not in line
