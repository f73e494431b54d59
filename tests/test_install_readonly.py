"""The wheel, installed read-only, runs the demo's walks for a user whose home is not writable.

What a planner's IT does (a container running as non-root, a shared server, a JupyterHub
image): the wheel goes into a fresh venv whose ``site-packages`` is then made read-only, and
another user runs it, ``HOME`` unwritable, ``NUMBA_CACHE_DIR`` unset. The compiled kernels must
then cache elsewhere (a private temp directory) or not at all, and give the same walks as this
process. The other user is ``nobody`` (``setpriv``, else ``runuser``): only root can switch to
it, so the test runs in CI (as root) and is skipped on a developer's machine.

The venv takes the dependencies from this project's venv (a ``.pth`` line, read-only use):
they are not installed again. When ``nobody`` cannot read them where they are (a clone under
``/root``), the packages the demo imports are linked or copied to a readable directory.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOBODY = 65534

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.name != "posix" or os.geteuid() != 0,
        reason="runs the install as another user, which needs root (CI runs as root)",
    ),
]

#: The demo's walking metrics and a checksum of their tables (run here and as nobody).
WALKS = """
import hashlib
import pandas as pd

def walks_checksum():
    from cdv_geo.datasets import soissons
    from cdv_geo.metrics.access import coverage, nearest_facility
    from cdv_geo.network import WalkNetwork

    t = soissons()
    net = WalkNetwork.from_lines(t.metric("streets"), crs=t.metric_crs)
    homes, places = t.metric("residences"), t.metric("facilities")
    near = nearest_facility(homes, places, network=net)
    cov = coverage(homes, places, t.metric("quartiers"), network=net, threshold_m=[300, 600],
                   communes=t.metric("communes"))
    h = hashlib.sha256()
    for table in (near, cov):
        h.update(table.to_csv(float_format="%.17g").encode())
    return h.hexdigest()
"""

REPORT = """
import os, sys, time, warnings
warnings.simplefilter("always")
start = time.perf_counter()
checksum = walks_checksum()
import cdv_geo
from cdv_geo.core import jit
print("checksum", checksum)
print("seconds", round(time.perf_counter() - start, 2))
print("package", cdv_geo.__file__)
print("engine", jit.status()["engine"].split()[0])
print("cache", jit.status()["cache"])
from cdv_geo.metrics.nearest import _walks
from cdv_geo.network.snapping import _query
stats = [k.compiled.stats for k in (_query, _walks)]
print("cache_hits", sum(sum(s.cache_hits.values()) for s in stats))
print("cache_misses", sum(sum(s.cache_misses.values()) for s in stats))
print("site_writable", os.access(os.path.dirname(os.path.dirname(cdv_geo.__file__)), os.W_OK))
print("home_writable", os.access(os.environ["HOME"], os.W_OK))
"""


def _as_nobody() -> list[str] | None:
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    return None


def _run_as_nobody(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    prefix = _as_nobody()
    assert prefix is not None, "setpriv or runuser (util-linux) is needed: see .ci/run"
    return subprocess.run(
        [*prefix, *cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=900
    )


def _readable_python(work: Path) -> str:
    """A Python of this version that nobody can run (this one may sit under /root)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [
        os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
        f"/usr/bin/python{version}",
        f"/usr/local/bin/python{version}",
        shutil.which(f"python{version}") or "",
    ]
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for python in dict.fromkeys(c for c in candidates if c and os.path.exists(c)):
        proc = _run_as_nobody([python, "-I", "-c", probe], {"PATH": "/usr/bin:/bin"}, work)
        if proc.returncode == 0 and proc.stdout.strip() == version:
            return python
    pytest.fail(f"no Python {version} that nobody can run: install python{version} (.ci/run)")


