"""``diagnostic.docx``: the same document for Word (python-docx), so coordinators can edit it.

Laid out from the document model (``document.py``): headings (Word styles "Heading 1/2/3", so
Word's navigation pane and table of contents work), comparison tables, maps with their caption,
"Source :" and "Lecture :" lines, synthesis and annexes.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path
from xml.sax.saxutils import escape
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import nsdecls, nsmap, qn
from docx.oxml.parser import parse_xml
from docx.shared import Length, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from .docx_texte import _SEPARATEURS

BLEU = RGBColor(0x1F, 0x4E, 0x79)
GRIS = RGBColor(0x5F, 0x5F, 0x5F)
LARGEUR = Mm(180)  # A4 minus 15 mm margins


def _keep_with_next(p) -> None:
    p.paragraph_format.keep_with_next = True


def _petit(p, text: str, italic: bool = False, color: RGBColor = GRIS, size: float = 8.5):
    run = p.add_run(text)
    run.font.size = Pt(size)
    run.italic = italic
    run.font.color.rgb = color
    return run


def _para(doc, text: str = "", *, italic: bool = False, size: float | None = None, color=None, bold_prefix: str = ""):
    p = doc.add_paragraph()
    if bold_prefix:
        r = p.add_run(bold_prefix)
        r.bold = True
        if size:
            r.font.size = Pt(size)
    r = p.add_run(text)
    r.italic = italic
    if size:
        r.font.size = Pt(size)
    if color is not None:
        r.font.color.rgb = color
    return p


@functools.cache
def _proprietes(tag: str, bold: bool = False, italic: bool = False, size: float = 8.5, align=None, color=None) -> str:
    """The ``w:pPr`` (paragraph) or ``w:rPr`` (run) python-docx writes for this formatting, as XML text (once per
    formatting: a table cell is written as text, see ``_ligne``)."""
    if tag == "w:pPr":
        p = Paragraph(OxmlElement("w:p"), None)
        p.paragraph_format.space_after = Pt(0)
        if align is not None:
            p.alignment = align
        element = p._p.pPr
    else:
        r = Run(OxmlElement("w:r"), None)
        if bold is not None:
            r.bold, r.italic = bold, italic
        r.font.size = Pt(size)
        if color is not None:
            r.font.color.rgb = color
        element = r._r.rPr
    return etree.tostring(element, encoding="unicode").replace(f' xmlns:w="{nsmap["w"]}"', "")


def _texte_run(texte: str) -> str:
    """A run's content as python-docx writes it (``docx_texte``): ``w:t`` (``xml:space`` when the text has outer
    blanks), ``w:tab`` for a tab, ``w:br`` for a line break."""
    xml = []
    for morceau in _SEPARATEURS.split(texte):
        if morceau == "\t":
            xml.append("<w:tab/>")
        elif morceau in ("\r", "\n"):
            xml.append("<w:br/>")
        elif morceau:
            espace = ' xml:space="preserve"' if len(morceau.strip()) < len(morceau) else ""
            xml.append(f"<w:t{espace}>{escape(morceau)}</w:t>")
    return "".join(xml)


def _cellule(largeur: int, texte: str, *, bold: bool = False, italic: bool = False, size: float = 8.5, align=None,
             sub: str = "", color=None, fond: str | None = None) -> str:
    """A ``w:tc``: width (twips), shading, one paragraph with the text and, under it in small grey, ``sub``."""
    shd = f'<w:shd w:val="clear" w:color="auto" w:fill="{fond}"/>' if fond else ""
    runs = f"<w:r>{_proprietes('w:rPr', bold, italic, size, color=color)}{_texte_run(texte)}</w:r>"
    if sub:
        runs += f"<w:r>{_proprietes('w:rPr', None, size=size - 1.5, color=GRIS)}{_texte_run(chr(10) + sub)}</w:r>"
    return (f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{largeur}"/>{shd}</w:tcPr>'
            f"<w:p>{_proprietes('w:pPr', align=align)}{runs}</w:p></w:tc>")


def _lignes(table, lignes: list[list[str]]) -> None:
    """Replace the rows of a new ``table`` by ``lignes`` (each a header row first, then ``w:tc`` texts): the XML
    python-docx writes cell by cell (``add_row``, ``add_run``, ``cell.width``), parsed once (issue 16: a table of
    100 rows has 500 cells)."""
    tbl = table._tbl
    for tr in tbl.tr_lst:
        tbl.remove(tr)
    propres = ['<w:trPr><w:tblHeader w:val="true"/></w:trPr>'] + ["<w:trPr><w:cantSplit/></w:trPr>"] * (len(lignes) - 1)
    xml = "".join(f"<w:tr>{pr}{''.join(cellules)}</w:tr>" for pr, cellules in zip(propres, lignes))
    for tr in list(parse_xml(f"<w:tbl {nsdecls('w')}>{xml}</w:tbl>")):
        tbl.append(tr)


def _table_comparaison(doc, colonnes: list[dict], lignes: list[dict], marque_petit: str) -> None:
    t = doc.add_table(rows=1, cols=1 + len(colonnes))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    first = Mm(60).twips
    other = Length(int((LARGEUR - Mm(60)) / max(len(colonnes), 1))).twips
    droite = WD_ALIGN_PARAGRAPH.RIGHT
    rangs = [[_cellule(first, "Indicateur", bold=True, fond="DFE8F1")]
             + [_cellule(other, c["libelle"], bold=True, align=droite, sub=c["type"], fond="DFE8F1") for c in colonnes]]
    for l in lignes:
        rangs.append([_cellule(first, l["libelle"], sub=l["unite"])] + [
            _cellule(other, c["texte"] + (marque_petit if c["petit"] else ""), bold=c["perim"],
                     italic=c["statut"] == "estimation", align=droite,
                     color=GRIS if c["statut"] in ("non_disponible", "secret") else None,
                     fond="EAF2FA" if c["perim"] else None)
            for c in l["cellules"]])
    _lignes(t, rangs)


def _table_simple(doc, headers: list[str], rows: list[list[str]], widths_mm: list[float], num: list[bool]) -> None:
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    largeurs = [Mm(w).twips for w in widths_mm]
    aligns = [WD_ALIGN_PARAGRAPH.RIGHT if n else None for n in num]
    rangs = [[_cellule(largeurs[k], h, bold=True, size=8, align=aligns[k], fond="DFE8F1") for k, h in enumerate(headers)]]
    rangs += [[_cellule(largeurs[k], v, size=8, align=aligns[k]) for k, v in enumerate(r)] for r in rows]
    _lignes(t, rangs)


def _figure(doc, f: dict) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _keep_with_next(p)
    with open(f["png"], "rb") as png:  # width and height from the PNG header (IHDR), without importing PIL
        w, h = struct.unpack(">II", png.read(24)[16:24])
    width = LARGEUR if h / w * 180 <= 215 else Mm(215 * w / h)  # fit a page
    p.add_run().add_picture(str(f["png"]), width=width)
    cap = doc.add_paragraph()
    _petit(cap, f["legende"])
    if f.get("lecture"):
        _keep_with_next(cap)
        _petit(doc.add_paragraph(), f["lecture"], italic=True, color=RGBColor(0x1E, 0x1E, 0x1E))


def _footer_page_numbers(section, texte: str) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _petit(p, f"{texte} — page ")
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    run.font.size = Pt(8.5)


def write_docx(doc_model: dict, path: Path) -> Path:
    from .docx_texte import par_segments

    with par_segments():  # same XML, without python-docx's loop per character (issue 16)
        return _write_docx(doc_model, path)


def _write_docx(doc_model: dict, path: Path) -> Path:
    d = doc_model
    doc = Document()
    # python-docx finds a style by name (XPath over styles.xml) at every heading, bullet and table: once per name
    doc.part.get_style_id = functools.cache(doc.part.get_style_id)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.left_margin = sec.right_margin = Mm(15)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(18)
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    for name, size in (("Heading 1", 15), ("Heading 2", 12.5), ("Heading 3", 11)):
        st = doc.styles[name]
        st.font.name = "Arial"
        st.font.size = Pt(size)
        st.font.color.rgb = BLEU
    doc.core_properties.title = f"{d['nom']} — Diagnostic territorial"
    doc.core_properties.language = "fr-FR"
    sec.header.paragraphs[0].text = f"{d['nom']} — diagnostic territorial"
    sec.header.paragraphs[0].runs[0].font.size = Pt(8)
    _footer_page_numbers(sec, f"Produit le {d['produit_le']}")

    # cover
    for _ in range(6):
        doc.add_paragraph()
    _petit(doc.add_paragraph(), "PROJET DE SANTÉ — DIAGNOSTIC TERRITORIAL", size=10)
    title = doc.add_paragraph()
    r = title.add_run(d["nom"])
    r.bold, r.font.size, r.font.color.rgb = True, Pt(26), BLEU
    _para(doc, "Diagnostic territorial à partir des données ouvertes", size=13)
    _para(doc, d["intro"]["communes"], bold_prefix="Communes : ")
    if d["intro"]["departements"]:
        _para(doc, d["intro"]["departements"], bold_prefix="Département(s) : ")
    _para(doc, d["produit_le"], bold_prefix="Produit le : ")
    _para(doc, d["date_donnees"], bold_prefix="Données au : ")
    if d["description"]:
        _para(doc, d["description"], size=9, color=GRIS)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # contents (static list: Word can insert a live table of contents from the headings)
    doc.add_heading("Sommaire", level=1)
    for s in d["sections"]:
        doc.add_paragraph(f"{s['numero']}. {s['titre']}")
    doc.add_paragraph(f"{d['synthese']['numero']}. {d['synthese']['titre']}")
    doc.add_paragraph("Annexes : " + " ; ".join(a[1] for a in d["annexes"]))
    doc.add_heading("Présentation", level=1)
    intro = f"Le territoire compte {d['intro']['communes']}"
    if d["intro"]["comparateurs"]:
        intro += f" ; ses indicateurs sont comparés à ceux {d['intro']['comparateurs']}"
    doc.add_paragraph(intro + ".")
    doc.add_paragraph(f"Document produit le {d['produit_le']} à partir de données ouvertes ; chaque chiffre renvoie à "
                      "sa source et à son millésime (annexe B), chaque indicateur est défini en annexe A. La liste des "
                      "communes figure en annexe D.")

    for s in d["sections"]:
        doc.add_section(WD_SECTION.NEW_PAGE)
        doc.add_heading(f"{s['numero']}. {s['titre']}", level=1)
        if s.get("blocs"):  # the CPTS's surveys
            _blocs(doc, s["blocs"])
        for p in s.get("introduction") or []:
            doc.add_paragraph(p)
        if s["lignes"]:
            _table_comparaison(doc, d["colonnes"], s["lignes"], d["marque_petit"])
            if s["notes"]:
                _petit(doc.add_paragraph(), " ".join(s["notes"]))
            _petit(doc.add_paragraph(), s["source"])
            if s["lecture"]:
                _petit(doc.add_paragraph(), s["lecture"], italic=True, color=RGBColor(0x1E, 0x1E, 0x1E))
        if s["vide"]:
            _para(doc, s["vide"], size=9, bold_prefix="Section à compléter. ")
        if s["non_disponibles"]:
            _para(doc, "les indicateurs suivants, prévus dans cette section, seront ajoutés dès que la source "
                  "sera intégrée :", size=9, bold_prefix="Source non disponible dans cette édition ; ")
            for g in s["non_disponibles"]:
                p = doc.add_paragraph(style="List Bullet")
                r = p.add_run(g["source"] + (f" ({g['raison']})" if g["raison"] else "") + " : ")
                r.italic, r.font.size = True, Pt(9)
                p.add_run(" ; ".join(g["indicateurs"]) + ".").font.size = Pt(9)
        if s.get("absents_du_fichier"):
            _para(doc, "la source a bien été téléchargée, mais elle ne contient pas les indicateurs suivants "
                  "(nomenclature ou champ modifiés ?) :", size=9, bold_prefix="Valeurs absentes des fichiers reçus : ")
            for g in s["absents_du_fichier"]:
                p = doc.add_paragraph(style="List Bullet")
                r = p.add_run(g["source"] + " : ")
                r.italic, r.font.size = True, Pt(9)
                p.add_run(" ; ".join(g["indicateurs"]) + ".").font.size = Pt(9)
        for f in s["figures"]:
            _figure(doc, f)
        for m in s["cartes_manquantes"]:
            _para(doc, m, size=9, color=RGBColor(0xA0, 0x30, 0x2D))
        for li in s.get("listes", []):
            doc.add_heading(li["titre"], level=2)
            largeurs = li.get("largeurs") or [38, 70, 42, 30]
            largeurs = [180 * x / sum(largeurs) for x in largeurs]
            _table_simple(doc, li["entetes"], li["lignes"], largeurs, [False] * len(largeurs))
            if li["note"]:
                _petit(doc.add_paragraph(), li["note"])
            _petit(doc.add_paragraph(), li["source"])
        for sj in s["sujets"]:
            _para(doc, sj["texte"], size=9, bold_prefix=f"{sj['libelle']}. ")
        if s.get("rezone"):
            _petit(doc.add_paragraph(), s["rezone"])

    y = d["synthese"]
    doc.add_section(WD_SECTION.NEW_PAGE)
    doc.add_heading(f"{y['numero']}. {y['titre']}", level=1)
    doc.add_paragraph(y["intro"])
    if y.get("evolution"):
        doc.add_paragraph(y["evolution"])
    if y["sans_departement"]:
        doc.add_paragraph("Aucun département de comparaison n'est disponible : la synthèse n'a pas pu être calculée.")
    else:
        for titre, items, vide in (
            ("Points d'appui", y["appuis"], "Aucun indicateur disponible ne situe le territoire nettement au-dessus "
                                            "de son département dans un sens favorable."),
            ("Points de vigilance", y["vigilances"], "Aucun indicateur disponible ne situe le territoire nettement "
                                                     "en retrait de son département."),
            ("Autres écarts marqués (éléments de contexte)", y["contexte"], None),
        ):
            if not items and vide is None:
                continue
            doc.add_heading(titre, level=2)
            if not items:
                doc.add_paragraph(vide)
            for p in items:
                para = doc.add_paragraph(style="List Bullet")
                para.add_run(p["libelle"] + " : ").bold = True
                para.add_run(p["texte"])
        if y["proches"]:
            doc.add_paragraph("Proches du département (écart inférieur à la marge) : " + " ; ".join(y["proches"]) + ".")
    _petit(doc.add_paragraph(), y["limites"])

    doc.add_section(WD_SECTION.NEW_PAGE)
    doc.add_heading("Annexes", level=1)
    doc.add_heading(d["annexes"][0][1], level=2)
    for g in d["definitions"]:
        doc.add_heading(g["titre"], level=3)
        for e in g["entrees"]:
            p = doc.add_paragraph()
            p.add_run(e["libelle"] + (f" ({e['unite']})" if e["unite"] else "")).bold = True
            _petit(p, f" — {e['id']}")
            p.add_run("\n" + (e["definition"] or "Définition non renseignée.")).font.size = Pt(9)
    doc.add_heading(d["annexes"][1][1], level=2)
    rows = []
    for s in d["sources"]:
        nom = (f"{s['producteur']} — " if s["producteur"] else "") + (s["titre"] or s["id"])
        recup = s["recupere_le"] if s["disponible"] else "non récupéré" + (f" ({s['raison']})" if s["raison"] else "")
        rows.append([nom, s["millesime"], s["licence"], f"{s['fichier']}\n{s['url']}".strip(), recup, s["taille"]])
    _table_simple(doc, ["Source", "Millésime", "Licence", "Fichier et adresse", "Récupéré le", "Taille"], rows,
                  [45, 17, 20, 58, 22, 18], [False] * 5 + [True])
    if d.get("preuves"):
        doc.add_heading("Vérification du format de chaque source", level=3)
        rows = [[f"{p['titre']}\n{p['id']}", p["niveau"] + (f"\n{p['sens']}" if p["sens"] else ""), p["verifie_le"] or "—",
                 "\n".join(p["appuis"] + ([f"Reste à vérifier : {p['reste']}"] if p["reste"] else []))]
                for p in d["preuves"]]
        _table_simple(doc, ["Source", "Niveau de preuve", "Vérifié le", "Sur quoi repose la lecture, et ce qui reste à vérifier"],
                      rows, [40, 28, 18, 94], [False] * 4)
    doc.add_heading(d["annexes"][2][1], level=2)
    for n in d["methode"]:
        _para(doc, n["texte"], size=9.5, bold_prefix=n["titre"] + ". ")
    doc.add_heading(d["annexes"][3][1], level=2)
    cols = d["communes"]["colonnes"]
    heads = [c["libelle"] + (f" ({c['unite']})" if c["unite"] else "") for c in cols]
    widths = [{"code": 20, "nom": 45, "departement": 20}.get(c["cle"], 0) for c in cols]
    rest = [k for k, w in enumerate(widths) if not w]
    reste = (180 - sum(widths)) / max(len(rest), 1)
    for k in rest:
        widths[k] = reste
    _table_simple(doc, heads, [[c["texte"] for c in r] for r in d["communes"]["lignes"]], widths,
                  [c["num"] for c in cols])
    _enregistrer(doc, path)
    return path


class _ZipImagesStockees:
    """python-docx's zip writer (``docx.opc.phys_pkg._ZipPkgWriter``) with the images stored as they are: PNG is
    deflated already, deflating it again cost 0.12 s CPU for 2 % of size (issue 16); the XML parts are deflated."""

    def __init__(self, pkg_file):
        self._zipf = ZipFile(pkg_file, "w", compression=ZIP_DEFLATED)

    def write(self, pack_uri, blob) -> None:
        nom = pack_uri.membername
        self._zipf.writestr(nom, blob, compress_type=ZIP_STORED if nom.startswith("word/media/") else None)

    def close(self) -> None:
        self._zipf.close()


def _enregistrer(doc, path: Path) -> None:
    """``doc.save(path)`` through ``_ZipImagesStockees``: the same parts, the images not deflated again."""
    from docx.opc import pkgwriter

    avant = pkgwriter.PhysPkgWriter
    pkgwriter.PhysPkgWriter = _ZipImagesStockees
    try:
        doc.save(str(path))
    finally:
        pkgwriter.PhysPkgWriter = avant


def _blocs(doc, items: list[dict]) -> None:
    """The blocks of a survey section (same order as ``templates/enquete.html.j2``)."""
    for b in items:
        doc.add_heading(b["titre"], level=2)
        for texte in b["paragraphes"]:
            doc.add_paragraph(texte)
        for li in b["listes"]:
            if li["titre"]:
                doc.add_heading(li["titre"], level=3)
            _table_simple(doc, li["entetes"], li["lignes"], li["largeurs_mm"], li["num"])
            if li["note"]:
                _petit(doc.add_paragraph(), li["note"])
            _petit(doc.add_paragraph(), li["source"])
        for f in b["figures"]:
            _figure(doc, f)
