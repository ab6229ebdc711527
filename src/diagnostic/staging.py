"""The staging layer of the warehouse: the parsers' `stg_*` tables loaded as they are, and for a source with no
usable file, its empty tables generated here from its parser's pandera schemas, the one place where that
happens (no model declares a staging table of its own).

Each parser (`sources/<parser>.py`) declares `tables(spec) -> {table name: pandera schema}`: the staging tables a
parse of that registry vintage gives (a registry-named table, such as the Odissé levels, is read from `spec`).
A pandera dtype becomes a DuckDB type through `TYPES`, the types DuckDB gives the parsed frames (text columns
are pandas `string`: VARCHAR).
"""

from __future__ import annotations

import importlib

import duckdb
import pandas as pd

from .config import DiagnosticError
from .registry import Source

# pandera dtype (its str()) -> DuckDB type of the column when the parsed frame is loaded
TYPES = {"str": "VARCHAR", "string": "VARCHAR", "object": "VARCHAR", "float64": "DOUBLE", "int64": "BIGINT",
         "Int64": "BIGINT", "bool": "BOOLEAN", "datetime64[ns]": "TIMESTAMP_NS"}


def parser_module(source: Source):
    """The parser of a source: module `diagnostic.sources.<parser>`, with `parse(folder, vintage_spec)` returning
    {table name: DataFrame} and `tables(vintage_spec)` the same tables' pandera schemas."""
    try:
        return importlib.import_module(f"diagnostic.sources.{source.parser}")
    except ModuleNotFoundError:
        raise DiagnosticError(f"Analyseur inconnu {source.parser!r} pour la source {source.id}.") from None


def schemas(source: Source, vintage: str | None = None) -> dict:
    """{staging table: pandera schema} of a source's vintage (the latest by default)."""
    return parser_module(source).tables(source.vintage(vintage))


def ddl(table: str, schema) -> str:
    """`CREATE TABLE` of the empty staging table `table` with the columns and types of a pandera schema."""
    colonnes = []
    for nom, colonne in schema.columns.items():
        dtype = str(colonne.dtype)
        if dtype not in TYPES:
            raise DiagnosticError(f"Table {table}, colonne {nom} : type pandera {dtype!r} sans type DuckDB connu "
                                  f"(types pris en charge : {', '.join(TYPES)} ; voir staging.TYPES).")
        colonnes.append(f'"{nom}" {TYPES[dtype]}')
    return f'CREATE TABLE "{table}" ({", ".join(colonnes)})'


def create(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame) -> None:
    """A table of the warehouse from a DataFrame, its columns typed by DuckDB."""
    con.register("_df", df)
    try:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _df')
    finally:
        con.unregister("_df")


def charger(con: duckdb.DuckDBPyConnection, staged: dict[str, dict], sources: dict[str, Source]) -> list[str]:
    """Load the parsed staging tables (`staged`: source id -> {table -> DataFrame}), then create empty, from its
    parser's schemas, every staging table of a registered source that was not parsed (source unavailable or not
    staged). Returns the names of the tables created empty."""
    charges = set()
    for tables in staged.values():
        for name, df in tables.items():
            if name.startswith("stg_"):
                create(con, name, df)
                charges.add(name)
    vides = []
    for source in sources.values():
        for table, schema in schemas(source).items():
            if table not in charges and table not in vides:
                con.execute(ddl(table, schema))
                vides.append(table)
    return vides
