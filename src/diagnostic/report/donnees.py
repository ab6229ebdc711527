"""The report's data, read from the warehouse: the one module of the report stage that queries it.

Each query is a file of ``models/rapport/`` (``REQUETES``) that reads marts only: its ``-- reads:`` line names
stored marts (``mart_*``, built by ``models/marts/``), build metadata (``meta_*``) and the frames the caller
registers (``selection_territoire``…). The secret statistique is applied before (warehouse build), never here.
This module imports nothing from ``report/`` but ``context`` (column names): the rest of ``report/`` may use
it, it never uses the rest.
"""

from __future__ import annotations

import pandas as pd

from .context import SERIES_COLUMNS

REQUETES = ("series.sql",)  # models/rapport/: every query this module runs


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
