"""« Mortalité » in « État de santé »: the comparative mortality indices (ICM) with their 95 % interval and whether
they differ significantly from France, and their points in the synthesis.

Reads the indicator rows only (``ctx.indicateurs``, mart ``99h_mart_indicateurs_mortalite.sql``): for ``icm_general``
and ``icm_premature``, numerateur = observed deaths O, denominateur = expected deaths E at France's rates by sex and
age, valeur = 100 x O / E. The interval is exact Poisson on O (quantiles of the chi-squared distribution: the bounds
of O are chi2(2.5 %, 2 O) / 2 and chi2(97.5 %, 2 O + 2) / 2), divided by E: it cannot be computed in SQL, so it is
computed here from the published O and E, and anyone holding `indicateurs.csv` can recompute it. France's index is
100 by construction (France's own rates): no interval nor test is printed for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .. import seuils
from . import fmt
from .context import ReportContext
from .tables import Index, Territoire, meta, nom_source, sources_par_id, territoires
from .texte import faits, lecture

IDS = ("icm_general", "icm_premature")
NIVEAU = 0.95
DECIMALES = 1
SUPERIEUR, INFERIEUR, NON_SIGNIFICATIF = "superieur", "inferieur", "non_significatif"
ECARTS = {SUPERIEUR: "significativement supérieur à 100", INFERIEUR: "significativement inférieur à 100",
          NON_SIGNIFICATIF: "non significativement différent de 100"}
TITRE = "Mortalité générale et prématurée : indices comparatifs (France = 100)"


def intervalle(o: float, e: float, niveau: float = NIVEAU) -> tuple[float, float]:
    """Exact Poisson interval of the index 100 x O / E: (lower, upper). O = 0 gives a lower bound of 0."""
    a = (1 - niveau) / 2
    bas = _chi2_ppf(a, 2 * o) / 2 if o > 0 else 0.0
    haut = _chi2_ppf(1 - a, 2 * o + 2) / 2
    return 100 * float(bas) / e, 100 * float(haut) / e


def _chi2_ppf(p: float, df: float) -> float:
    """``scipy.stats.chi2.ppf(p, df)`` for 0 < p < 1 and df > 0 to 1e-12 relative (``2 * gammaincinv(df / 2, p)``),
    without scipy (importing ``scipy.special`` cost 0.12 s CPU of every report; issue 16)."""
    return 2 * _gammaincinv(df / 2, p)


def _gammaincinv(a: float, p: float) -> float:
    """The x where the regularized lower incomplete gamma P(a, x) equals p: Halley's iterations from the
    Wilson-Hilferty approximation, kept inside the bracket of the values already seen."""
    z = NormalDist().inv_cdf(p)
    if a >= 1:
        x = max(a * (1 - 1 / (9 * a) + z / (3 * math.sqrt(a))) ** 3, 1e-3 * a)
    else:
        x = (p * math.gamma(a + 1)) ** (1 / a)
    bas, haut = 0.0, math.inf
    for _ in range(100):
        cumul, densite = _gamma_p(a, x)
        if cumul == p:
            return x
        bas, haut = (x, haut) if cumul < p else (bas, x)
        r = (cumul - p) / densite
        suivant = x - r / (1 - r * ((a - 1) / x - 1) / 2)
        if abs(suivant - x) <= 1e-12 * x:  # quadratic convergence: the error is far below the step now
            return suivant
        if not bas < suivant < haut:
            suivant = (bas + haut) / 2 if haut < math.inf else 2 * x
        x = suivant
    raise ArithmeticError(f"gammaincinv({a}, {p}) ne converge pas")


def _gamma_p(a: float, x: float) -> tuple[float, float]:
    """P(a, x) by its series x^a e^-x / Gamma(a + 1) * (1 + sum of prod x / (a + k)), and the density at x."""
    facteur = math.exp(_log_facteur(a, x))
    n = int(max(0.0, x - a) + 12 * math.sqrt(x + 1) + 40)
    while True:
        termes = np.cumprod(x / (a + np.arange(1, n + 1)))
        if termes[-1] < 1e-17:
            break
        n *= 2
    return facteur * (1 + float(termes.sum())), facteur * a / x


def _log_facteur(a: float, x: float) -> float:
    """ln(x^a e^-x / Gamma(a + 1)); for a >= 10 through Stirling's series, so that a ln x and lgamma(a + 1)
    (about 10^5 for 18 000 deaths) do not cancel each other's digits away."""
    if a < 10:
        return a * math.log(x) - x - math.lgamma(a + 1)
    u, a2 = (x - a) / a, a * a
    stirling = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - (1 / 1188 - 691 / (360360 * a2)) / a2) / a2) / a2) / a2) / a
    return a * (math.log1p(u) - u) - 0.5 * math.log(2 * math.pi * a) - stirling


