"""The documentation is generated from the code and cannot drift from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _make_docs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "scripts" / "make_docs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_metric_definitions_are_up_to_date() -> None:
    mod = _make_docs()
    committed = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert committed == mod.render(), "docs/metrics.md is stale: run python scripts/make_docs.py"


def test_every_public_metric_is_documented() -> None:
    import cdv_geo

    mod = _make_docs()
    documented = {name for names in mod.METRICS.values() for name in names}
    for module in mod.METRICS:
        m = importlib.import_module(f"cdv_geo.{module}")
        public = {n for n in getattr(m, "__all__", []) if callable(getattr(m, n))}
        metric_like = {n for n in public if n in cdv_geo.__all__ and n[0].islower()}
        assert metric_like <= documented | _NOT_METRICS, sorted(metric_like - documented)


#: Public callables that read or link data rather than compute a metric.
_NOT_METRICS = {
    "read_indicators",
    "read_grid",
    "check_codes",
    "pivot_indicators",
    "estimate_missing_gini",
    "renewal_links",
    "tree_crowns",
    "raster_info",
}
