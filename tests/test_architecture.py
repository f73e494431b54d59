"""The architecture checks of `make test` pass on the package and fail on each kind of violation."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _checker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "check_architecture", ROOT / "scripts" / "check_architecture.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_package_follows_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert _checker().main(["x", str(ROOT / "src" / "cdv_geo")]) == 0
    assert "no problem" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.py": "from cdv_geo.metrics.access import _assign\n"}, "imports private name _assign"),
        ({"a.py": "from cdv_geo.maps import _style\n"}, "imports private name _style"),
        ({"a.py": "import cdv_geo.maps._assets\n"}, "imports private module cdv_geo.maps._assets"),
        ({"a.py": "from cdv_geo import network\nnetwork._route(1)\n"}, "uses private _route"),
        ({"a.py": "def f(net):\n    return net._snap_xy(1)\n"}, "private attribute ._snap_xy"),
        ({"a.py": "x = 1\n" * 601}, "601 lines (max 600)"),
        ({"a.py": "def f():\n" + "    x = 1\n" * 121}, "function f is 122 lines"),
    ],
)
def test_each_violation_is_reported(
    tmp_path: Path, files: dict[str, str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = tmp_path / "cdv_geo"
    pkg.mkdir()
    for name, text in files.items():
        (pkg / name).write_text(text)
    assert _checker().main(["x", str(pkg)]) == 1
    assert expected in capsys.readouterr().out


def test_docstrings_and_own_private_names_are_fine(tmp_path: Path) -> None:
    pkg = tmp_path / "cdv_geo"
    pkg.mkdir()
    doc = '    """' + "doc\n" * 200 + '    """\n'
    (pkg / "a.py").write_text(
        "def _own():\n    return 1\n\n\nclass C:\n    def __init__(self):\n        self._x = 1\n\n"
        "    def g(self, other):\n        return other._x + _own()\n\n\n"
        f"def documented():\n{doc}    return 1\n"
    )
    assert _checker().main(["x", str(pkg)]) == 0


@pytest.mark.skipif(
    shutil.which("lint-imports") is None
    and not (Path(sys.executable).parent / "lint-imports").exists(),
    reason="import-linter not installed",
)
def test_import_contract_fails_on_an_upward_import(tmp_path: Path) -> None:
    # a two-layer package where the lower layer imports the upper one
    pkg = tmp_path / "layered"
    (pkg / "top").mkdir(parents=True)
    (pkg / "bottom").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "top" / "__init__.py").write_text("")
    (pkg / "bottom" / "__init__.py").write_text("from layered import top\n")
    config = tmp_path / "contract.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "layered"\n\n'
        '[[tool.importlinter.contracts]]\nname = "layers"\ntype = "layers"\n'
        'layers = ["layered.top", "layered.bottom"]\n'
    )
    exe = Path(sys.executable).parent / "lint-imports"
    cmd = [str(exe) if exe.exists() else "lint-imports", str(config)]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    broken = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "layered.bottom is not allowed to import layered.top" in broken.stdout
    (pkg / "bottom" / "__init__.py").write_text("")
    kept = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert kept.returncode == 0, kept.stdout + kept.stderr
