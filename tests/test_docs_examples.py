"""The README and the tutorial run: their ```python blocks and their cdv-geo commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdv_geo.cli import main

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


def run_page(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, commands: bool = True
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "maps").mkdir()
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
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
