"""Reader of the INSEE census by sex and age as Melodi publishes it (RP 2023 onwards), two long datasets:

- `DS_RP_POPULATION_PRINC`: one row per (GEO, GEO_OBJECT, AGE, SEX, RP_MEASURE, TIME_PERIOD), seven age bands and
  aggregates, censuses 2023, 2017 and 2012, in a zip holding `DS_RP_POPULATION_PRINC_<année>_data.csv` (`;`) or
  `DS_RP_POPULATION_PRINC_COM.parquet`;
- `DS_RP_TD_POPULATION_AGESEX_PRINC` (« population détaillée par sexe et âge », table POP1): the same columns with
  single years of age `Y0` … `Y99`, `Y_GE100`, for the latest census only, in a zip holding
  `DS_RP_TD_POPULATION_AGESEX_PRINC_<année>_data.csv` (650 Mo, `;`, fields possibly quoted).

Read together (a vintage listing both files), they give the staging tables in the legacy layout: the 15-year
bands by sex and the under-20 and 65-and-over counts of the latest census summed from single years, and the
earlier censuses' totals (population, `Y_LT20`, `Y_GE65`) from PRINC for the change between censuses. Read alone,
PRINC gives its own seven bands. Format and codes: see `diagnostic.sources.rp_pop` and `[rp_pop.preuve]`.

The national file holds every geographic level and is large: the member is read by DuckDB from a temporary
copy (never extracted beside the raw file), filtered to communes and arrondissements, the population measure
and the classes read. Output: the staging tables of `rp_pop` (same schemas and grain).

Not a parser of the registry (no `parse`/`empty`): `rp_pop.parse` calls it for a Melodi zip.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path

import duckdb
import pandas as pd

from . import SourceFormatError, exiger_selection, require_columns, validate
from .lecture import strings, zip_member
from .rp_pop import (AGE_SEXE, AGREGATS_MELODI, BANDES, BANDES_MELODI, COLONNES_MELODI, COMMUNE, MEMBRE_MELODI,
                     NIVEAUX_MELODI, SEXES_MELODI, STATUTS_EXCLUS)

MEMBRE_TD = r"DS_RP_TD_POPULATION_AGESEX_PRINC(_\d{4})?_data\.csv|DS_RP_TD_POPULATION_AGESEX_PRINC(_\d{4})?\.parquet"
COLONNES_TD = ["GEO", "GEO_OBJECT", "AGE", "SEX", "RP_MEASURE", "OBS_VALUE"]
AGE_MAX = 100  # Y_GE100, the last class


def _lecture(con: duckdb.DuckDBPyConnection, chemin: Path, fichier: str, requises=COLONNES_MELODI,
             annee_defaut: str | None = None) -> None:
    """Create the view `brut` over the member (every column as text, `ligne` = line of the file), then `obs`.
    Without a TIME_PERIOD column, the year is `annee_defaut` (from the member's name)."""
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
    require_columns([c for c in colonnes if c != "ligne"], requises, fichier)
    if "TIME_PERIOD" not in colonnes and not annee_defaut:
        require_columns([c for c in colonnes if c != "ligne"], ["TIME_PERIOD"], fichier)
    periode = "left(CAST(TIME_PERIOD AS VARCHAR), 4)" if "TIME_PERIOD" in colonnes else f"'{annee_defaut}'"
    statut = "AND coalesce(CAST(OBS_STATUS AS VARCHAR), '') NOT IN ({})".format(
        ", ".join(f"'{s}'" for s in STATUTS_EXCLUS)) if "OBS_STATUS" in colonnes else ""
    con.execute(f"""
        CREATE VIEW obs AS
        SELECT ligne, trim(CAST(GEO AS VARCHAR)) AS code, CAST(GEO_OBJECT AS VARCHAR) AS niveau, CAST(AGE AS VARCHAR) AS age,
               CAST(SEX AS VARCHAR) AS sexe, CAST(RP_MEASURE AS VARCHAR) AS mesure,
               {periode} AS annee, trim(CAST(OBS_VALUE AS VARCHAR)) AS texte
        FROM brut WHERE true {statut}""")


def _presents(con, colonne: str, filtre: str = "true") -> list[str]:
    """Distinct values of a column of `obs`, from `resume` (one scan of the file for every check)."""
    if not con.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'resume'").fetchone()[0]:
        con.execute("CREATE TEMP TABLE resume AS SELECT DISTINCT niveau, mesure, age, sexe FROM obs")
    return [r[0] for r in con.sql(f"SELECT DISTINCT {colonne} FROM resume WHERE {filtre} AND {colonne} IS NOT NULL").fetchall()]


def _exiger_communes_et_population(con, fichier: str) -> str:
    """Stop unless `obs` holds commune rows (GEO_OBJECT « COM ») and population rows (RP_MEASURE « POP »); return
    the SQL list of the levels kept."""
    niveaux = ", ".join(f"'{n}'" for n in NIVEAUX_MELODI)
    niveaux_lus = _presents(con, "niveau")
    exiger_selection("COM" in niveaux_lus, fichier, "aucune ligne de niveau communal (GEO_OBJECT = « COM »)",
                     niveaux_lus, "niveaux présents (GEO_OBJECT)")
    mesures = _presents(con, "mesure", f"niveau IN ({niveaux})")
    exiger_selection("POP" in mesures, fichier, "aucune ligne de population (RP_MEASURE = « POP »)", mesures,
                     "mesures présentes (RP_MEASURE)")
    return niveaux


def _exiger_nombres(con, filtre: str, fichier: str) -> None:
    """Stop at the first row of `obs` selected by `filtre` whose OBS_VALUE is not a number (file, row, column)."""
    mauvaise = con.sql(f"""
        SELECT ligne, texte FROM obs
        WHERE {filtre} AND texte <> '' AND TRY_CAST(replace(texte, ',', '.') AS DOUBLE) IS NULL
        ORDER BY ligne LIMIT 1""").fetchone()
    if mauvaise:
        raise SourceFormatError(f"Fichier {fichier}, ligne {mauvaise[0]}, colonne 'OBS_VALUE' : valeur non numérique {mauvaise[1]!r}.")


def lire(con: duckdb.DuckDBPyConnection, chemin: Path, fichier: str) -> dict[str, pd.DataFrame]:
    _lecture(con, chemin, fichier)
    niveaux = _exiger_communes_et_population(con, fichier)
    filtre = f"niveau IN ({niveaux}) AND mesure = 'POP'"
    ages = _presents(con, "age", filtre)
    for code in [*AGREGATS_MELODI, *BANDES_MELODI]:
        exiger_selection(code in ages, fichier, f"aucune classe d'âge ne correspond à « {code} »", ages,
                         "classes d'âge présentes (AGE)")
    sexes = _presents(con, "sexe", filtre)
    for code in ["_T", *SEXES_MELODI]:
        exiger_selection(code in sexes, fichier, f"aucun sexe ne correspond à « {code} »", sexes, "sexes présents (SEX)")
    _exiger_nombres(con, filtre, fichier)
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


def _bande(age: str) -> str:
    """SQL: the legacy 15-year band of a single year of age (`age` an integer expression)."""
    bornes = [(int(k[:2]) if k != "90P" else 90, v) for k, v in BANDES.items()]
    cas = " ".join(f"WHEN {age} < {debut + 15} THEN '{v}'" for debut, v in bornes[:-1])
    return f"CASE {cas} ELSE '{bornes[-1][1]}' END"


def lire_td(con: duckdb.DuckDBPyConnection, chemin: Path, fichier: str, annee: str | None) -> dict[str, pd.DataFrame]:
    """The latest census from the single-year table: legacy 15-year bands by sex, and commune totals."""
    _lecture(con, chemin, fichier, COLONNES_TD, annee)
    niveaux = _exiger_communes_et_population(con, fichier)
    filtre = f"niveau IN ({niveaux}) AND mesure = 'POP' AND sexe IN ('M', 'F')"
    ages = _presents(con, "age", filtre)
    for code in [f"Y{a}" for a in range(AGE_MAX)] + [f"Y_GE{AGE_MAX}"]:
        exiger_selection(code in ages, fichier, f"aucun âge ne correspond à « {code} »", ages, "âges présents (AGE)")
    sexes = _presents(con, "sexe", f"niveau IN ({niveaux}) AND mesure = 'POP'")
    for code in SEXES_MELODI:
        exiger_selection(code in sexes, fichier, f"aucun sexe ne correspond à « {code} »", sexes, "sexes présents (SEX)")
    age_sql = f"CASE WHEN age = 'Y_GE{AGE_MAX}' THEN {AGE_MAX} ELSE TRY_CAST(substr(age, 2) AS INTEGER) END"
    filtre += f" AND regexp_full_match(age, 'Y[0-9]+|Y_GE{AGE_MAX}')"
    _exiger_nombres(con, filtre, fichier)
    sexes_sql = " ".join(f"WHEN '{code}' THEN '{s}'" for code, s in SEXES_MELODI.items())
    con.execute(f"""
        CREATE VIEW detail AS
        SELECT annee, code, CASE sexe {sexes_sql} END AS sexe, {age_sql} AS an,
               TRY_CAST(replace(nullif(texte, ''), ',', '.') AS DOUBLE) AS valeur
        FROM obs WHERE {filtre}""")
    age = con.sql(f"""
        SELECT annee, code, sexe, {_bande('an')} AS tranche_age, sum(valeur) AS population
        FROM detail GROUP BY ALL ORDER BY annee, code, sexe, tranche_age""").df()
    commune = con.sql("""
        SELECT annee, code, sum(valeur) AS population, sum(valeur) FILTER (WHERE an < 20) AS pop_0019,
               sum(valeur) FILTER (WHERE an >= 65) AS pop_65p
        FROM detail GROUP BY ALL ORDER BY annee, code""").df()
    return {"stg_rp_pop_age_sexe": age, "stg_rp_pop_commune": commune}


def _copie(path: Path, motif: str, tmp: Path) -> tuple[Path, str]:
    """Copy of the zip member matching `motif` in `tmp` (never beside the raw file), and its name for messages."""
    zf, membre = zip_member(path, motif)
    chemin = tmp / Path(membre).name
    with zf, zf.open(membre) as src, open(chemin, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return chemin, f"{path.name}/{membre}"


def _membres(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            return [n.rsplit("/", 1)[-1] for n in zf.namelist()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceFormatError(f"Fichier {path} illisible comme archive ZIP : {exc}") from exc


def parse_paire(files: list[Path]) -> dict[str, pd.DataFrame]:
    """A vintage of two Melodi zips: DS_RP_TD_POPULATION_AGESEX_PRINC (latest census, single years) and
    DS_RP_POPULATION_PRINC (earlier censuses' totals)."""
    td = [p for p in files if any(re.fullmatch(MEMBRE_TD, n, flags=re.IGNORECASE) for n in _membres(p))]
    princ = [p for p in files if p not in td and any(re.fullmatch(MEMBRE_MELODI, n, flags=re.IGNORECASE) for n in _membres(p))]
    if len(td) != 1 or len(princ) != 1 or len(files) != 2:
        raise SourceFormatError(
            "Recensement au format Melodi : une archive DS_RP_TD_POPULATION_AGESEX_PRINC et une archive "
            f"DS_RP_POPULATION_PRINC attendues, trouvé : {', '.join(p.name for p in files)}.")
    with tempfile.TemporaryDirectory(prefix="rp_melodi-") as tmp:
        chemin, fichier = _copie(td[0], MEMBRE_TD, Path(tmp))
        annee = m.group(1) if (m := re.search(r"_(\d{4})(_data)?\.", chemin.name)) else None
        con = duckdb.connect()
        try:
            dernier = lire_td(con, chemin, fichier, annee)
        finally:
            con.close()
        chemin, fichier_p = _copie(princ[0], MEMBRE_MELODI, Path(tmp))
        con = duckdb.connect()
        try:
            anciens = lire(con, chemin, fichier_p)["stg_rp_pop_commune"]
        finally:
            con.close()
    annees = set(dernier["stg_rp_pop_commune"]["annee"])
    anciens = anciens[~anciens["annee"].isin(annees)].astype({"annee": object, "code": object})
    commune = pd.concat([dernier["stg_rp_pop_commune"], anciens], ignore_index=True)
    return {
        "stg_rp_pop_age_sexe": strings(validate(dernier["stg_rp_pop_age_sexe"][list(AGE_SEXE.columns)], AGE_SEXE, fichier)),
        "stg_rp_pop_commune": strings(validate(commune[list(COMMUNE.columns)], COMMUNE, f"{fichier} + {fichier_p}")),
    }
