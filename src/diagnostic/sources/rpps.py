"""Parser of the Annuaire Santé open extraction (ANS, RPPS): `PS_LibreAcces_Personne_activite`.

Pipe-separated (`|`), UTF-8 (older extractions latin-1: detected), one header row, a trailing `|` on
every line. One row per (practitioner, activity): a practitioner with several practice sites has several
rows. Kept: the six professions of the diagnostic (médecins 10, pharmaciens 21, chirurgiens-dentistes 40,
sages-femmes 50, infirmiers 60, masseurs-kinésithérapeutes 70), every mode of practice.

Grain: `stg_rpps_activite` one row per row of the file kept. `identifiant` = « Identification nationale
PP » (type + number: RPPS or ADELI), `code_commune` = « Code commune (coord. structure) » of the practice
site (can be an arrondissement municipal, or empty), `savoir_faire_mg` = the row's savoir-faire is one of
general practice (registry option `savoir_faire_mg`, default SM26, SM53, SM54).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, require_columns, validate
from .lecture import empty_frame, header, read_table, single_file, strings

PROFESSIONS = {"10": "médecin", "21": "pharmacien", "40": "chirurgien-dentiste", "50": "sage-femme",
               "60": "infirmier", "70": "masseur-kinésithérapeute"}
SAVOIR_FAIRE_MG = ["SM26", "SM53", "SM54"]  # (Qualifié / Spécialiste en) Médecine générale
COLUMNS = {
    "Identification nationale PP": "identifiant",
    "Code profession": "code_profession",
    "Code type savoir-faire": "code_type_savoir_faire",
    "Code savoir-faire": "code_savoir_faire",
    "Code mode exercice": "code_mode_exercice",
    "Code secteur d'activité": "code_secteur",
    "Code commune (coord. structure)": "code_commune",
}

ACTIVITE = pa.DataFrameSchema(
    {
        "identifiant": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{6,14}$")),
        "code_profession": pa.Column(str, pa.Check.isin(list(PROFESSIONS))),
        "code_type_savoir_faire": pa.Column(str, nullable=True),
        "code_savoir_faire": pa.Column(str, nullable=True),
        "savoir_faire_mg": pa.Column(bool),
        "code_mode_exercice": pa.Column(str, nullable=True),
        "code_secteur": pa.Column(str, nullable=True),
        "code_commune": pa.Column(str, pa.Check.str_matches(r"^(\d{5}|2[AB]\d{3})$"), nullable=True),
    },
    strict=True,
    name="rpps_activite",
)


def parse_file(path: Path, savoir_faire_mg: list[str], fichier: str | None = None) -> pd.DataFrame:
    fichier = fichier or str(path)
    require_columns(header(path, fichier, sep="|"), list(COLUMNS), fichier)
    raw = read_table(path, fichier, sep="|", usecols=list(COLUMNS), quoting=csv.QUOTE_NONE)
    raw = raw.rename(columns=COLUMNS).apply(lambda s: s.str.strip())
    keep = raw["code_profession"].isin(list(PROFESSIONS))
    df = raw[keep]
    df = df.mask(df.eq(""), None)
    df.insert(4, "savoir_faire_mg", df["code_savoir_faire"].isin(savoir_faire_mg).astype(bool))
    df = df[list(ACTIVITE.columns)]
    medecins = df["code_profession"].eq("10")
    if medecins.any() and not df.loc[medecins, "savoir_faire_mg"].any():
        raise SourceFormatError(
            f"Fichier {fichier} : aucun médecin avec un savoir-faire de médecine générale ({', '.join(savoir_faire_mg)}) ; "
            "les savoir-faire ont peut-être été déplacés dans le fichier PS_LibreAcces_SavoirFaire. Le format a-t-il changé ?"
        )
    return strings(validate(df, ACTIVITE, fichier, row_offset=2))  # index = position in the file: line = index + 2


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; optional `savoir_faire_mg` (codes of general practice)."""
    codes = list((spec or {}).get("savoir_faire_mg", SAVOIR_FAIRE_MG))
    path = single_file(folder, "d'extraction de l'Annuaire Santé")
    return {"stg_rpps_activite": parse_file(path, codes, path.name)}


def empty() -> dict[str, pd.DataFrame]:
    return {"stg_rpps_activite": empty_frame(ACTIVITE)}
