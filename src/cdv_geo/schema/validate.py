"""``validate()``: a layer checked against its schema, every problem collected at once."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cdv_geo.core.errors import CdvGeoWarning, DataValidationError, Problem
from cdv_geo.core.layers import set_validator
from cdv_geo.schema.enums import compact_token, kind_label, normalize_token, note_ambiguous_kinds
from cdv_geo.schema.fields import Field, LayerSchema
from cdv_geo.schema.layers import CODE_ID_KINDS, ID_ALIASES, LAYER_KINDS, SCHEMAS
from cdv_geo.schema.problems import (
    count_like_columns,
    count_problem,
    group_problems,
    numeric_columns,
    residence_weight_problems,
    warn_default,
)
from cdv_geo.schema.values import convert_value, is_missing, typed_series

__all__ = ["validate"]

_POLYGONAL = {"Polygon", "MultiPolygon"}


def _rename_columns(
    gdf: gpd.GeoDataFrame, schema: LayerSchema, problems: list[Problem], where: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Rename aliased columns to canonical names; report two columns claiming one field.

    Names are matched whatever their case and style (``nbArbres``, ``NB_ARBRES``, ``nb-arbres``).
    """
    geom_name = gdf.geometry.name
    lookup: dict[str, str] = {}
    for f in schema.fields:
        lookup[compact_token(f.name)] = f.name
        for a in f.aliases:
            lookup.setdefault(compact_token(a), f.name)
    for a in ID_ALIASES:
        lookup[compact_token(a)] = "id"
    renames: dict[str, str] = {}
    claimed: dict[str, str] = {}
    # Canonical names first, so a file holding both `name` and `nom` keeps `name`.
    cols = [c for c in gdf.columns if c != geom_name]
    cols.sort(key=lambda c: 0 if str(c) in schema.field_names or str(c) == "id" else 1)
    for col in cols:
        target = lookup.get(compact_token(str(col)))
        if target is None:
            continue
        if target in claimed:
            if target == "name" and schema.kind == "facilities":
                continue  # other names are fallbacks for unnamed features (_name_facilities)
            if claimed[target] != target:  # two aliases for one field: ambiguous
                # (two counts of trees: which one is right is the planner's call, said once)
                choose = (
                    f' or say which in project.toml: count_field = "{claimed[target]}"'
                    if target == "trees"
                    else ""
                )
                problems.append(
                    Problem(
                        f"columns {claimed[target]!r} and {col!r} both mean {target!r}; "
                        f"keep one of them{choose}",
                        field=str(col),
                        **where,
                    )
                )
            continue
        claimed[target] = str(col)
        if col != target:
            renames[col] = target
    return gdf.rename(columns=renames)


