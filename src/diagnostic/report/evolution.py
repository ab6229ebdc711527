"""The follow-up in the report (issue 13): sections « Suivi des objectifs » and « Évolution depuis le
diagnostic du … », the synthesis' sentence on the significant changes, `evolution.csv`, the `Évolution` sheet
and one small chart per objective (`graphiques/objectif_<indicateur>.png|svg`).

Reads ``ctx.suivi`` (``diagnostic.suivi.Suivi``) only; nothing here when it is None.
"""

from __future__ import annotations

from pathlib import Path



import pandas as pd  # noqa: E402

from . import fmt, mpl  # noqa: E402
from .context import ReportContext  # noqa: E402
from .figures import enregistrer  # noqa: E402
from .maps import DPI, Carte, _mpl  # noqa: E402
from .tables import meta  # noqa: E402

PREFIXE = "objectif_"
LIGNES_MAX = 25  # significant changes listed in the report (all of them in evolution.csv and the sheet)
CAUSES_FR = {"nouveau_millesime": "nouveau millésime", "perimetre": "périmètre", "revision": "chiffre révisé",
             "definition": "définition modifiée", "statut": "statut"}


def _suivi(ctx: ReportContext):
    return getattr(ctx, "suivi", None)


def est_figure_suivi(carte: Carte) -> bool:
    return str(carte.cle).startswith(PREFIXE)


def _dec(ctx: ReportContext, ind: str) -> int:
    return int(meta(ctx).get(ind, {}).get("decimales", fmt.DECIMALES_DEFAUT) or fmt.DECIMALES_DEFAUT)


def _v(ctx: ReportContext, ind: str, v, unite: str, signe: bool = False) -> str:
    if v is None or fmt.est_manquant(v):
        return "—"
    suffixe = f"{fmt.NNBSP}%" if str(unite).strip() == "%" else ""
    return fmt.nombre(float(v), _dec(ctx, ind), signe=signe) + suffixe


def _variation(r) -> str:
    if fmt.est_manquant(r.variation):
        return "—"
    if r.unite_variation == "points":
        return f"{fmt.nombre(float(r.variation), 2, signe=True)} pt"
    return f"{fmt.nombre(float(r.variation), 1, signe=True)}{fmt.NNBSP}%"


# --- Evolution -------------------------------------------------------------------------------------------

def _lignes_perimetre(ctx: ReportContext) -> pd.DataFrame:
    from ..suivi.evolution import significatifs_d_abord

    ev = _suivi(ctx).evolution
    p = ev[(ev["territoire_type"] == "perimetre") & (ev["causes"] != "")]
    return significatifs_d_abord(p)


def _ligne(ctx: ReportContext, r) -> list[str]:
    from ..suivi.evolution import STATUTS_FR

    def cellule(v, statut, millesime):
        if statut not in ("ok", "estimation") or fmt.est_manquant(v):
            return STATUTS_FR.get(statut, statut)
        return _v(ctx, r.indicateur, v, r.unite) + (f" ({millesime})" if millesime else "")

    return [r.libelle + (f" ({r.unite})" if r.unite and r.unite != "%" else ""),
            cellule(r.valeur_avant, r.statut_avant, r.millesime_avant),
            cellule(r.valeur_apres, r.statut_apres, r.millesime_apres), _variation(r), r.explication]


def titre_evolution(ctx: ReportContext) -> str:
    return f"Évolution depuis le diagnostic du {fmt.date_fr(_suivi(ctx).reference.date)}"


