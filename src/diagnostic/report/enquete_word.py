"""The blocks of a survey section in ``diagnostic.docx`` (same order as ``templates/enquete.html.j2``)."""

from __future__ import annotations

from .word import _figure, _petit, _table_simple


def blocs(doc, items: list[dict]) -> None:
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
