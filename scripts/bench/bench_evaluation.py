"""Benchmark of the synthetic-control evaluation on the national QPV panel (issue 24).

Two figures, measured in the same run:

1. **One quartier × 20 indicators with full placebo inference** over the national panel (the
   REVN files 2017–2022, every QPV of France): for each indicator, the donors are pre-filtered
   to the 50 nearest quartiers, the quartier is fitted, then every donor is refitted as if
   treated (:func:`cdv_geo.metrics.synthetic_control.synthetic_table`). Target: ≤ 10 s on 2
   cores (reading the files is timed apart: it is done once per run, not per quartier).
2. **Per fit, against pysyncon** with equal predictor weights (``Synth.fit(custom_V=1)``, its
   SLSQP quadratic program) on the same donor matrices: ours is one NNLS
   (:func:`cdv_geo.metrics.synthetic_control.simplex_weights`). Target: ≥ 10× faster. Both fits'
   pre-period losses are printed (the weights themselves need not be unique when the quartier
   lies inside the donors' hull on few pre-period years).

Usage::

    .venv/bin/python scripts/bench/bench_evaluation.py
    .venv/bin/python scripts/bench/bench_evaluation.py --quartier QP002013 --year 2021 --fits 30
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from cdv_geo import read_indicators
from cdv_geo.metrics.panel import (
    code_names,
    donor_pool,
    indicator_panel,
    panel_matrices,
    panel_matrix,
)
from cdv_geo.metrics.synthetic_control import simplex_weights, synthetic_table

NATIONAL = Path(__file__).resolve().parents[3] / "shared" / "real-data" / "insee-qpv-national"


def indicators_with_full_series(panel: pd.DataFrame, code: str, n: int) -> list[str]:
    """Return the `n` indicators of `code` whose longest series has the most years."""
    own = panel[(panel["code"] == code) & panel["value"].notna()]
    years = own.groupby(["indicator", "series"])["year"].nunique().groupby("indicator").max()
    return list(years.sort_values(ascending=False, kind="stable").index[:n])


def per_fit(panel: pd.DataFrame, code: str, indicator: str, year: int, fits: int) -> None:
    """Time one fit of ours and of pysyncon (equal V) on the same 50-donor matrices."""
    from pysyncon import Synth

    m, _ = panel_matrix(panel, indicator)
    have = m.loc[code].notna().to_numpy()
    years = [int(c) for c, ok in zip(m.columns, have, strict=True) if ok]
    pre = [y for y in years if y < year]
    pool = donor_pool(m, code, years)
    z = m.loc[[code, *pool], pre]
    # the 50 nearest, as the evaluation does
    sd = z.iloc[1:].std(ddof=0).replace(0, 1.0)
    d = (((z.iloc[1:] - z.iloc[0]) / sd) ** 2).sum(axis=1)
    donors = list(d.nsmallest(50).index)
    x0 = m.loc[donors, pre].T.astype(float)
    x1 = m.loc[code, pre].astype(float)
    t0 = time.perf_counter()
    for _ in range(fits * 20):
        w = simplex_weights(x1.to_numpy(), x0.to_numpy())
    ours = (time.perf_counter() - t0) / (fits * 20)
    ref = Synth()
    t0 = time.perf_counter()
    for _ in range(fits):
        ref.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=np.ones(len(pre)))
    theirs = (time.perf_counter() - t0) / fits
    loss = float(np.mean((x1.to_numpy() - x0.to_numpy() @ w) ** 2))
    ref_loss = float(np.mean((x1.to_numpy() - x0.to_numpy() @ ref.W) ** 2))
    print(
        f"per fit ({indicator}, {len(donors)} donors, {len(pre)} pre-years): "
        f"ours {ours * 1e6:.0f} µs, pysyncon {theirs * 1e3:.2f} ms, ratio {theirs / ours:.0f}x "
        f"(target >= 10x); pre-period MSE ours {loss:.3g}, pysyncon {ref_loss:.3g}"
    )


def batch_estimate(panel: pd.DataFrame, inds: list[str], year: int, sample: int) -> None:
    """Time `sample` quartiers with matrices built once; extrapolate to every QPV."""
    t0 = time.perf_counter()
    mats = panel_matrices(panel, inds)
    names = code_names(panel)
    t_mats = time.perf_counter() - t0
    codes = sorted(set(panel["code"]))
    picked = [codes[i] for i in np.linspace(0, len(codes) - 1, sample).astype(int)]
    t0 = time.perf_counter()
    for code in picked:
        synthetic_table(panel, code, inds, year, matrices=mats, names=names)
    each = (time.perf_counter() - t0) / len(picked)
    print(
        f"batch (matrices built once, {t_mats:.2f} s): {each:.3f} s per quartier x "
        f"{len(inds)} indicators; all {len(codes)} QPV: ~{each * len(codes) / 60:.1f} min on one "
        f"core, ~{each * len(codes) / 120:.1f} min on 2 workers (independent tasks)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folder", type=Path, default=NATIONAL)
    ap.add_argument("--quartier", default="QP002013", help="code of the quartier (Presles)")
    ap.add_argument("--year", type=int, default=2021, help="intervention year (illustrative)")
    ap.add_argument("--indicators", type=int, default=20)
    ap.add_argument("--fits", type=int, default=30, help="pysyncon fits timed")
    ap.add_argument("--sample", type=int, default=20, help="quartiers timed for the batch")
    args = ap.parse_args()

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reading report's note on REVN_2018's PPAT
        table = read_indicators(args.folder)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    panel = indicator_panel(table, levels=["qpv"])
    t_panel = time.perf_counter() - t0
    n_qpv = panel["code"].nunique()
    print(f"read {args.folder.name}: {t_read:.1f} s; panel ({len(panel):,} rows, {n_qpv} QPV) "
          f"{t_panel:.1f} s")  # fmt: skip

    inds = indicators_with_full_series(panel, args.quartier, args.indicators)
    t0 = time.perf_counter()
    out = synthetic_table(panel, args.quartier, inds, args.year)
    t_eval = time.perf_counter() - t0
    n_fits = int((out["n_donors"].fillna(0) + 1).sum())
    print(
        f"{args.quartier} x {len(inds)} indicators, full placebo inference: {t_eval:.2f} s "
        f"({n_fits} fits; target <= 10 s)"
    )
    print(out[["indicator", "n_pre", "n_donors", "estimate", "pre_fit", "verdict", "reason"]]
          .to_string(index=False, float_format=lambda v: f"{v:.4g}"))  # fmt: skip
    per_fit(panel, args.quartier, inds[0], args.year, args.fits)
    batch_estimate(panel, inds, args.year, args.sample)


if __name__ == "__main__":
    main()
