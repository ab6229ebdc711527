"""The report section « Besoins et attentes des professionnels » (« des usagers » for a patients' survey), from
the CPTS's own survey exports (``diagnostic.enquetes``): participation (by profession against the RPPS
practitioners of the perimeter, by commune on a map), each question as ranked bars or diverging stacked bars,
numbers as median and quartiles, free text as a count and a few scrubbed excerpts; the ``Enquête`` sheet of
``indicateurs.xlsx``, the contract rows of ``indicateurs.csv`` and the synthesis points.

Every figure shown was masked upstream (``statut`` ``secret``): this module only lays them out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..enquetes.lecture import OUTILS
from . import fmt
from .context import ReportContext

PREFIXE = "enquete_"


def _enquetes(ctx: ReportContext) -> list:
    return list(getattr(ctx, "enquetes", None) or [])


def _periode(e) -> str:
    if e.debut and e.fin and e.debut != e.fin:
        return f"du {fmt.date_fr(e.debut)} au {fmt.date_fr(e.fin)}"
    return f"le {fmt.date_fr(e.debut)}" if e.debut else "dates non renseignées"


def source(ctx: ReportContext, e) -> str:
    """« CPTS X, enquête « titre » (Outil), réponses du … au … »: the ``source`` of its contract rows."""
    return f"{ctx.nom}, enquête « {e.titre} » ({OUTILS.get(e.outil, e.outil)}, fichier {e.fichier}), réponses {_periode(e)}"


def _titre_section(e) -> str:
    return "Besoins et attentes des usagers" if e.public == "usagers" else "Besoins et attentes des professionnels"


def _questions_affichees(e):
    res = e.resultats
    for q in e.questions:
        if q.type in ("choix_unique", "choix_multiple", "echelle"):
            rows = res[(res["question"] == q.code) & (res["groupe"] == "Ensemble")]
            if len(rows):
                yield q, rows
        elif q.type in ("nombre", "texte") and q.code in e.nombres:
            yield q, None


# ---------------------------------------------------------------------------------------------- figures

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _barres(q, rows: pd.DataFrame, path: Path) -> Path:
    plt = _plt()
    r = rows.sort_values(["effectif", "reponse"], ascending=[True, False], kind="stable", na_position="first")
    labels = [fmt.cle_tri(x) and str(x) for x in r["reponse"]]
    h = 0.45 * len(r) + 1.0
    fig, ax = plt.subplots(figsize=(7.5, h), dpi=150)
    vals = r["effectif"].fillna(0).to_numpy(dtype=float)
    ax.barh(range(len(r)), vals, color="#2166ac")
    for k, (v, p, st) in enumerate(zip(r["effectif"], r["part"], r["statut"])):
        txt = "s" if st == "secret" else f"{fmt.nombre(v)} ({fmt.pourcent(p, 0)})"
        ax.text((0 if np.isnan(v) else v) + max(vals.max(), 1) * 0.01, k, txt, va="center", fontsize=8)
    ax.set_yticks(range(len(r)), [_couper(x) for x in labels], fontsize=8)
    ax.set_xlim(0, max(vals.max(), 1) * 1.25)
    ax.set_xlabel("Répondants", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _couper(text: str, n: int = 38) -> str:
    mots, lignes, cur = str(text).split(), [], ""
    for m in mots:
        if len(cur) + len(m) + 1 > n and cur:
            lignes.append(cur)
            cur = m
        else:
            cur = f"{cur} {m}".strip()
    lignes.append(cur)
    return "\n".join(lignes[:3])


def _divergentes(q, rows: pd.DataFrame, path: Path) -> Path:
    """One diverging stacked bar: the negative half of the scale left of zero, the positive half right (a
    middle level, if any, split in two), in the scale's order."""
    plt = _plt()
    niveaux = list(q.options)
    parts = [float(rows.loc[rows["reponse"] == n, "part"].fillna(0).sum()) for n in niveaux]
    k = len(niveaux)
    couleurs = plt.get_cmap("RdBu")(np.linspace(0.1, 0.9, k))
    fig, ax = plt.subplots(figsize=(7.5, 1.9), dpi=150)
    mid = k // 2
    gauche = -sum(parts[:mid]) - (parts[mid] / 2 if k % 2 else 0)
    x = gauche
    for i, (n, p) in enumerate(zip(niveaux, parts)):
        ax.barh(0, p, left=x, color=couleurs[i], edgecolor="white", label=n)
        if p >= 6:
            ax.text(x + p / 2, 0, fmt.pourcent(p, 0), ha="center", va="center", fontsize=7,
                    color="white" if i in (0, k - 1) else "black")
        x += p
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_xlim(-100, 100)
    ax.set_yticks([])
    ax.set_xticks([-100, -50, 0, 50, 100], ["100 %", "50 %", "0", "50 %", "100 %"], fontsize=7)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=min(k, 3), fontsize=7, frameon=False)
    ax.spines[["top", "right", "left"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="png", bbox_inches="tight")
    plt.close(fig)
    return path


def _carte_communes(ctx: ReportContext, e, path: Path) -> Path | None:
    c = ctx.communes
    if not len(e.communes) or "geometry" not in c.columns:
        return None
    plt = _plt()
    perim = c[c["perimetre"].fillna(False).astype(bool).to_numpy()].copy()
    if not len(perim):
        return None
    rep = e.communes.set_index("code")
    perim["n"] = perim["code"].map(rep["repondants"])
    perim["secret"] = perim["code"].map(rep["statut"]).eq("secret")
    fig, ax = plt.subplots(figsize=(7.5, 6.5), dpi=150)
    perim.plot(ax=ax, color="#f0f0f0", edgecolor="#bbbbbb", linewidth=0.4)
    montre = perim[perim["n"].notna() & (perim["n"] > 0)]
    if len(montre):  # shade by count, and write the count on the commune
        montre.plot(ax=ax, column="n", cmap="Blues", vmin=0, vmax=float(montre["n"].max()) * 1.3, edgecolor="#777777",
                    linewidth=0.4)
        for pt, n in zip(montre.geometry.representative_point(), montre["n"]):
            ax.annotate(fmt.nombre(n), (pt.x, pt.y), ha="center", va="center", fontsize=8, fontweight="bold",
                        color="#08306b")
    sec = perim[perim["secret"]]
    if len(sec):
        sec.plot(ax=ax, color="white", edgecolor="#777777", hatch="///", linewidth=0.4)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor="#6baed6", edgecolor="#777777", label="Répondants (effectif inscrit)"),
                       Patch(facecolor="white", edgecolor="#777777", hatch="///",
                             label=f"Effectif masqué (moins de {e.seuil} ou masquage secondaire)"),
                       Patch(facecolor="#f0f0f0", edgecolor="#bbbbbb", label="Aucun répondant")],
              loc="lower left", fontsize=7, frameon=False)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def dessiner(ctx: ReportContext, out_dir: Path) -> list[Path]:
    """Draw every survey chart into ``out_dir`` (``enquete_*.png``); their paths are kept in each survey's
    ``figures`` for the document. Returns the files written."""
    written: list[Path] = []
    for e in _enquetes(ctx):
        out_dir.mkdir(parents=True, exist_ok=True)
        e.figures = {}
        carte = _carte_communes(ctx, e, out_dir / f"{PREFIXE}{e.cle}_communes.png")
        if carte is not None:
            e.figures["communes"] = carte
            written.append(carte)
        for q, rows in _questions_affichees(e):
            if rows is None:
                continue
            p = out_dir / f"{PREFIXE}{e.cle}_{q.code}.png"
            e.figures[q.code] = _divergentes(q, rows, p) if q.type == "echelle" else _barres(q, rows, p)
            written.append(p)
    return written


