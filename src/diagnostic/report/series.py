"""Yearly series of the report: one small line chart per indicator published every year (département,
région and France lines), so that the reader sees the trend, not one point.

Input: ``ReportContext.series`` (columns ``SERIES_COLUMNS``; one row per indicator x territory x year),
filled by the pipeline from the stored mart ``mart_series`` (see ``donnees.series``). Output: PNG
(200 dpi; + SVG when asked, see ``figures``) per chart in ``graphiques/``, embedded in the report like the maps (same ``Carte`` record,
``cle = "serie_<indicateur>"``).
"""

from __future__ import annotations

import re
from pathlib import Path



import pandas as pd  # noqa: E402

from . import fmt, mpl  # noqa: E402
from .context import ReportContext  # noqa: E402
from . import figures  # noqa: E402
from .maps import DPI, Carte, _mpl  # noqa: E402
from .tables import meta, nom_source, sources_par_id, territoires  # noqa: E402

from .context import SERIES_COLUMNS  # noqa: E402, F401  (defined with the context, re-exported)
ANNEES_MAX = 8  # last available years shown
STYLES = {"departement": ("#3f88c5", "-", "o"), "region": ("#e08e45", "--", "s"), "france": ("#4a4a4a", ":", "^")}
COULEURS_DEPS = ["#3f88c5", "#2a9d8f", "#6a4c93"]
PREFIXE = "serie_"


def cle_annee(a: str) -> tuple[int, str]:
    m = re.search(r"(\d{4})\D*$", str(a))
    return (int(m.group(1)) if m else 0, str(a))


def a_tracer(ctx: ReportContext) -> dict[str, pd.DataFrame]:
    """indicateur -> rows to draw: département / région / France territories of the context, last
    ``ANNEES_MAX`` years, values shown (masked years are gaps); only series with at least 2 years."""
    s = getattr(ctx, "series", None)
    if s is None or not len(s):
        return {}
    terr = {(t.type, t.code) for t in territoires(ctx.indicateurs) if t.type in STYLES}
    s = s[[(a, b) in terr for a, b in zip(s["territoire_type"], s["territoire_code"])]]
    out = {}
    for ind, g in s.groupby("indicateur", sort=False):
        annees = sorted(set(g["annee"].astype(str)), key=cle_annee)[-ANNEES_MAX:]
        g = g[g["annee"].astype(str).isin(annees)]
        ok = g[g["statut"].isin(["ok", "estimation"]) & g["valeur"].notna()]
        n = ok.groupby(["territoire_type", "territoire_code"])["annee"].nunique()
        if len(n) and n.max() >= 2:
            out[str(ind)] = g
    return out


def _titre(ctx: ReportContext, ind: str) -> str:
    return meta(ctx).get(ind, {}).get("libelle", ind)


def graphique(ctx: ReportContext, ind: str, rows: pd.DataFrame, out_dir: Path) -> Carte:
    m = meta(ctx).get(ind, {})
    annees = sorted(set(rows["annee"].astype(str)), key=cle_annee)
    terr = [t for t in territoires(ctx.indicateurs) if t.type in STYLES]
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{ind}.png"
    cle = figures.cle("serie", DPI, ind, rows.to_csv(index=False), sorted((str(k), str(v)) for k, v in m.items()),
                      [(t.type, t.code, t.libelle) for t in terr])
    svg = figures.depuis_cache(cle, png)
    if svg is False:  # not drawn by an earlier run with the same inputs
        svg = _dessiner(ctx, ind, rows, m, annees, terr, png, cle)
    sources = sorted({str(s) for s in ctx.indicateurs.loc[ctx.indicateurs["indicateur"] == ind, "source"].dropna()})
    par_id = sources_par_id(ctx)
    src = " ; ".join(nom_source(s, par_id) for s in sources) or "non renseignée"
    legende = (f"Évolution : {_titre(ctx, ind)}, {annees[0]} à {annees[-1]} ({NIVEAUX_TEXTE}). "
               f"Une année sans point est une valeur non publiée ou masquée. Source : {src}.")
    return Carte(cle=PREFIXE + ind, png=png, svg=svg, titre=f"Évolution : {_titre(ctx, ind)}", legende=legende)


