"""Python API for notebooks: the same code path as `make diagnostic`.

    import diagnostic
    d = diagnostic.load("cpts-centre-saone-et-loire")
    d.indicateurs            # the indicateurs.csv contract (DataFrame)
    d.valeurs()              # one row per indicator, one column per territory
    d.communes               # GeoDataFrame of the perimeter's communes with their figures
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from . import warehouse
from .config import Workspace
from .pipeline import compute, prepare
from .territoire import Territoire, resolve


@dataclass
class Diagnostic:
    territoire: Territoire
    indicateurs: pd.DataFrame
    communes: gpd.GeoDataFrame

    def valeurs(self) -> pd.DataFrame:
        """Wide view: one row per indicator, one column per territory (perimeter first)."""
        df = self.indicateurs
        order = list(dict.fromkeys(df["territoire_nom"]))
        wide = df.pivot_table(index=["indicateur", "libelle", "unite"], columns="territoire_nom", values="valeur", sort=False)
        return wide[order]


def load(territoire: str, *, root: str | Path | None = None, update: bool = False) -> Diagnostic:
    """Indicators and communes (with geometry, WGS 84) of a territory, building what is missing.

    `update=True` re-downloads the sources (like `--refresh`)."""
    from .report import donnees

    ws = Workspace(Path(root).resolve()) if root else Workspace.find()
    prepare(ws, refresh=update)
    with warehouse.connect(ws) as con:
        t = resolve(territoire, con, ws.territoires)
        indicateurs, _ = compute(ws, con, t)
        deps = sorted(set(indicateurs.loc[indicateurs["territoire_type"].eq("departement"), "territoire_code"]))
        communes = donnees.communes(con, deps)  # the report's communes (mart_commune)
    communes = communes[communes["code"].isin(t.communes)].reset_index(drop=True)
    return Diagnostic(territoire=t, indicateurs=indicateurs, communes=communes)