# ---------------------------------------------------------------------------------------------- document

def _figure(png: Path, titre: str, legende: str, lecture: str | None = None) -> dict:
    return {"png": Path(png), "svg": None, "alt": titre, "legende": legende, "lecture": lecture, "cle": PREFIXE + titre}


def _participation(ctx: ReportContext, e) -> tuple[list[str], list[dict], list[dict]]:
    s = e.seuil
    paras = [f"{fmt.nombre(e.n_reponses)} réponse{'s' if e.n_reponses > 1 else ''} reçue{'s' if e.n_reponses > 1 else ''} "
             f"{_periode(e)} ({OUTILS.get(e.outil, e.outil)}) : {fmt.nombre(e.n_completes)} complète"
             f"{'s' if e.n_completes > 1 else ''} et {fmt.nombre(e.n_partielles)} partielle{'s' if e.n_partielles > 1 else ''}. "
             "Les résultats par question portent sur les réponses complètes ; les réponses partielles sont comptées "
             "dans la participation.",
             f"Confidentialité : les colonnes d'identité de l'export (nom, adresse électronique, adresse IP, identifiant "
             f"du répondant) ne sont pas lues ; un effectif de 1 à {s - 1} répondants d'une profession ou d'une commune "
             "est masqué (« s »), avec un masquage secondaire pour qu'il ne puisse pas être déduit du total."]
    listes, figures = [], []
    p = e.participation
    if len(p):
        lignes = []
        for r in p.itertuples():
            rep = "s" if r.statut == "secret" else fmt.nombre(r.repondants)
            pros = "n.d." if fmt.est_manquant(r.professionnels) else fmt.nombre(r.professionnels)
            taux = "s" if r.statut == "secret" else ("n.d." if fmt.est_manquant(r.taux) else fmt.pourcent(r.taux, 1))
            lignes.append([str(r.libelle), rep, pros, taux])
        lignes.append(["Ensemble", fmt.nombre(e.n_reponses), "", ""])
        note = (f"s : effectif inférieur à {s} répondants, ou masqué pour qu'il ne puisse pas être déduit du total "
                "(secret statistique). Taux de réponse : répondants de la profession rapportés aux professionnels "
                "de cette profession ayant une activité dans une commune du territoire (RPPS, Annuaire santé) ; "
                "n.d. : profession hors RPPS ou RPPS non disponible dans cette édition.")
        listes.append({"titre": "Participation par profession", "entetes": ["Profession", "Répondants",
                       "Professionnels du territoire (RPPS)", "Taux de réponse"], "lignes": lignes, "note": note,
                       "source": "Source : " + source(ctx, e) + " ; Annuaire santé (RPPS).",
                       "largeurs": [40, 18, 24, 18], "largeurs_mm": [70, 35, 45, 30], "num": [False, True, True, True]})
    if "communes" in e.figures:
        n_sec = int((e.communes["statut"] == "secret").sum())
        leg = (f"Carte – Répondants par commune d'exercice, territoire « {ctx.nom} »"
               + (f" ; {n_sec} commune{'s' if n_sec > 1 else ''} hachurée{'s' if n_sec > 1 else ''} : effectif masqué "
                  f"(moins de {s} répondants ou masquage secondaire)" if n_sec else "") + ". Source : " + source(ctx, e) + ".")
        figures.append(_figure(e.figures["communes"], f"Répondants par commune d'exercice ({e.fichier})", leg))
    return paras, listes, figures


