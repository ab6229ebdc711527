"""A fingerprint of each indicator's *defining* fields, kept in `provenance.json` so that a later run can tell a
change of definition from a change of data.

Defining: the label, the unit and the definition of the catalogue, the source it is computed from, and the
lines of the SQL models that name it (its formula, e.g. ``('part_0_14', 100 * p0014 / nullif(pop, 0), ...)``,
whitespace normalised). Presentation keys of the catalogue (section, ``sens``, « Lecture » pattern, decimals,
order...) do not count: changing them is not a change of definition.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import pandas as pd

CHAMPS = ("libelle", "unite", "definition")
NOMS = {"libelle": "libellé", "unite": "unité", "definition": "définition", "source": "source",
        "formule": "formule SQL"}


def _h(texte: str) -> str:
    return hashlib.sha256(texte.encode("utf-8")).hexdigest()[:16]


def _texte(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return re.sub(r"\s+", " ", str(v)).strip()


@functools.cache
def _modeles(dossier: str) -> tuple[tuple[str, str], ...]:
    return tuple((p.name, p.read_text(encoding="utf-8")) for p in sorted(Path(dossier).rglob("*.sql")))


def formules(ids: list[str], dossier: Path | None = None) -> dict[str, str]:
    """id -> the normalised SQL lines of the models that name it between quotes ('' when none)."""
    if dossier is None:
        from ..warehouse import MODELS

        dossier = MODELS
    textes = _modeles(str(dossier))
    out = {}
    for i in ids:
        motif = f"'{i}'"
        lignes = [re.sub(r"\s+", " ", ligne).strip() for _, t in textes for ligne in t.splitlines()
                  if motif in ligne and not ligne.lstrip().startswith("--")]
        out[i] = "\n".join(lignes)
    return out


def empreintes(catalogue: pd.DataFrame, indicateurs: pd.DataFrame) -> dict[str, dict[str, str]]:
    """id -> {field: fingerprint} for every indicator of `indicateurs` (the catalogue gives label, unit and
    definition, else the rows' label and unit; the rows give the source)."""
    cat = catalogue.drop_duplicates("indicateur", keep="last").set_index("indicateur") if len(catalogue) else None
    ids = list(dict.fromkeys(str(i) for i in indicateurs["indicateur"]))
    premieres = indicateurs.drop_duplicates("indicateur").set_index("indicateur")
    sources = premieres["source"]
    sql = formules(ids)
    out = {}
    for i in ids:
        row = cat.loc[i] if cat is not None and i in cat.index else premieres.loc[i]
        champs = {c: _h(_texte(row.get(c, ""))) for c in CHAMPS}
        champs["source"] = _h(_texte(sources.get(i)))
        champs["formule"] = _h(sql.get(i, ""))
        out[i] = champs
    return out


def modifies(avant: dict | None, apres: dict | None, indicateur: str) -> list[str] | None:
    """French names of the defining fields of `indicateur` that changed; None when either side did not record
    them (an earlier version of this tool, or an indicator absent on one side)."""
    if not avant or not apres or indicateur not in avant or indicateur not in apres:
        return None
    a, b = avant[indicateur], apres[indicateur]
    if not isinstance(a, dict) or not isinstance(b, dict):
        return None
    return [NOMS.get(k, k) for k in b if k in a and a[k] != b[k]]
