"""The document model shared by the HTML (and so the PDF) and the DOCX writers.

``document(ctx, cartes)`` returns plain dicts and lists (no markup): every sentence, table cell
and figure of the diagnostic, in reading order. Writers only lay it out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import enquete, fmt, texte
from .context import ReportContext
from .maps import Carte, indicateur_carte, seuil_apl
from .plan import AUTRES, NIVEAU_DEPARTEMENT, SECTIONS, Section, section_de
from .preuves import preuves
from .series import PREFIXE as SERIE
from .series import cle_annee
from .synthese import synthese
from .tables import (
    _une_fois,
    MARQUE_PETIT,
    PETIT_EFFECTIF,
    THEME_AUTRE,
    Index,
    cle_catalogue,
    communes_perimetre,
    composantes,
    lignes,
    meta,
    nom_source,
    notes_statuts,
    par_indicateur,
    sources_par_id,
    territoires,
    themes,
)

TYPE_LABELS = {"perimetre": "territoire", "departement": "département", "region": "région", "france": ""}


def _figure(carte: Carte, lecture: str | None) -> dict:
    return {"png": Path(carte.png), "svg": Path(carte.svg) if carte.svg else None, "alt": carte.titre, "legende": carte.legende,
            "lecture": lecture, "cle": carte.cle}


def _niveaux(ctx: ReportContext) -> dict[str, str]:
    """indicateur -> level at which it is published (catalogue ``niveau``: context, then package catalogue)."""
    return {i: str(v) for i, v in cle_catalogue(ctx, "niveau").items()}


def niveau_departemental(ctx: ReportContext, ids: list[str]) -> set[str]:
    """Ids published at département level only: catalogue ``niveau = "departement"``, or (any catalogue)
    no perimeter value while a département has one."""
    niveaux = _une_fois("niveaux", ctx.catalogue, lambda _: _niveaux(ctx))  # once per report (issue 16)
    par_donnees = _une_fois("departemental_par_donnees", ctx.indicateurs, _departemental_par_donnees)
    out = {i for i in ids if fmt.cle_tri(niveaux.get(i, "")).startswith("departement")}
    return out | {i for i in ids if i in par_donnees and fmt.cle_tri(niveaux.get(i, "")) != "commune"}


def _departemental_par_donnees(ind) -> set[str]:
    """Indicators with perimeter rows, all ``non_disponible``, while a département row is not."""
    t, nd = ind["territoire_type"], ind["statut"] == "non_disponible"
    perim = nd[t == "perimetre"].groupby(ind.loc[t == "perimetre", "indicateur"]).all()
    dep = set(ind.loc[(t == "departement") & ~nd, "indicateur"])
    return {i for i, tous_nd in perim.items() if tous_nd and i in dep}


def _valeurs_series(s, ind) -> dict[tuple, list[tuple]]:
    """(indicateur, territoire_type, territoire_code) -> [(annee, valeur)]: the shown values of the yearly
    series ``s`` of the départements and France of the indicator table ``ind``, in table order."""
    lieux = {(t.type, t.code) for t in territoires(ind) if t.type in ("departement", "france")}
    s = s[s["statut"].isin(["ok", "estimation"]) & s["valeur"].notna()]
    out: dict[tuple, list[tuple]] = {}
    for i, t, c, a, v in zip(s["indicateur"], s["territoire_type"], s["territoire_code"], s["annee"], s["valeur"]):
        if (t, c) in lieux:
            out.setdefault((i, t, c), []).append((a, v))
    return out


def _lecture_serie(ctx: ReportContext, ind: str) -> str | None:
    """« Lecture : dans le département X, … est passé de a en 2019 à b en 2023 ; en France, de c à d. »"""
    s = ctx.series
    if s is None or not len(s):
        return None
    f = texte.faits(ctx)
    valeurs = _une_fois("valeurs_series", s, _valeurs_series, ctx.indicateurs)  # once per report (issue 16)
    m = meta(ctx).get(ind, {})
    dec = int(m.get("decimales", fmt.DECIMALES_DEFAUT))
    suffixe = f"{fmt.NNBSP}%" if m.get("unite", "").strip() == "%" else ""
    parts = []
    for t in [*f.departements, f.france]:
        if t is None:
            continue
        g = valeurs.get((ind, t.type, t.code), [])
        if len(g) < 2:
            continue
        g = sorted(g, key=lambda av: cle_annee(av[0]))
        (a, va), (b, vb) = g[0], g[-1]
        lieu = "en France" if t.type == "france" else f"dans le département {texte.de_territoire(t)}"
        parts.append(f"{lieu}, de {fmt.nombre(float(va), dec)}{suffixe} en {a} à "
                     f"{fmt.nombre(float(vb), dec)}{suffixe} en {b}")
    if not parts:
        return None
    return (f"Lecture : « {m.get('libelle', ind)} » est passé " + " ; ".join(parts)
            + ". Donnée départementale : la CPTS n'est pas isolable dans les données ouvertes.")


def _lecture_situation(ctx: ReportContext) -> str | None:
    f = texte.faits(ctx)
    n = int(ctx.communes["perimetre"].fillna(False).astype(bool).sum())
    sup = f.v(f.perimetre, "superficie_km2")
    if not n or sup is None:
        return None
    text = (f"Lecture : les {fmt.nombre(n)} communes du territoire (en bleu, contour épais) s'étendent sur "
            f"{fmt.nombre(sup, 0)}{fmt.NNBSP}km²")
    deps = [(d, f.v(d, "superficie_km2")) for d in f.departements]
    if deps and all(x for _, x in deps):
        total = sum(x for _, x in deps)  # type: ignore[misc]
        qui = (f"du département {texte.de_territoire(deps[0][0])}" if len(deps) == 1
               else "des départements " + fmt.liste([texte.de_territoire(d) for d, _ in deps]))
        text += f", soit {fmt.pourcent(100 * sup / total, 1)} de la superficie {qui}"
    return text + "."


def _lecture_apl(ctx: ReportContext) -> str | None:
    c = ctx.communes[ctx.communes["perimetre"].fillna(False).astype(bool).to_numpy()]
    colonne, seuil = indicateur_carte(ctx), seuil_apl(ctx)
    if colonne is None:
        return None
    v = c[colonne].astype(float).to_numpy()
    known = v[~np.isnan(v)]
    if not len(known):
        return None
    k = int((known < seuil).sum())
    text = (f"Lecture : {fmt.nombre(k)} des {fmt.nombre(len(known))} communes du territoire dont l'APL est connue "
            f"ont une APL inférieure à {fmt.nombre(seuil, 1)} consultations par habitant et par an")
    f = texte.faits(ctx)
    part = f.v(f.perimetre, "part_pop_apl_mg_inf_2_5")
    if part is not None and k:
        text += f" ; elles regroupent {fmt.pourcent(part, 1)} de ses habitants"
    manquantes = len(v) - len(known)
    if manquantes:
        text += f" ; {fmt.nombre(manquantes)} commune{'s' if manquantes > 1 else ''} sans donnée (hachurée{'s' if manquantes > 1 else ''})"
    return text + "."


def _propre(raison: str, longueur: int = 180) -> str:
    """A reason for readers: the cause of a failed download without its URL (the sources table gives it),
    local paths and mirror addresses dropped, cut to `longueur` characters."""
    import re

    r = re.sub(r"Échec du téléchargement de \S+ : ", "téléchargement impossible : ", str(raison))
    r = re.sub(r"\s*\b(dans|in|via)\s+(/|https?://)\S+", "", r)  # local paths, mirror addresses
    r = re.sub(r"\s*(https?://|/)\S+", "", r)
    r = re.sub(r"\s+", " ", r).strip(" :;")
    return r if len(r) <= longueur else r[: longueur - 1].rsplit(" ", 1)[0] + "…"


def _raison_source(ctx: ReportContext, sid: str) -> str:
    for p in composantes(sid):
        if ctx.indisponibles.get(p):
            return _propre(ctx.indisponibles[p])
    return ""


def _a_des_valeurs(ctx: ReportContext, ids: list[str]) -> tuple[list[str], list[str]]:
    """(ids with at least one shown value in any territory, ids unavailable everywhere)."""
    rows = par_indicateur(ctx.indicateurs)
    vus = {i for i in ids if any(r["statut"] != "non_disponible" for r in rows.get(i, ()))}
    return [i for i in ids if i in vus], [i for i in ids if i not in vus]


def _non_disponibles(ctx: ReportContext, ids: list[str]) -> list[dict]:
    """Indicators unavailable everywhere, grouped by source: [{source, raison, indicateurs}]."""
    rows = par_indicateur(ctx.indicateurs)
    m = meta(ctx)
    par_id = sources_par_id(ctx)
    groupes: dict[str, dict] = {}
    for i in ids:
        sid = next((str(r["source"]) for r in rows.get(i, ()) if not fmt.est_manquant(r["source"]) and str(r["source"])), "")
        # "rpps+cog": name only the component(s) that are missing
        manquantes = [c for c in composantes(sid) if c in ctx.indisponibles
                      or par_id.get(c, {}).get("disponible", True) is False]
        sid = "+".join(manquantes) if manquantes else sid
        g = groupes.setdefault(sid, {"source": nom_source(sid, par_id) if sid else "source non renseignée",
                                     "raison": _raison_source(ctx, sid) if sid else "", "indicateurs": [],
                                     "recue": bool(sid) and not manquantes})  # file in hand, values absent
        g["indicateurs"].append(m.get(i, {}).get("libelle", i))
    return list(groupes.values())


def _tableau(ctx: ReportContext, ids: list[str], terr) -> tuple[list[dict], set[str]]:
    idx = Index.de(ctx.indicateurs)
    used: set[str] = set()
    out = []
    for r in lignes(ctx, ids, terr):
        cells = []
        for t, c in zip(terr, r.cellules):
            row = idx.row(t, r.indicateur)
            petit = (t.type == "perimetre" and row is not None and not fmt.est_manquant(row.get("numerateur"))
                     and c.statut in ("ok", "estimation") and float(row["numerateur"]) < PETIT_EFFECTIF)
            used.add(c.statut)
            if petit:
                used.add("petit")
            cells.append({"texte": c.texte, "perim": t.type == "perimetre", "statut": c.statut, "petit": petit})
        out.append({"indicateur": r.indicateur, "libelle": r.libelle, "unite": r.unite, "cellules": cells})
    return out, used


def _section(ctx: ReportContext, numero: int, plan: Section, ids: list[str], terr, by_key: dict[str, Carte]) -> dict:
    f = texte.faits(ctx)
    tous = ids
    ids, absents = _a_des_valeurs(ctx, tous)
    rows, used = _tableau(ctx, ids, terr) if ids else ([], set())
    notes = notes_statuts(used)
    departementaux = niveau_departemental(ctx, ids)
    dep_level = [meta(ctx)[i]["libelle"] for i in ids if i in departementaux]
    if dep_level:
        notes.append(NIVEAU_DEPARTEMENT[0].upper() + NIVEAU_DEPARTEMENT[1:] + " (" + fmt.liste(dep_level)
                     + ") : la valeur du département, de la région ou de la France ne décrit pas le territoire de la "
                     "CPTS en propre.")
    niveaux = _niveaux(ctx)
    locales = [meta(ctx)[i]["libelle"] for i in ids if fmt.cle_tri(niveaux.get(i, "")) == "commune"]
    if locales:
        notes.append("Donnée locale transmise par la CPTS, agrégée à partir des communes (" + fmt.liste(locales) + ").")
    figures, manquantes = [], []
    if plan.cle == "territoire":
        if "situation" in by_key:
            figures.append(_figure(by_key["situation"], _lecture_situation(ctx)))
        else:
            manquantes.append("Carte de situation non produite : aucun contour communal n'était disponible.")
    if plan.cle == "population" and "pyramide" in by_key:
        from .pyramide import lecture as lecture_pyramide

        figures.append(_figure(by_key["pyramide"], lecture_pyramide(ctx)))
    if plan.cle == "population":
        from . import filosofi

        if "niveau_vie_median" in by_key:
            figures.append(_figure(by_key["niveau_vie_median"], filosofi.lecture(ctx)))
        if "taux_pauvrete" in by_key:
            figures.append(_figure(by_key["taux_pauvrete"], None))
        note = filosofi.note_perimetre(ctx)
        if note:
            notes.append(note)
    carte = indicateur_carte(ctx)
    if carte is not None and carte in tous:
        if carte in by_key:
            figures.append(_figure(by_key[carte], _lecture_apl(ctx)))
        else:
            manquantes.append("Carte de l'APL non produite : aucune valeur communale de l'APL "
                              "ou aucun contour communal n'était disponible.")
    groupes_absents = _non_disponibles(ctx, absents)
    listes = []
    if plan.cle == "offre":
        from .etablissements import liste

        etab = liste(ctx)
        if etab is not None:
            listes.append(etab)
        if "medecins" in by_key:
            figures.append(_figure(by_key["medecins"], None))
        if "etablissements" in by_key:
            figures.append(_figure(by_key["etablissements"], None))
    if plan.cle == "etat_sante":
        from . import mortalite

        icm = mortalite.tableau(ctx)
        if icm is not None:
            listes.append(icm)
    for i in tous:  # yearly series of the section's indicators
        if SERIE + i in by_key:
            figures.append(_figure(by_key[SERIE + i], _lecture_serie(ctx, i)))
    couverts = cle_catalogue(ctx, "sujet")
    sujets = [{"libelle": s.libelle, "texte": s.absent} for s in plan.sujets if not s.couvert(couverts, ids)]
    rezone = ("Ce que montre Rezone CPTS : " + plan.rezone) if plan.rezone and (dep_level or absents or not ids) else None
    return {
        "numero": numero,
        "ancre": f"section-{numero}",
        "cle": plan.cle,
        "titre": plan.titre,
        "lignes": rows,
        "source": texte.ligne_source(ctx, ids) if ids else "",
        "lecture": texte.lecture(f, ids) if ids else None,
        "notes": notes,
        "non_disponibles": [g for g in groupes_absents if not g["recue"]],
        "absents_du_fichier": [g for g in groupes_absents if g["recue"]],
        "figures": figures,
        "listes": listes,
        "cartes_manquantes": manquantes,
        "vide": None if ids else (plan.vide or "Aucun indicateur de cette section n'est disponible."),
        "sujets": sujets,
        "rezone": rezone,
    }


def ids_par_section(ctx: ReportContext) -> list[tuple[Section, list[str]]]:
    """Sections 1-5 of the plan (always, even empty), then one per unknown theme, with their ids."""
    par_section: dict[str, list[str]] = {s.cle: [] for s in SECTIONS}
    autres: dict[str, list[str]] = {}
    for th in themes(ctx):
        plan = section_de(th.cle) if th.cle != THEME_AUTRE else None
        if plan is not None:
            par_section[plan.cle] += th.indicateurs
        else:
            autres.setdefault(th.cle, []).extend(th.indicateurs)
    out = [(plan, par_section[plan.cle]) for plan in SECTIONS if plan.toujours or par_section[plan.cle]]
    for cle, ids in autres.items():
        titre = texte.titre_theme(cle) if cle != THEME_AUTRE else AUTRES.titre
        out.append((Section(AUTRES.cle, titre, (), ""), ids))
    return out


def sections(ctx: ReportContext, cartes: list[Carte]) -> list[dict]:
    """Sections 1-5 of the plan (always, even empty), then unknown themes, in catalogue order."""
    terr = territoires(ctx.indicateurs)
    by_key = {c.cle: c for c in cartes}
    out = []
    for plan, ids in ids_par_section(ctx):
        out.append(_section(ctx, len(out) + 1, plan, ids, terr, by_key))
    placed = {fig["alt"] for s in out for fig in s["figures"]}
    rest = [_figure(c, None) for c in cartes if c.titre not in placed and c.cle != "acteurs"]  # acteurs: its own section
    if rest:  # no section to attach them to
        out[0]["figures"] += rest
    return out


def _limites(secs: list[dict]) -> str:
    vides = [f"{s['numero']} ({s['titre']})" for s in secs if not s["lignes"] and s.get("cle") != "enquete"]
    sujets = [sj["libelle"].lower() for s in secs for sj in s["sujets"]]
    text = "Cette synthèse ne porte que sur les indicateurs disponibles dans ce document."
    if vides:
        text += (f" Aucun indicateur n'est encore disponible pour la section{'s' if len(vides) > 1 else ''} "
                 + fmt.liste(vides) + ".")
    if sujets:
        text += " Restent à documenter avant de conclure : " + fmt.liste(list(dict.fromkeys(sujets))) + "."
    return text


def _synthese(ctx: ReportContext, numero: int, secs: list[dict]) -> dict:
    s = synthese(ctx)
    conv = lambda ps: [{"libelle": p.libelle, "texte": p.texte} for p in ps]  # noqa: E731
    appuis_enquete, vigilances_enquete = enquete.points(ctx)
    return {
        "numero": numero,
        "ancre": f"section-{numero}",
        "titre": "Synthèse — points d'appui et points de vigilance",
        "intro": ("Les points ci-dessous sont repérés automatiquement en comparant chaque indicateur du territoire "
                  "à celui de son département. " + s.marges + " Le sens favorable ou défavorable d'un écart "
                  "est fixé par indicateur (par exemple : une APL plus élevée est favorable, une part plus élevée de "
                  f"la population sous le seuil de {fmt.nombre(seuil_apl(ctx), 1)} est défavorable) ; les indicateurs "
                  "de taille (population, "
                  "superficie, nombre de communes) ne sont pas comparés."),
        "sans_departement": s.sans_departement,
        "appuis": conv(s.appuis) + appuis_enquete,
        "vigilances": conv(s.vigilances) + vigilances_enquete,
        "contexte": conv(s.contexte),
        "proches": s.proches,
        "limites": _limites(secs),
    }


def _definitions(ctx: ReportContext) -> list[dict]:
    m = meta(ctx)
    groups: dict[str, list[dict]] = {}
    for i, info in m.items():
        titre = texte.titre_theme(info["theme"]) if info["theme"] else AUTRES.titre
        groups.setdefault(titre, []).append(
            {"id": i, "libelle": info["libelle"], "unite": info["unite"], "definition": info["definition"]}
        )
    ordre = [s.titre for s in SECTIONS]
    keys = sorted(groups, key=lambda k: ordre.index(k) if k in ordre else len(ordre))
    return [{"titre": k, "entrees": groups[k]} for k in keys]


def _sources(ctx: ReportContext) -> list[dict]:
    out = []
    for s in ctx.sources:
        url = "" if fmt.est_manquant(s.get("url")) else str(s.get("url") or "")
        sid = str(s.get("source") or "")
        disponible = s.get("disponible", True) is not False and sid not in ctx.indisponibles
        out.append(
            {
                "id": sid,
                "titre": str(s.get("titre") or ""),
                "producteur": str(s.get("producteur") or ""),
                "licence": str(s.get("licence") or ""),
                "url": url,
                # http(s) only (never javascript: or data:), and not an abridged "…/" address
                "lien": url.startswith(("http://", "https://")) and "…" not in url,
                "disponible": disponible,
                "raison": _propre(ctx.indisponibles.get(sid) or ""),
                "millesime": "" if fmt.est_manquant(s.get("millesime")) else str(s.get("millesime") or ""),
                "fichier": str(s.get("fichier") or ""),
                "recupere_le": fmt.date_courte(s.get("recupere_le")),
                "taille": fmt.octets(s.get("octets")),
                "sha": fmt.sha_court(s.get("sha256")),
            }
        )
    known = {s["id"] for s in out}
    for sid, raison in ctx.indisponibles.items():  # unavailable and absent from provenance
        if sid not in known:
            out.append({"id": sid, "titre": sid, "producteur": "", "licence": "", "url": "", "lien": False,
                        "disponible": False, "raison": _propre(raison), "millesime": "", "fichier": "",
                        "recupere_le": "", "taille": "", "sha": ""})
    return out


def _communes(ctx: ReportContext) -> dict:
    df, cols = communes_perimetre(ctx)
    keep = [k for k, c in enumerate(cols) if c.cle != "region"]  # one région code per row says little here
    df, cols = df.iloc[:, keep], [cols[k] for k in keep]
    rows = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(cols, row):
            if c.decimales is None:
                cells.append({"texte": "" if fmt.est_manquant(v) else str(v), "num": False})
            else:
                cells.append({"texte": fmt.nombre(v, c.decimales), "num": True})
        rows.append(cells)
    return {
        "colonnes": [{"libelle": c.libelle, "unite": c.unite, "num": c.decimales is not None, "cle": c.cle}
                     for c in cols],
        "lignes": rows,
    }


def _methode(ctx: ReportContext) -> list[dict]:
    """Method notes: (titre, texte) paragraphs, some computed from the rows."""
    ind = ctx.indicateurs
    m = meta(ctx)
    seuil = fmt.nombre(seuil_apl(ctx), 1)
    notes = [
        ("Agrégation", "Tous les indicateurs sont calculés à la commune puis agrégés de la même façon pour le "
         "territoire et pour ses comparateurs (département, région, France). Les effectifs sont additionnés puis "
         "rapportés à leur dénominateur : un taux n'est jamais additionné ni moyenné sans pondération. Un taux "
         "publié par un autre producteur n'est jamais mélangé à un taux calculé ici."),
        ("Accessibilité potentielle localisée (APL)", "L'APL aux médecins généralistes, publiée par la DREES pour "
         "chaque commune, mesure le nombre de consultations ou visites accessibles par habitant et par an en tenant "
         "compte de l'offre des communes voisines et de la structure par âge de la population. L'APL d'un "
         "territoire est la moyenne des APL communales pondérée par la population standardisée de chaque commune, "
         "comme le préconise la DREES. La part de la population vivant dans une commune où l'APL est inférieure à "
         f"{seuil} consultations par an et par habitant (seuil de sous-densité) est calculée avec la population "
         "non standardisée."),
        ("Harmonisation géographique (COG)", "Les communes sont celles du Code officiel géographique (COG) 2026. "
         "Les contours communaux (IGN ADMIN EXPRESS, COG 2018) ont été rattachés aux communes de 2026 : les "
         "contours des communes fusionnées depuis 2018 sont regroupés dans leur commune nouvelle, et les "
         "arrondissements municipaux de Paris, Lyon et Marseille sont rattachés à leur commune. Les données "
         "publiées sur une autre géographie (anciens codes, communes déléguées) sont ramenées au COG 2026 de la "
         "même manière."),
        ("France", "La France comprend la France métropolitaine et les cinq départements d'outre-mer "
         "(Guadeloupe, Martinique, Guyane, La Réunion, Mayotte), champ du recensement, de l'Assurance maladie et "
         "de la DREES ; les collectivités d'outre-mer en sont exclues."),
    ]
    secret = ind[ind["statut"] == "secret"]
    txt = (f"Un effectif inférieur au seuil de diffusion ({int(ctx.seuils['professionnels'])} pour les professionnels de "
           f"santé, {int(ctx.seuils['patients'])} pour les patients) "
           "est masqué après agrégation au territoire, avec un masquage secondaire pour qu'il ne puisse pas être "
           "déduit d'un total ; il apparaît « s » dans les tableaux. Les masques des producteurs (NS, NC, s) sont "
           "conservés et jamais remplacés par zéro. « n.d. » signale une donnée non disponible. ")
    txt += (f"Dans cette édition, {fmt.nombre(len(secret))} valeur{'s sont masquées' if len(secret) > 1 else ' est masquée'}."
            if len(secret) else "Dans cette édition, aucune valeur n'est masquée.")
    txt += (f" Les valeurs du territoire calculées sur moins de {PETIT_EFFECTIF} cas sont signalées par "
            f"{MARQUE_PETIT} et sont à interpréter avec prudence.")
    notes.append(("Secret statistique et petits effectifs", txt))
    est = ind[ind["statut"] == "estimation"]
    if len(est):
        items = [f"{m.get(str(r.indicateur), {}).get('libelle', r.indicateur)} — {r.territoire_nom}"
                 for r in est.itertuples(index=False)]
        notes.append(("Estimations", "Les valeurs suivantes sont des estimations (elles figurent en italique dans "
                      "les tableaux) : " + fmt.liste(list(dict.fromkeys(items))) + ". Une estimation complète une "
                      "donnée manquante (par exemple une commune sans contour) ; elle est à citer comme telle."))
    else:
        notes.append(("Estimations", "Aucune valeur de cette édition n'est une estimation."))
    if ctx.avertissements:
        notes.append(("Avertissements de production", " ".join(str(a) for a in ctx.avertissements)))
    return [{"titre": t, "texte": x} for t, x in notes]


def _date_donnees(ctx: ReportContext) -> str:
    """Latest retrieval date of the sources used ("données au ..."), else the production date."""
    dates = [d for d in (fmt.as_date(s.get("recupere_le")) for s in ctx.sources if s.get("disponible", True) is not False)
             if d is not None]
    return fmt.date_fr(max(dates) if dates else ctx.produit_le)


def _intro(ctx: ReportContext) -> dict:
    terr = territoires(ctx.indicateurs)
    n = int(ctx.communes["perimetre"].fillna(False).astype(bool).sum())
    deps = [t for t in terr if t.type == "departement"]
    regs = [t for t in terr if t.type == "region"]
    if len(deps) == 1:
        dans = f"situées dans le département {texte.de_territoire(deps[0])}"
    elif deps:
        dans = "réparties entre les départements " + fmt.liste([texte.de_territoire(d) for d in deps])
    else:
        dans = ""
    comparateurs = [f"du département {texte.de_territoire(d)}" for d in deps]
    comparateurs += [f"de la région {r.nom}" for r in regs]
    comparateurs += ["de la France" for t in terr if t.type == "france"]
    return {
        "n_communes": n,
        "communes": f"{fmt.nombre(n)} commune{'s' if n > 1 else ''}" + (f" {dans}" if dans else ""),
        "comparateurs": fmt.liste(comparateurs),
        "departements": fmt.liste([f"{d.nom} ({d.code})" for d in deps]),
    }


def document(ctx: ReportContext, cartes: list[Carte]) -> dict:
    from .evolution import est_figure_suivi, phrase_synthese, sections_suivi

    terr = territoires(ctx.indicateurs)
    secs = sections(ctx, [c for c in cartes if not est_figure_suivi(c)])
    secs += enquete.sections(ctx, len(secs) + 1)  # the CPTS's own surveys (report/enquete.py)
    from .annuaire import section as acteurs  # the directory of actors (issue 18), after the other sections

    secs += [s for s in [acteurs(ctx, len(secs) + 1, cartes)] if s is not None]
    suivis = sections_suivi(ctx, cartes, len(secs))  # « Suivi des objectifs », « Évolution depuis … »
    syn = _synthese(ctx, len(secs) + len(suivis) + 1, [s for s in secs if s.get("cle") != "acteurs"])
    syn["evolution"] = phrase_synthese(ctx)
    secs += suivis
    n_fig = 0
    for s in secs:
        for fig in s["figures"]:
            n_fig += 1
            fig["numero"] = n_fig
    return {
        "nom": ctx.nom,
        "description": ctx.description,
        "date_donnees": _date_donnees(ctx),
        "produit_le": fmt.date_fr(ctx.produit_le),
        "intro": _intro(ctx),
        "colonnes": [{"libelle": t.libelle, "type": TYPE_LABELS.get(t.type, ""), "perim": t.type == "perimetre"}
                     for t in terr],
        "sections": secs,
        "synthese": syn,
        "definitions": _definitions(ctx),
        "sources": _sources(ctx),
        "preuves": preuves(ctx.sources),
        "communes": _communes(ctx),
        "methode": _methode(ctx),
        "annexes": [("annexe-a", "A. Définitions des indicateurs"), ("annexe-b", "B. Sources"),
                    ("annexe-c", "C. Notes de méthode"), ("annexe-d", "D. Communes du territoire")],
        "seuil_apl": fmt.nombre(seuil_apl(ctx), 1),
        "marque_petit": MARQUE_PETIT,
    }
