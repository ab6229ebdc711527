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

from . import geo, provenance, warehouse
from .config import DiagnosticError, Workspace
from .fetch import FetchError
from .ingest import ingest, raw_folder
from .registry import Source, load_registry
from .territoire import Territoire, resolve

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    out_dir: Path | None = None
    unavailable: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def ingest_all(ws: Workspace, sources: dict[str, Source], *, refresh: bool = False) -> dict[str, str]:
    """Fetch every source; returns source id -> French reason for those that could not be fetched.
    A failed download keeps the previous good file; a required source with no file at all stops the run."""
    failed = {}
    for sid, source in sources.items():
        try:
            ingest(ws, source, refresh=refresh)
        except FetchError as exc:
            failed[sid] = str(exc)
            complete = all((raw_folder(ws, source) / name).is_file() for name in source.files())
            if sid in warehouse.REQUIRED and not complete:
                raise DiagnosticError(f"Source indispensable « {source.titre} » indisponible : {exc}") from exc
            log.warning("Source %s : %s", sid, exc)
    return failed


def prepare(ws: Workspace, *, refresh: bool = False, force_build: bool = False) -> RunReport:
    sources = load_registry(ws.registry)
    run = RunReport()
    run.unavailable.update(ingest_all(ws, sources, refresh=refresh))
    built = warehouse.build(ws, sources, force=force_build)
    run.unavailable.update(built.unavailable)
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


def report_context(ws: Workspace, con, territoire: Territoire, indicateurs, sources: dict[str, Source]):
    from .report.context import ReportContext

    deps = sorted(set(indicateurs.loc[indicateurs["territoire_type"].eq("departement"), "territoire_code"]))
    communes = commune_geometries(con, deps)
    communes["perimetre"] = communes["code"].isin(territoire.communes)
    crs = geo.crs_for(deps[0])
    communes = communes.to_crs(crs)
    outlines = departement_outlines(con).to_crs(crs)
    outlines = outlines[outlines.intersects(box(*communes.total_bounds).buffer(20_000))]
    return ReportContext(
        slug=territoire.slug,
        nom=territoire.nom,
        description=territoire.description,
        indicateurs=indicateurs,
        communes=communes,
        departements=outlines.reset_index(drop=True),
        sources=provenance.summary(provenance.files(ws, sources)),
        catalogue=warehouse.catalogue(),
        produit_le=date.today(),
    )


def run(ws: Workspace, spec: str, *, refresh: bool = False) -> RunReport:
    """Run the whole job for one territory and return what was written and what was missing."""
    sources = load_registry(ws.registry)
    result = prepare(ws, refresh=refresh)
    with warehouse.connect(ws) as con:
        territoire = resolve(spec, con, ws.territoires)
        result.warnings.extend(territoire.avertissements)
        indicateurs = warehouse.indicateurs(con, territoire.selection(con))
        ctx = report_context(ws, con, territoire, indicateurs, sources)
    result.out_dir = write_atomically(ws, territoire.slug, ctx, provenance.files(ws, sources), result)
    return result


def write_atomically(ws: Workspace, slug: str, ctx, prov: list[dict], result: RunReport) -> Path:
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
        write_report(ctx, tmp)
        (tmp / "provenance.json").write_text(
            json.dumps(
                {"territoire": slug, "produit_le": ctx.produit_le.isoformat(), "sources": prov,
                 "sources_indisponibles": result.unavailable, "avertissements": result.warnings},
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
