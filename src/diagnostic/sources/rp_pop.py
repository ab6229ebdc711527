"""Parser of the INSEE census population by sex and age, in its two publications.

**Legacy wide file** (RP 2022 and before): `base-cc-evol-struct-pop-YYYY_csv.zip` holds
`base-cc-evol-struct-pop-YYYY.CSV`: `;`-separated, one header row, key `CODGEO`, then for each census year present
(e.g. P22_, P16_, P11_ in the 2022 file) the population `Pyy_POP`, by sex and 15-year age band `Pyy_H0014` …
`Pyy_H90P`, `Pyy_F0014` … `Pyy_F90P`, and `Pyy_H0019`, `Pyy_H65P`, `Pyy_F0019`, `Pyy_F65P`. Values are weighted
estimates (decimals). The file holds both the communes of Paris, Lyon, Marseille and their arrondissements
municipaux: the models count them once.

**Melodi long file** (RP 2023, published 30 June 2026; third-party code reading it, see the registry's
`[rp_pop.preuve]`): the dataset `DS_RP_POPULATION_PRINC` served by `https://api.insee.fr/melodi/file/
DS_RP_POPULATION_PRINC/DS_RP_POPULATION_PRINC_2023_CSV_FR` (a zip holding `DS_RP_POPULATION_PRINC_2023_data.csv`,
`;`) or, per commune, `base_cc_evol_struct_pop_com_2023_parquet.zip` (member `DS_RP_POPULATION_PRINC_COM.parquet`).
One row per observation: `GEO` (code), `GEO_OBJECT` (COM, ARM, EPCI, DEP, REG, FRANCE…), `AGE`, `SEX` (`_T`, `M`,
`F`), `RP_MEASURE` (`POP`), `TIME_PERIOD` (the census year: 2023, and the earlier censuses 2017, 2012),
`OBS_VALUE`, and where present `OBS_STATUS` (`K`: the value is included in another commune's, dropped). Its age
classes are not the legacy ones: seven bands `Y_LT15`, `Y15T24`, `Y25T39`, `Y40T54`, `Y55T64`, `Y65T79`,
`Y_GE80`, and aggregates such as `Y_LT20`, `Y_GE65`, `_T`. Every code read must be in the file
(`exiger_selection`): a renamed class is an error, never a missing band.

Grain: `stg_rp_pop_age_sexe` one row per (annee, code, sexe, tranche_age); `stg_rp_pop_commune` one row
per (annee, code). Codes as in the file (its own COG), harmonised by the models. `tranche_age` is the band as
published: legacy (`00-14` … `90+`) or Melodi (`00-14`, `15-24` … `80+`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, require_columns, validate
from .cog import CODE_COMMUNE
from .lecture import data_files, header, numbers, read_table, single_file, strings, zip_member

MEMBER = r"base-cc-evol-struct-pop-\d{4}\.csv"
BANDES = {"0014": "00-14", "1529": "15-29", "3044": "30-44", "4559": "45-59", "6074": "60-74", "7589": "75-89", "90P": "90+"}
SEXES = ("H", "F")

# Melodi (RP 2023 onwards): member names, columns, and the AGE codes read (band -> tranche_age)
MEMBRE_MELODI = r"DS_RP_POPULATION_PRINC(_\d{4})?_data\.csv|DS_RP_POPULATION_PRINC(_COM)?\.parquet"
COLONNES_MELODI = ["GEO", "GEO_OBJECT", "AGE", "SEX", "RP_MEASURE", "TIME_PERIOD", "OBS_VALUE"]
BANDES_MELODI = {"Y_LT15": "00-14", "Y15T24": "15-24", "Y25T39": "25-39", "Y40T54": "40-54", "Y55T64": "55-64",
                 "Y65T79": "65-79", "Y_GE80": "80+"}
AGREGATS_MELODI = {"_T": "population", "Y_LT20": "pop_0019", "Y_GE65": "pop_65p"}
SEXES_MELODI = {"M": "H", "F": "F"}
NIVEAUX_MELODI = ("COM", "ARM")  # communes and arrondissements municipaux (models count each inhabitant once)
STATUTS_EXCLUS = ("K", "W")  # value included in another row (merged communes): never counted twice

AGE_SEXE = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "sexe": pa.Column(str, pa.Check.isin(list(SEXES))),
        "tranche_age": pa.Column(str, pa.Check.isin(sorted(set(BANDES.values()) | set(BANDES_MELODI.values())))),
        "population": pa.Column(float, pa.Check.ge(0), nullable=True),
    },
    unique=["annee", "code", "sexe", "tranche_age"],
    strict=True,
    name="rp_pop_age_sexe",
)
COMMUNE = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "population": pa.Column(float, pa.Check.ge(0), nullable=True),
        "pop_0019": pa.Column(float, pa.Check.ge(0), nullable=True),
        "pop_65p": pa.Column(float, pa.Check.ge(0), nullable=True),
    },
    unique=["annee", "code"],
    strict=True,
    name="rp_pop_commune",
)
WIDE = pa.DataFrameSchema({"CODGEO": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE), unique=True)}, name="rp_pop")


def years(columns) -> list[str]:
    """Two-digit census years present in the header (`P22_POP` -> '22'), most recent first."""
    return sorted({m.group(1) for c in columns if (m := re.fullmatch(r"P(\d{2})_POP", c))}, reverse=True)


def columns_for(yy: str) -> dict[str, str]:
    """Column of the file -> short name, for one census year."""
    cols = {f"P{yy}_POP": "population"}
    for s in SEXES:
        cols.update({f"P{yy}_{s}{band}": f"{s}|{label}" for band, label in BANDES.items()})
        cols.update({f"P{yy}_{s}0019": f"{s}|0019", f"P{yy}_{s}65P": f"{s}|65P"})
    return cols


def parse_csv(data: bytes, fichier: str) -> dict[str, pd.DataFrame]:
    columns = header(data, fichier, sep=";")
    require_columns(columns, ["CODGEO"], fichier)
    found = years(columns)
    if not found:
        raise SourceFormatError(f"Fichier {fichier} : aucune colonne de population « Pyy_POP » (le format a-t-il changé ?).")
    wanted = {c for yy in found for c in columns_for(yy)}
    df = read_table(data, fichier, sep=";", usecols=lambda c: c == "CODGEO" or c in wanted)
    for yy in found:
        require_columns(df.columns, list(columns_for(yy)), fichier)
    df["CODGEO"] = df["CODGEO"].str.strip()
    validate(df[["CODGEO"]], WIDE, fichier, row_offset=2)
    wide = pd.DataFrame({c: numbers(df, c, fichier, row_offset=2)[0] for c in sorted(wanted)})
    validate(wide, pa.DataFrameSchema({c: pa.Column(float, pa.Check.ge(0), nullable=True) for c in wanted}, name="rp_pop"),
             fichier, row_offset=2)
    age, commune = [], []
    for yy in found:
        annee = f"20{yy}"
        values = {short: wide[col] for col, short in columns_for(yy).items()}
        for key, serie in values.items():
            if "|" in key and not key.endswith(("0019", "65P")):
                sexe, tranche = key.split("|")
                age.append(pd.DataFrame({"annee": annee, "code": df["CODGEO"], "sexe": sexe, "tranche_age": tranche,
                                         "population": serie}))
        commune.append(pd.DataFrame({
            "annee": annee,
            "code": df["CODGEO"],
            "population": values["population"],
            "pop_0019": values["H|0019"] + values["F|0019"],
            "pop_65p": values["H|65P"] + values["F|65P"],
        }))
    return {
        "stg_rp_pop_age_sexe": strings(validate(pd.concat(age, ignore_index=True), AGE_SEXE, fichier)),
        "stg_rp_pop_commune": strings(validate(pd.concat(commune, ignore_index=True), COMMUNE, fichier)),
    }


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    """The legacy zip (`base-cc-evol-struct-pop-YYYY.CSV`), a Melodi zip (CSV or parquet member), or the Melodi pair
    (single years of the latest census + earlier censuses: `rp_melodi.parse_paire`), by their content."""
    files = data_files(folder)
    if len(files) > 1:
        from .rp_melodi import parse_paire

        return parse_paire(files)
    path = single_file(folder, "zip du recensement")
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            noms = [n.rsplit("/", 1)[-1] for n in zf.namelist()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceFormatError(f"Fichier {path} illisible comme archive ZIP : {exc}") from exc
    if not any(re.fullmatch(MEMBER, n, flags=re.IGNORECASE) for n in noms) and \
            any(re.fullmatch(MEMBRE_MELODI, n, flags=re.IGNORECASE) for n in noms):
        from .rp_melodi import parse_melodi

        return parse_melodi(path)
    zf, member = zip_member(path, MEMBER)
    with zf:
        data = zf.read(member)
    return parse_csv(data, f"{path.name}/{member}")


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_rp_pop_age_sexe": AGE_SEXE, "stg_rp_pop_commune": COMMUNE}
