"""Parser of INSEE's état-civil death detail files (« fichier détail des décès », one zip per year of death).

Format (evidence in `[etatcivil_deces.preuve]`): zip `etatcivil<YYYY>_dec<YYYY>_csv.zip` holding `FD_DEC_<YYYY>.csv`,
`;`-separated, latin-1 as read by third-party code (the encoding is detected here), one row per death, every
variable a code written as text (dictionary `varmod_DEC_2020.csv`: ADEC MDEC JDEC DEPDEC LIEUDECR SEXE ANAIS MNAIS
JNAIS DEPNAIS PNAIS ACTIV INDNAT DEPDOM COMDOM TUDOM TUCOM ETAMAT; SEXE 1 = masculin, 2 = féminin). From 2019 on the
files give the commune of residence (`COMDOM`, COG of the year of the file) and the full birth date; there is no
age variable: it is computed here. A member `FD_DEC_<YYYY>.parquet` (the same variables) is read too.

Age at death = years completed on the day of death. A birth month or day that is empty or `00` is unknown: the
1st of January, resp. the 1st of the month, is taken (the convention of the third-party code that reads these
files), which gives the oldest possible age. A death without birth year cannot be given an age band.

Only deaths with a commune of residence are kept, counted by commune x sex x age band. The others are counted,
by reason, in a second table, never attributed to a commune: residence abroad (`DEPDOM` 99), commune of residence
not given, age unknown. They are left out of every figure, France included: the population denominator (the
census by commune) does not hold them either.

Grain: `stg_etatcivil_deces` one row per (annee, code, sexe, tranche) with deaths > 0, code = COMDOM as written;
`stg_etatcivil_deces_exclus` one row per (annee, motif).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, require_columns, validate
from .cog import CODE_COMMUNE
from .lecture import read_table, strings, zip_member
from ..registry import local_name

COLONNES = ["ADEC", "MDEC", "JDEC", "SEXE", "ANAIS", "MNAIS", "JNAIS", "DEPDOM", "COMDOM"]

# Age bands (lower bound, code): the bands of the census population by sex of the Dossier complet
# (P21_H0014 … P21_H90P), 60-74 split at 65 so that the premature index (< 65) is exact.
TRANCHES = [(0, "00-14"), (15, "15-29"), (30, "30-44"), (45, "45-59"), (60, "60-64"), (65, "65-74"),
            (75, "75-89"), (90, "90+")]
CODES_TRANCHES = [code for _, code in TRANCHES]

MOTIF_ETRANGER = "domicile à l'étranger"
MOTIF_SANS_COMMUNE = "commune de domicile non renseignée"
MOTIF_AGE = "année de naissance non renseignée"

DECES = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "sexe": pa.Column(str, pa.Check.isin(["1", "2"])),
        "tranche": pa.Column(str, pa.Check.isin(CODES_TRANCHES)),
        "deces": pa.Column(int, pa.Check.gt(0)),
    },
    unique=["annee", "code", "sexe", "tranche"],
    strict=True,
    name="etatcivil_deces",
)

EXCLUS = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "motif": pa.Column(str, pa.Check.isin([MOTIF_ETRANGER, MOTIF_SANS_COMMUNE, MOTIF_AGE])),
        "deces": pa.Column(int, pa.Check.gt(0)),
    },
    unique=["annee", "motif"],
    strict=True,
    name="etatcivil_deces_exclus",
)


def tranche(age: pd.Series) -> pd.Series:
    """Age in completed years -> band code of TRANCHES."""
    bornes = [b for b, _ in TRANCHES]
    return pd.Series(np.array(CODES_TRANCHES)[np.searchsorted(bornes, age.to_numpy(), side="right") - 1], index=age.index)


def _codes(df: pd.DataFrame, col: str, fichier: str, motif: str, valides: pd.Series) -> None:
    """Raise naming file, row and column for the first cell of `col` that is not valid (`df` indexed by the
    row's position among the file's data rows)."""
    bad = ~valides.fillna(False).astype(bool)
    if bad.any():
        i = bad.idxmax()  # the row's position in the file (the frame keeps it as index when filtered)
        raise SourceFormatError(
            f"Fichier {fichier}, ligne {int(i) + 2}, colonne {col!r} : valeur {df.at[i, col]!r} ({motif}).")


def age_au_deces(df: pd.DataFrame, fichier: str) -> pd.Series:
    """Completed years at death from ADEC/MDEC/JDEC and ANAIS/MNAIS/JNAIS (text columns, ANAIS non-empty).
    Unknown birth month or day (empty or 00) -> 1st January, resp. 1st of the month."""
    for col, lo, hi, inconnu in (("MDEC", 1, 12, False), ("JDEC", 1, 31, False), ("MNAIS", 1, 12, True),
                                 ("JNAIS", 1, 31, True)):
        t = df[col]
        n = pd.to_numeric(t.where(t.str.fullmatch(r"\d{1,2}")), errors="coerce")
        ok = n.between(lo, hi) | (inconnu & (t.eq("") | n.eq(0)))
        _codes(df, col, fichier, f"attendu {lo:02d} à {hi:02d}" + (", vide ou 00 si inconnu" if inconnu else ""), ok)
    an_nais = pd.to_numeric(df["ANAIS"], errors="coerce")
    _codes(df, "ANAIS", fichier, "année de naissance sur quatre chiffres attendue",
           df["ANAIS"].str.fullmatch(r"\d{4}") & an_nais.le(pd.to_numeric(df["ADEC"])))
    mois_n = pd.to_numeric(df["MNAIS"].replace("", "0")).replace(0, 1)
    jour_n = pd.to_numeric(df["JNAIS"].replace("", "0")).replace(0, 1)
    mois_d, jour_d = pd.to_numeric(df["MDEC"]), pd.to_numeric(df["JDEC"])
    avant = (mois_d < mois_n) | ((mois_d == mois_n) & (jour_d < jour_n))  # birthday not reached in the year of death
    age = (pd.to_numeric(df["ADEC"]) - an_nais - avant.astype(int)).astype(int)
    _codes(df, "MNAIS", fichier, "date de naissance postérieure à la date du décès", age.ge(0))
    return age


def parse_table(df: pd.DataFrame, fichier: str, annee: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One year's deaths (text cells, header as published) -> (counts by commune x sex x band, excluded counts)."""
    require_columns(df.columns, COLONNES, fichier)
    df = df[COLONNES].apply(lambda c: c.astype(str).str.strip()).reset_index(drop=True)
    exiger_selection(df["ADEC"].eq(annee).any(), fichier, f"aucun décès de l'année {annee} (ADEC)", df["ADEC"],
                     "années de décès présentes")
    _codes(df, "ADEC", fichier, f"ce fichier est celui des décès de {annee}", df["ADEC"].eq(annee))
    _codes(df, "SEXE", fichier, "attendu 1 (masculin) ou 2 (féminin)", df["SEXE"].isin(["1", "2"]))
    _codes(df, "COMDOM", fichier, "code commune sur cinq caractères ou vide attendu",
           df["COMDOM"].str.fullmatch(r"(\d{5}|2[AB]\d{3}|)"))
    etranger = df["DEPDOM"].eq("99") | df["COMDOM"].str.startswith("99")
    sans_commune = ~etranger & df["COMDOM"].eq("")
    sans_age = ~etranger & ~sans_commune & df["ANAIS"].isin(["", "0000", "XXXX"])
    exiger_selection((~(etranger | sans_commune)).any(), fichier,
                     "aucun décès avec une commune de domicile (COMDOM)", df["DEPDOM"],
                     "départements de domicile présents")
    gardes = df[~(etranger | sans_commune | sans_age)]
    ages = age_au_deces(gardes, fichier) if len(gardes) else pd.Series(dtype=int)
    comptes = (pd.DataFrame({"annee": annee, "code": gardes["COMDOM"], "sexe": gardes["SEXE"],
                             "tranche": tranche(ages) if len(gardes) else pd.Series(dtype=str)})
               .groupby(["annee", "code", "sexe", "tranche"], as_index=False).size().rename(columns={"size": "deces"}))
    exclus = pd.DataFrame({"annee": annee, "motif": [MOTIF_ETRANGER, MOTIF_SANS_COMMUNE, MOTIF_AGE],
                           "deces": [int(etranger.sum()), int(sans_commune.sum()), int(sans_age.sum())]})
    exclus = exclus[exclus["deces"] > 0].reset_index(drop=True)
    return (strings(validate(comptes.astype({"deces": int}), DECES, fichier)),
            strings(validate(exclus.astype({"deces": int}), EXCLUS, fichier)))


