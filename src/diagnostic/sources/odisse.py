"""Parser of the Santé publique France Odissé exports (Opendatasoft portal
`https://odisse.santepubliquefrance.fr`): vaccination coverage of adolescents and adults
(`couvertures-vaccinales-des-adolescent-et-adultes-departement`, `…-depuis-2011-region`, `…-depuis-2011-france`)
and participation in organised cancer screening (`cancer-participation-au-depistage-organise-du-cancer-du-sein_dep`,
`cancer-participation-au-depistage-organise-du-cancer-du-colon-rectum-departement-copie`).

A user may hold either form of a dataset, and the parser reads both without the catalogue record:

- the API export `…/catalog/datasets/<id>/exports/csv?delimiter=%3B` (`;`) or `…/exports/json` (a list of flat
  records): **field names** (`an_mesure`, `dep`, `grip_65plus`…);
- the download of the portal page: **labels** as header (`Année`, `Département Code`, `Grippe 65 ans et plus`…),
  UTF-8 with BOM, CRLF, `,` separator (`;` for the France file).

Labels are mapped back to field names through `LIBELLES` (label -> field), read off the genuine files of
`realdata/odisse-vaccination/`: the portal CSV and the JSON export of each dataset hold the same columns in
the same order. A dataset's catalogue record (`…/catalog/datasets/<id>`, JSON: `dataset_id`,
`fields[{name, label, type}]`), when the registry lists one (screening, whose field names were never seen),
adds its own mapping and the id actually served.

The registry's vintage table says which level the file describes (`niveau`: departement, region, france), the
staging table (`table`), and for each measure the candidate field names and a label regex
(`mesures.<mesure> = { champs = [...], libelle = "regex" }`). A measure found in neither is an error
(`exiger_selection`: the producer renamed a field or the file is not the dataset expected), never a quiet gap.

Built-in total rows are kept apart: in a département file, a row with département code `0`/`00`/empty is the
France total (or, with a région code, a région total); in a région file, région code `0`/empty is France.
`NC` / `NS` stay a status (never 0).

Grain: `<table>` one row per (annee, territoire_type, territoire_code, mesure); `annee` is the year field as
published (`2024`, or a period `2024-2025` for screening). `<table>_champs` one row per measure: the dataset id
and the field read (provenance of the figures).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, validate
from .lecture import data_files, empty_frame, header, numbers, read_table, strings

NIVEAUX = ("departement", "region", "france")

# Label (portal download) -> field name (API export) of the vaccination datasets, as the genuine files of
# realdata/odisse-vaccination show them (portal CSV header and JSON export keys, column for column, in the
# département, région and France files; tests/test_sources_prevention.py derives it again from them).
LIBELLES = {
    "Année": "an_mesure", "Département Code": "dep", "Département": "libgeo", "Région Code": "reg", "Région": "reglib",
    "HPV filles 1 dose à 15 ans": "hpv1_f", "HPV filles 2 doses à 16 ans": "hpv2_f",
    "HPV garçons 1 dose à 15 ans": "hpv1_g", "HPV garçons 2 doses à 16 ans": "hpv2_g",
    "Méningocoque C 10-14 ans": "menc10_14", "Méningocoque C 15-19 ans": "menc15_19", "Méningocoque C 20-24 ans": "menc20_24",
    "Grippe moins de 65 ans à risque": "grip_moins65", "Grippe 65 ans et plus": "grip_65plus",
    "Grippe 65-74 ans": "grip_6574", "Grippe 75 ans et plus": "grip_75plus", "Covid-19 65 ans et plus": "covid_65plus",
    "Grippe résidents en Ehpad": "grip_resid", "Grippe professionnels en Ehpad": "grip_pro",
    "Covid-19 résidents en Ehpad": "covid_resid", "Covid-19 professionnels en Ehpad": "covid_pro",
}
TOTAL_CODES = {"", "0", "00", "000", "fr", "france", "99"}

# Geographic / year fields: candidate names, then a label regex (catalogue record).
GEO = {
    "annee": (["an_mesure", "annee", "periode", "an"], r"(?i)^(ann[ée]e|p[ée]riode)"),
    "dep": (["dep", "code_dep", "dep_code", "departement"], r"(?i)^(d[ée]partement code|code (du )?d[ée]partement)$"),
    "reg": (["reg", "code_reg", "reg_code", "region"], r"(?i)^(r[ée]gion code|code (de la )?r[ée]gion)$"),
    "libdep": (["libgeo", "lib_dep", "libelle_departement", "dep_lib"], r"(?i)^d[ée]partement$"),
    "libreg": (["reglib", "lib_reg", "libelle_region", "reg_lib"], r"(?i)^r[ée]gion$"),
}

STG = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}(-\d{4})?$")),
        "territoire_type": pa.Column(str, pa.Check.isin(list(NIVEAUX))),
        "territoire_code": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB]|FR)$")),
        "territoire_nom": pa.Column(str, nullable=True),
        "mesure": pa.Column(str),
        "valeur": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
        "statut": pa.Column(str, pa.Check.isin(["secret", "non_disponible"]), nullable=True),
    },
    unique=["annee", "territoire_type", "territoire_code", "mesure"],
    strict=True,
    name="odisse",
)
CHAMPS = pa.DataFrameSchema(
    {"dataset_id": pa.Column(str), "mesure": pa.Column(str), "champ": pa.Column(str, nullable=True),
     "libelle": pa.Column(str, nullable=True)},
    strict=True, name="odisse_champs",
)


def lire_catalogue(path: Path) -> tuple[str, dict[str, str]]:
    """The catalogue record of a dataset (`GET …/catalog/datasets/<id>`, v2.1): (dataset_id, {name: label})."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise SourceFormatError(f"Fiche de catalogue {path.name} illisible : {exc}") from exc
    if isinstance(data, dict) and "dataset" in data and isinstance(data["dataset"], dict):  # v2.0 wrapping
        data = data["dataset"]
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise SourceFormatError(f"Fiche de catalogue {path.name} : liste « fields » absente (format Opendatasoft v2.1 attendu).")
    champs = {str(f.get("name")): str(f.get("label") or f.get("name")) for f in data["fields"] if isinstance(f, dict) and f.get("name")}
    return str(data.get("dataset_id") or path.name), champs


