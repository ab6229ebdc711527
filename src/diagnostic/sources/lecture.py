"""Shared reading helpers for the delimited-text parsers (INSEE, ameli, RPPS): encoding detection, zip
members, numbers written the French way, provider masks kept as a status.

Not a parser itself (no `parse`/`tables`): the registry never names it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import SourceFormatError, exiger_selection, require_columns

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # UTF-8 first; then the Windows / ISO variants of latin-1

# Provider masks -> statut of the indicators contract. NS = non significatif (too few professionals or
# patients: secret statistique), NC = non calculable / non communiqué, s / secret = INSEE secret,
# nd / n.d. = non disponible.
MASQUES = {"ns": "secret", "s": "secret", "secret": "secret", "nc": "non_disponible", "nd": "non_disponible",
           "n.d.": "non_disponible"}


def data_files(folder: Path) -> list[Path]:
    """The raw files of a source folder (manifest and hidden temp files left out)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json")


def single_file(folder: Path, quoi: str) -> Path:
    files = data_files(folder)
    if len(files) != 1:
        raise SourceFormatError(f"Un seul fichier {quoi} attendu dans {folder}, trouvé : {[p.name for p in files]}")
    return files[0]


MAX_MEMBER_BYTES = 2_000_000_000  # uncompressed size above which a zip member is refused (zip bomb)


