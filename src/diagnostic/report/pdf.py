"""``diagnostic.pdf``: the HTML printed by WeasyPrint (A4, cover, contents, running header, page numbers).

The print layout is the ``@page`` / ``@media print`` part of the template's CSS; this module only
renders it. Fonts come from the system (Debian ``fonts-liberation``, ``fonts-dejavu-core``).
"""

from __future__ import annotations

import logging
from pathlib import Path


def write_pdf(html_path: Path, path: Path, titre: str = "") -> Path:
    import weasyprint  # heavy import, only when a PDF is written

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    doc = weasyprint.HTML(filename=str(html_path), base_url=str(Path(html_path).parent)).render()
    doc.metadata.title = titre or doc.metadata.title
    doc.metadata.lang = "fr"
    doc.write_pdf(str(path))
    return path
