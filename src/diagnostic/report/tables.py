"""Shape the context into the tables every writer shares (CSV, XLSX, HTML).

Nothing here knows a particular indicator id: order, labels, units and themes all
come from the catalogue, falling back on the indicator rows themselves.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from .. import catalogue as _catalogue
from ..territoire import Territoire  # a comparison column: the one class of territories (type, code, nom)
from . import fmt
from .context import CONTRACT_COLUMNS, TERRITOIRE_TYPES, ReportContext

THEME_AUTRE = "Autres indicateurs"


@dataclass
class Cellule:
    valeur: float
    statut: str
    texte: str  # French display text ("90 474", "n.d.", "s")


@dataclass
class Ligne:
    """One indicator row of a comparison table, cells in ``Territoire`` order."""

    indicateur: str
    libelle: str
    unite: str
    cellules: list[Cellule]
    millesime: str
    sources: list[str]


@dataclass
class Theme:
    cle: str  # the catalogue's theme value, as is
    indicateurs: list[str] = field(default_factory=list)


def _s(x: object) -> str:
    return "" if fmt.est_manquant(x) else str(x).strip()


_memo: dict[tuple, tuple[tuple, object]] = {}
_memo_actif = [False]


@contextmanager
def une_fois_par_table():
    """While a report is written, each indicator table's lookups are built once (every table and sentence
    asks again); outside, always recomputed, so that a caller that edits a table in place sees its edits."""
    _memo_actif[0] = True
    try:
        yield
    finally:
        _memo_actif[0] = False
        _memo.clear()


def _une_fois(nom: str, ind: pd.DataFrame, calcul, *autres):
    """``calcul(ind, *autres)``, once per table (and other inputs ``autres``: the catalogue…) inside
    ``une_fois_par_table``. The inputs are kept with the result, so that their ids are never reused while the
    entry lives."""
    if not _memo_actif[0]:
        return calcul(ind, *autres)
    objets = (ind, *autres)
    cle = (nom, *map(id, objets))
    hit = _memo.get(cle)
    if hit is not None and all(a is b for a, b in zip(hit[0], objets)):
        return hit[1]
    out = calcul(ind, *autres)
    _memo[cle] = (objets, out)
    return out


def par_indicateur(ind: pd.DataFrame) -> dict[object, list[dict]]:
    """indicator id (as stored) -> its rows as dicts, in table order; built once per table."""
    return _une_fois("par_indicateur", ind, _par_indicateur)


def enregistrements(ind: pd.DataFrame) -> list[dict]:
    """The rows of ``ind`` as dicts (``to_dict("records")``), once per table."""
    return _une_fois("enregistrements", ind, lambda t: t.to_dict("records"))


def _par_indicateur(ind: pd.DataFrame) -> dict[object, list[dict]]:
    out: dict[object, list[dict]] = {}
    for row in enregistrements(ind):
        out.setdefault(row["indicateur"], []).append(row)
    return out


def territoires(ind: pd.DataFrame) -> list[Territoire]:
    """Distinct territories, ordered perimetre, départements, régions, France (then by code)."""
    return list(_une_fois("territoires", ind, _territoires))


def _territoires(ind: pd.DataFrame) -> list[Territoire]:
    rank = {t: i for i, t in enumerate(TERRITOIRE_TYPES)}
    seen: dict[tuple[str, str], Territoire] = {}
    for row in ind[["territoire_type", "territoire_code", "territoire_nom"]].itertuples(index=False):
        t = Territoire(_s(row[0]), _s(row[1]), _s(row[2]) or _s(row[1]))
        seen.setdefault((t.type, t.code), t)
    return sorted(seen.values(), key=lambda t: (rank.get(t.type, len(rank)), t.code))


def catalogue_trie(catalogue: pd.DataFrame) -> pd.DataFrame:
    """The catalogue in report order: by its ``ordre`` column when it has one, else as given."""
    if "ordre" in catalogue.columns:
        return catalogue.sort_values("ordre", kind="stable").reset_index(drop=True)
    return catalogue


def ordre_indicateurs(ind: pd.DataFrame, catalogue: pd.DataFrame) -> list[str]:
    """Indicator ids present in the data: catalogue order first, then unknown ids as they come."""
    return list(_une_fois("ordre_indicateurs", ind, _ordre_indicateurs, catalogue))


def _ordre_indicateurs(ind: pd.DataFrame, catalogue: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(_s(i) for i in ind["indicateur"]))
    catalogue = catalogue_trie(catalogue)
    cat = [_s(i) for i in catalogue["indicateur"]] if "indicateur" in catalogue.columns else []
    ordered = [i for i in dict.fromkeys(cat) if i in set(present)]
    return ordered + [i for i in present if i not in set(ordered)]


def sort_contract(ctx: ReportContext) -> pd.DataFrame:
    """The contract columns only, rows sorted by territory type, code, catalogue order (once per table while
    a report is written: the CSV and its Excel twin both ask)."""
    return _une_fois("contrat", ctx.indicateurs, _sort_contract, ctx.catalogue)


def _sort_contract(ind: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    order = {i: n for n, i in enumerate(ordre_indicateurs(ind, catalogue))}
    rank = {t: i for i, t in enumerate(TERRITOIRE_TYPES)}
    out = ind[CONTRACT_COLUMNS].copy()
    keys = pd.DataFrame(
        {
            "_t": out["territoire_type"].map(rank).fillna(len(rank)),
            "_c": out["territoire_code"].map(_s),
            "_i": out["indicateur"].map(lambda i: order.get(_s(i), len(order))),
        },
        index=out.index,
    )
    keys = keys.sort_values(["_t", "_c", "_i"], kind="stable")
    return out.loc[keys.index].reset_index(drop=True)


def meta(ctx: ReportContext) -> dict[str, dict[str, str]]:
    """id -> libelle, unite, definition, theme; catalogue first, indicator rows as fallback.
    Computed once per context (every table and sentence asks for it)."""
    cached = ctx.__dict__.get("_meta")
    if cached is not None and cached[0] is ctx.indicateurs and cached[1] is ctx.catalogue:
        return cached[2]
    out: dict[str, dict[str, str]] = {}
    ind = ctx.indicateurs
    premiers: dict = {}  # indicator value -> (libelle, unite) of its first row
    for i, libelle, unite in zip(ind["indicateur"], ind["libelle"], ind["unite"]):
        premiers.setdefault(i, (libelle, unite))
    for i in ordre_indicateurs(ind, ctx.catalogue):
        first = premiers.get(i)
        out[i] = {
            "libelle": _s(first[0]) if first is not None else i,
            "unite": _s(first[1]) if first is not None else "",
            "definition": "",
            "theme": "",
        }
    cat = ctx.catalogue
    lignes_cat = cat.to_dict("records")
    if "indicateur" in cat.columns:
        for row in lignes_cat:
            i = _s(row["indicateur"])
            entry = out.setdefault(i, {"libelle": i, "unite": "", "definition": "", "theme": ""})
            for key in ("libelle", "unite", "definition", "theme"):
                if key in cat.columns and _s(row[key]):
                    entry[key] = _s(row[key])
    for entry in out.values():
        entry["decimales"] = str(fmt.decimales(entry["unite"]))
    if "decimales" in cat.columns:  # optional catalogue override
        for row in lignes_cat:
            if not fmt.est_manquant(row["decimales"]) and _s(row["indicateur"]) in out:
                out[_s(row["indicateur"])]["decimales"] = str(int(row["decimales"]))
    ctx.__dict__["_meta"] = (ctx.indicateurs, ctx.catalogue, out)
    return out


def cle_catalogue(ctx: ReportContext, cle: str) -> dict[str, object]:
    """id -> value of the catalogue key ``cle`` (``sens``, ``sujet``, ``lecture``, ``carte``, ``niveau``…): the
    context's catalogue first, then the package catalogue (``indicateurs.toml``, thresholds of the context, defaults
    of ``catalogue.DEFAUTS``); an id with no value anywhere is left out. Computed once per context and key."""
    cache = ctx.__dict__.setdefault("_cles", {})
    hit = cache.get(cle)
    if hit is not None and hit[0] is ctx.catalogue:
        return hit[1]
    out: dict[str, object] = {i: e[cle] for i, e in _catalogue.entrees(ctx.seuils).items()
                              if cle in e and not fmt.est_manquant(e[cle])}
    cat = ctx.catalogue
    if cle in cat.columns and "indicateur" in cat.columns:
        out.update({_s(i): v for i, v in zip(cat["indicateur"], cat[cle]) if not fmt.est_manquant(v) and _s(v)})
    cache[cle] = (ctx.catalogue, out)
    return out


def themes(ctx: ReportContext) -> list[Theme]:
    """Themes in catalogue order, each with the ids present in the data."""
    m = meta(ctx)
    out: dict[str, Theme] = {}
    for i in ordre_indicateurs(ctx.indicateurs, ctx.catalogue):
        cle = m[i]["theme"] or THEME_AUTRE
        out.setdefault(cle, Theme(cle)).indicateurs.append(i)
    # unknown-theme indicators go last
    if THEME_AUTRE in out:
        out[THEME_AUTRE] = out.pop(THEME_AUTRE)
    return list(out.values())


class Index:
    """Fast lookup of one indicator row by territory (``Index.de(ind)``: built once per table)."""

    @classmethod
    def de(cls, ind: pd.DataFrame) -> "Index":
        return _une_fois("index", ind, cls)

    def __init__(self, ind: pd.DataFrame):
        self._rows: dict[tuple[str, str, str], dict] = {}
        for row in enregistrements(ind):
            key = (_s(row["territoire_type"]), _s(row["territoire_code"]), _s(row["indicateur"]))
            self._rows.setdefault(key, row)

    def row(self, t: Territoire, indicateur: str) -> dict | None:
        return self._rows.get((t.type, t.code, indicateur))

    def valeur(self, t: Territoire, indicateur: str) -> float | None:
        """The value if usable in a sentence (status ok or estimation), else None."""
        r = self.row(t, indicateur)
        if r is None or _s(r["statut"]) not in ("ok", "estimation") or fmt.est_manquant(r["valeur"]):
            return None
        return float(r["valeur"])


def lignes(ctx: ReportContext, ids: list[str], terr: list[Territoire] | None = None) -> list[Ligne]:
    """Comparison rows for ``ids``: one cell per territory (each row built once per table while a report is
    written: the document and the workbook both ask)."""
    terr = territoires(ctx.indicateurs) if terr is None else terr
    idx = Index.de(ctx.indicateurs)
    m = meta(ctx)
    faites = _une_fois("lignes", ctx.indicateurs, lambda ind, catalogue: {}, ctx.catalogue)
    colonnes = tuple((t.type, t.code) for t in terr)
    out = []
    for i in ids:
        ligne = faites.get((i, colonnes))
        if ligne is None:
            ligne = faites[(i, colonnes)] = _ligne(i, terr, idx, m[i])
        out.append(ligne)
    return out


def _ligne(i: str, terr: list[Territoire], idx: Index, m: dict[str, str]) -> Ligne:
    dec = int(m["decimales"])
    cells, mill, srcs = [], [], []
    for t in terr:
        r = idx.row(t, i)
        if r is None:
            cells.append(Cellule(float("nan"), "non_disponible", fmt.ND))
            continue
        statut = _s(r["statut"]) or "ok"
        cells.append(Cellule(r["valeur"], statut, fmt.valeur(r["valeur"], m["unite"], statut, decimales_=dec)))
        if _s(r["millesime"]):
            mill.append(_s(r["millesime"]))
        if _s(r["source"]):
            srcs.append(_s(r["source"]))
    return Ligne(indicateur=i, libelle=m["libelle"], unite=m["unite"], cellules=cells,
                 millesime=", ".join(dict.fromkeys(mill)), sources=list(dict.fromkeys(srcs)))


def sources_par_id(ctx: ReportContext) -> dict[str, dict]:
    """source id -> first provenance entry (titre, producteur, ...) plus all its vintages (once per list of
    sources while a report is written)."""
    return _une_fois("sources_par_id", ctx.sources, _sources_par_id)


def _sources_par_id(sources: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for s in sources:
        sid = _s(s.get("source"))
        if not sid:
            continue
        entry = out.setdefault(sid, dict(s) | {"millesimes": []})
        if _s(s.get("millesime")):
            entry["millesimes"].append(_s(s.get("millesime")))
    return out


def composantes(sid: str) -> list[str]:
    """Source ids of a row: ``"cog+contours"`` (an indicator built from two sources) -> both."""
    return [p.strip() for p in str(sid).split("+") if p.strip()]


def producteur_court(producteur: str) -> str:
    """The publisher without its trailing notes: ``"IGN ; mis en forme par ..."`` -> ``"IGN"``."""
    return _s(producteur).split(" ; ")[0].strip()


def nom_source(sid: str, par_id: dict[str, dict]) -> str:
    """Readable source name: ``"DREES – Accessibilité potentielle localisée (APL)"``."""
    parts = composantes(sid)
    if len(parts) > 1:
        return " ; ".join(nom_source(p, par_id) for p in parts)
    s = par_id.get(sid)
    if not s:
        return sid
    prod, titre = producteur_court(_s(s.get("producteur"))), _s(s.get("titre"))
    if prod and titre and not titre.lower().startswith(prod.lower()):
        return f"{prod} – {titre}"
    return titre or prod or sid


# --- communes --------------------------------------------------------------------------

_COMMUNE_LABELS = {
    "code": "Code commune",
    "nom": "Commune",
    "departement": "Département",
    "region": "Région",
}
_SKIP = {"geometry", "perimetre"}


@dataclass
class Colonne:
    cle: str
    libelle: str
    unite: str
    decimales: int | None  # None: text column


def communes_perimetre(ctx: ReportContext) -> tuple[pd.DataFrame, list[Colonne]]:
    """The perimeter's communes without geometry, sorted by département then name (once per report: the
    document and the workbook both ask).

    Numeric columns are labelled from the catalogue when their name is an indicator id.
    """
    return _une_fois("communes", ctx.communes, lambda *_: _communes_perimetre(ctx), ctx.indicateurs, ctx.catalogue)


def _communes_perimetre(ctx: ReportContext) -> tuple[pd.DataFrame, list[Colonne]]:
    c = ctx.communes
    df = pd.DataFrame(c.drop(columns=[k for k in c.columns if k in _SKIP or k == c.geometry.name]))
    df = df[c["perimetre"].fillna(False).astype(bool).to_numpy()]
    df = df.assign(_k=df["nom"].map(fmt.cle_tri)).sort_values(["departement", "_k"], kind="stable")
    df = df.drop(columns="_k").reset_index(drop=True)
    m = meta(ctx)
    cols = []
    for k in df.columns:
        if k in _COMMUNE_LABELS:
            cols.append(Colonne(k, _COMMUNE_LABELS[k], "", None))
        elif pd.api.types.is_numeric_dtype(df[k]) and not pd.api.types.is_bool_dtype(df[k]):
            info = m.get(k)
            if info:
                cols.append(Colonne(k, info["libelle"], info["unite"], int(info["decimales"])))
            else:
                label = k.replace("_", " ").capitalize()
                dec = 0 if pd.api.types.is_integer_dtype(df[k]) else fmt.DECIMALES_DEFAUT
                cols.append(Colonne(k, label, "", dec))
        else:
            cols.append(Colonne(k, k.replace("_", " ").capitalize(), "", None))
    return df, cols


PETIT_EFFECTIF = 30  # a perimeter value computed on fewer cases than this is flagged
MARQUE_PETIT = "†"


def notes_statuts(used: set[str]) -> list[str]:
    """The footnotes explaining the status marks used in a table (n.d., s, italics, †)."""
    notes = []
    if "non_disponible" in used:
        notes.append("n.d. : donnée non disponible.")
    if "secret" in used:
        notes.append("s : secret statistique (effectif trop faible pour être diffusé).")
    if "estimation" in used:
        notes.append("Valeur en italique : estimation (voir les notes de méthode).")
    if "petit" in used:
        notes.append(f"{MARQUE_PETIT} : valeur calculée sur moins de {PETIT_EFFECTIF} cas, à interpréter avec prudence.")
    return notes
