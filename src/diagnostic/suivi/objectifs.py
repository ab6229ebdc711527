"""The objectives a CPTS follows (perimeter file `data/territoires/<slug>.toml`), and where it stands.

    [[objectifs]]
    indicateur = "apl_mg"      # an indicator id of the report (catalogue or local data)
    cible = 3.0                # optional: the target, in the indicator's unit
    echeance = 2028            # optional: the year the target is set for

For each objective: the baseline (the first run of the history that had a value, with its date and vintage),
the value of each later vintage (the last run of each vintage: a revised figure replaces the earlier one), the
current value, the target and the distance left. Local data (with their `annee`) take part like any indicator.
A faulty objective is left out with a French warning naming the file and the field; the diagnostic is still
produced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from .historique import Releve

CLES = {"indicateur", "cible", "echeance"}


@dataclass
class Objectif:
    indicateur: str
    cible: float | None = None
    echeance: int | None = None


@dataclass
class Point:
    date: str
    millesime: str
    valeur: float


@dataclass
class Etat:
    """Where one objective stands."""

    objectif: Objectif
    libelle: str
    unite: str
    reference: Point | None  # baseline
    valeurs: list[Point] = field(default_factory=list)  # one per vintage, oldest first (baseline's included)
    courant: Point | None = None
    definition_modifiee: bool = False

    @property
    def distance(self) -> float | None:
        """Target minus current value (in the indicator's unit; points for a share)."""
        if self.objectif.cible is None or self.courant is None:
            return None
        return self.objectif.cible - self.courant.valeur

    def atteint(self, sens: int = 0) -> bool | None:
        """Whether the current value reached the target: at or above it when a rise is favourable (``sens`` 1),
        at or below when it is unfavourable (-1); without a direction (0), in the direction the baseline set."""
        if self.distance is None:
            return None
        cible = self.objectif.cible
        if math.isclose(self.distance, 0, abs_tol=1e-12):
            return True
        if sens == 0:
            depart = self.reference.valeur if self.reference else self.courant.valeur
            sens = 1 if depart <= cible else -1
        return self.courant.valeur >= cible if sens > 0 else self.courant.valeur <= cible


def lire(brut, fichier: Path | None, connus: set[str]) -> tuple[list[Objectif], list[str]]:
    """The objectives of a perimeter file (its `objectifs` key, as read by tomllib), and French warnings."""
    if brut is None:
        return [], []
    nom = str(fichier) if fichier else "fichier de périmètre"
    if not isinstance(brut, list) or not all(isinstance(o, dict) for o in brut):
        return [], [f"{nom}, champ objectifs : une liste de tables [[objectifs]] est attendue "
                    "(indicateur, cible, echeance) ; objectifs ignorés."]
    out, avert, vus = [], [], set()
    for k, o in enumerate(brut, start=1):
        lieu = f"{nom}, objectif n° {k}"
        inconnues = sorted(set(o) - CLES)
        if inconnues:
            avert.append(f"{lieu}, champ {inconnues[0]} : clé inconnue (clés acceptées : cible, echeance, indicateur) ; "
                         "objectif ignoré.")
            continue
        ind = o.get("indicateur")
        if not isinstance(ind, str) or not ind:
            avert.append(f"{lieu}, champ indicateur : absent ou vide ; objectif ignoré.")
            continue
        if ind not in connus:
            avert.append(f"{lieu}, champ indicateur : « {ind} » n'est pas un indicateur du diagnostic (voir l'annexe A "
                         "ou indicateurs.csv) ; objectif ignoré.")
            continue
        cible = o.get("cible")
        if cible is not None and (isinstance(cible, bool) or not isinstance(cible, (int, float)) or math.isnan(cible)):
            avert.append(f"{lieu} ({ind}), champ cible : « {cible} » n'est pas un nombre (écrire par exemple "
                         "cible = 3.0) ; objectif ignoré.")
            continue
        ech = o.get("echeance")
        if isinstance(ech, date):
            ech = ech.year
        if ech is not None and (isinstance(ech, bool) or not isinstance(ech, int) or not 2000 <= ech <= 2100):
            avert.append(f"{lieu} ({ind}), champ echeance : « {ech} » n'est pas une année (écrire par exemple "
                         "echeance = 2028) ; objectif ignoré.")
            continue
        if ind in vus:
            avert.append(f"{lieu}, champ indicateur : « {ind} » déjà suivi par un objectif précédent ; ignoré.")
            continue
        vus.add(ind)
        out.append(Objectif(ind, None if cible is None else float(cible), ech))
    return out, avert


def _point(r: Releve, slug: str, ind: str) -> Point | None:
    df = r.indicateurs
    rows = df[(df["territoire_type"] == "perimetre") & (df["indicateur"] == ind)]
    if not len(rows):
        return None
    row = rows.iloc[0]
    v = row["valeur"]
    if row["statut"] not in ("ok", "estimation") or v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return Point(r.date, str(row["millesime"] if not pd.isna(row["millesime"]) else ""), float(v))


def suivre(objectifs: list[Objectif], historique: list[Releve], courant: Releve, slug: str) -> list[Etat]:
    """Where each objective stands, from the history (oldest first, the current run excluded) and the current
    run."""
    out = []
    df = courant.indicateurs
    for o in objectifs:
        rows = df[(df["territoire_type"] == "perimetre") & (df["indicateur"] == o.indicateur)]
        libelle = str(rows["libelle"].iloc[0]) if len(rows) else o.indicateur
        unite = str(rows["unite"].iloc[0]) if len(rows) and not pd.isna(rows["unite"].iloc[0]) else ""
        points = [(r, p) for r in [*historique, courant] if (p := _point(r, slug, o.indicateur)) is not None]
        cur = _point(courant, slug, o.indicateur)
        par_millesime: dict[str, Point] = {}
        for _, p in points:  # the last run of each vintage wins (a revised figure replaces the earlier one)
            par_millesime.pop(p.millesime, None)
            par_millesime[p.millesime] = p
        defs = [r.definitions.get(o.indicateur) if r.definitions else None for r, _ in points]
        defs = [d for d in defs if d]
        out.append(Etat(o, libelle, unite, points[0][1] if points else None, list(par_millesime.values()), cur,
                        len({tuple(sorted(d.items())) for d in defs}) > 1))
    return out
