"""Check the house rules import-linter and ruff do not: private names, module and function size.

Run by ``make test`` (and ``make lint``); exits 1 listing every violation, 0 when there is none.

* **No private name crosses a module.** ``from cdv_geo.x import _y``, ``import cdv_geo.x._m``, a
  module-qualified ``mod._y`` of an imported cdv_geo module, and ``obj._y`` on anything but
  ``self``/``cls`` when ``_y`` is not defined in the same module (a private method of a
  neighbour's class). What is shared is public in its home module.
* **Modules stay under 600 lines, functions under 120** (DESIGN.md; a function's docstring does
  not count): a module that grows past that splits by concept.

Usage: ``python scripts/check_architecture.py [SRC_DIR]`` (default: src/cdv_geo).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 120
ROOT = "cdv_geo"
#: Private attributes of third-party objects that their libraries document for extension
#: (branca/folium elements keep their children and template there).
ALLOWED_FOREIGN = frozenset({"_children", "_parent", "_name", "_template", "_repr_html_"})


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_private_names(tree: ast.Module) -> set[str]:
    """Private names the module itself defines: functions, classes, attributes, variables."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)  # dataclass fields built by keyword
    return {n for n in names if _private(n)}


def _imported_modules(tree: ast.Module) -> dict[str, str]:
    """Return the local names bound to cdv_geo modules (``import cdv_geo.x as y``...)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == ROOT:
                    out[a.asname or a.name.split(".")[0]] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(ROOT):
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def check_file(path: Path, rel: str) -> list[str]:
    """Return the violations found in one module."""
    text = path.read_text(encoding="utf-8")
    problems: list[str] = []
    n_lines = text.count("\n") + (not text.endswith("\n"))
    if n_lines > MAX_MODULE_LINES:
        problems.append(f"{rel}: {n_lines} lines (max {MAX_MODULE_LINES}): split it by concept")
    tree = ast.parse(text, filename=str(path))
    own = _defined_private_names(tree)
    modules = _imported_modules(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            doc = node.body[0] if node.body else None
            if (
                isinstance(doc, ast.Expr)
                and isinstance(doc.value, ast.Constant)
                and isinstance(doc.value.value, str)
            ):  # the numpydoc docstring does not count: the code does
                length -= (doc.end_lineno or doc.lineno) - doc.lineno + 1
            if length > MAX_FUNCTION_LINES:
                problems.append(
                    f"{rel}:{node.lineno}: function {node.name} is {length} lines "
                    f"(max {MAX_FUNCTION_LINES})"
                )
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(ROOT):
            parts = node.module.split(".")
            if any(_private(p) for p in parts):
                problems.append(f"{rel}:{node.lineno}: imports private module {node.module}")
            for a in node.names:
                if _private(a.name):
                    problems.append(
                        f"{rel}:{node.lineno}: imports private name {a.name} from {node.module}"
                    )
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(ROOT) and any(_private(p) for p in a.name.split(".")):
                    problems.append(f"{rel}:{node.lineno}: imports private module {a.name}")
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            if isinstance(base, ast.Name) and base.id in {"self", "cls"}:
                continue
            if isinstance(base, ast.Name) and base.id in modules:
                problems.append(
                    f"{rel}:{node.lineno}: uses private {node.attr} of module {modules[base.id]}"
                )
            elif node.attr not in own and node.attr not in ALLOWED_FOREIGN:
                problems.append(
                    f"{rel}:{node.lineno}: uses private attribute .{node.attr} defined elsewhere"
                )
    return problems


def main(argv: list[str]) -> int:
    """Check every module under the source folder; print the violations."""
    src = Path(argv[1]) if len(argv) > 1 else Path(__file__).parents[1] / "src" / ROOT
    problems: list[str] = []
    for path in sorted(src.rglob("*.py")):
        problems += check_file(path, str(path.relative_to(src.parent)))
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} architecture problem(s); see DESIGN.md")
        return 1
    print(f"architecture: {len(list(src.rglob('*.py')))} modules checked, no problem")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
