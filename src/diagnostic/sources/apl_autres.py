"""Parser of the DREES APL workbooks for infirmiers, masseurs-kinésithérapeutes, sages-femmes and
chirurgiens-dentistes (one workbook per profession, attachments of dataset
`530_l-accessibilite-potentielle-localisee-apl`).

Same layout as the GP workbook read by `apl.py` (whose header key it reuses): sheets `APL <year>`,
metadata rows, a header row whose first cell is « Code commune INSEE », a units row, then one row per
commune (arrondissements municipaux for Paris, Lyon, Marseille). Columns are matched by prefix, since
their wording depends on the profession: « APL aux … » (the first one: without age limit), « Population
standardisée … » (« Population féminine standardisée … » for sages-femmes), « Population totale … ».
Unit: full-time equivalents (ETP) per 100 000 standardised inhabitants (kept from the units row).

The profession comes from the workbook's file name (the attachment id). Sheets: the registry's `sheets`,
else every sheet named `APL <year>`.

Grain: `stg_apl_autres` one row per (profession, millesime, code), codes of the workbook's own COG.

Attachment ids change between publications (`…_apl_aux_infirmieres_xlsx`, then `indicateur_d_apl_aux_infirmiers_xlsx`
in third-party code): before download, `diagnostic.ingest` reads the dataset's metadata and
`diagnostic.sources.catalogue.urls_des_pieces_jointes` picks each profession's workbook there by a registry pattern (`pieces_jointes`); the
registry's URL stays the fallback. The file keeps the registry's name on disk, so `profession` still reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, validate
from .apl import read_sheet
from .cog import CODE_COMMUNE
from .lecture import data_files, strings

PROFESSIONS = {  # file name pattern -> profession key used by the models and indicator ids
    r"infirmi": "infirmiers",
    r"kinesi": "kines",
    r"sages?_femmes?": "sages_femmes",
    r"dentist": "dentistes",
}
COLUMNS = {  # output column -> regex on the header (first match wins)
    "code": r"^Code commune INSEE$",
    "nom": r"^Commune$",
    "apl": r"^APL aux (?!.*(?:65 ans|moins de))",
    "pop_standardisee": r"^Population (?:féminine )?standardisée(?:\D*(\d{4}))?",
    "pop_totale": r"^Population (?:féminine )?totale(?:\D*(\d{4}))?",
}

APL_AUTRES = pa.DataFrameSchema(
    {
        "profession": pa.Column(str, pa.Check.isin(list(PROFESSIONS.values()))),
        "millesime": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "nom": pa.Column(str, nullable=True),
        "apl": pa.Column(float, pa.Check.in_range(0, 100_000), nullable=True),
        "pop_standardisee": pa.Column(float, pa.Check.ge(0), nullable=True),
        "pop_totale": pa.Column(float, pa.Check.ge(0), nullable=True),
        "annee_population": pa.Column(str, pa.Check.str_matches(r"^(\d{4})?$")),
        "unite": pa.Column(str, nullable=True),
    },
    unique=["profession", "millesime", "code"],
    strict=True,
    name="apl_autres",
)


def profession(path: Path) -> str:
    for pattern, key in PROFESSIONS.items():
        if re.search(pattern, path.name, flags=re.IGNORECASE):
            return key
    raise SourceFormatError(f"Classeur APL {path.name} : profession non reconnue dans le nom du fichier "
                            f"(attendu : infirmiers, kinésithérapeutes, sages-femmes ou chirurgiens-dentistes).")


def parse_sheet(path: Path, sheet: str, prof: str) -> pd.DataFrame:
    where = f", feuille « {sheet} »"
    data, years, names, h, units = read_sheet(path, sheet, COLUMNS)
    unite = units["apl"]
    millesime = re.search(r"(\d{4})", sheet).group(1)
    df = pd.DataFrame({
        "profession": prof,
        "millesime": millesime,
        "code": data["code"].astype(str).str.strip(),
        "nom": data["nom"].astype(object).where(data["nom"].notna(), None),
        **{c: pd.to_numeric(data[c], errors="coerce").astype(float) for c in ["apl", "pop_standardisee", "pop_totale"]},
        "annee_population": years.get("pop_totale", ""),
        "unite": str(unite).strip() if pd.notna(unite) else None,
    })
    for c in ["apl", "pop_standardisee", "pop_totale"]:  # text in a numeric column: NS / nd kept as missing
        bad = df[c].isna() & data[c].notna() & ~data[c].astype(str).str.strip().str.lower().isin(["ns", "nd", "n.d.", ""])
        if bad.any():
            i = bad.idxmax()
            raise SourceFormatError(f"Fichier {path.name}{where}, ligne {i + 1}, colonne {names[c]!r} : "
                                    f"valeur non numérique {data.at[i, c]!r}.")
    return validate(df.reset_index(drop=True), APL_AUTRES, f"{path.name}{where}", row_offset=h + 3)


def sheets_of(path: Path, spec: dict) -> list[str]:
    if spec.get("sheets"):
        return list(spec["sheets"])
    try:
        names = pd.ExcelFile(path, engine="calamine").sheet_names
    except Exception as exc:
        raise SourceFormatError(f"Fichier {path.name} illisible comme classeur Excel : {exc}") from exc
    found = [s for s in names if re.fullmatch(r"APL[ _]\d{4}", s.strip())]
    if not found:
        raise SourceFormatError(f"Fichier {path.name} : aucune feuille « APL <année> » (feuilles : {', '.join(names)}).")
    return found


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    spec = spec or {}
    files = data_files(folder)
    if not files:
        raise SourceFormatError(f"Aucun classeur APL dans {folder}.")
    frames = [parse_sheet(p, s, profession(p)) for p in files for s in sheets_of(p, spec)]
    return {"stg_apl_autres": strings(pd.concat(frames, ignore_index=True))}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_apl_autres": APL_AUTRES}
