"""``diagnostic.html``: one self-contained French document (CSS inline, maps as data URIs)."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2

from . import fmt, texte
from .context import ReportContext
from .maps import APL_COLUMN, APL_SEUIL, Carte
from .tables import communes_perimetre, lignes, meta, themes, territoires

TEMPLATES = Path(__file__).parent / "templates"
TYPE_LABELS = {"perimetre": "territoire", "departement": "département", "region": "région", "france": ""}


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every name that reaches the page is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _date_donnees(ctx: ReportContext) -> str:
    """Latest retrieval date of the sources used ("données au ..."), else the production date."""
    dates = [d for d in (fmt.as_date(s.get("recupere_le")) for s in ctx.sources if s.get("disponible", True) is not False)
             if d is not None]
    return fmt.date_fr(max(dates) if dates else ctx.produit_le)


def _figure(carte: Carte) -> dict:
    return {"src": _data_uri(carte.png), "alt": carte.titre, "legende": carte.legende}


def _sections(ctx: ReportContext, cartes: list[Carte]) -> list[dict]:
    terr = territoires(ctx.indicateurs)
    f = texte.faits(ctx)
    by_key = {c.cle: c for c in cartes}
    out = []
    theme_list = themes(ctx)
    for n, th in enumerate(theme_list, start=1):
        rows = lignes(ctx, th.indicateurs, terr)
        used = {c.statut for r in rows for c in r.cellules}
        notes = []
        if "non_disponible" in used:
            notes.append("n.d. : donnée non disponible.")
        if "secret" in used:
            notes.append("s : secret statistique (effectif trop faible pour être diffusé).")
        if "estimation" in used:
            notes.append("Valeur en italique : estimation.")
        figures, manquantes = [], []
        if n == 1:
            if "situation" in by_key:
                figures.append(_figure(by_key["situation"]))
            else:
                manquantes.append("Carte de situation non produite : aucun contour communal n'était disponible.")
        if APL_COLUMN in th.indicateurs:
            if APL_COLUMN in by_key:
                figures.append(_figure(by_key[APL_COLUMN]))
            else:
                manquantes.append("Carte de l'APL non produite : aucune valeur communale de l'APL "
                                  "ou aucun contour communal n'était disponible.")
        out.append(
            {
                "numero": n,
                "titre": texte.titre_theme(th.cle),
                "lignes": [
                    {
                        "libelle": r.libelle,
                        "unite": r.unite,
                        "cellules": [
                            {"texte": c.texte, "perim": t.type == "perimetre", "statut": c.statut}
                            for t, c in zip(terr, r.cellules)
                        ],
                    }
                    for r in rows
                ],
                "source": texte.ligne_source(ctx, th.indicateurs),
                "lecture": texte.lecture(f, th.indicateurs),
                "notes": notes,
                "non_disponibles": texte.non_disponibles(ctx, th.indicateurs),
                "figures": figures,
                "cartes_manquantes": manquantes,
            }
        )
    placed = {fig["alt"] for s in out for fig in s["figures"]}
    rest = [_figure(c) for c in cartes if c.titre not in placed]
    if rest:  # no theme to attach them to
        out.append({"numero": len(out) + 1, "titre": "Cartes", "lignes": [], "source": "", "lecture": None,
                    "notes": [], "non_disponibles": [], "figures": rest, "cartes_manquantes": []})
    return out


def _definitions(ctx: ReportContext) -> list[dict]:
    m = meta(ctx)
    groups: dict[str, list[dict]] = {}
    ids = list(m)
    for i in ids:
        info = m[i]
        groups.setdefault(texte.titre_theme(info["theme"]) if info["theme"] else "Autres indicateurs", []).append(
            {"id": i, "libelle": info["libelle"], "unite": info["unite"], "definition": info["definition"]}
        )
    return [{"titre": k, "entrees": v} for k, v in groups.items()]


def _sources(ctx: ReportContext) -> list[dict]:
    out = []
    for s in ctx.sources:
        url = "" if fmt.est_manquant(s.get("url")) else str(s.get("url") or "")
        out.append(
            {
                "id": str(s.get("source") or ""),
                "titre": str(s.get("titre") or ""),
                "producteur": str(s.get("producteur") or ""),
                "licence": str(s.get("licence") or ""),
                "url": url,
                # http(s) only (never javascript: or data:), and not an abridged "…/" address
                "lien": url.startswith(("http://", "https://")) and "…" not in url,
                "disponible": s.get("disponible", True) is not False,
                "millesime": "" if fmt.est_manquant(s.get("millesime")) else str(s.get("millesime") or ""),
                "fichier": str(s.get("fichier") or ""),
                "recupere_le": fmt.date_courte(s.get("recupere_le")),
                "taille": fmt.octets(s.get("octets")),
                "sha": fmt.sha_court(s.get("sha256")),
                "sha_complet": str(s.get("sha256") or ""),
            }
        )
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
        "colonnes": [{"libelle": c.libelle, "unite": c.unite, "num": c.decimales is not None} for c in cols],
        "lignes": rows,
    }


def _intro(ctx: ReportContext) -> dict:
    terr = territoires(ctx.indicateurs)
    comm = ctx.communes[ctx.communes["perimetre"].fillna(False).astype(bool).to_numpy()]
    n = len(comm)
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
        "communes": f"{fmt.nombre(n)} commune{'s' if n > 1 else ''}" + (f" {dans}" if dans else ""),
        "comparateurs": fmt.liste(comparateurs),
    }


def render_html(ctx: ReportContext, cartes: list[Carte]) -> str:
    terr = territoires(ctx.indicateurs)
    return environment().get_template("diagnostic.html.j2").render(
        nom=ctx.nom,
        description=ctx.description,
        date_donnees=_date_donnees(ctx),
        produit_le=fmt.date_fr(ctx.produit_le),
        intro=_intro(ctx),
        colonnes=[{"libelle": t.libelle, "type": TYPE_LABELS.get(t.type, ""), "perim": t.type == "perimetre"}
                  for t in terr],
        sections=_sections(ctx, cartes),
        definitions=_definitions(ctx),
        sources=_sources(ctx),
        communes=_communes(ctx),
        seuil_apl=fmt.nombre(APL_SEUIL, 1),
    )


def write_html(ctx: ReportContext, cartes: list[Carte], path: Path) -> Path:
    path.write_text(render_html(ctx, cartes), encoding="utf-8")
    return path
