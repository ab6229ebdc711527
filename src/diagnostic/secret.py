"""Secret statistique, applied to the indicator table after aggregation to the territory.

The catalogue says which indicators are counts under secrecy (`secret = "professionnels"` or
`"patients"`), which belong to an additive group with a published total (`groupe`, `total = true`), and
which are derived from a count (`secret_de = "<id>"`, e.g. a density, whose numerator is the count).

1. primary suppression: a count c with 0 < c < threshold is masked;
2. secondary suppression: in a group whose total is published, if exactly one member is masked it could be
   recomputed as total − others: the smallest other published member is masked too (repeated until no
   group has exactly one masked member);
3. an indicator derived from a masked count is masked (its value and numerator would give the count away).
Masked rows keep their row, with valeur and numerateur emptied and statut = "secret".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DEFAULTS = {"professionnels": 5, "patients": 11}
KEY = ["territoire_type", "territoire_code"]


def thresholds(settings_file: Path | None) -> dict[str, int]:
    """Thresholds from `pipelines/diagnostic.toml` ([secret_statistique]), defaults otherwise (read by
    `diagnostic.seuils`, the one reader of that file's thresholds)."""
    from .seuils import lire  # seuils imports DEFAULTS from here

    valeurs = lire(settings_file)
    return {k: int(valeurs[k]) for k in DEFAULTS}


def _col(catalogue: pd.DataFrame, name: str) -> pd.Series:
    if name in catalogue:
        return catalogue.set_index("indicateur")[name]
    return pd.Series(dtype=object)


def apply(df: pd.DataFrame, catalogue: pd.DataFrame, seuils: dict[str, int]) -> pd.DataFrame:
    df = df.copy()
    kind = df["indicateur"].map(_col(catalogue, "secret").dropna())
    seuil = kind.map(seuils)
    masked = seuil.notna() & df["statut"].eq("ok") & df["valeur"].gt(0) & df["valeur"].lt(seuil)

    groupe = df["indicateur"].map(_col(catalogue, "groupe").dropna())
    is_total = df["indicateur"].map(_col(catalogue, "total").dropna()).eq(True)
    members = groupe.notna() & ~is_total
    while True:
        extra = []
        frame = df.assign(_m=masked, _g=groupe)[members]
        for _, cells in frame.groupby(KEY + ["_g"]):
            total_published = (
                df.loc[groupe.eq(cells["_g"].iloc[0]) & is_total & df["territoire_type"].eq(cells["territoire_type"].iloc[0])
                       & df["territoire_code"].eq(cells["territoire_code"].iloc[0])]
                .pipe(lambda t: bool(len(t)) and not masked[t.index].any() and t["valeur"].notna().any())
            )
            if total_published and cells["_m"].sum() == 1:
                candidates = cells[~cells["_m"] & cells["valeur"].notna()]
                if len(candidates):
                    extra.append(candidates["valeur"].idxmin())
        if not extra:
            break
        masked[extra] = True

    source = df["indicateur"].map(_col(catalogue, "secret_de").dropna())
    masked_ids = df.loc[masked, KEY + ["indicateur"]]
    masked_keys = set(map(tuple, masked_ids.to_numpy()))
    derived = source.notna() & pd.Series(
        [(t, c, s) in masked_keys for t, c, s in zip(df["territoire_type"], df["territoire_code"], source)], index=df.index
    )
    out = masked | derived
    df.loc[out, ["valeur", "numerateur"]] = np.nan
    df.loc[out, "statut"] = "secret"
    return df
