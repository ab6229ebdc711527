"""Parser of the DREES APL workbook (médecins généralistes).

Grain: one row per (millésime, code of the workbook) — communes, and arrondissements municipaux for
Paris, Lyon and Marseille, on the workbook's own COG. Sheets `APL <year>`: 8 metadata rows, a header
row, a units row, then data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, validate
from .memo import lu_une_fois
from .cog import CODE_COMMUNE

HEADER_KEY = "Code commune INSEE"
COLUMNS = {  # output column -> regex on the workbook's header
    "code": r"^Code commune INSEE$",
    "nom": r"^Commune$",
    "apl_mg": r"^APL aux médecins généralistes$",
    "apl_mg_moins_65": r"^APL aux médecins généralistes de moins de 65 ans$",
    "pop_standardisee": r"^Population standardisée (\d{4}) pour la médecine générale$",
    "pop_totale": r"^Population totale (\d{4})$",
}

APL = pa.DataFrameSchema(
    {
        "millesime": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "nom": pa.Column(str, nullable=True),
        "apl_mg": pa.Column(float, pa.Check.in_range(0, 50), nullable=True),
        "apl_mg_moins_65": pa.Column(float, pa.Check.in_range(0, 50), nullable=True),
        "pop_standardisee": pa.Column(float, pa.Check.ge(0), nullable=True),
        "pop_totale": pa.Column(float, pa.Check.ge(0), nullable=True),
        "annee_population": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
    },
    unique=["millesime", "code"],
    strict=True,
    name="apl_mg",
)


class Sheet(NamedTuple):
    """An APL sheet located: its data rows (columns renamed to the keys of `columns`), the year found in
    each matched header, the header text of each column, the header row's position, and the units row."""

    data: pd.DataFrame
    years: dict[str, str]
    names: dict[str, str]
    header_row: int
    units: dict[str, object]


def read_sheet(path: Path, sheet: str, columns: dict[str, str]) -> Sheet:
    """Read one `APL <year>` sheet of a DREES APL workbook (any profession): find the header row (first
    cell « Code commune INSEE »), match each wanted column by regex, skip the units row."""
    where = f", feuille « {sheet} »"
    try:
        raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, engine="calamine")
    except ValueError as exc:
        raise SourceFormatError(f"Fichier {path.name}{where} introuvable : {exc}") from exc
    except Exception as exc:  # corrupt workbook: zip / calamine errors
        raise SourceFormatError(f"Fichier {path.name} illisible comme classeur Excel : {exc}") from exc
    header_rows = raw.index[raw.iloc[:, 0].astype(str).str.strip().eq(HEADER_KEY)]
    if not len(header_rows):
        raise SourceFormatError(f"Fichier {path.name}{where} : ligne d'en-tête « {HEADER_KEY} » introuvable.")
    h = header_rows[0]
    headers = [str(v).strip() if pd.notna(v) else "" for v in raw.iloc[h]]
    picked, years = {}, {}
    for out, pattern in columns.items():
        for i, name in enumerate(headers):
            m = re.match(pattern, name)
            if m:
                picked[out] = i
                years[out] = next((g for g in m.groups() if g), "")
                break
        else:
            raise SourceFormatError(
                f"Fichier {path.name}{where}, ligne {h + 1} : colonne « {pattern.strip('^$')} » absente "
                f"(en-têtes trouvés : {', '.join(headers)}). Le format du classeur a-t-il changé ?"
            )
    units = {out: raw.iat[h + 1, i] if h + 1 < len(raw) else None for out, i in picked.items()}
    data = raw.iloc[h + 2 :, list(picked.values())]
    data.columns = list(picked)
    return Sheet(data[data["code"].notna()], years, {out: headers[i] for out, i in picked.items()}, h, units)


@lu_une_fois  # read when downloaded (check_file), then taken by the build
def parse_sheet(path: Path, sheet: str) -> pd.DataFrame:
    where = f", feuille « {sheet} »"
    data, years, _, h, _ = read_sheet(path, sheet, COLUMNS)
    millesime = re.search(r"(\d{4})", sheet).group(1)
    df = pd.DataFrame(
        {
            "millesime": millesime,
            "code": data["code"].astype(str).str.strip(),
            "nom": data["nom"].astype(object).where(data["nom"].notna(), None),
            **{c: pd.to_numeric(data[c], errors="coerce").astype(float) for c in ["apl_mg", "apl_mg_moins_65", "pop_standardisee", "pop_totale"]},
            "annee_population": years.get("pop_totale", ""),
        }
    )
    # Non-numeric cells in a numeric column are a format change, not a missing value.
    for c in ["apl_mg", "pop_standardisee", "pop_totale"]:
        bad = df[c].isna() & data[c].notna()
        if bad.any():
            i = bad.idxmax()
            raise SourceFormatError(f"Fichier {path.name}{where}, ligne {i + 1}, colonne {c} : valeur non numérique {data.at[i, c]!r}.")
    return validate(df.reset_index(drop=True), APL, f"{path.name}{where}", row_offset=h + 3)


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `sheets` lists the workbook's sheets to read."""
    sheets = spec.get("sheets", [])
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"]
    if len(files) != 1:
        raise SourceFormatError(f"Un seul classeur APL attendu dans {folder}, trouvé : {[p.name for p in files]}")
    return {"stg_apl_mg": pd.concat([parse_sheet(files[0], s) for s in sheets], ignore_index=True)}


def check_file(path: Path, *, name: str, spec: dict) -> None:
    """Parse the downloaded workbook's sheets (raises SourceFormatError)."""
    for sheet in spec.get("sheets", []):
        parse_sheet(path, sheet)


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_apl_mg": APL}
