"""Parser of the Cnam « Cartographie des pathologies » (data.ameli.fr dataset `effectifs`, CSV export).

`;`-separated, one header row: annee, patho_niv1, patho_niv2, patho_niv3, top, cla_age_5, sexe, region,
dept, Ntop, Npop, prev, Niveau prioritaire, libelle_classe_age, libelle_sexe, tri (labels, as in a portal
download) or the same as field names (`ntop`, `npop`, `niveau_prioritaire`: API export); both are read.
`prev` is a percentage (Ntop / Npop × 100); Npop counts insured people of the Cartographie, not INSEE
residents. The table carries its own totals: `dept = '999'` (région, and France with `region = '99'`),
`cla_age_5 = 'tsage'` (all ages), `sexe = '9'` (both sexes). They are kept as rows, flagged by those
codes, never added to detail rows (the models select one level at a time). `Ntop` is empty for small
or absent cells (secret statistique): kept as `statut = 'secret'`, never 0.

Only the pathologies named in the registry are kept: `pathologies = { <clé> = <sélecteur> }`, where the
selector is either a `top` code (`"DIA_CAT_CAT"`) or `{ patho_niv1 = "<libellé>" }`: the group's own
total rows, those of that level-1 label whose `patho_niv2` and `patho_niv3` are empty (as `CAN_CAT_CAT`
is « Cancers / — / — »). Every selector must match rows of the file (`exiger_selection`), and a label
must designate one `top` code.

Grain: `stg_ameli_effectifs` one row per (annee, pathologie, region, dept, cla_age_5, sexe).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, validate
from .lecture import annee, pad, numbers, read_ods_export, strings

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


def selecteur(key: str, value) -> tuple[str, str]:
    """A registry selector -> ('top', code) or ('patho_niv1', label); anything else is a registry error."""
    if isinstance(value, str) and value.strip():
        return "top", value.strip()
    if isinstance(value, dict) and set(value) == {"patho_niv1"} and str(value["patho_niv1"]).strip():
        return "patho_niv1", str(value["patho_niv1"]).strip()
    raise SourceFormatError(f"Registre des sources : pathologie « {key} » : un code « top » ou "
                            f"{{ patho_niv1 = \"<libellé>\" }} attendu, trouvé {value!r}.")


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `pathologies` maps a key (used by the models) to a selector."""
    pathologies = {key: selecteur(key, value) for key, value in dict(spec.get("pathologies", {})).items()}
    if not pathologies:
        raise SourceFormatError("Registre des sources : aucune pathologie (« pathologies ») pour la cartographie des pathologies.")
    df, fichier = read_ods_export(folder, "d'export de la cartographie des pathologies", REQUIRED)
    for column in ("top", "patho_niv1", "patho_niv2", "patho_niv3"):
        if column in df.columns:
            df[column] = df[column].str.strip()
    group_total = df["patho_niv1"].ne("")
    for column in ("patho_niv2", "patho_niv3"):
        if column in df.columns:
            group_total &= df[column].eq("")
    # ~115 codes in the real file: a missing code is listed against the level-1 ones (XXX_CAT_CAT, XXX_CAT_EXC)
    niveau_1 = [t for t in df["top"].unique() if t.endswith(("_CAT_CAT", "_CAT_EXC"))]
    parts = []
    for key, (kind, wanted) in pathologies.items():
        if kind == "top":
            mask = df["top"].eq(wanted)
            exiger_selection(mask.any(), fichier, f"aucun code « top » ne correspond à « {wanted} » (pathologie {key})",
                             niveau_1 or df["top"], "codes « top » de niveau 1 présents" if niveau_1 else "codes « top » présents")
        else:
            mask = df["patho_niv1"].eq(wanted) & group_total
            exiger_selection(mask.any(), fichier,
                             f"aucune ligne de total de groupe (patho_niv2 et patho_niv3 vides) pour la pathologie "
                             f"de niveau 1 « {wanted} » (pathologie {key})",
                             df.loc[group_total, "patho_niv1"], "groupes de niveau 1 présents")
            tops = sorted(df.loc[mask, "top"].unique())
            if len(tops) != 1:
                raise SourceFormatError(f"Fichier {fichier} : la pathologie de niveau 1 « {wanted} » (pathologie {key}) "
                                        f"désigne {len(tops)} codes « top » au lieu d'un : {', '.join(tops)}.")
        parts.append(df[mask].assign(pathologie=key))
    keep = pd.concat(parts)
    # the built-in totals the models select on (08_int_sante.sql): all ages, both sexes
    for column, code, quoi in (("cla_age_5", "tsage", "classe d'âge « tsage » (tous âges)"), ("sexe", "9", "sexe « 9 » (tous sexes)")):
        values = keep[column].str.strip()
        exiger_selection(values.eq(code).any(), fichier, f"aucune ligne de {quoi} pour les pathologies retenues",
                         values, f"valeurs de {column} présentes")
    ntop, statut_ntop = numbers(keep, "ntop", fichier, row_offset=2, masks=True)
    npop, _ = numbers(keep, "npop", fichier, row_offset=2, masks=True)
    prev, _ = numbers(keep, "prev", fichier, row_offset=2, masks=True)
    dept = keep["dept"].str.strip()
    out = pd.DataFrame({
        "annee": annee(keep["annee"]),
        "pathologie": keep["pathologie"],
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


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_ameli_effectifs": EFFECTIFS}