def zip_member(path: Path, pattern: str, max_bytes: int = MAX_MEMBER_BYTES) -> tuple[zipfile.ZipFile, str]:
    """Open the zip `path` and find the one member whose name (without folders) matches `pattern`
    (regex, case-insensitive). The caller closes the returned ZipFile.

    Archives are never extracted to disk: members are read in memory by name, so a member path that
    leaves the folder (`../x`) cannot write anywhere. A member whose uncompressed size exceeds `max_bytes`
    is refused; zipfile stops reading at the declared size, so the check bounds what is read."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceFormatError(f"Fichier {path} illisible comme archive ZIP : {exc}") from exc
    names = [n for n in zf.namelist() if re.fullmatch(pattern, n.rsplit("/", 1)[-1], flags=re.IGNORECASE)]
    if len(names) != 1:
        contenu = ", ".join(zf.namelist())
        zf.close()
        raise SourceFormatError(
            f"Archive {path} : un fichier correspondant à « {pattern} » attendu, trouvé {len(names)} "
            f"(contenu : {contenu})."
        )
    size = zf.getinfo(names[0]).file_size
    if size > max_bytes:
        zf.close()
        raise SourceFormatError(
            f"Archive {path} : le fichier {names[0]} ferait {size} octets une fois décompressé, "
            f"au-delà de la limite de {max_bytes} octets : archive refusée."
        )
    return zf, names[0]


def read_table(source, fichier: str, *, sep: str, usecols=None, quoting: int = csv.QUOTE_MINIMAL) -> pd.DataFrame:
    """Read a delimited text file (path or bytes) with one header row, every cell as a string ('' when
    empty). The encoding is detected: UTF-8 (with or without BOM), else Windows-1252 / latin-1.
    Columns without a header (made by a trailing separator) are dropped when empty."""
    last_error = None
    for encoding in ENCODINGS:
        buffer = io.BytesIO(source) if isinstance(source, bytes) else source
        try:
            df = pd.read_csv(buffer, sep=sep, dtype=str, keep_default_na=False, na_filter=False, encoding=encoding,
                             usecols=usecols, quoting=quoting, low_memory=False)
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        except ValueError as exc:  # usecols naming a missing column, or a malformed file
            raise SourceFormatError(f"Fichier {fichier} illisible : {exc}") from exc
        except (pd.errors.ParserError, OSError) as exc:
            raise SourceFormatError(f"Fichier {fichier} illisible : {exc}") from exc
        df.columns = [str(c).strip() for c in df.columns]
        trailing = [c for c in df.columns if c.startswith("Unnamed:") and not df[c].str.strip().any()]
        return df.drop(columns=trailing)
    raise SourceFormatError(f"Fichier {fichier} : encodage non reconnu ({last_error}).")


def header(source, fichier: str, *, sep: str) -> list[str]:
    """The header row of a delimited file (path or bytes), encoding detected as in `read_table`."""
    if isinstance(source, bytes):
        raw = source[:65536]
    else:
        with open(source, "rb") as fh:
            raw = fh.read(65536)
    first = raw.split(b"\n", 1)[0]
    for encoding in ENCODINGS:
        try:
            line = first.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [c.strip().strip('"') for c in line.rstrip("\r").split(sep)]
    raise SourceFormatError(f"Fichier {fichier} : encodage non reconnu.")


def to_number(text: pd.Series) -> pd.Series:
    """'1 234,5' / '1234.5' / '12,3 %' -> float; '' -> NaN; anything else -> NaN (check with `bad_cells`)."""
    t = (text.astype(str).str.replace("\u202f", "", regex=False).str.replace("\xa0", "", regex=False)
         .str.replace(" ", "", regex=False).str.rstrip("%"))
    t = t.where(~t.str.contains(",", regex=False) | t.str.contains(".", regex=False), t.str.replace(",", ".", regex=False))
    return pd.to_numeric(t.where(t != ""), errors="coerce")


def statut_masque(text: pd.Series) -> pd.Series:
    """The contract statut a provider mask stands for ('secret', 'non_disponible'), else None."""
    return text.astype(str).str.strip().str.lower().map(MASQUES).astype(object).where(lambda s: s.notna(), None)


def numbers(df: pd.DataFrame, column: str, fichier: str, *, row_offset: int, masks: bool = False) -> tuple[pd.Series, pd.Series]:
    """Column `column` as floats, and the mask status of each cell (None when not masked).

    A cell that is neither empty, a number nor (when `masks`) a known provider mask is a format change:
    SourceFormatError naming the file, the row (DataFrame position + `row_offset`) and the column."""
    text = df[column].astype(str).str.strip()
    values = to_number(text)
    statut = statut_masque(text) if masks else pd.Series(None, index=df.index, dtype=object)
    bad = values.isna() & text.ne("") & statut.isna()
    if bad.any():
        label = bad.idxmax()
        # the index label is the row's position in the file as read (filtered frames keep it); otherwise the position
        i = int(label) if isinstance(label, (int, np.integer)) else df.index.get_loc(label)
        raise SourceFormatError(
            f"Fichier {fichier}, ligne {i + row_offset}, colonne {column!r} : valeur non numérique {text[bad].iloc[0]!r}"
            + (" (ni nombre ni code de secret NS/NC/s connu)." if masks else ".")
        )
    return values.astype(float), statut


def read_ods_export(folder: Path, quoi: str, required: list[str]) -> tuple[pd.DataFrame, str]:
    """The one CSV export of an Opendatasoft dataset (data.ameli.fr `/exports/csv`, `;` separator, field
    names in the header; with `use_labels=true` the labels are normalised back to field names:
    lower case, spaces -> `_`). Returns (table of strings, file name for messages)."""
    path = single_file(folder, quoi)
    sep = ";" if len(header(path, path.name, sep=";")) > 1 else ","  # `;` by default, `,` if asked
    df = read_table(path, path.name, sep=sep)
    df.columns = [re.sub(r"\s+", "_", c.strip().lower()) for c in df.columns]
    require_columns(df.columns, required, path.name)
    return df, path.name


def annee(text: pd.Series) -> pd.Series:
    """ODS year or date fields ('2024', '2024-01-01', '2024-12-31T00:00:00+00:00') -> '2024'."""
    return text.astype(str).str.strip().str.extract(r"^(\d{4})", expand=False).fillna(text.astype(str).str.strip())


def strings(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas `string` dtype, so that DuckDB types them VARCHAR even when every cell is
    empty (an all-None object column would become INTEGER). Apply after pandera validation."""
    return df.astype({c: "string" for c in df.columns if df[c].dtype == object})


def empty_frame(schema) -> pd.DataFrame:
    """A frame with the columns of a pandera schema and no rows: text -> string, others as declared."""
    def dtype(column):
        name = str(column.dtype)
        return "string" if name in ("str", "string", "object") else name
    return pd.DataFrame({name: pd.Series(dtype=dtype(col)) for name, col in schema.columns.items()})


def pad(codes: pd.Series) -> pd.Series:
    """Territory codes as text, a one-digit code zero-padded ('1' -> '01'): Opendatasoft integer fields
    lose the leading zero."""
    codes = codes.astype(str).str.strip()
    return codes.where(~codes.str.fullmatch(r"\d"), codes.str.zfill(2))


def exiger_france(region: pd.Series, fichier: str) -> None:
    """The ameli tables mix their levels; the France comparator is the row set with `region = '99'`: a file
    without it is a format change (SelectionVide listing the region codes it holds), never a silent gap."""
    exiger_selection(pad(region).eq("99").any(), fichier, "aucune ligne de niveau France (region = 99)", region,
                     "codes de région présents")
