"""Batch mode: every territory of one kind in one set-based pass, ranked among its peers.

    run_batch(ws, "epci")                       -> reports/_national/epci.csv and epci.xlsx
    run_batch(ws, "dep")                        -> reports/_national/dep.csv and dep.xlsx
    run_batch(ws, "perimetres", Path("f.toml")) -> reports/_national/perimetres-f.csv and .xlsx

Grain of the national table: one row per (territory, indicator): the `indicateurs.csv` contract columns,
then `sens`, the rank / peer count / percentile in France, the région (majority of the population) and
the rank / peer count / percentile within it (see models/91_mart_rangs.sql for the definitions).

The indicators come from the same code as the single diagnostic (`warehouse.indicateurs`: the
models/9x_mart_indicateurs*.sql, then the secret statistique) run once over a selection holding every
territory; the ranks from models/91_mart_rangs.sql (window functions).
No Python loop runs over territories, except to word the errors of a faulty perimeters file.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import warehouse
from .config import DiagnosticError, Workspace
from .territoire import TerritoireError, _communes, normalise_code, resolve

log = logging.getLogger(__name__)

# kind given on the command line -> territoire_type in the warehouse and in the output
KINDS = {"epci": "epci", "dep": "departement", "perimetres": "perimetre"}
NATIONAL_DIR = "_national"
RANK_COLUMNS = [
    "sens", "rang_national", "nb_pairs_national", "percentile_national",
    "region_code", "region_nom", "rang_region", "nb_pairs_region", "percentile_region",
]
SENS_LIBELLE = {
    "plus_eleve_favorable": "rang 1 = valeur la plus élevée (plus élevé = plus favorable)",
    "plus_faible_favorable": "rang 1 = valeur la plus faible (plus faible = plus favorable)",
    "descriptif": "rang 1 = valeur la plus élevée (indicateur descriptif, sans jugement)",
}
KIND_LIBELLE = {"epci": "EPCI", "departement": "département", "perimetre": "périmètre"}


# --------------------------------------------------------------------------------------------- selection

def selection(con: duckdb.DuckDBPyConnection, kind: str, perimetres_file: Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """(territoire_type, territoire_code, territoire_nom, commune) for every territory of `kind`, sorted
    by territory then commune; and the warnings met while reading a perimeters file."""
    ttype = _ttype(kind)
    if ttype == "perimetre":
        if perimetres_file is None:
            raise DiagnosticError("Le mode « perimetres » demande un fichier de périmètres (--fichier <fichier.toml|.csv>).")
        return resolve_perimetres(con, perimetres_file)
    if perimetres_file is not None:
        raise DiagnosticError(f"Un fichier de périmètres ne s'utilise qu'avec le mode « perimetres » (mode demandé : {kind}).")
    df = con.execute(
        """
        SELECT territoire_type, territoire_code, territoire_nom, commune FROM int_territoire_commune
        WHERE territoire_type = ? ORDER BY territoire_code, commune
        """,
        [ttype],
    ).df()
    return df, []


def _ttype(kind: str) -> str:
    try:
        return KINDS[kind]
    except KeyError:
        raise DiagnosticError(f"Mode de traitement par lot inconnu « {kind} » (modes : {', '.join(KINDS)}).") from None


def read_perimetres(path: Path) -> list[tuple[str, str, list]]:
    """A perimeters file -> [(code, nom, [raw commune codes])], in file order.

    TOML: one `[[perimetre]]` table per perimeter with `nom`, `communes` (list of INSEE codes as strings)
    and an optional `code` (default: the name made into a slug).
    CSV (`,` or `;`, UTF-8): one row per (perimeter, commune), columns `nom`, `commune` and optional `code`.
    """
    path = Path(path)
    if not path.is_file():
        raise TerritoireError(f"Fichier de périmètres introuvable : {path}.")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        items = _read_toml(path)
    elif suffix == ".csv":
        items = _read_csv(path)
    else:
        raise TerritoireError(f"Fichier de périmètres {path} : format non reconnu (attendu : .toml ou .csv).")
    if not items:
        raise TerritoireError(f"Fichier de périmètres {path} : aucun périmètre.")
    doubles = sorted(c for c, n in Counter(code for code, _, _ in items).items() if n > 1)
    if doubles:
        raise TerritoireError(f"Fichier de périmètres {path} : code(s) de périmètre en double : {', '.join(doubles)} (donnez un « code » distinct à chacun).")
    return items


def _read_toml(path: Path) -> list[tuple[str, str, list]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TerritoireError(f"Fichier de périmètres {path} illisible : {exc}") from exc
    tables = data.get("perimetre")
    if not isinstance(tables, list):
        raise TerritoireError(f"Fichier de périmètres {path} : attendu une table [[perimetre]] par périmètre (clés nom, communes, code facultatif).")
    items, problems = [], []
    for n, t in enumerate(tables, start=1):
        unknown = sorted(set(t) - {"nom", "communes", "code", "description"})
        if unknown:
            problems.append(f"périmètre n° {n} : clé(s) inconnue(s) {', '.join(unknown)}")
        if not isinstance(t.get("nom"), str) or not t["nom"].strip():
            problems.append(f"périmètre n° {n} : « nom » manquant")
            continue
        communes = t.get("communes")
        if not isinstance(communes, list) or not all(isinstance(c, str) for c in communes):
            problems.append(f"périmètre « {t['nom']} » : « communes » doit être une liste de codes INSEE entre guillemets (ex. \"71076\")")
            continue
        items.append((_code(t.get("code"), t["nom"]), t["nom"].strip(), communes))
    if problems:
        raise TerritoireError(f"Fichier de périmètres {path} invalide : " + " ; ".join(problems) + ".")
    return items


def _read_csv(path: Path) -> list[tuple[str, str, list]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TerritoireError(f"Fichier de périmètres {path} : encodage non UTF-8 ({exc}).") from exc
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.DictReader(text.splitlines(), delimiter=sep))
    columns = {c.strip().lower() for c in (rows[0].keys() if rows else [])}
    missing = [c for c in ("nom", "commune") if c not in columns]
    if missing:
        raise TerritoireError(f"Fichier de périmètres {path} : colonne(s) {', '.join(missing)} absente(s) (colonnes attendues : nom, commune, code facultatif).")
    grouped: dict[str, tuple[str, list]] = {}
    for row in rows:
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not row.get("nom"):
            continue
        code = _code(row.get("code"), row["nom"])
        grouped.setdefault(code, (row["nom"], []))[1].append(row["commune"])
    return [(code, nom, communes) for code, (nom, communes) in grouped.items()]


def _code(code, nom: str) -> str:
    if code is not None and str(code).strip():
        return str(code).strip()
    ascii_ = unicodedata.normalize("NFKD", nom).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")


def resolve_perimetres(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Resolve every perimeter of a file to current communes in one set-based check.

    Perimeters whose codes are all current communes of the France scope, written canonically and without
    duplicates are accepted at once; the others go through `territoire._communes`, so that their errors
    and warnings are worded exactly as for a single diagnostic."""
    items = read_perimetres(path)
    raw = pd.DataFrame(
        [(code, nom, str(c)) for code, nom, communes in items for c in communes],
        columns=["territoire_code", "territoire_nom", "brut"],
    )
    raw["commune"] = raw["brut"].map(normalise_code)
    raw = raw[raw["commune"] != ""]
    con.register("_codes_fichier", raw[["commune"]].drop_duplicates())
    try:
        invalid = {r[0] for r in con.sql(
            "SELECT commune FROM _codes_fichier ANTI JOIN (SELECT code FROM int_commune WHERE champ_france) c ON c.code = commune"
        ).fetchall()}
    finally:
        con.unregister("_codes_fichier")
    special = set(raw.loc[raw["commune"].isin(invalid) | (raw["commune"] != raw["brut"].str.strip())
                          | raw.duplicated(["territoire_code", "commune"]), "territoire_code"])
    special |= {code for code, _, _ in items} - set(raw["territoire_code"])  # empty perimeters
    errors, warnings = [], []
    for code, nom, communes in items:
        if code not in special:
            continue
        try:
            t = _communes(communes, con, slug=code, nom=nom, description="")
            warnings += [f"Périmètre « {nom} » : {w}" for w in t.avertissements]
        except TerritoireError as exc:
            errors.append(str(exc))
    if errors:
        raise TerritoireError(f"Fichier de périmètres {path} : " + " | ".join(errors))
    sel = raw.drop_duplicates(["territoire_code", "commune"]).assign(territoire_type="perimetre")
    sel = sel[["territoire_type", "territoire_code", "territoire_nom", "commune"]]
    return sel.sort_values(["territoire_code", "commune"], kind="stable").reset_index(drop=True), warnings


