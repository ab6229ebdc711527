"""Batch reports: the diagnostic of many territories of one kind (EPCI, départements) in one run.

Each territory gets the same report as `diagnostic run epci:<SIREN>` (HTML, XLSX, CSV, maps, provenance), without
the Word file and, unless `--pdf`, without the PDF, with maps for the screen (120 dpi PNG, no SVG; 200 dpi with `--pdf`), in `reports/_rapports/<kind>/<slug>/`. Set-based wherever the work is shared:

- one SQL query computes the indicators of every territory and of all their comparators (`warehouse.indicateurs`
  on one selection), so a territory's figures are those of its single diagnostic, bit for bit;
- the communes' geometry, the outlines, the catalogue, the provenance, the series, the age pyramids and the
  FINESS establishments are read once;
- the reports themselves (about 1 s of matplotlib each) are written by worker processes, which inherit all of
  the above when they fork (`report.parallele`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import pipeline, provenance, warehouse
from .config import DiagnosticError, Workspace
from .registry import Source
from .territoire import Territoire, resolve

DOSSIER = "_rapports"
PREFIXES = {"epci": "epci", "dep": "dep"}  # --kind -> prefix of the TERRITOIRE form
TYPES = {"epci": "epci", "dep": "departement"}  # --kind -> territoire_type of int_territoire_commune


@dataclass
class Lot:
    """What the workers share: the territories, their indicators, and the rest read once."""

    territoires: list[Territoire]
    indicateurs: pd.DataFrame
    fond: pipeline.Fond
    series: pd.DataFrame
    pyramides: pd.DataFrame
    etablissements: pd.DataFrame
    prov: list[dict]
    result: pipeline.RunReport
    comparateurs: dict[str, tuple[set, set]]  # slug -> (départements, régions) of its communes
    dossier: Path
    ws: Workspace


def codes(con, kind: str, limite: int | None = None, choisis: list[str] | None = None) -> list[str]:
    """Codes of every territory of `kind` (or those `choisis`, each checked by `resolve`), in code order, the
    first `limite` ones."""
    if kind not in TYPES:
        raise DiagnosticError(f"Rapports par lot : type « {kind} » inconnu (epci ou dep).")
    if choisis:
        out = sorted(dict.fromkeys(c.strip() for c in choisis))
    else:
        sql = "SELECT DISTINCT territoire_code FROM int_territoire_commune WHERE territoire_type = ? ORDER BY 1"
        out = [r[0] for r in con.execute(sql, [TYPES[kind]]).fetchall()]
    return out[:limite] if limite else out


def selection(con, territoires: list[Territoire]) -> pd.DataFrame:
    """One selection for all: each territory as `perimetre` (its slug as code), then every département and
    région any of them touches, and France, once each."""
    perimetres = pd.DataFrame(
        [("perimetre", t.slug, t.nom, c) for t in territoires for c in t.communes],
        columns=["territoire_type", "territoire_code", "territoire_nom", "commune"],
    )
    con.register("_perimetres", perimetres)
    try:
        comparateurs = con.sql(warehouse.model_sql("comparateurs.sql")).df()
    finally:
        con.unregister("_perimetres")
    return pd.concat([perimetres, comparateurs], ignore_index=True)


def _comparateurs(con, territoires: list[Territoire]) -> dict[str, tuple[set, set]]:
    """slug -> (départements, régions) its communes lie in."""
    df = pd.DataFrame([(t.slug, c) for t in territoires for c in t.communes], columns=["slug", "code"])
    con.register("_tc", df)
    try:
        rows = con.sql("SELECT t.slug, c.departement, c.region FROM _tc t JOIN int_commune c USING (code)").fetchall()
    finally:
        con.unregister("_tc")
    out: dict[str, tuple[set, set]] = {t.slug: (set(), set()) for t in territoires}
    for slug, dep, reg in rows:
        out[slug][0].add(dep)
        out[slug][1].add(reg)
    return out


def preparer(ws: Workspace, kind: str, sources: dict[str, Source], result: pipeline.RunReport,
             limite: int | None = None, choisis: list[str] | None = None) -> Lot:
    """Everything the reports need, from the built warehouse, in a handful of queries."""
    from .report import donnees

    with warehouse.connect(ws) as con:
        territoires = [resolve(f"{PREFIXES[kind]}:{code}", con, ws.territoires) for code in codes(con, kind, limite, choisis)]
        if not territoires:
            raise DiagnosticError(f"Rapports par lot : aucun territoire de type « {kind} » dans l'entrepôt.")
        sel = selection(con, territoires)
        indicateurs = warehouse.indicateurs(con, sel)
        lot = Lot(
            territoires=territoires,
            indicateurs=indicateurs,
            fond=pipeline.fond(ws, con, pipeline.departements(indicateurs), sources),
            series=donnees.series(con, indicateurs),
            pyramides=donnees.pyramide_ages(con, sel),
            etablissements=donnees.etablissements(con, sel),
            prov=provenance.files(ws, sources, pipeline.vintages_used(con)),
            result=result,
            comparateurs=_comparateurs(con, territoires),
            dossier=ws.reports / DOSSIER / kind,
            ws=ws,
        )
    return lot


def _lignes(df: pd.DataFrame, slug: str, deps: set, regs: set) -> pd.Series:
    t, c = df["territoire_type"], df["territoire_code"]
    return ((t == "perimetre") & (c == slug)) | ((t == "departement") & c.isin(deps)) | (
        (t == "region") & c.isin(regs)) | (t == "france")


def ecrire(lot: Lot, i: int, pdf: bool = False) -> Path:
    """The report of the i-th territory (run in a worker: its own figures are drawn in this process); with
    ``pdf``, its PDF too, and maps at print resolution (200 dpi) for it."""
    os.environ["DIAGNOSTIC_WORKERS"] = "1"
    t = lot.territoires[i]
    deps, regs = lot.comparateurs[t.slug]
    ind = lot.indicateurs[_lignes(lot.indicateurs, t.slug, deps, regs)].reset_index(drop=True)
    pyr = lot.pyramides
    pyr = pyr[((pyr["territoire_type"] == "perimetre") & (pyr["territoire_code"] == t.slug))
              | ((pyr["territoire_type"] == "departement") & pyr["territoire_code"].isin(deps))]
    etab = lot.etablissements[lot.etablissements["territoire_code"] == t.slug].reset_index(drop=True)
    ctx = pipeline.contexte(t, ind, lot.fond, lot.series, pyr.reset_index(drop=True), lot.result, etablissements=etab)
    return pipeline.write_atomically(lot.ws, t.slug, ctx, lot.prov, lot.result, pdf=pdf, word=False, ecran=not pdf,
                                     dossier=lot.dossier)


def run_rapports(ws: Workspace, kind: str, sources: dict[str, Source], result: pipeline.RunReport,
                 limite: int | None = None, choisis: list[str] | None = None, pdf: bool = False) -> list[Path]:
    """Write the reports of every territory of `kind` (or of the codes `choisis`; the first `limite`), with
    their PDF when `pdf`; return their folders."""
    from .report.parallele import Travaux

    lot = preparer(ws, kind, sources, result, limite, choisis)
    with Travaux(lot) as travaux:
        futures = [travaux.avec_contexte(ecrire, i, pdf) for i in range(len(lot.territoires))]
        return [f.result() for f in futures]