def ecart(o: float, e: float, niveau: float = NIVEAU) -> str:
    """SUPERIEUR when the whole interval is above 100, INFERIEUR when below, else NON_SIGNIFICATIF."""
    bas, haut = intervalle(o, e, niveau)
    return SUPERIEUR if bas > 100 else INFERIEUR if haut < 100 else NON_SIGNIFICATIF


@dataclass(frozen=True)
class Indice:
    """One territory's index: O, E, value, interval and gap to 100 (None when withheld or unavailable)."""

    statut: str
    o: float | None = None
    e: float | None = None
    valeur: float | None = None
    bas: float | None = None
    haut: float | None = None
    ecart: str | None = None
    france: bool = False


def indice(idx: Index, t: Territoire, ind: str) -> Indice:
    r = idx.row(t, ind)
    if r is None:
        return Indice("non_disponible")
    statut = str(r["statut"])
    if statut != "ok" or fmt.est_manquant(r["valeur"]):
        return Indice(statut)
    o, e = float(r["numerateur"]), float(r["denominateur"])
    if t.type == "france":
        return Indice(statut, o, e, float(r["valeur"]), france=True)
    bas, haut = intervalle(o, e)
    return Indice(statut, o, e, float(r["valeur"]), bas, haut, ecart(o, e))


def _disponible(ctx: ReportContext) -> bool:
    ind = ctx.indicateurs
    return bool(((ind["indicateur"].isin(IDS)) & (ind["statut"] == "ok")).any())


def _periode(ctx: ReportContext) -> str:
    rows = ctx.indicateurs[ctx.indicateurs["indicateur"].isin(IDS) & ctx.indicateurs["millesime"].notna()]
    return str(rows["millesime"].iloc[0]) if len(rows) else ""


def _cellules(ctx: ReportContext, terr: list[Territoire], ind: str) -> list[list[str]]:
    """Rows « deaths », « index », « interval », « gap » of one index, one cell per territory."""
    idx = Index.de(ctx.indicateurs)
    seuil = _seuil(ctx)
    morts, valeurs, ics, ecarts = [], [], [], []
    for t in terr:
        i = indice(idx, t, ind)
        if i.valeur is None:
            morts.append(f"moins de {seuil}" if i.statut == "secret" else fmt.ND)
            valeurs.append(fmt.SECRET if i.statut == "secret" else fmt.ND)
            ics.append("")
            ecarts.append("")
            continue
        morts.append(fmt.nombre(i.o))
        valeurs.append(fmt.nombre(i.valeur, DECIMALES))
        if i.france:
            ics.append("référence")
            ecarts.append("100 par construction")
        else:
            ics.append(f"{fmt.nombre(i.bas, DECIMALES)} à {fmt.nombre(i.haut, DECIMALES)}")
            ecarts.append(ECARTS[i.ecart].replace(" à 100", ""))
    return [morts, valeurs, ics, ecarts]


def tableau(ctx: ReportContext) -> dict | None:
    """{titre, entetes, lignes, note, source, largeurs} for the section's lists, or None without any index."""
    if not _disponible(ctx):
        return None
    terr = territoires(ctx.indicateurs)
    periode = _periode(ctx)
    m = meta(ctx)
    lignes = []
    for ind, deces in (("icm_general", f"Décès domiciliés {periode}"), ("icm_premature", f"Décès avant 65 ans {periode}")):
        morts, valeurs, ics, ecarts = _cellules(ctx, terr, ind)
        lignes += [[deces, *morts], [m.get(ind, {}).get("libelle", ind), *valeurs],
                   ["  intervalle de confiance à 95 %", *ics], ["  écart à la France (100)", *ecarts]]
    return {
        "titre": TITRE,
        "entetes": ["", *[t.libelle for t in terr]],
        "lignes": lignes,
        "largeurs": [40] + [25] * len(terr),
        "note": _note(ctx),
        "source": _source(ctx),
    }