def motif_membre(annee: str) -> str:
    """The name (without folders, case-insensitive) of the one data member of a year's zip: FD_DEC_<YYYY>.csv in
    the csv zips; any data file of the year but the dictionary (varmod_…) otherwise."""
    return rf"(?!varmod)[^/]*{annee}[^/]*\.(csv|parquet)"


def read_year(path: Path, annee: str) -> tuple[pd.DataFrame, str]:
    """The death table of one year's zip (CSV member, or parquet), every cell as text."""
    zf, member = zip_member(path, motif_membre(annee))
    fichier = f"{path.name}/{member}"
    with zf:
        data = zf.read(member)
    if member.lower().endswith(".parquet"):
        import io
        try:
            df = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise SourceFormatError(f"Fichier {fichier} illisible comme parquet : {exc}") from exc
        df.columns = [str(c).strip().upper() for c in df.columns]
        return df.astype("string").fillna(""), fichier
    df = read_table(data, fichier, sep=";", usecols=lambda c: c.strip().upper() in COLONNES)
    df.columns = [c.upper() for c in df.columns]
    return df, fichier


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `annees` = the years of death, `files` = one URL per year (key: year)."""
    try:
        annees = [str(a) for a in spec["annees"]]
        urls = {str(k): v for k, v in spec["files"].items()}
    except KeyError as exc:
        raise SourceFormatError(f"Registre des sources : clé {exc} manquante pour les fichiers détail des décès.") from None
    comptes, exclus = [], []
    for annee in annees:
        if annee not in urls:
            raise SourceFormatError(f"Registre des sources : pas de fichier pour l'année de décès {annee}.")
        path = folder / local_name(urls[annee])
        if not path.is_file():
            raise SourceFormatError(f"Fichier détail des décès {annee} absent : {path}.")
        df, fichier = read_year(path, annee)
        c, e = parse_table(df, fichier, annee)
        comptes.append(c)
        exclus.append(e)
    return {"stg_etatcivil_deces": pd.concat(comptes, ignore_index=True),
            "stg_etatcivil_deces_exclus": pd.concat(exclus, ignore_index=True)}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_etatcivil_deces": DECES, "stg_etatcivil_deces_exclus": EXCLUS}


def annees_de(spec: dict) -> str:
    """« 2019-2023 »: the pooled years of a vintage."""
    annees = sorted(str(a) for a in spec.get("annees", []))
    return f"{annees[0]}-{annees[-1]}" if annees else ""

