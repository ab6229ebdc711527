"""Parser of INSEE populations légales (`ensemble.zip`, file `donnees_communes.csv`).

Format as the genuine PL 2023 file shows it (realdata/poplegale-2023, member of `ensemble.zip`): `;`-separated,
one header row `REG;Région;DEP;CODARR;CODCAN;CODCOM;COM;Commune;PMUN;PCAP;PTOT`, UTF-8, counts written as plain
integers (a thousands space, seen in no genuine file, is tolerated). `COM` is the commune code (`01001`).
Paris, Lyon and Marseille appear **only** as their 45 arrondissements municipaux (no row 75056, 69123, 13055):
the models map them to their commune. `CODCAN` is empty for Paris (not read). Mayotte is absent (its
populations légales are published apart): its population comes from the communes file of the COG
(`diagnostic.sources.cog`), as do those of the collectivités d'outre-mer. PMUN (population municipale)
equals the `population` of the COG communes file for every commune (tests/test_sources_insee.py); it is the
named source of the indicator `population`. PTOT adds the people « comptés à part » (students, boarders…
counted where they live): a context figure, never a denominator.

Grain: `stg_poplegale_commune` one row per (millesime, code) — codes of the file's own COG. `millesime`
is the reference year of the census (PL 2023, in force on 1 January 2026), from the registry (`annee`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, require_columns, validate
from .cog import CODE_COMMUNE
from .lecture import numbers, read_table, single_file, strings, zip_member

MEMBER = r"donnees_communes\.csv"
COLUMNS = ["REG", "DEP", "COM", "Commune", "PMUN", "PCAP", "PTOT"]

POPLEGALE = pa.DataFrameSchema(
    {
        "millesime": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "en_vigueur": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "nom": pa.Column(str),
        "departement": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$")),
        "pmun": pa.Column("Int64", pa.Check.ge(0)),
        "pcap": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "ptot": pa.Column("Int64", pa.Check.ge(0), nullable=True),
    },
    unique=["millesime", "code"],
    strict=True,
    name="populations_legales",
)


def parse_csv(data: bytes, fichier: str, annee: str, en_vigueur: str) -> pd.DataFrame:
    df = read_table(data, fichier, sep=";")
    require_columns(df.columns, COLUMNS, fichier)
    counts = {}
    for col in ["PMUN", "PCAP", "PTOT"]:
        values, _ = numbers(df, col, fichier, row_offset=2)
        fraction = (values % 1).fillna(0) != 0
        if fraction.any():
            i = df.index.get_loc(fraction.idxmax())
            raise SourceFormatError(f"Fichier {fichier}, ligne {i + 2}, colonne {col!r} : effectif non entier {df[col].iloc[i]!r}.")
        counts[col] = pd.array(values.round(), dtype="Int64")
    out = pd.DataFrame({
        "millesime": annee,
        "en_vigueur": en_vigueur,
        "code": df["COM"].str.strip(),
        "nom": df["Commune"],
        "departement": df["DEP"].str.strip(),
        "pmun": counts["PMUN"],
        "pcap": counts["PCAP"],
        "ptot": counts["PTOT"],
    })
    return strings(validate(out, POPLEGALE, fichier, row_offset=2))


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `annee` = reference year of the census (PL), `en_vigueur` =
    year on whose 1 January it is in force."""
    try:
        annee, en_vigueur = str(spec["annee"]), str(spec["en_vigueur"])
    except KeyError as exc:
        raise SourceFormatError(f"Registre des sources : clé {exc} manquante pour les populations légales.") from None
    path = single_file(folder, "zip des populations légales")
    zf, member = zip_member(path, MEMBER)
    with zf:
        data = zf.read(member)
    return {"stg_poplegale_commune": parse_csv(data, f"{path.name}/{member}", annee, en_vigueur)}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_poplegale_commune": POPLEGALE}
