"""``cdv-geo doctor``: what this installation can do, in plain lines.

One line per part, its state and, when it is missing, what to install:

- **essential** (the command exits 1 without them): Python 3.11 or later, the libraries every
  metric and map needs, the demo data;
- **optional** (said, never an error): the compiled kernels (numba; without it the same
  figures come slower), the PDF dossier (WeasyPrint and the pango system library), maps that
  open offline (the map files cached by ``cdv-geo assets fetch``), the browser checks
  (Playwright and Chromium, for the test suite and the documentation's gallery), many
  territories at once (dask and distributed).

Nothing is downloaded and nothing is written.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click

from cdv_geo.cli.pdf import install_hint, load_weasyprint, pdf_problem

__all__ = [
    "CHECKS",
    "ESSENTIAL_CHECKS",
    "ESSENTIAL_LIBRARIES",
    "MIN_PYTHON",
    "Check",
    "doctor",
    "find_chromium",
    "run_checks",
]

#: The libraries every metric, table and map needs (import name, distribution name).
ESSENTIAL_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("numpy", "numpy"),
    ("pandas", "pandas"),
    ("shapely", "shapely"),
    ("pyproj", "pyproj"),
    ("pyogrio", "pyogrio"),
    ("geopandas", "geopandas"),
    ("scipy", "scipy"),
    ("rasterio", "rasterio"),
    ("exactextract", "exactextract"),
    ("folium", "folium"),
    ("matplotlib", "matplotlib"),
)

#: The oldest Python this package supports (pyproject's requires-python).
MIN_PYTHON = (3, 11)


@dataclass(frozen=True)
class Check:
    """The state of one part of the installation."""

    name: str  # what the part does, for the reader ("PDF dossier")
    ok: bool
    detail: str  # versions, paths, or why it does not work
    essential: bool = False
    hint: str = ""  # what to install or run when it does not work


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _check_python() -> Check:
    found = sys.version_info[:2]
    detail = f"{platform.python_version()} ({sys.executable}) on {platform.platform(terse=True)}"
    return Check(
        "Python",
        found >= MIN_PYTHON,
        detail,
        essential=True,
        hint="install Python 3.11 or later (python.org, or the Microsoft Store on Windows)",
    )


def _check_package() -> Check:
    from cdv_geo import __version__

    here = Path(__file__).resolve().parents[1]
    return Check("cdv_geo", True, f"{__version__} ({here})", essential=True)


def _check_libraries() -> Check:
    found, broken = [], []
    for module, dist in ESSENTIAL_LIBRARIES:
        try:
            import_module(module)
        except Exception as exc:  # (a broken binary raises OSError, not only ImportError)
            broken.append(f"{module} ({type(exc).__name__})")
        else:
            found.append(f"{module} {_dist_version(dist)}")
    if broken:
        return Check(
            "Core libraries",
            False,
            "cannot import " + ", ".join(broken),
            essential=True,
            hint="reinstall them: pip install --force-reinstall cdv_geo",
        )
    return Check("Core libraries", True, ", ".join(found), essential=True)


def _check_demo_data() -> Check:
    from cdv_geo import datasets
    from cdv_geo.core.errors import CdvGeoError

    try:
        where = datasets.data_dir()
    except CdvGeoError:
        return Check(
            "Demo data",
            False,
            "not found in this installation",
            essential=True,
            hint="reinstall the package (pip install --force-reinstall cdv_geo)",
        )
    return Check("Demo data", True, f"{where} (cdv-geo demo)", essential=True)


def _check_kernels() -> Check:
    from cdv_geo.core import jit

    state = jit.status()
    if state["engine"] == "numpy":
        disabled = [v for v in (jit.DISABLE_ENV, "NUMBA_DISABLE_JIT") if os.environ.get(v)]
        why = f"{disabled[0]} is set" if disabled else "numba is missing or cannot compile"
        return Check(
            "Compiled kernels",
            False,
            f"off ({why}): the numpy paths give the same figures, slower",
            hint=f"unset {disabled[0]}" if disabled else "pip install numba",
        )
    cache = state["cache"]
    where = "no cache: compiled in each process" if cache == "none" else f"cache in {cache}"
    return Check("Compiled kernels", True, f"on ({state['engine']}), {where}")


def _pango_version() -> str:
    try:
        from weasyprint.text.ffi import pango

        number = int(pango.pango_version())  # (1.50.6 is 15006)
    except Exception:  # (another WeasyPrint may lay out its modules otherwise)
        return ""
    return f", pango {number // 10000}.{number // 100 % 100}.{number % 100}"


def _check_pdf() -> Check:
    problem = pdf_problem()
    if problem is not None:
        return Check(
            "PDF dossier",
            False,
            f"cannot be printed: {problem} (the maps, tables and index still work)",
            hint=install_hint(),
        )
    load_weasyprint()
    detail = f"WeasyPrint {_dist_version('weasyprint')}{_pango_version()}"
    return Check("PDF dossier", True, detail + " (cdv-geo report --dossier)")


def _check_map_assets() -> Check:
    from cdv_geo.maps.assets import ASSETS, asset_dirs, resolve_asset

    dirs = asset_dirs(None)
    found = sum(resolve_asset(a.url, dirs)[0] is not None for a in ASSETS.values())
    total = len(ASSETS)
    online = "maps load their scripts from a CDN when opened (default, needs internet)"
    if found == total:
        return Check("Maps", True, f"{online}; offline maps (--assets inline) ready: {dirs[-1]}")
    return Check(
        "Maps",
        False,
        f"{online}; offline maps (--assets inline): {found} of {total} files in {dirs[-1]}",
        hint="run `cdv-geo assets fetch` once, with internet, for maps that open offline",
    )


def find_chromium() -> str | None:
    """Return a Chromium the browser checks can drive, or None.

    A system Chromium (``chromium``, ``chromium-browser``, ``google-chrome``) or one that
    ``playwright install chromium`` downloaded (``PLAYWRIGHT_BROWSERS_PATH``, else the user's
    cache).
    """
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    roots = [Path(env)] if env and env != "0" else []
    roots += [
        Path.home() / ".cache" / "ms-playwright",  # Linux
        Path.home() / "Library" / "Caches" / "ms-playwright",  # macOS
        Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ms-playwright",  # Windows
    ]
    for root in roots:
        browsers = sorted(root.glob("chromium-*")) if root.is_dir() else []
        if browsers:
            return str(browsers[-1])
    return None


def _check_browser() -> Check:
    hint = "pip install playwright, then: playwright install chromium"
    try:
        import_module("playwright")
    except ImportError:
        return Check("Browser checks", False, "Playwright is not installed", hint=hint)
    chromium = find_chromium()
    if chromium is None:
        return Check("Browser checks", False, "no Chromium found", hint=hint)
    return Check(
        "Browser checks", True, f"Playwright {_dist_version('playwright')}, Chromium {chromium}"
    )


def _check_dask() -> Check:
    missing = []
    for module in ("dask", "distributed"):
        try:
            import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        return Check(
            "Many territories (dask)",
            False,
            f"{' and '.join(missing)} not installed: cdv-geo batch runs one territory at a time",
            hint="pip install dask distributed",
        )
    detail = f"dask {_dist_version('dask')}, distributed {_dist_version('distributed')}"
    return Check("Many territories (dask)", True, detail + " (cdv-geo batch)")


#: Every check, in the order printed.
CHECKS: tuple[Callable[[], Check], ...] = (
    _check_python,
    _check_package,
    _check_libraries,
    _check_demo_data,
    _check_kernels,
    _check_pdf,
    _check_map_assets,
    _check_browser,
    _check_dask,
)


#: The checks of what every metric, table and map needs: the command fails without them.
ESSENTIAL_CHECKS = CHECKS[:4]


def run_checks() -> list[Check]:
    """Run every check of :data:`CHECKS`; a check that fails unexpectedly says so."""
    results = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as exc:
            name = check.__name__.removeprefix("_check_").replace("_", " ").capitalize()
            results.append(
                Check(
                    name,
                    False,
                    f"could not be checked ({type(exc).__name__}: {exc})",
                    essential=check in ESSENTIAL_CHECKS,
                    hint="please report this line",
                )
            )
    return results


@click.command("doctor")
def doctor() -> None:
    """Say what this installation can do: versions, PDF, compiled kernels, maps, dask.

    Exits with 0 when the essentials work (the metrics, tables and maps), 1 otherwise; an
    optional part that is missing is said, with what to install, but is no error.
    """
    results = run_checks()
    for r in results:
        state = "ok" if r.ok else ("MISSING" if r.essential else "no")
        click.echo(f"{state:<8}{r.name}: {r.detail}")
        if not r.ok and r.hint:
            click.echo(f"{'':<8}-> {r.hint}")
    broken = [r.name for r in results if r.essential and not r.ok]
    optional = [r.name for r in results if not r.essential and not r.ok]
    if broken:
        click.echo(f"Not ready: {', '.join(broken)} (see the lines above).", err=True)
        click.get_current_context().exit(1)
    tail = f"; optional parts not available: {', '.join(optional)}" if optional else ""
    click.echo(f"Ready: the metrics, tables and maps work{tail}.")
