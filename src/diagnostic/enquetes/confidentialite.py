"""Confidentiality of survey results: verbatim excerpts scrubbed, small cells masked with secondary suppression.

- ``nettoyer``: e-mail addresses, phone numbers (French forms: 0X XX XX XX XX, +33…, with spaces, dots or
  dashes), RPPS numbers (11 digits) and ADELI numbers (9 digits) are replaced by « [retiré] ».
- ``masquer``: a count c with 0 < c < threshold is masked; then, as for the other sources
  (``diagnostic.secret``), a row or column of a table whose total is published and which holds exactly one
  masked cell gets its smallest other cell masked too, until no row or column has exactly one.
"""

from __future__ import annotations

import re

import pandas as pd

RETIRE = "[retiré]"
COURRIEL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
TELEPHONE = re.compile(r"(?<!\d)(\+33\s?|0033\s?|0)[1-9]([\s.\-]?\d{2}){4}(?!\d)")
NUMEROS = re.compile(r"(?<!\d)(\d[\s.]?){10}\d(?!\d)|(?<!\d)(\d[\s.]?){8}\d(?!\d)")  # RPPS (11), ADELI (9)


def nettoyer(texte: str) -> str:
    t = COURRIEL.sub(RETIRE, texte)
    t = TELEPHONE.sub(RETIRE, t)
    return NUMEROS.sub(RETIRE, t)


def masquer(tab: pd.DataFrame, seuil: int) -> pd.DataFrame:
    """Boolean frame: the cells of the count table ``tab`` to mask (primary and secondary suppression;
    row and column totals are taken as published)."""
    v = tab.fillna(0).astype(float)
    m = (v > 0) & (v < seuil)
    while True:
        ajout = False
        for axe in (1, 0):  # rows, then columns
            groupes = m if axe == 1 else m.T
            valeurs = v if axe == 1 else v.T
            for cle in groupes.index:
                ligne = groupes.loc[cle]
                if int(ligne.sum()) != 1 or len(ligne) < 2:
                    continue
                autres = valeurs.loc[cle][~ligne]
                if not len(autres):
                    continue
                cible = autres.sort_values(kind="stable").index[0]
                if axe == 1:
                    m.loc[cle, cible] = True
                else:
                    m.loc[cible, cle] = True
                ajout = True
        if not ajout:
            return m
