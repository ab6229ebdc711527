"""Age pyramid: the perimeter (bars) against its département(s) (line), by sex and 15-year age band,
in % of each territory's population (latest census). Drawn only when the census data is in hand."""

from __future__ import annotations

from pathlib import Path


import pandas as pd  # noqa: E402

from . import fmt, mpl  # noqa: E402
from .context import ReportContext  # noqa: E402
from .figures import enregistrer  # noqa: E402
from .maps import DPI, Carte  # noqa: E402

COLUMNS = ["territoire_type", "territoire_code", "territoire_nom", "sexe", "tranche_age", "population", "annee"]
BANDES = ["00-14", "15-29", "30-44", "45-59", "60-74", "75-89", "90+"]
LIBELLES = ["0-14 ans", "15-29 ans", "30-44 ans", "45-59 ans", "60-74 ans", "75-89 ans", "90 ans et plus"]


def parts(df: pd.DataFrame) -> pd.DataFrame:
    """Share (%) of each sex x band in its territory's population; one row per territory x sex x band."""
    tot = df.groupby(["territoire_type", "territoire_code"])["population"].transform("sum")
    return df.assign(part=100 * df["population"] / tot)


def pyramide(ctx: ReportContext, out_dir: Path) -> list[Carte]:
    df = getattr(ctx, "pyramide", None)
    if df is None or not len(df) or not (df["territoire_type"] == "perimetre").any():
        return []
    p = parts(df)
    fig, ax = mpl.plt.subplots(figsize=(7.5, 4.2), dpi=DPI)
    y = range(len(BANDES))
    per = p[p["territoire_type"] == "perimetre"]
    for sexe, signe, couleur in (("H", -1, "#2c7fb8"), ("F", 1, "#d95f5f")):
        v = per[per["sexe"] == sexe].set_index("tranche_age")["part"].reindex(BANDES).fillna(0)
        ax.barh(list(y), signe * v.values, color=couleur, alpha=0.85, height=0.8,
                label=f"{ctx.nom} : {'hommes' if sexe == 'H' else 'femmes'}")
        for dep_code, g in p[p["territoire_type"] == "departement"].groupby("territoire_code"):
            d = g[g["sexe"] == sexe].set_index("tranche_age")["part"].reindex(BANDES).fillna(0)
            nom = g["territoire_nom"].iloc[0]
            ax.plot(signe * d.values, list(y), color="#222222", linewidth=1.2, marker="o", markersize=3,
                    label=f"{nom} (département)" if sexe == "H" else None)
    ax.set_yticks(list(y))
    ax.set_yticklabels(LIBELLES, fontsize=8)
    ax.axvline(0, color="#444444", linewidth=0.6)
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: fmt.nombre(abs(v), 0) + " %"))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("Part de la population du territoire (hommes à gauche, femmes à droite)", fontsize=8)
    annee = str(df["annee"].dropna().iloc[0]) if df["annee"].notna().any() else ""
    ax.set_title(f"Pyramide des âges, recensement {annee}".strip(), fontsize=10, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / "pyramide_ages.png"
    svg = enregistrer(fig, png, dpi=DPI)
    mpl.plt.close(fig)
    legende = (f"Pyramide des âges de {ctx.nom} (barres) et de son département (ligne), en % de la population de "
               f"chaque territoire. Source : INSEE, recensement de la population {annee} (estimations pondérées).")
    return [Carte(cle="pyramide", png=png, svg=svg, titre="Pyramide des âges", legende=legende)]


def lecture(ctx: ReportContext) -> str | None:
    """« Lecture : » of the pyramid: weight of the 75 and over, perimeter against département."""
    df = getattr(ctx, "pyramide", None)
    if df is None or not len(df):
        return None
    p = parts(df)
    p = p[p["tranche_age"].isin(["75-89", "90+"])].groupby(["territoire_type", "territoire_code", "territoire_nom"])["part"].sum()
    per = p.xs("perimetre", level="territoire_type")
    deps = p.xs("departement", level="territoire_type") if "departement" in p.index.get_level_values(0) else None
    phrase = f"Lecture : les personnes de 75 ans et plus représentent {fmt.nombre(float(per.iloc[0]), 1)} % de la population de {ctx.nom}"
    if deps is not None and len(deps):
        nom = deps.index.get_level_values("territoire_nom")[0]
        phrase += f", contre {fmt.nombre(float(deps.iloc[0]), 1)} % dans le département ({nom})"
    return phrase + "."
