"""Parser of the Cnam « Cartographie des pathologies » (data.ameli.fr dataset `effectifs`, CSV export).

`;`-separated, one header row: annee, patho_niv1, patho_niv2, patho_niv3, top, cla_age_5, sexe, region,
dept, Ntop, Npop, prev, Niveau prioritaire, libelle_classe_age, libelle_sexe, tri. `prev` is a
percentage (Ntop / Npop × 100); Npop counts insured people of the Cartographie, not INSEE residents.
The table carries its own totals: `dept = '999'` (région, and France with `region = '99'`),
`cla_age_5 = 'tsage'` (all ages), `sexe = '9'` (both sexes). They are kept as rows, flagged by those
codes, never added to detail rows (the models select one level at a time). `Ntop` is empty for small
or absent cells (secret statistique): kept as `statut = 'secret'`, never 0.

Only the pathologies named in the registry are kept (`pathologies = { <clé> = "<code top>" }`).

Grain: `stg_ameli_effectifs` one row per (annee, pathologie, region, dept, cla_age_5, sexe).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, validate
from .lecture import annee, empty_frame, pad, numbers, read_ods_export, strings

log = logging.getLogger(__name__)

REQUIRED = ["annee", "patho_niv1", "top", "cla_age_5", "sexe", "region", "dept", "ntop", "npop", "prev"]

EFFECTIFS = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "pathologie": pa.Column(str),
        "top": pa.Column(str),
        "patho_niv1": pa.Column(str, nullable=True),
        "cla_age_5": pa.Column(str, pa.Check.str_matches(r"^(\d{2}-\d{2}|\d{2}et\+|tsage)$")),
        "sexe": pa.Column(str, pa.Check.isin(["1", "2", "9"])),
        "region": pa.Column(str, pa.Check.str_matches(r"^\d{2,3}$")),
        "dept": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$")),
        "ntop": pa.Column(float, pa.Check.ge(0), nullable=True),
        "npop": pa.Column(float, pa.Check.ge(0), nullable=True),
        "prev": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
        "statut": pa.Column(str, pa.Check.isin(["secret", "non_disponible"]), nullable=True),
    },
    unique=["annee", "pathologie", "region", "dept", "cla_age_5", "sexe"],
    strict=True,
    name="ameli_effectifs",
)


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `pathologies` maps a key (used by the models) to a `top` code."""
    pathologies = dict(spec.get("pathologies", {}))
    if not pathologies:
        raise SourceFormatError("Registre des sources : aucune pathologie (« pathologies ») pour la cartographie des pathologies.")
    df, fichier = read_ods_export(folder, "d'export de la cartographie des pathologies", REQUIRED)
    by_top = {top: key for key, top in pathologies.items()}
    df["top"] = df["top"].str.strip()
    keep = df[df["top"].isin(list(by_top))]
    if len(df) and keep.empty:
        tops = sorted(t for t in df["top"].unique() if t.endswith(("_CAT_CAT", "_CAT_EXC")))[:30]
        raise SourceFormatError(
            f"Fichier {fichier} : aucun des codes « top » du registre ({', '.join(by_top)}) n'est présent "
            f"(codes de niveau 1 trouvés : {', '.join(tops)})."
        )
    missing = sorted(set(by_top) - set(keep["top"]))
    if missing and len(df):
        log.warning("Cartographie des pathologies : code(s) top absent(s) de %s : %s", fichier, ", ".join(missing))
    ntop, statut_ntop = numbers(keep, "ntop", fichier, row_offset=2, masks=True)
    npop, _ = numbers(keep, "npop", fichier, row_offset=2, masks=True)
    prev, _ = numbers(keep, "prev", fichier, row_offset=2, masks=True)
    dept = keep["dept"].str.strip()
    out = pd.DataFrame({
        "annee": annee(keep["annee"]),
        "pathologie": keep["top"].map(by_top),
        "top": keep["top"],
        "patho_niv1": keep["patho_niv1"].where(keep["patho_niv1"].ne(""), None),
        "cla_age_5": keep["cla_age_5"].str.strip(),
        "sexe": keep["sexe"].str.strip(),
        "region": pad(keep["region"]),
        "dept": pad(dept),
        "ntop": ntop,
        "npop": npop,
        "prev": prev,
        # an empty Ntop beside a known population is a masked small count (secret statistique)
        "statut": statut_ntop.where(statut_ntop.notna() | ntop.notna() | npop.isna(), "secret"),
    })
    return {"stg_ameli_effectifs": strings(validate(out, EFFECTIFS, fichier, row_offset=2))}


def empty() -> dict[str, pd.DataFrame]:
    return {"stg_ameli_effectifs": empty_frame(EFFECTIFS)}