def _apply_fields(
    gdf: gpd.GeoDataFrame,
    schema: LayerSchema,
    fields: Mapping[str, str],
    problems: list[Problem],
    where: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Rename the columns the project names (``name_field = "Title"``) to their fields.

    A column already holding the field's canonical name is kept aside (``name_file``) so that
    the chosen one wins; an empty choice (``count_field = ""``) only silences the count check.
    """
    geom_name = gdf.geometry.name
    columns = [str(c) for c in gdf.columns if c != geom_name]
    by_token = {compact_token(c): c for c in columns}
    renames: dict[str, str] = {}
    for canon, col in fields.items():
        if not col:
            continue
        if canon not in schema.field_names:
            problems.append(
                Problem(
                    f"{canon!r} is not a field of a {schema.kind} layer; expected one of "
                    f"{', '.join(schema.field_names)}",
                    **where,
                )
            )
            continue
        found = col if col in columns else by_token.get(compact_token(col))
        if found is None:
            problems.append(
                Problem(
                    f"no column {col!r} (chosen to hold {canon!r}) in this layer; its columns "
                    f"are {', '.join(columns) or '(none)'}",
                    field=col,
                    **where,
                )
            )
            continue
        if canon in columns and found != canon:
            renames[canon] = f"{canon}_file"
        renames[found] = canon
    return gdf.rename(columns=renames) if renames else gdf


def _map_values(
    work: gpd.GeoDataFrame, values: Mapping[str, Mapping[str, Any]]
) -> gpd.GeoDataFrame:
    """Replace the file's own values by the project's (``kinds = { "Santé" = "health" }``).

    Keys match whatever their case, accents and spacing; values not listed are kept.
    """
    out = work
    for canon, mapping in values.items():
        if canon not in work.columns or not mapping:
            continue
        lookup = {normalize_token(k): v for k, v in mapping.items()}
        col = work[canon]
        mapped = [
            lookup.get(normalize_token(v), v) if not is_missing(v) else v for v in col.tolist()
        ]
        if out is work:
            out = work.copy()
        out[canon] = pd.Series(mapped, index=col.index, dtype=object)
    return out


def _coerce(
    values: pd.Series, f: Field, ids: pd.Series, problems: list[Problem], where: dict[str, Any]
) -> tuple[pd.Series, int]:
    """Convert a column to the field's type; return it and how many cells were empty."""
    out: list[Any] = []
    empty = 0
    for fid, v in zip(ids, values, strict=True):
        if is_missing(v):
            empty += 1
            if f.default is not None:
                out.append(f.default)
            else:
                if f.required:
                    problems.append(
                        Problem(
                            "value is missing (required); fill it in",
                            feature=fid,
                            field=f.name,
                            **where,
                        )
                    )
                out.append(None)
            continue
        try:
            out.append(convert_value(v, f))
        except ValueError as exc:
            problems.append(Problem(str(exc), feature=fid, field=f.name, **where))
            out.append(None)
    return typed_series(out, f, values.index), empty


def _check_ids(
    gdf: gpd.GeoDataFrame, kind: str, problems: list[Problem], where: dict[str, Any]
) -> pd.Series:
    if "id" not in gdf.columns:
        if kind in CODE_ID_KINDS and "code" in gdf.columns:
            raw = gdf["code"]  # a quartier or commune is known by its official code
        else:
            return pd.Series(
                [str(i) for i in range(1, len(gdf) + 1)], index=gdf.index, dtype=object
            )
    else:
        raw = gdf["id"]
    ids = pd.Series(
        [None if is_missing(v) else _id_text(v) for v in raw], index=gdf.index, dtype=object
    )
    for pos, v in enumerate(ids):
        if v is None:
            problems.append(Problem(f"feature #{pos + 1} has an empty id", field="id", **where))
    dup = ids[ids.notna() & ids.duplicated(keep=False)]
    for v in sorted(set(dup)):
        n = int((ids == v).sum())
        problems.append(
            Problem(
                f"id {v!r} is used by {n} features; ids must be unique",
                feature=v,
                field="id",
                **where,
            )
        )
    # keep rows addressable in later messages even when their id is empty
    return ids.where(ids.notna(), [f"#{i + 1}" for i in range(len(ids))])


def _id_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _drop_other_geometries(
    gdf: gpd.GeoDataFrame, schema: LayerSchema, where: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Leave out features that are not of the schema's geometry; one warning counts them."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.array(["empty" if m else g.geom_type for g, m in zip(geoms, missing, strict=True)])
    keep = np.isin(types, sorted(schema.allowed_types))
    if keep.all():
        return gdf
    counts = Counter(types[~keep].tolist())
    what = ", ".join(f"{n:,} {t}" for t, n in counts.most_common())
    src = f" {where['file']}" if where.get("file") else ""
    expected = " or ".join(sorted(schema.allowed_types))
    if not keep.any():
        raise DataValidationError(
            [
                Problem(
                    f"no feature is a {expected} (found {what}); a {schema.kind} layer "
                    "needs lines: export the street centre lines only",
                    **where,
                )
            ]
        )
    warnings.warn(
        f"{schema.kind} layer{src}: left out {int((~keep).sum()):,} features that are not "
        f"{expected} ({what}); kept {int(keep.sum()):,}. Export the lines only to silence this.",
        CdvGeoWarning,
        stacklevel=3,
    )
    return gdf[keep].reset_index(drop=True)


def _check_geometries(
    gdf: gpd.GeoDataFrame,
    schema: LayerSchema,
    ids: pd.Series,
    repair: bool,
    problems: list[Problem],
    where: dict[str, Any],
) -> tuple[gpd.GeoSeries, list[str]]:
    geoms = gdf.geometry.copy()
    allowed = schema.allowed_types
    repaired: list[str] = []
    for pos, (fid, g) in enumerate(zip(ids, geoms, strict=True)):
        if g is None:
            problems.append(Problem("geometry is missing", feature=fid, **where))
            continue
        if g.is_empty:
            problems.append(Problem("geometry is empty", feature=fid, **where))
            continue
        if g.geom_type not in allowed:
            problems.append(
                Problem(
                    f"geometry is a {g.geom_type}; a {schema.kind} layer expects "
                    f"{' or '.join(sorted(allowed))}: keep only those in the file (in QGIS, "
                    "filter on the geometry type) or load it as another layer kind",
                    feature=fid,
                    **where,
                )
            )
            continue
        if not g.is_valid:
            reason = shapely.is_valid_reason(g)
            if not repair:
                problems.append(
                    Problem(
                        f"geometry is invalid ({reason}); read with repair=True to fix it "
                        "with shapely.make_valid, or fix it in QGIS (Vector > Geometry "
                        "Tools > Fix Geometries)",
                        feature=fid,
                        **where,
                    )
                )
                continue
            fixed = make_valid_keep_dimension(g)
            if fixed is None or fixed.is_empty or fixed.geom_type not in allowed:
                problems.append(
                    Problem(
                        f"geometry is invalid ({reason}) and could not be repaired",
                        feature=fid,
                        **where,
                    )
                )
                continue
            geoms.iloc[pos] = fixed
            repaired.append(f"{fid} ({reason})")
    return geoms, repaired


def make_valid_keep_dimension(g: Any) -> Any:
    """Repair a geometry with :func:`shapely.make_valid`, keeping the parts of its dimension.

    A bow-tie polygon becomes its two triangles (its whole area), never half of it as
    ``buffer(0)`` would give; lines or points left over from a polygon are dropped.

    Examples
    --------
    >>> from shapely import Polygon
    >>> bow = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> make_valid_keep_dimension(bow).area
    2.0
    """
    fixed = shapely.make_valid(g)
    if g.geom_type in _POLYGONAL and fixed.geom_type not in _POLYGONAL:
        polys = [p for p in shapely.get_parts(fixed) if p.geom_type in _POLYGONAL]
        parts: list[Any] = []
        for p in polys:
            parts.extend(shapely.get_parts(p))
        if not parts:
            return None
        fixed = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return fixed


def _coerce_fields(
    work: gpd.GeoDataFrame,
    schema: LayerSchema,
    ids: pd.Series,
    problems: list[Problem],
    where: dict[str, Any],
    chosen: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Every schema field as a typed array; warn when a count or weight takes its default.

    A count absent while a count-like column is there is a problem, unless the project
    chose the field (`chosen`).
    """
    n = len(work)
    out: dict[str, Any] = {"id": ids.to_numpy()}
    absent: list[Field] = []
    for f in schema.fields:
        if f.name in work.columns:
            col, empty = _coerce(work[f.name], f, ids, problems, where)
            out[f.name] = col.to_numpy()
            if empty and f.weight:
                warn_default(f, where, f"{empty:,} of {n:,} features have no value")
            continue
        out[f.name] = typed_series([f.default] * n, f, work.index).to_numpy()
        if f.required and f.default is None:
            problems.append(
                Problem(
                    f"required field is missing (accepted names: "
                    f"{', '.join((f.name, *f.aliases))})",
                    field=f.name,
                    **where,
                )
            )
        elif f.weight and f.default is not None:
            absent.append(f)
    if absent:
        candidates = numeric_columns(work, {"id", *schema.field_names})
        counts = count_like_columns(work, {"id", *schema.field_names})
        for f in absent:
            if counts and f.name not in chosen:
                problems.append(count_problem(f, counts, where))
                continue
            warn_default(f, where, "the field is missing", candidates)
    return out


def _name_facilities(out: dict[str, Any], work: gpd.GeoDataFrame, where: dict[str, Any]) -> None:
    """Name facilities without a name: from another name-like column, else after their kind.

    A register often holds its real names in a second column (``Title``, ``libelle``): those
    come before the kind's label, and the features still named after their kind are counted.
    """
    names = list(out["name"])
    aliases = {compact_token(a) for a in ("name", *SCHEMAS["facilities"].field("name").aliases)}
    others = [
        c
        for c in work.columns
        if c not in ("name", work.geometry.name) and compact_token(str(c)) in aliases
    ]
    unnamed = 0
    for i, (name, kind) in enumerate(zip(names, out["kind"], strict=True)):
        if not is_missing(name):
            continue
        for col in others:
            v = work[col].iloc[i]
            if not is_missing(v) and str(v).strip():
                names[i] = str(v).strip()
                break
        else:
            if is_missing(kind):
                continue
            names[i] = kind_label(kind, "fr")
            unnamed += 1
    out["name"] = np.asarray(names, dtype=object)
    if unnamed:
        src = f" {where['file']}" if where.get("file") else ""
        warnings.warn(
            f"facilities layer{src}: {unnamed:,} facilities have no name; each is named after "
            "its kind (add a 'name' / 'nom' column, or say which column holds the names with "
            'name_field = "..." in project.toml).',
            CdvGeoWarning,
            stacklevel=3,
        )


def _unknown_kind(kind: str, source: str | None) -> DataValidationError:
    return DataValidationError(
        [
            Problem(
                f"unknown layer kind {kind!r}; expected one of {', '.join(LAYER_KINDS)}",
                file=source,
            )
        ]
    )


def validate(
    gdf: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str | None = None,
    repair: bool = False,
    extra: Literal["keep", "drop"] = "keep",
    fields: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, Any]] | None = None,
) -> gpd.GeoDataFrame:
    """Validate a layer against its schema and return it with canonical fields.

    French field names and values are translated, types are converted (numbers written the
    French way too: ``"6 206"``, ``"3,5"``), an ``id`` column is added when the layer has none
    (the ``code`` of quartiers and communes, else ``"1"``, ``"2"``... in file order; ids are
    always text), and every feature is checked: required values, enumerations, negative counts,
    years outside 1950–2100, geometry type, empty and invalid geometries, duplicate ids, empty
    layer. Identical problems are reported once with the number of features concerned. A count
    field (``trees``) absent while a count-like column (``QTE_PLANT``, ``nb_*``, ``quantite``)
    is there is a problem: say which column holds it (`fields`).

    Facility kinds are open: a kind not in :data:`~cdv_geo.schema.FACILITY_KINDS` is kept (as
    a snake_case token); an ambiguous category (``"Éducation"``) becomes its own kind, listed in
    ``result.attrs["ambiguous_kinds"]``. A facility without a name takes the first other
    name-like column (``Title``, ``libelle``...), else the label of its kind. A count or weight
    that falls back to a default (``trees`` = 1, a missing ``population``) is announced by a
    :class:`~cdv_geo.CdvGeoWarning` naming the numeric columns that could be meant. A streets
    layer keeps its lines and leaves out other geometries with one warning.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read. It is not modified.
    kind : str
        Layer kind, one of :data:`~cdv_geo.schema.LAYER_KINDS`.
    source : str, optional
        File name used in the messages.
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid` instead of refusing them; the
        repaired ids are listed in a :class:`~cdv_geo.CdvGeoWarning` and in
        ``result.attrs["repaired"]``.
    extra : {"keep", "drop"}, default "keep"
        What to do with columns the schema does not know (kept by default, after the schema's).
    fields : mapping of str to str, optional
        The column holding a field, when the project says so (``{"name": "Title"}``,
        ``{"trees": "QTE_PLANT"}``); it wins over the aliases. An empty column name (``""``)
        keeps the field's default and silences the count check.
    values : mapping of str to mapping, optional
        The file's own values of a field and what they mean (``{"kind": {"Éducation":
        "other", "Santé": "health_centre"}}``), applied before the built-in aliases.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, the schema's fields in order, extra columns, ``geometry``.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, layer, feature id and field.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> raw = gpd.GeoDataFrame({"nom": ["Aire de jeux"], "type": ["Aire de jeux d'eau"]},
    ...                        geometry=[Point(728400, 6920800)], crs=2154)
    >>> validate(raw, "facilities")[["id", "name", "kind"]]
       id          name             kind
    0   1  Aire de jeux  water_play_area
    """
    if kind not in SCHEMAS:
        raise _unknown_kind(kind, source)
    schema = SCHEMAS[kind]
    where: dict[str, Any] = {"file": source, "layer": kind}
    problems: list[Problem] = []
    if len(gdf) == 0:
        raise DataValidationError(
            [
                Problem(
                    "layer is empty (no features); remove it from the project or fill it", **where
                )
            ]
        )
    if schema.other_geometries == "drop":
        gdf = _drop_other_geometries(gdf, schema, where)
    work = _apply_fields(gdf, schema, fields or {}, problems, where)
    work = _map_values(_rename_columns(work, schema, problems, where), values or {})
    ids = _check_ids(work, kind, problems, where)
    out = _coerce_fields(work, schema, ids, problems, where, frozenset(fields or {}))
    if kind == "residences":
        problems.extend(residence_weight_problems(out, ids, work, where, known=schema.field_names))
    geoms, repaired = _check_geometries(work, schema, ids, repair, problems, where)
    if problems:
        grouped = group_problems(problems)
        raise DataValidationError(
            grouped,
            summary=f"{len(problems):,} problem{'s' if len(problems) > 1 else ''} in "
            f"{kind} layer{' ' + source if source else ''}"
            + (f" ({len(grouped):,} distinct)" if len(grouped) < len(problems) else "")
            + ":",
        )
    ambiguous: dict[str, tuple[str, int]] = {}
    if kind == "facilities":
        _name_facilities(out, work, where)
        ambiguous = note_ambiguous_kinds(
            work["kind"] if "kind" in work.columns else [], out["kind"]
        )
    res = _assemble(out, work, schema, geoms, gdf.crs, extra, source, repaired)
    if ambiguous:
        res.attrs["ambiguous_kinds"] = ambiguous
    return res


def _assemble(
    out: dict[str, Any],
    work: gpd.GeoDataFrame,
    schema: LayerSchema,
    geoms: gpd.GeoSeries,
    crs: Any,
    extra: str,
    source: str | None,
    repaired: list[str],
) -> gpd.GeoDataFrame:
    n = len(work)
    known = {"id", *schema.field_names, work.geometry.name}
    result = pd.DataFrame(out, index=pd.RangeIndex(n))
    for f in schema.fields:  # keep pandas nullable dtypes
        result[f.name] = typed_series(list(out[f.name]), f, result.index)
    if extra == "keep":
        for col in work.columns:
            if col not in known:
                result[col] = work[col].to_numpy()
    res = gpd.GeoDataFrame(result, geometry=list(geoms), crs=crs)
    res.attrs["kind"] = schema.kind
    res.attrs["source"] = source
    res.attrs["repaired"] = repaired
    if repaired:
        warnings.warn(
            f"{schema.kind} layer{' ' + source if source else ''}: repaired {len(repaired)} "
            f"invalid geometr{'y' if len(repaired) == 1 else 'ies'} with shapely.make_valid: "
            + "; ".join(repaired)
            + ". Check them in QGIS; fix the source file to silence this warning.",
            CdvGeoWarning,
            stacklevel=3,
        )
    return res


def _validate_for_core(gdf: gpd.GeoDataFrame, kind: str, source: str | None) -> gpd.GeoDataFrame:
    return validate(gdf, kind, source=source)


# core.layers.as_layer(kind=...) validates through the schemas without importing upward.
set_validator(_validate_for_core)
