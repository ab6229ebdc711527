"""The « Acteurs du territoire » section and map, from the directory of actors (`diagnostic.annuaire`).

Counts only: no name of an individual professional, nor of their practice site, is printed in the report
(HTML, PDF, Word); the names are in `annuaire.xlsx`. Counts of professionals under the secret statistique
threshold (`pipelines/diagnostic.toml`, read from the warehouse's `meta_secret`) are not shown, with the
secondary suppression of `diagnostic.secret` (as in the offer-of-care section); establishments are not professionals and are counted in full.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import fmt, mpl
from .context import ReportContext
from .maps import COLOR_CONTOUR, CONTOURS_SOURCE, Carte, _fond_perimetre, _mpl, _perimetre, _plottable, _terminer

CLE = "acteurs"
TITRE = "Acteurs du territoire"
# directory group -> (colour, marker) on the map
STYLE = {
    "hopital": ("#b2182b", "s"), "clinique": ("#ef8a62", "s"), "clcc": ("#762a83", "s"), "had": ("#d6604d", "s"),
    "ehpad": ("#1b7837", "^"), "personnes_agees": ("#7fbf7b", "^"), "centre_sante": ("#2166ac", "o"),
    "msp": ("#5aae61", "o"), "pharmacie": ("#35978f", "P"), "laboratoire": ("#8c510a", "D"),
    "domicile": ("#e08214", "v"), "sante_mentale": ("#542788", "h"), "addictologie": ("#c51b7d", "h"),
    "pmi": ("#f1b6da", "h"), "handicap": ("#4393c3", "X"), "social": ("#bababa", "X"), "autre": ("#878787", "."),
}


COMPTES = ("nb_mg", "nb_autres")  # counts of professionals printed per commune (establishments are not secret)


def totaux_masques(ctx) -> set[str]:
    """Columns of COMPTES whose territory total is not printed because of what the report masks elsewhere: the
    offer-of-care indicators of the perimeter (`statut` secret). The GP total is the indicator nb_mg; the total of
    the other professionals is the sum of six indicators: printed, it would give away the one of them masked
    alone, or, with nb_mg masked too, the sum of the masked ones."""
    from ..annuaire import INDICATEURS

    ind = getattr(ctx, "indicateurs", None)
    if ind is None or not len(ind) or not {"territoire_type", "indicateur", "statut"} <= set(ind.columns):
        return set()
    masques = set(ind.loc[(ind["territoire_type"] == "perimetre") & (ind["statut"] == "secret"), "indicateur"])
    autres = masques & {v for k, v in INDICATEURS.items() if k != "medecin_generaliste"}
    out = {"nb_mg"} & masques
    if len(autres) == 1 or (autres and "nb_mg" in masques):
        out.add("nb_autres")
    return out


def secret_par_commune(t: pd.DataFrame, seuil: int, totaux: set[str] = frozenset()) -> pd.DataFrame:
    """Cells of the per-commune table not to print (boolean frame, index of `t`, columns COMPTES).

    `t` is `par_commune` restricted to the communes printed, with the territory row (code ""). Each column is an
    additive group whose total (the territory row) is printed: `diagnostic.secret.apply` masks the counts under
    the threshold, then, where one commune alone is masked under a published total, the smallest other commune
    too, so that no masked count is the total minus the printed ones (the territory counts each professional
    once, so the sum of the communes is at least the total: the subtraction would bound or give the cell).
    `totaux`: columns whose territory total is masked already (`totaux_masques`)."""
    from ..secret import apply

    rows, catalogue = [], []
    for col in COMPTES:
        for i, (code, n) in enumerate(zip(t["code"], t[col])):
            ind = "total" if code == "" else f"commune_{i}"
            force = code == "" and col in totaux
            rows.append(("acteurs", col, ind, np.nan if force else float(n), np.nan, "secret" if force else "ok", i))
    for ind in dict.fromkeys(r[2] for r in rows):
        catalogue.append((ind, "professionnels", "communes", ind == "total"))
    cells = pd.DataFrame(rows, columns=["territoire_type", "territoire_code", "indicateur", "valeur", "numerateur",
                                        "statut", "ligne"])
    out = apply(cells, pd.DataFrame(catalogue, columns=["indicateur", "secret", "groupe", "total"]),
                {"professionnels": seuil})
    masque = pd.DataFrame(False, index=t.index, columns=list(COMPTES))
    for r in out[out["statut"] == "secret"].itertuples():
        masque.iat[r.ligne, COMPTES.index(r.territoire_code)] = True
    communes = (t["code"] != "").to_numpy()
    for col in totaux:  # a total masked for the report's sake must not be the sum of printed communes either
        j = COMPTES.index(col)
        if communes.any() and not masque.iloc[communes, j].any():
            masque.iat[int(np.flatnonzero(communes)[np.argmin(t[col].to_numpy()[communes])]), j] = True
    return masque


def _cellule(n: int, masque: bool) -> str:
    """The count as printed: « s » (secret statistique) when masked, as in the offer-of-care tables."""
    return "s" if masque else fmt.nombre(n)


def _sources(a) -> str:
    parts = []
    if a.date_rpps:
        parts.append(f"Annuaire santé (RPPS, ANS), extraction du {fmt.date_fr(a.date_rpps)}")
    if a.date_finess:
        parts.append(f"FINESS, extraction du {fmt.date_fr(a.date_finess)}")
    return "Source : " + " ; ".join(parts) + "." if parts else ""


def par_commune(a) -> pd.DataFrame:
    """One row per commune of the perimeter: code, nom, nb_mg, nb_autres (distinct professionals of the other
    professions), nb_pro (distinct professionals), nb_structures; then the territory (distinct)."""
    from ..annuaire import ENSEMBLE

    p, s = a.professionnels, a.structures
    rows = []
    for code, nom in [*a.communes[["code", "nom"]].itertuples(index=False), ("", ENSEMBLE)]:
        pc = p if code == "" else p[p["code_commune"] == code]
        sc = s if code == "" else s[s["code_commune"] == code]
        mg = pc.loc[pc["profession"] == "medecin_generaliste", "identifiant"].nunique()
        autres = pc.loc[pc["profession"] != "medecin_generaliste", "identifiant"].nunique()
        rows.append({"code": code, "nom": nom, "nb_mg": mg, "nb_autres": autres,
                     "nb_pro": pc["identifiant"].nunique(), "nb_structures": len(sc)})
    return pd.DataFrame(rows)


def section(ctx: ReportContext, numero: int, cartes: list[Carte]) -> dict | None:
    """The section dict of `document.py` (same keys as the thematic sections), or None without a directory or
    when neither the RPPS nor FINESS was available (annuaire.xlsx then says so on each sheet)."""
    a = getattr(ctx, "annuaire", None)
    if a is None or not (a.rpps_disponible or a.finess_disponible):
        return None  # neither source this run: the offer-of-care section and the sources annex say why
    listes, notes = [], []
    seuil = a.seuil
    manquent = [n for n, ok in (("l'Annuaire santé (RPPS)", a.rpps_disponible), ("FINESS", a.finess_disponible)) if not ok]
    if a.vide and manquent:
        phrase = " et ".join(manquent)
        vide = (f"{phrase[0].upper() + phrase[1:]} n'{'étaient' if len(manquent) > 1 else 'était'} pas "
                "disponible" + ("s" if len(manquent) > 1 else "") + " lors de cette édition : l'annuaire des acteurs "
                "du territoire n'a pas pu être établi.")
    elif a.vide:
        vide = (f"Aucun professionnel de santé des professions suivies ni aucun établissement ou service ouvert n'est "
                f"situé dans les communes du territoire d'après les extractions ouvertes. {_sources(a)}")
    else:
        vide = None
        t = par_commune(a)
        communes = t[t["code"] != ""]
        communes = communes[(communes["nb_pro"] > 0) | (communes["nb_structures"] > 0)]
        imprime = pd.concat([communes, t[t["code"] == ""]]).reset_index(drop=True)
        masque = secret_par_commune(imprime, seuil, totaux_masques(ctx))
        lignes = [[f"{r.nom} ({r.code})" if r.code else str(r.nom), _cellule(int(r.nb_mg), masque.at[i, "nb_mg"]),
                   _cellule(int(r.nb_autres), masque.at[i, "nb_autres"]), fmt.nombre(int(r.nb_structures))]
                  for i, r in imprime.iterrows()]
        sans = len(t) - 1 - len(communes)
        listes.append({
            "titre": "Professionnels de santé et structures par commune",
            "entetes": ["Commune", "Médecins généralistes", "Autres professionnels de santé", "Établissements et services"],
            "lignes": lignes,
            "note": (f"Professionnels distincts ayant un lieu d'exercice dans la commune (un professionnel exerçant dans "
                     f"deux communes compte dans chacune, et une fois pour le territoire) : infirmiers, "
                     f"masseurs-kinésithérapeutes, chirurgiens-dentistes, sages-femmes, pharmaciens, médecins spécialistes. "
                     f"s : secret statistique, effectif de professionnels inférieur à {fmt.nombre(seuil)}, ou effectif "
                     f"masqué en plus pour qu'il ne puisse pas être déduit du total du territoire. Le fichier "
                     f"annuaire.xlsx, liste nominative issue d'extractions publiées en données ouvertes, n'est pas "
                     f"masqué : seuls les tableaux d'effectifs du présent document le sont."
                     + (f" {fmt.nombre(sans)} commune{'s' if sans > 1 else ''} du territoire sans professionnel ni "
                        f"structure recensé{'s' if sans > 1 else ''}." if sans > 0 else "")),
            "source": _sources(a),
        })
        from ..annuaire import synthese_structures

        g = synthese_structures(a)
        g = g[g["code_commune"] == ""]
        if len(g):
            geoloc = a.structures.groupby("groupe")["lon"].count()
            ncom = a.structures.groupby("groupe")["code_commune"].nunique()
            listes.append({
                "titre": "Établissements et services par groupe",
                "entetes": ["Groupe", "Nombre", "dont géolocalisés", "Communes concernées"],
                "lignes": [[str(r.groupe_libelle), fmt.nombre(int(r.nombre)), fmt.nombre(int(geoloc.get(r.groupe, 0))),
                            fmt.nombre(int(ncom.get(r.groupe, 0)))] for r in g.itertuples()],
                "note": "Établissements et services ouverts de FINESS (sanitaires, médico-sociaux et sociaux), adresse "
                        "géographique ; le groupe rassemble des catégories FINESS (détail dans annuaire.xlsx).",
                "source": _sources(a),
            })
        if len(a.a_verifier):
            n = a.a_verifier["identifiant"].nunique()
            notes.append(f"{fmt.nombre(n)} professionnel{'s' if n > 1 else ''} des départements du territoire "
                         f"{'ont' if n > 1 else 'a'} un lieu d'exercice sans commune reconnue (code absent ou inconnu du "
                         "COG) : listé{0} à part, avec le motif, dans la feuille « À vérifier » de annuaire.xlsx."
                         .format("s" if n > 1 else ""))
    notes.insert(0, "L'annuaire nominatif du territoire (professionnels par lieu d'exercice avec leurs coordonnées "
                    "publiées, structures avec adresse et téléphone, synthèse par commune) est livré dans annuaire.xlsx "
                    "et annuaire.csv ; le présent document n'en donne que les effectifs. Il reflète les extractions "
                    "ouvertes à leur date, pas une liste vérifiée.")
    figures = []
    for c in cartes:
        if c.cle == CLE:
            figures.append({"png": Path(c.png), "svg": Path(c.svg) if c.svg else None, "alt": c.titre,
                            "legende": c.legende, "lecture": None, "cle": c.cle})
    return {
        "numero": numero, "ancre": f"section-{numero}", "cle": CLE, "titre": TITRE, "lignes": [], "source": "",
        "lecture": None, "notes": notes, "non_disponibles": [], "absents_du_fichier": [], "figures": figures,
        "listes": listes, "cartes_manquantes": [], "vide": vide, "sujets": [],
        "rezone": None,
    }


def carte(ctx: ReportContext, out_dir: Path, ecran: bool = False) -> Carte | None:
    """Structures by group (points) and professionals per commune of practice (circles whose area is the
    count; under the secret threshold, a hollow dot), on the perimeter. None without a directory to draw."""
    from pyproj import Transformer

    a = getattr(ctx, "annuaire", None)
    perim = _plottable(_perimetre(ctx.communes))
    if a is None or a.vide or not len(perim):
        return None
    t = par_commune(a)
    t = t[t["code"] != ""].set_index("code")
    mise, c, inside = _fond_perimetre(ctx, perim, "#f4f4f4", "#b0b0b0")
    ax = mise.ax
    seuil = a.seuil
    cp = c[inside]
    pts = cp.geometry.representative_point()
    nb = np.array([float(t["nb_pro"].get(code, 0)) for code in cp["code"]])
    montre, secret = nb >= seuil, (nb > 0) & (nb < seuil)
    nmax = max(float(nb[montre].max()) if montre.any() else 0.0, 10.0)
    taille = lambda n: 420.0 * n / nmax  # noqa: E731 - marker area proportional to the count
    handles = []
    if montre.any():
        ordre = [i for i in np.argsort(-nb) if montre[i]]
        ax.scatter(pts.x.to_numpy()[ordre], pts.y.to_numpy()[ordre], s=[taille(nb[i]) for i in ordre], c="#9ecae1",
                   alpha=0.6, edgecolors="#3182bd", linewidths=0.6, zorder=10)
        for v in sorted({round(nmax), max(seuil, round(nmax / 2)), seuil}, reverse=True):
            handles.append(mpl.Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(taille(v)),
                                  markerfacecolor="#9ecae1", alpha=0.6, markeredgecolor="#3182bd",
                                  label=f"{fmt.nombre(v)} professionnels de santé"))
    if secret.any():
        ax.scatter(pts.x.to_numpy()[secret], pts.y.to_numpy()[secret], s=9, facecolors="none", edgecolors="#3182bd",
                   linewidths=0.8, zorder=10)
        handles.append(mpl.Line2D([], [], linestyle="none", marker="o", markersize=3, markerfacecolor="none",
                              markeredgecolor="#3182bd",
                              label=f"1 à {fmt.nombre(seuil - 1)} professionnels (effectif non diffusé, secret statistique)"))
    s = a.structures[a.structures["lon"].notna() & a.structures["lat"].notna()]
    if len(s):
        x, y = Transformer.from_crs("EPSG:4326", ctx.communes.crs, always_xy=True).transform(
            s["lon"].to_numpy(float), s["lat"].to_numpy(float))
        x, y = np.asarray(x), np.asarray(y)
        for groupe, (couleur, marqueur) in STYLE.items():
            sel = (s["groupe"] == groupe).to_numpy()
            if not sel.any():
                continue
            ax.scatter(x[sel], y[sel], s=34, c=couleur, marker=marqueur, edgecolors="white", linewidths=0.5, zorder=20)
            libelle = str(s.loc[sel, "groupe_libelle"].iloc[0])
            handles.append(mpl.Line2D([], [], linestyle="none", marker=marqueur, markersize=5, markerfacecolor=couleur,
                                  markeredgecolor="white", label=_mpl(f"{libelle} ({fmt.nombre(int(sel.sum()))})")))
    handles.append(mpl.Line2D([], [], color=COLOR_CONTOUR, linewidth=2.0, label=_mpl(f"Limite du territoire ({ctx.nom})")))
    source = _sources(a).removesuffix(".") + " ; " + CONTOURS_SOURCE.removeprefix("Source : ")
    titre = f"Acteurs du territoire : {ctx.nom}"
    sous_titre = (f"{fmt.nombre(len(s))} établissement{'s' if len(s) > 1 else ''} et service{'s' if len(s) > 1 else ''} "
                  "géolocalisés par groupe ; professionnels de santé par commune d'exercice")
    mise.textes(titre, sous_titre, source)
    png, svg = _terminer(mise, ctx, handles, out_dir / "acteurs", ecran)
    legende = (f"Carte – Établissements et services (FINESS) par groupe et professionnels de santé par commune d'exercice "
               f"(Annuaire santé ; l'aire des cercles est proportionnelle à l'effectif, effectifs inférieurs à "
               f"{fmt.nombre(seuil)} non diffusés), territoire « {ctx.nom} ». {source}")
    return Carte(CLE, png, svg, titre, legende)
