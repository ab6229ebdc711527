"""Parser of the france-geojson contours (IGN ADMIN EXPRESS simplified, COG 2018).

Grain: `communes` one row per 2018 commune polygon (code, nom, geometry, WGS 84);
`departements` one row per département outline. Harmonisation to the target COG happens in the warehouse.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, require_columns, validate
from .cog import CODE_COMMUNE
from .memo import lu_une_fois

CONTOURS = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE), unique=True),
        "nom": pa.Column(str),
    },
    name="contours",
)
DEP_CONTOURS = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$"), unique=True),
        "nom": pa.Column(str),
    },
    name="contours_departements",
)


def _read(path: Path) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise SourceFormatError(f"Fichier {path} illisible comme GeoJSON : {exc}") from exc
    require_columns(gdf.columns, ["code", "nom", "geometry"], path)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    return gdf[["code", "nom", "geometry"]].to_crs(4326)


@lu_une_fois  # read when downloaded (check_file), then taken by the build
def _communes(path: Path, *, fichier: Path | str | None = None) -> gpd.GeoDataFrame:
    """One communes-*.geojson file, read and validated (``fichier``: its name in error messages)."""
    return validate(_read(path), CONTOURS, fichier or path)


def parse_communes(paths: list[Path]) -> gpd.GeoDataFrame:
    frames = [_communes(path) for path in paths]
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    dup = gdf["code"][gdf["code"].duplicated()]
    if len(dup):
        raise SourceFormatError(f"Contours : code(s) commune présent(s) dans plusieurs fichiers : {', '.join(dup.unique()[:10])}")
    return gdf


def parse(folder: Path, spec: dict | None = None) -> dict[str, gpd.GeoDataFrame]:
    communes = sorted(folder.glob("communes-*.geojson"))
    if not communes:
        raise SourceFormatError(f"Aucun fichier communes-*.geojson dans {folder}")
    deps = folder / "departements-avec-outre-mer.geojson"
    return {
        "geo_commune_2018": parse_communes(communes),
        "geo_departement": validate(_read(deps), DEP_CONTOURS, deps),
    }


def check_file(path: Path, *, name: str, spec: dict | None = None) -> None:
    """Parse one downloaded file as the file it replaces (raises SourceFormatError)."""
    if name.startswith("communes-"):
        _communes(path, fichier=name)
    else:
        validate(_read(path), DEP_CONTOURS, name)


def tables(spec: dict | None = None) -> dict:
    """No staging table: the outlines are geometries (geo_*), built by the Python step; a required source."""
    return {}


PROPRIETES = ["code", "nom"]  # properties of each feature the parser reads (checked by `diagnostic verifier`)
