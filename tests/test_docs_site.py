"""The documentation site builds with ``mkdocs build --strict``, from the code's own text.

The build runs without the gallery's screenshots (they need the demo and Chromium: `make docs`
makes them); the hook then puts a placeholder page in its place. A broken link, an unknown
cross-reference, a docstring griffe cannot parse or a public name without docstring is a
warning, and ``--strict`` turns it into a failure. The glossary page is checked against
``glossary.toml`` read here directly; the gallery page against hostile titles.
"""

from __future__ import annotations

import doctest
import html
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]' (make test does)")
    out = tmp_path_factory.mktemp("site")
    empty = tmp_path_factory.mktemp("no-gallery")
    env = {**os.environ, "CDV_GEO_DOCS_GALLERY": str(empty), "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml")]
    res = subprocess.run(
        [*cmd, "-d", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return out


def _text(path: Path) -> str:
    """The visible text of an HTML page, entities left as they are."""
    return re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_site_builds_strict_with_every_part(site: Path) -> None:
    for page in (
        "index.html",
        "getting-started.html",
        "tutorial.html",
        "guide/index.html",
        "guide/access.html",
        "guide/batch.html",
        "gallery.html",
        "glossary.html",
        "glossaire.html",
        "metrics.html",
        "reference/index.html",
        "reference/cdv_geo.html",
        "reference/metrics.html",
        "benchmarks.html",
        "changelog.html",
    ):
        assert (site / page).is_file(), page
    # the API reference renders the docstrings: a metric's summary line is on its page
    import cdv_geo.metrics.access as access

    summary = (access.coverage.__doc__ or "").strip().splitlines()[0]
    assert summary.split("`")[0][:40] in _text(site / "reference" / "metrics.html")


@pytest.mark.slow
def test_glossary_pages_are_the_dossier_glossary(site: Path) -> None:
    with (ROOT / "src" / "cdv_geo" / "output" / "templates" / "glossary.toml").open("rb") as f:
        data = tomllib.load(f)
    en = _text(site / "glossary.html")
    fr = _text(site / "glossaire.html")
    for section in ("rows", "figures", "indicators"):
        for key, fields in data.get(section, {}).items():
            name_fr, name_en = fields["name"]
            assert html.escape(name_en, quote=False) in en, (section, key)
            assert html.escape(name_fr, quote=False) in fr, (section, key)


def test_missing_docstrings_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = _script("make_docs")
    fake = types.ModuleType("cdv_geo_fake_docs", "A module.")

    def documented() -> None:
        """Do something."""

    def bare() -> None:
        pass

    class Bare:
        pass

    for obj in (documented, bare, Bare):
        obj.__module__ = fake.__name__
        setattr(fake, obj.__name__, obj)
    fake.__all__ = ["documented", "bare", "Bare", "CONSTANT"]  # type: ignore[attr-defined]
    fake.CONSTANT = 3  # type: ignore[attr-defined]
    undocumented = types.ModuleType("cdv_geo_fake_nodoc")
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setitem(sys.modules, undocumented.__name__, undocumented)
    found = mod.missing_docstrings([fake.__name__, undocumented.__name__])
    assert found == [
        "cdv_geo_fake_docs.bare",
        "cdv_geo_fake_docs.Bare",
        "cdv_geo_fake_nodoc",
    ]


def test_every_public_name_of_the_reference_has_a_docstring() -> None:
    mod = _script("make_docs")
    modules = [m for p in mod.PACKAGES for m in mod.reference_modules(p)]
    assert "cdv_geo.metrics.access" in modules
    assert not any(m.startswith("cdv_geo.cli") for m in modules)
    assert mod.missing_docstrings([*modules, "cdv_geo.testing"]) == []


def test_changelog_and_gallery_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = _script("make_docs")
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    assert mod.changelog_page().startswith("# Changelog\n\nNo `CHANGELOG.md`")
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n## 0.3\n", encoding="utf-8")
    assert mod.changelog_page() == "# Changelog\n\n## 0.3\n"
    assert "make docs" in mod.gallery_placeholder()


def test_gallery_page_escapes_titles() -> None:
    gallery = _script("docs_gallery")
    hostile = "<script>alert(1)</script> & \"quoted\" 'single'"
    text = gallery.gallery_markdown(
        [(hostile, "gallery/img/a.png", "gallery/live/a.html")],
        ["gallery/img/dossier-01.png", "gallery/img/dossier-02.png"],
        "gallery/live/dossier.pdf",
    )
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#x27;single&#x27;" in (
        text
    )
    assert '<a href="gallery/live/a.html"><img src="gallery/img/a.png"' in text
    # each dossier page links to the PDF, in page order
    assert text.index("dossier-01.png") < text.index("dossier-02.png")
    assert text.count('href="gallery/live/dossier.pdf"') == 2


def test_gallery_reads_map_titles_and_orders_maps(tmp_path: Path) -> None:
    gallery = _script("docs_gallery")
    page = tmp_path / "heat.html"
    page.write_text("<html><head><title>Chaleur &amp; eau &#x27;x&#x27;</title>", encoding="utf-8")
    assert gallery.page_title(page) == "Chaleur & eau 'x'"
    bare = tmp_path / "quartier_presles.html"
    bare.write_text("<html></html>", encoding="utf-8")
    assert gallery.page_title(bare) == "quartier presles"
    names = ["renewal", "zzz", "accessibility_school", "overview", "quartier_b", "index"]
    ordered = sorted((tmp_path / f"{n}.html" for n in names), key=gallery.map_order)
    assert [p.stem for p in ordered] == [
        "index",
        "overview",
        "quartier_b",
        "accessibility_school",
        "renewal",
        "zzz",
    ]


def test_sphinx_roles_become_cross_references() -> None:
    mod = _script("make_docs")
    known = {"coverage": "cdv_geo.metrics.access.coverage", "cdv_geo.core.crs": "cdv_geo.core.crs"}

    def sub(text: str) -> str:
        return str(mod.ROLE.sub(lambda m: mod.role_link(m, known.get), text))

    assert sub(":func:`coverage`") == "[`coverage`][cdv_geo.metrics.access.coverage]"
    assert sub(":py:mod:`cdv_geo.core.crs`") == "[`cdv_geo.core.crs`][cdv_geo.core.crs]"
    assert sub(":meth:`~pd.DataFrame.pipe`") == "`pipe`"  # not cdv_geo's: code, no link
    assert sub(":func:`a walk <coverage>`") == "[`a walk`][cdv_geo.metrics.access.coverage]"
    assert sub(":func:`cover\n    age()`") == "[`coverage()`][cdv_geo.metrics.access.coverage]"
    assert sub("plain `code` and :notarole:`x`") == "plain `code` and :notarole:`x`"
    assert doctest.testmod(mod).failed == 0
