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
