"""Machine-readable and spreadsheet outputs: ``indicateurs.csv`` and ``indicateurs.xlsx``."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd
import xlsxwriter

from ..catalogue import PILOTAGE
from . import fmt
from .context import SOURCE_KEYS, ReportContext
from .document import ids_par_section
from .enquete import feuille as feuille_enquete
from .evolution import sheet_evolution
from .tables import (
    THEME_AUTRE,
    catalogue_trie,
    communes_perimetre,
    lignes,
    meta,
    nom_source,
    notes_statuts,
    sort_contract,
    sources_par_id,
    territoires,
)
from .texte import titre_theme

SOURCE_HEADERS = {
    "source": "Identifiant",
    "titre": "Titre",
    "producteur": "Producteur",
    "licence": "Licence",
    "url": "URL",
    "millesime": "Millésime",
    "fichier": "Fichier",
    "recupere_le": "Récupéré le",
    "octets": "Taille (octets)",
    "sha256": "SHA-256",
    "disponible": "Disponible",
    "preuve_niveau": "Niveau de preuve du format",
    "preuve_appuis": "Preuve : appuis",
    "preuve_verifie_le": "Preuve vérifiée le",
    "preuve_reste": "Reste à vérifier",
}
CATALOGUE_HEADERS = {
    "indicateur": "Identifiant",
    "libelle": "Libellé",
    "unite": "Unité",
    "definition": "Définition",
    "theme": "Thème",
}
CATALOGUE_HIDDEN = {"ordre", *PILOTAGE}  # internal ordering and report keys, not for readers


def _lien(url: str) -> bool:
    """Whether ``url`` may become a clickable link (http(s) only, complete, short enough for Excel)."""
    return url.startswith(("http://", "https://")) and "…" not in url and len(url) < 255


def _nombre_excel(x: object) -> str:
    """``2.2975603`` -> ``"2,29756"``: decimal comma, no thousands separator, at most 6 decimals."""
    if fmt.est_manquant(x):
        return ""
    v = float(x)  # type: ignore[arg-type]
    if math.isinf(v):
        return ""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text).replace(".", ",")


def _contrat(ctx: ReportContext) -> pd.DataFrame:
    """The contract rows, then those of the CPTS's surveys (report/enquete.py)."""
    from .enquete import lignes_contrat

    enq = lignes_contrat(ctx)
    return pd.concat([sort_contract(ctx), enq], ignore_index=True) if len(enq) else sort_contract(ctx)


def write_csv_excel(ctx: ReportContext, path: Path) -> Path:
    """The contract rows for French Excel: ``;`` separator, decimal comma, UTF-8 with BOM, CRLF."""
    df = _contrat(ctx)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(list(df.columns))
        for row in df.itertuples(index=False):
            w.writerow([
                _nombre_excel(v) if k in ("valeur", "numerateur", "denominateur")
                else ("" if fmt.est_manquant(v) else str(v))
                for k, v in zip(df.columns, row)
            ])
    return path


def write_csv(ctx: ReportContext, path: Path) -> Path:
    """The contract, exactly: UTF-8, comma, '.' decimal, contract column order, sorted rows."""
    _contrat(ctx).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


class _Formats:
    """xlsxwriter formats, created once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
        self.base = base
        self.header = wb.add_format(base | {"bold": True, "bg_color": "#dfe8f1", "text_wrap": True,
                                            "bottom": 1, "valign": "vcenter"})
        self.text = wb.add_format(base)
        self.wrap = wb.add_format(base | {"text_wrap": True})
        self.nd = wb.add_format(base | {"align": "right", "font_color": "#808080"})
        self.code = wb.add_format(base | {"num_format": "@"})
        self.url = wb.add_format(base | {"font_color": "#1f5f9f", "underline": 1})
        self.note = wb.add_format(base | {"italic": True, "font_color": "#505050"})
        self._num: dict[tuple, object] = {}

    def num(self, decimales: int, signe: bool = False, italic: bool = False, bold: bool = False):
        key = (decimales, signe, italic, bold)
        if key not in self._num:
            f = fmt.format_excel(decimales)
            if signe:
                zero = "0" if decimales <= 0 else "0." + "0" * decimales
                f = f"+{f};-{f};{zero}"
            self._num[key] = self.wb.add_format(
                self.base | {"num_format": f, "italic": italic, "bold": bold}
            )
        return self._num[key]


def nom_onglet(numero: int, titre: str) -> str:
    """Excel sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    name = re.sub(r"[\[\]:*?/\\]", "-", f"{numero}. {titre}")
    return name[:31].rstrip()


