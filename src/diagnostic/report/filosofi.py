"""Situation sociale from INSEE Filosofi: the commune map of the median standard of living (published values,
with the secret `s` and the unavailable `nd` as their own classes) and the sentences that read it.

Grain: one polygon per commune (COG 2026) of the département(s) the perimeter touches; columns
``niveau_vie_median`` / ``statut_niveau_vie_median`` and ``taux_pauvrete`` / ``statut_taux_pauvrete`` of
``ctx.communes`` (model ``int_commune_filosofi``; statut ``ok``, ``secret``, ``non_disponible``, ``fusionnee``,
missing when the commune is not in the file). A median is never aggregated: the perimeter's value is given only
when INSEE publishes it for that very territory; this module shows the communes' own values and their range.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import fmt, mpl
from .context import ReportContext
from .maps import (COLOR_CONTOUR, COLOR_LIMITE_DEP, COLOR_ND_EDGE, CONTOURS_SOURCE, Carte, _choroplethe,
                   _communes_des_departements, _contours, _dessiner, _mpl, _noms_deps_txt, _perimetre, _plottable,
                   _terminer)

COLONNE = "niveau_vie_median"
STATUT = "statut_niveau_vie_median"
COULEUR_SECRET = "#9e9e9e"
COULEUR_FUSION = "#d9d9d9"
# statut -> legend label (a class of its own, never a zero nor a missing value)
CLASSES_HORS_VALEUR = {
    "secret": "Secret statistique (« s »)",
    "non_disponible": "Non disponible (« nd »)",
    "fusionnee": "Commune fusionnée depuis la géographie du fichier : pas de valeur pour son territoire actuel",
    "absente": "Commune absente du fichier",
}
RAISON_NON_DISPONIBLE = (
    "Le niveau de vie médian et le taux de pauvreté ne s'additionnent pas : ils ne sont jamais recalculés à partir "
    "des valeurs des communes. L'INSEE les publie pour les communes (hors secret statistique), les EPCI, départements et régions ; un territoire "
    "n'en reçoit que s'il est exactement l'un d'eux (un EPCI seulement si sa composition est celle de la géographie "
    "du fichier de l'INSEE)."
)
RAISON_FRANCE = "Pour la France, aucun fichier de Filosofi de ce niveau n'est lu."


def _millesime(ctx: ReportContext) -> str:
    rows = ctx.indicateurs[ctx.indicateurs["source"] == "filosofi"]
    return str(rows["millesime"].dropna().iloc[0]) if len(rows) and rows["millesime"].notna().any() else ""


def statuts(communes, colonne: str = STATUT) -> np.ndarray:
    """The class of each commune's value: its statut, or 'absente' when the commune is not in the file."""
    if colonne not in communes.columns:
        return np.full(len(communes), "absente", dtype=object)
    return communes[colonne].astype(object).where(communes[colonne].notna(), "absente").to_numpy()


def bornes(valeurs: np.ndarray, k: int = 5, arrondi: int = 100) -> list[float]:
    """Quantile breaks of the published values, rounded to `arrondi`, without duplicates."""
    v = valeurs[~np.isnan(valeurs)]
    if len(np.unique(v)) < 2:
        return []
    b = [round(float(q) / arrondi) * arrondi for q in np.quantile(v, np.linspace(0, 1, k + 1)[1:-1])]
    return sorted({x for x in b if v.min() < x <= v.max()})


def carte_niveau_vie(ctx: ReportContext, out_dir: Path, ecran: bool = False) -> Carte | None:
    """Median standard of living per commune; None without any published value (source unavailable)."""
    return _carte(ctx, out_dir, ecran, COLONNE, STATUT, "Niveau de vie médian par commune",
                  "En euros par an et par unité de consommation", " €", 100, "YlGnBu")


def carte_taux_pauvrete(ctx: ReportContext, out_dir: Path, ecran: bool = False) -> Carte | None:
    """Poverty rate per commune where INSEE publishes it; None without any published value."""
    return _carte(ctx, out_dir, ecran, "taux_pauvrete", "statut_taux_pauvrete", "Taux de pauvreté par commune",
                  "Part des personnes sous le seuil de pauvreté (60 % du niveau de vie médian), en %", " %", 1, "OrRd")


