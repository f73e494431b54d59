"""`cdv-geo doctor`: each check on both sides (works / missing), and the exit code.

The missing side is simulated (an import that fails, a numba switched off, pango absent, an
empty asset folder...): nothing is uninstalled. Essentials missing exit 1; an optional part
missing is said with what to install, and the exit code stays 0.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result

from cdv_geo.cli import doctor as doc
from cdv_geo.cli import main
from cdv_geo.cli.pdf import install_hint


def _run() -> Result:
    return CliRunner().invoke(main, ["doctor"])


def _line(res: Result, name: str) -> str:
    (line,) = [ln for ln in res.stdout.splitlines() if ln[8:].startswith(f"{name}:")]
    return line


def _hint(res: Result, name: str) -> str | None:
    lines = res.stdout.splitlines()
    i = lines.index(_line(res, name))
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    return nxt.strip().removeprefix("-> ") if nxt.startswith(" " * 8 + "->") else None


def _failing_import(*names: str, exc: type[Exception] = ImportError):
    def fake(name: str, package: str | None = None):
        if name in names:
            raise exc(f"No module named {name!r}")
        return import_module(name, package)

    return fake


@pytest.fixture
def assets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty asset cache (the maps' offline files)."""
    path = tmp_path / "assets"
    path.mkdir()
    monkeypatch.setenv("CDV_GEO_ASSET_DIR", str(path))
    return path


def test_this_installation_is_ready(assets_dir: Path) -> None:
    res = _run()
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[-1].startswith("Ready: the metrics, tables and maps work")
    for name in ("Python", "cdv_geo", "Core libraries", "Demo data"):
        assert _line(res, name).startswith("ok      "), res.stdout
    from cdv_geo import __version__

    assert __version__ in _line(res, "cdv_geo")
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in _line(res, "Python")
    import geopandas

    assert f"geopandas {geopandas.__version__}" in _line(res, "Core libraries")


def test_python_older_than_required_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doc, "MIN_PYTHON", (sys.version_info.major, sys.version_info.minor + 1))
    res = _run()
    assert res.exit_code == 1
    assert _line(res, "Python").startswith("MISSING ")
    assert "install Python 3.11 or later" in _hint(res, "Python")
    assert "Not ready: Python" in res.stderr


def test_python_exactly_the_required_version_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doc, "MIN_PYTHON", tuple(sys.version_info[:2]))  # (inclusive limit)
    res = _run()
    assert _line(res, "Python").startswith("ok ")
    assert "Python" not in res.stderr


@pytest.mark.parametrize("exc", [ImportError, OSError])
def test_a_core_library_that_cannot_import_is_not_ready(
    monkeypatch: pytest.MonkeyPatch, exc: type[Exception]
) -> None:
    monkeypatch.setattr(doc, "import_module", _failing_import("pyogrio", exc=exc))
    res = _run()
    assert res.exit_code == 1
    line = _line(res, "Core libraries")
    assert line.startswith("MISSING ") and f"cannot import pyogrio ({exc.__name__})" in line
    assert "geopandas" not in line  # (only what is broken)
    assert _hint(res, "Core libraries") == "reinstall them: pip install --force-reinstall cdv_geo"


def test_missing_demo_data_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    import cdv_geo.datasets
    from cdv_geo.core.errors import CdvGeoError

    def missing() -> Path:
        raise CdvGeoError("the demo data are missing from this installation")

    monkeypatch.setattr(cdv_geo.datasets, "data_dir", missing)
    res = _run()
    assert res.exit_code == 1
    assert _line(res, "Demo data").startswith("MISSING ")
    assert "reinstall" in _hint(res, "Demo data")


def test_demo_data_found_says_where() -> None:
    from cdv_geo import datasets

    res = _run()
    assert f"{datasets.data_dir()} (cdv-geo demo)" in _line(res, "Demo data")


@pytest.mark.parametrize(
    ("status", "env", "expected", "hint"),
    [
        ({"engine": "numba 0.60.0", "cache": "/srv/cache"}, None,
         "ok      Compiled kernels: on (numba 0.60.0), cache in /srv/cache", None),
        ({"engine": "numba 0.60.0", "cache": "none"}, None,
         "ok      Compiled kernels: on (numba 0.60.0), no cache: compiled in each process", None),
        ({"engine": "numpy", "cache": "none"}, "CDV_GEO_DISABLE_JIT",
         "no      Compiled kernels: off (CDV_GEO_DISABLE_JIT is set): the numpy paths give the "
         "same figures, slower", "unset CDV_GEO_DISABLE_JIT"),
        ({"engine": "numpy", "cache": "none"}, None,
         "no      Compiled kernels: off (numba is missing or cannot compile): the numpy paths "
         "give the same figures, slower", "pip install numba"),
    ],
)  # fmt: skip
def test_compiled_kernels_on_and_off(
    monkeypatch: pytest.MonkeyPatch,
    status: dict[str, str],
    env: str | None,
    expected: str,
    hint: str | None,
) -> None:
    from cdv_geo.core import jit

    monkeypatch.delenv("CDV_GEO_DISABLE_JIT", raising=False)
    monkeypatch.delenv("NUMBA_DISABLE_JIT", raising=False)
    if env:
        monkeypatch.setenv(env, "1")
    monkeypatch.setattr(jit, "status", lambda: status)
    res = _run()
    assert res.exit_code == 0  # (optional: the numpy paths answer)
    assert _line(res, "Compiled kernels") == expected
    assert _hint(res, "Compiled kernels") == hint


