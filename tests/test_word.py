"""The Word file's zip (issue 16): the images are stored as they are (PNG is deflated already), every part holds
the bytes python-docx's own ``Document.save`` writes, and python-docx reads the file back."""

from __future__ import annotations

import zipfile

import docx

from test_report import make_ctx

from diagnostic.report import document as modele
from diagnostic.report import word
from diagnostic.report.maps import carte_situation


def test_images_stored_and_parts_as_python_docx_writes_them(tmp_path, monkeypatch):
    ctx = make_ctx()
    carte = carte_situation(ctx, tmp_path / "cartes")
    doc = modele.document(ctx, [carte])
    ecrit = word.write_docx(doc, tmp_path / "rapide.docx")
    monkeypatch.setattr(word, "_enregistrer", lambda d, path: d.save(str(path)))  # python-docx's own zip writer
    word.write_docx(doc, tmp_path / "python_docx.docx")
    rapide, reference = zipfile.ZipFile(ecrit), zipfile.ZipFile(tmp_path / "python_docx.docx")
    assert rapide.namelist() == reference.namelist()
    medias = [n for n in rapide.namelist() if n.startswith("word/media/")]
    assert medias
    for info in rapide.infolist():
        attendu = zipfile.ZIP_STORED if info.filename in medias else zipfile.ZIP_DEFLATED
        assert info.compress_type == attendu, info.filename
        assert rapide.read(info.filename) == reference.read(info.filename), info.filename
    relu = docx.Document(str(ecrit))
    assert len(relu.inline_shapes) == len(medias)


def _table_python_docx(doc, entetes, lignes, largeurs_mm, num):
    """The oracle: the same table built cell by cell through python-docx's API (add_row, add_run, cell.width)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    def texte(cell, t, bold=False, sub=""):
        p = cell.paragraphs[0]
        p.paragraph_format.space_after = Pt(0)
        if num[k]:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        r = p.add_run()
        r.bold, r.italic = bold, False
        r.font.size = Pt(8)
        r.text = t
        if sub:
            r2 = p.add_run()
            r2.font.size = Pt(6.5)
            r2.font.color.rgb = word.GRIS
            r2.text = "\n" + sub

    t = doc.add_table(rows=1, cols=len(entetes))
    t.style = "Table Grid"
    t.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader", {qn("w:val"): "true"}))
    for k, (cell, h) in enumerate(zip(t.rows[0].cells, entetes)):
        texte(cell, h, bold=True)
        cell._tc.get_or_add_tcPr().append(OxmlElement("w:shd", {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): "DFE8F1"}))
    for ligne in lignes:
        row = t.add_row()
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for k, (cell, v) in enumerate(zip(row.cells, ligne)):
            texte(cell, v)
    for row in t.rows:
        for k, cell in enumerate(row.cells):
            cell.width = Mm(largeurs_mm[k])


def test_table_rows_are_the_xml_python_docx_writes():
    """``word._table_simple`` writes its rows as XML text parsed once (issue 16): the same XML as python-docx's
    cell-by-cell API, outer blanks, tabs, line breaks and markup characters included."""
    from docx import Document
    from lxml import etree

    entetes = ["Nom", "Valeur (€)", " marge "]
    lignes = [["Saint-Rémy & <Chalon>", "1 234,5", "a\tb"], ["  deux lignes\nici ", "", "\"guillemets\" 'x'"]]
    largeurs, num = [50.5, 30, 99.5], [False, True, True]
    rapide, oracle = Document(), Document()
    word._table_simple(rapide, entetes, lignes, largeurs, num)
    _table_python_docx(oracle, entetes, lignes, largeurs, num)
    xml = [etree.tostring(d.element.body.tbl_lst[0]) for d in (rapide, oracle)]
    assert xml[0] == xml[1]
    assert b"<w:tab/>" in xml[0] and b"<w:br/>" in xml[0] and b'xml:space="preserve"' in xml[0]