# --------------------------------------------------------------------------------------------- compute

def indicateurs(con: duckdb.DuckDBPyConnection, sel: pd.DataFrame) -> pd.DataFrame:
    """The contract for every territory of `sel`, by `warehouse.indicateurs` (the indicator marts), in one query.

    Figures equal those of a single diagnostic of the same territory to the last bit because the marts sum
    floating-point values exactly (`somme_exacte`, models/00_macros.sql): a plain floating-point sum's last
    bit follows the order of the terms, which follows DuckDB's plan (join sides, threads), see docs/scaling.md."""
    return warehouse.indicateurs(con, sel)


def rangs(con: duckdb.DuckDBPyConnection, sel: pd.DataFrame, ind: pd.DataFrame) -> pd.DataFrame:
    """Contract rows + sens, ranks, peer counts and percentiles (models/91_mart_rangs.sql)."""
    con.register("selection_territoire", sel)
    con.register("batch_indicateurs", ind)
    try:
        df = con.sql(warehouse.model_sql("91_mart_rangs.sql")).df()
    finally:
        con.unregister("batch_indicateurs")
        con.unregister("selection_territoire")
    for col in ("rang_national", "nb_pairs_national", "rang_region", "nb_pairs_region"):
        df[col] = df[col].astype("Int64")
    return df