def _seuil(ctx: ReportContext) -> str:
    """The threshold `deces_min` in French (pipelines/diagnostic.toml, as the warehouse was built)."""
    return seuils.texte(seuils.completer(ctx.seuils)["deces_min"])


def _note(ctx: ReportContext) -> str:
    seuil = _seuil(ctx)
    textes = []
    lec = lecture(faits(ctx), ["icm_general"])
    perim = next((t for t in territoires(ctx.indicateurs) if t.type == "perimetre"), None)
    i = indice(Index.de(ctx.indicateurs), perim, "icm_general") if perim is not None else None
    if lec and i is not None and i.valeur is not None and not i.france:
        lec = (lec.rstrip(".") + f" ; avec {fmt.nombre(100 * NIVEAU)}{fmt.NNBSP}% de confiance, il est compris entre "
               f"{fmt.nombre(i.bas, DECIMALES)} et {fmt.nombre(i.haut, DECIMALES)} : il est {ECARTS[i.ecart]}.")
    if lec:
        textes.append(lec)
    textes.append(
        "Indice comparatif de mortalité : décès observés rapportés aux décès attendus si le territoire avait les taux "
        "de mortalité de la France par sexe et tranche d'âge, × 100 ; intervalle de confiance exact (loi de Poisson). "
        f"Un indice n'est pas donné quand le territoire compte moins de {seuil} décès sur la période (trop peu de décès "
        "pour être lu) ; « n.d. » : population par âge ou décès non disponibles pour une commune du territoire. "
        "La France vaut 100 par construction ; ses taux de référence portent sur les communes dont la population par "
        "sexe et âge est publiée (Mayotte, absente du recensement de 2021, n'en fait pas partie).")
    return " ".join(textes)


def _source(ctx: ReportContext) -> str:
    """« Source : » line: the death files with the pooled years, the census with its year (registry vintages)."""
    par_id = sources_par_id(ctx)
    deces = f"{nom_source('etatcivil_deces', par_id)}, décès de {_periode(ctx).replace('-', ' à ')}"
    recensement = par_id.get("dossier_complet", {}).get("millesimes") or []
    rp = nom_source("dossier_complet", par_id) + (f", recensement {recensement[0]}" if recensement else "")
    return f"Source : {deces} ; {rp} ; indices et intervalles calculés par le diagnostic."


def points(ctx: ReportContext) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(points d'appui, points de vigilance) of the synthesis as (indicateur, libelle, texte): an index of the
    perimeter significantly below 100 is a point d'appui, significantly above a point de vigilance, each stating its
    interval."""
    appuis, vigilances = [], []
    perim = next((t for t in territoires(ctx.indicateurs) if t.type == "perimetre"), None)
    if perim is None:
        return appuis, vigilances
    idx = Index.de(ctx.indicateurs)
    m = meta(ctx)
    for ind in IDS:
        i = indice(idx, perim, ind)
        if i.valeur is None or i.ecart == NON_SIGNIFICATIF:
            continue
        texte = (f"{fmt.nombre(i.valeur, DECIMALES)} pour le territoire (intervalle de confiance à 95 % : "
                 f"{fmt.nombre(i.bas, DECIMALES)} à {fmt.nombre(i.haut, DECIMALES)}), {ECARTS[i.ecart]} (France, à âge et sexe égaux) ; "
                 f"{fmt.nombre(i.o)} décès observés pour {fmt.nombre(i.e, DECIMALES)} attendus aux taux de la France, "
                 f"{_periode(ctx)}.")
        p = (ind, m.get(ind, {}).get("libelle", ind), texte)
        (vigilances if i.ecart == SUPERIEUR else appuis).append(p)
    return appuis, vigilances