def _question(ctx: ReportContext, e, q, rows) -> tuple[list[dict], list[dict], list[str]]:
    libelle = q.libelle or q.texte
    src = "Source : " + source(ctx, e) + "."
    listes, figures, paras = [], [], []
    if rows is not None:
        base = int(rows["base"].iloc[0])
        ordre = rows if q.type == "echelle" else rows.sort_values("effectif", ascending=False, kind="stable")
        lignes = [[str(r.reponse), "s" if r.statut == "secret" else fmt.nombre(r.effectif),
                   "s" if r.statut == "secret" else fmt.pourcent(r.part, 1)] for r in ordre.itertuples()]
        note = f"Part des {fmt.nombre(base)} répondants ayant répondu à la question."
        if q.type == "choix_multiple":
            note += (" Plusieurs réponses possibles : la somme des parts dépasse 100 %.")
        listes.append({"titre": libelle, "entetes": ["Réponse", "Répondants", "Part des répondants"],
                       "lignes": lignes, "note": note, "source": src, "largeurs": [60, 20, 20],
                       "largeurs_mm": [110, 35, 35], "num": [False, True, True]})
        grp = e.resultats[(e.resultats["question"] == q.code) & (e.resultats["groupe"] != "Ensemble")]
        if len(grp):
            lignes = [[str(r.groupe), str(r.reponse), "s" if r.statut == "secret" else fmt.nombre(r.effectif),
                       "s" if r.statut == "secret" else fmt.pourcent(r.part, 1)] for r in grp.itertuples()]
            listes.append({"titre": f"{libelle} — par profession", "entetes": ["Profession", "Réponse", "Répondants",
                           "Part des répondants de la profession"], "lignes": lignes,
                           "note": f"s : effectif masqué (moins de {e.seuil} répondants, ou masquage secondaire).",
                           "source": src, "largeurs": [25, 45, 15, 15], "largeurs_mm": [40, 80, 30, 30],
                           "num": [False, False, True, True]})
        if q.code in e.figures:
            kind = "Répartition des réponses (de la plus défavorable à la plus favorable)" if q.type == "echelle" \
                else "Réponses classées"
            top = ordre[ordre["statut"] == "ok"].sort_values("effectif", ascending=False, kind="stable")
            lecture = None
            if len(top) and q.type != "echelle":
                t = top.iloc[0]
                lecture = (f"Lecture : « {t['reponse']} » est cité{'e' if False else ''} par {fmt.nombre(t['effectif'])} "
                           f"des {fmt.nombre(base)} répondants ({fmt.pourcent(t['part'], 0)}).")
            figures.append(_figure(e.figures[q.code], f"{libelle} ({e.fichier})",
                                   f"Graphique – {libelle} : {kind.lower()}. {src}", lecture))
    elif q.type == "nombre":
        st = e.nombres[q.code]
        paras.append(f"{libelle} : médiane {fmt.nombre(st['mediane'], 1)} (quartiles {fmt.nombre(st['q1'], 1)} et "
                     f"{fmt.nombre(st['q3'], 1)}), sur {fmt.nombre(st['n'])} répondants.")
    elif q.type == "texte":
        n = e.nombres[q.code]["n"]
        ex = e.verbatims.get(q.code, [])
        paras.append(f"{libelle} : {fmt.nombre(n)} réponse{'s' if n > 1 else ''} en texte libre.")
        if ex:
            lignes = [[f"« {t} »", g or ""] for t, g in ex]
            listes.append({"titre": f"{libelle} — extraits", "entetes": ["Extrait", "Profession"], "lignes": lignes,
                           "note": (f"{len(ex)} extrait{'s' if len(ex) > 1 else ''} choisi{'s' if len(ex) > 1 else ''} sans "
                                    "préférence (ordre fixé par une empreinte du texte) ; adresses électroniques, "
                                    "numéros de téléphone et numéros RPPS/ADELI retirés ; la profession n'est indiquée "
                                    f"que pour une profession comptant au moins {e.seuil} répondants."),
                           "source": src, "largeurs": [80, 20], "largeurs_mm": [140, 40], "num": [False, False]})
    return listes, figures, paras


