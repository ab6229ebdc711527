"""The CPTS's own surveys (« Besoins et attentes des professionnels / des usagers »), read from the export of
the tool it used (Google Forms, Microsoft Forms, LimeSurvey, Framaforms) in
``data/territoires/<slug>/enquetes/``, one export per survey with an optional ``<export>.toml`` beside it.

``charger`` reads every export of a territory and returns one ``Enquete`` per file (results computed on the
complete responses, partial ones counted apart) and the refusals: a malformed file is refused with a
French message naming the file, the row and the column; the rest of the diagnostic is still written.
Identity columns are never read; small cells are masked (threshold ``professionnels`` of
``pipelines/diagnostic.toml``), with secondary suppression.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..territoire import normalise_code
from .confidentialite import masquer, nettoyer
from .lecture import EnqueteError, Export, lire, norm
from .questions import Configuration, Question, configuration, profession_rpps, typer

VERBATIMS = 5
ENSEMBLE = "Ensemble"
__all__ = ["Enquete", "EnqueteError", "charger", "dossier", "fichiers", "lire_enquete"]


@dataclass
class Enquete:
    fichier: str
    outil: str
    public: str
    titre: str
    debut: str
    fin: str
    n_reponses: int
    n_completes: int
    n_partielles: int
    seuil: int
    questions: list[Question]
    participation: pd.DataFrame  # profession, libelle, repondants, professionnels, taux, statut
    communes: pd.DataFrame  # code, nom, repondants, statut (respondents by commune of practice)
    resultats: pd.DataFrame  # question, libelle, type, reponse, groupe, effectif, base, part, statut
    nombres: dict[str, dict] = field(default_factory=dict)
    verbatims: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    avertissements: list[str] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)  # filled by the report (report/enquete.py)
    provenance: dict = field(default_factory=dict)  # the export file: name, size, sha256 (sources annex)

    @property
    def cle(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", norm(Path(self.fichier).stem)).strip("_")


def dossier(territoires: Path, slug: str) -> Path:
    """``data/territoires/<slug>/enquetes/``."""
    return Path(territoires) / slug / "enquetes"


def fichiers(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))
                  and p.suffix.lower() in (".csv", ".xlsx"))


def _date(t: str) -> str | None:
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", t)
    if m:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})", t)  # 15/03/2026 (Google, French locale)
    if m:
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    return None


def _doublons(export: Export) -> None:
    vus: dict[tuple, int] = {}
    for ligne, num, t in zip(export.lignes, export.numeros, export.horodatage):
        cle = (t, tuple(sorted(ligne.items())))
        if t and cle in vus:
            raise EnqueteError(f"Fichier {export.fichier}, ligne {num}, colonne « horodatage » : réponse en double "
                               f"(mêmes réponses et même horodatage « {t} » que la ligne {vus[cle]}). Supprimez le "
                               "doublon dans l'outil d'enquête puis exportez à nouveau.")
        vus[cle] = num


def _garder(q: Question, garder: list[bool]) -> Question:
    return Question(q.code, q.texte, q.type, q.colonnes, q.options, q.libelle, q.theme, q.synthese, q.ventiler,
                    [r for r, g in zip(q.reponses, garder) if g])


def _choisis(q: Question, r) -> list[str]:
    if r is None:
        return []
    return list(dict.fromkeys(r)) if isinstance(r, list) else [str(r)]


def _comptes(q: Question, groupes: list[str | None]) -> pd.DataFrame:
    """Counts of each answer by group (rows: groups then Ensemble; columns: answers in option order)."""
    options = list(q.options) or []
    lignes: dict[str, dict[str, int]] = {}
    base: dict[str, int] = {}
    for r, g in zip(q.reponses, groupes):
        ch = _choisis(q, r)
        if not ch:
            continue
        for cle in ([ENSEMBLE] + ([g] if g else [])):
            base[cle] = base.get(cle, 0) + 1
            d = lignes.setdefault(cle, {})
            for o in ch:
                if o not in options:
                    options.append(o)
                d[o] = d.get(o, 0) + 1
    tab = pd.DataFrame(lignes).T.reindex(columns=options).fillna(0).astype(int)
    tab.attrs["base"] = base
    return tab


def _verbatims(q: Question, groupes: list[str | None], tailles: dict[str, int], seuil: int) -> list:
    """Up to VERBATIMS excerpts, chosen deterministically (order of a hash of their text), scrubbed; a group
    is named only when it counts at least ``seuil`` respondents."""
    textes = [(str(r), g) for r, g in zip(q.reponses, groupes) if r and len(str(r).strip()) >= 3]
    textes.sort(key=lambda x: hashlib.sha256(norm(x[0]).encode()).hexdigest())
    out = []
    for t, g in textes[:VERBATIMS]:
        t = nettoyer(" ".join(t.split()))
        if len(t) > 300:
            t = t[:299].rsplit(" ", 1)[0] + "…"
        out.append((t, g if g and tailles.get(g, 0) >= seuil else None))
    return out


def _communes(con, reponses: list, selection: pd.DataFrame) -> tuple[list[str | None], list[str]]:
    """Commune of practice of each response: code of the target COG (codes through int_cog_passage, names
    matched among the communes of the territory's départements), None when not recognised."""
    perim = selection[selection["territoire_type"] == "perimetre"]["commune"].tolist()
    deps = selection[selection["territoire_type"] == "departement"]["territoire_code"].tolist()
    con.register("_deps_enquete", pd.DataFrame({"d": deps}))
    try:
        noms = con.sql("SELECT code, nom FROM int_commune WHERE departement IN (SELECT d FROM _deps_enquete)").fetchall()
        passage = dict(con.sql("SELECT code_source, code_commune FROM int_cog_passage").fetchall())
    finally:
        con.unregister("_deps_enquete")

    def clef(nom: str) -> str:
        n = norm(nom).replace("-", " ").replace("'", " ")
        n = re.sub(r"\bst\b", "saint", re.sub(r"\bste\b", "sainte", n))
        return re.sub(r"\s+", " ", n).strip()

    par_nom: dict[str, list[str]] = {}
    for code, nom in noms:
        par_nom.setdefault(clef(nom), []).append(code)
    out, inconnues = [], []
    for r in reponses:
        if not r:
            out.append(None)
            continue
        v = str(r).strip()
        m = re.match(r"^(\d{4,5}|2[AB]\d{3})\b", v.upper())
        code = None
        if m:
            code = passage.get(normalise_code(m.group(1)))
        else:
            nom = re.sub(r"\s*\(\d{2,5}\)\s*$", "", v)
            cands = par_nom.get(clef(nom), [])
            if len(cands) > 1:
                cands = [c for c in cands if c in perim] or cands
            code = cands[0] if len(cands) == 1 else None
        if code is None:
            inconnues.append(v)
        out.append(code)
    return out, inconnues


def _professionnels(con, selection: pd.DataFrame) -> dict[str, int] | None:
    """RPPS practitioners of the perimeter by profession (models/enquete_professionnels.sql); None without RPPS."""
    from ..warehouse import model_sql

    if not con.sql("SELECT count(*) FROM stg_rpps_activite").fetchone()[0]:
        return None
    con.register("selection_territoire", selection)
    try:
        return dict(con.sql(model_sql("enquete_professionnels.sql")).fetchall())
    finally:
        con.unregister("selection_territoire")


def lire_enquete(path: Path, seuil: int, con=None, selection: pd.DataFrame | None = None,
                 professionnels: dict[str, int] | None = None) -> Enquete:
    """One survey export with its ``.toml``: typed, counted, masked. ``con``/``selection``: the warehouse and
    the territory (to match communes); without them communes are not matched."""
    export = lire(path)
    toml = path.with_suffix(".toml")
    config: Configuration = configuration(toml)
    questions = typer(export, config, toml.name)
    _doublons(export)
    garder = export.complet
    n_compl = sum(garder)
    if not n_compl:
        raise EnqueteError(f"Fichier {export.fichier} : aucune réponse complète ({len(garder)} réponse(s) partielle(s)).")
    qs = [_garder(q, garder) for q in questions]
    prof_q = next((q for q in qs if q.type == "profession"), None)
    comm_q = next((q for q in qs if q.type == "commune"), None)
    # profession of every response (complete or partial) for participation; complete ones for breakdowns
    prof_tous = next((q for q in questions if q.type == "profession"), None)
    lib_tous = [profession_rpps(r) if r else (None, None) for r in (prof_tous.reponses if prof_tous else [None] * len(garder))]
    groupes = [lib for (_, lib), g in zip(lib_tous, garder) if g]
    avert: list[str] = []
    # participation by profession
    part = pd.DataFrame(columns=["profession", "libelle", "repondants", "professionnels", "taux", "statut"])
    if prof_q is not None:
        compte: dict[tuple, int] = {}
        for (code, lib), g in zip(lib_tous, garder):
            if lib:
                compte[(code, lib)] = compte.get((code, lib), 0) + 1
        rows = [{"profession": c or "", "libelle": lib, "repondants": n} for (c, lib), n in compte.items()]
    if prof_q is not None and rows:
        part = pd.DataFrame(rows).sort_values(["repondants", "libelle"], ascending=[False, True], kind="stable")
        m = masquer(part.set_index("libelle")[["repondants"]].T, seuil).T["repondants"]
        part["statut"] = np.where(m.reindex(part["libelle"]).to_numpy(), "secret", "ok")
        pros = professionnels or {}
        part["professionnels"] = [pros.get(c) if (professionnels is not None and c) else np.nan for c in part["profession"]]
        part["taux"] = np.where(part["professionnels"].astype(float) > 0,
                                100 * part["repondants"] / part["professionnels"].astype(float), np.nan)
        part.loc[part["statut"] == "secret", ["repondants", "taux"]] = np.nan
        part = part.reset_index(drop=True)
    # communes of practice
    communes = pd.DataFrame(columns=["code", "repondants", "statut"])
    if comm_q is not None and con is not None and selection is not None:
        tous = next(q for q in questions if q.type == "commune")
        codes, inconnues = _communes(con, tous.reponses, selection)
        if inconnues:
            avert.append(f"Enquête {export.fichier} : {len(inconnues)} commune(s) d'exercice non reconnue(s) "
                         f"({', '.join(sorted(set(inconnues))[:5])}) ; comptées dans « commune non reconnue ».")
        c = pd.Series([x for x in codes if x]).value_counts()
        if len(c):
            communes = pd.DataFrame({"code": c.index, "repondants": c.to_numpy()})
            m = masquer(communes.set_index("code")[["repondants"]].T, seuil).T["repondants"]
            communes["statut"] = np.where(m.reindex(communes["code"]).to_numpy(), "secret", "ok")
            communes.loc[communes["statut"] == "secret", "repondants"] = np.nan
    # results of each question
    tailles = {k: v for k, v in pd.Series([g for g in groupes if g]).value_counts().items()}
    for lib in part.loc[part["statut"] == "secret", "libelle"] if len(part) else []:
        tailles[lib] = 0  # a group masked in the participation is never named beside an excerpt
    res, nombres, verb = [], {}, {}
    for q in qs:
        if q.type in ("choix_unique", "choix_multiple", "echelle"):  # profession: the participation table
            grp = groupes if q.ventiler else [None] * len(groupes)
            tab = _comptes(q, grp)
            if not len(tab):
                continue
            base = tab.attrs["base"]
            m = pd.DataFrame(False, index=tab.index, columns=tab.columns)
            if len(tab.index) > 1:  # broken down by profession: mask the groups' small cells
                sous = tab.drop(index=ENSEMBLE)
                m.loc[sous.index] = masquer(pd.concat([sous, tab.loc[[ENSEMBLE]]]), seuil).loc[sous.index]
                m.loc[sous.index] |= pd.DataFrame({c: [base.get(g, 0) < seuil for g in sous.index] for c in tab.columns},
                                                  index=sous.index)
            for g in tab.index:
                for o in tab.columns:
                    n = int(tab.loc[g, o])
                    secret = bool(m.loc[g, o])
                    res.append({"question": q.code, "texte": q.texte, "libelle": q.libelle or q.texte, "type": q.type,
                                "theme": q.theme, "reponse": o, "groupe": g, "effectif": np.nan if secret else n,
                                "base": base.get(g, 0), "part": np.nan if secret else 100 * n / base[g],
                                "statut": "secret" if secret else "ok"})
        elif q.type == "nombre":
            v = np.array([r for r in q.reponses if r is not None], dtype=float)
            if len(v):
                q1, med, q3 = np.percentile(v, [25, 50, 75])
                nombres[q.code] = {"n": len(v), "mediane": float(med), "q1": float(q1), "q3": float(q3)}
        elif q.type == "texte":
            verb[q.code] = _verbatims(q, groupes, tailles, seuil)
            nombres[q.code] = {"n": sum(1 for r in q.reponses if r)}
    dates = sorted(d for d in (_date(t) for t in export.horodatage) if d)
    return Enquete(
        fichier=export.fichier, outil=export.outil, public=config.public,
        titre=config.titre or ("Enquête auprès des usagers" if config.public == "usagers"
                                else "Enquête auprès des professionnels") + f" ({export.fichier})", debut=dates[0] if dates else "", fin=dates[-1] if dates else "",
        n_reponses=len(garder), n_completes=n_compl, n_partielles=len(garder) - n_compl, seuil=seuil,
        questions=qs, participation=part, communes=communes,
        resultats=pd.DataFrame(res, columns=["question", "texte", "libelle", "type", "theme", "reponse", "groupe",
                                             "effectif", "base", "part", "statut"]),
        nombres=nombres, verbatims=verb, avertissements=avert, provenance=_provenance(path, export.outil, config))


def _provenance(path: Path, outil: str, config: Configuration) -> dict:
    from datetime import datetime, timezone

    from .lecture import OUTILS

    data = path.read_bytes()
    cle = re.sub(r"[^a-z0-9]+", "_", norm(path.stem)).strip("_")
    return {"source": f"enquete_{cle}", "titre": config.titre or f"Enquête de la CPTS ({path.name})",
            "producteur": f"CPTS, export {OUTILS.get(outil, outil)}", "licence": "Données de la CPTS, non publiées",
            "url": "", "millesime": "", "fichier": path.name,
            "recupere_le": datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "octets": len(data), "sha256": hashlib.sha256(data).hexdigest(), "disponible": True}


def charger(con, selection: pd.DataFrame, folder: Path, seuil: int) -> tuple[list[Enquete], list[str]]:
    """(surveys read, French refusals) for the exports of ``folder``."""
    paths = fichiers(folder)
    if not paths:
        return [], []
    pros = _professionnels(con, selection) if con is not None else None
    out, refus = [], []
    for p in paths:
        try:
            out.append(lire_enquete(p, seuil, con, selection, pros))
        except EnqueteError as exc:
            refus.append(f"Enquête refusée : {exc}")
    return out, refus
