"""Tests of saving and embedding maps, inline assets, and ``cdv-geo assets``.

The asset files here are small stand-ins laid out like an npm ``node_modules`` folder (or like
the cache, behind a local HTTP server for ``fetch``): what is tested is that every file a map
links is found, embedded, escaped and reported when missing -- not Leaflet itself (the browser
tests load the real files).
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import folium
import pytest
from click.testing import CliRunner

from cdv_geo.cli.assets import assets
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.maps import MissingAssetsError, asset_urls, embed_snippet, render_html, save_map
from cdv_geo.maps.assets import ASSETS, cache_relpath, fetch_assets, npm_packages
from cdv_geo.maps.layers import quartiers_layer
from tests.browser.fixture_territory import make_territory

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")  # a PNG signature is enough here


def stand_in(url: str) -> bytes:
    """Content of a stand-in asset: JS with a closing script tag, CSS with an image."""
    if url.endswith(".css"):
        return b".x{background:url(img/a.png)} .y{background:url('#default#VML')}"
    if url.endswith(".png"):
        return PNG
    return f'/* {url} */ var s = "</script><!-- x";'.encode()


def npm_tree(root: Path, version_of: dict[str, str] | None = None) -> Path:
    """Stand-ins for every asset, laid out as node_modules/<package>/<path>."""
    nm = root / "node_modules"
    for a in ASSETS.values():
        f = nm / a.package / a.path
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(stand_in(a.url))
        if a.kind == "css":
            img = f.parent / "img" / "a.png"
            img.parent.mkdir(exist_ok=True)
            img.write_bytes(PNG)
        version = (version_of or {}).get(a.package, a.version)
        (nm / a.package / "package.json").write_text(json.dumps({"version": version}))
    return nm


@pytest.fixture
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache, whatever the machine has."""
    cache = tmp_path / "empty-cache"
    monkeypatch.setenv("CDV_GEO_ASSET_DIR", str(cache))
    return cache


@functools.cache
def _small_map_html() -> str:
    return render_html(_small_map())


def _small_map() -> folium.Map:
    from cdv_geo.maps import overview_map

    return overview_map(make_territory(evil=False), tiles=None)


def test_inline_embeds_every_asset_and_escapes_it(tmp_path: Path, no_cache: Path) -> None:
    nm = npm_tree(tmp_path)
    m = _small_map()
    linked = asset_urls(m)
    assert linked and all(u.startswith("https://cdn.jsdelivr.net/npm/") for u in linked)
    out = save_map(m, tmp_path / "carte.html", assets="inline", asset_dir=nm)
    text = out.read_text(encoding="utf-8")
    assert asset_urls(text) == []
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?:", text)
    for url in linked:  # each file's content is in the page, once
        if url.endswith(".js"):
            assert text.count(f"/* {url} */") == 2  # our marker comment + the file's own
    # A "</script>" inside a library cannot end the element early
    assert '"<\\/script><\\!-- x"' in text
    # Stylesheet images become data URIs; the VML fragment is left as it is
    b64 = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="
    assert f'url("{b64}")' in text
    assert "url('#default#VML')" in text


def test_the_grouped_layer_control_is_a_pinned_npm_asset(tmp_path: Path, no_cache: Path) -> None:
    """folium's GroupedLayerControl links cdnjs; our maps link the pinned npm files instead."""
    from cdv_geo.maps.services_maps import services_map
    from tests.views.services_data import service_metrics, territory

    t = territory(evil=False)
    m = services_map(t, metrics=service_metrics(t), tiles=None)
    linked = asset_urls(m)
    base = "https://cdn.jsdelivr.net/npm/leaflet-groupedlayercontrol@0.6.1/dist/"
    assert base + "leaflet.groupedlayercontrol.min.js" in linked
    assert base + "leaflet.groupedlayercontrol.min.css" in linked
    assert not [u for u in linked if "cdnjs" in u or not u.startswith("https://cdn.jsdelivr")]
    assert "leaflet-groupedlayercontrol@0.6.1" in npm_packages()
    # the plugin after Leaflet (it extends L.Control)
    assert linked.index(ASSETS["leaflet"].url) < linked.index(ASSETS["groupedlayers_js"].url)
    text = render_html(m, assets="inline", asset_dir=npm_tree(tmp_path))
    assert asset_urls(text) == []
    assert text.count(f"/* {ASSETS['groupedlayers_js'].url} */") == 2