def _carte(ctx: ReportContext, out_dir: Path, ecran: bool, colonne: str, statut_col: str, titre_base: str,
           sous_titre_base: str, suffixe: str, arrondi: int, palette: str) -> Carte | None:
    if colonne not in ctx.communes.columns or not len(_plottable(ctx.communes)):
        return None
    codes, c = _communes_des_departements(ctx)
    st = statuts(c, statut_col)
    vals = np.where(st == "ok", c[colonne].astype(float).to_numpy(), np.nan)
    ok = ~np.isnan(vals)
    if not ok.any():
        return None
    contour, mise = _choroplethe(ctx, codes)
    ax = mise.ax
    br = bornes(vals, arrondi=arrondi)
    cmap = mpl.matplotlib.colormaps[palette]
    couleurs = [cmap(x) for x in np.linspace(0.15, 0.9, len(br) + 1)]
    cls = np.searchsorted(np.asarray(br), vals[ok], side="right")
    _dessiner(ax, c[ok].geometry, facecolor=[couleurs[i] for i in cls], edgecolor="white", linewidth=0.2, zorder=2)
    styles = {"secret": dict(facecolor=COULEUR_SECRET, edgecolor="white", linewidth=0.2),
              "non_disponible": dict(facecolor="white", edgecolor=COLOR_ND_EDGE, hatch="//////", linewidth=0.3),
              "fusionnee": dict(facecolor=COULEUR_FUSION, edgecolor=COLOR_ND_EDGE, hatch="....", linewidth=0.3),
              "absente": dict(facecolor="white", edgecolor=COLOR_ND_EDGE, hatch="xxxx", linewidth=0.3)}
    handles = []
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    for col, lab, n in zip(couleurs, _libelles(br, lo, hi, suffixe), np.bincount(cls, minlength=len(couleurs))):
        handles.append(mpl.Patch(facecolor=col, edgecolor="none", label=f"{lab} ({fmt.nombre(int(n))})"))
    with mpl.matplotlib.rc_context({"hatch.color": COLOR_ND_EDGE, "hatch.linewidth": 0.5}):
        for statut, label in CLASSES_HORS_VALEUR.items():
            sel = st == statut
            if sel.any():
                _dessiner(ax, c[sel].geometry, zorder=2, **styles[statut])
                handles.append(mpl.Patch(**styles[statut], label=f"{label} ({fmt.nombre(int(sel.sum()))})"))
        _contours(ax, ctx, codes, contour)
        handles += [mpl.Line2D([], [], color=COLOR_CONTOUR, linewidth=2.0, label=_mpl(f"Limite du territoire ({ctx.nom})")),
                    mpl.Line2D([], [], color=COLOR_LIMITE_DEP, linewidth=1.0, label="Limite départementale")]
        mill = _millesime(ctx)
        source = (f"Source : INSEE, Filosofi {mill} (revenus {mill}, géographie du fichier harmonisée au COG 2026) ; "
                  + CONTOURS_SOURCE.removeprefix("Source : "))
        titre = f"{titre_base}{', ' + mill if mill else ''}"
        mise.textes(titre, f"{sous_titre_base} : {ctx.nom} et {_noms_deps_txt(ctx, codes)}", source)
        png, svg = _terminer(mise, ctx, handles, out_dir / colonne, ecran)
    legende = (f"Carte – {titre_base} : valeurs publiées par l'INSEE (Filosofi {mill}). Les communes soumises "
               "au secret statistique (« s ») ou sans valeur (« nd ») forment des classes à part : ni zéro ni moyenne. "
               f"{source}")
    return Carte(colonne, png, svg, titre, legende)


def _libelles(br: list[float], lo: float, hi: float, suffixe: str) -> list[str]:
    e = lambda x: fmt.nombre(x) + suffixe  # noqa: E731
    if not br:
        return [f"de {e(lo)} à {e(hi)}" if lo != hi else e(lo)]
    out = [f"moins de {e(br[0])}"]
    out += [f"de {e(a)} à moins de {e(b)}" for a, b in zip(br, br[1:])]
    return out + [f"{e(br[-1])} ou plus"]


