"""The indicator catalogue (`indicateurs.toml`): the one home of an indicator besides the SQL that computes it.

One table per indicator id, in report order. Keys (French values; those with a default may be left out):

| key             | default          | what it says                                                                   |
|-----------------|------------------|--------------------------------------------------------------------------------|
| `libelle`       | required         | French label (indicateurs.csv, tables, XLSX)                                   |
| `unite`         | required         | unit                                                                           |
| `theme`         | required         | report section and XLSX sheet (`Territoire`, `Population`, `Offre de soins`…)  |
| `definition`    | required         | definition printed in the annex                                                |
| `sujet`         | none             | topic of its section it documents (`plan.py`: « Médecin traitant »…)           |
| `sens`          | `neutre`         | synthesis: `hausse_favorable`, `hausse_defavorable` or `neutre`                |
| `sens_rang`     | `sens`           | batch ranks, when they differ from the synthesis (same values)                 |
| `lecture`       | generic sentence | pattern of its « Lecture : » clause when it opens the sentence                 |
| `lecture_suite` | `lecture`        | the same clause when it follows another one                                    |
| `carte`         | `false`          | drawn as a commune map (the APL choropleth)                                    |
| `niveau`        | none             | `departement`: published for départements, régions, France only                |
| `secret`, `secret_de`, `groupe`, `total` | none | secret statistique (see `secret.py`)                            |
| `decimales`     | from the unit    | decimals shown                                                                 |
| `produit_par`   | `entrepot`       | who produces the rows: `entrepot` (an indicator mart, checked by the build) or |
|                 |                  | the name of the module that adds them at run time (`local`, `enquete`)         |

Lecture patterns (`str.format`): `{sujet}` (« la CPTS X » / « le territoire « X » »), `{de_sujet}` (« de la
CPTS X »), `{pronom}` (« elle » / « il »), `{libelle}`, `{valeur}` (the perimeter's value, « (estimation) » when
it is one; `{valeur:<suffixe>}` writes the suffix, e.g. the unit, before that mention), `{comparaison}`
(« , contre … dans le département et … en France »; `{comparaison:<suffixe>}` likewise), `{part_departement:<nom>}`
(« , soit 16,4 % de la <nom> de Saône-et-Loire »). Every text may state a threshold of `pipelines/diagnostic.toml`
as `{seuil.<cle>}` (`{seuil.apl_sous_densite}` -> « 2,5 »): never write a threshold's figure in the catalogue.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import pandas as pd

from . import seuils as _seuils
from .config import DiagnosticError

CHEMIN = Path(__file__).parent / "indicateurs.toml"
REQUIS = ("libelle", "unite", "theme", "definition")
# columns of the catalogue frame, in this order; any other key of an entry follows them
COLONNES = ("libelle", "unite", "theme", "definition", "secret", "groupe", "total", "secret_de", "niveau", "decimales",
            "sens", "sens_rang", "sujet", "carte", "lecture", "lecture_suite", "produit_par")
DEFAUTS = {"sens": "neutre", "carte": False, "produit_par": "entrepot"}
SENS = ("hausse_favorable", "hausse_defavorable", "neutre")
# the batch ranks' vocabulary (models/marts/91_mart_rangs.sql)
SENS_RANG = {"hausse_favorable": "plus_eleve_favorable", "hausse_defavorable": "plus_faible_favorable",
             "neutre": "descriptif"}
TEXTES = ("libelle", "definition", "lecture", "lecture_suite")
# keys that drive the report and the build, not shown to readers (the XLSX « Définitions » sheet)
PILOTAGE = ("sens", "sens_rang", "sujet", "carte", "lecture", "lecture_suite", "produit_par")


def entrees(seuils: dict | None = None, chemin: Path = CHEMIN) -> dict[str, dict]:
    """id -> entry with its defaults, thresholds written in its texts; French error for a malformed entry."""
    return {i: dict(e) for i, e in _entrees(chemin, tuple(sorted(_seuils.completer(seuils).items()))).items()}


@functools.lru_cache(maxsize=8)
def _entrees(chemin: Path, seuils: tuple) -> dict[str, dict]:
    try:
        data = tomllib.loads(Path(chemin).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DiagnosticError(f"Catalogue des indicateurs {chemin} illisible : {exc}") from None
    out = {}
    for ind, entry in data.items():
        if not isinstance(entry, dict):
            raise DiagnosticError(f"Catalogue {Path(chemin).name} : « {ind} » n'est pas une table [{ind}].")
        manque = [k for k in REQUIS if not str(entry.get(k, "")).strip()]
        if manque:
            raise DiagnosticError(f"Catalogue {Path(chemin).name} : l'indicateur « {ind} » n'a pas de "
                                  + ", ".join(manque) + ".")
        e = {**DEFAUTS, **entry}
        for cle in ("sens", "sens_rang"):
            if cle in e and e[cle] not in SENS:
                raise DiagnosticError(f"Catalogue {Path(chemin).name} : l'indicateur « {ind} » a {cle} = "
                                      f"« {e[cle]} » ; valeurs possibles : {', '.join(SENS)}.")
        for cle in TEXTES:
            if isinstance(e.get(cle), str):
                e[cle] = _seuils.remplir(e[cle], dict(seuils))
        out[ind] = e
    return out


def cadre(seuils: dict | None = None, chemin: Path = CHEMIN) -> pd.DataFrame:
    """The catalogue as a frame (warehouse table `ref_indicateur`, report context): one row per id in report
    order, `ordre`, every key of every entry; `sens_rang` in the batch ranks' vocabulary."""
    rows = []
    for i, (ind, e) in enumerate(entrees(seuils, chemin).items()):
        row = {"indicateur": ind, "ordre": i, **e}
        row["sens_rang"] = SENS_RANG[e.get("sens_rang", e["sens"])]
        rows.append(row)
    autres = [k for r in rows for k in r if k not in ("indicateur", "ordre", *COLONNES)]
    columns = ["indicateur", "ordre", *COLONNES, *dict.fromkeys(autres)]
    return pd.DataFrame(rows, columns=columns).astype({c: object for c in columns[2:]})
