"""One schema per layer kind: fields, types, enumerations, French aliases, and ``validate()``.

The layer kinds are those of a contrat de ville (DESIGN.md): ``quartiers``, ``facilities``,
``renewal_sites``, ``desealed_areas``, ``tree_plantings``, ``residences``, ``green_spaces``,
``streets``, plus ``communes`` (the town outline and population, the reference of the
indicators).

Canonical field names are English snake_case. Input files may use French names (``nom``,
``type``, ``nb_logements``...) whatever their case and style, and French values
(``aire_de_jeux_d_eau``, ``démolition``...): :func:`validate` renames and translates them,
checks every feature and raises **one** :class:`~cdv_geo.DataValidationError` listing every
problem of the layer.

Modules: :mod:`~cdv_geo.schema.fields` (``Field``, ``LayerSchema``),
:mod:`~cdv_geo.schema.enums` (kinds, French aliases, labels), :mod:`~cdv_geo.schema.layers`
(``SCHEMAS``), :mod:`~cdv_geo.schema.values` (French numbers, typed columns),
:mod:`~cdv_geo.schema.problems` and :mod:`~cdv_geo.schema.validate`; the contrat's actions and
the TFPB statement (spreadsheets, not layers): :mod:`~cdv_geo.schema.actions` (``PILLARS``,
``TFPB_AXES``, ``Programme``) and :mod:`~cdv_geo.schema.actions_validate`
(``validate_actions``).
"""

from __future__ import annotations

from cdv_geo.schema.actions import (
    ACTION_FIELDS,
    ACTION_STATUSES,
    PILLARS,
    TFPB_AXES,
    TFPB_FIELDS,
    Programme,
)
from cdv_geo.schema.actions_validate import validate_actions
from cdv_geo.schema.enums import (
    FACILITY_ALIASES,
    FACILITY_KINDS,
    HOUSING_ALIASES,
    HOUSING_TYPES,
    INCIDENT_TYPE_ALIASES,
    INCIDENT_TYPES,
    KIND_CATEGORIES,
    KIND_LABELS,
    OPERATION_ALIASES,
    OPERATIONS,
    SITE_TYPE_ALIASES,
    SITE_TYPES,
    STATUS_ALIASES,
    STATUSES,
    TENURE_ALIASES,
    TENURES,
    compact_token,
    facility_kind,
    kind_label,
    normalize_token,
    register_kind_labels,
)
from cdv_geo.schema.fields import YEAR_MAX, YEAR_MIN, Field, FieldType, LayerSchema
from cdv_geo.schema.layers import (
    CODE_ID_KINDS,
    ID_ALIASES,
    LAYER_KINDS,
    SCHEMAS,
    describe,
    empty_layer,
)
from cdv_geo.schema.problems import group_problems, numeric_columns
from cdv_geo.schema.validate import make_valid_keep_dimension, validate
from cdv_geo.schema.values import convert_value, is_missing, parse_number, typed_series

__all__ = [
    "ACTION_FIELDS",
    "ACTION_STATUSES",
    "CODE_ID_KINDS",
    "FACILITY_ALIASES",
    "FACILITY_KINDS",
    "HOUSING_ALIASES",
    "HOUSING_TYPES",
    "ID_ALIASES",
    "INCIDENT_TYPES",
    "INCIDENT_TYPE_ALIASES",
    "KIND_CATEGORIES",
    "KIND_LABELS",
    "LAYER_KINDS",
    "OPERATIONS",
    "OPERATION_ALIASES",
    "PILLARS",
    "SCHEMAS",
    "SITE_TYPES",
    "SITE_TYPE_ALIASES",
    "STATUSES",
    "STATUS_ALIASES",
    "TENURES",
    "TENURE_ALIASES",
    "TFPB_AXES",
    "TFPB_FIELDS",
    "YEAR_MAX",
    "YEAR_MIN",
    "Field",
    "FieldType",
    "LayerSchema",
    "Programme",
    "compact_token",
    "convert_value",
    "describe",
    "empty_layer",
    "facility_kind",
    "group_problems",
    "is_missing",
    "kind_label",
    "make_valid_keep_dimension",
    "normalize_token",
    "numeric_columns",
    "parse_number",
    "register_kind_labels",
    "typed_series",
    "validate",
    "validate_actions",
]