def _choisir(columns: list[str], champs: dict[str, str], noms: list[str], motif: str | None, fichier: str) -> str | None:
    """The column holding a field: a candidate name in the header, else a catalogue field whose label matches."""
    for n in noms:
        if n in columns:
            return n
    if motif:
        found = [n for n, label in champs.items() if n in columns and re.search(motif, label)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise SourceFormatError(f"Fichier {fichier} : plusieurs champs correspondent à « {motif} » : {', '.join(found)} ; "
                                    "précisez-le dans le registre.")
    return None


def _lire_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise SourceFormatError(f"Fichier {path.name} : JSON illisible ({exc}).") from exc


def _est_export_json(data) -> bool:
    """An API export `/exports/json` is a list of flat records (a catalogue record is an object)."""
    return isinstance(data, list)


def _fichiers(folder: Path) -> tuple[Path, Path | None]:
    """(the export, the catalogue record or None): the export is a CSV or a JSON list of records."""
    files = data_files(folder)
    fiches = [p for p in files if p.suffix.lower() != ".csv" and p.name != "csv" and _est_json(p)
              and not _est_export_json(_lire_json(p))]
    exports = [p for p in files if p not in fiches]
    if len(exports) != 1:
        raise SourceFormatError(f"Un seul export Odissé (CSV ou JSON) attendu dans {folder}, trouvé : {[p.name for p in exports]}")
    return exports[0], (fiches[0] if fiches else None)


def _est_json(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(64).lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (b"{", b"[")


def lire_export(path: Path, fichier: str) -> pd.DataFrame:
    """The export as a table of strings ('' when empty), whatever its form: a CSV (`;` or `,`, BOM, CRLF,
    field names or labels in the header) or the JSON export (list of flat records, `null` when missing)."""
    if _est_json(path):
        rows = _lire_json(path)
        if not _est_export_json(rows) or not all(isinstance(r, dict) for r in rows):
            raise SourceFormatError(f"Fichier {fichier} : liste d'enregistrements attendue (export JSON Opendatasoft).")
        colonnes = list(dict.fromkeys(k for r in rows for k in r))
        return pd.DataFrame([[("" if r.get(c) is None else str(r.get(c))) for c in colonnes] for r in rows],
                            columns=colonnes, dtype=str)
    sep = ";" if len(header(path, fichier, sep=";")) > 1 else ","
    return read_table(path, fichier, sep=sep)


def _code(text: pd.Series) -> pd.Series:
    c = text.astype(str).str.strip().str.upper()
    return c.where(~c.str.fullmatch(r"\d"), c.str.zfill(2))


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: registry vintage table with `niveau`, `table`, `dataset_id`, `mesures`."""
    niveau = spec.get("niveau", "departement")
    table = spec["table"]
    path, fiche = _fichiers(folder)
    dataset_id, du_catalogue = lire_catalogue(fiche) if fiche else (spec.get("dataset_id", ""), {})
    fichier = path.name if path.name not in ("csv", "json") else f"{dataset_id}/exports/{path.name}"
    df = lire_export(path, fichier)
    # a label header (portal download, use_labels=true) is mapped back to field names: the catalogue record
    # when there is one, else the labels read off the genuine files
    par_libelle = {**LIBELLES, **{label: name for name, label in du_catalogue.items()}}
    df.columns = [par_libelle.get(c, c) for c in df.columns]
    columns = list(df.columns)
    champs = {**{name: label for label, name in LIBELLES.items() if name in columns}, **du_catalogue}

    geo = {k: _choisir(columns, champs, *v, fichier) for k, v in GEO.items()}
    if geo["annee"] is None:
        raise SourceFormatError(f"Fichier {fichier} : champ de l'année introuvable (colonnes : {', '.join(columns)}).")
    code_col = {"departement": "dep", "region": "reg"}.get(niveau)
    if code_col and geo[code_col] is None:
        raise SourceFormatError(f"Fichier {fichier} : champ du code {'département' if code_col == 'dep' else 'région'} "
                                f"introuvable (colonnes : {', '.join(columns)}).")

    dep = _code(df[geo["dep"]]) if geo["dep"] else pd.Series("", index=df.index)
    reg = _code(df[geo["reg"]]) if geo["reg"] else pd.Series("", index=df.index)
    libdep = df[geo["libdep"]].str.strip() if geo["libdep"] else pd.Series("", index=df.index)
    libreg = df[geo["libreg"]].str.strip() if geo["libreg"] else pd.Series("", index=df.index)
    dep_total, reg_total = dep.str.lower().isin(TOTAL_CODES), reg.str.lower().isin(TOTAL_CODES)
    if niveau == "departement":
        ttype = pd.Series("departement", index=df.index).mask(dep_total & ~reg_total, "region").mask(dep_total & reg_total, "france")
        tcode = dep.mask(ttype.eq("region"), reg).mask(ttype.eq("france"), "FR")
        tnom = libdep.mask(ttype.eq("region"), libreg)
    elif niveau == "region":
        ttype = pd.Series("region", index=df.index).mask(reg_total, "france")
        tcode = reg.mask(reg_total, "FR")
        tnom = libreg
    else:
        ttype, tcode, tnom = pd.Series("france", index=df.index), pd.Series("FR", index=df.index), pd.Series("France", index=df.index)
    tnom = tnom.mask(ttype.eq("france"), "France")

    annee = df[geo["annee"]].astype(str).str.strip().str.replace(r"^(\d{4})[-/ ]+(\d{4})$", r"\1-\2", regex=True)
    annee = annee.str.extract(r"^(\d{4}(?:-\d{4})?)", expand=False).fillna(annee)
    parts, meta = [], []
    for mesure, cfg in spec.get("mesures", {}).items():
        col = _choisir(columns, champs, list(cfg.get("champs", [])), cfg.get("libelle"), fichier)
        exiger_selection(col, fichier, f"aucun champ ne correspond à la mesure « {mesure} » (champs "
                         f"{', '.join(cfg.get('champs', [])) or 'aucun'}, libellé « {cfg.get('libelle', '')} »)",
                         [f"{c} ({champs[c]})" if c in champs and champs[c] != c else c for c in columns], "champs présents")
        meta.append({"dataset_id": dataset_id, "mesure": mesure, "champ": col, "libelle": champs.get(col, col) if col else None})
        if col is None:
            continue
        valeur, statut = numbers(df, col, fichier, row_offset=2, masks=True)
        parts.append(pd.DataFrame({"annee": annee, "territoire_type": ttype, "territoire_code": tcode,
                                   "territoire_nom": tnom.where(tnom.ne(""), None), "mesure": mesure, "valeur": valeur,
                                   "statut": statut.where(statut.notna() | valeur.notna(), "non_disponible")}))
    out = pd.concat(parts, ignore_index=False) if parts else empty_frame(STG)
    out = validate(out, STG, fichier, row_offset=2)
    return {table: strings(out.reset_index(drop=True)),
            f"{table}_champs": strings(validate(pd.DataFrame(meta, columns=list(CHAMPS.columns)), CHAMPS, fichier))}


def tables(spec: dict) -> dict:
    """The staging tables a parse gives (named by the registry's vintage: `table`, one per level) and their
    schemas."""
    return {spec["table"]: STG, f"{spec['table']}_champs": CHAMPS}


def check_file(path: Path, *, name: str, spec: dict) -> None:
    """A downloaded export must be a `;`/`,` CSV or a JSON list of records with a year field, a downloaded
    record a catalogue record."""
    if _est_json(path):
        data = _lire_json(path)
        if not _est_export_json(data):
            lire_catalogue(path)
            return
        cols = list(data[0]) if data and isinstance(data[0], dict) else []
    else:
        cols = header(path, name, sep=";")
        if len(cols) <= 1:
            cols = header(path, name, sep=",")
    if not any(c in cols for c in GEO["annee"][0]) and not any(re.search(GEO["annee"][1], c) for c in cols):
        raise SourceFormatError(f"Fichier {name} : pas de champ d'année dans l'en-tête ({', '.join(cols[:20])}).")
