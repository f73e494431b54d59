"""The JavaScript and CSS files the maps reference, where to find them locally, how to fetch them.

The maps load Leaflet and a few plugins. In ``assets="cdn"`` mode the HTML links them from
jsDelivr; in ``assets="inline"`` mode :func:`cdv_geo.maps.save_map` copies their content into
the file, reading them from a local *asset folder*:

* the user cache (``~/.cache/cdv_geo/assets``, or ``$CDV_GEO_ASSET_DIR``), filled once by
  ``cdv-geo assets fetch`` -- files are stored as ``<host>/<path of the URL>``;
* or a folder the user gives: an npm ``node_modules`` folder (``npm install leaflet@1.9.4
  ...``), or its parent, or a mirror laid out like the cache.

Every asset is pinned to an exact version on the npm registry, so that a ``node_modules``
folder, the cache and the CDN hold the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdv_geo.core.errors import CdvGeoError

__all__ = [
    "ASSETS",
    "MissingAssetsError",
    "asset_dirs",
    "cache_dir",
    "cache_relpath",
    "css_dependencies",
    "fetch_assets",
    "main",
    "npm_packages",
    "resolve_asset",
]

_CDN = "https://cdn.jsdelivr.net/npm"


@dataclass(frozen=True)
class Asset:
    """One JS or CSS file of an npm package, as served by jsDelivr."""

    name: str
    package: str
    version: str
    path: str

    @property
    def url(self) -> str:
        """The CDN address of the file."""
        return f"{_CDN}/{self.package}@{self.version}/{self.path}"

    @property
    def kind(self) -> str:
        """``"js"`` or ``"css"``."""
        return "css" if self.path.endswith(".css") else "js"


_PINNED = {
    "leaflet": "1.9.4",
    "leaflet.markercluster": "1.5.3",
    "leaflet.fullscreen": "3.0.2",
    "leaflet-minimap": "3.6.1",
    "leaflet-measure": "3.1.0",
    "leaflet.heat": "0.2.0",
    "leaflet-groupedlayercontrol": "0.6.1",
}


def _a(name: str, package: str, path: str) -> Asset:
    return Asset(name, package, _PINNED[package], path)


#: Every asset a cdv_geo map may reference, by name (the name folium uses to deduplicate links).
ASSETS: dict[str, Asset] = {
    a.name: a
    for a in (
        _a("leaflet", "leaflet", "dist/leaflet.js"),
        _a("leaflet_css", "leaflet", "dist/leaflet.css"),
        _a("markercluster_js", "leaflet.markercluster", "dist/leaflet.markercluster.js"),
        _a("markercluster_css", "leaflet.markercluster", "dist/MarkerCluster.css"),
        _a("markercluster_default_css", "leaflet.markercluster", "dist/MarkerCluster.Default.css"),
        _a("fullscreen_js", "leaflet.fullscreen", "Control.FullScreen.js"),
        _a("fullscreen_css", "leaflet.fullscreen", "Control.FullScreen.css"),
        _a("minimap_js", "leaflet-minimap", "dist/Control.MiniMap.min.js"),
        _a("minimap_css", "leaflet-minimap", "dist/Control.MiniMap.min.css"),
        _a("measure_js_fr", "leaflet-measure", "dist/leaflet-measure.fr.js"),
        _a("measure_js_en", "leaflet-measure", "dist/leaflet-measure.en.js"),
        _a("measure_css", "leaflet-measure", "dist/leaflet-measure.css"),
        _a("heat_js", "leaflet.heat", "dist/leaflet-heat.js"),
        _a(
            "groupedlayers_js",
            "leaflet-groupedlayercontrol",
            "dist/leaflet.groupedlayercontrol.min.js",
        ),
        _a(
            "groupedlayers_css",
            "leaflet-groupedlayercontrol",
            "dist/leaflet.groupedlayercontrol.min.css",
        ),
    )
}


def npm_packages() -> list[str]:
    """Return the ``package@version`` specs of every asset, for ``npm install``.

    Examples
    --------
    >>> npm_packages()[0]
    'leaflet@1.9.4'
    """
    return [f"{p}@{v}" for p, v in _PINNED.items()]


class MissingAssetsError(CdvGeoError, FileNotFoundError):
    """Files needed to write a map with ``assets="inline"`` are not in any asset folder."""


def cache_dir() -> Path:
    """Return the user asset cache (``$CDV_GEO_ASSET_DIR``, else ``~/.cache/cdv_geo/assets``).

    Examples
    --------
    >>> cache_dir().name
    'assets'
    """
    env = os.environ.get("CDV_GEO_ASSET_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cdv_geo" / "assets"


def asset_dirs(
    asset_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
) -> list[Path]:
    """Return the folders searched for assets: those given, then the user cache.

    Examples
    --------
    >>> [p.name for p in asset_dirs("node_modules")][:1]
    ['node_modules']
    """
    given: list[Path] = []
    if asset_dir is not None:
        items = [asset_dir] if isinstance(asset_dir, str | os.PathLike) else list(asset_dir)
        given = [Path(p).expanduser() for p in items]
    cache = cache_dir()
    return given + ([cache] if cache not in given else [])


_NPM_URL = re.compile(
    r"^https?://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/"
    r"(?P<pkg>(?:@[^/@]+/)?[^/@]+)(?:@(?P<ver>[^/]+))?/(?P<sub>.+)$"
)


def cache_relpath(url: str) -> Path:
    """Where a URL lives in a cache-layout folder: ``<host>/<path>``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CdvGeoError(f"not an http(s) URL: {url!r}")
    rel = Path(parts.netloc) / urllib.parse.unquote(parts.path).lstrip("/")
    if ".." in rel.parts:
        raise CdvGeoError(f"refusing an asset URL that climbs out of its folder: {url!r}")
    return rel


