"""io/grid.py: read_grid's layers, CRS and square codes (2015 IdINSPIRE, 2019 Idcar_200m)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely import box

from cdv_geo import CRSError, DataValidationError
from cdv_geo.io.grid import grid_values, read_grid, square_ids


def test_csv_with_2015_idinspire_codes(tmp_path) -> None:
    p = tmp_path / "filo2015.csv"
    p.write_text(
        "IdINSPIRE,Id_carr1km,Ind,Ind_0_3\n"
        "CRS3035RES200mN2939800E3835600,CRS3035RES1000mN2939000E3835000,12.5,1\n"
    )
    g = read_grid(p)
    assert g.crs.to_epsg() == 3035
    # lower-left corner (E 3835600, N 2939800), 200 m wide
    assert g.geometry.iloc[0].bounds == (3835600.0, 2939800.0, 3835800.0, 2940000.0)
    assert square_ids(g).tolist() == ["CRS3035RES200mN2939800E3835600"]
    assert grid_values(g, ["ind", "ind_0_3"], str(p)).iloc[0].tolist() == [12.5, 1.0]


def test_layer_and_crs(tmp_path) -> None:
    gpkg = tmp_path / "carreaux.gpkg"
    g = gpd.GeoDataFrame({"Ind": [3.0]}, geometry=[box(0, 0, 200, 200)], crs=2154)
    g.to_file(gpkg, layer="carreaux")
    # an attribute table next to the squares (QGIS styles) does not make the choice ambiguous
    pyogrio.write_dataframe(pd.DataFrame({"style": ["x"]}), gpkg, layer="layer_styles")
    assert read_grid(gpkg)["ind"].tolist() == [3.0]
    g.to_file(gpkg, layer="autres")
    with pytest.raises(DataValidationError, match="layer="):
        read_grid(gpkg)
    assert read_grid(gpkg, layer="autres").attrs["source"].endswith("(layer autres)")
    # crs= only assigns a CRS to a file without one: another CRS than the file's is an error
    assert read_grid(gpkg, layer="carreaux", crs=2154).crs.to_epsg() == 2154
    with pytest.raises(CRSError, match="says its CRS is EPSG:2154"):
        read_grid(gpkg, layer="carreaux", crs=3035)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs(tmp_path) -> None:
    shp = tmp_path / "car_m.shp"
    gpd.GeoDataFrame({"Ind": [3.0]}, geometry=[box(0, 0, 200, 200)]).to_file(shp)
    with pytest.raises(CRSError, match=r"car_m\.shp has no coordinate reference system"):
        read_grid(shp)
    assert read_grid(shp, crs="EPSG:2154").crs.to_epsg() == 2154


def test_the_crs_hint_follows_the_coordinates() -> None:
    import geopandas as gpd
    import pytest
    from shapely import box

    from cdv_geo.core.errors import CRSError
    from cdv_geo.io.grid import require_grid_crs

    # Lambert-93 coordinates with CRS3035 square codes: only EPSG:2154 fits them
    l93 = gpd.GeoDataFrame(
        {"idcar_200m": ["CRS3035RES200mN2990000E3770000"]},
        geometry=[box(728000, 6920000, 728200, 6920200)],
    )
    with pytest.raises(CRSError, match="fit") as err:
        require_grid_crs(l93, None, "carreaux.gpkg")
    assert "EPSG:2154" in str(err.value) and "EPSG:3035" not in str(err.value)
    # LAEA coordinates: only EPSG:3035
    laea = gpd.GeoDataFrame(geometry=[box(3770000, 2990000, 3770200, 2990200)])
    with pytest.raises(CRSError) as err:
        require_grid_crs(laea, None, "carreaux.gpkg")
    assert "EPSG:3035" in str(err.value) and "EPSG:2154" not in str(err.value)
