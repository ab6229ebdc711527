"""The evidence behind the reading of each source (annex B of the report): level, what it rests on, date
checked, what remains unverified. Read from the provenance entries (`preuve_*` keys, see
`diagnostic.provenance.preuve`); one row per source, in the order of the provenance."""

from __future__ import annotations

from . import fmt

# What each level means, for the reader (same wording in the README).
SENS = {
    "fichier réel": "lu sur un fichier publié par le producteur",
    "documentation": "conforme à la documentation du producteur",
    "code tiers": "conforme à du code public qui lit la source en ligne",
    "non vérifié": "format supposé, non vérifié",
    "non renseigné": "aucune preuve enregistrée au registre",
}


def preuves(sources: list[dict]) -> list[dict]:
    """One row per registry source: id, titre, niveau, sens, appuis, verifie_le (dd/mm/yyyy), reste.
    Entries without `preuve_niveau` (local files of the CPTS) are left out."""
    out, vus = [], set()
    for s in sources:
        sid = str(s.get("source") or "")
        if sid in vus or "preuve_niveau" not in s:
            continue
        vus.add(sid)
        niveau = str(s.get("preuve_niveau") or "non renseigné")
        appuis = s.get("preuve_appuis") or []
        out.append({
            "id": sid,
            "titre": str(s.get("titre") or sid),
            "niveau": niveau,
            "sens": SENS.get(niveau, ""),
            "appuis": [str(a) for a in (appuis if isinstance(appuis, (list, tuple)) else [appuis])],
            "verifie_le": fmt.date_courte(s.get("preuve_verifie_le")),
            "reste": str(s.get("preuve_reste") or ""),
        })
    return out
