"""The README, the tutorial and the user guide run: their ```python blocks and cdv-geo commands.

The README keeps what a newcomer needs first (the two commands, under 200 lines); the manual is
the user guide in docs/guide/, whose pages' ```python blocks run in one namespace, in the order
of `GUIDE` (each page goes on from the earlier ones' `t` and `m`, as the old one-page README did).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdv_geo.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The pages whose ```python blocks run, in this order, in one namespace.
GUIDE = (
    "guide/index.md",
    "architecture.md",
    "guide/own-town.md",
    "guide/metrics-and-tables.md",
    "guide/access.md",
    "guide/renaturation.md",
    "guide/renewal.md",
    "guide/insee.md",
    "guide/actions.md",
    "guide/evaluation.md",
    "guide/heat-water.md",
    "guide/maps.md",
    "guide/dossier.md",
    "guide/batch.md",
    "guide/cli.md",
)
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


def run_page(
    path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    commands: bool = True,
    namespace: dict[str, object] | None = None,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "maps").mkdir(exist_ok=True)
    if namespace is None:
        namespace = {"__name__": "__doc_example__"}
    runner = CliRunner()
    for lang, code in blocks(path):
        if lang == "python":
            exec(compile(code, f"{path.name} block", "exec"), namespace)
        elif lang == "sh" and commands:
            for line in code.splitlines():
                cmd, _, comment = line.partition("#")
                args = shlex.split(cmd)
                if not args or args[0] != "cdv-geo" or "[" in cmd or "assets" in args:
                    continue  # placeholders ([--options]) and network commands are not run
                expected = 2 if "exit 2" in comment else 0
                res = runner.invoke(main, args[1:])
                assert res.exit_code == expected, f"{line}\n{res.output}"


@pytest.mark.slow
def test_tutorial_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_page(ROOT / "docs" / "tutorial.md", tmp_path, monkeypatch)
    assert (tmp_path / "monprojet" / "pack" / "index.html").exists()
    assert (tmp_path / "monprojet" / "tables" / "coverage.csv").exists()


@pytest.mark.slow
def test_readme_python_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the README's commands name a project of the reader's: only its Python is run here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run_page(ROOT / "README.md", tmp_path, monkeypatch, commands=False)
    assert (tmp_path / "maps" / "overview.html").exists()


@pytest.mark.slow
def test_guide_python_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for page in GUIDE:
        run_page(DOCS / page, tmp_path, monkeypatch, commands=False, namespace=namespace)
    assert (tmp_path / "maps" / "overview.html").exists()


def test_every_guide_page_is_run() -> None:
    # a new page of the guide joins GUIDE (its examples run) or shows only ```py calls
    pages = {p.relative_to(DOCS).as_posix() for p in (DOCS / "guide").glob("*.md")}
    unlisted = {p for p in pages - set(GUIDE) if any(k == "python" for k, _ in blocks(DOCS / p))}
    assert not unlisted, f"add these pages to GUIDE in {__file__}: {sorted(unlisted)}"


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    first = blocks(ROOT / "README.md")[0]
    assert first[0] == "sh"
    commands = [line.split("#")[0].split() for line in first[1].splitlines()]
    assert commands == [["make", "demo"], ["make", "test"]]
    # the sections of the old one-page manual live in the docs now, and are linked from here
    for page in ("getting-started.md", "tutorial.md", *GUIDE[2:], "metrics.md"):
        if page != "architecture.md":
            assert f"(docs/{page})" in text, page
