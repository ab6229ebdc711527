"""The PDF writer (``report/pdf.py``, issue 16): PNG figures go into the PDF as they are, pixel for pixel.

Real PDFs are written by WeasyPrint from small HTML pages holding PNGs of every kind Pillow writes (the PNGs
are made here; no fixture file), and their images are read back with poppler's ``pdfimages``."""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diagnostic.report.parallele import Travaux
from diagnostic.report.pdf import atelier, echauffer, idat, image_fichier, write_pdf


def _png(mode: str, path: Path | None = None, **options) -> bytes:
    """A 37 × 23 PNG of the given mode with varied pixels (a gradient plus noise: several filter types)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:23, 0:37]
    base = ((x * 7 + y * 11) % 256).astype(np.uint8)
    bruit = rng.integers(0, 40, size=(23, 37), dtype=np.uint8)
    plan = base + bruit
    if mode == "L":
        image = Image.fromarray(plan, "L")
    elif mode == "P":
        image = Image.fromarray(np.stack([plan, base, 255 - plan], axis=2), "RGB").quantize(16)
    elif mode == "RGBA":
        image = Image.fromarray(np.stack([plan, base, 255 - plan, 255 - base], axis=2), "RGBA")
    elif mode == "I;16":
        image = Image.fromarray(plan.astype(np.uint16) * 257)  # 16-bit grey
    else:
        image = Image.fromarray(np.stack([plan, base, 255 - plan], axis=2), "RGB")
    out = BytesIO()
    image.save(out, format="PNG", **options)
    if path is not None:
        path.write_bytes(out.getvalue())
    return out.getvalue()


def test_idat_is_the_pixel_rows_of_8_bit_grey_or_rgb_pngs_only():
    for mode, canaux in (("RGB", 3), ("L", 1)):
        rangs = zlib.decompress(idat(_png(mode)))
        assert len(rangs) == 23 * (1 + 37 * canaux)  # one filter byte, then the row
    for mode in ("RGBA", "P", "I;16"):
        assert idat(_png(mode)) is None, mode
    assert idat(_png("RGB", optimize=True)) is not None  # chunks split or merged differently: still rows
    png = _png("RGB")
    assert png[28] == 0 and idat(png[:28] + b"\x01" + png[29:]) is None  # Adam7 (Pillow writes none: header set)
    assert idat(b"GIF89a" + png[6:]) is None  # not a PNG
    assert idat(png[:-20]) is None  # cut before IEND


def _pdfimages(pdf: Path, dossier: Path) -> list[Path]:
    outil = shutil.which("pdfimages")
    if not outil:
        pytest.fail("`pdfimages` introuvable : `make system-deps` installe poppler-utils.")
    dossier.mkdir()
    subprocess.run([outil, "-png", str(pdf), str(dossier / "i")], check=True)
    return sorted(dossier.glob("i-*.png"))


def test_pdf_images_are_the_pngs_pixel_for_pixel(tmp_path):
    modes = ["RGB", "L", "P", "RGBA"]
    pages = []
    for mode in modes:
        fichier = tmp_path / f"{mode.replace(';', '')}.png"
        _png(mode, fichier, compress_level=1)  # not Pillow's default level: encoded again, the data would differ
        pages.append(f'<p style="break-after: page"><img src="{image_fichier(fichier)}" style="width: 60mm"></p>')
    html = "<!doctype html><html><body>" + "".join(pages) + "</body></html>"
    pdf = write_pdf(html, tmp_path / "images.pdf", "Essai", tmp_path)

    lues = _pdfimages(pdf, tmp_path / "lues")
    attendues = []  # what a PDF viewer must show: the PNG's pixels in WeasyPrint's colour space
    for mode in modes:
        image = Image.open(tmp_path / f"{mode.replace(';', '')}.png")
        if mode == "RGBA":
            attendues += [image.convert("RGB"), image.getchannel("A")]  # colour, then its soft mask
        elif mode == "L":
            attendues.append(image)
        else:
            attendues.append(image.convert("RGB"))
    assert len(lues) == len(attendues)
    for lue, attendue in zip(lues, attendues):
        assert np.array_equal(np.asarray(Image.open(lue)), np.asarray(attendue)), lue.name

    # the RGB and grey PNGs went in without being encoded again: their IDAT data are in the file as they are
    contenu = pdf.read_bytes()
    for mode in ("RGB", "L"):
        assert idat((tmp_path / f"{mode}.png").read_bytes()) in contenu, mode


def test_pdf_from_an_html_file_and_its_title(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><html><head><title>Titre HTML</title></head><body><p>Bonjour</p>"
                    f'<img src="{image_fichier(tmp_path / "a.png")}"></body></html>', encoding="utf-8")
    _png("RGB", tmp_path / "a.png")
    pdf = write_pdf(page, tmp_path / "page.pdf", "CPTS essai — Diagnostic territorial")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CPTS essai — Diagnostic territorial" in info
    assert "Bonjour" in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_objects_there_before_are_set_aside_from_the_collector_only_while_printing(tmp_path):
    import gc

    vus = []
    gc.callbacks.append(lambda phase, info: vus.append(gc.get_freeze_count()) if phase == "start" else None)
    try:
        avant = gc.get_freeze_count()
        write_pdf("<p>" + "Bonjour. " * 2000 + "</p>", tmp_path / "texte.pdf")
        assert gc.get_freeze_count() == avant == 0
    finally:
        gc.callbacks.pop()
    assert vus and max(vus) > 10_000  # the collections during the PDF did not walk the objects already there


def _atelier_ici() -> bool:
    """In a worker (a batch of reports): does the PDF's atelier run its tasks in this very process?"""
    with atelier(None) as impression:
        return impression.submit(os.getpid).result() == os.getpid()


def test_the_pdf_is_printed_by_a_process_of_its_own_made_ready_first(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGNOSTIC_WORKERS", "2")
    with atelier(None) as impression:
        impression.submit(echauffer)
        ecrit = impression.submit(write_pdf, "<p>Bonjour</p>", tmp_path / "a.pdf", "Essai", tmp_path)
        ailleurs = impression.submit(os.getpid).result()
    assert ailleurs != os.getpid() and ecrit.result() == tmp_path / "a.pdf"
    assert "Bonjour" in subprocess.run(["pdftotext", str(ecrit.result()), "-"], capture_output=True, text=True,
                                       check=True).stdout
    with atelier(None, pdf=False) as sans_pdf:  # nothing to print: no process
        assert sans_pdf.submit(os.getpid).result() == os.getpid()
    with Travaux(None) as lot:  # a report written by a worker prints in that worker
        assert lot.submit(_atelier_ici).result()
    monkeypatch.setenv("DIAGNOSTIC_WORKERS", "1")
    with atelier(None) as un_coeur:
        assert un_coeur.submit(os.getpid).result() == os.getpid()