def sections(ctx: ReportContext, premier: int) -> list[dict]:
    """One report section per public (professionals, patients), numbered from ``premier``. The section's
    content is in ``blocs`` (one per survey part: participation, then each question, in file order), each
    ``{titre, paragraphes, listes, figures}``, laid out by ``templates/enquete.html.j2`` and ``word._blocs``."""
    out: list[dict] = []
    par_titre: dict[str, list] = {}
    for e in _enquetes(ctx):
        par_titre.setdefault(_titre_section(e), []).append(e)
    for titre, enquetes in par_titre.items():
        blocs = []
        for e in enquetes:
            p, li, fi = _participation(ctx, e)
            blocs.append({"titre": f"Enquête « {e.titre} » : participation", "paragraphes": p, "listes": li,
                          "figures": fi})
            for q, rows in _questions_affichees(e):
                li, fi, p = _question(ctx, e, q, rows)
                blocs.append({"titre": q.libelle or q.texte, "paragraphes": p,
                              "listes": [dict(x, titre="") if k == 0 else x for k, x in enumerate(li)], "figures": fi})
        numero = premier + len(out)
        out.append({"numero": numero, "ancre": f"section-{numero}", "cle": "enquete", "titre": titre, "lignes": [],
                    "source": "", "lecture": None, "notes": [], "non_disponibles": [], "absents_du_fichier": [],
                    "figures": [], "listes": [], "cartes_manquantes": [], "vide": None, "sujets": [],
                    "rezone": None, "blocs": blocs})
    return out


def points(ctx: ReportContext) -> tuple[list[dict], list[dict]]:
    """(points d'appui, points de vigilance) from the surveys: the three most cited answers of each question
    whose ``.toml`` says ``synthese = "appui"`` or ``"vigilance"``, or whose text speaks of needs, difficulties
    (vigilance), with the count behind them."""
    import re

    from ..enquetes.lecture import norm

    appuis, vigilances = [], []
    for e in _enquetes(ctx):
        for q, rows in _questions_affichees(e):
            if rows is None or q.type == "echelle":
                continue
            sens = q.synthese or ("vigilance" if re.search(r"besoin|attente|difficult|frein|manque|priorit",
                                                           norm(q.texte + " " + q.libelle)) else "")
            if sens not in ("appui", "vigilance"):
                continue
            top = rows[rows["statut"] == "ok"].sort_values("effectif", ascending=False, kind="stable").head(3)
            for r in top.itertuples():
                p = {"libelle": f"{q.libelle or q.texte} : {r.reponse}",
                     "texte": (f"cité par {fmt.nombre(r.effectif)} des {fmt.nombre(r.base)} répondants "
                               f"({fmt.pourcent(r.part, 0)}) de l'enquête « {e.titre} »")}
                (appuis if sens == "appui" else vigilances).append(p)
    return appuis, vigilances


