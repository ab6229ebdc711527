"""`diagnostic evolution <territoire> [--depuis <date | dossier>]`: what changed between the last run of a
territory and an earlier one (the run before it by default, or a report folder produced elsewhere, possibly by
an older version of this tool), with the causes; a French table on screen and a CSV beside the report."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import comparer, historique
from .evolution import STATUTS_FR, ChangementPerimetre, significatifs_d_abord
from .historique import Releve


@dataclass
class Resultat:
    reference: Releve
    courant: Releve
    evolution: pd.DataFrame
    perimetre: ChangementPerimetre
    csv: Path


def evolution(ws, spec: str, depuis: str | None = None) -> Resultat:
    from .. import warehouse
    from ..territoire import resolve

    with warehouse.connect(ws) as con:
        territoire = resolve(spec, con, ws.territoires)
        rapport = ws.reports / territoire.slug
        avant, apres = historique.choisir(rapport, depuis)
        if apres.communes:  # the perimeter of the run compared, not the perimeter file as it is now
            territoire.communes = list(apres.communes)
        df, chg = comparer(ws, con, territoire, avant, apres)
    nom = "evolution.csv" if depuis is None else f"evolution_depuis_{re.sub(r'[^A-Za-z0-9-]+', '_', Path(depuis).name or depuis)}.csv"
    cible = rapport / nom
    tmp = rapport / f".{nom}.{os.getpid()}.tmp"
    df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    os.replace(tmp, cible)
    return Resultat(avant, apres, df, chg, cible)


def afficher(console, r: Resultat) -> None:
    from rich.table import Table

    from ..report import fmt
    from ..report.evolution import _variation

    p = significatifs_d_abord(r.evolution[(r.evolution["territoire_type"] == "perimetre") & (r.evolution["causes"] != "")])
    table = Table(title=f"Évolution du territoire : diagnostic du {fmt.date_fr(r.reference.date)} "
                        f"({r.reference.chemin.name}) → {fmt.date_fr(r.courant.date)} ({r.courant.chemin.name})")
    for col in ("indicateur", "avant", "maintenant", "variation", "significatif", "cause"):
        table.add_column(col)
    def v(x, statut, millesime, unite):
        if statut not in ("ok", "estimation") or fmt.est_manquant(x):
            return STATUTS_FR.get(statut, statut)
        return fmt.nombre(float(x), fmt.decimales(unite)) + (f" ({millesime})" if millesime else "")

    for row in p.itertuples():
        table.add_row(row.libelle, v(row.valeur_avant, row.statut_avant, row.millesime_avant, row.unite),
                      v(row.valeur_apres, row.statut_apres, row.millesime_apres, row.unite), _variation(row),
                      "oui" if row.significatif else "non", row.explication)
    console.print(table)
    if r.perimetre.change or r.perimetre.inconnu:
        console.print(f"Périmètre : {r.perimetre.texte()}.", highlight=False)
    n = int(((r.evolution["territoire_type"] == "perimetre") & (r.evolution["causes"] == "")).sum())
    console.print(f"{len(p)} indicateur(s) du territoire modifié(s), dont {int(p['significatif'].sum())} "
                  f"significativement ; {n} inchangé(s). Détail (comparateurs compris) : {r.csv}", highlight=False)
