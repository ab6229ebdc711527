"""The main job: ingest what is missing -> build the warehouse -> compute the indicators -> write
`reports/<slug>/`. Each stage can also run alone (see cli.py)."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from . import annuaire, geo, integrite, local, provenance, secret, seuils, suivi, warehouse
from .config import DiagnosticError, Workspace
from .enquetes import charger as charger_enquetes
from .enquetes import dossier as dossier_enquetes
from .fetch import FetchError
from .ingest import ingest
from .ingest import raw_folder as ingest_folder
from .registry import Source, load_registry
from .sources.memo import une_lecture
from .territoire import Territoire, resolve

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    out_dir: Path | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # source id -> why it is missing
    not_updated: dict[str, str] = field(default_factory=dict)  # source id -> why the refresh failed (old files kept)
    warnings: list[str] = field(default_factory=list)
    enquetes_refusees: list[str] = field(default_factory=list)  # survey exports refused (French, file/row/column)
    integrite: list[dict] = field(default_factory=list)  # raw files found altered, healed or not (integrite.py)

    @property
    def degraded(self) -> bool:
        """True when a source is missing or could not be brought up to date, a survey export was refused, or a
        raw file is altered and could not be healed (`--strict` fails then)."""
        return bool(self.unavailable or self.not_updated or self.enquetes_refusees
                    or any(not e["repare"] for e in self.integrite))


def ingest_all(ws: Workspace, sources: dict[str, Source], run: RunReport, *, refresh: bool = False) -> None:
    """Fetch every source into `run.unavailable` / `run.not_updated` the reasons of failures.
    A failed download keeps the previous good file; a required source with no file at all stops the run."""
    for sid, source in sources.items():
        try:
            ingest(ws, source, refresh=refresh, journal=run.integrite)
        except FetchError as exc:
            held = warehouse.complete(ws, source, source.latest)
            if sid in warehouse.REQUIRED and not held:
                raise DiagnosticError(f"Source indispensable « {source.titre} » indisponible : {exc}") from exc
            if held:
                run.not_updated[sid] = f"mise à jour impossible, les fichiers déjà téléchargés sont conservés. {exc}"
            else:
                run.unavailable[sid] = str(exc)


def prepare(ws: Workspace, *, refresh: bool = False, force_build: bool = False,
            sources: dict[str, Source] | None = None, accepter_perte: bool = False) -> RunReport:
    """Ingest what is missing and build the warehouse if its inputs changed (`accepter_perte`: even if the
    build loses the figures of a source the current warehouse holds)."""
    sources = sources or load_registry(ws.registry)
    run = RunReport()
    with une_lecture():  # a file checked when downloaded is not parsed again by the build (sources.memo)
        ingest_all(ws, sources, run, refresh=refresh)
        force_build = force_build or integrite.reconstruire_apres_reparation(
            ws.warehouse, {sid: [(ingest_folder(ws, s), list(s.files()))] for sid, s in sources.items()})
        try:
            built = warehouse.build(ws, sources, force=force_build, accepter_perte=accepter_perte)
        except integrite.PerteRefusee as exc:  # say why the missing files could not be fetched again
            raise exc.avec_telechargements(run.unavailable) from None
    for sid, why in built.unavailable.items():  # a failed download explains more than "files missing"
        run.unavailable.setdefault(sid, why)
    run.warnings.extend(built.warnings)
    return run


def vintages_used(con) -> dict[str, str]:
    """Source id -> the vintage the warehouse was built from."""
    return dict(con.sql("SELECT cle, millesime FROM meta_source WHERE cle = source").fetchall())


def compute(ws: Workspace, con, territoire: Territoire, selection: pd.DataFrame | None = None):
    """The indicator table of a territory and its comparators (`selection`, by default
    `territoire.selection(con)`), with the CPTS's own local data (`data/territoires/<slug>/local/`) appended;
    returns (indicateurs, locales)."""
    selection = territoire.selection(con) if selection is None else selection
    indicateurs = warehouse.indicateurs(con, selection)
    locales = local.charger(con, selection, local.dossier(ws.territoires, territoire.slug), territoire.nom,
                            secret.thresholds(ws.settings))
    if len(locales.indicateurs):
        indicateurs = pd.concat([indicateurs, locales.indicateurs], ignore_index=True)
    return indicateurs, locales


@dataclass
class Fond:
    """What every report of a run shares, read once: the communes of the départements in play (figures and
    geometry, WGS 84), the départements' outlines, the indicator catalogue and the sources' provenance."""

    communes: gpd.GeoDataFrame
    outlines: gpd.GeoDataFrame
    catalogue: pd.DataFrame
    sources: list[dict]
    seuils: dict[str, float] = field(default_factory=dict)


def seuils_entrepot(con) -> dict[str, float]:
    """The thresholds the warehouse was built with (`meta_seuil`, from pipelines/diagnostic.toml)."""
    return seuils.completer(dict(con.sql("SELECT cle, valeur FROM meta_seuil").fetchall()))


def fond(ws: Workspace, con, departements: list[str], sources: dict[str, Source]) -> Fond:
    """The communes and outlines from the warehouse's marts (report/donnees.py), repaired once."""
    from .report import donnees

    s = seuils_entrepot(con)
    return Fond(donnees.valides(donnees.communes(con, departements)), donnees.valides(donnees.departements(con)),
                warehouse.catalogue(s), provenance.summary(provenance.files(ws, sources, vintages_used(con))), s)


