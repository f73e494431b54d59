"""The official ANCT QPV perimeter files (2015 and 2024 generations) as a ``quartiers`` layer."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.errors import DataValidationError, Problem
from cdv_geo.io.layers import read_vector
from cdv_geo.schema import SCHEMAS, compact_token, normalize_token, validate

__all__ = [
    "QPV_CODE_FIELDS",
    "QPV_COMMUNE_CODE_FIELDS",
    "QPV_COMMUNE_NAME_FIELDS",
    "QPV_NAME_FIELDS",
    "is_insee_code",
    "read_qpv",
]

#: Field names of the two generations of official QPV files (matched whatever their case).
QPV_CODE_FIELDS = ("code_qp", "code_qpv", "cod_qp")
QPV_NAME_FIELDS = ("lib_qp", "nom_qp", "libelle_qp", "nom_qpv")
#: Columns holding the INSEE code of the commune.
QPV_COMMUNE_CODE_FIELDS = (
    "insee_com",
    "code_insee",
    "insee_commune",
    "depcom",
    "code_commune",
    "code_com",
    "codgeo",
    "com",
    "insee",
)
#: Columns holding the commune's name.
QPV_COMMUNE_NAME_FIELDS = (
    "lib_com",
    "commune_qp",
    "nom_com",
    "libelle_commune",
    "nom_commune",
    "commune",
)

_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$", re.IGNORECASE)


def is_insee_code(value: object) -> bool:
    """Whether `value` is written like an INSEE commune code (``02722``, ``2A004``).

    Examples
    --------
    >>> is_insee_code("02722"), is_insee_code("2a004"), is_insee_code("Soissons")
    (True, True, False)
    """
    return bool(_INSEE.match(str(value).strip()))


def _first(cols: dict[str, str], names: Sequence[str]) -> str | None:
    for n in names:
        if compact_token(n) in cols:
            return cols[compact_token(n)]
    return None


def _all_codes(values: pd.Series) -> bool:
    texts = [str(v).strip() for v in values if not pd.isna(v) and str(v).strip()]
    return bool(texts) and all(is_insee_code(t) for t in texts)


def _not_qpv(p: Path, cols: dict[str, str]) -> DataValidationError:
    return DataValidationError(
        [
            Problem(
                "not an ANCT QPV perimeter file: expected fields code_qp and lib_qp "
                f"(2024) or nom_qp (2015); found {', '.join(cols.values())}",
                file=str(p),
                layer="quartiers",
            )
        ]
    )


def _commune_filter(
    df: pd.DataFrame, communes: Iterable[str], has_codes: bool, has_names: bool, p: Path
) -> pd.DataFrame:
    """Keep every feature of a QPV touching one of `communes` (codes, else names)."""
    wanted = [str(c).strip() for c in communes]
    codes = {c.upper() for c in wanted if is_insee_code(c)}
    names = {normalize_token(c) for c in wanted if not is_insee_code(c)}
    if codes and not has_codes:
        raise DataValidationError(
            [
                Problem(
                    f"communes={sorted(codes)} are INSEE codes but the file has no commune code "
                    f"column ({', '.join(QPV_COMMUNE_CODE_FIELDS)}); pass commune names instead",
                    file=str(p),
                    layer="quartiers",
                )
            ]
        )
    if names and not has_names:
        raise DataValidationError(
            [
                Problem(
                    f"communes={sorted(names)} are names but the file has no commune name "
                    f"column ({', '.join(QPV_COMMUNE_NAME_FIELDS)}); pass INSEE codes instead",
                    file=str(p),
                    layer="quartiers",
                )
            ]
        )

    def matches(code: str, name: str) -> bool:
        if code.upper() in codes:
            return True
        parts = str(name).replace(";", ",").split(",")
        return any(normalize_token(part) in names for part in parts)

    hit = {
        c
        for c, code, name in zip(
            df["_code"], df["_commune_codes"], df["_commune_names"], strict=True
        )
        if matches(code, name)
    }
    return df[df["_code"].isin(hit)]


def _population(values: pd.Series) -> Any:
    """One QPV's population from its features: the value repeated on each, else their sum."""
    vals = values.dropna()
    if vals.empty:
        return None
    if vals.nunique() == 1:
        return vals.iloc[0]
    return vals.sum()


