"""Section 6: points d'appui and points de vigilance, computed from the indicator rows.

An indicator enters the synthesis when the perimeter differs from a département it touches by
more than a stated margin. Its direction (is higher better?) is the catalogue's ``sens``
(``indicateurs.toml``, default ``neutre``); an indicator with no direction is listed as context.
Sizes (communes, habitants, km²) are never compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..seuils import completer
from . import fmt
from .context import ReportContext
from .tables import Index, cle_catalogue, meta, ordre_indicateurs, par_indicateur, territoires
from .texte import de_territoire

# The margins are thresholds of pipelines/diagnostic.toml ([seuils], seuils.py): synthese_marge_relative (%, for
# levels: APL, densities, rates), synthese_marge_points (points, for shares in %), synthese_marge_evolution
# (absolute, for evolutions in "points").

FAVORABLE, DEFAVORABLE, NEUTRE = 1, -1, 0
TAILLES = {"communes", "habitants", "km2", "km²", "nombre"}
_SENS_TEXTE = {"hausse_favorable": FAVORABLE, "+": FAVORABLE, "1": FAVORABLE,
               "hausse_defavorable": DEFAVORABLE, "-": DEFAVORABLE, "-1": DEFAVORABLE,
               "neutre": NEUTRE, "0": NEUTRE}


@dataclass
class Point:
    indicateur: str
    libelle: str
    texte: str  # "2,3 pour le territoire contre 2,8 en Saône-et-Loire (−19 %)"


@dataclass
class Synthese:
    appuis: list[Point] = field(default_factory=list)
    vigilances: list[Point] = field(default_factory=list)
    contexte: list[Point] = field(default_factory=list)
    proches: list[str] = field(default_factory=list)  # libellés within the margin
    marges: str = ""
    sans_departement: bool = False


def sens(ctx: ReportContext, ind: str) -> int:
    """The direction of an indicator: its catalogue ``sens`` (context, then package catalogue); neutral when
    it has none or an unknown value."""
    v = cle_catalogue(ctx, "sens").get(ind)
    if v is None:
        return NEUTRE
    return _SENS_TEXTE.get(fmt.cle_tri(v).replace(" ", "_"), NEUTRE)


def marges_texte(seuils: dict | None = None) -> str:
    """The margins in French, from the thresholds `seuils` (default: those of seuils.DEFAUTS)."""
    s = completer(seuils)
    return (f"Un écart est retenu quand la valeur du territoire s'écarte de celle du département de plus de "
            f"{fmt.nombre(s['synthese_marge_relative'])}{fmt.NNBSP}% (en valeur relative), de plus de "
            f"{fmt.nombre(s['synthese_marge_points'])} points pour une part exprimée en pourcentage, ou de plus de "
            f"{fmt.nombre(s['synthese_marge_evolution'], 1)} pour une évolution.")


def _ecart(v: float, ref: float, unite: str, seuils: dict | None = None) -> tuple[bool, str]:
    """(beyond the margin of `seuils`, French gap text)."""
    s = completer(seuils)
    u = fmt.cle_tri(unite)
    if u == "%":
        d = v - ref
        return abs(d) > s["synthese_marge_points"], f"{fmt.nombre(d, 1, signe=True)} points"
    if u == "points":
        d = v - ref
        return abs(d) > s["synthese_marge_evolution"], f"écart de {fmt.nombre(d, 2, signe=True)}"
    if ref == 0:
        return False, ""
    r = 100 * (v - ref) / abs(ref)
    return abs(r) > s["synthese_marge_relative"], f"{fmt.nombre(r, 0, signe=True)}{fmt.NNBSP}%"


def synthese(ctx: ReportContext) -> Synthese:
    terr = territoires(ctx.indicateurs)
    perim = next((t for t in terr if t.type == "perimetre"), None)
    deps = [t for t in terr if t.type == "departement"]
    out = Synthese(marges=marges_texte(ctx.seuils), sans_departement=not deps)
    if perim is None or not deps:
        return out
    idx = Index.de(ctx.indicateurs)
    m = meta(ctx)
    from . import mortalite  # the mortality indices enter by their significance, not by the margin

    for ind in ordre_indicateurs(ctx.indicateurs, ctx.catalogue):
        if ind in mortalite.IDS:
            continue
        info = m[ind]
        unite = info["unite"]
        if fmt.cle_tri(unite) in TAILLES:
            continue
        v = idx.valeur(perim, ind)
        if v is None:
            continue
        dec = int(info["decimales"])
        suffixe = f"{fmt.NNBSP}%" if unite.strip() == "%" else ""
        signe = fmt.cle_tri(unite) == "points"
        parts, hors_marge, directions = [], False, set()
        for d in deps:
            ref = idx.valeur(d, ind)
            if ref is None:
                continue
            depasse, ecart = _ecart(v, ref, unite, ctx.seuils)
            hors_marge |= depasse
            if depasse:
                directions.add(1 if v > ref else -1)
            parts.append(f"{fmt.nombre(ref, dec, signe=signe)}{suffixe} dans le département {de_territoire(d)}"
                         + (f" ({ecart})" if ecart else ""))
        if not parts:
            continue
        texte = (f"{fmt.nombre(v, dec, signe=signe)}{suffixe}"
                 f"{' ' + unite if unite and not suffixe and not signe else ''} pour le territoire, contre "
                 + fmt.liste(parts))
        if _est_estimation(ctx, ind):
            texte += " ; valeurs en partie estimées"
        p = Point(ind, info["libelle"], texte + ".")
        if not hors_marge:
            out.proches.append(info["libelle"])
            continue
        s = sens(ctx, ind)
        if s == NEUTRE or len(directions) != 1:
            out.contexte.append(p)
        elif s * directions.pop() > 0:
            out.appuis.append(p)
        else:
            out.vigilances.append(p)
    appuis, vigilances = mortalite.points(ctx)
    out.appuis += [Point(*p) for p in appuis]
    out.vigilances += [Point(*p) for p in vigilances]
    return out


def _est_estimation(ctx: ReportContext, ind: str) -> bool:
    return any(r["statut"] == "estimation" and r["territoire_type"] in ("perimetre", "departement")
               for r in par_indicateur(ctx.indicateurs).get(ind, ()))