def _version_ok(wanted: str | None, found: str | None) -> bool:
    if wanted is None or found is None:
        return True
    if re.fullmatch(r"\d+\.\d+\.\d+.*", wanted):
        return wanted == found
    return found == wanted or found.startswith(wanted.rstrip(".") + ".")  # "2" accepts "2.1.7"


def resolve_asset(url: str, dirs: Iterable[Path]) -> tuple[Path | None, list[str]]:
    """Find the local copy of `url` in `dirs`.

    Returns the file (or ``None``) and, when not found, notes on near misses (for instance an
    npm package of another version).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> f = d / "leaflet" / "dist" / "leaflet.js"
    >>> f.parent.mkdir(parents=True)
    >>> _ = f.write_text("/* leaflet */")
    >>> _ = (d / "leaflet" / "package.json").write_text('{"version": "1.9.4"}')
    >>> resolve_asset(ASSETS["leaflet"].url, [d])[0] == f
    True
    """
    notes: list[str] = []
    rel = cache_relpath(url)
    m = _NPM_URL.match(url)
    for d in dirs:
        cached = d / rel
        if cached.is_file():
            return cached, []
        if m is None:
            continue
        pkg, ver, sub = m["pkg"], m["ver"], m["sub"]
        for root in (d / "node_modules" / pkg, d / pkg):
            f = root / sub
            if not f.is_file():
                continue
            found = _package_version(root)
            if _version_ok(ver, found):
                return f, []
            notes.append(f"{f} is version {found}, the map needs {ver}")
    return None, notes


def _package_version(root: Path) -> str | None:
    try:
        return str(json.loads((root / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def css_dependencies(css: str, base_url: str) -> list[str]:
    """Return the absolute URLs of the files a stylesheet refers to with ``url(...)``.

    Data URIs and fragment references (``#default#VML``) are skipped.

    Examples
    --------
    >>> css_dependencies('a{background:url(images/layers.png)} b{x:url("#default#VML")}',
    ...                  "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")
    ['https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/images/layers.png']
    """
    out: list[str] = []
    for _q, ref in _CSS_URL.findall(css):
        ref = ref.strip()
        if ref.startswith(("data:", "#")):
            continue
        full = urllib.parse.urljoin(base_url, ref)
        full = full.split("#", 1)[0].split("?", 1)[0]
        if full not in out:
            out.append(full)
    return out


def fetch_assets(
    urls: Iterable[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
    *,
    mirror: str | None = None,
    force: bool = False,
    timeout: float = 30.0,
) -> list[Path]:
    """Download assets (and the images their stylesheets use) into an asset folder.

    Parameters
    ----------
    urls : iterable of str, optional
        The files to fetch; every file of :data:`ASSETS` by default.
    dest : path, optional
        The asset folder (the user cache by default).
    mirror : str, optional
        Base URL of a mirror laid out like the cache (``<mirror>/<host>/<path>``), for
        networks that cannot reach the CDN.
    force : bool, default False
        Download again files already present.
    timeout : float
        Seconds per request.

    Returns
    -------
    list of pathlib.Path
        The local files, in the order fetched.

    Raises
    ------
    CdvGeoError
        Naming every file that could not be downloaded (the others are kept).
    """
    root = Path(dest).expanduser() if dest is not None else cache_dir()
    todo = list(dict.fromkeys(urls if urls is not None else (a.url for a in ASSETS.values())))
    done: list[Path] = []
    failed: list[str] = []
    seen: set[str] = set()
    while todo:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        target = root / cache_relpath(url)
        if force or not target.is_file():
            source = url
            if mirror:
                source = mirror.rstrip("/") + "/" + cache_relpath(url).as_posix()
            try:
                data = _download(source, timeout)
            except (OSError, urllib.error.URLError, ValueError) as exc:
                failed.append(f"{source}: {exc}")
                continue
            _atomic_write_bytes(target, data)
        done.append(target)
        if url.endswith(".css"):
            css = target.read_text(encoding="utf-8", errors="replace")
            todo.extend(u for u in css_dependencies(css, url) if u not in seen)
    if failed:
        raise CdvGeoError(
            f"could not download {len(failed)} asset file(s) into {root}:\n  - "
            + "\n  - ".join(failed)
            + "\nCheck the network (or proxy settings), or install the npm packages "
            f"(npm install {' '.join(npm_packages())}) and pass asset_dir='node_modules'."
        )
    return done


def _download(url: str, timeout: float) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    req = urllib.request.Request(url, headers={"User-Agent": "cdv_geo asset fetch"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return bytes(resp.read())


def _atomic_write_bytes(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cdv_geo.maps.assets --npm-packages``: the npm specs, one a line (Makefile)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["--npm-packages"]:
        print("usage: python -m cdv_geo.maps.assets --npm-packages", file=sys.stderr)
        return 2
    print("\n".join(npm_packages()))
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the Makefile
    raise SystemExit(main())
