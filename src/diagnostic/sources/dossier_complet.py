"""Parser of INSEE's « Dossier complet » commune base (`dossier_complet.zip`, member `dossier_complet.csv`).

Format: `;`-separated, one row per commune (`CODGEO`), about 1 900 variables named as in INSEE's dictionary
`meta_dossier_complet.csv` (realdata/insee-dictionnaires, géographie au 01/01/2024: RP 2021, état civil
DECESD14…DECESD23); census variables are weighted estimates with a fractional part (never rounded here), deaths
are whole counts. Third-party code reads it with `read_delim("dossier_complet.csv", ";")` and
`usecols=["CODGEO", …, "P22_CHOM1564", "P22_ACT1564"]`: the year of the census is in the names (`P21_`,
`C21_`), given by the registry (`annee`); the deaths years too (`deces`).

Only the variables of the social indicators and of mortality are read (the dictionary names them):
P21_POP, P21_POP80P, P21_POP80P_PSEUL, C21_FAM, C21_FAMMONO, P21_ACT1564, P21_CHOM1564, P21_NSCOL15P,
P21_NSCOL15P_DIPLMIN, P21_NSCOL15P_BEPC and DECESDyy for the pooled years; and the population by sex and age
band (P21_H0014 … P21_H90P, P21_F0014 … P21_F90P, P21_H1564, P21_F1564), the denominators of the comparative
mortality index (`etatcivil_deces`). An empty cell is a missing value (NULL), never a zero.

Grain: `stg_dossier_complet_commune` and `stg_dossier_complet_age_sexe` one row per (millesime, code) — codes of
the file's own geography.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, require_columns, validate
from .cog import CODE_COMMUNE
from .lecture import numbers, read_table, single_file, strings, zip_member

MEMBRE = r"dossier_complet\.csv"  # the member of the zip read

# staging column -> file variable, `{a}` being the census year on two digits
RECENSEMENT = {
    "population": "P{a}_POP",
    "pop_80p": "P{a}_POP80P",
    "pop_80p_seule": "P{a}_POP80P_PSEUL",
    "familles": "C{a}_FAM",
    "familles_monoparentales": "C{a}_FAMMONO",
    "actifs_1564": "P{a}_ACT1564",
    "chomeurs_1564": "P{a}_CHOM1564",
    "nscol_15p": "P{a}_NSCOL15P",
    "nscol_15p_diplmin": "P{a}_NSCOL15P_DIPLMIN",
    "nscol_15p_bepc": "P{a}_NSCOL15P_BEPC",
}

# population by sex and age band: staging column -> file variable (bands of the census; 15-64 to split 60-74 at 65)
AGE_SEXE = {f"{s.lower()}{b.lower()}": f"P{{a}}_{s}{b}" for s in "HF"
            for b in ("0014", "1529", "3044", "4559", "6074", "7589", "90P", "1564")}

POPULATION_AGE_SEXE = pa.DataFrameSchema(
    {
        "millesime": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        **{c: pa.Column(float, pa.Check.ge(0), nullable=True) for c in AGE_SEXE},
    },
    unique=["millesime", "code"],
    strict=True,
    name="dossier_complet_age_sexe",
)

DOSSIER = pa.DataFrameSchema(
    {
        "millesime": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        **{c: pa.Column(float, pa.Check.ge(0), nullable=True) for c in RECENSEMENT},
        "deces": pa.Column(float, pa.Check.ge(0), nullable=True),
        "annees_deces": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{4}$")),
    },
    unique=["millesime", "code"],
    strict=True,
    name="dossier_complet",
)


def variables(annee: str, deces: list[str]) -> dict[str, str]:
    a = annee[-2:]
    return {col: var.format(a=a) for col, var in RECENSEMENT.items()} | {f"deces_{y}": f"DECESD{y[-2:]}" for y in deces}


def variables_age_sexe(annee: str) -> dict[str, str]:
    return {col: var.format(a=annee[-2:]) for col, var in AGE_SEXE.items()}


def lire(data: bytes, fichier: str, annee: str, deces: list[str]) -> pd.DataFrame:
    """The file's columns the parser reads (text cells), each one required."""
    noms = [*variables(annee, deces).values(), *variables_age_sexe(annee).values()]
    df = read_table(data, fichier, sep=";", usecols=lambda c: c.strip() in {"CODGEO", *noms})
    require_columns(df.columns, ["CODGEO", *noms], fichier)
    return df


def parse_age_sexe(df: pd.DataFrame, fichier: str, annee: str) -> pd.DataFrame:
    """Population by sex and age band of each row (weighted, fractional, never rounded)."""
    out = pd.DataFrame({"millesime": annee, "code": df["CODGEO"].str.strip()})
    for col, var in variables_age_sexe(annee).items():
        out[col] = numbers(df, var, fichier, row_offset=2)[0]
    return strings(validate(out, POPULATION_AGE_SEXE, fichier, row_offset=2))


def parse_csv(data: bytes | pd.DataFrame, fichier: str, annee: str, deces: list[str]) -> pd.DataFrame:
    noms = variables(annee, deces)
    df = data if isinstance(data, pd.DataFrame) else lire(data, fichier, annee, deces)
    out = pd.DataFrame({"millesime": annee, "code": df["CODGEO"].str.strip()})
    for col, var in noms.items():
        out[col] = numbers(df, var, fichier, row_offset=2)[0]
    morts = out[[f"deces_{y}" for y in deces]]
    fraction = (morts % 1).fillna(0) != 0
    if fraction.any().any():
        i, j = fraction.stack()[fraction.stack()].index[0]
        raise SourceFormatError(f"Fichier {fichier}, ligne {i + 2}, colonne {noms[j]!r} : nombre de décès non entier.")
    out["deces"] = morts.sum(axis=1, min_count=len(deces)).where(morts.notna().all(axis=1))
    out["annees_deces"] = f"{deces[0]}-{deces[-1]}"
    out = out.drop(columns=list(morts.columns))
    return strings(validate(out, DOSSIER, fichier, row_offset=2))


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `annee` = census year (P21_…), `deces` = the pooled years of
    deaths by commune of residence (DECESDyy), five consecutive years."""
    try:
        annee, deces = str(spec["annee"]), [str(y) for y in spec["deces"]]
    except KeyError as exc:
        raise SourceFormatError(f"Registre des sources : clé {exc} manquante pour le dossier complet.") from None
    path = single_file(folder, "zip du dossier complet")
    zf, member = zip_member(path, MEMBRE)
    with zf:
        data = zf.read(member)
    fichier = f"{path.name}/{member}"
    df = lire(data, fichier, annee, deces)
    return {"stg_dossier_complet_commune": parse_csv(df, fichier, annee, deces),
            "stg_dossier_complet_age_sexe": parse_age_sexe(df, fichier, annee)}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_dossier_complet_commune": DOSSIER, "stg_dossier_complet_age_sexe": POPULATION_AGE_SEXE}
