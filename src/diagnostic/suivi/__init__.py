"""Follow-up of a territory from run to run (issue 13): the history of its runs (`historique.py`), what changed
since an earlier run and why (`evolution.py`, with the definitions' fingerprints of `definitions.py`), and where
it stands against the objectives of its projet de santé (`objectifs.py`).

`preparer` is called by the pipeline with the warehouse open, once the indicators are computed; its `Suivi`
rides on the report context (report sections « Suivi des objectifs » and « Évolution depuis le diagnostic du
… », `evolution.csv`, sheet `Évolution`) and adds its keys to `provenance.json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from . import definitions, evolution, historique, objectifs
from .historique import HistoriqueError, Releve


@dataclass
class Suivi:
    courant: Releve
    reference: Releve | None = None
    evolution: pd.DataFrame | None = None
    perimetre: evolution.ChangementPerimetre | None = None
    objectifs: list[objectifs.Etat] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)
    produit_a: datetime = field(default_factory=datetime.now)

    def provenance(self) -> dict:
        """Keys added to provenance.json (the history reads them back)."""
        return {"contrat_indicateurs": historique.VERSION_CONTRAT, "produit_a": self.produit_a.isoformat(timespec="seconds"),
                "perimetre": self.courant.provenance.get("perimetre"),
                "definitions": self.courant.definitions,
                "reference_evolution": self._reference()}

    def _reference(self) -> str | None:
        """The reference of the evolution: `historique/<date-heure>` for an entry of this report's history."""
        if self.reference is None:
            return None
        ref, rapport = Path(self.reference.chemin), Path(self.courant.chemin)
        return str(ref.relative_to(rapport)) if ref.is_relative_to(rapport) else str(ref)


def _noms(con, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    con.register("_codes_suivi", pd.DataFrame({"code": codes}))
    try:
        return dict(con.sql("SELECT code, nom FROM int_commune WHERE code IN (SELECT code FROM _codes_suivi)").fetchall())
    finally:
        con.unregister("_codes_suivi")


def recalcul(ws, con, territoire, anciennes: list[str], actuelles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Today's data on the old perimeter and on the current one (perimeter rows): columns indicateur,
    valeur_ancien, valeur_nouveau. `actuelles`: the current perimeter's rows when already computed."""
    from ..pipeline import compute
    from ..territoire import Territoire

    connues = set(_noms(con, anciennes))
    ancien = Territoire("perimetre", territoire.slug, territoire.nom, territoire.description,
                        [c for c in anciennes if c in connues])
    if actuelles is None:
        actuelles, _ = compute(ws, con, territoire)
    vieux, _ = compute(ws, con, ancien) if ancien.communes else (actuelles.iloc[0:0], None)
    p = lambda df: df[df["territoire_type"] == "perimetre"].set_index("indicateur")["valeur"]  # noqa: E731
    out = pd.DataFrame({"valeur_ancien": p(vieux), "valeur_nouveau": p(actuelles)})
    return out.rename_axis("indicateur").reset_index()


def comparer(ws, con, territoire, avant: Releve, apres: Releve, actuelles: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, evolution.ChangementPerimetre]:
    """The evolution from `avant` to `apres`, the perimeter's effect recomputed when the perimeter changed."""
    chg = evolution.perimetre(avant, apres)
    rec = None
    if chg.change:
        rec = recalcul(ws, con, territoire, avant.communes or [], actuelles)
    noms = _noms(con, chg.ajoutees + chg.retirees) if chg.change else {}
    return evolution.comparer(avant, apres, recalcul=rec, noms_communes=noms,
                              seuils_unite=evolution.seuils(ws.settings))


def contrat(ctx) -> pd.DataFrame:
    """The rows the run's indicateurs.csv holds: the indicators, then the CPTS's surveys (report/enquete.py)."""
    from ..report.enquete import lignes_contrat

    enq = lignes_contrat(ctx)
    return pd.concat([ctx.indicateurs, enq], ignore_index=True) if len(enq) else ctx.indicateurs


def _passe(rapport, *, toutes: bool) -> tuple[list[Releve], list[HistoriqueError]]:
    """The readable history entries of the report folder, oldest first, and the errors of the unreadable ones
    (oldest first). `toutes=False` (no objective to follow): only the last readable entry is needed, the
    reference of the evolution, so entries are read from the newest and reading stops there; the cost of a run
    no longer grows with its history (issue 16)."""
    entrees = historique.entrees(rapport)
    passe, ignorees = [], []
    for e in (entrees if toutes else reversed(entrees)):
        try:
            passe.append(historique.lire_releve(e))
        except HistoriqueError as exc:
            ignorees.append(exc)
        else:
            if not toutes:
                break
    return passe, ignorees if toutes else ignorees[::-1]


def preparer(ws, con, territoire, ctx, sources: list[dict]) -> Suivi:
    """The follow-up of the run being written (report context `ctx`): the current figures, the last readable
    history entry as the reference, the evolution since it, the objectives. Never fails on a faulty history or
    objective: the problem becomes a French warning and the diagnostic is still produced."""
    indicateurs, catalogue = contrat(ctx), ctx.catalogue
    rapport = ws.reports / territoire.slug
    courant = Releve(rapport, indicateurs, {
        "sources": sources,
        "perimetre": {"nom": territoire.nom, "communes": list(territoire.communes)},
        "definitions": definitions.empreintes(catalogue, indicateurs),
    })
    suivi = Suivi(courant)
    connus = set(indicateurs["indicateur"])
    objs, avert = objectifs.lire(getattr(territoire, "objectifs", None), getattr(territoire, "fichier", None), connus)
    passe, ignorees = _passe(rapport, toutes=bool(objs))
    suivi.avertissements += [f"Historique : entrée ignorée — {exc}" for exc in ignorees]
    if passe:
        suivi.reference = passe[-1]
        suivi.evolution, suivi.perimetre = comparer(ws, con, territoire, passe[-1], courant, ctx.indicateurs)
    suivi.avertissements += avert
    suivi.objectifs = objectifs.suivre(objs, passe, courant, territoire.slug)
    return suivi


__all__ = ["Suivi", "preparer", "comparer", "HistoriqueError", "Releve", "historique", "evolution", "objectifs",
           "definitions"]