def departements(indicateurs: pd.DataFrame) -> list[str]:
    """The département codes among the comparators of an indicator table."""
    return sorted(set(indicateurs.loc[indicateurs["territoire_type"].eq("departement"), "territoire_code"]))


def report_context(ws: Workspace, con, territoire: Territoire, indicateurs, sources: dict[str, Source],
                   result: RunReport | None = None, locales=None, selection: pd.DataFrame | None = None):
    from .report import donnees

    selection = territoire.selection(con) if selection is None else selection
    return contexte(territoire, indicateurs, fond(ws, con, departements(indicateurs), sources),
                    donnees.series(con, indicateurs), donnees.pyramide_ages(con, selection), result, locales,
                    donnees.etablissements(con, selection))


def contexte(territoire: Territoire, indicateurs: pd.DataFrame, fond: Fond, series: pd.DataFrame,
             pyramide: pd.DataFrame, result: RunReport | None = None, locales=None, etablissements=None):
    """The ReportContext of one territory from what the run shares (``fond``; ``series`` may hold other
    territories' rows too: the report draws those of the territory's comparators)."""
    from .report.context import ReportContext

    deps = departements(indicateurs)
    communes = fond.communes[fond.communes["departement"].isin(deps)].copy()
    communes["perimetre"] = communes["code"].isin(territoire.communes)
    crs = geo.crs_for(deps[0])
    communes = communes.to_crs(crs)
    outlines = fond.outlines.to_crs(crs)
    outlines = outlines[outlines.intersects(box(*communes.total_bounds).buffer(20_000))]
    catalogue, prov = fond.catalogue, fond.sources
    if locales is not None and len(locales.catalogue):
        n = len(catalogue)
        catalogue = pd.concat([catalogue, locales.catalogue.assign(ordre=range(n, n + len(locales.catalogue)))], ignore_index=True)
        prov = prov + locales.sources
    return ReportContext(
        slug=territoire.slug,
        nom=territoire.nom,
        description=territoire.description,
        indicateurs=indicateurs,
        communes=communes.reset_index(drop=True),
        departements=outlines.reset_index(drop=True),
        sources=prov,
        catalogue=catalogue,
        produit_le=date.today(),
        indisponibles=dict(result.unavailable) if result else {},
        avertissements=list(result.warnings) + [f"{sid} : {why}" for sid, why in result.not_updated.items()] if result else [],
        series=series,
        pyramide=pyramide,
        etablissements=etablissements,
        seuils=seuils.completer(fond.seuils),
    )


