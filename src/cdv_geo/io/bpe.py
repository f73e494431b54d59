"""The INSEE Base permanente des équipements (BPE), geolocated file, as a facilities layer.

The BPE lists every facility of France (about 2.7 million rows in 2021) with its type
(``TYPEQU``, 188 types in 2021, see :mod:`cdv_geo.io.bpe_types`), its commune (``DEPCOM``), its
QPV (``QP``), its coordinates (``LAMBERT_X``, ``LAMBERT_Y``: Lambert-93 metres in metropolitan
France, a local UTM projection overseas, named by ``EPSG`` when the file has that column) and
their quality (``QUALITE_XY``). :func:`read_bpe` reads it into a validated ``facilities``
layer: the types the contrat de ville talks about map to known kinds (health centre, pharmacy,
police, sports hall, post office...), every other type keeps its own kind with the BPE label.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from cdv_geo.core.errors import CdvGeoWarning, CRSError, DataValidationError, Problem
from cdv_geo.io.bpe_types import BPE_DOMAINS, BPE_SUBDOMAINS, BPE_TYPES
from cdv_geo.schema import normalize_token, parse_number, register_kind_labels, validate

__all__ = [
    "BPE_INTERMEDIATE",
    "BPE_KINDS",
    "BPE_OVERSEAS_CRS",
    "BPE_PROXIMITY",
    "BPE_RANGES",
    "BPE_SUPERIOR",
    "INTERMEDIATE_KINDS",
    "PROXIMITY_KINDS",
    "SUPERIOR_KINDS",
    "bpe_kind",
    "bpe_label",
    "read_bpe",
]

#: BPE types mapped to a known facility kind; any other type keeps a kind of its own, the
#: snake_case token of its label (``A501`` COIFFURE -> ``coiffure``).
BPE_KINDS: dict[str, str] = {
    "A101": "police",
    "A104": "police",
    "A129": "town_hall",
    "A206": "post_office",
    "A207": "post_office",
    "A208": "post_office",
    "B101": "supermarket",
    "B102": "supermarket",
    "B201": "shop",
    "B202": "shop",
    "B203": "shop",
    "B204": "shop",
    "B206": "shop",
    "C101": "school",
    "C102": "school",
    "C104": "school",
    "C105": "school",
    "C201": "secondary_school",
    "C301": "secondary_school",
    "C302": "secondary_school",
    "C303": "secondary_school",
    "C304": "secondary_school",
    "C305": "secondary_school",
    "D108": "health_centre",
    "D113": "health_centre",
    "D201": "doctor",
    "D307": "pharmacy",
    "D502": "childcare",
    "E107": "train_station",
    "E108": "train_station",
    "E109": "train_station",
    "F307": "library",
    **{t: "sports" for t in BPE_TYPES if t.startswith("F1")},
    **{t: "culture" for t in BPE_TYPES if t.startswith("F3") and t != "F307"},
    **{t: "social_services" for t in BPE_TYPES if t.startswith("D7")},
}

# The INSEE ranges (gammes) of the BPE 2021: types grouped by how often they are found together
# in the same communes (insee.fr/fr/statistiques/3568650). These sets follow INSEE's published
# composition but were written without the publication at hand (TO CHECK against it before
# relying on them); the ranges are also revised every year: pass your own set for another vintage.
#: Gamme de proximité: everyday facilities.
BPE_PROXIMITY: frozenset[str] = frozenset(
    {
        "A203", "A206", "A207", "A208", "A301", "A401", "A402", "A403", "A404", "A405",
        "A406", "A501", "A504", "A505", "A507", "B202", "B203", "B204", "B312", "C101",
        "C102", "C104", "C105", "D201", "D221", "D232", "D233", "D307", "E101", "F102",
        "F103", "F111", "F113",
    }
)  # fmt: skip
#: Gamme intermédiaire.
BPE_INTERMEDIATE: frozenset[str] = frozenset(
    {
        "A101", "A104", "A122", "A205", "A302", "A303", "A304", "A502", "A503", "A506",
        "B102", "B103", "B201", "B205", "B206", "B301", "B302", "B303", "B304", "B305",
        "B306", "B307", "B309", "B310", "B311", "B313", "B315", "B316", "C201", "D235",
        "D237", "D302", "D303", "D401", "D402", "D403", "D502", "F101", "F106", "F107",
        "F109", "F114", "F116", "F120", "F121", "F307",
    }
)  # fmt: skip
#: Gamme supérieure.
BPE_SUPERIOR: frozenset[str] = frozenset(
    {
        "A120", "A121", "A124", "A131", "B101", "B308", "C301", "C302", "C304", "C305",
        "D101", "D102", "D103", "D104", "D105", "D106", "D107", "D108", "D109", "D111",
        "D112", "D113", "D202", "D203", "D206", "D207", "D208", "D209", "D210", "D211",
        "D212", "D213", "D214", "D231", "D236", "D238", "D304", "D601", "D602", "D603",
        "D604", "D605", "D606", "D701", "D702", "D703", "E107", "E108", "F303", "F305",
        "F312", "F315",
    }
)  # fmt: skip
#: The three ranges by name.
BPE_RANGES: dict[str, frozenset[str]] = {
    "proximite": BPE_PROXIMITY,
    "intermediaire": BPE_INTERMEDIATE,
    "superieure": BPE_SUPERIOR,
}

#: CRS of ``LAMBERT_X``/``LAMBERT_Y`` overseas, by département (metropolitan France: 2154).
BPE_OVERSEAS_CRS: dict[str, str] = {
    "971": "EPSG:5490",
    "972": "EPSG:5490",
    "973": "EPSG:2972",
    "974": "EPSG:2975",
    "976": "EPSG:4471",
}

_NO_QPV = {"", "HZ", "CSZ", "NAN", "NONE"}


def _pretty(label: str) -> str:
    """``"CENTRE DE SANTÉ"`` -> ``"Centre de santé"``; acronyms in brackets stay capitals."""
    text = label.strip().lower()
    text = text[:1].upper() + text[1:]
    for acronym in re.findall(r"\(([A-Z]{1,5})\)", label):  # (BAJ), (RPI): stay capitals
        text = text.replace(f"({acronym.lower()})", f"({acronym})")
    return text


def bpe_label(typequ: str) -> str:
    """Readable French label of a BPE type.

    Examples
    --------
    >>> bpe_label("D307"), bpe_label("A130")
    ('Pharmacie', 'Bureau d’aide juridictionnelle (BAJ)')
    """
    pair = BPE_TYPES.get(str(typequ).strip().upper())
    return _pretty(pair[0]) if pair else str(typequ)


def bpe_kind(typequ: str) -> str:
    """Facility kind of a BPE type: a known kind, else the token of the type's label.

    Examples
    --------
    >>> bpe_kind("D307"), bpe_kind("F121"), bpe_kind("A206"), bpe_kind("A501")
    ('pharmacy', 'sports', 'post_office', 'coiffure')
    """
    code = str(typequ).strip().upper()
    if code in BPE_KINDS:
        return BPE_KINDS[code]
    pair = BPE_TYPES.get(code)
    return normalize_token(pair[0]) if pair else normalize_token(f"bpe_{code}")


def _range_kinds(codes: frozenset[str]) -> frozenset[str]:
    return frozenset(bpe_kind(c) for c in codes)


#: Kinds with at least one BPE type in each range (a kind such as ``sports`` gathers types of
#: several ranges: filter on the ``bpe_range`` column for the exact range of each row).
PROXIMITY_KINDS: frozenset[str] = _range_kinds(BPE_PROXIMITY)
INTERMEDIATE_KINDS: frozenset[str] = _range_kinds(BPE_INTERMEDIATE)
SUPERIOR_KINDS: frozenset[str] = _range_kinds(BPE_SUPERIOR)

# Every BPE kind that is not a known kind reads with its BPE label on maps and tables.
register_kind_labels(
    {bpe_kind(c): (bpe_label(c), bpe_label(c)) for c in BPE_TYPES if c not in BPE_KINDS}
)


def _range_of(code: str) -> str | None:
    for name, codes in BPE_RANGES.items():
        if code in codes:
            return name
    return None


def _type_matcher(types: Iterable[str] | None) -> Any:
    """Build a test on TYPEQU codes from types given as codes, sub-domains, domains or kinds."""
    if types is None:
        return None
    wanted = [str(t).strip() for t in ([types] if isinstance(types, str) else types)]
    codes = {t.upper() for t in wanted if t.upper() in BPE_TYPES}
    prefixes = {
        t.upper() for t in wanted if t.upper() in BPE_SUBDOMAINS or t.upper() in BPE_DOMAINS
    }
    kinds = {normalize_token(t) for t in wanted} - {c.lower() for c in codes | prefixes}
    unknown = kinds - {bpe_kind(c) for c in BPE_TYPES}
    if unknown:
        raise DataValidationError(
            [
                Problem(
                    f"types={sorted(unknown)} are neither BPE type codes (D307), sub-domains "
                    "(D3), domains (D) nor kinds found in the BPE (pharmacy, sports, school...)",
                    layer="facilities",
                    field="TYPEQU",
                )
            ]
        )
    selected = codes | {c for c in BPE_TYPES if any(c.startswith(p) for p in prefixes)}
    selected |= {c for c in BPE_TYPES if bpe_kind(c) in kinds}
    return lambda s: s.str.upper().isin(selected)


def _chunks(p: Path) -> Iterator[pd.DataFrame]:
    """Yield the file in chunks of text columns (the national file holds millions of rows)."""
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            reader = pd.read_csv(
                p, sep=";", dtype=str, keep_default_na=False, encoding=encoding, chunksize=200_000
            )
            first = next(reader)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, StopIteration) as exc:
            raise DataValidationError(
                [Problem(f"cannot read as a ';'-separated BPE file ({exc})", file=str(p))]
            ) from exc
        yield first
        yield from reader
        return


_REQUIRED = ("TYPEQU", "LAMBERT_X", "LAMBERT_Y", "DEPCOM")


def _read_rows(p: Path, communes: Iterable[str] | None, types: Any) -> pd.DataFrame:
    if not p.exists():
        raise DataValidationError(
            [Problem("file does not exist; check the path", file=str(p), layer="facilities")]
        )
    wanted_c = None if communes is None else {str(c).strip().upper() for c in communes}
    match = _type_matcher(types)
    kept: list[pd.DataFrame] = []
    for chunk in _chunks(p):
        chunk.columns = [str(c).strip().upper() for c in chunk.columns]
        missing = [c for c in _REQUIRED if c not in chunk.columns]
        if missing:
            raise DataValidationError(
                [
                    Problem(
                        f"not a geolocated BPE file: columns {', '.join(missing)} are missing "
                        f"(found {', '.join(chunk.columns[:12])}); use the 'ensemble' file "
                        "with coordinates (bpeXX_ensemble_xy.csv)",
                        file=str(p),
                        layer="facilities",
                    )
                ]
            )
        if wanted_c is not None:
            chunk = chunk[chunk["DEPCOM"].str.strip().str.upper().isin(wanted_c)]
        if match is not None:
            chunk = chunk[match(chunk["TYPEQU"].str.strip())]
        kept.append(chunk)
    rows = pd.concat(kept, ignore_index=True)
    if rows.empty:
        raise DataValidationError(
            [
                Problem(
                    f"no BPE row left after filtering (communes={sorted(wanted_c or [])}, "
                    f"types={types!r}); check the INSEE codes (DEPCOM, e.g. '02722')",
                    file=str(p),
                    layer="facilities",
                )
            ]
        )
    return rows


def _coordinates(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    def num(v: str) -> float:
        try:
            return parse_number(v) if v.strip() else np.nan
        except ValueError:
            return np.nan

    x = np.array([num(v) for v in rows["LAMBERT_X"]], dtype=float)
    y = np.array([num(v) for v in rows["LAMBERT_Y"]], dtype=float)
    return x, y


def _row_crs(rows: pd.DataFrame, crs: Any) -> pd.Series:
    """CRS of each row: `crs`, else the file's EPSG column, else the département's."""
    if crs is not None:
        try:
            name = CRS.from_user_input(crs).to_string()
        except Exception as exc:
            raise CRSError(f"crs={crs!r} is not a valid CRS ({exc}); e.g. 'EPSG:2154'") from exc
        return pd.Series(name, index=rows.index)
    if "EPSG" in rows.columns:
        epsg = rows["EPSG"].str.strip()
        return epsg.where(epsg == "", "EPSG:" + epsg).replace("", "EPSG:2154")
    dep = rows["DEPCOM"].str.strip().str[:3]
    return dep.map(BPE_OVERSEAS_CRS).fillna("EPSG:2154")


def _warn_dropped(p: Path, rows: pd.DataFrame, bad: np.ndarray) -> None:
    if not bad.any():
        return
    quality = rows.loc[bad, "QUALITE_XY"] if "QUALITE_XY" in rows.columns else None
    detail = ""
    if quality is not None:
        counts = quality.replace("", "empty").value_counts()
        detail = " (QUALITE_XY: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ")"
    types = rows.loc[bad, "TYPEQU"].value_counts().head(5)
    warnings.warn(
        f"BPE file {p}: left out {int(bad.sum()):,} of {len(rows):,} rows without usable "
        f"coordinates{detail}; most frequent types: "
        + ", ".join(f"{k} {bpe_label(k)} ({v:,})" for k, v in types.items())
        + ". They cannot be placed on a map or a walking network.",
        CdvGeoWarning,
        stacklevel=3,
    )


def read_bpe(
    path: str | os.PathLike[str],
    *,
    communes: Iterable[str] | None = None,
    types: Iterable[str] | str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    r"""Read the geolocated BPE (``bpeXX_ensemble_xy.csv``) as a validated facilities layer.

    Parameters
    ----------
    path : str or path-like
        The ``;``-separated file as INSEE distributes it (UTF-8 or Latin-1).
    communes : iterable of str, optional
        Keep these communes, by INSEE code (``DEPCOM``, e.g. ``"02722"``).
    types : str or iterable of str, optional
        Keep these types: BPE codes (``"D307"``), sub-domains (``"D3"``), domains (``"D"``) or
        kinds (``"pharmacy"``, ``"sports"``, ``"coiffure"``).
    crs : Any, optional
        CRS of ``LAMBERT_X``/``LAMBERT_Y``. By default the file's ``EPSG`` column, else
        EPSG:2154 in metropolitan France and the local UTM projection overseas
        (:data:`BPE_OVERSEAS_CRS`). The layer is returned in that CRS (or, for a file mixing
        several, in the first row's).

    Returns
    -------
    geopandas.GeoDataFrame
        A validated ``facilities`` layer (points): ``id`` (``bpe-<row>``), ``name`` (the type's
        label, or ``NOMRS`` when the file has it), ``kind`` (see :data:`BPE_KINDS`), plus
        ``typequ``, ``bpe_label``, ``bpe_subdomain``, ``bpe_domain``, ``bpe_range``
        (``proximite``, ``intermediaire``, ``superieure`` or empty), ``commune`` (DEPCOM),
        ``qpv`` (the BPE's QP code, empty outside any QPV) and ``xy_quality``.

    Raises
    ------
    DataValidationError
        If the file is not a geolocated BPE, or nothing is left after filtering.

    Warns
    -----
    CdvGeoWarning
        Counting the rows left out for want of coordinates (``QUALITE_XY`` "Non géolocalisé").

    Examples
    --------
    >>> import tempfile, pathlib
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "bpe.csv"
    >>> _ = csv.write_text('"DEPCOM";"TYPEQU";"LAMBERT_X";"LAMBERT_Y";"QUALITE_XY";"QP"\n'
    ...                    '"02722";"D307";"728500";"6920800";"Bonne";"QP002012"\n')
    >>> read_bpe(csv)[["name", "kind", "bpe_range", "qpv"]]
            name      kind  bpe_range       qpv
    0  Pharmacie  pharmacy  proximite  QP002012
    """
    p = Path(path)
    rows = _read_rows(p, communes, types)
    x, y = _coordinates(rows)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    _warn_dropped(p, rows, bad)
    if bad.all():
        raise DataValidationError(
            [
                Problem(
                    f"none of the {len(rows):,} BPE rows has coordinates (LAMBERT_X, "
                    "LAMBERT_Y); use the geolocated file (ensemble_xy)",
                    file=str(p),
                    layer="facilities",
                )
            ]
        )
    rows = rows[~bad].reset_index(drop=True)
    x, y = x[~bad], y[~bad]
    return validate(_layer(rows, x, y, _row_crs(rows, crs), p), "facilities", source=str(p))


def _layer(
    rows: pd.DataFrame, x: np.ndarray, y: np.ndarray, row_crs: pd.Series, p: Path
) -> gpd.GeoDataFrame:
    codes = rows["TYPEQU"].str.strip().str.upper()
    sdom = codes.map(lambda c: BPE_TYPES.get(c, ("", ""))[1])
    labels = codes.map(bpe_label)
    names = labels
    if "NOMRS" in rows.columns:  # raison sociale, in recent vintages
        names = rows["NOMRS"].str.strip().where(rows["NOMRS"].str.strip() != "", labels)
    qp = rows["QP"].str.strip() if "QP" in rows.columns else pd.Series("", index=rows.index)
    data = pd.DataFrame(
        {
            "id": [f"bpe-{i + 1}" for i in range(len(rows))],
            "name": names,
            "kind": codes.map(bpe_kind),
            "source": f"INSEE BPE ({p.name})",
            "typequ": codes,
            "bpe_label": labels,
            "bpe_subdomain": sdom.map(lambda s: _pretty(BPE_SUBDOMAINS.get(s, ("", ""))[0])),
            "bpe_domain": sdom.map(
                lambda s: _pretty(BPE_DOMAINS.get(BPE_SUBDOMAINS.get(s, ("", s[:1]))[1], ""))
            ),
            "bpe_range": codes.map(lambda c: _range_of(c) or ""),
            "commune": rows["DEPCOM"].str.strip(),
            "qpv": qp.where(~qp.str.upper().isin(_NO_QPV), ""),
            "xy_quality": rows["QUALITE_XY"].str.strip() if "QUALITE_XY" in rows.columns else "",
        }
    )
    target = row_crs.iloc[0]
    parts = []
    for name, idx in data.groupby(row_crs.to_numpy(), sort=False).groups.items():
        part = gpd.GeoDataFrame(
            data.loc[idx],
            geometry=gpd.points_from_xy(x[np.asarray(idx)], y[np.asarray(idx)]),
            crs=name,
        )
        parts.append(part.to_crs(target))
    return gpd.GeoDataFrame(pd.concat(parts).sort_index(), crs=target)
