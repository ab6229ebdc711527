"""Local data a CPTS brings itself: commune-level figures that no open source gives.

Where: every `*.csv` / `*.xlsx` file of `data/territoires/<slug>/local/` (beside the perimeter file
`data/territoires/<slug>.toml`). Two formats are accepted, recognised by their header:

1. **Indicateurs locaux** (long format, one row per commune × indicator; `;` or `,` separator, UTF-8 or
   Windows-1252, decimal comma accepted):

   | column         | required | content                                                                      |
   |----------------|----------|------------------------------------------------------------------------------|
   | `code_commune` | yes      | INSEE code (`71153`, `2A004`); a code that lost its leading zero is restored |
   | `indicateur`   | yes      | stable id, lower case and `_` (`patients_sans_mt`)                           |
   | `libelle`      | yes      | French label                                                                 |
   | `valeur`       | yes      | a **count** for the commune (summed over the territory); `NS`/`NC`/`s` kept as a status |
   | `annee`        | yes      | year of the figure (`2025`)                                                  |
   | `source`       | yes      | who produced it (`CPAM de Saône-et-Loire`)                                   |
   | `unite`        | no       | unit of the count (`patients`)                                               |
   | `denominateur` | no       | when given on every row of an indicator, the territory value is the rate     |
   |                |          | 100 × Σ valeur / Σ denominateur (%)                                         |
   | `theme`        | no       | report section (default « Accès aux soins »)                                 |

2. **Zonage des médecins de l'ARS** (arrêté régional, CartoSanté export or DGOS workbook, as published):
   a commune code column (`Code commune`, `INSEE`, `Code INSEE`, `CODGEO`, `Identifiant unique`…, several
   codes separated by commas accepted) and a zonage column (header containing `zonage` or `qualification`),
   values `ZIP`, `ZAC`, `ZAR`, `ZV`, `HZ` or the CartoSanté codes (`1_ZIP`, `3_QPV_ZIP`, `7_GQ_ZAC`, `5_ZV`…).
   The header may sit below title rows (CartoSanté: row 4). A commune listed several times (QPV rows) keeps
   its strongest qualification (ZIP > ZAC > ZAR > ZV > HZ). Gives `part_pop_zonage_zip|zac|zar`: population
   municipale of the territory's communes in the zone over that of its communes present in the file.

Codes are harmonised through `int_cog_passage` (former codes, communes déléguées, arrondissements), as every
source. A territory gets a value only when all its communes are in the file (else `non_disponible`): the
perimeter, and a département or région only if the file covers it whole. The CPTS is named as the source.
A malformed file raises `LocalDataError` naming the file, the row and the column.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from . import contrat, secret
from .config import DiagnosticError
from .sources import SourceFormatError, validate
from .sources.lecture import header, numbers, read_table

THEME_DEFAUT = "Accès aux soins"
ZONES = ("ZIP", "ZAC", "ZAR", "ZV", "HZ")  # strongest first
ZONES_INDICATEURS = ("ZIP", "ZAC", "ZAR")
LIBELLES_ZONES = {"ZIP": "zone d'intervention prioritaire (ZIP)", "ZAC": "zone d'action complémentaire (ZAC)",
                  "ZAR": "zone d'action renforcée (ZAR)"}
COLONNES = ["code_commune", "indicateur", "libelle", "valeur", "annee", "source"]
CODE_COMMUNE = r"(?i)^(code[ _]?(commune|insee)|insee|codgeo|depcom|code_commune|com|identifiant unique|code commune insee)$"
ZONAGE = r"(?i)(zonage|qualification)"


class LocalDataError(SourceFormatError):
    """A local data file that does not follow the documented format."""


@dataclass
class DonneesLocales:
    """Contract rows, catalogue rows and provenance entries of the local files of one territory."""

    indicateurs: pd.DataFrame
    catalogue: pd.DataFrame
    sources: list[dict] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)


@functools.cache
def _schemas():
    """(long format, ARS zonage file) schemas; pandera is imported only when a local file is read."""
    import pandera.pandas as pa

    
    long = pa.DataFrameSchema(
        {
            "code_commune": pa.Column(str, pa.Check.str_matches(r"^(\d{5}|2[AB]\d{3})$")),
            "indicateur": pa.Column(str, pa.Check.str_matches(r"^[a-z][a-z0-9_]{1,60}$")),
            "libelle": pa.Column(str, pa.Check.str_length(min_value=1)),
            "valeur": pa.Column(float, pa.Check.ge(0), nullable=True),
            "statut": pa.Column(str, pa.Check.isin(["secret", "non_disponible"]), nullable=True),
            "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
            "source": pa.Column(str, pa.Check.str_length(min_value=1)),
            "unite": pa.Column(str, nullable=True),
            "denominateur": pa.Column(float, pa.Check.gt(0), nullable=True),
            "theme": pa.Column(str, nullable=True),
        },
        unique=["code_commune", "indicateur", "annee"],
        strict=True,
        name="donnees_locales",
    )
    zonage = pa.DataFrameSchema(
        {
            "code_commune": pa.Column(str, pa.Check.str_matches(r"^(\d{5}|2[AB]\d{3})$")),
            "zonage": pa.Column(str, pa.Check.isin(list(ZONES))),
        },
        strict=True,
        name="zonage_medecins",
    )
    return long, zonage


def dossier(territoires: Path, slug: str) -> Path:
    """`data/territoires/<slug>/local/`."""
    return Path(territoires) / slug / "local"


def fichiers(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))
                  and p.suffix.lower() in (".csv", ".xlsx"))


def _norm(col: str) -> str:
    import unicodedata

    c = unicodedata.normalize("NFKD", str(col)).encode("ascii", "ignore").decode().strip().lower()
    return re.sub(r"\s+", " ", c)


def _code(text: pd.Series) -> pd.Series:
    c = text.astype(str).str.strip().str.upper().str.replace(r"\.0$", "", regex=True)
    return c.where(~c.str.fullmatch(r"\d{4}"), "0" + c)


def lire_tableau(path: Path) -> tuple[pd.DataFrame, int]:
    """(table of strings, row offset: file row number of DataFrame position 0). The header is the first row
    (CSV) or, in a workbook, the first of its first 15 rows that names a commune code column."""
    if path.suffix.lower() == ".csv":
        sep = ";" if len(header(path, path.name, sep=";")) > 1 else ","
        try:
            df = read_table(path, path.name, sep=sep)
        except SourceFormatError as exc:
            raise LocalDataError(str(exc)) from None
        return df, 2
    try:
        brut = pd.read_excel(path, sheet_name=None, header=None, dtype=str)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise LocalDataError(f"Fichier {path.name} illisible comme classeur Excel : {exc}") from None
    for feuille, table in brut.items():
        for i in range(min(15, len(table))):
            cells = [str(v).strip() for v in table.iloc[i].tolist()]
            if any(re.search(CODE_COMMUNE, _norm(c)) for c in cells if c and c != "nan"):
                df = table.iloc[i + 1:].copy()
                df.columns = [c if c and c != "nan" else f"colonne_{k + 1}" for k, c in enumerate(cells)]
                df = df.fillna("").astype(str).reset_index(drop=True)
                df = df[df.apply(lambda r: any(v.strip() for v in r), axis=1)]
                return df, i + 2
    raise LocalDataError(f"Fichier {path.name} : aucune feuille n'a de colonne de code commune (« code_commune », "
                         "« Code commune », « INSEE »…) dans ses 15 premières lignes.")


def _zone(value: str) -> str:
    v = str(value).strip().upper()
    m = re.search(r"(ZIP|ZAC|ZAR|ZV|HZ)\s*$", v)
    return m.group(1) if m else v


def lire_zonage(df: pd.DataFrame, fichier: str, row_offset: int) -> pd.DataFrame:
    cols = {_norm(c): c for c in df.columns}
    code_col = next(c for n, c in cols.items() if re.search(CODE_COMMUNE, n))
    zon = [c for n, c in cols.items() if re.search(ZONAGE, n)]
    zon_col = zon[-1]  # the latest qualification when a file has several (arrêté then national)
    rows = df[[code_col, zon_col]].copy()
    rows[code_col] = rows[code_col].astype(str).str.split(",")
    rows = rows.explode(code_col)
    out = pd.DataFrame({"code_commune": _code(rows[code_col]), "zonage": rows[zon_col].map(_zone)}, index=rows.index)
    out = out[out["code_commune"].ne("")]
    try:
        validate(out.rename(columns={"code_commune": code_col, "zonage": zon_col}),
                 _schemas()[1].rename_columns({"code_commune": code_col, "zonage": zon_col}), fichier, row_offset=row_offset)
    except SourceFormatError as exc:
        raise LocalDataError(str(exc) + f" Valeurs de zonage attendues : {', '.join(ZONES)}.") from None
    rang = out["zonage"].map({z: i for i, z in enumerate(ZONES)})
    return out.assign(_r=rang).sort_values("_r").drop_duplicates("code_commune").drop(columns="_r")


def lire_long(df: pd.DataFrame, fichier: str, row_offset: int) -> pd.DataFrame:
    df = df.rename(columns={c: _norm(c).replace(" ", "_") for c in df.columns})
    missing = [c for c in COLONNES if c not in df.columns]
    if missing:
        raise LocalDataError(
            f"Fichier {fichier} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)} (colonnes trouvées : "
            f"{', '.join(df.columns)}). Colonnes attendues : {', '.join(COLONNES)} ; facultatives : unite, "
            "denominateur, theme (voir la documentation de diagnostic.local)."
        )
    df = df.reset_index(drop=True)
    try:
        valeur, statut = numbers(df, "valeur", fichier, row_offset=row_offset, masks=True)
        den = (numbers(df, "denominateur", fichier, row_offset=row_offset)[0] if "denominateur" in df.columns
               else pd.Series(float("nan"), index=df.index))
    except SourceFormatError as exc:
        raise LocalDataError(str(exc)) from None
    texte = lambda c: df[c].astype(str).str.strip() if c in df.columns else pd.Series("", index=df.index)  # noqa: E731
    out = pd.DataFrame({
        "code_commune": _code(df["code_commune"]),
        "indicateur": texte("indicateur"),
        "libelle": texte("libelle"),
        "valeur": valeur,
        "statut": statut.where(statut.notna() | valeur.notna(), "non_disponible"),
        "annee": texte("annee").str.extract(r"(\d{4})", expand=False).fillna(texte("annee")),
        "source": texte("source"),
        "unite": texte("unite").where(texte("unite").ne(""), None),
        "denominateur": den.astype(float),
        "theme": texte("theme").where(texte("theme").ne(""), None),
    })
    try:
        return validate(out, _schemas()[0], fichier, row_offset=row_offset)
    except SourceFormatError as exc:
        raise LocalDataError(str(exc)) from None


def lire(path: Path) -> tuple[str, pd.DataFrame]:
    """("zonage" | "long", validated table) of one local file."""
    df, offset = lire_tableau(path)
    noms = [_norm(c) for c in df.columns]
    if "indicateur" not in noms and any(re.search(ZONAGE, n) for n in noms) and any(re.search(CODE_COMMUNE, n) for n in noms):
        return "zonage", lire_zonage(df, path.name, offset)
    return "long", lire_long(df, path.name, offset)


def _requete(con, nom: str, params: dict | None = None, **vues: pd.DataFrame) -> pd.DataFrame:
    """The local-data query `models/local/<nom>` with its parameters bound (`$name`), on the frames `vues`
    registered under their names for the time of the query: the one way local.py runs SQL."""
    from .warehouse import model_sql

    for name, df in vues.items():
        con.register(name, df)
    try:
        return con.execute(model_sql(nom), params or {}).df()
    finally:
        for name in vues:
            con.unregister(name)


def _harmonise(con, df: pd.DataFrame, fichier: str, row_offset: int) -> pd.DataFrame:
    """code_commune -> commune of the target COG through int_cog_passage; an unknown code is an error."""
    passage = dict(_requete(con, "local_passage.sql", _codes=pd.DataFrame({"code_source": df["code_commune"].unique()}))
                   .itertuples(index=False, name=None))
    unknown = df["code_commune"].map(passage).isna()
    if unknown.any():
        i = int(df.index.get_loc(unknown.idxmax()))
        raise LocalDataError(f"Fichier {fichier}, ligne {i + row_offset}, colonne 'code_commune' : code commune "
                             f"{df['code_commune'][unknown].iloc[0]!r} inconnu du Code officiel géographique.")
    return df.assign(commune=df["code_commune"].map(passage))


def _rows_long(con, df: pd.DataFrame, selection: pd.DataFrame, nom_source: str) -> pd.DataFrame:
    return _requete(con, "local_indicateurs.sql", {"source": nom_source}, _local=df, selection_territoire=selection)


def _rows_zonage(con, df: pd.DataFrame, selection: pd.DataFrame, nom_source: str, annee: str) -> pd.DataFrame:
    return _requete(con, "local_zonage.sql", {"zones": list(ZONES_INDICATEURS), "annee": annee, "source": nom_source},
                    _local=df, selection_territoire=selection).assign(
        libelle=lambda d: "Part de la population vivant en " + d["libelle"].map(LIBELLES_ZONES) + " (zonage médecins de l'ARS)")


def _provenance(path: Path, sid: str, titre: str, producteur: str) -> dict:
    data = path.read_bytes()
    return {"source": sid, "titre": titre, "producteur": producteur, "licence": "Données transmises par la CPTS",
            "url": "", "millesime": "", "fichier": path.name,
            "recupere_le": datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "octets": len(data), "sha256": hashlib.sha256(data).hexdigest(), "disponible": True}


CONTRAT = contrat.COLONNES
CATALOGUE = ["indicateur", "libelle", "unite", "theme", "definition", "niveau", "secret", "sujet", "produit_par"]


def charger(con: duckdb.DuckDBPyConnection, selection: pd.DataFrame, folder: Path, nom_cpts: str = "la CPTS",
            seuils: dict[str, int] | None = None) -> DonneesLocales:
    """Contract rows for the territories of `selection` from the local files of `folder` (none: empty).

    `con`: the warehouse (int_cog_passage, int_commune). Raises LocalDataError on a malformed file."""
    rows, cat, sources, warnings = [], [], [], []
    for path in fichiers(folder):
        sid = "local_" + re.sub(r"[^a-z0-9]+", "_", _norm(path.stem)).strip("_")
        kind, df = lire(path)
        offset = lire_tableau(path)[1]
        df = _harmonise(con, df, path.name, offset)
        if kind == "zonage":  # former codes of one commune: its strongest qualification
            df = (df.assign(_r=df["zonage"].map({z: i for i, z in enumerate(ZONES)})).sort_values("_r")
                  .drop_duplicates("commune").drop(columns="_r"))
            annee = re.search(r"(20\d{2})", path.stem)
            out = _rows_zonage(con, df, selection, sid, annee.group(1) if annee else "")
            titre = f"Zonage des médecins de l'ARS, transmis par {nom_cpts} ({path.name})"
            producteur = f"ARS ; fichier transmis par {nom_cpts}"
            for z in ZONES_INDICATEURS:
                cat.append({"indicateur": f"part_pop_zonage_{z.lower()}", "libelle": out.loc[out["indicateur"].eq(f"part_pop_zonage_{z.lower()}"), "libelle"].iloc[0],
                            "unite": "%", "theme": THEME_DEFAUT, "niveau": "commune", "secret": None,
                            "sujet": "Zonage des médecins (ARS)", "produit_par": "local",
                            "definition": (f"Population municipale des communes classées en {LIBELLES_ZONES[z]} par l'arrêté "
                                           "de zonage des médecins de l'ARS, rapportée à la population des communes du "
                                           f"territoire. Donnée locale transmise par {nom_cpts} (fichier {path.name}), "
                                           "non publiée en données ouvertes nationales ; une commune citée plusieurs fois "
                                           "garde sa qualification la plus forte (ZIP > ZAC > ZAR > ZV).")})
        else:
            out = _rows_long(con, df, selection, sid)
            producteurs = sorted(set(df["source"]))
            titre = f"Données locales transmises par {nom_cpts} ({path.name})"
            producteur = ", ".join(producteurs) + f" ; fichier transmis par {nom_cpts}"
            themes = df.groupby("indicateur")["theme"].first()
            for ind, g in out.groupby("indicateur", sort=False):
                first = g.iloc[0]
                unite = str(first["unite"] or "")
                cat.append({"indicateur": ind, "libelle": first["libelle"], "unite": unite,
                            "theme": themes.get(ind) or THEME_DEFAUT, "niveau": "commune", "produit_par": "local",
                            "secret": "patients" if (not first["taux"] and "patient" in unite.lower()) else None,
                            "definition": (("Taux : somme des valeurs communales rapportée à la somme des dénominateurs. "
                                            if first["taux"] else "Somme des valeurs communales. ")
                                           + f"Donnée locale produite par {first['producteur']}, transmise par {nom_cpts} "
                                           f"(fichier {path.name}) ; non publiée en données ouvertes. Un territoire "
                                           "dont une commune manque au fichier n'a pas de valeur.")})
        missing = out[(out["territoire_type"] == "perimetre") & (out["statut"] == "non_disponible")]
        if len(missing):
            warnings.append(f"Données locales {path.name} : {len(missing['indicateur'].unique())} indicateur(s) sans "
                            "valeur pour le territoire (commune(s) du périmètre absente(s) du fichier ou valeur masquée).")
        rows.append(out[CONTRAT])
        sources.append(_provenance(path, sid, titre, producteur))
    indicateurs = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=CONTRAT)
    catalogue = pd.DataFrame(cat, columns=CATALOGUE).drop_duplicates("indicateur")
    if len(indicateurs):
        dup = indicateurs.duplicated(["territoire_type", "territoire_code", "indicateur"])
        if dup.any():
            raise LocalDataError(f"Données locales : l'indicateur « {indicateurs.loc[dup, 'indicateur'].iloc[0]} » "
                                 "figure dans plusieurs fichiers ; gardez-le dans un seul.")
        indicateurs = secret.apply(indicateurs, catalogue, seuils or secret.DEFAULTS)
    return DonneesLocales(indicateurs, catalogue, sources, warnings)


__all__ = ["DonneesLocales", "LocalDataError", "charger", "dossier", "fichiers", "lire", "DiagnosticError"]
