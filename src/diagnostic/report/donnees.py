"""The report's data, read from the warehouse: the one module of the report stage that queries it.

Each query is a file of ``models/rapport/`` (``REQUETES``) that reads marts only: its ``-- reads:`` line names
stored marts (``mart_*``, built by ``models/marts/``), build metadata (``meta_*``) and the frames the caller
registers (``selection_territoire``…). The secret statistique is applied before (warehouse build), never here.
This module imports nothing from ``report/`` but ``context`` (column names): the rest of ``report/`` may use
it, it never uses the rest.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from .context import SERIES_COLUMNS

# models/rapport/: every query this module runs (and so every query of the report stage)
REQUETES = ("series.sql", "communes.sql", "departements.sql", "pyramide_ages.sql", "etablissements_perimetre.sql")
GEOMETRIE_VALIDE = "geometrie_valide"  # attrs flag: geometries already repaired (``valides``); the maps skip is_valid


def _requete(con, nom: str, **frames: pd.DataFrame) -> pd.DataFrame:
    """The rows of the report query ``models/rapport/<nom>``, with ``frames`` registered under their names."""
    from ..warehouse import MODELS

    if nom not in REQUETES:
        raise ValueError(f"{nom}: not a report query of report/donnees.py")
    for cle, df in frames.items():
        con.register(cle, df)
    try:
        return con.sql((MODELS / "rapport" / nom).read_text(encoding="utf-8")).df()
    finally:
        for cle in frames:
            con.unregister(cle)


def _tables(con) -> set[str]:
    return {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}


def series(con, indicateurs: pd.DataFrame) -> pd.DataFrame:
    """The yearly series (``mart_series``) of the territories of ``indicateurs`` (their names taken from it),
    columns ``SERIES_COLUMNS``. Empty frame when the warehouse has no such table (built before issue 7)."""
    if "mart_series" not in _tables(con):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    df = _requete(con, "series.sql")
    noms = indicateurs[["territoire_type", "territoire_code", "territoire_nom"]].drop_duplicates(["territoire_type", "territoire_code"])
    df = df.merge(noms, on=["territoire_type", "territoire_code"], how="inner")
    return df[SERIES_COLUMNS].sort_values(["indicateur", "territoire_type", "territoire_code", "annee"]).reset_index(drop=True)


def communes(con, departements: list[str]) -> gpd.GeoDataFrame:
    """Communes of the given départements with the figures of the maps and their geometry (WGS 84), from
    ``mart_commune`` (secret statistique applied by the build): code, nom, departement, region, population,
    superficie_km2, apl_mg, nb_mg, nb_mg_secret, niveau_vie_median, statut_niveau_vie_median, taux_pauvrete,
    statut_taux_pauvrete, geometry."""
    from ..geo import from_wkb_frame

    return from_wkb_frame(_requete(con, "communes.sql", _departements=pd.DataFrame({"d": departements})))


def departements(con) -> gpd.GeoDataFrame:
    """Every département's outline (code, nom, geometry; WGS 84), from ``mart_departement``."""
    from ..geo import from_wkb_frame

    return from_wkb_frame(_requete(con, "departements.sql"))


def pyramide_ages(con, selection: pd.DataFrame) -> pd.DataFrame:
    """Census population by sex and age band of the selection's perimeter(s) and département(s), from
    ``mart_age_sexe`` (empty without census)."""
    return _requete(con, "pyramide_ages.sql", selection_territoire=selection)


def etablissements(con, selection: pd.DataFrame) -> pd.DataFrame:
    """FINESS establishments in the communes of the selection's perimeter(s), from ``mart_etablissement``
    (empty without FINESS)."""
    return _requete(con, "etablissements_perimetre.sql", selection_territoire=selection)


def valides(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Geometries repaired once (make_valid) and flagged so (``GEOMETRIE_VALIDE``), so that each map does not
    check them again."""
    bad = gdf.geometry.notna() & ~gdf.geometry.is_valid
    if bad.any():
        gdf.loc[bad, gdf.geometry.name] = gdf.geometry[bad].make_valid()
    gdf.attrs[GEOMETRIE_VALIDE] = True
    return gdf
