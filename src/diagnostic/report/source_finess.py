"""The FINESS file a report actually read, named for captions: which vintage (FINESS+ structures flux, or the former
geolocated extraction) comes from the provenance (`nature_fichier` of the vintage in `pipelines/sources.toml`)."""

from __future__ import annotations

from . import fmt
from .context import ReportContext
from .tables import sources_par_id


def source_finess(ctx: ReportContext) -> str:
    """« FINESS, flux FINESS+ des structures (Agence du numérique en santé) du 13 août 2026 »; « FINESS » and the
    date alone when the provenance does not say which file was read."""
    nature = str(sources_par_id(ctx).get("finess", {}).get("nature_fichier") or "").strip()
    millesime = millesime_finess(ctx)
    return "FINESS" + (f", {nature}" if nature else "") + (f" du {millesime}" if millesime else "")


def millesime_finess(ctx: ReportContext) -> str:
    """The FINESS extraction date of the establishment counts, in French (« 12 mai 2026 »), or ""."""
    ind = ctx.indicateurs
    rows = ind[ind["indicateur"].astype(str).str.startswith("nb_etab_") & ind["millesime"].notna()]
    return fmt.date_fr(str(rows["millesime"].iloc[0])) if len(rows) else ""
