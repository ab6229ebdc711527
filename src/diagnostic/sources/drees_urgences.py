"""Parser of the DREES « Séries longues corrigées du nombre de passages aux urgences 2017 à 2023 en France »
(data.gouv.fr resource `b0005488-e2a9-455a-ae33-b3263d06d119`, CSV, `;`).

Columns: `date;dep;libelle_dep;nb_passages`, `;`-separated. `date` is ISO `YYYY-MM-DD` in the file as published
(third-party code and a notebook showing its rows); the documentation announces `dd/mm/yyyy`: either is read, one
format per file, anything else refused with the line. `nb_passages` is **decimal** with `.` (RPU daily pattern
calibrated on the SAE yearly totals, PMSI filling gaps; kept as a decimal, never rounded). Rows are not in date
order in the published file. Département level only. Known gaps (data.gouv description): Martinique excluded, Lozère
and Mayotte not published, Corse (2A, 2B), La Réunion and the Territoire de Belfort from 2018, Guyane from 2020:
a missing département-year is absent, never 0.

Grain: `stg_drees_urgences` one row per (annee, departement): the sum of the daily visits of the year and the
number of days it covers (a year with fewer than 365 days is incomplete and is not used for a rate).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, require_columns, validate
from .lecture import header, numbers, pad, read_table, single_file, strings

REQUIRED = ["date", "dep", "nb_passages"]

URGENCES = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "departement": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$")),
        "libelle": pa.Column(str, nullable=True),
        "passages": pa.Column(float, pa.Check.ge(0)),
        "nb_jours": pa.Column("int64", pa.Check.in_range(1, 366)),
    },
    unique=["annee", "departement"],
    strict=True,
    name="drees_urgences",
)
JOURS = pa.DataFrameSchema(
    {
        "date": pa.Column("datetime64[ns]", nullable=False),
        "departement": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$")),
        "nb_passages": pa.Column(float, pa.Check.ge(0), nullable=False),
    },
    unique=["date", "departement"],
    name="drees_urgences_jours",
)


# The file as published writes ISO dates (third-party code that downloads it, and a notebook showing its rows);
# the dataset's documentation announces dd/mm/yyyy. One of the two for the whole file; anything else is refused.
FORMATS_DATE = {"%Y-%m-%d": "AAAA-MM-JJ", "%d/%m/%Y": "JJ/MM/AAAA"}


def read_dates(column: pd.Series, fichier: str) -> pd.Series:
    """The `date` column parsed with the one accepted format that reads every cell; otherwise a French error
    naming the first cell that the closest format cannot read (file line, column, value)."""
    text = column.astype(str).str.strip()
    parsed = {fmt: pd.to_datetime(text, format=fmt, errors="coerce") for fmt in FORMATS_DATE}
    for dates in parsed.values():
        if dates.notna().all():
            return dates
    best = max(parsed.values(), key=lambda d: int(d.notna().sum()))
    bad = best.isna()
    i = int(bad.idxmax())
    acceptes = " ou ".join(FORMATS_DATE.values())
    raise SourceFormatError(
        f"Fichier {fichier}, ligne {i + 2}, colonne 'date' : date illisible {text[bad].iloc[0]!r} "
        f"({int(bad.sum())} ligne(s) dans ce cas ; formats acceptés, un seul par fichier : {acceptes})."
    )


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    path = single_file(folder, "des passages aux urgences (DREES)")
    fichier = path.name
    sep = ";" if len(header(path, fichier, sep=";")) > 1 else ","
    df = read_table(path, fichier, sep=sep)
    df.columns = [c.strip().lower() for c in df.columns]
    require_columns(df.columns, REQUIRED, fichier)
    dates = read_dates(df["date"], fichier)
    passages, _ = numbers(df, "nb_passages", fichier, row_offset=2)
    jours = pd.DataFrame({"date": dates, "departement": pad(df["dep"]).str.upper(), "nb_passages": passages})
    validate(jours, JOURS, fichier, row_offset=2)  # names the line of an unreadable date, code or count
    jours["annee"] = jours["date"].dt.year.astype(str)
    jours["libelle"] = df["libelle_dep"].str.strip() if "libelle_dep" in df.columns else None
    out = (jours.groupby(["annee", "departement"], as_index=False)
           .agg(libelle=("libelle", "first"), passages=("nb_passages", "sum"), nb_jours=("date", "nunique")))
    out["nb_jours"] = out["nb_jours"].astype("int64")
    if not len(out):
        raise SourceFormatError(f"Fichier {fichier} : aucune ligne de données.")
    return {"stg_drees_urgences": strings(validate(out, URGENCES, fichier))}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_drees_urgences": URGENCES}
