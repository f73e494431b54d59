"""Without pango, `cdv-geo report --dossier` and `cdv-geo demo` write everything but the PDF.

The missing library is simulated: WeasyPrint's import (or its rendering) raises the
``OSError`` cffi raises when ``libpango`` cannot be loaded. The pack's other files must be
there, one plain line must say what to install on this platform, and the exit code must be 3.
"""

from __future__ import annotations

import importlib.abc
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cdv_geo.cli import main
from cdv_geo.cli import pdf as pdf_mod
from tests.pipeline.grid import EVIL, grid_layers

#: What cffi raises when WeasyPrint cannot find pango (WeasyPrint 70 on Debian, no pango).
PANGO_ERROR = (
    "cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file: "
    "No such file or directory.  Additionally, ctypes.util.find_library() did not manage to "
    "locate a library called 'libpango-1.0-0'"
)


def _no_pango() -> None:
    raise OSError(PANGO_ERROR)


class _NoPangoFinder(importlib.abc.MetaPathFinder):
    """``import weasyprint`` as it fails without pango: WeasyPrint's banner, then the error."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "weasyprint" or name.startswith("weasyprint."):
            print("\n-----\n\nWeasyPrint could not import some external libraries.\n-----\n")
            raise OSError(PANGO_ERROR)
        return None


@pytest.fixture
def no_pango(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``import weasyprint`` fails as it does on a computer without pango."""
    for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPangoFinder(), *sys.meta_path])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A two-quartier project (one quartier named with hostile text) with its facilities."""
    from cdv_geo import write_layer

    layers = grid_layers(name_b=EVIL)
    kinds = ("communes", "quartiers", "streets", "facilities", "residences")
    for kind in kinds:
        write_layer(layers[kind], tmp_path / "layers.gpkg", layer=kind)
    entries = "\n".join(f'{k} = {{ path = "layers.gpkg", layer = "{k}" }}' for k in kinds)
    path = tmp_path / "project.toml"
    path.write_text(f'name = "Testville"\n[layers]\n{entries}\n', encoding="utf-8")
    return path


def _pack_is_there(out: Path) -> None:
    assert (out / "index.html").is_file()
    assert (out / "overview.html").is_file()
    assert (out / "tables" / "key_figures.csv").is_file()
    assert not (out / "dossier.pdf").exists()
    # the population the project gives (1,000 and 500), not a PDF's leftovers
    kf = pd.read_csv(out / "tables" / "key_figures.csv", index_col=0)
    assert kf.iloc[:2, 1].tolist() == [1000.0, 500.0]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in index  # (the hostile name is escaped)
    assert "&lt;script&gt;alert(1)" in index
    assert 'href="dossier.pdf"' not in index


def _one_line(stderr: str, out: Path) -> str:
    assert "-----" not in stderr and "WeasyPrint could not" not in stderr  # (its banner)
    lines = [ln for ln in stderr.splitlines() if "pango" in ln.lower() or "pdf" in ln.lower()]
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("PDF dossier not written: the pango library is missing")
    assert str(out) in line
    assert pdf_mod.install_hint() in line
    assert "Traceback" not in line and "OSError" not in line and "cffi" not in line
    return line


@pytest.mark.usefixtures("no_pango")
def test_report_without_pango_at_import_writes_the_rest_and_exits_3(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pack"
    res = CliRunner().invoke(main, ["report", str(project), "--out", str(out), "--dossier", "-q"])
    assert res.exit_code == pdf_mod.PDF_MISSING_EXIT == 3, res.output
    _pack_is_there(out)
    assert "Wrote the committee pack of Testville" in res.stdout
    _one_line(res.stderr, out)


def test_report_without_pango_at_render_writes_the_rest_and_exits_3(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cdv_geo.output.dossier

    monkeypatch.setattr(pdf_mod, "load_weasyprint", lambda: None)  # (the import works)
    calls = []

    def render_fails(*args: object, **kwargs: object) -> Path:
        calls.append(kwargs)
        raise OSError(PANGO_ERROR.replace("libpango-1.0-0", "libpangoft2-1.0-0"))

    monkeypatch.setattr(cdv_geo.output.dossier, "build_dossier", render_fails)
    out = tmp_path / "pack"
    res = CliRunner().invoke(main, ["report", str(project), "-o", str(out), "--dossier", "-q"])
    assert res.exit_code == 3, res.output
    assert len(calls) == 1  # (tried once, then the pack without it)
    _pack_is_there(out)
    _one_line(res.stderr, out)


def test_a_full_disk_while_printing_is_no_pango_message(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cdv_geo.output.dossier

    monkeypatch.setattr(pdf_mod, "load_weasyprint", lambda: None)

    def disk_full(*args: object, **kwargs: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cdv_geo.output.dossier, "build_dossier", disk_full)
    res = CliRunner().invoke(
        main, ["report", str(project), "-o", str(tmp_path / "p"), "--dossier", "-q"]
    )
    assert res.exit_code == 1, res.output  # (an unexpected failure, said as such)
    assert "No space left on device" in res.stderr
    assert "pango" not in res.output


@pytest.mark.usefixtures("no_pango")
def test_report_without_dossier_does_not_need_pango(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack"
    res = CliRunner().invoke(main, ["report", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    _pack_is_there(out)
    assert "pango" not in res.stderr.lower() and "pdf" not in res.stderr.lower()


@pytest.mark.usefixtures("no_pango")
def test_demo_without_pango_writes_the_rest_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the demo's own pack is long to build: build_report is replaced by a stand-in that
    # writes an index and records whether the PDF was asked for
    import cdv_geo.cli.demo as demo_mod

    asked: list[bool] = []

    def fake_build_report(territory: object, out: Path, **kwargs: object) -> Path:
        asked.append(bool(kwargs["dossier"]))
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "index.html").write_text("<html></html>")
        return Path(out) / "index.html"

    monkeypatch.setattr(demo_mod, "build_report", fake_build_report)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["demo", "-q"])  # (--dossier is the demo's default)
    assert res.exit_code == 3, res.output
    assert asked == [False]
    assert (tmp_path / "maps" / "index.html").is_file()  # (./maps by default)
    _one_line(res.stderr, Path("maps"))

    asked.clear()
    res = CliRunner().invoke(main, ["demo", "--no-dossier", "--out", "pack", "-q"])
    assert res.exit_code == 0, res.output
    assert "pango" not in res.stderr.lower() and "pdf" not in res.stderr.lower()
    assert asked == [False]
    assert (tmp_path / "pack" / "index.html").is_file()


@pytest.mark.usefixtures("no_pango")
def test_dossier_command_without_pango_says_what_to_install(project: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["dossier", str(project), "-o", str(tmp_path / "d.pdf")])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("Error")]
    assert len(lines) == 1 and "-----" not in res.stderr
    assert lines[0].startswith("Error: cannot print the dossier: the pango library is missing")
    assert pdf_mod.install_hint() in lines[0]
    assert not (tmp_path / "d.pdf").exists()


@pytest.mark.usefixtures("no_pango")
def test_annual_report_without_pango_says_what_to_install(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "rapport"
    res = CliRunner().invoke(main, ["annual-report", str(project), "-o", str(out)])
    assert res.exit_code == 2, res.output
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("Error")]
    assert line.startswith("Error: cannot print the annual report: the pango library is missing")
    assert line.endswith(pdf_mod.install_hint()) and "-----" not in res.stderr
    assert not out.exists()


def test_the_import_fails_silently_with_the_os_error(
    no_pango: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(OSError, match="cannot load library"):
        pdf_mod.load_weasyprint()
    assert pdf_mod.pdf_problem() == "the pango library is missing on this computer"
    assert capsys.readouterr().out == ""  # (WeasyPrint's banner is not shown)


def test_pdf_problem_tells_a_missing_library_from_other_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf_mod, "load_weasyprint", _no_pango)
    assert pdf_mod.pdf_problem() == "the pango library is missing on this computer"

    def other() -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(pdf_mod, "load_weasyprint", other)
    assert pdf_mod.pdf_problem() == "WeasyPrint cannot start ([Errno 13] Permission denied)"

    def absent() -> None:
        raise ModuleNotFoundError("No module named 'weasyprint'")

    monkeypatch.setattr(pdf_mod, "load_weasyprint", absent)
    assert pdf_mod.pdf_problem() == "WeasyPrint is not installed (pip install weasyprint)"


def test_the_real_import_is_silent_and_works_here() -> None:
    # CI installs pango (.ci/run): the real WeasyPrint loads, and its check says so
    assert pdf_mod.pdf_problem() is None
    assert pdf_mod.load_weasyprint().__name__ == "weasyprint"


def test_a_library_error_is_found_through_the_cause() -> None:
    try:
        try:
            raise OSError("cannot load library 'gobject-2.0-0': error 0x7e")
        except OSError as inner:
            raise RuntimeError("printing failed") from inner
    except RuntimeError as outer:
        assert pdf_mod.is_library_error(outer)
    assert not pdf_mod.is_library_error(OSError("[Errno 2] No such file: 'out/dossier.pdf'"))
    assert not pdf_mod.is_library_error(ValueError("cannot load library"))  # (not an OSError)


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("win32", ["https://www.msys2.org", "pacman -S mingw-w64-x86_64-pango",
                   r"WEASYPRINT_DLL_DIRECTORIES=C:\msys64\mingw64\bin"]),
        ("cygwin", ["apt install libpango-1.0-0 libpangoft2-1.0-0"]),
        ("darwin", ["brew install pango"]),
        ("linux", ["sudo apt install libpango-1.0-0 libpangoft2-1.0-0", "dnf install pango"]),
        ("freebsd14", ["apt install libpango-1.0-0"]),
    ],
)  # fmt: skip
def test_install_hint_per_platform(platform: str, expected: list[str]) -> None:
    hint = pdf_mod.install_hint(platform)
    assert all(part in hint for part in expected), hint
    assert "\n" not in hint
    line = pdf_mod.pdf_missing_line("the pango library is missing", Path("p"), platform=platform)
    assert "\n" not in line and line.endswith("then run the command again.")


def test_install_hint_defaults_to_this_platform() -> None:
    assert pdf_mod.install_hint() == pdf_mod.install_hint(sys.platform)