def _axe_y(v, _):
    return fmt.nombre(v, 0 if abs(v) >= 100 else 1)


def _dessiner(ctx: ReportContext, ind: str, rows: pd.DataFrame, m: dict, annees: list[str], terr: list, png: Path,
              cle: str) -> Path | None:
    """Draw the chart into ``png`` (and its SVG when asked for); return the SVG path or None."""
    unite = m.get("unite", "")
    x = {a: k for k, a in enumerate(annees)}
    fig, ax = _figure_vierge()
    deps = [t for t in terr if t.type == "departement"]
    par_territoire = dict(list(rows.groupby(["territoire_type", "territoire_code"], sort=False)))
    for t in terr:
        g = par_territoire.get((t.type, t.code))
        if g is None:
            continue
        g = g.assign(_x=g["annee"].astype(str).map(x)).sort_values("_x")
        y = g["valeur"].where(g["statut"].isin(["ok", "estimation"]))
        couleur, trait, marque = STYLES[t.type]
        if t.type == "departement" and len(deps) > 1:
            couleur = COULEURS_DEPS[deps.index(t) % len(COULEURS_DEPS)]
        nom = t.libelle if t.type != "france" else "France"
        ax.plot(g["_x"], y, linestyle=trait, marker=marque, color=couleur, linewidth=2 if t.type == "departement" else 1.4,
                markersize=4, label=_mpl(nom))
        dernier = g[y.notna()].tail(1)
        if len(dernier):
            ax.annotate(fmt.nombre(float(y[dernier.index[0]]), int(m.get("decimales", 1))), (dernier["_x"].iloc[0], float(y[dernier.index[0]])),
                        textcoords="offset points", xytext=(5, 0), fontsize=7, color=couleur, va="center")
    ax.set_xticks(range(len(annees)))
    ax.set_xticklabels(annees, fontsize=8, rotation=0 if len(annees) <= 8 and max(map(len, annees)) <= 4 else 30)
    ax.tick_params(axis="y", labelsize=8)
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(_axe_y))
    ax.set_ylabel(_mpl(unite), fontsize=8)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # y=1: where matplotlib would place it (no tick labels on top, no offset text), without measuring the
    # y axis again before each draw to find out
    ax.set_title(_mpl(_titre(ctx, ind)), fontsize=10, loc="left", y=1.0)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return figures.enregistrer(fig, png, cle=cle, dpi=DPI)


_figure: list = []  # (Figure, Axes) of this process's charts, drawn again for each (issue 16)
_MARGES = ("left", "right", "bottom", "top", "wspace", "hspace")


def _figure_vierge():
    """The Figure and Axes of the previous chart, emptied, for the next one: a new Axes costs its
    creation and that of its ticks (each with its lines and texts), and matplotlib keeps text sizes per
    renderer, while the charts' texts (years, ticks, titles, names) recur. ``_dessiner`` sets again for each
    chart every setting it makes (ticks, labels, title, legend); what it adds (lines, annotations) is removed
    here, the data limits and margins are those of a new Axes. Same pixels as a new Figure
    (``tests/test_series.py``)."""
    if not _figure:
        fig = mpl.Figure(figsize=(8.0, 3.6), dpi=DPI)
        mpl.FigureCanvasAgg(fig)
        _figure.append((fig, fig.add_subplot()))
    fig, ax = _figure[0]
    for artiste in [*ax.lines, *ax.texts]:
        artiste.remove()
    ax.relim()
    fig.subplots_adjust(**{k: mpl.matplotlib.rcParams[f"figure.subplot.{k}"] for k in _MARGES})
    return fig, ax


NIVEAUX_TEXTE = "département, région et France ; donnée départementale : la CPTS n'est pas isolable dans les données ouvertes"


def graphiques(ctx: ReportContext, out_dir: Path) -> list[Carte]:
    """One chart per indicator with a yearly series (see ``a_tracer``)."""
    return [graphique(ctx, ind, rows, Path(out_dir)) for ind, rows in a_tracer(ctx).items()]
