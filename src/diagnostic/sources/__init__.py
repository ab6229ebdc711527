"""One parser per source: raw file(s) -> validated DataFrame(s), each checked by a pandera schema.

A parser never knows about the warehouse or the report. Its errors name the file, the row and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..config import DiagnosticError

if TYPE_CHECKING:  # pandera is imported when a file is validated, not by every command
    import pandera.pandas as pa


class SourceFormatError(DiagnosticError):
    """A raw file whose content does not match what its parser expects."""


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, fichier: Path | str, *, row_offset: int = 0) -> pd.DataFrame:
    """Validate `df` against `schema`; on failure raise a French error naming file, row and column.

    `row_offset` converts a DataFrame position into the row number a spreadsheet user sees.
    """
    from pandera.errors import SchemaError, SchemaErrors

    try:
        return schema.validate(df, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        details = []
        if cases is not None and len(cases):
            for case in cases.head(5).itertuples(index=False):
                column = case.column if isinstance(case.column, str) else schema.name or "?"
                if case.index is None or pd.isna(case.index):
                    details.append(f"colonne {column!r} : {case.check}")
                else:
                    row = int(case.index) + row_offset
                    details.append(f"ligne {row}, colonne {column!r} : valeur {case.failure_case!r} ({case.check})")
            more = len(cases) - 5
            if more > 0:
                details.append(f"… et {more} autre(s) anomalie(s)")
        else:
            details.append(str(exc))
        raise SourceFormatError(f"Fichier {fichier} mal formé : " + " ; ".join(details)) from None


def require_columns(columns, expected: list[str], fichier: Path | str, where: str = "") -> None:
    missing = [c for c in expected if c not in set(columns)]
    if missing:
        raise SourceFormatError(
            f"Fichier {fichier}{where} : colonne(s) attendue(s) absente(s) : {', '.join(missing)} "
            f"(colonnes trouvées : {', '.join(map(str, columns))}). Le format a-t-il changé ?"
        )


class SelectionVide(SourceFormatError):
    """A selection (profession pattern, pathology code, age class, measure…) that matched no row of a
    received file: the producer changed its codes or labels, never a quiet « non disponible »."""


def exiger_selection(trouve, fichier: Path | str, manque: str, presents, presents_nom: str, *, max_valeurs: int = 40) -> None:
    """Raise SelectionVide when `trouve` is falsy (no row selected).

    `manque` says what was looked for (« aucune profession ne correspond à « … » »), `presents` are the
    values the file holds in the column searched, `presents_nom` names them (« professions présentes »)."""
    if trouve:
        return
    valeurs = sorted({str(v).strip() for v in presents if str(v).strip()})
    liste = " ; ".join(valeurs[:max_valeurs]) or "(aucune)"
    if len(valeurs) > max_valeurs:
        liste += f" ; … et {len(valeurs) - max_valeurs} autre(s)"
    raise SelectionVide(f"Fichier {fichier} : {manque} ; {presents_nom} : {liste}. Le format a-t-il changé ?")
