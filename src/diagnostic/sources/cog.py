"""Parser of `@etalab/decoupage-administratif` (COG, EPCI, populations légales).

Grain: `communes` one row per code of communes.json (commune-actuelle, arrondissement-municipal,
commune-deleguee, commune-associee); `anciens_codes` one row per (former code, current commune);
`epci_membres` one row per (EPCI, member commune). Codes stay strings (`2A004`, `97411`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, require_columns, validate
from .memo import lu_une_fois  # each file read when downloaded (check_file), then taken by the build

CODE_COMMUNE = r"^(\d{5}|2[AB]\d{3})$"
TYPES = ["commune-actuelle", "arrondissement-municipal", "commune-deleguee", "commune-associee"]

COMMUNES = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "nom": pa.Column(str),
        "type": pa.Column(str, pa.Check.isin(TYPES)),
        "departement": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$")),
        "region": pa.Column(str, pa.Check.str_matches(r"^\d{2,3}$")),
        "zone": pa.Column(str, pa.Check.isin(["metro", "drom", "com"])),
        "parent": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE), nullable=True),
        "population": pa.Column("Int64", pa.Check.ge(0), nullable=True),
    },
    unique=["code", "type"],
    strict=True,
    name="communes",
)
ANCIENS_CODES = pa.DataFrameSchema(
    {
        "code_ancien": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
    },
    strict=True,
    name="anciens_codes",
)
EPCI = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(r"^\d{9}$"), unique=True),
        "nom": pa.Column(str),
        "type": pa.Column(str),
    },
    strict=True,
    name="epci",
)
EPCI_MEMBRES = pa.DataFrameSchema(
    {
        "epci": pa.Column(str, pa.Check.str_matches(r"^\d{9}$")),
        "commune": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE), unique=True),
    },
    strict=True,
    name="epci_membres",
)
DEPARTEMENTS = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$"), unique=True),
        "nom": pa.Column(str),
        "region": pa.Column(str, pa.Check.str_matches(r"^\d{2,3}$")),
        "zone": pa.Column(str, pa.Check.isin(["metro", "drom", "com"])),
    },
    strict=True,
    name="departements",
)
REGIONS = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(r"^\d{2,3}$"), unique=True),
        "nom": pa.Column(str),
        "zone": pa.Column(str, pa.Check.isin(["metro", "drom", "com"])),
    },
    strict=True,
    name="regions",
)


def _read_json_list(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceFormatError(f"Fichier {path} illisible : {exc}") from exc
    if not isinstance(data, list):
        raise SourceFormatError(f"Fichier {path} : une liste JSON était attendue.")
    return data


def _frame(path: Path, records: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records)
    require_columns(df.columns, columns, path)
    return df


@lu_une_fois
def parse_communes(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """communes.json -> (communes, anciens_codes)."""
    records = _read_json_list(path)
    df = _frame(path, records, ["code", "nom", "type", "departement", "region", "zone"])
    parent = df["chefLieu"] if "chefLieu" in df else pd.Series(None, index=df.index, dtype=object)
    if "commune" in df:
        parent = parent.fillna(df["commune"])
    communes = pd.DataFrame(
        {
            "code": df["code"].astype(str),
            "nom": df["nom"].astype(str),
            "type": df["type"].astype(str),
            "departement": df["departement"].astype(str),
            "region": df["region"].astype(str),
            "zone": df["zone"].astype(str),
            "parent": parent.astype(object).where(parent.notna(), None),
            "population": pd.array(df.get("population"), dtype="Int64"),
        }
    )
    communes = validate(communes, COMMUNES, path)
    anciens = (
        df.loc[df["type"].eq("commune-actuelle") & df.get("anciensCodes", pd.Series(dtype=object)).notna(), ["code", "anciensCodes"]]
        .explode("anciensCodes")
        .rename(columns={"anciensCodes": "code_ancien"})[["code_ancien", "code"]]
        .astype(str)
        .drop_duplicates()
        .reset_index(drop=True)
    ) if "anciensCodes" in df else pd.DataFrame({"code_ancien": [], "code": []}, dtype=str)
    return communes, validate(anciens, ANCIENS_CODES, path)


@lu_une_fois
def parse_epci(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """epci.json -> (epci, epci_membres)."""
    df = _frame(path, _read_json_list(path), ["code", "nom", "type", "membres"])
    epci = validate(df[["code", "nom", "type"]].astype(str), EPCI, path)
    membres = pd.DataFrame(
        [(row.code, m["code"]) for row in df.itertuples() for m in row.membres],
        columns=["epci", "commune"],
        dtype=str,
    )
    return epci, validate(membres, EPCI_MEMBRES, path)


@lu_une_fois
def parse_departements(path: Path) -> pd.DataFrame:
    df = _frame(path, _read_json_list(path), ["code", "nom", "region", "zone"])
    return validate(df[["code", "nom", "region", "zone"]].astype(str), DEPARTEMENTS, path)


@lu_une_fois
def parse_regions(path: Path) -> pd.DataFrame:
    df = _frame(path, _read_json_list(path), ["code", "nom", "zone"])
    return validate(df[["code", "nom", "zone"]].astype(str), REGIONS, path)


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    """All staging tables of the source, keyed by table name."""
    communes, anciens = parse_communes(folder / "communes.json")
    epci, membres = parse_epci(folder / "epci.json")
    return {
        "stg_cog_commune": communes,
        "stg_cog_ancien_code": anciens,
        "stg_cog_epci": epci,
        "stg_cog_epci_membre": membres,
        "stg_cog_departement": parse_departements(folder / "departements.json"),
        "stg_cog_region": parse_regions(folder / "regions.json"),
    }


def check_file(path: Path, *, name: str, spec: dict | None = None) -> None:
    """Parse one downloaded file as the file it replaces (raises SourceFormatError)."""
    {"communes.json": parse_communes, "epci.json": parse_epci, "departements.json": parse_departements,
     "regions.json": parse_regions}[name](path)


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a required source: the build stops without it)."""
    return {"stg_cog_commune": COMMUNES, "stg_cog_ancien_code": ANCIENS_CODES, "stg_cog_epci": EPCI,
            "stg_cog_epci_membre": EPCI_MEMBRES, "stg_cog_departement": DEPARTEMENTS, "stg_cog_region": REGIONS}


# Fields each file's objects must have (read by `diagnostic verifier` on the first object served).
CHAMPS_JSON = {"communes.json": ["code", "nom", "type", "departement", "region", "zone"],
               "epci.json": ["code", "nom", "type", "membres"], "departements.json": ["code", "nom", "region", "zone"],
               "regions.json": ["code", "nom", "zone"]}