def test_pdf_without_pango_is_optional_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(doc, "pdf_problem", lambda: "the pango library is missing on this computer")
    res = _run()
    assert res.exit_code == 0, res.output
    line = _line(res, "PDF dossier")
    assert line.startswith("no      ") and "the pango library is missing" in line
    assert _hint(res, "PDF dossier") == install_hint()
    assert "optional parts not available: " in res.stdout and "PDF dossier" in res.stdout


def test_pdf_with_weasyprint_and_pango() -> None:
    # (CI installs pango: the real WeasyPrint loads)
    from importlib.metadata import version

    res = _run()
    line = _line(res, "PDF dossier")
    assert line.startswith(f"ok      PDF dossier: WeasyPrint {version('weasyprint')}, pango 1.")
    assert _hint(res, "PDF dossier") is None


def test_offline_map_files_missing(assets_dir: Path) -> None:
    from cdv_geo.maps.assets import ASSETS

    res = _run()
    assert res.exit_code == 0
    line = _line(res, "Maps")
    assert line.startswith("no      ")
    assert f"0 of {len(ASSETS)} files in {assets_dir}" in line
    assert "cdv-geo assets fetch" in _hint(res, "Maps")


@pytest.mark.parametrize("left_out", [0, 1])
def test_offline_map_files_all_or_all_but_one(assets_dir: Path, left_out: int) -> None:
    from cdv_geo.maps.assets import ASSETS, cache_relpath

    urls = [a.url for a in ASSETS.values()]
    for url in urls[left_out:]:
        path = assets_dir / cache_relpath(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("/* asset */")
    line = _line(_run(), "Maps")
    if left_out:
        assert line.startswith("no ") and f"{len(urls) - 1} of {len(urls)} files" in line
    else:
        assert line.startswith("ok ")
        assert line.endswith(f"offline maps (--assets inline) ready: {assets_dir}")


@pytest.mark.parametrize(
    ("playwright", "chromium", "state"),
    [(True, "/opt/chromium", "ok"), (True, None, "no"), (False, "/opt/chromium", "no")],
)
def test_browser_checks(
    monkeypatch: pytest.MonkeyPatch, playwright: bool, chromium: str | None, state: str
) -> None:
    fake = _failing_import() if playwright else _failing_import("playwright")
    if playwright:
        monkeypatch.setitem(sys.modules, "playwright", SimpleNamespace(__name__="playwright"))
    monkeypatch.setattr(doc, "import_module", fake)
    monkeypatch.setattr(doc, "find_chromium", lambda: chromium)
    res = _run()
    assert res.exit_code == 0
    line = _line(res, "Browser checks")
    assert line.startswith(f"{state:<8}")
    if state == "ok":
        assert line.endswith("Chromium /opt/chromium")
    else:
        assert (
            _hint(res, "Browser checks")
            == "pip install playwright, then: playwright install chromium"
        )
        assert ("Playwright is not installed" if not playwright else "no Chromium found") in line


def test_find_chromium_on_the_path_then_in_playwrights_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    monkeypatch.delenv("PLAYWRIGHT_BROWSERS_PATH", raising=False)
    assert doc.find_chromium() is None

    browsers = tmp_path / "browsers"
    (browsers / "chromium-1140").mkdir(parents=True)
    (browsers / "chromium-1200").mkdir()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(browsers))
    assert doc.find_chromium() == str(browsers / "chromium-1200")  # (the newest)

    exe = bin_dir / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert doc.find_chromium() == str(exe)  # (a system Chromium first)


@pytest.mark.parametrize("missing", [(), ("distributed",), ("dask", "distributed")])
def test_dask(monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]) -> None:
    monkeypatch.setattr(doc, "import_module", _failing_import(*missing))
    res = _run()
    assert res.exit_code == 0
    line = _line(res, "Many territories (dask)")
    if not missing:
        assert line.startswith("ok ") and "dask " in line and "distributed " in line
        return
    assert line.startswith("no ")
    assert f"{' and '.join(missing)} not installed" in line
    assert _hint(res, "Many territories (dask)") == "pip install dask distributed"


def test_a_check_that_crashes_is_said_and_keeps_its_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdv_geo.core import jit

    def boom() -> dict[str, str]:
        raise RuntimeError("<script>&\"'")

    monkeypatch.setattr(jit, "status", boom)
    res = _run()
    assert res.exit_code == 0  # (an optional check)
    assert "Kernels: could not be checked (RuntimeError: <script>&\"')" in res.stdout

    import cdv_geo.datasets

    monkeypatch.setattr(cdv_geo.datasets, "data_dir", boom)
    res = _run()
    assert res.exit_code == 1  # (an essential one)
    assert "MISSING Demo data: could not be checked (RuntimeError" in res.stdout


def test_doctor_loads_no_other_command() -> None:
    # each subcommand is imported when run: the doctor answers even when a library that the
    # maps or the PDF need cannot be imported
    import subprocess

    code = (
        "import sys\n"
        "from cdv_geo.cli import main\n"
        "try:\n"
        "    main(['doctor'], standalone_mode=False)\n"
        "finally:\n"
        "    print(sorted(m for m in sys.modules if m.startswith('cdv_geo.cli.')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last == "['cdv_geo.cli.doctor', 'cdv_geo.cli.options', 'cdv_geo.cli.pdf']"


def test_every_command_is_listed_and_loads() -> None:
    from cdv_geo.cli import COMMANDS

    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0
    listed = [ln.split()[0] for ln in res.stdout.split("Commands:")[1].splitlines() if ln.strip()]
    assert listed == sorted(COMMANDS)
    for name in COMMANDS:
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0, name
