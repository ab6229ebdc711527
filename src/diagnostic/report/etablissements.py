"""The list of the perimeter's establishments (FINESS) for the "Offre de soins" section.

The counts by type are indicators of the section's table (``nb_etab_*``, with their comparators); this list
names each establishment of a mapped type, as the analyst checks it against what the CPTS knows.
"""

from __future__ import annotations

from .context import ReportContext
from .maps import STYLE_ETABLISSEMENTS
from .source_finess import source_finess

TITRE = "Établissements de santé et structures de soins des communes du territoire"


def liste(ctx: ReportContext) -> dict | None:
    """{titre, entetes, lignes, note, source} or None without FINESS rows for the perimeter."""
    e = ctx.etablissements
    if e is None or not len(e):
        return None
    nommes = e[e["groupe"].isin(list(STYLE_ETABLISSEMENTS))]
    autres = len(e) - len(nommes)
    lignes = [[str(r.groupe_libelle), str(r.nom), str(r.libcategetab or ""), str(r.nom_commune or r.code_commune)]
              for r in nommes.itertuples()]
    note = (f"{autres} autre{'s' if autres > 1 else ''} établissement{'s' if autres > 1 else ''} du fichier FINESS "
            "(structures sociales et médico-sociales autres que les EHPAD, services…) "
            f"{'sont situés' if autres > 1 else 'est situé'} dans ces communes et ne {'sont' if autres > 1 else 'est'} "
            "pas listé{0}.".format("s" if autres > 1 else "")) if autres else ""
    return {
        "titre": TITRE,
        "entetes": ["Type", "Établissement", "Catégorie FINESS", "Commune"],
        "lignes": lignes,
        "note": note,
        "source": f"Source : {source_finess(ctx)}, établissements ouverts dont l'adresse géographique est dans le "
                  "territoire.",
    }
