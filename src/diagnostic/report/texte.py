"""French sentences generated from the figures: section titles, "Source :" and "Lecture :" lines.

Figures are always read from the indicator rows; nothing here holds a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import fmt
from .context import ReportContext
from .plan import titre_section
from .tables import (
    Index,
    Territoire,
    cle_catalogue,
    composantes,
    meta,
    nom_source,
    par_indicateur,
    sources_par_id,
    territoires,
)

# Article type of each département / région name (INSEE "TNCC", as published in
# @etalab/decoupage-administratif 6.0.0 departements.json / regions.json, COG 2026):
# 0 no article, consonant ("de Saône-et-Loire"); 1 no article, vowel ("d'Ille-et-Vilaine");
# 2 "le" ("du Rhône"); 3 "la" ("de la Manche"); 4 "les" ("des Landes"); 5 "l'" ("de l'Ain").
TNCC_DEPARTEMENTS: dict[str, int] = {
    "01": 5, "02": 5, "03": 5, "04": 4, "05": 4, "06": 4, "07": 5, "08": 4, "09": 5, "10": 5,
    "11": 5, "12": 5, "13": 4, "14": 2, "15": 2, "16": 3, "17": 3, "18": 2, "19": 3, "21": 3,
    "22": 4, "23": 3, "24": 3, "25": 2, "26": 3, "27": 5, "28": 1, "29": 2, "2A": 3, "2B": 3,
    "30": 2, "31": 3, "32": 2, "33": 3, "34": 5, "35": 1, "36": 5, "37": 1, "38": 5, "39": 2,
    "40": 4, "41": 2, "42": 3, "43": 3, "44": 3, "45": 2, "46": 2, "47": 2, "48": 3, "49": 0,
    "50": 3, "51": 3, "52": 3, "53": 3, "54": 0, "55": 3, "56": 2, "57": 3, "58": 3, "59": 2,
    "60": 5, "61": 5, "62": 2, "63": 2, "64": 4, "65": 4, "66": 4, "67": 2, "68": 2, "69": 2,
    "70": 3, "71": 0, "72": 3, "73": 3, "74": 3, "75": 0, "76": 3, "77": 0, "78": 4, "79": 4,
    "80": 3, "81": 2, "82": 2, "83": 2, "84": 2, "85": 3, "86": 3, "87": 3, "88": 4, "89": 5,
    "90": 2, "91": 5, "92": 4, "93": 3, "94": 2, "95": 2,
    "971": 3, "972": 3, "973": 3, "974": 0, "976": 0,
}
TNCC_REGIONS: dict[str, int] = {
    "01": 3, "02": 3, "03": 3, "04": 0, "06": 0, "11": 1, "24": 2, "27": 0, "28": 0, "32": 4,
    "44": 2, "52": 4, "53": 0, "75": 3, "76": 1, "84": 1, "93": 0, "94": 0,
}

_VOYELLES = "aeiouyàâäéèêëîïôöùûüœhAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒH"

def titre_theme(cle: str) -> str:
    """Section title of a catalogue theme (the plan's title when the theme is one of its sections)."""
    return titre_section(cle)


def _de(nom: str, tncc: int | None) -> str:
    """``de`` + name with the right article contraction."""
    if tncc is None:  # guess from the name itself
        low = nom.lower()
        if low.startswith("le "):
            return "du " + nom[3:]
        if low.startswith("les "):
            return "des " + nom[4:]
        if low.startswith("la ") or low.startswith("l'") or low.startswith("l’"):
            return "de " + nom[0].lower() + nom[1:]
        tncc = 1 if nom[:1] in _VOYELLES else 0
    return {
        0: f"de {nom}",
        1: f"d'{nom}",
        2: f"du {nom}",
        3: f"de la {nom}",
        4: f"des {nom}",
        5: f"de l'{nom}",
    }.get(tncc, f"de {nom}")


def de_territoire(t: Territoire) -> str:
    """``"de Saône-et-Loire"``, ``"du Rhône"``, ``"de l'Ain"``, ``"de la France"``."""
    if t.type == "france":
        return "de la France" if t.nom.lower().startswith("france") else _de(t.nom, None)
    table = TNCC_DEPARTEMENTS if t.type == "departement" else TNCC_REGIONS if t.type == "region" else {}
    return _de(t.nom, table.get(t.code))


@dataclass
class Appellation:
    """How sentences name the perimeter (« la CPTS X », « le territoire « X » »)."""

    nom: str

    @property
    def est_cpts(self) -> bool:
        return self.nom.strip().upper().startswith("CPTS")

    @property
    def sujet(self) -> str:  # "la CPTS X compte ..."
        return f"la {self.nom}" if self.est_cpts else f"le territoire « {self.nom} »"

    @property
    def de(self) -> str:  # "... de la CPTS X"
        return f"de la {self.nom}" if self.est_cpts else f"du territoire « {self.nom} »"

    @property
    def pronom(self) -> str:  # "elle compte ..."
        return "elle" if self.est_cpts else "il"


@dataclass
class Faits:
    """What a sentence builder may read."""

    idx: Index
    perimetre: Territoire
    departements: list[Territoire]
    france: Territoire | None
    sujet: Appellation
    meta: dict[str, dict[str, str]]
    lectures: dict[str, object] = field(default_factory=dict)  # id -> catalogue ``lecture`` pattern
    lectures_suite: dict[str, object] = field(default_factory=dict)  # id -> ``lecture_suite`` pattern

    def v(self, t: Territoire | None, ind: str) -> float | None:
        return None if t is None else self.idx.valeur(t, ind)

    def n(self, x: float, ind: str) -> str:
        dec = int(self.meta.get(ind, {}).get("decimales", fmt.DECIMALES_DEFAUT))
        return fmt.nombre(x, dec)

    def estimation(self, t: Territoire | None, ind: str) -> bool:
        r = None if t is None else self.idx.row(t, ind)
        return r is not None and str(r["statut"]) == "estimation"

    def nt(self, t: Territoire | None, ind: str, suffixe: str = "") -> str:
        """The value of ``t`` in text, called an estimation when it is one."""
        x = self.v(t, ind)
        text = self.n(x, ind) + suffixe if x is not None else fmt.ND
        return text + (" (estimation)" if self.estimation(t, ind) else "")

    def comparaison(self, ind: str, suffixe: str = "") -> str:
        """``", contre 3,3 dans le département et 3,4 en France"`` (only available values)."""
        parts = []
        vals = [(d, self.v(d, ind)) for d in self.departements]
        vals = [(d, x) for d, x in vals if x is not None]
        if len(vals) == 1 and len(self.departements) == 1:
            parts.append(f"{self.nt(vals[0][0], ind, suffixe)} dans le département")
        else:
            for k, (d, x) in enumerate(vals):
                lieu = f"dans le département {de_territoire(d)}" if k == 0 else f"dans celui {de_territoire(d)}"
                parts.append(f"{self.nt(d, ind, suffixe)} {lieu}")
        fr = self.v(self.france, ind)
        if fr is not None:
            parts.append(f"{self.nt(self.france, ind, suffixe)} en France")
        return f", contre {fmt.liste(parts)}" if parts else ""


class _Valeur:
    """``{valeur}`` / ``{valeur:<suffixe>}`` of a Lecture pattern: the perimeter's value, the suffix (a unit),
    then « (estimation) » when it is one."""

    def __init__(self, f: "Faits", ind: str):
        self.f, self.ind = f, ind

    def __format__(self, suffixe: str) -> str:
        return self.f.nt(self.f.perimetre, self.ind, suffixe)


class _Comparaison(_Valeur):
    """``{comparaison}`` / ``{comparaison:<suffixe>}``: « , contre … dans le département et … en France »."""

    def __format__(self, suffixe: str) -> str:
        return self.f.comparaison(self.ind, suffixe)


class _PartDepartement(_Valeur):
    """``{part_departement:<nom>}``: « , soit 16,4 % de la <nom> de Saône-et-Loire » (of the départements'
    cumulated value when there are several); empty when a département's value is missing."""

    def __format__(self, nom: str) -> str:
        x = self.f.v(self.f.perimetre, self.ind)
        deps = [(d, self.f.v(d, self.ind)) for d in self.f.departements]
        if x is None or not deps or not all(v for _, v in deps):
            return ""
        part = fmt.pourcent(100 * x / sum(v for _, v in deps), 1)  # type: ignore[misc]
        if len(deps) == 1:
            return f", soit {part} de la {nom} {de_territoire(deps[0][0])}"
        return f", soit {part} de la {nom} cumulée {fmt.liste([de_territoire(d) for d, _ in deps])}"


def clause(f: Faits, ind: str, motif: str) -> str | None:
    """One clause of a « Lecture : » from a catalogue pattern (keys ``lecture`` / ``lecture_suite``, see
    ``diagnostic/catalogue.py``); None when the perimeter has no value."""
    if f.v(f.perimetre, ind) is None:
        return None
    return motif.format(
        sujet=f.sujet.sujet, de_sujet=f.sujet.de, pronom=f.sujet.pronom,
        libelle=f.meta.get(ind, {}).get("libelle", ind),
        valeur=_Valeur(f, ind), comparaison=_Comparaison(f, ind), part_departement=_PartDepartement(f, ind),
    )


def _generique(f: Faits, ind: str) -> str | None:
    x = f.v(f.perimetre, ind)
    if x is None:
        return None
    info = f.meta.get(ind, {})
    unite = info.get("unite", "")
    suffixe = f"{fmt.NNBSP}%" if unite.strip() == "%" else ""
    num = f"{f.n(x, ind)}{fmt.NNBSP}{unite}" if unite else f.n(x, ind)
    if f.estimation(f.perimetre, ind):
        num += " (estimation)"
    return f"pour {f.sujet.sujet}, l'indicateur « {info.get('libelle', ind)} » vaut {num}{f.comparaison(ind, suffixe)}"


def faits(ctx: ReportContext) -> Faits:
    terr = territoires(ctx.indicateurs)
    perim = next((t for t in terr if t.type == "perimetre"), Territoire("perimetre", ctx.slug, ctx.nom))
    return Faits(
        idx=Index.de(ctx.indicateurs),
        perimetre=perim,
        departements=[t for t in terr if t.type == "departement"],
        france=next((t for t in terr if t.type == "france"), None),
        sujet=Appellation(ctx.nom),
        meta=meta(ctx),
        lectures=cle_catalogue(ctx, "lecture"),
        lectures_suite=cle_catalogue(ctx, "lecture_suite"),
    )


def lecture(f: Faits, ids: list[str], max_propositions: int = 2) -> str | None:
    """``"Lecture : la CPTS X compte 90 474 habitants, soit ... ; sa densité ..."`` or None: the catalogue
    patterns of the first ids that have one (at most ``max_propositions``), else the generic sentence."""
    clauses: list[str] = []
    for ind in ids:
        motif = f.lectures.get(ind) if not clauses else f.lectures_suite.get(ind, f.lectures.get(ind))
        if motif:
            c = clause(f, ind, str(motif))
            if c:
                clauses.append(c)
        if len(clauses) >= max_propositions:
            break
    if not clauses:
        for ind in ids:
            c = _generique(f, ind)
            if c:
                clauses.append(c)
                break
    if not clauses:
        return None
    return "Lecture : " + " ; ".join(clauses) + "."


def ligne_source(ctx: ReportContext, ids: list[str]) -> str:
    """``"Source : DREES – APL aux médecins généralistes, 2022 et 2023."`` from the rows of ``ids``."""
    rows = par_indicateur(ctx.indicateurs)
    rang = {i: n for n, i in enumerate(ids)}
    ind = [r for i in sorted(rang, key=rang.__getitem__) for r in rows.get(i, ())]  # table order
    par_id = sources_par_id(ctx)
    # vintages per source id; a composite row ("cog+contours") only gives its vintage to a
    # component that no single-source row dates
    simples: dict[str, list[str]] = {}
    composees: dict[str, list[str]] = {}
    for sid, mill in ((r["source"], r["millesime"]) for r in ind):
        if fmt.est_manquant(sid) or not str(sid).strip():
            continue
        parts = composantes(str(sid))
        target = simples if len(parts) == 1 else composees
        for p in parts:
            target.setdefault(p, [])
            if not fmt.est_manquant(mill):
                target[p].append(str(mill))
    parts = []
    for sid in dict.fromkeys([*simples, *composees]):
        mill = fmt.millesimes(simples.get(sid) or composees.get(sid, []))
        label = nom_source(sid, par_id)
        parts.append(f"{label}, {fmt.liste(mill)}" if mill else label)
    if not parts:
        return "Source : non renseignée."
    return "Source : " + " ; ".join(parts) + "."


def non_disponibles(ctx: ReportContext, ids: list[str]) -> list[str]:
    """Libellés (with their source) of the perimeter's indicators that are not available."""
    ind = ctx.indicateurs
    rows = ind[(ind["territoire_type"] == "perimetre") & ind["indicateur"].isin(ids) & (ind["statut"] == "non_disponible")]
    m = meta(ctx)
    par_id = sources_par_id(ctx)
    out = []
    for _, r in rows.iterrows():
        i = str(r["indicateur"])
        src = nom_source(str(r["source"]), par_id) if not fmt.est_manquant(r["source"]) else ""
        out.append(f"{m.get(i, {}).get('libelle', i)} (source : {src})" if src else m.get(i, {}).get("libelle", i))
    return out
