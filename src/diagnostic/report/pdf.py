"""``diagnostic.pdf``: the HTML printed by WeasyPrint (A4, cover, contents, running header, page numbers).

The print layout is the ``@page`` / ``@media print`` part of the template's CSS; this module only
renders it. Fonts come from the system (Debian ``fonts-liberation``, ``fonts-dejavu-core``).

Four things keep the PDF cheap (issue 16), none changes a pixel:

- it is printed by a process of its own (``atelier``), forked when the report starts: that process imports
  WeasyPrint and prints a page of a few words (``echauffer``) while this one draws and writes the rest, then
  prints the report beside the Word file and the HTML;
- the HTML printed is the document rendered with its figures as file references (``image_fichier``), not
  the self-contained ``diagnostic.html`` whose base64 images WeasyPrint would parse and decode (7 MB);
- a figure's PNG goes into the PDF as it is: WeasyPrint decodes each PNG and encodes it again to get its
  compressed pixel rows (a third of the PDF's time for the CPTS report), while for an 8-bit grey or RGB,
  non-interlaced PNG those rows already are the PNG's ``IDAT`` data, which a PDF ``FlateDecode`` stream with
  the PNG predictor takes as they are (``idat``). Any other PNG (alpha, palette, 16 bits, interlaced) goes
  through WeasyPrint's own path;
- the objects already in the process (modules, data frames, the report's context: some 200 000) are set
  aside from the garbage collector while WeasyPrint works (``gc.freeze``): its millions of allocations
  trigger collections that would walk them all every time (half a second for the CPTS report).
"""

from __future__ import annotations

import gc
import io
import logging
import multiprocessing
import struct
from pathlib import Path
from typing import Any

from .parallele import Travaux

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_fichier(path: Path) -> str:
    """An image of the printed HTML: its file's URL (the ``data_uri`` of the self-contained HTML)."""
    return Path(path).resolve().as_uri()


def idat(png: bytes) -> bytes | None:
    """The pixel rows of an 8-bit grey or RGB, non-interlaced PNG, still compressed (its ``IDAT`` chunks
    joined): what a PDF image stream with ``/FlateDecode`` and ``/Predictor 15`` holds. None for any other
    PNG, or one whose chunks do not add up."""
    if not png.startswith(_SIGNATURE) or png[12:16] != b"IHDR" or len(png) < 33:
        return None
    _, _, profondeur, couleur, compression, filtre, entrelace = struct.unpack("!IIBBBBB", png[16:29])
    if profondeur != 8 or couleur not in (0, 2) or (compression, filtre, entrelace) != (0, 0, 0):
        return None
    morceaux, pos = [], 8
    while pos + 8 <= len(png):
        (longueur,) = struct.unpack("!I", png[pos:pos + 4])
        nature = png[pos + 4:pos + 8]
        if pos + 12 + longueur > len(png):
            return None
        if nature == b"IDAT":
            morceaux.append(png[pos + 8:pos + 8 + longueur])
        elif nature == b"IEND":
            return b"".join(morceaux) if morceaux else None
        pos += 12 + longueur
    return None


def _installer_idat() -> None:
    """Have WeasyPrint take the ``IDAT`` data of such PNGs as they are (``RasterImage._get_png_data``,
    which receives the PNG opened by Pillow and not yet decoded, re-encodes it otherwise). Checked on
    WeasyPrint 70 (``tests/test_pdf.py`` compares the images of the PDF with the PNGs); if the hook is
    not there, WeasyPrint's path stays."""
    from PIL import PngImagePlugin
    from weasyprint import images

    image = getattr(images, "RasterImage", None)
    origine = getattr(image, "_get_png_data", None)
    if origine is None or getattr(origine, "diagnostic_idat", False):
        return

    def _get_png_data(pillow_image):
        fp = getattr(pillow_image, "fp", None)
        if isinstance(pillow_image, PngImagePlugin.PngImageFile) and isinstance(fp, io.BytesIO) \
                and pillow_image.mode in ("L", "RGB"):
            donnees = idat(fp.getvalue())
            if donnees is not None:
                return donnees
        return origine(pillow_image)

    _get_png_data.diagnostic_idat = True
    image._get_png_data = staticmethod(_get_png_data)


def preparer() -> None:
    """Import WeasyPrint (a third of a second) and set it up: done early, while the figures are drawn."""
    import weasyprint  # noqa: F401 - heavy import, only when a PDF is written

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    _installer_idat()


_ESSAI = ("<html lang='fr'><body style=\"font-family: 'Liberation Sans'\"><p>Été <strong>gras</strong> <em>italique</em> "
          "<code style=\"font-family: 'DejaVu Sans Mono'\">code</code></p><table style='border-collapse: collapse'>"
          "<tr><td style='border: 1px solid'>1</td></tr></table><img src='data:image/png;base64,"
          "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC'></body></html>")


_echauffe: list[bool] = []  # this process printed _ESSAI


def echauffer() -> None:
    """``preparer``, then print a page of a few words, once per process (its fonts found and opened, the C types
    of the text and font libraries parsed): the next PDF is that much quicker (0.14 s for the CPTS report)."""
    preparer()
    if not _echauffe:
        import weasyprint

        weasyprint.HTML(string=_ESSAI).write_pdf()
        _echauffe.append(True)


def atelier(contexte: Any, pdf: bool = True) -> Travaux:
    """Where the PDF is printed: a process of its own beside this one (forked at its first task: give it
    ``echauffer`` at once, then ``write_pdf``); this very process when there is no PDF, one core, or when this
    process is itself a worker (a batch of reports: the cores are already busy with the other reports)."""
    return Travaux(contexte, workers=1 if pdf and multiprocessing.parent_process() is None else 0)


def write_pdf(html: Path | str, path: Path, titre: str = "", base_url: Path | None = None) -> Path:
    """Print ``html`` (the HTML file, or its text: then ``base_url`` is the folder its relative links
    start from) into ``path``."""
    import weasyprint

    preparer()
    geler = gc.get_freeze_count() == 0  # (a caller that froze objects itself keeps its own freeze)
    if geler:
        gc.freeze()  # what was there before is not walked by the collections WeasyPrint's allocations trigger
    try:
        if isinstance(html, Path):
            source = weasyprint.HTML(filename=str(html), base_url=str(base_url or html.parent))
        else:
            source = weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None)
        doc = source.render()
        doc.metadata.title = titre or doc.metadata.title
        doc.metadata.lang = "fr"
        doc.write_pdf(str(path))
    finally:
        if geler:
            gc.unfreeze()
    return path


__all__ = ["atelier", "echauffer", "image_fichier", "idat", "preparer", "write_pdf"]
