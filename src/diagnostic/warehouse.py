"""Build `data/processed/diagnostic.duckdb` from the raw files: staging tables (parsed and validated),
then the SQL models of `models/intermediaire/` in the order of their declared graph (graphe.py), the indicator
marts of `models/marts/`, then the data checks of `models/checks/`.

The warehouse is built in a temporary file and moved into place only when complete, so a reader always
sees the previous consistent state. A fingerprint of the raw files and the models skips the rebuild when
nothing changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from . import catalogue as _catalogue
from . import contrat, geo, graphe, integrite, secret, seuils as _seuils, staging
from .config import DiagnosticError, Workspace
from .fetch import read_manifest
from .ingest import raw_folder
from .registry import Source, load_registry
from .sources import SourceFormatError
from .staging import parser_module

log = logging.getLogger(__name__)

MODELS = Path(__file__).parent / "models"
REQUIRED = ("cog", "contours")  # without them there is no territory to describe


@dataclass
class BuildReport:
    rebuilt: bool
    unavailable: dict[str, str] = field(default_factory=dict)  # source id -> French reason
    warnings: list[str] = field(default_factory=list)


def model_sql(name: str) -> str:
    """The SQL of a model or query of `models/` by file name, whatever its layer folder."""
    found = sorted(MODELS.rglob(name))
    if not found:
        raise DiagnosticError(f"Modèle {name} introuvable dans {MODELS}.")
    return found[0].read_text(encoding="utf-8")


# The Python step of the graph: communes' outlines harmonised to the target COG (geo.harmonise).
GEO = graphe.Modele("geo (contours, Python)", ("int_cog_passage",), ("geo_commune", "geo_departement"))


def graphe_build() -> list[graphe.Modele]:
    """The intermediate models (`models/intermediaire/`), the Python step and the stored marts (the files of
    `models/marts/` that create a `mart_*` table), in dependency order. A model left at the root of `models/`
    (other than the macros) would never run: refused."""
    egares = [p.name for p in MODELS.glob("*.sql") if p.name != "00_macros.sql"]
    if egares:
        raise DiagnosticError(f"Modèle(s) {', '.join(sorted(egares))} à la racine de {MODELS} : rangez chacun dans "
                              "intermediaire/ (tables int_*, avec sa ligne « -- reads: »), marts/ (indicateurs) ou "
                              "rapport/ (requêtes du rapport, qui ne lisent que des marts).")
    stockes = [m for m in map(graphe.lire, sorted((MODELS / "marts").glob("*.sql"))) if m.cree]
    return graphe.ordre([graphe.lire(p) for p in sorted((MODELS / "intermediaire").glob("*.sql"))] + [GEO] + stockes)


def catalogue(seuils: dict | None = None) -> pd.DataFrame:
    """The indicator catalogue (`indicateurs.toml`, every key: see catalogue.py), in report order, with the
    thresholds `seuils` (default: those of the configuration's defaults) written in its texts."""
    return _catalogue.cadre(seuils)


def complete(ws: Workspace, source: Source, vintage: str) -> bool:
    """Every file of this vintage is on disk and in the manifest."""
    folder = raw_folder(ws, source, vintage)
    manifest = read_manifest(folder)
    return all((folder / name).is_file() and name in manifest for name in source.files(vintage))


def candidate_vintages(ws: Workspace, source: Source) -> list[str]:
    """Vintages to try, newest first: the registry's latest, then older ones held complete on disk."""
    older = sorted((v for v in source.vintages if v != source.latest and complete(ws, source, v)), reverse=True)
    return [source.latest, *older]


def fingerprint(ws: Workspace, sources: dict[str, Source]) -> str:
    h = hashlib.sha256()
    for sid in sorted(sources):
        for vintage in sorted(sources[sid].vintages):
            manifest = read_manifest(raw_folder(ws, sources[sid], vintage))
            held = complete(ws, sources[sid], vintage)
            h.update(f"{sid}/{vintage}/{held}".encode() + json.dumps(manifest, sort_keys=True).encode())
    for path in sorted(MODELS.rglob("*.sql")):
        h.update(path.read_bytes())
    h.update(_catalogue.CHEMIN.read_bytes())
    if ws.settings.is_file():
        h.update(ws.settings.read_bytes())
    for path in sorted((Path(__file__).parent / "sources").glob("*.py")) + [Path(geo.__file__)]:
        h.update(path.read_bytes())
    return h.hexdigest()


@contextmanager
def build_lock(ws: Workspace):
    """Exclusive lock on the warehouse build; a second process waits and says so."""
    ws.processed.mkdir(parents=True, exist_ok=True)
    with open(ws.processed / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("Un autre traitement construit l'entrepôt de données ; attente de la fin de celui-ci…")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def stored_build(path: Path) -> dict[str, str]:
    """The meta_build table of an existing warehouse (fingerprint, indisponibles, avertissements)."""
    if not path.exists():
        return {}
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return dict(con.sql("SELECT cle, valeur FROM meta_build").fetchall())
    except duckdb.Error:
        return {}


def build(ws: Workspace, sources: dict[str, Source], *, force: bool = False, accepter_perte: bool = False) -> BuildReport:
    """Build the warehouse if its inputs changed (or `force`). Raw files are checked against their manifest
    before they are parsed; a build that would lose the figures of a source the current warehouse holds is
    refused, the warehouse kept, unless `accepter_perte` (`integrite.garder_les_chiffres`)."""
    with build_lock(ws):
        fp = fingerprint(ws, sources)
        stored = stored_build(ws.warehouse)
        if not force and stored.get("fingerprint") == fp:
            return BuildReport(rebuilt=False, unavailable=json.loads(stored["indisponibles"]),
                               warnings=json.loads(stored["avertissements"]))
        for stale in ws.processed.glob(f".{ws.warehouse.name}.*.tmp*"):  # left by a killed build
            stale.unlink(missing_ok=True)  # safe: we hold the build lock
        tmp = ws.warehouse.with_name(f".{ws.warehouse.name}.{os.getpid()}.tmp")
        try:
            report = _build_into(tmp, ws, sources, fp, _seuils.lire(ws.settings), accepter_perte)
            os.replace(tmp, ws.warehouse)
        finally:
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)
        return report


def meta_rows(sources: dict[str, Source], used: dict[str, str]) -> list[tuple]:
    """(cle, source, millesime): the vintage used for each source, plus the vintages it declares for its
    parts (`millesimes` in the registry, e.g. the two APL years of one workbook)."""
    rows = []
    for sid, source in sources.items():
        vintage = used.get(sid, source.latest)
        rows.append((sid, sid, vintage))
        rows += [(k, sid, str(v)) for k, v in source.vintage(vintage).get("millesimes", {}).items()]
    return rows


def _build_into(path: Path, ws: Workspace, sources: dict[str, Source], fp: str, seuils: dict[str, float],
                accepter_perte: bool = False) -> BuildReport:
    report = BuildReport(rebuilt=True)
    staged: dict = {}
    used: dict[str, str] = {}
    integrite.refuser_avant_lecture(ws.warehouse, {sid: [(raw_folder(ws, s, v), list(s.files(v))) for v in candidate_vintages(ws, s)
                                                         if complete(ws, s, v)] for sid, s in sources.items()},
                                    accepter_perte=accepter_perte)
    for sid, source in sources.items():
        problems = []
        for vintage in candidate_vintages(ws, source):
            folder = raw_folder(ws, source, vintage)
            try:
                if not complete(ws, source, vintage):
                    raise SourceFormatError(f"fichiers bruts absents ou incomplets dans {folder}")
                integrite.verifier_avant_lecture(folder, source.files(vintage))  # sha256 against the manifest
                staged[sid] = parser_module(source).parse(folder, source.vintage(vintage))
                used[sid] = vintage
                break
            except SourceFormatError as exc:
                problems.append(f"millésime {vintage} : {exc}")
        if sid not in used:
            if sid in REQUIRED:
                raise DiagnosticError(f"Source indispensable « {source.titre} » ({sid}) inutilisable : " + " ; ".join(problems))
            report.unavailable[sid] = " ; ".join(problems)  # its staging tables are created empty (staging.py)
        elif problems:
            report.warnings.append(f"Source {sid} : " + " ; ".join(problems) + f" ; millésime {used[sid]} utilisé.")
    for sid in integrite.garder_les_chiffres(ws.warehouse, report.unavailable, accepter_perte=accepter_perte):
        report.warnings.append(f"Source {sid} : ses chiffres, présents dans l'entrepôt précédent, sont abandonnés (--accepter-perte).")
    meta = meta_rows(sources, used)
    con = duckdb.connect(str(path))
    try:
        run_models(con, staged, meta, report, seuils, sources)
        for (table,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'int_%_codes_inconnus' ORDER BY 1").fetchall():
            unknown = con.sql(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if unknown:
                report.warnings.append(
                    f"{unknown} ligne(s) de source sans commune correspondante au COG {used.get('cog', '')} "
                    f"(table {table} de l'entrepôt) : leurs chiffres ne sont rattachés à aucun territoire."
                )
        con.execute("CREATE TABLE meta_build (cle VARCHAR, valeur VARCHAR)")
        con.executemany(
            "INSERT INTO meta_build VALUES (?, ?)",
            [("fingerprint", fp), ("indisponibles", json.dumps(report.unavailable, ensure_ascii=False)),
             ("avertissements", json.dumps(report.warnings, ensure_ascii=False))],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return report


_create = staging.create


def run_models(con: duckdb.DuckDBPyConnection, staged: dict[str, dict], meta: list[tuple], report: BuildReport,
               seuils: dict[str, float] | None = None, sources: dict[str, Source] | None = None) -> None:
    """Load the staging tables, then run the models in order and the data checks.

    `staged`: source id -> {table name -> DataFrame} (contours: GeoDataFrames); `meta`: (cle, source, millesime);
    `seuils`: the thresholds of `pipelines/diagnostic.toml` (missing keys: defaults, see seuils.py); `sources`:
    the registry (default: the workspace's), whose sources not staged get empty staging tables from their
    parsers' schemas (staging.py)."""
    seuils = _seuils.completer(seuils)
    sources = load_registry(Workspace.find().registry) if sources is None else sources
    staging.charger(con, staged, sources)
    _create(con, "meta_source", pd.DataFrame(meta, columns=["cle", "source", "millesime"]))
    _create(con, "ref_indicateur", catalogue(seuils))
    _create(con, "meta_seuil", pd.DataFrame(list(seuils.items()), columns=["cle", "valeur"]).astype({"valeur": float}))
    _create(con, "meta_secret", pd.DataFrame([(k, seuils[k]) for k in secret.DEFAULTS], columns=["cle", "seuil"]))
    con.execute(model_sql("00_macros.sql"))
    modeles = graphe_build()
    _staging_lu(con, modeles)
    for model in modeles:  # staging -> int_* -> stored mart_*, in the order of the declared graph
        if model is GEO:
            _build_geo(con, staged["contours"], report)
        else:
            con.execute(model.chemin.read_text(encoding="utf-8"))
            masquer(con, [t for t in model.cree if t.startswith("mart_")])
    con.execute("CREATE TEMP VIEW selection_territoire AS SELECT * FROM int_territoire_commune")
    mart = _masked(con, _contrat(con, con.sql(indicateurs_sql()).df()))
    con.execute("DROP VIEW selection_territoire")
    jamais = contrat.jamais_produits(mart, con.sql("SELECT indicateur, produit_par FROM ref_indicateur").df())
    if jamais:
        raise DiagnosticError(
            f"Catalogue {_catalogue.CHEMIN.name} : indicateur(s) {', '.join(f'« {i} »' for i in jamais)} produit(s) par aucun "
            "modèle models/marts/9*_mart_indicateurs*.sql. Ajoutez le modèle qui le calcule, ou retirez l'entrée du catalogue "
            "(un indicateur ajouté à l'exécution par un autre module déclare produit_par = \"<module>\").")
    _create(con, "mart_indicateurs", mart)
    _run_checks(con)


def _staging_lu(con: duckdb.DuckDBPyConnection, modeles: list[graphe.Modele]) -> None:
    """Every staging table a model declares reading exists (parsed, or created empty from a registered source's
    schema): else the build stops naming the model and the table."""
    presentes = {t for (t,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    manque = [(m.nom, t) for m in modeles for t in m.lit if t.startswith("stg_") and t not in presentes]
    if manque:
        raise DiagnosticError("Table(s) de préparation absente(s) : " + " ; ".join(
            f"{t} (lue par {nom})" for nom, t in manque) + ". Aucune source du registre ne la déclare "
            "(fonction tables() de son analyseur, sources/<analyseur>.py).")


def _build_geo(con: duckdb.DuckDBPyConnection, tables: dict, report: BuildReport) -> None:
    passage = con.sql("SELECT code_source, code_commune FROM int_cog_passage").df()
    communes, unknown = geo.harmonise(tables["geo_commune_2018"], passage)
    if len(unknown):
        report.warnings.append(f"Contours : {len(unknown)} polygone(s) sans commune au COG cible : {', '.join(unknown['code'][:10])}.")
    _create(con, "geo_commune", geo.to_wkb_frame(communes, ["code", "superficie_km2"]))
    _create(con, "geo_departement", geo.to_wkb_frame(tables["geo_departement"], ["code", "nom"]))


def _run_checks(con: duckdb.DuckDBPyConnection) -> None:
    """Data checks: each SQL file returns offending rows; any row stops the build."""
    for check in sorted((MODELS / "checks").iterdir(), key=lambda p: p.name):
        if not check.name.endswith(".sql"):
            continue
        rows = con.sql(check.read_text(encoding="utf-8")).fetchmany(5)
        if rows:
            raise DiagnosticError(f"Contrôle de données « {check.name} » en échec : {rows}")


def connect(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the built warehouse."""
    if not ws.warehouse.exists():
        raise DiagnosticError(f"Entrepôt {ws.warehouse} absent : lancez d'abord `diagnostic build` (ou make diagnostic).")
    return duckdb.connect(str(ws.warehouse), read_only=True)


def _masked(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    """Secret statistique after aggregation, with the thresholds the warehouse was built with."""
    seuils = dict(con.sql("SELECT cle, seuil FROM meta_secret").fetchall())
    return secret.apply(df, con.sql("SELECT * FROM ref_indicateur").df(), seuils)


def masquer(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Secret statistique in stored marts at commune grain (``mart_commune``), by the masking of the indicator
    rows (``_masked``: diagnostic.secret.apply, thresholds of the build): a column named for a catalogued
    indicator under secrecy (``secret`` in indicateurs.toml), with its status column ``statut_<id>``, is read as
    one row per commune, masked, and its masked cells written back (value NULL, status ``secret``)."""
    secrets = {i for (i,) in con.sql("SELECT indicateur FROM ref_indicateur WHERE secret IS NOT NULL").fetchall()} \
        if "secret" in con.sql("SELECT * FROM ref_indicateur LIMIT 0").columns else set()
    for table in tables:
        colonnes = con.sql(f'SELECT * FROM "{table}" LIMIT 0').columns
        for col in [c for c in colonnes if c in secrets and f"statut_{c}" in colonnes and "code" in colonnes]:
            lignes = con.sql(f"""SELECT 'commune' AS territoire_type, code AS territoire_code, '{col}' AS indicateur,
                                        {col}::DOUBLE AS valeur, {col}::DOUBLE AS numerateur, statut_{col} AS statut
                                 FROM "{table}" WHERE statut_{col} IS DISTINCT FROM 'secret'""").df()
            masques = lignes.loc[_masked(con, lignes)["statut"].eq("secret"), ["territoire_code"]]
            con.register("_masques", masques)
            try:
                con.execute(f'UPDATE "{table}" SET {col} = NULL, statut_{col} = \'secret\' '
                            "WHERE code IN (SELECT territoire_code FROM _masques)")
            finally:
                con.unregister("_masques")


def indicateurs_sql() -> str:
    """All indicator marts (`9x_mart_indicateurs*.sql`, each returning the rows of `contrat.LIGNE` for
    `selection_territoire`) as one query through the `contrat` macro (00_macros.sql: label and unit from the
    catalogue, types, statut of a missing value), ordered by territory then catalogue order. A row whose id is
    missing from the catalogue keeps its row (no label): `_contrat` stops on it."""
    parts = [p.read_text(encoding="utf-8").strip().rstrip(";") for p in sorted((MODELS / "marts").glob("9*_mart_indicateurs*.sql"))]
    union = "\nUNION ALL BY NAME\n".join(f"SELECT {', '.join(contrat.LIGNE)} FROM ({part})" for part in parts)
    return f"""
        WITH lignes AS ({union})
        SELECT * EXCLUDE (ordre) FROM contrat('lignes')
        ORDER BY CASE territoire_type WHEN 'perimetre' THEN 0 WHEN 'epci' THEN 1 WHEN 'departement' THEN 2
                                      WHEN 'region' THEN 3 ELSE 4 END,
                 territoire_code, ordre
    """


def _contrat(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    """The marts' rows, checked against the contract: its columns in order, every id in the catalogue."""
    inconnus = contrat.hors_catalogue(df, con.sql("SELECT indicateur FROM ref_indicateur").df())
    if inconnus:
        raise DiagnosticError(
            f"Indicateur(s) {', '.join(f'« {i} » (source {s})' for i, s in inconnus)} produit(s) par les modèles "
            f"models/marts/9*_mart_indicateurs*.sql mais absent(s) du catalogue {_catalogue.CHEMIN.name} : ajoutez-y "
            "leur entrée (libelle, unite, theme, definition).")
    if list(df.columns) != contrat.COLONNES:
        raise DiagnosticError(f"La macro contrat (models/00_macros.sql) donne les colonnes {list(df.columns)} ; "
                              f"le contrat indicateurs.csv attend {contrat.COLONNES}.")
    return df


def indicateurs(con: duckdb.DuckDBPyConnection, selection: pd.DataFrame) -> pd.DataFrame:
    """The contract table for the territories of `selection` (territoire_type, territoire_code,
    territoire_nom, commune), computed by the same SQL as the stored mart."""
    con.register("selection_territoire", selection)
    try:
        return _masked(con, _contrat(con, con.sql(indicateurs_sql()).df()))
    finally:
        con.unregister("selection_territoire")