def national(con: duckdb.DuckDBPyConnection, kind: str, perimetres_file: Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The national long table of `kind` (see module docstring) and the warnings."""
    sel, warnings = selection(con, kind, perimetres_file)
    return rangs(con, sel, indicateurs(con, sel)), warnings


def rangs_pour(con: duckdb.DuckDBPyConnection, kind: str, code: str) -> pd.DataFrame:
    """Where one EPCI (`kind="epci"`, SIREN) or département (`kind="dep"`) stands among all those of
    France and of its région: its rows of the national table, one per indicator.

    Codes are checked by `territoire.resolve`, hence the same French errors as `TERRITOIRE=epci:...`."""
    if kind not in ("epci", "dep"):
        raise DiagnosticError(f"rangs_pour : mode « {kind} » non pris en charge (modes : epci, dep).")
    t = resolve(f"{kind}:{code}", con, Path("."))
    canonical = t.slug.split("-", 1)[1].upper()
    df, _ = national(con, kind)
    return df[df["territoire_code"] == canonical].reset_index(drop=True)


# --------------------------------------------------------------------------------------------- write

def output_name(kind: str, perimetres_file: Path | None) -> str:
    if kind == "perimetres" and perimetres_file is not None:
        return "perimetres-" + (_code(None, Path(perimetres_file).stem) or "fichier")
    return kind


def run_batch(ws: Workspace, kind: str, perimetres_file: Path | None = None) -> dict[str, Path]:
    """Compute the national table of `kind` from the built warehouse and write
    `reports/_national/<nom>.csv` (long) and `.xlsx` (wide), each through a temporary file.

    Returns {"csv": path, "xlsx": path}; the warnings of a perimeters file are logged and written in the
    XLSX's first sheet."""
    _ttype(kind)
    with warehouse.connect(ws) as con:
        df, warnings = national(con, kind, perimetres_file)
    for w in warnings:
        log.warning(w)
    out = ws.reports / NATIONAL_DIR
    out.mkdir(parents=True, exist_ok=True)
    name = output_name(kind, perimetres_file)
    paths = {"csv": out / f"{name}.csv", "xlsx": out / f"{name}.xlsx"}
    _atomic(paths["csv"], lambda tmp: write_csv(df, tmp))
    _atomic(paths["xlsx"], lambda tmp: write_xlsx(df, tmp, kind=KINDS[kind], warnings=warnings))
    return paths


def _atomic(target: Path, write) -> None:
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8, comma, `.` decimal, shortest round-trip decimal form of each double (DuckDB's writer: about
    50 times faster than pandas' on 60 000 rows)."""
    con = duckdb.connect()
    try:
        con.register("_national", df)
        con.sql("SELECT * FROM _national").write_csv(str(path), header=True)
    finally:
        con.close()


DECIMALES = {"communes": 0, "habitants": 0, "km²": 1, "hab./km²": 1, "%": 1}
SHEETS = [  # column of the long table -> sheet of the workbook
    ("valeur", "Valeurs"),
    ("rang_national", "Rangs France"),
    ("rang_region", "Rangs région"),
]


def _num_format(unite: str) -> str:
    d = DECIMALES.get(unite, 2)
    return "#,##0" + ("." + "0" * d if d else "")


def write_xlsx(df: pd.DataFrame, path: Path, *, kind: str, warnings: list[str] = ()) -> None:
    """Wide workbook, one row per territory and one column per indicator: `Lisez-moi` (definitions, sens
    and peers of each indicator), `Valeurs`, `Rangs France`, `Rangs région`. Frozen header and code/name
    columns, filters, French headers. Percentiles and peer counts per territory are in the CSV."""
    import xlsxwriter

    indicateurs = list(dict.fromkeys(df["indicateur"]))
    meta = df.drop_duplicates("indicateur").set_index("indicateur")
    pairs = df.groupby("indicateur")["nb_pairs_national"].max()
    terr = df.drop_duplicates("territoire_code")[["territoire_code", "territoire_nom", "region_code", "region_nom"]]
    terr = terr.reset_index(drop=True)
    label = KIND_LIBELLE[kind]
    # names come from users' files: never let "=..." become a formula or "http..." a link
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    try:
        head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
        bold = wb.add_format({"bold": True, "valign": "top"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        entier = wb.add_format({"num_format": "#,##0"})
        fmts = {u: wb.add_format({"num_format": _num_format(u)}) for u in set(meta["unite"].fillna(""))}

        ws = wb.add_worksheet("Lisez-moi")
        ws.set_column(0, 0, 30, bold)
        ws.set_column(1, 1, 60, wrap)
        ws.set_column(2, 7, 18, wrap)
        lines = [
            ("Contenu", f"Indicateurs de tous les territoires de type {label} ({len(terr)}), avec leur rang parmi les territoires "
                        f"de ce type en France et dans leur région. Même calcul que le diagnostic d'un territoire."),
            ("Feuilles", "Valeurs : la valeur de chaque indicateur. Rangs France, Rangs région : le rang du territoire parmi ses pairs. "
                         "Le fichier CSV du même nom donne aussi les percentiles, le nombre de pairs de chaque territoire, les "
                         "numérateurs, dénominateurs et statuts."),
            ("Rang", "1 = le mieux placé dans le sens de l'indicateur (colonne « Sens ») ; les ex æquo partagent le même rang "
                     "(1, 2, 2, 4). Une valeur manquante ou soumise au secret statistique n'est pas classée et ne compte pas parmi les pairs."),
            ("Percentile (CSV)", "Part des autres territoires dont la valeur est strictement inférieure (0 = la plus faible, 1 = la plus élevée), quel que soit le sens."),
            ("Région", "Région où réside la majorité de la population du territoire (un EPCI peut déborder sur deux régions)."),
        ]
        lines += [("Avertissement", w) for w in warnings]
        for r, line in enumerate(lines):
            ws.write_row(r, 0, line)
        r = len(lines) + 1
        ws.write_row(r, 0, ["Indicateur", "Libellé", "Unité", "Sens", "Pairs (France)", "Source", "Millésime"], head)
        for r, i in enumerate(indicateurs, start=r + 1):
            ws.write_row(r, 0, [i, meta.loc[i, "libelle"], meta.loc[i, "unite"], SENS_LIBELLE[meta.loc[i, "sens"]],
                                int(pairs[i]), meta.loc[i, "source"], meta.loc[i, "millesime"]])

        ids = ["Code", "Nom", "Code région", "Région"]
        for column, title in SHEETS:
            wide = df.pivot(index="territoire_code", columns="indicateur", values=column).reindex(
                index=terr["territoire_code"], columns=indicateurs)
            ws = wb.add_worksheet(title)
            ws.set_column(0, 0, 12)
            ws.set_column(1, 1, 40)
            ws.set_column(2, 2, 8)
            ws.set_column(3, 3, 26)
            for c, i in enumerate(indicateurs, start=len(ids)):
                ws.set_column(c, c, 16, fmts[meta.loc[i, "unite"] or ""] if column == "valeur" else entier)
            if column == "valeur":
                headers = [f"{meta.loc[i, 'libelle']} ({meta.loc[i, 'unite']})" for i in indicateurs]
            else:
                headers = [f"{meta.loc[i, 'libelle']} — rang" for i in indicateurs]
            ws.set_row(0, 60)
            ws.write_row(0, 0, ids + headers, head)
            ws.freeze_panes(1, 2)
            ws.autofilter(0, 0, len(terr), len(ids) + len(indicateurs) - 1)
            labels = terr.astype(object).where(terr.notna(), None).itertuples(index=False, name=None)
            values = wide.to_numpy(dtype="float64", na_value=np.nan).tolist()
            for r, (lab, row) in enumerate(zip(labels, values), start=1):
                ws.write_row(r, 0, lab)
                for c, v in enumerate(row, start=len(ids)):
                    if v == v:  # NaN: blank cell
                        ws.write_number(r, c, v)
    finally:
        wb.close()


# --------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    """`python -m diagnostic.batch --kind epci|dep|perimetres [--fichier F] [--mirror M]`: the same as
    `diagnostic batch` (ingest what is missing, build, then batch), usable before the CLI is wired."""
    import argparse
    import sys
    import time

    parser = argparse.ArgumentParser(prog="python -m diagnostic.batch")
    parser.add_argument("--kind", choices=list(KINDS))
    parser.add_argument("--fichier", type=Path)
    parser.add_argument("--mirror")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        kind = args.kind or ("perimetres" if args.fichier else None)
        if kind is None:
            raise DiagnosticError("Indiquez le type de territoires : --kind epci, --kind dep ou --kind perimetres --fichier <fichier>.")
        if args.mirror:
            os.environ["DIAGNOSTIC_MIRROR"] = args.mirror if args.mirror.startswith(("http://", "https://")) else str(Path(args.mirror).resolve())
        from .pipeline import prepare

        ws = Workspace.find()
        prepare(ws)
        paths = run_batch(ws, kind, args.fichier.resolve() if args.fichier else None)
    except DiagnosticError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    print(f"Tables nationales écrites : {paths['csv']}, {paths['xlsx']} en {time.perf_counter() - start:.1f} s.", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