def test_inline_reports_every_missing_file_and_writes_nothing(
    tmp_path: Path, no_cache: Path
) -> None:
    target = tmp_path / "carte.html"
    target.write_text("old map")
    nm = npm_tree(tmp_path, version_of={"leaflet": "1.9.3"})
    (nm / "leaflet.markercluster").rename(tmp_path / "elsewhere")
    m = _small_map()
    with pytest.raises(MissingAssetsError) as err:
        save_map(m, target, assets="inline", asset_dir=nm)
    msg = str(err.value)
    for url in (ASSETS["leaflet"].url, ASSETS["leaflet_css"].url, ASSETS["markercluster_js"].url):
        assert url in msg
    assert "is version 1.9.3, the map needs 1.9.4" in msg
    assert "cdv-geo assets fetch" in msg and f"npm install {npm_packages()[0]}" in msg
    assert str(nm) in msg  # the folders searched
    assert target.read_text() == "old map"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "carte.html",
        "elsewhere",
        "node_modules",
    ]
    assert isinstance(err.value, CdvGeoError) and isinstance(err.value, FileNotFoundError)


def test_cdn_mode_and_bad_arguments(tmp_path: Path) -> None:
    m = _small_map()
    out = save_map(m, tmp_path / "sub" / "carte.html")
    text = out.read_text(encoding="utf-8")
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js">' in text
    with pytest.raises(CdvGeoError, match="assets='web' is not valid"):
        save_map(m, tmp_path / "x.html", assets="web")  # type: ignore[arg-type]
    with pytest.raises(CdvGeoError, match="is a folder"):
        save_map(m, tmp_path)
    with pytest.raises(CdvGeoError, match="expected a folium Map"):
        save_map("not a map", tmp_path / "y.html")
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "y.html").exists()


def test_embed_snippet(tmp_path: Path) -> None:
    m = _small_map()
    path = save_map(m, tmp_path / "carte.html")
    snippet = embed_snippet(path, width=800, height="60vh", title="Carte <Soissons>")
    match = re.fullmatch(
        r'<iframe srcdoc="([^"]*)" title="([^"]*)" style="([^"]*)"[^>]*>'
        r"</iframe>",
        snippet,
    )
    assert match is not None
    assert html.unescape(match.group(1)) == path.read_text(encoding="utf-8")
    assert match.group(2) == "Carte &lt;Soissons&gt;"
    assert match.group(3) == "width:800px;height:60vh;border:0"
    assert 'sandbox="allow-scripts' in snippet
    # from the map object: the same document
    from_map = re.search(r'srcdoc="([^"]*)"', embed_snippet(m))
    assert from_map is not None and html.unescape(from_map.group(1)) == render_html(m)
    for bad in ("100%;background:url(x)", "-5px", "wide"):
        with pytest.raises(CdvGeoError, match="is not a CSS length"):
            embed_snippet(m, width=bad)
    with pytest.raises(CdvGeoError, match="no map file at"):
        embed_snippet(tmp_path / "absent.html")


def test_any_folium_map_can_be_saved_inline(tmp_path: Path, no_cache: Path) -> None:
    """A plain folium map (jQuery, Bootstrap, Font Awesome...) too, given its files."""
    m = folium.Map(tiles=None)
    quartiers_layer(make_territory(evil=False).quartiers).add_to(m)
    urls = asset_urls(m)
    assert any("jquery" in u for u in urls)
    mirror = tmp_path / "mirror"
    for url in urls:
        f = mirror / cache_relpath(url)
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"/* x */" if url.endswith(".js") else b".a{color:red}")
    text = render_html(m, assets="inline", asset_dir=mirror)
    assert asset_urls(text) == []