def _sheet_indicateurs(wb, F: _Formats, ctx: ReportContext, name: str, ids: list[str], vide: str = "") -> None:
    """One section: a comparison row per indicator (territory columns), numbers as numbers."""
    ws = wb.add_worksheet(name)
    terr = territoires(ctx.indicateurs)
    m = meta(ctx)
    par_id = sources_par_id(ctx)
    headers = ["Thème", "Indicateur", "Unité"] + [t.libelle for t in terr] + ["Millésime", "Source", "Identifiant"]
    ws.write_row(0, 0, headers, F.header)
    ws.set_row(0, 32)
    used = set()
    for r, ligne in enumerate(lignes(ctx, ids, terr), start=1):
        dec = int(m[ligne.indicateur]["decimales"])
        signe = fmt.cle_tri(ligne.unite) == "points"
        theme = m[ligne.indicateur]["theme"]
        ws.write_string(r, 0, titre_theme(theme) if theme else THEME_AUTRE, F.wrap)
        ws.write_string(r, 1, ligne.libelle, F.wrap)
        ws.write_string(r, 2, ligne.unite, F.wrap)
        for c, (t, cell) in enumerate(zip(terr, ligne.cellules), start=3):
            if cell.statut in ("ok", "estimation") and not fmt.est_manquant(cell.valeur):
                ws.write_number(r, c, float(cell.valeur),
                                F.num(dec, signe, italic=cell.statut == "estimation", bold=t.type == "perimetre"))
                if cell.statut == "estimation":
                    used.add("estimation")
            else:
                ws.write_string(r, c, cell.texte, F.nd)
                used.add(cell.statut if cell.statut == "secret" else "non_disponible")
        c = 3 + len(terr)
        ws.write_string(r, c, ligne.millesime, F.text)
        ws.write_string(r, c + 1, " ; ".join(nom_source(s, par_id) for s in ligne.sources), F.wrap)
        ws.write_string(r, c + 2, ligne.indicateur, F.text)
    last = len(ids)
    ws.autofilter(0, 0, max(last, 1), len(headers) - 1)
    ws.freeze_panes(1, 2)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 42)
    ws.set_column(2, 2, 28)
    ws.set_column(3, 2 + len(terr), 17)
    ws.set_column(3 + len(terr), 3 + len(terr), 11)
    ws.set_column(4 + len(terr), 4 + len(terr), 45)
    ws.set_column(5 + len(terr), 5 + len(terr), 26)
    notes = notes_statuts(used)
    if not ids and vide:
        notes.append(f"Section à compléter : {vide}")
    notes.append(f"Territoire : {ctx.nom}. Produit le {fmt.date_fr(ctx.produit_le)} ; définitions dans l'onglet « Définitions », "
                 "sources dans l'onglet « Sources ».")
    for k, n in enumerate(notes):
        ws.write_string(last + 2 + k, 1, n, F.note)


def _sheet_communes(wb, F: _Formats, ctx: ReportContext) -> None:
    ws = wb.add_worksheet("Communes")
    df, cols = communes_perimetre(ctx)
    headers = [f"{c.libelle} ({c.unite})" if c.unite else c.libelle for c in cols]
    ws.write_row(0, 0, headers, F.header)
    ws.set_row(0, 32)
    for r, row in enumerate(df.itertuples(index=False), start=1):
        for k, (c, v) in enumerate(zip(cols, row)):
            if c.decimales is None:
                ws.write_string(r, k, "" if fmt.est_manquant(v) else str(v), F.code if c.cle == "code" else F.text)
            elif fmt.est_manquant(v):
                ws.write_blank(r, k, None, F.text)
            else:
                ws.write_number(r, k, float(v), F.num(c.decimales))
    ws.autofilter(0, 0, max(len(df), 1), len(cols) - 1)
    ws.freeze_panes(1, 2)
    for k, c in enumerate(cols):
        width = {"code": 13, "nom": 32, "departement": 13, "region": 10}.get(c.cle, 18)
        ws.set_column(k, k, width)


