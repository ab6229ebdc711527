"""Parser of the Cnam « Patients en ALD sans médecin traitant » (data.ameli.fr dataset
`patients-longueduree-annuelle`, CSV export; Observatoire de l'accès aux soins).

`;`-separated, one header row: annee, region, libelle_region, departement, libelle_departement,
taux_patients_ald_sans_mt (a French-formatted string, decimal comma, in %), taux_patients_ald_sans_mt_integer
(numeric twin that turns masks into 0: never used). Levels: France (`region = '99'`), région
(`departement = '999'`), département. `NC` (masked) is kept as a status. Rows with `region = 'inconnu'`
(patients whose residence is unknown) belong to no territory and are left out. A file without the France rows is
refused (`exiger_france`).

Grain: `stg_ameli_ald_sans_mt` one row per (annee, region, departement).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import validate
from .lecture import annee, exiger_france, pad, numbers, read_ods_export, strings

REQUIRED = ["annee", "region", "departement", "taux_patients_ald_sans_mt"]

ALD_SANS_MT = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "region": pa.Column(str, pa.Check.str_matches(r"^\d{2,3}$")),
        "departement": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$")),
        "taux": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
        "statut": pa.Column(str, pa.Check.isin(["secret", "non_disponible"]), nullable=True),
    },
    unique=["annee", "region", "departement"],
    strict=True,
    name="ameli_ald_sans_mt",
)


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    df, fichier = read_ods_export(folder, "d'export des patients en ALD sans médecin traitant", REQUIRED)
    df = df[~df["region"].str.strip().str.lower().eq("inconnu")]
    exiger_france(df["region"], fichier)
    taux, statut = numbers(df, "taux_patients_ald_sans_mt", fichier, row_offset=2, masks=True)
    departement = df["departement"].str.strip()
    out = pd.DataFrame({
        "annee": annee(df["annee"]),
        "region": pad(df["region"]),
        "departement": pad(departement),
        "taux": taux,
        "statut": statut.where(statut.notna() | taux.notna(), "non_disponible"),
    })
    return {"stg_ameli_ald_sans_mt": strings(validate(out, ALD_SANS_MT, fichier, row_offset=2))}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_ameli_ald_sans_mt": ALD_SANS_MT}
