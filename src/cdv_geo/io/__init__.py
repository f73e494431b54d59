"""Readers and writers: layers (pyogrio), official QPV perimeters, the BPE, OSM facilities.

Modules: :mod:`~cdv_geo.io.layers` (``read_layer``, ``read_vector``, ``write_layer``,
``atomic_path``), :mod:`~cdv_geo.io.qpv` (``read_qpv``), :mod:`~cdv_geo.io.bpe`
(``read_bpe``), :mod:`~cdv_geo.io.osm` (``facilities_from_osm``) and
:mod:`~cdv_geo.io.actions` (``read_actions``, ``read_tfpb``: the contrat's programme of actions
and the landlords' TFPB statement, from the planners' spreadsheets).
"""

from __future__ import annotations

from cdv_geo.io.actions import read_actions, read_tfpb
from cdv_geo.io.bpe import read_bpe
from cdv_geo.io.layers import (
    AtomicPath,
    assign_crs,
    atomic_path,
    read_layer,
    read_vector,
    write_layer,
)
from cdv_geo.io.osm import facilities_from_osm
from cdv_geo.io.qpv import read_qpv

__all__ = [
    "AtomicPath",
    "assign_crs",
    "atomic_path",
    "facilities_from_osm",
    "read_actions",
    "read_bpe",
    "read_layer",
    "read_qpv",
    "read_tfpb",
    "read_vector",
    "write_layer",
]
