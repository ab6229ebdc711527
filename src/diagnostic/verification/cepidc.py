"""Check of the CépiDc portal's API answers (source `cepidc_causes`): `codes_geo` is an object of
`{label, code}`, and the first record of `mortalityQuery` has the fields the parser reads (`CHAMPS`) and a
chapter « N. libellé ». Only the start of the deaths answer is read (a Range request, or the first bytes)."""

from __future__ import annotations

import json

from ..registry import Source
from ..sources import cepidc as parser
from . import distant
from .constats import Resultat


def cepidc(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    for name, url in urls.items():
        if name == "codes_geo":
            p = distant.lire(url, start=0, max_bytes=1_000_000)
            try:
                data = json.loads(distant.texte(p.data))
            except ValueError:
                res.ajoute("format_inattendu", "liste des départements illisible (JSON attendu)", name)
                continue
            valeurs = list(data.values()) if isinstance(data, dict) else []
            if not valeurs or not all(isinstance(v, dict) and {"label", "code"} <= set(v) for v in valeurs):
                res.ajoute("champ_absent", "label, code (objet des départements)", name)
            else:
                res.notes.append(f"{len(valeurs)} départements")
            continue
        p = distant.lire(url, start=0, max_bytes=distant.TETE)
        t = distant.texte(p.data).lstrip()
        i = t.find("{")
        try:
            premier, _ = json.JSONDecoder().raw_decode(t[i:]) if t.startswith("[") and i >= 0 else (None, 0)
        except ValueError:
            premier = None
        if not isinstance(premier, dict):
            res.ajoute("format_inattendu", "premier enregistrement illisible (liste JSON attendue)", name)
            continue
        for champ in parser.CHAMPS:
            if champ not in premier:
                res.ajoute("champ_absent", champ, name)
        if "cause_of_death" in premier and not parser.CHAPITRE.match(str(premier["cause_of_death"])):
            res.ajoute("format_inattendu", f"cause « {premier['cause_of_death']} » (attendu : « N. libellé »)", name)
        res.notes.append(f"premier enregistrement : {', '.join(premier)}")
