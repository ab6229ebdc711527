"""Geometry: harmonise the 2018 commune polygons to the target COG, compute areas, and read
stored geometry back. Geometry is parsed from GeoJSON once, at build time, and stored as WKB
in the warehouse (tables `geo_commune`, `geo_departement`, WGS 84)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

# Equal-distance projections used for areas and maps, by département (metropolitan France: Lambert-93).
CRS_OUTRE_MER = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
CRS_METROPOLE = 2154


def crs_for(departement: str) -> int:
    return CRS_OUTRE_MER.get(departement, CRS_METROPOLE)


def departement_of(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def harmonise(polygons: gpd.GeoDataFrame, passage: pd.DataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Map 2018 polygons to current communes and dissolve those merged since.

    Returns (geo_commune with code, superficie_km2, geometry in WGS 84; polygon codes with no current commune).
    """
    merged = polygons.merge(passage, left_on="code", right_on="code_source", how="left")
    unknown = merged.loc[merged["code_commune"].isna(), ["code", "nom"]].reset_index(drop=True)
    merged = merged[merged["code_commune"].notna()]
    sizes = merged.groupby("code_commune")["code"].transform("size")
    single = merged.loc[sizes.eq(1), ["code_commune", "geometry"]]
    multi = merged.loc[sizes.gt(1), ["code_commune", "geometry"]]
    dissolved = [
        (code, shapely.union_all(shapely.make_valid(np.asarray(group.geometry.values))))
        for code, group in multi.groupby("code_commune")
    ]
    geo = gpd.GeoDataFrame(
        pd.concat([single, pd.DataFrame(dissolved, columns=["code_commune", "geometry"])], ignore_index=True),
        geometry="geometry",
        crs=polygons.crs,
    ).rename(columns={"code_commune": "code"})
    geo["superficie_km2"] = areas_km2(geo)
    return geo[["code", "superficie_km2", "geometry"]], unknown


def areas_km2(geo: gpd.GeoDataFrame) -> pd.Series:
    """Area of each geometry in km², each computed in the projection of its département."""
    deps = geo["code"].map(departement_of).map(crs_for)
    out = pd.Series(np.nan, index=geo.index)
    for epsg, idx in geo.groupby(deps).groups.items():
        out.loc[idx] = geo.loc[idx].geometry.to_crs(epsg).area / 1e6
    return out


def to_wkb_frame(geo: gpd.GeoDataFrame, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({**{c: geo[c].values for c in columns}, "geom": shapely.to_wkb(geo.geometry.values)})


def from_wkb_frame(df: pd.DataFrame, crs: int = 4326) -> gpd.GeoDataFrame:
    geometry = shapely.from_wkb([bytes(b) for b in df.pop("geom")])
    return gpd.GeoDataFrame(df, geometry=geometry, crs=crs)