# --- fetching --------------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server holding every asset laid out as <host>/<path> (like the cache)."""
    root = tmp_path / "srv"
    for a in ASSETS.values():
        f = root / cache_relpath(a.url)
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(stand_in(a.url))
        if a.kind == "css":
            (f.parent / "img").mkdir(exist_ok=True)
            (f.parent / "img" / "a.png").write_bytes(PNG)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_fetch_assets_with_their_images(tmp_path: Path, mirror: tuple[str, Path]) -> None:
    base, root = mirror
    dest = tmp_path / "cache"
    css = ASSETS["leaflet_css"].url
    files = fetch_assets([css], dest, mirror=base)
    rel = cache_relpath(css)
    assert files == [dest / rel, dest / rel.parent / "img" / "a.png"]
    assert files[1].read_bytes() == PNG
    # already there: not downloaded again (the server copy changes, the cache keeps its own)
    (root / rel).write_bytes(b"changed")
    fetch_assets([css], dest, mirror=base)
    assert (dest / rel).read_bytes() == stand_in(css)
    fetch_assets([css], dest, mirror=base, force=True)
    assert (dest / rel).read_bytes() == b"changed"


def test_fetch_reports_files_it_cannot_get(tmp_path: Path, mirror: tuple[str, Path]) -> None:
    base, _root = mirror
    good = ASSETS["leaflet"].url
    bad = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/absent.js"
    with pytest.raises(CdvGeoError) as err:
        fetch_assets([good, bad], tmp_path / "c", mirror=base)
    assert "could not download 1 asset file(s)" in str(err.value)
    assert "absent.js" in str(err.value) and "leaflet.js" not in str(err.value).split("\n")[1]
    assert (tmp_path / "c" / cache_relpath(good)).is_file()  # the good one is kept
    with pytest.raises(CdvGeoError, match="not an http"):
        fetch_assets(["file:///etc/passwd"], tmp_path / "c")
    with pytest.raises(CdvGeoError, match="climbs out"):
        fetch_assets(["https://cdn.jsdelivr.net/npm/../../etc/passwd"], tmp_path / "c")


def test_cli_fetch_then_inline(
    tmp_path: Path, mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _root = mirror
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("CDV_GEO_ASSET_DIR", str(cache))
    runner = CliRunner()
    listed = runner.invoke(assets, ["list"])
    assert listed.exit_code == 0
    assert listed.output.count("missing https://") == len(ASSETS)
    result = runner.invoke(assets, ["fetch", "--mirror", base])
    assert result.exit_code == 0, result.output
    # every asset and the image of each stylesheet (each stand-in refers to img/a.png beside
    # it; markercluster's two stylesheets share theirs): 6 images
    images = {a.url.rsplit("/", 1)[0] for a in ASSETS.values() if a.kind == "css"}
    assert len(images) == 6  # leaflet, markercluster, fullscreen, minimap, measure, grouped
    assert f"{len(ASSETS) + 6} asset file(s) in {cache}" in result.output
    listed = runner.invoke(assets, ["list"])
    assert "missing" not in listed.output and listed.output.count("ok      https://") == len(ASSETS)
    # now maps are written inline from the cache, with no folder given
    text = render_html(_small_map(), assets="inline")
    assert asset_urls(text) == []
    # fetching for a saved map: exactly the files it links
    saved = save_map(folium.Map(tiles=None), tmp_path / "plain.html")
    res = runner.invoke(
        assets, ["fetch", "--dest", str(tmp_path / "d"), "--mirror", base, str(saved)]
    )
    assert res.exit_code != 0  # folium's own jQuery etc. are not on our mirror...
    assert "code.jquery.com" in str(res.exception)  # ...and the error names them
