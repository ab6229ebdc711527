"""Parser of the Annuaire Santé open extraction (ANS, RPPS): `PS_LibreAcces_Personne_activite`.

Pipe-separated (`|`), UTF-8 (older extractions latin-1: detected), one header row, a trailing `|` on
every line (header included). Two layouts are seen in third-party code that reads the live file: 52 named
columns (up to « Libellé section tableau pharmaciens »; a verbatim row of 52 fields + trailing `|`), and 56
named columns, the header « as published on 8 October 2026 », adding « Code rôle », « Libellé rôle »,
« Code genre activité », « Libellé genre activité ». Columns are read by name: both layouts read the same; a
header that names neither layout's columns is refused, as is a row whose field count differs from the header. One row per (practitioner, activity): a practitioner with several practice sites has several
rows. Kept: the six professions of the diagnostic (médecins 10, pharmaciens 21, chirurgiens-dentistes 40,
sages-femmes 50, infirmiers 60, masseurs-kinésithérapeutes 70), every mode of practice.

Grain: `stg_rpps_activite` one row per row of the file kept (exact duplicate rows included: the models count
DISTINCT practitioners and sites). `identifiant` = « Identification nationale
PP » (type + number: RPPS or ADELI), `code_commune` = « Code commune (coord. structure) » of the practice
site (can be an arrondissement municipal, or empty), `savoir_faire_mg` = the row's savoir-faire is one of
general practice (registry option `savoir_faire_mg`, default SM26, SM53, SM54). The directory of actors
(`annuaire.py`) also reads the published names, labels, practice-site name, address and contact fields.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, require_columns, validate
from .lecture import header, read_table, single_file, strings

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
# Fields of the directory of actors (published by the extract; names stay out of the PDF / HTML / DOCX).
ANNUAIRE = {
    "Libellé civilité d'exercice": "civilite_exercice",
    "Nom d'exercice": "nom",
    "Prénom d'exercice": "prenom",
    "Libellé profession": "libelle_profession",
    "Libellé savoir-faire": "libelle_savoir_faire",
    "Libellé mode exercice": "libelle_mode_exercice",
    "Numéro FINESS site": "finess_site",
    "Raison sociale site": "raison_sociale_site",
    "Enseigne commerciale site": "enseigne_site",
    "Code postal (coord. structure)": "code_postal",
    "Libellé commune (coord. structure)": "libelle_commune",
    "Téléphone (coord. structure)": "telephone",
    "Téléphone 2 (coord. structure)": "telephone_2",
    "Adresse e-mail (coord. structure)": "email",
}
ADRESSE = ["Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
           "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
           "Complément point géographique (coord. structure)", "Mention distribution (coord. structure)"]

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
        **{name: pa.Column(str, nullable=True) for name in ANNUAIRE.values()},
        "adresse": pa.Column(str, nullable=True),
    },
    strict=True,
    name="rpps_activite",
)


def address(numero, indice, type_voie, voie, complement, distribution) -> str | None:
    """« 12 B Rue du Pont, Bâtiment A, BP 4 » from the address fields of a practice site (None if all empty)."""
    rue = " ".join(p for p in (" ".join(p for p in (numero, indice) if p), type_voie, voie) if p)
    return ", ".join(p for p in (rue, complement, distribution) if p) or None


def check_rows(path: Path, fichier: str, width: int) -> None:
    """Every line has the header's number of fields (a shifted row would put values under other columns)."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            n = line.rstrip(b"\r\n").count(b"|") + 1
            if n != width and line.strip():
                raise SourceFormatError(
                    f"Fichier {fichier}, ligne {number} : {n} champs au lieu de {width} (ceux de l'en-tête) ; "
                    "colonnes décalées. Le format a-t-il changé ?")


def parse_file(path: Path, savoir_faire_mg: list[str], fichier: str | None = None) -> pd.DataFrame:
    fichier = fichier or str(path)
    names = header(path, fichier, sep="|")
    wanted = [*COLUMNS, *ANNUAIRE, *ADRESSE]
    require_columns(names, wanted, fichier)
    check_rows(path, fichier, len(names))
    raw = read_table(path, fichier, sep="|", usecols=wanted, quoting=csv.QUOTE_NONE)
    raw = raw.apply(lambda s: s.str.strip())
    raw["adresse"] = [address(*r) for r in zip(*(raw[c] for c in ADRESSE))]
    raw = raw.drop(columns=ADRESSE).rename(columns={**COLUMNS, **ANNUAIRE})
    keep = raw["code_profession"].isin(list(PROFESSIONS))
    exiger_selection(keep.any(), fichier, f"aucune profession ne correspond aux codes {', '.join(PROFESSIONS)}",
                     raw["code_profession"].unique(), "codes profession présents")
    for code, nom in PROFESSIONS.items():  # the national extract holds every one: a missing code is a changed format
        exiger_selection(raw["code_profession"].eq(code).any(), fichier, f"aucune ligne de la profession {nom} "
                         f"(code {code})", raw["code_profession"].unique(), "codes profession présents")
    df = raw[keep]
    df = df.mask(df.eq(""), None)
    df.insert(4, "savoir_faire_mg", df["code_savoir_faire"].isin(savoir_faire_mg).astype(bool))
    df = df[list(ACTIVITE.columns)]
    medecins = df["code_profession"].eq("10")
    if medecins.any():
        exiger_selection(
            df.loc[medecins, "savoir_faire_mg"].any(), fichier,
            f"aucun médecin avec un savoir-faire de médecine générale ({', '.join(savoir_faire_mg)}) ; les savoir-faire "
            "ont peut-être été déplacés dans le fichier PS_LibreAcces_SavoirFaire",
            df.loc[medecins, "code_savoir_faire"].dropna().unique(), "savoir-faire des médecins présents")
    return strings(validate(df, ACTIVITE, fichier, row_offset=2))  # index = position in the file: line = index + 2


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; optional `savoir_faire_mg` (codes of general practice)."""
    codes = list((spec or {}).get("savoir_faire_mg", SAVOIR_FAIRE_MG))
    path = single_file(folder, "d'extraction de l'Annuaire Santé")
    return {"stg_rpps_activite": parse_file(path, codes, path.name)}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_rpps_activite": ACTIVITE}