# ---------------------------------------------------------------------------------------------- exports

def lignes_contrat(ctx: ReportContext) -> pd.DataFrame:
    """The surveys' figures under the ``indicateurs.csv`` contract: one row per question × answer (perimeter,
    count as ``valeur`` and ``numerateur``, respondents to the question as ``denominateur``), and the
    participation by profession; ``statut`` ``secret`` where masked."""
    from .context import CONTRACT_COLUMNS

    perim = ctx.indicateurs[ctx.indicateurs["territoire_type"] == "perimetre"]
    code = str(perim["territoire_code"].iloc[0]) if len(perim) else ctx.slug
    rows = []
    for e in _enquetes(ctx):
        src = source(ctx, e)
        annee = (e.fin or e.debut)[:4]
        base = {"territoire_type": "perimetre", "territoire_code": code, "territoire_nom": ctx.nom,
                "millesime": annee, "source": src}
        for r in e.participation.itertuples():
            ok = r.statut != "secret"
            rows.append({**base, "indicateur": f"{PREFIXE}{e.cle}__participation__{_id(r.libelle)}",
                         "libelle": f"{_titre_section(e)} — répondants : {r.libelle}", "valeur": r.repondants if ok else np.nan,
                         "unite": "répondants", "numerateur": r.repondants if ok else np.nan,
                         "denominateur": r.professionnels, "statut": r.statut})
        for r in e.resultats[e.resultats["groupe"] == "Ensemble"].itertuples():
            ok = r.statut != "secret"
            rows.append({**base, "indicateur": f"{PREFIXE}{e.cle}__{r.question}__{_id(r.reponse)}",
                         "libelle": f"{_titre_section(e)} — {r.libelle} : {r.reponse}",
                         "valeur": r.effectif if ok else np.nan, "unite": "répondants",
                         "numerateur": r.effectif if ok else np.nan, "denominateur": r.base, "statut": r.statut})
    return pd.DataFrame(rows, columns=CONTRACT_COLUMNS)


def _id(text: str) -> str:
    from ..enquetes.questions import slug

    return slug(str(text), 30)


def feuille(wb, ctx: ReportContext) -> None:
    """The ``Enquête`` sheet of ``indicateurs.xlsx``: one row per question × answer × group, counts and shares."""
    enquetes = _enquetes(ctx)
    if not enquetes:
        return
    ws = wb.add_worksheet("Enquête")
    head = wb.add_format({"bold": True, "bg_color": "#DFE8F1", "text_wrap": True, "valign": "top", "border": 1})
    entier = wb.add_format({"num_format": "# ##0"})
    pct = wb.add_format({"num_format": "0.0"})
    cols = ["Enquête", "Public", "Thème", "Question", "Type", "Réponse", "Groupe", "Répondants",
            "Part des répondants (%)", "Répondants à la question", "Statut", "Source"]
    for k, c in enumerate(cols):
        ws.write(0, k, c, head)
    i = 1
    for e in enquetes:
        src = source(ctx, e)
        for r in e.resultats.itertuples():
            vals = [e.titre, e.public, r.theme or "", r.libelle, r.type, r.reponse, r.groupe]
            for k, v in enumerate(vals):
                ws.write_string(i, k, str(v))
            if r.statut == "secret":
                ws.write_string(i, 7, "s")
                ws.write_string(i, 8, "s")
            else:
                ws.write_number(i, 7, float(r.effectif), entier)
                ws.write_number(i, 8, float(r.part), pct)
            ws.write_number(i, 9, float(r.base), entier)
            ws.write_string(i, 10, r.statut)
            ws.write_string(i, 11, src)
            i += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(i - 1, 1), len(cols) - 1)
    for k, w in enumerate([30, 14, 14, 40, 14, 36, 22, 11, 11, 11, 9, 50]):
        ws.set_column(k, k, w)
