"""Check of the CépiDc portal's API answers (source `cepidc_causes`): `codes_geo` is an object of
`{label, code}`; the records of `mortalityQuery` read have the fields the parser reads (`CHAMPS`), a chapter
« N. libellé », an age class `cl_age10` the parser accepts (not empty, not an aggregate such as « Tous âges »), and
no (département, class, chapter) twice: the parser refuses all of these. Only the start of the deaths answer is
read (a Range request, or the first bytes): the complete records in it, a whole département's classes and chapters
for the portal's answer ordered by département."""

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
        enregistrements = _enregistrements(distant.texte(p.data))
        if not enregistrements:
            res.ajoute("format_inattendu", "premier enregistrement illisible (liste JSON attendue)", name)
            continue
        vus: dict[tuple, int] = {}  # (département, class, chapter) -> its first record
        refusees, double = set(), False  # the aggregate classes said; a cell seen twice said (the first one only)
        for i, r in enumerate(enregistrements, start=1):
            for champ in parser.CHAMPS:
                if champ not in r:
                    res.ajoute("champ_absent", champ, name)
            chapitre = parser.CHAPITRE.match(str(r.get("cause_of_death")))
            if "cause_of_death" in r and not chapitre:
                res.ajoute("format_inattendu", f"cause « {r['cause_of_death']} » (attendu : « N. libellé »)", name)
            if "cl_age10" not in r or not chapitre:
                continue
            classe = str(r["cl_age10"]).strip()
            if (not classe or parser.CLASSE_AGREGAT.search(classe)) and classe not in refusees:
                refusees.add(classe)
                res.ajoute("format_inattendu", f"classe d'âge « {r['cl_age10']} » (enregistrement {i} ; classes "
                           "décennales attendues, un total d'âges compterait les décès deux fois)", name)
            cle = (str(r.get("depdom")).strip(), classe, int(chapitre.group(1)))
            if cle in vus and not double:
                double = True
                res.ajoute("format_inattendu", f"département « {cle[0]} », classe d'âge « {cle[1]} », chapitre {cle[2]} "
                           f"deux fois (enregistrements {vus[cle]} et {i} ; les décès seraient comptés deux fois)", name)
            vus.setdefault(cle, i)
        res.notes.append(f"premier enregistrement : {', '.join(enregistrements[0])}")
        classes = sorted({str(r["cl_age10"]).strip() for r in enregistrements if "cl_age10" in r})
        res.notes.append(f"{len(enregistrements)} enregistrements lus, classes d'âge : {', '.join(classes) or 'aucune'}")


def _enregistrements(t: str) -> list[dict]:
    """The complete records at the start of a JSON list (the last one cut by the read left out); [] when the text
    does not start as a list of objects."""
    t = t.lstrip()
    if not t.startswith("["):
        return []
    decodeur, out, i = json.JSONDecoder(), [], 1
    while True:
        while i < len(t) and t[i] in " \t\r\n,":
            i += 1
        try:
            r, i = decodeur.raw_decode(t, i)
        except ValueError:
            return out
        if not isinstance(r, dict):
            return out
        out.append(r)
