"""The embedded Soissons demo: illustrative layers for the three QPV of Soissons (Aisne).

Saint-Crépin, Presles and Chevreux, authored for the demo from the mayor's account of the contrat
de ville. **Every feature is illustrative** (``data/shapes/PROVENANCE.md`` names the official
source that replaces each layer). The data ship inside the wheel, so the demo works after a plain
``pip install``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from cdv_geo.core.errors import CdvGeoError
from cdv_geo.territory import Territory

__all__ = ["data_dir", "get_path", "soissons"]

_DATASETS = {"soissons": "project.toml"}


@cache
def data_dir() -> Path:
    """Return the folder holding the demo data.

    In a wheel the data are package data (``cdv_geo/data``); in a source checkout (editable
    install) they are the repository's ``data/`` folder.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parents[1] / "data"):
        if (candidate / "project.toml").exists():
            return candidate
    raise CdvGeoError(
        "the demo data are missing from this installation; reinstall cdv_geo "
        "(pip install --force-reinstall cdv_geo) or run from a source checkout"
    )


def get_path(name: str = "soissons", layer: str | None = None) -> Path:
    """Return the path of a demo project file, or of one of its layers.

    Parameters
    ----------
    name : str
        Demo name; only ``"soissons"`` exists.
    layer : str, optional
        A layer kind (``"facilities"``...), raster or table name of the project (a table read
        from a folder gives the folder; from several files, the first).

    Examples
    --------
    >>> get_path("soissons").name
    'project.toml'
    >>> get_path("soissons", "quartiers").suffix
    '.geojson'
    """
    if name not in _DATASETS:
        raise CdvGeoError(f"no demo dataset {name!r}; available: {', '.join(_DATASETS)}")
    project = data_dir() / _DATASETS[name]
    if layer is None:
        return project
    with project.open("rb") as fh:
        cfg = tomllib.load(fh)
    for group in ("layers", "rasters", "tables"):
        spec = cfg.get(group, {}).get(layer)
        if spec is not None:
            rel = spec["path"] if isinstance(spec, dict) else spec
            if isinstance(rel, list):  # a table read from several files: the first
                rel = rel[0]
            return (project.parent / rel).resolve()
    known = [k for g in ("layers", "rasters", "tables") for k in cfg.get(g, {})]
    raise CdvGeoError(f"demo {name!r} has no {layer!r}; it has: {', '.join(known)}")


def soissons() -> Territory:
    """Return the Soissons demo territory (illustrative data).

    Examples
    --------
    >>> t = soissons()
    >>> sorted(t.quartiers["name"])
    ['Chevreux', 'Presles', 'Saint-Crépin Ouest']
    >>> t.illustrative
    True
    """
    return Territory.from_file(get_path("soissons"))