def section_evolution(ctx: ReportContext, numero: int) -> dict | None:
    s = _suivi(ctx)
    if s is None or s.evolution is None or s.reference is None:
        return None
    p = _lignes_perimetre(ctx)
    sig, autres = p[p["significatif"]], p[~p["significatif"]]
    entetes = ["Indicateur", "Avant (millésime)", "Maintenant (millésime)", "Variation", "Cause"]
    largeurs = [48, 26, 26, 18, 62]
    listes = []
    if len(sig):
        listes.append({"titre": "Changements significatifs", "entetes": entetes, "largeurs": largeurs,
                       "lignes": [_ligne(ctx, r) for r in sig.head(LIGNES_MAX).itertuples()],
                       "note": (f"{len(sig) - LIGNES_MAX} autres changements significatifs dans evolution.csv."
                                if len(sig) > LIGNES_MAX else ""),
                       "source": "Source : indicateurs.csv de ce diagnostic et de la référence ; causes calculées "
                                 "(millésimes, périmètre, empreintes des définitions et des fichiers source)."})
    if len(autres):
        listes.append({"titre": "Autres changements (sous les seuils)", "entetes": entetes, "largeurs": largeurs,
                       "lignes": [_ligne(ctx, r) for r in autres.head(LIGNES_MAX).itertuples()],
                       "note": "", "source": "Détail complet : evolution.csv et onglet « Évolution » du classeur."})
    ev = s.evolution
    n_inchanges = int(((ev["territoire_type"] == "perimetre") & (ev["causes"] == "")).sum())
    notes = [f"Référence : le diagnostic du {fmt.date_fr(s.reference.date)} ({Path(s.reference.chemin).name}). "
             "Variation en points pour une part ou une évolution, en % de la valeur antérieure sinon ; seuils de "
             "significativité par unité dans pipelines/diagnostic.toml ([evolution.seuils]). "
             f"{fmt.nombre(n_inchanges)} indicateur{'s' if n_inchanges > 1 else ''} du territoire "
             f"{'sont inchangés' if n_inchanges > 1 else 'est inchangé'}."]
    if s.perimetre is not None and (s.perimetre.change or s.perimetre.inconnu):
        notes.append("Périmètre : " + s.perimetre.texte() + (
            ". Les chiffres ont été recalculés sur l'ancien périmètre avec les données d'aujourd'hui : l'effet du "
            "périmètre est séparé de celui des données (colonnes effet_perimetre et effet_donnees de evolution.csv)."
            if s.perimetre.change else "."))
    if not len(p):
        notes.insert(0, "Aucun indicateur du territoire n'a changé depuis ce diagnostic.")
    return {"numero": numero, "ancre": f"section-{numero}", "cle": "evolution", "titre": titre_evolution(ctx),
            "introduction": notes, "lignes": [], "source": "", "lecture": None, "notes": [], "non_disponibles": [],
            "absents_du_fichier": [], "figures": [], "listes": listes, "cartes_manquantes": [], "vide": None,
            "sujets": [], "rezone": None}


def phrase_synthese(ctx: ReportContext) -> str | None:
    """The synthesis' sentence on the significant changes since the reference, or None."""
    s = _suivi(ctx)
    if s is None or s.evolution is None or s.reference is None:
        return None
    p = _lignes_perimetre(ctx)
    sig = p[p["significatif"]]
    debut = f"Depuis le diagnostic du {fmt.date_fr(s.reference.date)}, "
    if not len(sig):
        return debut + "aucun indicateur du territoire n'a changé au-delà des seuils de significativité."
    items = [f"{r.libelle} ({_variation(r)} ; " + ", ".join(CAUSES_FR.get(c, c) for c in r.causes.split("+")) + ")"
             for r in sig.head(5).itertuples()]
    n = len(sig)
    return (debut + f"{fmt.nombre(n)} indicateur{'s' if n > 1 else ''} du territoire "
            f"{'ont' if n > 1 else 'a'} changé significativement : " + " ; ".join(items)
            + (f" ; et {n - 5} autre{'s' if n - 5 > 1 else ''}" if n > 5 else "")
            + ". Le détail et les causes figurent dans la section « " + titre_evolution(ctx) + " ».")


