"""Reader of the INSEE census by sex and age as Melodi publishes it (RP 2023 onwards): the long dataset
`DS_RP_POPULATION_PRINC`, one row per (GEO, GEO_OBJECT, AGE, SEX, RP_MEASURE, TIME_PERIOD), in a zip holding
either `DS_RP_POPULATION_PRINC_<année>_data.csv` (`;`) or `DS_RP_POPULATION_PRINC_COM.parquet`. Format and codes:
see `diagnostic.sources.rp_pop` and the registry's `[rp_pop.preuve]`.

The national file holds every geographic level and is large: the member is read by DuckDB from a temporary
copy (never extracted beside the raw file), filtered to communes and arrondissements, the population measure
and the classes read. Output: the staging tables of `rp_pop` (same schemas and grain).

Not a parser of the registry (no `parse`/`empty`): `rp_pop.parse` calls it for a Melodi zip.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from . import SourceFormatError, exiger_selection, require_columns, validate
from .lecture import strings, zip_member
from .rp_pop import (AGE_SEXE, AGREGATS_MELODI, BANDES_MELODI, COLONNES_MELODI, COMMUNE, MEMBRE_MELODI,
                     NIVEAUX_MELODI, SEXES_MELODI, STATUTS_EXCLUS)


def _lecture(con: duckdb.DuckDBPyConnection, chemin: Path, fichier: str) -> None:
    """Create the view `brut` over the member (every column as text, `ligne` = line of the file)."""
    if chemin.suffix.lower() == ".parquet":
        source = f"read_parquet('{chemin}')"
    else:
        source = f"read_csv('{chemin}', delim=';', header=true, all_varchar=true, quote='\"')"
        try:
            con.sql(f"SELECT * FROM {source} LIMIT 1").fetchall()
        except duckdb.Error:  # not UTF-8: the latin-1 the producer's older files use
            source = source[:-1] + ", encoding='latin-1')"
    try:
        con.execute(f"CREATE VIEW brut AS SELECT row_number() OVER () + 1 AS ligne, * FROM {source}")
        colonnes = [r[0] for r in con.sql("SELECT column_name FROM (DESCRIBE brut)").fetchall()]
    except duckdb.Error as exc:
        raise SourceFormatError(f"Fichier {fichier} illisible : {exc}") from None
    require_columns([c for c in colonnes if c != "ligne"], COLONNES_MELODI, fichier)
    statut = "AND coalesce(CAST(OBS_STATUS AS VARCHAR), '') NOT IN ({})".format(
        ", ".join(f"'{s}'" for s in STATUTS_EXCLUS)) if "OBS_STATUS" in colonnes else ""
    con.execute(f"""
        CREATE VIEW obs AS
        SELECT ligne, trim(CAST(GEO AS VARCHAR)) AS code, CAST(GEO_OBJECT AS VARCHAR) AS niveau, CAST(AGE AS VARCHAR) AS age,
               CAST(SEX AS VARCHAR) AS sexe, CAST(RP_MEASURE AS VARCHAR) AS mesure,
               left(CAST(TIME_PERIOD AS VARCHAR), 4) AS annee, trim(CAST(OBS_VALUE AS VARCHAR)) AS texte
        FROM brut WHERE true {statut}""")


def _presents(con, colonne: str, filtre: str = "true") -> list[str]:
    return [r[0] for r in con.sql(f"SELECT DISTINCT {colonne} FROM obs WHERE {filtre} AND {colonne} IS NOT NULL").fetchall()]


def lire(con: duckdb.DuckDBPyConnection, chemin: Path, fichier: str) -> dict[str, pd.DataFrame]:
    _lecture(con, chemin, fichier)
    niveaux = ", ".join(f"'{n}'" for n in NIVEAUX_MELODI)
    niveaux_lus = _presents(con, "niveau")
    exiger_selection("COM" in niveaux_lus, fichier, "aucune ligne de niveau communal (GEO_OBJECT = « COM »)",
                     niveaux_lus, "niveaux présents (GEO_OBJECT)")
    mesures = _presents(con, "mesure", f"niveau IN ({niveaux})")
    exiger_selection("POP" in mesures, fichier, "aucune ligne de population (RP_MEASURE = « POP »)", mesures,
                     "mesures présentes (RP_MEASURE)")
    filtre = f"niveau IN ({niveaux}) AND mesure = 'POP'"
    ages = _presents(con, "age", filtre)
    for code in [*AGREGATS_MELODI, *BANDES_MELODI]:
        exiger_selection(code in ages, fichier, f"aucune classe d'âge ne correspond à « {code} »", ages,
                         "classes d'âge présentes (AGE)")
    sexes = _presents(con, "sexe", filtre)
    for code in ["_T", *SEXES_MELODI]:
        exiger_selection(code in sexes, fichier, f"aucun sexe ne correspond à « {code} »", sexes, "sexes présents (SEX)")
    mauvaise = con.sql(f"""
        SELECT ligne, texte FROM obs
        WHERE {filtre} AND texte <> '' AND TRY_CAST(replace(texte, ',', '.') AS DOUBLE) IS NULL
        ORDER BY ligne LIMIT 1""").fetchone()
    if mauvaise:
        raise SourceFormatError(f"Fichier {fichier}, ligne {mauvaise[0]}, colonne 'OBS_VALUE' : valeur non numérique {mauvaise[1]!r}.")
    con.execute(f"""
        CREATE VIEW pop AS
        SELECT annee, code, age, sexe, TRY_CAST(replace(nullif(texte, ''), ',', '.') AS DOUBLE) AS valeur
        FROM obs WHERE {filtre}""")
    agregats = ", ".join(f"max(valeur) FILTER (WHERE age = '{code}' AND sexe = '_T') AS {nom}"
                         for code, nom in AGREGATS_MELODI.items())
    commune = con.sql(f"SELECT annee, code, {agregats} FROM pop GROUP BY annee, code ORDER BY annee, code").df()
    bandes = " ".join(f"WHEN '{code}' THEN '{t}'" for code, t in BANDES_MELODI.items())
    sexes_sql = " ".join(f"WHEN '{code}' THEN '{s}'" for code, s in SEXES_MELODI.items())
    age = con.sql(f"""
        SELECT annee, code, CASE sexe {sexes_sql} END AS sexe, CASE age {bandes} END AS tranche_age, valeur AS population
        FROM pop
        WHERE age IN ({", ".join(f"'{c}'" for c in BANDES_MELODI)}) AND sexe IN ({", ".join(f"'{c}'" for c in SEXES_MELODI)})
        ORDER BY annee, code, sexe, tranche_age""").df()
    return {
        "stg_rp_pop_age_sexe": strings(validate(age[list(AGE_SEXE.columns)], AGE_SEXE, fichier)),
        "stg_rp_pop_commune": strings(validate(commune[list(COMMUNE.columns)], COMMUNE, fichier)),
    }


def parse_melodi(path: Path) -> dict[str, pd.DataFrame]:
    """The staging tables of `rp_pop` from a Melodi zip (`path`)."""
    zf, membre = zip_member(path, MEMBRE_MELODI)
    fichier = f"{path.name}/{membre}"
    with zf, tempfile.TemporaryDirectory(prefix="rp_melodi-") as tmp:
        chemin = Path(tmp) / Path(membre).name
        with zf.open(membre) as src, open(chemin, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        con = duckdb.connect()
        try:
            return lire(con, chemin, fichier)
        finally:
            con.close()
