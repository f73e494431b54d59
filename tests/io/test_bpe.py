"""read_bpe on a generated file in the real BPE format (';', quotes, BOM, CRLF)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Transformer

from cdv_geo import CdvGeoWarning, DataValidationError
from cdv_geo.io.bpe import (
    BPE_INTERMEDIATE,
    BPE_PROXIMITY,
    BPE_SUPERIOR,
    PROXIMITY_KINDS,
    bpe_kind,
    read_bpe,
)
from cdv_geo.io.bpe_types import BPE_TYPES
from cdv_geo.schema import kind_label

HEADER = ["AN", "REG", "DEP", "DEPCOM", "DCIRIS", "QP", "TYPEQU", "LAMBERT_X", "LAMBERT_Y",
          "QUALITE_XY"]  # fmt: skip
ROWS = [
    [
        "2021",
        "32",
        "02",
        "02722",
        "027220105",
        "QP002012",
        "D307",
        "728431.2",
        "6920812.5",
        "Bonne",
    ],
    ["2021", "32", "02", "02722", "027220106", "QP002014", "D108", "729900", "6921400", "Bonne"],
    ["2021", "32", "02", "02722", "027220101", "HZ", "A101", "727500", "6920100", "Acceptable"],
    ["2021", "32", "02", "02722", "027220106", "QP002014", "F121", "729950", "6921380", "Bonne"],
    ["2021", "32", "02", "02722", "027220103", "HZ", "A206", "728000", "6920500", "Bonne"],
    ["2021", "32", "02", "02722", "027220103", "HZ", "A501", "728010", "6920510", "Bonne"],
    ["2021", "32", "02", "02722", "027220103", "HZ", "D201", "", "", "Non géolocalisé"],
    ["2021", "32", "02", "02064", "020640000", "CSZ", "D307", "730500", "6919000", "Bonne"],
]


def bpe_file(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    lines = [";".join(f'"{v}"' for v in r) for r in [header, *rows]]
    path = tmp_path / "bpe21_ensemble_xy.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_read_bpe_soissons(tmp_path: Path) -> None:
    path = bpe_file(tmp_path, ROWS)
    with pytest.warns(CdvGeoWarning, match=r"left out 1 of 7 rows without usable coordinates"):
        fac = read_bpe(path, communes=["02722"])
    assert fac.crs.to_epsg() == 2154
    assert list(fac["typequ"]) == ["D307", "D108", "A101", "F121", "A206", "A501"]
    # the seed's services land on known kinds; a hairdresser keeps a kind of its own
    assert list(fac["kind"]) == [
        "pharmacy", "health_centre", "police", "sports", "post_office", "coiffure",
    ]  # fmt: skip
    assert list(fac["name"]) == [
        "Pharmacie", "Centre de santé", "Police", "Salles multisports (gymnases)",
        "Bureau de poste", "Coiffure",
    ]  # fmt: skip
    assert fac.geometry.iloc[0].x == 728431.2 and fac.geometry.iloc[0].y == 6920812.5
    assert list(fac["qpv"]) == ["QP002012", "QP002014", "", "QP002014", "", ""]
    assert fac["bpe_domain"].iloc[0] == "Santé et action sociale"
    assert fac["bpe_subdomain"].iloc[3] == "Équipements sportifs"
    assert fac["bpe_range"].iloc[0] == "proximite"
    assert set(fac["commune"]) == {"02722"}
    assert fac.attrs["kind"] == "facilities" and fac["id"].is_unique
    assert kind_label("coiffure") == "Coiffure"


def test_read_bpe_filters_types_by_code_domain_or_kind(tmp_path: Path) -> None:
    path = bpe_file(tmp_path, [r for r in ROWS if r[8]])
    assert list(read_bpe(path, types=["D307"])["commune"]) == ["02722", "02064"]
    assert list(read_bpe(path, types="pharmacy", communes=["02064"])["typequ"]) == ["D307"]
    assert list(read_bpe(path, types=["D"])["typequ"]) == ["D307", "D108", "D307"]
    assert list(read_bpe(path, types=["F1", "A101"])["kind"]) == ["police", "sports"]
    with pytest.raises(DataValidationError, match=r"types=\['zoo'\] are neither BPE type codes"):
        read_bpe(path, types=["zoo"])
    with pytest.raises(DataValidationError, match="no BPE row left after filtering"):
        read_bpe(path, communes=["75056"])


def test_read_bpe_overseas_and_epsg_column(tmp_path: Path) -> None:
    reunion = [
        "2021",
        "04",
        "974",
        "97411",
        "974110000",
        "HZ",
        "D307",
        "338000",
        "7688000",
        "Bonne",
    ]
    path = bpe_file(tmp_path, [reunion])
    fac = read_bpe(path)
    assert fac.crs.to_epsg() == 2975  # UTM 40 S, the BPE's projection for La Réunion
    mixed = bpe_file(tmp_path, [[*ROWS[0], "2154"], [*reunion, "2975"]], [*HEADER, "EPSG"])
    fac = read_bpe(mixed)
    assert fac.crs.to_epsg() == 2154
    x, y = Transformer.from_crs(2975, 2154, always_xy=True).transform(338000, 7688000)
    assert fac.geometry.iloc[1].x == pytest.approx(x) and fac.geometry.iloc[1].y == pytest.approx(y)


def test_read_bpe_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "not_bpe.csv"
    path.write_text('"DEPCOM";"NB"\n"02722";"3"\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_bpe(path)
    assert "not_bpe.csv" in str(info.value)
    assert "columns TYPEQU, LAMBERT_X, LAMBERT_Y are missing" in str(info.value)
    nothing = bpe_file(tmp_path, [ROWS[6]])
    with (
        pytest.raises(DataValidationError, match="none of the 1 BPE rows has coordinates"),
        pytest.warns(CdvGeoWarning),
    ):
        read_bpe(nothing)
    with pytest.raises(DataValidationError, match="file does not exist"):
        read_bpe(tmp_path / "missing.csv")


def test_ranges_and_kinds() -> None:
    assert len(BPE_TYPES) == 188  # the 2021 nomenclature
    ranges = [BPE_PROXIMITY, BPE_INTERMEDIATE, BPE_SUPERIOR]
    assert all(r <= set(BPE_TYPES) for r in ranges)
    assert not (BPE_PROXIMITY & BPE_INTERMEDIATE or BPE_PROXIMITY & BPE_SUPERIOR)
    assert not BPE_INTERMEDIATE & BPE_SUPERIOR
    assert {"pharmacy", "doctor", "school", "post_office"} <= PROXIMITY_KINDS
    assert bpe_kind("d307") == "pharmacy" and bpe_kind("Z999") == "bpe_z999"
