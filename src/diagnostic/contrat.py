"""The `indicateurs.csv` contract (docs/DESIGN.md), written once for Python; its SQL twin is the `contrat` macro
of `models/00_macros.sql`, which every indicator mart goes through (warehouse.indicateurs_sql).

An indicator mart returns `LIGNE` (the contract without `libelle` and `unite`, which come from the catalogue).
"""

from __future__ import annotations

import pandas as pd

COLONNES: list[str] = [
    "territoire_type", "territoire_code", "territoire_nom", "indicateur", "libelle", "valeur", "unite",
    "numerateur", "denominateur", "millesime", "source", "statut",
]
LIGNE: list[str] = [c for c in COLONNES if c not in ("libelle", "unite")]
TERRITOIRE_TYPES: tuple[str, ...] = ("perimetre", "departement", "region", "france")
STATUTS: tuple[str, ...] = ("ok", "secret", "non_disponible", "estimation")


def hors_catalogue(lignes: pd.DataFrame, catalogue: pd.DataFrame) -> list[tuple[str, str]]:
    """(id, source) of the rows whose id the catalogue does not hold, one per id."""
    connus = set(catalogue["indicateur"])
    inconnus = lignes[~lignes["indicateur"].isin(connus)].drop_duplicates("indicateur")
    return [(str(i), str(s)) for i, s in zip(inconnus["indicateur"], inconnus["source"])]


def jamais_produits(lignes: pd.DataFrame, catalogue: pd.DataFrame) -> list[str]:
    """Catalogued ids that the warehouse should produce (`produit_par = "entrepot"`) and no row carries."""
    attendus = catalogue.loc[catalogue["produit_par"].fillna("entrepot").eq("entrepot"), "indicateur"]
    presents = set(lignes["indicateur"])
    return [str(i) for i in attendus if i not in presents]
