"""The declared model graph of the build: which intermediate model runs before which.

Layers (`src/diagnostic/models/`): the staging tables `stg_*` come from the parsers (`sources/`); `intermediaire/`
builds the `int_*` tables, one model per file, each naming what it reads in a header line
`-- reads: int_cog_passage, stg_apl_mg` (several lines allowed); `marts/` holds the indicator marts and the
batch ranks, queries run on a selection (warehouse.indicateurs, batch), and the stored marts the report reads
(`CREATE OR REPLACE TABLE mart_*`, nodes of this graph like the intermediate models); `rapport/` the report's own
queries, which read marts only (report/donnees.py).

A model's outputs are its `CREATE OR REPLACE TABLE` statements. A model runs after the models (or the Python
step) that create what it reads; ties are broken by file name. The resolver refuses, with a French message
naming the model: a table created twice, a declared input nobody creates (other than the staging, meta and
catalogue tables), an `int_*` / `geo_*` / `mart_*` / `stg_*` table read without being declared, a cycle (the build
then checks that every declared staging table exists: warehouse.py, staging.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .config import DiagnosticError

_CREE = re.compile(r"CREATE\s+OR\s+REPLACE\s+TABLE\s+(\w+)", re.I)
_LIT = re.compile(r"^--\s*reads:(.*)$", re.M)
_TABLE = re.compile(r"\b((?:int|geo|mart|stg)_\w+)\b")
ENTREES = ("stg_", "meta_", "ref_")  # inputs of the graph: parsers' staging tables, build metadata, catalogue


@dataclass(frozen=True)
class Modele:
    """One node: a SQL model (``chemin``) or a Python step of the build (``chemin`` None)."""

    nom: str
    lit: tuple[str, ...]
    cree: tuple[str, ...]
    chemin: Path | None = None


def lire(chemin: Path) -> Modele:
    """A SQL model with its declared inputs and its outputs."""
    sql = chemin.read_text(encoding="utf-8")
    lit = tuple(dict.fromkeys(t.strip() for ligne in _LIT.findall(sql) for t in ligne.split(",") if t.strip()))
    return Modele(chemin.name, lit, tuple(dict.fromkeys(_CREE.findall(sql))), chemin)


def ordre(modeles: list[Modele]) -> list[Modele]:
    """The models in dependency order (see the module docstring)."""
    producteur: dict[str, Modele] = {}
    for m in modeles:
        for t in m.cree:
            if t in producteur:
                raise DiagnosticError(f"Graphe des modèles : la table {t} est créée par {producteur[t].nom} et par {m.nom}.")
            producteur[t] = m
    for m in modeles:
        for t in m.lit:
            if t not in producteur and not t.startswith(ENTREES):
                raise DiagnosticError(f"Graphe des modèles : {m.nom} déclare lire {t}, qu'aucun modèle ne crée.")
        if m.chemin is not None:
            corps = re.sub(r"--[^\n]*", "", m.chemin.read_text(encoding="utf-8"))
            oublis = sorted({t for t in _TABLE.findall(corps)
                             if (t in producteur and producteur[t] is not m or t.startswith("stg_")) and t not in m.lit})
            if oublis:
                raise DiagnosticError(f"Graphe des modèles : {m.nom} lit {', '.join(oublis)} sans le déclarer "
                                      "(ligne « -- reads: » en tête du modèle).")
    amont = {m.nom: {producteur[t].nom for t in m.lit if t in producteur and producteur[t] is not m} for m in modeles}
    par_nom = {m.nom: m for m in modeles}
    faits: list[str] = []
    while len(faits) < len(modeles):
        prets = sorted(n for n in amont if n not in faits and amont[n] <= set(faits))
        if not prets:
            raise DiagnosticError("Graphe des modèles : cycle entre " + ", ".join(sorted(set(amont) - set(faits))) + ".")
        faits.append(prets[0])
    return [par_nom[n] for n in faits]
