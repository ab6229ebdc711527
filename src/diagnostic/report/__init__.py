"""Report stage: from a ``ReportContext`` (marts only) to ``reports/<slug>/``.

Files written into ``out_dir``:

- ``indicateurs.csv``        the contract (long format), machine-readable;
- ``indicateurs_excel.csv``  the same rows for French Excel (``;``, decimal comma, UTF-8 with BOM);
- ``indicateurs.xlsx``       its human-friendly twin (one sheet per section, Communes, Sources, Définitions);
- ``cartes/situation.png|svg``, ``cartes/apl_mg.png|svg`` (only when APL values exist) and
  ``cartes/medecins.png|svg`` (GPs per commune, only with the RPPS), ``cartes/etablissements.png|svg`` (only
  with geolocated FINESS establishments);
- ``graphiques/pyramide_ages.png|svg``: the age pyramid, when census data are in hand;
- ``graphiques/<indicateur>.png|svg``: yearly series (département, région, France), when ``ctx.series`` has some;
- ``diagnostic.html``        the self-contained French document (maps embedded);
- ``diagnostic.pdf``         the same document printed (WeasyPrint);
- ``diagnostic.docx``        the same content for Word (python-docx);
- ``evolution.csv`` and ``graphiques/objectif_<indicateur>.png|svg``: the follow-up, when ``ctx.suivi`` has an
  earlier run or objectives (``evolution.py``).

Figures are written as PNG; the ``.svg`` twins only with ``svg=True`` (``diagnostic run --svg``).

``provenance.json`` is written by the caller (pipeline), which knows the unavailable sources.
"""

from __future__ import annotations

from pathlib import Path

from . import document as modele
from .context import CONTRACT_COLUMNS, ReportContext, check_context
from .enquete import dessiner as dessiner_enquetes
from .evolution import graphiques_objectifs, write_evolution_csv
from .filosofi import carte_niveau_vie, carte_taux_pauvrete
from .figures import carte_en_cache, reglages as reglages_figures
from .exports import write_csv, write_csv_excel, write_xlsx
from .html import render_html, write_html
from .annuaire import carte as carte_acteurs
from .maps import Carte, carte_apl, carte_etablissements, carte_medecins, carte_situation
from .parallele import Travaux
from .tables import une_fois_par_table
from .pdf import atelier as atelier_pdf, echauffer as echauffer_pdf, image_fichier, write_pdf
from .pyramide import pyramide
from .series import graphiques
from .word import write_docx

__all__ = ["ReportContext", "write_report", "CONTRACT_COLUMNS"]


def write_report(ctx: ReportContext, out_dir: Path, *, pdf: bool = True, word: bool = True,
                 ecran: bool = False, svg: bool = False, cache_figures: Path | None = None) -> list[Path]:
    """Write every report file into ``out_dir`` (which exists and is empty); return their paths.
    ``pdf=False`` skips the PDF (the slowest file: a quick look, or a batch of reports), ``word=False`` the
    Word file, ``ecran=True`` draws the maps for the screen only (120 dpi PNG, no SVG): batch reports;
    ``svg=True`` also writes each figure as SVG (a second rendering: off by default, see ``figures``);
    ``cache_figures``: a folder where rendered figures are kept, so that unchanged ones are not redrawn."""
    check_context(ctx)
    out_dir = Path(out_dir)
    with reglages_figures(svg and not ecran, cache_figures), atelier_pdf(ctx, pdf) as impression, \
            Travaux(ctx) as travaux, une_fois_par_table():
        if pdf:
            impression.submit(echauffer_pdf)  # the PDF's process gets WeasyPrint ready while the figures are drawn
        # figures first: they are drawn by the workers while this process writes the tables
        figures = [travaux.avec_contexte(carte_en_cache, carte, out_dir / "cartes", ecran)  # unchanged maps not redrawn
                   for carte in (carte_situation, carte_apl, carte_medecins, carte_etablissements)]
        figures += [travaux.avec_contexte(carte_en_cache, carte_niveau_vie, out_dir / "cartes", ecran),
                    travaux.avec_contexte(carte_en_cache, carte_taux_pauvrete, out_dir / "cartes", ecran),
                    travaux.avec_contexte(graphiques, out_dir / "graphiques"),  # each chart cached (series.graphique)
                    travaux.avec_contexte(carte_en_cache, pyramide, out_dir / "graphiques"),
                    travaux.avec_contexte(carte_en_cache, carte_acteurs, out_dir / "cartes", ecran)]
        # the workbooks too, by a worker, while this process writes the rest (issue 16)
        classeurs = [travaux.avec_contexte(write_xlsx, out_dir / "indicateurs.xlsx")]
        if ctx.annuaire is not None:  # annuaire.xlsx, annuaire.csv (issue 18)
            from ..annuaire import ecrire as ecrire_annuaire

            classeurs.append(travaux.submit(ecrire_annuaire, ctx.annuaire, out_dir))
        written = [write_csv(ctx, out_dir / "indicateurs.csv"), write_csv_excel(ctx, out_dir / "indicateurs_excel.csv")]
        written += [p for p in [write_evolution_csv(ctx, out_dir / "evolution.csv")] if p]
        maps = graphiques_objectifs(ctx, out_dir / "graphiques")
        for f in figures:
            r = f.result()
            maps += [r] if isinstance(r, Carte) else (r or [])
        for m in maps:
            written += [p for p in (m.png, m.svg) if p is not None]
        written += dessiner_enquetes(ctx, out_dir / "graphiques")  # the CPTS's surveys (report/enquete.py)
        doc = modele.document(ctx, maps)
        if pdf:  # printed by its own process, beside the Word file and the HTML
            imprime = render_html(ctx, maps, doc, images=image_fichier)  # figures as files, not base64 (pdf.py)
            pdf_ecrit = impression.submit(write_pdf, imprime, out_dir / "diagnostic.pdf",
                                          f"{ctx.nom} — Diagnostic territorial", out_dir)
        docx = travaux.submit(write_docx, doc, out_dir / "diagnostic.docx") if word else None  # beside HTML, PDF
        html = write_html(ctx, maps, out_dir / "diagnostic.html", doc)
        written.append(html)
        if pdf:
            written.append(pdf_ecrit.result())
        if docx is not None:
            written.append(docx.result())
        for f in classeurs:
            r = f.result()
            written += r if isinstance(r, list) else [r]
    return written