def write_evolution_csv(ctx: ReportContext, path: Path) -> Path | None:
    s = _suivi(ctx)
    if s is None or s.evolution is None:
        return None
    s.evolution.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def sheet_evolution(wb, F, ctx: ReportContext) -> None:
    """The `Évolution` sheet: every row of evolution.csv, significant changes first, French headers."""
    from ..suivi.evolution import significatifs_d_abord

    s = _suivi(ctx)
    if s is None or s.evolution is None:
        return
    ws = wb.add_worksheet("Évolution")
    df = significatifs_d_abord(s.evolution[s.evolution["causes"] != ""])
    cols = [("territoire_nom", "Territoire", 26), ("libelle", "Indicateur", 42), ("unite", "Unité", 16),
            ("valeur_avant", "Avant", 12), ("millesime_avant", "Millésime avant", 12), ("valeur_apres", "Maintenant", 12),
            ("millesime_apres", "Millésime maintenant", 12), ("variation", "Variation", 11),
            ("unite_variation", "Variation en", 10), ("significatif", "Significatif", 11),
            ("effet_perimetre", "Effet du périmètre", 12), ("effet_donnees", "Effet des données", 12),
            ("explication", "Cause", 70), ("indicateur", "Identifiant", 24)]
    ws.write_row(0, 0, [c[1] for c in cols], F.header)
    ws.set_row(0, 32)
    for r, row in enumerate(df.itertuples(index=False), start=1):
        for c, (k, _, _) in enumerate(cols):
            v = getattr(row, k)
            if k == "significatif":
                ws.write_string(r, c, "oui" if v else "non", F.text)
            elif k in ("valeur_avant", "valeur_apres", "variation", "effet_perimetre", "effet_donnees"):
                if fmt.est_manquant(v):
                    ws.write_blank(r, c, None, F.text)
                else:
                    ws.write_number(r, c, float(v), F.num(2, signe=k != "valeur_avant" and k != "valeur_apres"))
            else:
                ws.write_string(r, c, "" if fmt.est_manquant(v) else str(v), F.wrap if k in ("explication", "libelle") else F.text)
    ws.autofilter(0, 0, max(len(df), 1), len(cols) - 1)
    ws.freeze_panes(1, 2)
    for c, (_, _, w) in enumerate(cols):
        ws.set_column(c, c, w)
    ref = s.reference
    ws.write_string(len(df) + 2, 1, f"Référence : diagnostic du {fmt.date_fr(ref.date)} ({Path(ref.chemin).name}) ; "
                    f"{int((s.evolution['causes'] == '').sum())} lignes inchangées (toutes dans evolution.csv).", F.note)


# --- Objectives ------------------------------------------------------------------------------------------

def graphiques_objectifs(ctx: ReportContext, out_dir: Path) -> list[Carte]:
    s = _suivi(ctx)
    if s is None:
        return []
    return [_graphique(ctx, e, Path(out_dir)) for e in s.objectifs if e.valeurs]


def _graphique(ctx: ReportContext, e, out_dir: Path) -> Carte:
    ind = e.objectif.indicateur
    dec = _dec(ctx, ind)
    xs = [p.millesime or p.date for p in e.valeurs]
    ys = [p.valeur for p in e.valeurs]
    fig, ax = mpl.plt.subplots(figsize=(8.0, 2.3), dpi=DPI)
    ax.plot(range(len(xs)), ys, marker="o", color="#1f5f9f", linewidth=2, markersize=5, label="territoire")
    for k, y in enumerate(ys):
        ax.annotate(fmt.nombre(y, dec), (k, y), textcoords="offset points", xytext=(0, 7), fontsize=7,
                    ha="center", color="#1f5f9f")
    if e.objectif.cible is not None:
        ax.axhline(e.objectif.cible, color="#c0392b", linestyle="--", linewidth=1.2)
        ax.annotate(_mpl(f"cible {fmt.nombre(e.objectif.cible, dec)}"
                         + (f" en {e.objectif.echeance}" if e.objectif.echeance else "")),
                    (len(xs) - 1, e.objectif.cible), textcoords="offset points", xytext=(4, 4), fontsize=7,
                    color="#c0392b", ha="right" if len(xs) > 1 else "left")
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs, fontsize=8)
    ax.set_xlim(-0.5, max(len(xs) - 0.5, 0.5))
    lo = min(ys + ([e.objectif.cible] if e.objectif.cible is not None else []))
    hi = max(ys + ([e.objectif.cible] if e.objectif.cible is not None else []))
    marge = (hi - lo) * 0.25 or abs(hi) * 0.1 or 1
    ax.set_ylim(lo - marge, hi + marge)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel(_mpl(e.unite), fontsize=8)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(_mpl(e.libelle), fontsize=9, loc="left")
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{PREFIXE}{ind}.png"
    svg = enregistrer(fig, png, dpi=DPI)
    mpl.plt.close(fig)
    legende = (f"Suivi de l'objectif : {e.libelle}, valeur du territoire par millésime"
               + (f" et cible ({fmt.nombre(e.objectif.cible, dec)}" + (f" en {e.objectif.echeance}" if e.objectif.echeance else "") + ")"
                  if e.objectif.cible is not None else "") + ".")
    return Carte(cle=PREFIXE + ind, png=png, svg=svg, titre=f"Objectif : {e.libelle}", legende=legende)