def read_qpv(
    path: str | os.PathLike[str],
    *,
    communes: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    layer: str | None = None,
    repair: bool = False,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read an official ANCT QPV perimeter file as a ``quartiers`` layer.

    Both generations are understood: 2015 (``code_qp``, ``nom_qp``, ``commune_qp``) and 2024
    (``code_qp``, ``lib_qp``, ``insee_com``, ``lib_com``...), whatever the case of the field
    names (``CODE_QP``, ``INSEE_COM``). A QPV spanning several communes has one feature per
    commune in the 2024 files: those are dissolved into one row per ``code_qp``. A population
    column (``pop``, ``population``...) is kept, French numbers (``"6 206"``) included.

    Parameters
    ----------
    path : str or path-like
        The perimeter file (GeoJSON, GeoPackage, Shapefile...), as published on data.gouv.fr.
    communes : iterable of str, optional
        Keep the QPV of these communes: INSEE codes (``"02722"``) are looked up in the commune
        code column (``insee_com``, ``code_commune``, ``depcom``...), names (``"Soissons"``,
        accents and case ignored) in the commune name column.
    codes : iterable of str, optional
        Keep these QPV codes.
    layer : str, optional
        Layer name inside a multi-layer file.
    repair : bool, default False
        Repair invalid rings (published files contain some) with :func:`shapely.make_valid`,
        which keeps the whole area of a self-intersecting ring.
    crs : Any, optional
        CRS of the coordinates when the file has none.

    Returns
    -------
    geopandas.GeoDataFrame
        A validated ``quartiers`` layer: ``id`` and ``code`` (the QPV code), ``name``,
        ``population`` (when the file has one), ``commune`` (INSEE codes or names,
        ``;``-separated when several).

    Examples
    --------
    >>> import cdv_geo as cg
    >>> path = cg.datasets.get_path("soissons", "quartiers")
    >>> q = cg.read_qpv(path, communes=["02722"])
    >>> q["commune"].unique().tolist(), bool(q["population"].notna().all())
    (['02722'], True)
    """
    p = Path(path)
    raw = read_vector(p, layer=layer, crs=crs, kind="quartiers")
    cols = {compact_token(str(c)): str(c) for c in raw.columns if c != raw.geometry.name}
    code_col = _first(cols, QPV_CODE_FIELDS) or _first(cols, ("code",))
    name_col = _first(cols, QPV_NAME_FIELDS) or _first(cols, ("name", "nom"))
    if code_col is None or name_col is None:
        raise _not_qpv(p, cols)
    ccode = _first(cols, QPV_COMMUNE_CODE_FIELDS)
    cname = _first(cols, QPV_COMMUNE_NAME_FIELDS)
    if ccode is None and cname is not None and _all_codes(raw[cname]):
        ccode, cname = cname, None  # a "commune" column holding INSEE codes
    pop_col = _first(cols, ("population", *SCHEMAS["quartiers"].field("population").aliases))
    df = raw.copy()
    df["_code"] = df[code_col].astype(str).str.strip()
    df["_commune_codes"] = df[ccode].astype(str).str.strip() if ccode else ""
    df["_commune_names"] = df[cname].astype(str) if cname else ""
    if codes is not None:
        df = df[df["_code"].isin({str(c).strip() for c in codes})]
    if communes is not None:
        df = _commune_filter(df, communes, ccode is not None, cname is not None, p)
    if df.empty:
        found = sorted(
            set(raw[ccode].astype(str)) if ccode else set(raw[cname].astype(str)) if cname else []
        )
        raise DataValidationError(
            [
                Problem(
                    f"no QPV left after filtering (communes={list(communes or [])}, "
                    f"codes={list(codes or [])}); the file covers communes: "
                    f"{', '.join(found[:20])}{' ...' if len(found) > 20 else ''}",
                    file=str(p),
                    layer="quartiers",
                )
            ]
        )
    checked = _check_features(df, name_col, pop_col, raw.crs, p, repair)
    return _dissolve(checked, raw.crs, p, with_population=pop_col is not None)


def _check_features(
    df: pd.DataFrame, name_col: str, pop_col: str | None, crs: Any, p: Path, repair: bool
) -> gpd.GeoDataFrame:
    """Validate each published feature (before dissolving, which fails on bad rings)."""
    data: dict[str, Any] = {
        "id": [
            f"{c}" + (f" (commune {k})" if k else "")
            for c, k in zip(df["_code"], df["_commune_codes"], strict=True)
        ],
        "code": df["_code"].to_numpy(),
        "name": df[name_col].to_numpy(),
    }
    if pop_col is not None:
        data["population"] = df[pop_col].to_numpy()
    pre = gpd.GeoDataFrame(data, geometry=df.geometry.to_numpy(), crs=crs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checked = validate(pre, "quartiers", source=str(p), repair=repair)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    checked["_commune"] = [
        k if k else n for k, n in zip(df["_commune_codes"], df["_commune_names"], strict=True)
    ]
    return checked


def _dissolve(
    checked: gpd.GeoDataFrame, crs: Any, p: Path, *, with_population: bool
) -> gpd.GeoDataFrame:
    """One row per QPV code: geometries united, communes listed, populations combined."""
    rows = []
    for code, grp in checked.groupby("code", sort=True):
        row = {
            "id": code,
            "code": code,
            "name": grp["name"].iloc[0],
            "commune": ";".join(sorted({str(c) for c in grp["_commune"] if c})),
            "source": f"ANCT QPV perimeters ({p.name})",
            "geometry": shapely.union_all(np.asarray(grp.geometry.array, dtype=object)),
        }
        if with_population:
            row["population"] = _population(grp["population"].astype("Float64"))
        rows.append(row)
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    result = validate(out, "quartiers", source=str(p))
    result.attrs["repaired"] = checked.attrs.get("repaired", [])
    return result
