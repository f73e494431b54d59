"""How the compiled kernels are compiled, cached, or replaced by numpy: decided here only.

A few kernels (the snapping query, the walk to the nearest facility, the unique-id check) are
compiled with numba so that they run beside scipy's routing, which holds the GIL. Compiling
costs 3 to 10 s of CPU on a machine's first use (``scripts/bench/bench_kernels.py``); numba
then keeps the machine code in a cache, which later processes load in about half a second.
Numba's own choice of cache (next to the modules, else ``~/.cache/numba``) fails on a read-only
install run by a user whose home is not writable; here the cache goes to, in this order:

1. ``NUMBA_CACHE_DIR`` when it is set and writable;
2. the user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
   ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows), under ``cdv_geo/numba``;
3. a directory of the user's own in the temporary directory (``cdv_geo-numba-<user>``, never
   shared with another user: numba's cache holds code that is loaded and run);
4. nowhere: the kernels are compiled in each process (one debug log line says so).

Every kernel has a numpy path that gives the same answers (slower). It is taken when
``CDV_GEO_DISABLE_JIT=1`` or ``NUMBA_DISABLE_JIT=1`` is set (said in the log), and when numba
is missing or fails to compile (said once, with a :class:`~cdv_geo.core.errors.CdvGeoWarning`).

:func:`kernel` makes a kernel called from Python (with its numpy path); :func:`helper` a
function that compiled kernels call (inlined into them). :func:`status` tells which engine
runs and where its cache is (for ``cdv-geo doctor``).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable
from functools import cache, update_wrapper
from pathlib import Path
from typing import Any

from cdv_geo.core.errors import CdvGeoWarning

__all__ = ["DISABLE_ENV", "Kernel", "cache_dir", "engine", "helper", "kernel", "status"]

log = logging.getLogger("cdv_geo")

#: Set to 1 to run every kernel on its numpy path (same answers, no compilation).
DISABLE_ENV = "CDV_GEO_DISABLE_JIT"

_lock = threading.Lock()
_told: set[str] = set()  # what was already said (a warning once per process)


def _tell(key: str, message: str, *, warn: bool) -> None:
    """Say `message` once per process: a warning when `warn`, else an info log line."""
    with _lock:
        if key in _told:
            return
        _told.add(key)
    if warn:
        warnings.warn(message, CdvGeoWarning, stacklevel=4)
    else:
        log.info(message)


@cache
def engine() -> Any:
    """Return the numba module when the kernels are compiled, else None (the numpy paths).

    None when ``CDV_GEO_DISABLE_JIT`` or ``NUMBA_DISABLE_JIT`` is set to a true value, or
    when numba cannot be imported (a broken or missing install: said once).

    Examples
    --------
    >>> engine() is None or engine().__name__ == "numba"
    True
    """
    if _true(os.environ.get(DISABLE_ENV)) or _true(os.environ.get("NUMBA_DISABLE_JIT")):
        _tell("disabled", "compiled kernels disabled: the numpy paths run (slower)", warn=False)
        return None
    try:
        import numba
    except Exception as exc:  # (ImportError, or llvmlite's OSError on a broken install)
        _tell("missing", _fallback_message(exc), warn=True)
        return None
    return numba


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _fallback_message(exc: BaseException) -> str:
    what = "numba is not installed" if isinstance(exc, ImportError) else "numba failed"
    return (
        f"{what} ({type(exc).__name__}): the compiled kernels run on numpy instead "
        "(same results, slower); reinstall numba to speed them up"
    )


def _user_cache() -> Path | None:
    """Return the platform's per-user cache directory, or None without a home."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) if base else None
    if sys.platform == "darwin":
        home = os.environ.get("HOME")
        return Path(home, "Library", "Caches") if home else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return Path(home, ".cache") if home and home != "~" else None


def _private_temp() -> Path:
    """Return the directory of the user's own in the temporary directory."""
    try:
        user = str(os.getuid()) if hasattr(os, "getuid") else os.getlogin()
    except OSError:
        user = "user"
    return Path(tempfile.gettempdir(), f"cdv_geo-numba-{user}")