def _world_readable(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        mode = p.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        extra = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        if stat.S_ISDIR(mode) or mode & stat.S_IXUSR:
            extra |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        p.chmod(stat.S_IMODE(mode) | extra)


def _read_only(path: Path) -> None:
    for p in [*path.rglob("*"), path]:
        if not p.is_symlink():
            p.chmod(stat.S_IMODE(p.lstat().st_mode) & ~0o222)


def _dependencies_for_nobody(work: Path, python: str, venv_site: Path) -> Path:
    """Where nobody reads this project's dependencies: in place, else a readable copy."""
    site = Path(sysconfig.get_paths()["purelib"])
    (venv_site / "deps.pth").write_text(f"{site}\n")
    probe = "import numpy, numba, pandas, geopandas, shapely, pyproj, scipy, pyarrow"
    venv_python = str(work / "venv" / "bin" / "python")
    if _run_as_nobody([venv_python, "-c", probe], {"PATH": "/usr/bin:/bin"}, work).returncode == 0:
        return site
    deps = _copy_dependencies(work, site)
    (venv_site / "deps.pth").write_text(f"{deps}\n")
    return deps


def _copy_dependencies(work: Path, site: Path) -> Path:
    """Link (else copy) to ``work/deps`` the packages of `site` this process imported."""
    # the packages this process has imported (the demo ran here first), their metadata and
    # the shared libraries wheels put beside them
    top = {
        Path(m.__file__).relative_to(site).parts[0]
        for m in list(sys.modules.values())
        if getattr(m, "__file__", None) and Path(m.__file__).is_relative_to(site)
    }
    top |= {p.name for p in site.iterdir() if p.name.endswith((".libs", ".dist-info"))}
    deps = work / "deps"
    deps.mkdir()

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    for name in sorted(top):
        src = site / name
        if src.is_dir():
            shutil.copytree(src, deps / name, symlinks=True, copy_function=link_or_copy)
        else:
            link_or_copy(str(src), str(deps / name))
    _world_readable(deps)
    return deps


def _build_wheel(out: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(out), "-q"]
    try:
        import hatchling  # noqa: F401 - the backend is here: no download needed
    except ImportError:
        pass
    else:
        cmd.append("--no-build-isolation")
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    (wheel,) = out.glob("cdv_geo-*.whl")
    return wheel


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    """A directory nobody can traverse (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="cdv-geo-readonly-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(stat.S_IMODE(p.lstat().st_mode) | 0o700)
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Install:
    """The wheel installed read-only in a venv, and how nobody runs it."""

    python: Path  # the venv's interpreter
    site: Path  # its (read-only) site-packages
    env: dict[str, str]  # nobody's environment: unwritable HOME, no NUMBA_CACHE_DIR
    work: Path


@pytest.fixture(scope="module")
def install(work: Path) -> Install:
    """Build the wheel, install it into a fresh venv, make the venv read-only."""
    namespace: dict = {}
    exec(WALKS, namespace)
    namespace["walks_checksum"]()  # (imports here what the demo needs: see _copy_dependencies)
    wheel = _build_wheel(work / "dist")
    python = _readable_python(work)
    subprocess.run([python, "-m", "venv", "--without-pip", str(work / "venv")], check=True)
    venv_python = work / "venv" / "bin" / "python"
    venv_site = Path(
        subprocess.run(
            [venv_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    _dependencies_for_nobody(work, python, venv_site)
    _world_readable(work / "venv")
    _read_only(work / "venv")
    home = work / "home"  # (root's, read-only: nobody cannot write there)
    home.mkdir(mode=0o555)
    tmp = work / "tmp"  # (a temporary directory nobody can write: the cache goes there)
    tmp.mkdir()
    tmp.chmod(0o1777)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(tmp), "LANG": "C.UTF-8"}
    return Install(venv_python, venv_site, env, work)


def _script(install: Install, name: str, text: str) -> str:
    path = install.work / name
    path.write_text(text)
    path.chmod(0o644)
    return str(path)


def test_a_read_only_install_runs_the_demo_for_a_user_without_a_writable_home(install) -> None:
    namespace: dict = {}
    exec(WALKS, namespace)
    expected = namespace["walks_checksum"]()  # (here, in this process)
    script = _script(install, "walks.py", WALKS + REPORT)
    tmp = Path(install.env["TMPDIR"])

    first = _report(_run_as_nobody([str(install.python), script], install.env, install.work))
    assert first["checksum"] == expected
    assert first["package"].startswith(str(install.site))  # (the wheel, not this checkout)
    assert first["site_writable"] == "False" and first["home_writable"] == "False"
    assert first["engine"] == "numba"
    assert first["cache"] == str(tmp / f"cdv_geo-numba-{NOBODY}")
    assert list(Path(first["cache"]).rglob("*.nbi"))  # (the kernels were cached there)
    assert (first["cache_hits"], first["cache_misses"]) == ("0", "2")  # (compiled)
    print(f"first run, compiling: {first['seconds']} s")

    # the next process loads them from that cache
    second = _report(_run_as_nobody([str(install.python), script], install.env, install.work))
    assert second["checksum"] == expected
    assert (second["cache_hits"], second["cache_misses"]) == ("2", "0")
    print(f"second run, from the cache: {second['seconds']} s")


#: Import every module of the installed package; list those numba's own cache breaks.
IMPORT_ALL = """
import importlib, pkgutil, cdv_geo
for m in pkgutil.walk_packages(cdv_geo.__path__, "cdv_geo."):
    try:
        importlib.import_module(m.name)
    except Exception as exc:  # (other import errors, e.g. an optional library, are not ours)
        if "cannot cache function" in str(exc):
            print(m.name)
"""


def test_no_module_of_a_read_only_install_fails_on_numbas_cache(install) -> None:
    script = _script(install, "import_all.py", IMPORT_ALL)
    proc = _run_as_nobody([str(install.python), script], install.env, install.work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == []


def _report(proc: subprocess.CompletedProcess) -> dict[str, str]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "numpy instead" not in proc.stderr  # (numba ran: no fallback)
    assert "Traceback" not in proc.stderr
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
