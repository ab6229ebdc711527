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

from . import geo, local, provenance, secret, warehouse
from .config import DiagnosticError, Workspace
from .fetch import FetchError
from .ingest import ingest
from .registry import Source, load_registry
from .territoire import Territoire, resolve

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    out_dir: Path | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # source id -> why it is missing
    not_updated: dict[str, str] = field(default_factory=dict)  # source id -> why the refresh failed (old files kept)
    warnings: list[str] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        """True when a source is missing or could not be brought up to date (`--strict` fails then)."""
        return bool(self.unavailable or self.not_updated)


def ingest_all(ws: Workspace, sources: dict[str, Source], run: RunReport, *, refresh: bool = False) -> None:
    """Fetch every source into `run.unavailable` / `run.not_updated` the reasons of failures.
    A failed download keeps the previous good file; a required source with no file at all stops the run."""
    for sid, source in sources.items():
        try:
            ingest(ws, source, refresh=refresh)
        except FetchError as exc:
            held = warehouse.complete(ws, source, source.latest)
            if sid in warehouse.REQUIRED and not held:
                raise DiagnosticError(f"Source indispensable « {source.titre} » indisponible : {exc}") from exc
            if held:
                run.not_updated[sid] = f"mise à jour impossible, les fichiers déjà téléchargés sont conservés. {exc}"
            else:
                run.unavailable[sid] = str(exc)


def prepare(ws: Workspace, *, refresh: bool = False, force_build: bool = False,
            sources: dict[str, Source] | None = None) -> RunReport:
    """Ingest what is missing and build the warehouse if its inputs changed."""
    sources = sources or load_registry(ws.registry)
    run = RunReport()
    ingest_all(ws, sources, run, refresh=refresh)
    built = warehouse.build(ws, sources, force=force_build)
    for sid, why in built.unavailable.items():  # a failed download explains more than "files missing"
        run.unavailable.setdefault(sid, why)
    run.warnings.extend(built.warnings)
    return run


def commune_geometries(con, departements: list[str]) -> gpd.GeoDataFrame:
    """Communes of the given départements with their figures and geometry (WGS 84)."""
    con.register("_deps", pd.DataFrame({"d": departements}))
    try:
        df = con.sql(
            """
            SELECT c.code, c.nom, c.departement, c.region, c.population, c.superficie_km2, c.apl_mg, g.geom
            FROM int_commune c JOIN geo_commune g USING (code)
            WHERE c.departement IN (SELECT d FROM _deps)
            ORDER BY c.code
            """
        ).df()
    finally:
        con.unregister("_deps")
    return geo.from_wkb_frame(df)


def departement_outlines(con) -> gpd.GeoDataFrame:
    return geo.from_wkb_frame(con.sql("SELECT code, nom, geom FROM geo_departement").df())


def vintages_used(con) -> dict[str, str]:
    """Source id -> the vintage the warehouse was built from."""
    return dict(con.sql("SELECT cle, millesime FROM meta_source WHERE cle = source").fetchall())


def pyramide_ages(con, territoire: Territoire) -> pd.DataFrame:
    """Census population by sex and age band of the perimeter and its département(s) (empty without census)."""
    con.register("selection_territoire", territoire.selection(con))
    try:
        return con.sql((warehouse.MODELS / "pyramide_ages.sql").read_text(encoding="utf-8")).df()
    finally:
        con.unregister("selection_territoire")


def compute(ws: Workspace, con, territoire: Territoire):
    """The indicator table of a territory and its comparators, with the CPTS's own local data
    (`data/territoires/<slug>/local/`) appended; returns (indicateurs, locales)."""
    selection = territoire.selection(con)
    indicateurs = warehouse.indicateurs(con, selection)
    locales = local.charger(con, selection, local.dossier(ws.territoires, territoire.slug), territoire.nom,
                            secret.thresholds(ws.settings))
    if len(locales.indicateurs):
        indicateurs = pd.concat([indicateurs, locales.indicateurs], ignore_index=True)
    return indicateurs, locales


def report_context(ws: Workspace, con, territoire: Territoire, indicateurs, sources: dict[str, Source],
                   result: RunReport | None = None, locales=None):
    from .report.context import ReportContext
    from .report.series import depuis_entrepot

    deps = sorted(set(indicateurs.loc[indicateurs["territoire_type"].eq("departement"), "territoire_code"]))
    communes = commune_geometries(con, deps)
    communes["perimetre"] = communes["code"].isin(territoire.communes)
    crs = geo.crs_for(deps[0])
    communes = communes.to_crs(crs)
    outlines = departement_outlines(con).to_crs(crs)
    outlines = outlines[outlines.intersects(box(*communes.total_bounds).buffer(20_000))]
    catalogue = warehouse.catalogue()
    prov = provenance.summary(provenance.files(ws, sources, vintages_used(con)))
    if locales is not None and len(locales.catalogue):
        n = len(catalogue)
        catalogue = pd.concat([catalogue, locales.catalogue.assign(ordre=range(n, n + len(locales.catalogue)))], ignore_index=True)
        prov = prov + locales.sources
    return ReportContext(
        slug=territoire.slug,
        nom=territoire.nom,
        description=territoire.description,
        indicateurs=indicateurs,
        communes=communes,
        departements=outlines.reset_index(drop=True),
        sources=prov,
        catalogue=catalogue,
        produit_le=date.today(),
        indisponibles=dict(result.unavailable) if result else {},
        avertissements=list(result.warnings) + [f"{sid} : {why}" for sid, why in result.not_updated.items()] if result else [],
        series=depuis_entrepot(con, indicateurs),
        pyramide=pyramide_ages(con, territoire),
    )


def run(ws: Workspace, spec: str, *, refresh: bool = False, pdf: bool = True) -> RunReport:
    """Run the whole job for one territory and return what was written and what was missing."""
    sources = load_registry(ws.registry)
    result = prepare(ws, refresh=refresh, sources=sources)
    with warehouse.connect(ws) as con:
        territoire = resolve(spec, con, ws.territoires)
        result.warnings.extend(territoire.avertissements)
        indicateurs, locales = compute(ws, con, territoire)
        result.warnings.extend(locales.avertissements)
        ctx = report_context(ws, con, territoire, indicateurs, sources, result, locales)
        prov = provenance.files(ws, sources, vintages_used(con)) + locales.sources
    result.out_dir = write_atomically(ws, territoire.slug, ctx, prov, result, pdf=pdf)
    return result


def write_atomically(ws: Workspace, slug: str, ctx, prov: list[dict], result: RunReport, *, pdf: bool = True) -> Path:
    """Write the report in a temporary folder beside its target, then swap it into place, so that a
    reader never sees half a report."""
    from .report import write_report

    ws.reports.mkdir(parents=True, exist_ok=True)
    target = ws.reports / slug
    if target.resolve().parent != ws.reports.resolve():
        raise DiagnosticError(f"Dossier de rapport invalide : {target}")
    tmp = ws.reports / f".{slug}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write_report(ctx, tmp, pdf=pdf)
        (tmp / "provenance.json").write_text(
            json.dumps(
                {"territoire": slug, "produit_le": ctx.produit_le.isoformat(), "sources": prov,
                 "sources_indisponibles": result.unavailable, "sources_non_mises_a_jour": result.not_updated,
                 "avertissements": result.warnings},
                ensure_ascii=False, indent=2,
            ),
            encoding="utf-8",
        )
        old = ws.reports / f".{slug}.{os.getpid()}.old"
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
