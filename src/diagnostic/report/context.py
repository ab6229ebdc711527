"""What the report stage receives: one ``ReportContext`` built from the marts.

The report never reads raw files: everything it shows comes from this object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import pandas as pd

from ..contrat import COLONNES, STATUTS, TERRITOIRE_TYPES
from ..seuils import completer as _seuils

# The ``indicateurs.csv`` contract (docs/DESIGN.md), written once in ``diagnostic.contrat``.
CONTRACT_COLUMNS: list[str] = COLONNES

COMMUNES_COLUMNS: tuple[str, ...] = (
    "code", "nom", "departement", "region", "population", "superficie_km2", "apl_mg", "perimetre", "geometry",
)
CATALOGUE_COLUMNS: tuple[str, ...] = ("indicateur", "libelle", "unite", "definition", "theme")
# ``ReportContext.series``: one row per indicator x territory x year (see ``donnees.series``).
SERIES_COLUMNS: list[str] = ["indicateur", "territoire_type", "territoire_code", "territoire_nom", "annee", "valeur", "statut"]
SOURCE_KEYS: tuple[str, ...] = (
    "source", "titre", "producteur", "licence", "url", "millesime", "fichier", "recupere_le", "octets", "sha256",
)


@dataclass
class ReportContext:
    """Everything needed to write ``reports/<slug>/``.

    - ``indicateurs``: the contract, long format, one row per territory x indicator.
    - ``communes``: one row per commune (COG 2026) of every département the perimeter
      touches, projected CRS in metres; ``perimetre`` flags the perimeter's communes.
    - ``departements``: outlines (code, nom, geometry) of the touched départements and
      their neighbours, same CRS.
    - ``sources``: provenance entries (see ``SOURCE_KEYS``).
    - ``catalogue``: one row per indicator id (indicateur, libelle, unite, definition, theme); any other
      key of ``indicateurs.toml`` as an optional column (``ordre``, ``decimales``, ``sens``, ``sujet``,
      ``lecture``, ``carte``, ``niveau``…: see ``diagnostic/catalogue.py``). A column or a value missing here
      is read from the package catalogue, then from the key's default (``tables.cle_catalogue``).
    - ``seuils``: the thresholds of ``pipelines/diagnostic.toml`` the warehouse was built with (secret
      statistique, APL under-served threshold): every sentence that states a threshold reads it here.
    - ``indisponibles``: source id -> French reason why it could not be used this run
      (the pipeline's ``RunReport.unavailable``); shown where the section needs it.
    - ``avertissements``: French warnings of the run (perimeter resolution...), printed in the
      method notes.
    - ``series`` (optional): yearly values drawn as time-series charts, columns ``indicateur,
      territoire_type, territoire_code, territoire_nom, annee, valeur, statut`` (one row per indicator x
      territory x year; see ``donnees.series``). None or empty: no chart.
    - ``pyramide`` (optional): census population by sex and age band of the perimeter and its
      département(s) (``pyramide.COLUMNS``); None or empty: no age pyramid.
    - ``etablissements`` (optional): FINESS establishments of the perimeter's communes
      (``models/etablissements_perimetre.sql``: nom, groupe, groupe_libelle, libcategetab, code_commune,
      nom_commune, lon, lat); None or empty: no list and no map of establishments.
    - ``enquetes`` (optional): the CPTS's surveys read from ``data/territoires/<slug>/enquetes/``
      (``diagnostic.enquetes.Enquete``, already masked); empty: no survey section.
    - ``suivi`` (optional): the follow-up of the run (``diagnostic.suivi.Suivi``: evolution since the last run,
      objectives); None: no such section, no ``evolution.csv``.
    - ``annuaire`` (optional): the directory of actors (``diagnostic.annuaire.Annuaire``); None: no
      « Acteurs du territoire » section, no annuaire.xlsx (batch reports).
    """

    slug: str
    nom: str
    description: str
    indicateurs: pd.DataFrame
    communes: gpd.GeoDataFrame
    departements: gpd.GeoDataFrame
    sources: list[dict] = field(default_factory=list)
    catalogue: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CATALOGUE_COLUMNS)))
    produit_le: date = field(default_factory=date.today)
    indisponibles: dict[str, str] = field(default_factory=dict)
    avertissements: list[str] = field(default_factory=list)
    series: pd.DataFrame | None = None
    pyramide: pd.DataFrame | None = None
    etablissements: pd.DataFrame | None = None
    enquetes: list = field(default_factory=list)  # diagnostic.enquetes.Enquete: the CPTS's own surveys
    suivi: object | None = None
    annuaire: object | None = None
    seuils: dict[str, float] = field(default_factory=lambda: _seuils(None))


def check_context(ctx: ReportContext) -> None:
    """Fail early, with a precise message, when the context breaks the contract."""
    missing = [c for c in CONTRACT_COLUMNS if c not in ctx.indicateurs.columns]
    if missing:
        raise ValueError(f"indicateurs: missing contract columns {missing}")
    bad_types = set(ctx.indicateurs["territoire_type"].dropna()) - set(TERRITOIRE_TYPES)
    if bad_types:
        raise ValueError(f"indicateurs: unknown territoire_type {sorted(bad_types)}")
    bad_statuts = set(ctx.indicateurs["statut"].dropna()) - set(STATUTS)
    if bad_statuts:
        raise ValueError(f"indicateurs: unknown statut {sorted(bad_statuts)}")
    missing = [c for c in ("code", "nom", "departement", "perimetre", "geometry") if c not in ctx.communes.columns]
    if missing:
        raise ValueError(f"communes: missing columns {missing}")
    missing = [c for c in ("code", "nom", "geometry") if c not in ctx.departements.columns]
    if missing:
        raise ValueError(f"departements: missing columns {missing}")
    if ctx.series is not None and len(ctx.series):
        missing = [c for c in SERIES_COLUMNS if c not in ctx.series.columns]
        if missing:
            raise ValueError(f"series: missing columns {missing}")
    if "indicateur" not in ctx.catalogue.columns:
        raise ValueError("catalogue: missing column 'indicateur'")
    for gdf, name in ((ctx.communes, "communes"), (ctx.departements, "departements")):
        if gdf.crs is not None and gdf.crs.is_geographic:
            raise ValueError(f"{name}: CRS {gdf.crs} is geographic; a projected CRS in metres is expected")