def run(ws: Workspace, spec: str, *, refresh: bool = False, pdf: bool = True, accepter_perte: bool = False,
        svg: bool = False) -> RunReport:
    """Run the whole job for one territory and return what was written and what was missing."""
    sources = load_registry(ws.registry)
    result = prepare(ws, refresh=refresh, sources=sources, accepter_perte=accepter_perte)
    with warehouse.connect(ws) as con:
        territoire = resolve(spec, con, ws.territoires)
        result.warnings.extend(territoire.avertissements)
        selection = territoire.selection(con)  # the perimeter and its comparators, for every query below
        indicateurs, locales = compute(ws, con, territoire, selection)
        result.warnings.extend(locales.avertissements)
        enquetes, result.enquetes_refusees = charger_enquetes(con, selection, dossier_enquetes(ws.territoires, territoire.slug),
                                                              secret.thresholds(ws.settings)["professionnels"])
        result.warnings.extend(a for e in enquetes for a in e.avertissements)
        ctx = report_context(ws, con, territoire, indicateurs, sources, result, locales, selection)
        ctx.enquetes = enquetes
        ctx.avertissements += result.enquetes_refusees
        ctx.sources = ctx.sources + [e.provenance for e in enquetes]
        prov = provenance.files(ws, sources, vintages_used(con)) + locales.sources + [e.provenance for e in enquetes]
        ctx.annuaire = annuaire.charger(con, selection, territoire.nom)  # directory of actors (issue 18)
        ctx.suivi = suivi.preparer(ws, con, territoire, ctx, prov)
        result.warnings.extend(ctx.suivi.avertissements)
        ctx.avertissements.extend(ctx.suivi.avertissements)
    result.out_dir = write_atomically(ws, territoire.slug, ctx, prov, result, pdf=pdf, svg=svg, historique=True)
    return result


def write_atomically(ws: Workspace, slug: str, ctx, prov: list[dict], result: RunReport, *,
                     dossier: Path | None = None, historique: bool = False, **options) -> Path:
    """Write the report in a temporary folder beside its target (``dossier``/<slug>, ``reports/<slug>`` by
    default), then swap it into place, so that a reader never sees half a report. The target's history
    (``historique/``) is carried across the swap; ``historique=True`` adds this run to it. ``options``: those of
    ``report.write_report`` (pdf, word, ecran, svg)."""
    from .suivi import historique as hist
    from .report import write_report

    parent = dossier or ws.reports
    parent.mkdir(parents=True, exist_ok=True)
    target = parent / slug
    if target.resolve().parent != parent.resolve():
        raise DiagnosticError(f"Dossier de rapport invalide : {target}")
    tmp = parent / f".{slug}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write_report(ctx, tmp, cache_figures=ws.processed / "figures", **options)  # unchanged figures not redrawn
        doc = {"territoire": slug, "produit_le": ctx.produit_le.isoformat(), "sources": prov,
               "sources_indisponibles": result.unavailable, "sources_non_mises_a_jour": result.not_updated,
               "avertissements": result.warnings, "integrite": result.integrite}
        if getattr(ctx, "suivi", None) is not None:  # what the next run's evolution needs (suivi/)
            doc |= ctx.suivi.provenance() | {"empreinte_indicateurs": hist.empreinte(tmp / "indicateurs.csv")}
        (tmp / "provenance.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        with hist.verrou(ws.processed.parent / "tmp", target):  # the history carried, this run added, the swap
            hist.reporter(target, tmp)
            if historique:
                hist.ajouter(tmp, getattr(getattr(ctx, "suivi", None), "produit_a", None))
            old = parent / f".{slug}.{os.getpid()}.old"
            if target.exists():
                os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