def lecture(ctx: ReportContext) -> str | None:
    """« Lecture : » of the map: range of the perimeter's published medians and poverty rates, how many
    communes are secret, and why the perimeter has no value of its own."""
    p = _perimetre(ctx.communes)
    if COLONNE not in p.columns:
        return None
    st = statuts(p)
    med = p.loc[st == "ok", COLONNE].astype(float)
    if not len(med):
        return None
    n = len(p)
    parts = [f"dans {fmt.nombre(len(med))} des {fmt.nombre(n)} communes du territoire, l'INSEE publie un niveau de vie "
             f"médian, compris entre {fmt.nombre(med.min())} € et {fmt.nombre(med.max())} € par an et par unité de "
             "consommation"]
    if "statut_taux_pauvrete" in p.columns:
        tp_ok = p["statut_taux_pauvrete"].astype(object).eq("ok").to_numpy()
        tp = p.loc[tp_ok, "taux_pauvrete"].astype(float)
        if len(tp):
            parts.append(f"le taux de pauvreté est publié pour {fmt.nombre(len(tp))} d'entre elles "
                         f"(de {fmt.nombre(tp.min())} % à {fmt.nombre(tp.max())} %)")
        else:
            parts.append("le taux de pauvreté n'est publié pour aucune (secret statistique)")
    secret = int((st == "secret").sum())
    if secret:
        parts.append(f"{fmt.nombre(secret)} commune{'s sont soumises' if secret > 1 else ' est soumise'} au secret statistique")
    texte = "Lecture : " + " ; ".join(parts) + ". "
    if n > 1 and _publie_pour_le_perimetre(ctx):
        texte += ("Le niveau de vie médian du territoire, dans le tableau, est celui que l'INSEE publie pour ce "
                  "territoire exactement (EPCI, département ou région) : il n'est pas calculé à partir des communes.")
    elif n > 1:
        texte += ("Ces valeurs ne se combinent pas en une médiane du territoire : " + RAISON_NON_DISPONIBLE[0].lower()
                  + RAISON_NON_DISPONIBLE[1:])
    return texte


def _publie_pour_le_perimetre(ctx: ReportContext) -> bool:
    """The perimeter's median is INSEE's own value for that territory (its EPCI, département or région file)."""
    ind = ctx.indicateurs
    perim = ind[(ind["source"] == "filosofi") & (ind["territoire_type"] == "perimetre")
                & (ind["indicateur"] == "niveau_vie_median")]
    return bool(len(perim)) and (perim["statut"] == "ok").all()


def note_perimetre(ctx: ReportContext) -> str | None:
    """Which territories of the table have no median nor poverty rate, and why, when the Filosofi file was read
    (None otherwise, or when every territory has its published value)."""
    ind = ctx.indicateurs
    rows = ind[ind["source"] == "filosofi"]
    if not len(rows) or not (rows["statut"] == "ok").any():
        return None  # source unavailable: the section says « Source non disponible »
    valeurs = rows[rows["indicateur"].isin(["niveau_vie_median", "taux_pauvrete"])]
    manque = valeurs.groupby(["territoire_type", "territoire_nom"], sort=False)["statut"].apply(
        lambda s: (s == "non_disponible").all())
    noms = [nom for (t, nom), nd in manque.items() if nd and t != "france"]
    france = any(nd for (t, _), nd in manque.items() if t == "france")
    if not noms and not france:
        return None
    texte = "Niveau de vie médian et taux de pauvreté (INSEE, Filosofi) : "
    if noms:
        texte += f"non disponibles pour {fmt.liste(noms)}. " + RAISON_NON_DISPONIBLE
        texte += (" La carte des communes montre les valeurs que l'INSEE publie pour chacune ; la part de la "
                  "population vivant dans une commune où la valeur est publiée est dans le tableau.")
        if france:
            texte += " " + RAISON_FRANCE
    else:
        texte += "non disponibles pour la France. " + RAISON_FRANCE
    return texte