def _usable(path: Path, *, private: bool = False) -> bool:
    """Whether `path` exists or can be made, and a file can be written in it.

    `private`: the directory must also belong to this user and be closed to the others
    (a cache in a shared place could be planted with code by another user).
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if private and hasattr(os, "getuid"):
            st = path.stat()
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return False
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


@cache
def cache_dir() -> Path | None:
    """Return the directory where the compiled kernels are cached, or None (no cache).

    See the module docstring for the order of the candidates. Decided once per process.

    Examples
    --------
    >>> d = cache_dir()
    >>> d is None or d.is_dir()
    True
    """
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        if _usable(Path(env)):
            return Path(env)
        log.debug("NUMBA_CACHE_DIR=%s is not writable: another cache directory is used", env)
    user = _user_cache()
    if user is not None and _usable(user / "cdv_geo" / "numba"):
        return user / "cdv_geo" / "numba"
    if _usable(_private_temp(), private=True):
        return _private_temp()
    log.debug("no writable cache directory: the compiled kernels are compiled in each process")
    return None


def _source_hash(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _cached(dispatcher: Any, uses: tuple[Any, ...]) -> None:
    """Give `dispatcher` a cache in :func:`cache_dir` (none when it cannot have one).

    The cache is valid while the kernel's source file and those of the helpers it `uses`
    are unchanged (numba alone checks the kernel's file only: an edited helper would be
    served stale).
    """
    directory = cache_dir()
    if directory is None:
        return
    from numba.core import caching

    # numba has no public way to choose one function's cache directory: its locator classes
    # (renamed in 0.62) and the dispatcher's cache attribute are used, and any failure leaves
    # the kernel uncached, never broken
    names = vars(caching)
    base = names.get("UserProvidedCacheLocator") or names["_UserProvidedCacheLocator"]
    files = [inspect.getfile(getattr(u, "py_func", u)) for u in uses]

    class Locator(base):  # type: ignore[misc, valid-type]
        def __init__(self, py_func: Callable[..., Any], py_file: str) -> None:
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = str(directory / self.get_suitable_cache_subpath(py_file))

        def get_source_stamp(self) -> Any:
            return tuple(_source_hash(f) for f in (self._py_file, *files))

        @classmethod
        def from_function(cls, py_func: Callable[..., Any], py_file: str) -> Any:
            if not os.path.exists(py_file):
                return None
            locator = cls(py_func, py_file)
            try:
                locator.ensure_cache_path()
            except OSError:
                return None
            return locator

    try:

        class Cache(caching.FunctionCache):
            class _impl_class(caching.FunctionCache._impl_class):  # type: ignore[misc,valid-type]  # noqa: N801
                _locator_classes = (Locator,)  # (numba's CacheImpl tries these, in order)

        dispatcher._cache = Cache(dispatcher.py_func)
    except Exception as exc:  # (a numba whose cache machinery differs: run uncached)
        log.debug("compiled kernel %s not cached: %s", dispatcher.py_func.__name__, exc)


def helper(func: Callable[..., Any]) -> Any:
    """Compile `func` to be inlined into the compiled kernels that call it.

    Returns the numba dispatcher (callable from Python too), or `func` itself when numba
    does not run (:func:`engine`): plain Python, same answers.

    Examples
    --------
    >>> def twice(x):
    ...     return 2 * x
    >>> helper(twice)(21)
    42
    """
    numba = engine()
    if numba is None:
        return func
    dispatcher = numba.njit(nogil=True, inline="always")(func)
    _cached(dispatcher, ())
    return dispatcher


class Kernel:
    """A compiled kernel called from Python, with its numpy path (see :func:`kernel`).

    Compiled on its first call (or loaded from the cache); when numba is missing, disabled
    or fails to compile it, the numpy path answers instead (said once).

    Attributes
    ----------
    py_func : callable
        The kernel's Python source (what numba compiles).
    numpy : callable
        The numpy path: same arguments, same answers.
    """

    def __init__(
        self, py_func: Callable[..., Any], numpy: Callable[..., Any], uses: tuple[Any, ...]
    ) -> None:
        update_wrapper(self, py_func)
        self.py_func = py_func
        self.numpy = numpy
        self._uses = uses
        self._dispatcher: Any = None
        self._failed = False
        self._lock = threading.Lock()

    @property
    def compiled(self) -> Any:
        """The numba dispatcher, or None when the numpy path runs."""
        if self._failed:
            return None
        if self._dispatcher is None:
            numba = engine()
            if numba is None:
                return None
            with self._lock:
                if self._dispatcher is None:
                    dispatcher = numba.njit(nogil=True)(self.py_func)
                    _cached(dispatcher, self._uses)
                    self._dispatcher = dispatcher
        return self._dispatcher

    def __call__(self, *args: Any) -> Any:
        """Run the kernel: compiled when it can be, else its numpy path."""
        dispatcher = self.compiled
        if dispatcher is None:
            return self.numpy(*args)
        try:
            return dispatcher(*args)
        except Exception as exc:
            # a numba error is a failure to compile; any error before a first successful
            # compilation too (llvmlite...). An error raised by compiled code that ran is the
            # kernel's own: it is raised.
            if not _numba_error(exc) and dispatcher.signatures:
                raise
            self._failed = True
            log.debug("compiling %s failed: %r", self.py_func.__name__, exc)
            _tell("failed", _fallback_message(exc), warn=True)
            return self.numpy(*args)


def _numba_error(exc: BaseException) -> bool:
    numba = engine()
    return numba is not None and isinstance(exc, numba.core.errors.NumbaError)


def kernel(*, numpy: Callable[..., Any], uses: tuple[Any, ...] = ()) -> Callable[..., Kernel]:
    """Decorate a kernel: compiled by numba (releasing the GIL), else `numpy` answers.

    Parameters
    ----------
    numpy : callable
        The numpy path: same arguments (output arrays included), same answers.
    uses : tuple
        The :func:`helper` functions the kernel calls (their source is part of its cache key).

    Examples
    --------
    >>> import numpy as np
    >>> def double_numpy(x, out):
    ...     out[:] = 2 * x
    >>> @kernel(numpy=double_numpy)
    ... def double(x, out):
    ...     for i in range(x.shape[0]):
    ...         out[i] = 2 * x[i]
    >>> out = np.empty(3)
    >>> double(np.arange(3.0), out)
    >>> out.tolist()
    [0.0, 2.0, 4.0]
    """

    def wrap(py_func: Callable[..., Any]) -> Kernel:
        return Kernel(py_func, numpy, uses)

    return wrap


def status() -> dict[str, str]:
    """Which engine runs the kernels and where their cache is (for ``cdv-geo doctor``).

    Examples
    --------
    >>> sorted(status())
    ['cache', 'engine']
    """
    numba = engine()
    if numba is None:
        return {"engine": "numpy", "cache": "none"}
    directory = cache_dir()
    return {
        "engine": f"numba {numba.__version__}",
        "cache": str(directory) if directory is not None else "none",
    }