def section_objectifs(ctx: ReportContext, numero: int, cartes: list[Carte]) -> dict | None:
    from .synthese import sens

    s = _suivi(ctx)
    if s is None or not s.objectifs:
        return None
    by_key = {c.cle: c for c in cartes}
    lignes, figures, notes = [], [], []
    for e in s.objectifs:
        ind, u = e.objectif.indicateur, e.unite
        ref = (f"{_v(ctx, ind, e.reference.valeur, u)} ({e.reference.millesime}, diagnostic du "
               f"{fmt.date_fr(e.reference.date)})") if e.reference else "aucune valeur publiée"
        suivantes = "; ".join(f"{p.millesime or p.date} : {_v(ctx, ind, p.valeur, u)}" for p in e.valeurs[1:]) or "—"
        courant = f"{_v(ctx, ind, e.courant.valeur, u)} ({e.courant.millesime})" if e.courant else "non disponible"
        cible = (_v(ctx, ind, e.objectif.cible, u) + (f" en {e.objectif.echeance}" if e.objectif.echeance else "")
                 if e.objectif.cible is not None else "sans cible chiffrée")
        if e.distance is None:
            reste = "—"
        elif e.atteint(sens(ctx, ind)):
            reste = "atteinte"
        else:
            reste = _v(ctx, ind, e.distance, "", signe=True)
            if str(u).strip() == "%":
                reste += " point" + ("s" if abs(e.distance) >= 2 else "")
        lignes.append([e.libelle, ref, suivantes, courant, cible, reste])
        if e.definition_modifiee:
            notes.append(f"« {e.libelle} » : la définition de l'indicateur a changé au cours du suivi ; les valeurs "
                         "avant et après ne se comparent pas directement.")
        if PREFIXE + ind in by_key:
            figures.append({"png": Path(by_key[PREFIXE + ind].png), "svg": by_key[PREFIXE + ind].svg,
                            "alt": by_key[PREFIXE + ind].titre, "legende": by_key[PREFIXE + ind].legende,
                            "lecture": None, "cle": PREFIXE + ind})
    notes.insert(0, "Objectifs déclarés dans le fichier du périmètre (data/territoires/<territoire>.toml, tables "
                    "[[objectifs]]). Référence : la première exécution du diagnostic qui avait une valeur ; une valeur "
                    "par millésime ensuite (un chiffre révisé remplace le précédent du même millésime) ; reste à "
                    "parcourir : cible moins valeur actuelle.")
    return {"numero": numero, "ancre": f"section-{numero}", "cle": "objectifs", "titre": "Suivi des objectifs",
            "introduction": notes, "lignes": [], "source": "", "lecture": None, "notes": [], "non_disponibles": [],
            "absents_du_fichier": [], "figures": figures, "cartes_manquantes": [], "vide": None, "sujets": [],
            "rezone": None,
            "listes": [{"titre": "Où en est le territoire", "largeurs": [44, 40, 34, 28, 26, 18],
                        "entetes": ["Indicateur", "Référence", "Millésimes suivants", "Valeur actuelle", "Cible",
                                    "Reste à parcourir"],
                        "lignes": lignes, "note": "", "source": "Source : historique des diagnostics du territoire "
                                                             "(reports/<territoire>/historique/) et ce diagnostic."}]}


def sections_suivi(ctx: ReportContext, cartes: list[Carte], avant: int) -> list[dict]:
    """The follow-up sections, numbered after the `avant` sections already laid out."""
    out = []
    for f in (lambda n: section_objectifs(ctx, n, cartes), lambda n: section_evolution(ctx, n)):
        s = f(avant + len(out) + 1)
        if s is not None:
            out.append(s)
    return out