def _sheet_sources(wb, F: _Formats, ctx: ReportContext) -> None:
    ws = wb.add_worksheet("Sources")
    keys = list(SOURCE_KEYS) + [k for s in ctx.sources for k in s if k not in SOURCE_KEYS]
    keys = list(dict.fromkeys(keys))
    ws.write_row(0, 0, [SOURCE_HEADERS.get(k, k) for k in keys], F.header)
    ws.set_row(0, 20)
    for r, s in enumerate(ctx.sources, start=1):
        for c, k in enumerate(keys):
            v = s.get(k)
            if fmt.est_manquant(v) or v == "":
                ws.write_blank(r, c, None, F.text)
            elif isinstance(v, bool):
                ws.write_string(r, c, "oui" if v else "non", F.text)
            elif isinstance(v, (list, tuple)):
                ws.write_string(r, c, " ; ".join(map(str, v)), F.text)
            elif k == "octets" and isinstance(v, (int, float)):
                ws.write_number(r, c, float(v), F.num(0))
            elif k == "url" and _lien(str(v)):
                ws.write_url(r, c, str(v), F.url, string=str(v))
            else:
                ws.write_string(r, c, str(v), F.text)
    ws.autofilter(0, 0, max(len(ctx.sources), 1), len(keys) - 1)
    ws.freeze_panes(1, 1)
    widths = {"source": 18, "titre": 40, "producteur": 22, "licence": 18, "url": 60, "millesime": 11,
              "fichier": 36, "recupere_le": 20, "octets": 14, "sha256": 66}
    for c, k in enumerate(keys):
        ws.set_column(c, c, widths.get(k, 18))


def _sheet_definitions(wb, F: _Formats, ctx: ReportContext) -> None:
    ws = wb.add_worksheet("Définitions")
    cat = catalogue_trie(ctx.catalogue)
    keys = [k for k in CATALOGUE_HEADERS if k in cat.columns]
    keys += [k for k in cat.columns if k not in CATALOGUE_HEADERS and k not in CATALOGUE_HIDDEN]
    ws.write_row(0, 0, [CATALOGUE_HEADERS.get(k, k) for k in keys], F.header)
    ws.set_row(0, 20)
    for r, row in enumerate(cat[keys].itertuples(index=False), start=1):
        for c, (k, v) in enumerate(zip(keys, row)):
            text = "" if fmt.est_manquant(v) else str(v)
            ws.write_string(r, c, titre_theme(text) if k == "theme" and text else text, F.wrap)
    ws.autofilter(0, 0, max(len(cat), 1), len(keys) - 1)
    ws.freeze_panes(1, 1)
    widths = {"indicateur": 26, "libelle": 40, "unite": 28, "definition": 90, "theme": 24}
    for c, k in enumerate(keys):
        ws.set_column(c, c, widths.get(k, 20))


def write_xlsx(ctx: ReportContext, path: Path) -> Path:
    """Human-friendly twin of the CSV: one sheet per section (wide), Communes, Sources, Définitions."""
    # in_memory: the sheets' XML assembled in memory, not in temporary files (same parts; issue 16)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_urls": False, "strings_to_numbers": False, "in_memory": True})
    wb.set_properties({"title": f"{ctx.nom} — indicateurs du diagnostic territorial",
                       "subject": "Diagnostic territorial de CPTS", "comments": ctx.description,
                       "created": pd.Timestamp(ctx.produit_le).to_pydatetime()})
    F = _Formats(wb)
    for n, (plan, ids) in enumerate(ids_par_section(ctx), start=1):
        _sheet_indicateurs(wb, F, ctx, nom_onglet(n, plan.titre), ids, plan.vide)
    feuille_enquete(wb, ctx)  # the CPTS's surveys (report/enquete.py), when there are some
    sheet_evolution(wb, F, ctx)
    _sheet_communes(wb, F, ctx)
    _sheet_sources(wb, F, ctx)
    _sheet_definitions(wb, F, ctx)
    wb.close()
    return path
