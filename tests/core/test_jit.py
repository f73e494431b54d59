"""The compiled kernels: where their cache goes, and their numpy paths give the same answers.

Each kernel's numpy path is compared with the compiled kernel on inputs that reach every
branch (missing coordinates, points beyond the grid's margin, ties, walks at the limit); the
two must agree exactly, not approximately: the same arithmetic in the same order.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from cdv_geo.core import jit
from cdv_geo.core.distinct import all_distinct
from cdv_geo.core.errors import CdvGeoWarning

compiled = pytest.mark.skipif(jit.engine() is None, reason="numba does not run here")
ROOT = Path(__file__).parents[2]


@pytest.fixture
def fresh_cache_dir(monkeypatch):
    """cache_dir() decided again under the test's environment, and again afterwards."""
    for name in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    jit.cache_dir.cache_clear()
    yield
    jit.cache_dir.cache_clear()


# --- where the cache goes -----------------------------------------------------------------


def test_numba_cache_dir_is_honoured(tmp_path, monkeypatch, fresh_cache_dir) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert jit.cache_dir() == tmp_path / "numba"
    assert (tmp_path / "numba").is_dir()


def test_then_the_user_cache_then_a_private_temp_dir(tmp_path, monkeypatch, fresh_cache_dir):
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # (a directory under a file cannot be made, even by root)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocked / "numba"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if sys.platform == "darwin":
        expected = tmp_path / "home" / "Library" / "Caches" / "cdv_geo" / "numba"
    else:
        expected = tmp_path / "home" / ".cache" / "cdv_geo" / "numba"
    assert jit.cache_dir() == expected
    # home unwritable: this user's own temp directory
    jit.cache_dir.cache_clear()
    monkeypatch.setenv("HOME", str(blocked / "home"))
    monkeypatch.setenv("LOCALAPPDATA", str(blocked / "home"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    got = jit.cache_dir()
    assert got is not None and got.parent == tmp_path / "tmp"
    assert got.name.startswith("cdv_geo-numba-")
    if hasattr(os, "getuid"):
        assert got.stat().st_mode & 0o077 == 0


def test_no_writable_place_means_no_cache_said_in_one_debug_line(
    tmp_path, monkeypatch, caplog, fresh_cache_dir
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for name in ("NUMBA_CACHE_DIR", "HOME", "LOCALAPPDATA"):
        monkeypatch.setenv(name, str(blocked / "x"))
    monkeypatch.setattr("tempfile.tempdir", str(blocked / "tmp"))
    with caplog.at_level(logging.DEBUG, logger="cdv_geo"):
        assert jit.cache_dir() is None
    lines = [r for r in caplog.records if "no writable cache directory" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.DEBUG


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_shared_temp_dir_is_never_used(tmp_path, monkeypatch, fresh_cache_dir) -> None:
    """A cache another user can write could hold planted code: the temp dir must be private."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    private = tmp_path / f"cdv_geo-numba-{os.getuid()}"
    private.mkdir(mode=0o777)
    private.chmod(0o777)  # (world-writable: refused)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for name in ("NUMBA_CACHE_DIR", "HOME", "LOCALAPPDATA"):
        monkeypatch.setenv(name, str(blocked / "x"))
    assert jit.cache_dir() is None
    jit.cache_dir.cache_clear()
    private.chmod(0o700)  # (this user's only: accepted)
    assert jit.cache_dir() == private


@compiled
def test_kernels_are_cached_and_loaded_from_the_chosen_dir(tmp_path) -> None:
    script = textwrap.dedent(
        """
        import pandas as pd
        from cdv_geo.core import distinct
        assert not distinct.all_distinct(pd.Series([f"id{i % 1500}" for i in range(2000)],
                                                   dtype="str"))
        print(sum(distinct._distinct.compiled.stats.cache_hits.values()))
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    env.pop("CDV_GEO_DISABLE_JIT", None)
    first = _run(script, env)
    assert list(tmp_path.rglob("distinct._distinct-*.nbi"))  # (written there)
    second = _run(script, env)
    assert (first, second) == ("0", "1")  # (compiled once, then loaded)


@compiled
def test_an_edited_helper_is_recompiled_into_the_kernels_that_use_it(tmp_path) -> None:
    """numba alone checks the kernel's own file: the helper's edit would be served stale."""
    (tmp_path / "helper_mod.py").write_text(
        "from cdv_geo.core import jit\n\n@jit.helper\ndef step(x):\n    return x + 1\n"
    )
    (tmp_path / "kernel_mod.py").write_text(
        "import numpy as np\nfrom cdv_geo.core import jit\nfrom helper_mod import step\n\n"
        "def plain(x):\n    return x + 0\n\n"
        "@jit.kernel(numpy=plain, uses=(step,))\ndef bump(x):\n    return step(x)\n"
    )
    script = "import kernel_mod; print(kernel_mod.bump(1))"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    env.pop("CDV_GEO_DISABLE_JIT", None)
    assert _run(script, env) == "2"
    assert list((tmp_path / "cache").rglob("kernel_mod.bump-*.nbi"))
    assert _run(script, env) == "2"  # (loaded from the cache)
    text = (tmp_path / "helper_mod.py").read_text().replace("x + 1", "x + 10")
    (tmp_path / "helper_mod.py").write_text(text)
    assert _run(script, env) == "11"  # (not the stale 2)


# --- numba missing, disabled or failing ---------------------------------------------------


def _numpy_double(x: np.ndarray, out: np.ndarray) -> None:
    out[:] = 2 * x


def test_a_kernel_numba_cannot_compile_falls_back_on_numpy_said_once() -> None:
    @jit.kernel(numpy=_numpy_double)
    def double(x, out):  # (open() is not supported by numba: compilation fails)
        open(os.devnull).close()
        out[:] = 2 * x

    out = np.zeros(3)
    jit._told.discard("failed")
    with pytest.warns(CdvGeoWarning, match="run on numpy instead") as record:
        double(np.arange(3.0), out)
    assert out.tolist() == [0.0, 2.0, 4.0]
    assert sum("numpy instead" in str(w.message) for w in record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        double(np.ones(2), out[:2])  # (said once: no second warning)
    assert out.tolist() == [2.0, 2.0, 4.0]


@compiled
def test_an_error_of_the_compiled_kernel_itself_is_raised_not_hidden() -> None:
    calls = []

    def never(x):
        calls.append(x)

    @jit.kernel(numpy=never)
    def checked(x):
        if x < 0:
            raise ValueError("negative")
        return x

    assert checked(1.0) == 1.0
    with pytest.raises(ValueError, match="negative"):
        checked(-1.0)
    assert calls == []  # (the numpy path never ran)


def _run(script: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


DEMO = textwrap.dedent(
    """
    import sys, warnings
    {prelude}
    catcher = warnings.catch_warnings(record=True)
    record = catcher.__enter__()
    warnings.simplefilter("always")
    from cdv_geo.core import jit
    from cdv_geo.datasets import soissons
    from cdv_geo.metrics.access import coverage, nearest_facility
    from cdv_geo.network import WalkNetwork

    t = soissons()
    net = WalkNetwork.from_lines(t.metric("streets"), crs=t.metric_crs)
    homes, places = t.metric("residences"), t.metric("facilities")
    near = nearest_facility(homes, places, network=net)
    cov = coverage(homes, places, t.metric("quartiers"), network=net,
                   threshold_m=[300, 600], communes=t.metric("communes"))
    near.to_pickle(sys.argv[1] + "-near.pkl")
    cov.to_pickle(sys.argv[1] + "-cov.pkl")
    said = sum("numpy instead" in str(w.message) for w in record)
    print(jit.status()["engine"].split()[0], said)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "env", "prelude", "said"),
    [
        ("compiled", {}, "", 0),
        ("CDV_GEO_DISABLE_JIT", {"CDV_GEO_DISABLE_JIT": "1"}, "", 0),
        ("NUMBA_DISABLE_JIT", {"NUMBA_DISABLE_JIT": "1"}, "", 0),
        ("numba missing", {}, "sys.modules['numba'] = None", 1),
    ],
)
def test_the_demo_walks_are_the_same_whatever_runs_the_kernels(
    tmp_path, how, env, prelude, said
) -> None:
    base = {k: v for k, v in os.environ.items() if "DISABLE_JIT" not in k}
    out = tmp_path / "walks"
    script = DEMO.format(prelude=prelude)
    proc = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        env={**base, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    engine, n_said = proc.stdout.split()
    assert engine == ("numba" if how == "compiled" else "numpy")
    assert int(n_said) == said
    reference = _demo_walks_in_process()
    pd.testing.assert_frame_equal(pd.read_pickle(f"{out}-near.pkl"), reference[0])
    pd.testing.assert_frame_equal(pd.read_pickle(f"{out}-cov.pkl"), reference[1])


_DEMO_CACHE: list[pd.DataFrame] = []


def _demo_walks_in_process() -> list[pd.DataFrame]:
    """The demo's walks computed here (numba as this process has it), once."""
    if not _DEMO_CACHE:
        from cdv_geo.datasets import soissons
        from cdv_geo.metrics.access import coverage, nearest_facility
        from cdv_geo.network import WalkNetwork

        t = soissons()
        net = WalkNetwork.from_lines(t.metric("streets"), crs=t.metric_crs)
        homes, places = t.metric("residences"), t.metric("facilities")
        _DEMO_CACHE.append(nearest_facility(homes, places, network=net))
        _DEMO_CACHE.append(
            coverage(
                homes,
                places,
                t.metric("quartiers"),
                network=net,
                threshold_m=[300, 600],
                communes=t.metric("communes"),
            )
        )
    return _DEMO_CACHE


# --- each numpy path against its compiled kernel ------------------------------------------


def _both(kernel: jit.Kernel, *args: np.ndarray) -> tuple[list, list]:
    """Run the compiled kernel and the numpy path on copies of `args`; return both states."""
    a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    b = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    ra = kernel.compiled(*a)
    rb = kernel.numpy(*b)
    return [ra, *a], [rb, *b]


def _same(a: list, b: list) -> None:
    for x, y in zip(a, b, strict=True):
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)  # (exact; NaN equals NaN)
        else:
            assert x == y


@compiled
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_snapping_numpy_path_is_the_compiled_query(seed) -> None:
    from cdv_geo.network.snapping import SegmentGrid, SharedQuery, _query

    rng = np.random.default_rng(seed)
    # a street grid (many equidistant points: ties) and random streets, 2 km across
    lines = [shapely.LineString([(x, 0), (x, 2000)]) for x in range(0, 2001, 100)]
    lines += [shapely.LineString([(0, y), (2000, y)]) for y in range(0, 2001, 125)]
    for _ in range(300):
        pts = rng.uniform(0, 2000, (rng.integers(2, 6), 2))
        lines.append(shapely.LineString(pts))
    lines.append(shapely.LineString([(4000, 4000), (4100, 4000)]))  # (empty cells between)
    grid = SegmentGrid(np.array(lines, dtype=object))
    xy = np.concatenate(
        [
            rng.uniform(-100, 2100, (20_000, 2)),  # (some beyond the margin: inf)
            rng.integers(0, 21, (2_000, 2)) * 100.0 + 50.0,  # (cell centres: ties)
            rng.uniform(2500, 3500, (500, 2)),  # (cells without a candidate: inf)
            [[np.nan, 5.0], [5.0, np.inf], [-5000.0, -5000.0], [0.0, 0.0]],
        ]
    )
    q = SharedQuery(grid, xy, 500.0)
    g = grid
    args = (
        q.xy, g.x0, g.y0, g.gf, g.nx * g.k, g.ny * g.k, g.cells,
        g.cells[:, 4:12].view(g.ftype), g.rest_seg, g.seg_rows, q.edge, q.along,
        q.dist, q.progress, True,
    )  # fmt: skip
    got, want = _both(_query, *args)
    _same(got, want)
    edge, dist = got[11], got[13]
    assert (edge >= 0).sum() > 18_000 and np.isinf(dist).sum() > 400 and np.isnan(dist).any()
    # a backward pass after the forward one took blocks 0-39: the rest, the same way
    a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    b = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    n_blocks = -(-len(xy) // 128)
    for state in (a, b):
        state[13][:] = [40, n_blocks]
    _query.compiled(*a[:14], False)
    _query.numpy(*b[:14], False)
    _same(a[10:14], b[10:14])
    assert a[13].tolist() == [40, 40]
    np.testing.assert_array_equal(a[10][40 * 128 :], edge[40 * 128 :])


@compiled
def test_snapping_numpy_path_agrees_with_shapely_by_itself() -> None:
    """Independently of numba: the numpy path's nearest segment is shapely's nearest line."""
    from cdv_geo.network.snapping import SegmentGrid, SharedQuery, _query

    rng = np.random.default_rng(7)
    lines = [shapely.LineString(rng.uniform(0, 1000, (3, 2))) for _ in range(80)]
    grid = SegmentGrid(np.array(lines, dtype=object))
    xy = rng.uniform(0, 1000, (3000, 2))
    q = SharedQuery(grid, xy, 1e9)
    g = grid
    _query.numpy(
        q.xy, g.x0, g.y0, g.gf, g.nx * g.k, g.ny * g.k, g.cells,
        g.cells[:, 4:12].view(g.ftype), g.rest_seg, g.seg_rows, q.edge, q.along,
        q.dist, q.progress, True,
    )  # fmt: skip
    edge, _, dist = q.result()
    want = shapely.distance(shapely.points(xy), np.array(lines, dtype=object)[edge])
    np.testing.assert_allclose(dist, want, atol=1e-9)
    every = shapely.distance(shapely.points(xy)[:, None], np.array(lines, dtype=object)[None])
    np.testing.assert_allclose(dist, every.min(axis=1), atol=1e-9)


@compiled
def test_reach_numpy_path_is_the_compiled_one() -> None:
    from cdv_geo.network.routing import _reach

    rng = np.random.default_rng(3)
    n_nodes, n_edges = 50, 120
    table = np.stack([rng.uniform(0, 900, n_nodes), rng.integers(-1, 9, n_nodes)], axis=1)
    table[::7, 0] = np.inf  # (unreached nodes)
    edge_uv = rng.integers(0, n_nodes, (n_edges, 2))
    length = rng.uniform(1, 200, n_edges)
    edge = rng.integers(0, n_edges, 5000)
    along = rng.uniform(0, 1, 5000) * length[edge]
    along[:10] = np.nan
    along[10:20] = length[edge[10:20]] / 2  # (often both ends equal: the u end wins)
    table[edge_uv[edge[10:20], 0], 0] = table[edge_uv[edge[10:20], 1], 0]
    got, want = _both(_reach, table, edge_uv, length, edge, along, np.empty(5000), np.empty(5000))
    _same(got, want)
    assert np.isnan(got[6][:10]).all()


@compiled
def test_walks_numpy_path_is_the_compiled_one() -> None:
    from cdv_geo.metrics.nearest import _walks

    rng = np.random.default_rng(4)
    n_nodes, n_edges, n_seeds, n = 40, 90, 30, 6000
    table = np.stack([rng.uniform(0, 700, n_nodes), rng.integers(0, n_seeds, n_nodes)], axis=1)
    table[::9] = [np.inf, -1]
    edge_uv = rng.integers(0, n_nodes, (n_edges, 2))
    length = rng.uniform(1, 200, n_edges)
    seed_edge = rng.integers(0, n_edges // 3, n_seeds)  # (several seeds per edge)
    seed_along = rng.uniform(0, 1, n_seeds) * length[seed_edge]
    seed_along[1] = seed_along[0]  # (two seeds at one place: the first wins)
    seed_edge[1] = seed_edge[0]
    seed_offset = rng.choice([0.0, 5.0, 12.5], n_seeds)
    order = np.argsort(seed_edge, kind="stable")
    on_seed_edge = np.zeros(n_edges, dtype=bool)
    on_seed_edge[seed_edge] = True
    o_edge = rng.integers(-1, n_edges, n)
    o_along = rng.uniform(0, 1, n) * length[o_edge]
    o_along[:5] = np.nan
    o_edge[5:10] = seed_edge[0]
    o_along[5:10] = seed_along[0]
    snap = rng.choice([0.0, 3.0, 50.0], n)
    seed_fac = rng.permutation(100)[:n_seeds]
    for limit in (np.inf, 400.0):
        args = (
            table, edge_uv, length, o_edge, o_along, snap, seed_edge[order], order, seed_along,
            seed_offset, seed_fac, on_seed_edge, limit, np.full(n, np.nan),
            np.full(n, -1, dtype=np.int64),
        )  # fmt: skip
        got, want = _both(_walks, *args)
        _same(got, want)
        dist = got[14]
        assert np.isfinite(dist).sum() > n // 3
        assert (dist[np.isfinite(dist)] <= limit).all()
    # at the limit exactly: kept; just above: left out (both paths)
    total = want[14][np.isfinite(want[14])]
    edge_case = float(np.median(total))
    for limit, kept in ((edge_case, True), (np.nextafter(edge_case, 0), False)):
        args = (*args[:12], limit, np.full(n, np.nan), np.full(n, -1, dtype=np.int64))
        got, want = _both(_walks, *args)
        _same(got, want)
        assert (edge_case in got[14]) is kept


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([f"QP{i:06d}" for i in range(5000)], True),
        ([f"QP{i:06d}" for i in range(5000)] + ["QP000017"], False),
        (["", "a", "a\x00"] + [f"x{i}" for i in range(2000)], True),  # (a NUL byte differs)
        (["", "a", ""] + [f"x{i}" for i in range(2000)], False),
        (["é", "e\u0301"] + [f"x{i}" for i in range(2000)], True),  # (bytes, not meaning)
    ],
)
def test_distinct_numpy_path_is_the_compiled_one(texts, expected) -> None:
    from cdv_geo.core.distinct import _distinct

    values = pd.Series(texts, dtype="str")
    assert all_distinct(values) is expected
    assert len(set(texts)) == len(texts) if expected else len(set(texts)) < len(texts)
    arr = pa.array(values.array)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    _, offsets, data = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    starts = np.frombuffer(offsets, dtype=width)[: len(arr) + 1].astype(np.int64)
    text = np.frombuffer(data, dtype=np.uint8)
    assert _distinct.numpy(starts, text) is expected
    if jit.engine() is not None:
        assert bool(_distinct.compiled(starts, text)) is expected
