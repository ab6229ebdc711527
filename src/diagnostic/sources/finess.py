"""Parser of FINESS establishments. Two formats, told apart by the received file itself:
* from August 2026, the FINESS+ structures flux (gzipped JSON, data.gouv `finess-structures-1`): read by
  `sources/finess_flux.py`;
* up to May 2026, the geolocated extraction (data.gouv « FINESS Extraction du Fichier des établissements »,
  resource `etalab-cs1100507-stock-YYYYMMDD-hhmm.csv`), read here.

Layout (sources.md §4d; seen in third-party parsers and in lines copied verbatim from the 2026-05-12 extract):
* `;`-separated, no column header. Line 1 is a metadata line `finess;etalab;<n>;<extraction date>`.
* Rows of type `structureet`: 32 fields — the 31 of the published layout (`structureet`, nofinesset,
  nofinessej, rs, rslongue, …, dateouv, dateautor, datemaj) then `numuai` (most often empty: every row ends
  with `;`). Fields holding `;` or `"` are quoted, quotes doubled, as in CSV. Some extracts carry one more
  trailing `;` on every row of a section (33 and 7 fields instead of 32 and 6; noted by data.gouv's own
  pipeline): an empty last field beyond the layout is accepted.
* Rows of type `geolocalisation`: `geolocalisation;nofinesset;coordxet;coordyet;sourcecoordet;datemaj`.
  `sourcecoordet` holds five comma-separated tokens, the last one naming the projection, e.g.
  `1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)`, `…,EPSG:5490 RGAF09/UTM Zone 20N (Antilles)`,
  `…,EPSG:4471 RGM04/UTM zone 38S (Mayotte)`, or without EPSG code `…,WGS84/UTM zone 21N (St-Pierre-et-Miquelon)`.
* Encoding: latin-1 / Windows-1252 in older extracts, UTF-8 in recent ones (data.gouv's own pipeline decodes
  it as UTF-8): UTF-8 is tried first, then each line that is not UTF-8 is read as Windows-1252.
* `commune` is the 3-digit code inside the département, not the INSEE code. `departement` is `01`…`95`,
  `2A`, `2B`, and for overseas `9A` Guadeloupe, `9B` Martinique, `9C` Guyane, `9D` La Réunion,
  `9E` Saint-Pierre-et-Miquelon, `9F` Mayotte, `9J` Wallis-et-Futuna; there the commune code already holds
  the third digit of the INSEE département (`101` under `9A` is Les Abymes, 97101). INSEE code: metropolitan
  `departement + commune`; `9A`-`9F`: `97 + commune`; `9J`: `98 + commune`; other codes: none.

Grain: `stg_finess_etablissement` one row per open establishment (nofinesset), joined to its geolocalisation
row; `adresse` (number, street, lieu-dit), `code_postal`, `ligne_acheminement`, `telephone` and `nom_ej` (name of
the legal entity: the flux only; the extraction does not carry it) feed the directory of actors. x / y are kept in the projection of the file (`epsg`, read from `sourcecoordet`); lon / lat (WGS84) are
computed with pyproj when the projection is recognised, else left empty.
"""

from __future__ import annotations

import csv
import io
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, validate
from .lecture import single_file, strings

STRUCTUREET = ["type", "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib", "numvoie", "typvoie",
               "voie", "compvoie", "lieuditbp", "commune", "departement", "libdepartement", "ligneacheminement",
               "telephone", "telecopie", "categetab", "libcategetab", "categagretab", "libcategagretab", "siret",
               "codeape", "codemft", "libmft", "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai"]
GEOLOCALISATION = ["type", "nofinesset", "coordxet", "coordyet", "sourcecoordet", "datemaj"]
LAYOUTS = {"structureet": STRUCTUREET, "geolocalisation": GEOLOCALISATION}
# Overseas département codes of FINESS -> the first two digits of the INSEE commune code.
OUTRE_MER = {"9A": "97", "9B": "97", "9C": "97", "9D": "97", "9E": "97", "9F": "97", "9J": "98"}
# Categories the report groups (hospitals, clinics, CLCC, EHPAD, centres and maisons de santé, pharmacies,
# laboratories): those of int_categorie_etablissement in models/075_int_etablissements.sql (a test keeps both equal).
# A national file where none of them occurs has changed its category codes: an error, not zero establishments.
CATEGORIES_GROUPEES = ("101", "106", "114", "292", "355", "109", "122", "128", "129", "365", "131", "500", "124", "603",
                       "620", "610", "611", "612")
ENTETE = re.compile(r"^finess;etalab;[^;]*;?(?P<date>\d{4}-\d{2}-\d{2})?", re.IGNORECASE)

ETABLISSEMENT = pa.DataFrameSchema(
    {
        "nofinesset": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{9}$"), unique=True),
        "nofinessej": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{9}$"), nullable=True),
        "rs": pa.Column(str, nullable=True),
        "rslongue": pa.Column(str, nullable=True),
        "code_commune": pa.Column(str, pa.Check.str_matches(r"^(\d{5}|2[AB]\d{3})$"), nullable=True),
        "categetab": pa.Column(str, pa.Check.str_matches(r"^\d{3}$")),
        "libcategetab": pa.Column(str, nullable=True),
        "categagretab": pa.Column(str, pa.Check.str_matches(r"^\d{4}$"), nullable=True),
        "libcategagretab": pa.Column(str, nullable=True),
        "dateouv": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"), nullable=True),
        "x": pa.Column(float, nullable=True),
        "y": pa.Column(float, nullable=True),
        "source_coord": pa.Column(str, nullable=True),
        "epsg": pa.Column("Int64", nullable=True),
        "lon": pa.Column(float, pa.Check.in_range(-180, 180), nullable=True),
        "lat": pa.Column(float, pa.Check.in_range(-90, 90), nullable=True),
        "date_extraction": pa.Column(str, nullable=True),
        "adresse": pa.Column(str, nullable=True),
        "code_postal": pa.Column(str, pa.Check.str_matches(r"^\d{5}$"), nullable=True),
        "ligne_acheminement": pa.Column(str, nullable=True),
        "telephone": pa.Column(str, nullable=True),
        "nom_ej": pa.Column(str, nullable=True),
    },
    strict=True,
    name="finess_etablissement",
)


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM); a file that is not UTF-8 is read line by line, UTF-8 first then
    Windows-1252 (latin-1 for the five bytes Windows-1252 leaves undefined), so that a mixed file reads too."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = []
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                lines.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                lines.append(line.decode("latin-1"))
    return "\n".join(lines)


def code_insee(departement: str, commune: str) -> str | None:
    """FINESS département + 3-digit commune code -> INSEE commune code (None when it cannot be built)."""
    dep, com = departement.strip().upper(), commune.strip()
    if not dep or not com:
        return None
    if com.isdigit() and len(com) < 3:
        com = com.zfill(3)
    if dep in OUTRE_MER:
        return OUTRE_MER[dep] + com
    if dep.isdigit() and len(dep) == 1:
        dep = dep.zfill(2)
    return dep + com


def read_rows(text: str, fichier: str) -> tuple[str | None, dict[str, list[tuple[int, list[str]]]]]:
    """(extraction date, {row type -> [(line number, fields)]}), the arity of every row checked."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"')
    first = next(reader, None)
    premiere = ";".join(first or [])
    m = ENTETE.match(premiere)
    if not m:
        raise SourceFormatError(
            f"Fichier {fichier}, ligne 1 : ligne de métadonnées « finess;etalab;… » attendue, trouvé {premiere[:80]!r}. "
            "Ce n'est pas l'extraction FINESS des établissements (etalab-cs1100507) ; le format a-t-il changé ?"
        )
    rows: dict[str, list[tuple[int, list[str]]]] = {kind: [] for kind in LAYOUTS}
    for fields in reader:
        if not fields or fields == [""]:
            continue
        line = reader.line_num
        kind = fields[0].strip()
        if kind not in LAYOUTS:
            raise SourceFormatError(
                f"Fichier {fichier}, ligne {line}, colonne 'type' : type de ligne inconnu {kind[:40]!r} "
                f"(attendu : {' ou '.join(LAYOUTS)}). Le format a-t-il changé ?"
            )
        layout = LAYOUTS[kind]
        if len(fields) == len(layout) + 1 and not fields[-1].strip():
            fields = fields[:-1]  # one more trailing `;` on every row of the section (33 / 7 fields)
        if len(fields) != len(layout):
            if len(fields) < len(layout):
                colonne, quoi = repr(layout[len(fields)]), "absente"
            else:
                colonne, quoi = str(len(layout) + 1), "inattendue"
            raise SourceFormatError(
                f"Fichier {fichier}, ligne {line}, colonne {colonne} : {quoi} (ligne « {kind} » de {len(fields)} "
                f"champs au lieu de {len(layout)}). Le format a-t-il changé ?"
            )
        rows[kind].append((line, fields))
    if not rows["structureet"]:
        raise SourceFormatError(f"Fichier {fichier} : aucune ligne « structureet » (établissement).")
    if not rows["geolocalisation"]:
        raise SourceFormatError(
            f"Fichier {fichier} : aucune ligne « geolocalisation » : c'est sans doute l'extraction sans coordonnées "
            "(etalab-cs1100502) et non l'extraction géolocalisée (etalab-cs1100507) attendue."
        )
    return m.group("date"), rows


def coordinates(geo: pd.DataFrame, column: str, fichier: str) -> pd.Series:
    text = geo[column].str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = values.isna() & text.ne("")
    if bad.any():
        line = bad.idxmax()
        raise SourceFormatError(
            f"Fichier {fichier}, ligne {line}, colonne {column!r} : coordonnée non numérique {geo.at[line, column]!r}."
        )
    return values.astype(float)


def epsg_of(source: str) -> int | None:
    """The projection named by `sourcecoordet`: its `EPSG:nnnn` token, or a WGS84 UTM zone named without code
    (Saint-Pierre-et-Miquelon: « WGS84/UTM zone 21N »); None when none is recognised."""
    m = re.search(r"EPSG\s*:\s*(\d{4,5})", source, flags=re.IGNORECASE)
    if m:
        return int(m.group(1))
    m = re.search(r"WGS\s*-?\s*84\s*/\s*UTM\s+zone\s+(\d{1,2})\s*([NS])", source, flags=re.IGNORECASE)
    if m:
        return (32600 if m.group(2).upper() == "N" else 32700) + int(m.group(1))
    return None


@lru_cache(maxsize=32)
def _transformer(epsg: int):
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_epsg(epsg)
    except CRSError:
        return None
    if not crs.is_projected:  # only projected metres are expected here; anything else is not guessed
        return None
    return Transformer.from_crs(crs, 4326, always_xy=True)


def to_wgs84(x: pd.Series, y: pd.Series, epsg: pd.Series) -> tuple[pd.Series, pd.Series]:
    """lon / lat (WGS84) of each point from its own projection; NaN when the projection is unknown."""
    lon = pd.Series(np.nan, index=x.index)
    lat = pd.Series(np.nan, index=x.index)
    known = x.notna() & y.notna() & epsg.notna()
    for code in sorted(epsg[known].unique()):
        transformer = _transformer(int(code))
        if transformer is None:
            continue
        rows = known & epsg.eq(code)
        lo, la = transformer.transform(x[rows].to_numpy(), y[rows].to_numpy())
        lon[rows], lat[rows] = lo, la
    finite = np.isfinite(lon) & np.isfinite(lat)
    return lon.where(finite), lat.where(finite)


def street(numvoie, compvoie, typvoie, voie, lieudit) -> str | None:
    """« 12 B RUE DU PONT, BP 4 » from the address fields of the extraction (None when all are empty)."""
    numero = "".join(p for p in (numvoie, compvoie) if p)
    rue = " ".join(p for p in (numero, typvoie, voie) if p)
    return ", ".join(p for p in (rue, lieudit) if p) or None


def is_flux(path: Path) -> bool:
    """True when the file is the FINESS+ flux (gzip, or plain JSON), not the `;` extraction."""
    with open(path, "rb") as fh:
        start = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return start[:2] == b"\x1f\x8b" or start[:1] == b"{"


def exiger_categories(df: pd.DataFrame, fichier: str) -> pd.DataFrame:
    exiger_selection(df["categetab"].isin(CATEGORIES_GROUPEES).any(), fichier,
                     "aucun établissement d'une catégorie que le rapport regroupe (" + ", ".join(CATEGORIES_GROUPEES) + ")",
                     df["categetab"].dropna().unique(), "catégories présentes")
    return df


def parse_file(path: Path, fichier: str | None = None) -> pd.DataFrame:
    fichier = fichier or str(path)
    try:
        if is_flux(path):
            from . import finess_flux

            df = finess_flux.parse_file(path, fichier, list(ETABLISSEMENT.columns))
            df = df.astype({c: object for c in df.columns if c not in ("x", "y", "epsg", "lon", "lat")})
            df["epsg"] = df["epsg"].astype("Int64")
            return exiger_categories(strings(validate(df, ETABLISSEMENT, fichier)), fichier)
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceFormatError(f"Fichier {fichier} illisible : {exc}") from exc
    date, rows = read_rows(decode(raw), fichier)

    def frame(kind: str) -> pd.DataFrame:
        lines, fields = zip(*rows[kind])
        return pd.DataFrame(list(fields), columns=LAYOUTS[kind], index=pd.Index(lines, name="ligne"))

    et = frame("structureet").apply(lambda s: s.str.strip())
    et = et.mask(et.eq(""), None)
    geo = frame("geolocalisation")
    geo["nofinesset"] = geo["nofinesset"].str.strip()
    geo["x"] = coordinates(geo, "coordxet", fichier)
    geo["y"] = coordinates(geo, "coordyet", fichier)
    geo["source_coord"] = geo["sourcecoordet"].str.strip().replace("", None)
    geo = geo.drop_duplicates("nofinesset", keep="first").set_index("nofinesset")[["x", "y", "source_coord"]]

    df = pd.DataFrame(index=et.index)
    for column in ("nofinesset", "nofinessej", "rs", "rslongue"):
        df[column] = et[column]
    df["code_commune"] = [code_insee(d or "", c or "") for d, c in zip(et["departement"], et["commune"])]
    for column in ("categetab", "libcategetab", "categagretab", "libcategagretab", "dateouv"):
        df[column] = et[column]
    located = geo.reindex(et["nofinesset"].fillna(""))
    df["x"] = located["x"].to_numpy(dtype=float)
    df["y"] = located["y"].to_numpy(dtype=float)
    df["source_coord"] = located["source_coord"].to_numpy(dtype=object)
    df["source_coord"] = df["source_coord"].where(df["source_coord"].notna(), None)
    df["epsg"] = pd.array([epsg_of(s) if isinstance(s, str) else None for s in df["source_coord"]], dtype="Int64")
    df["lon"], df["lat"] = to_wgs84(df["x"], df["y"], df["epsg"])
    df["date_extraction"] = date
    df["adresse"] = [street(*r) for r in zip(et["numvoie"], et["compvoie"], et["typvoie"], et["voie"], et["lieuditbp"])]
    acheminement = et["ligneacheminement"].fillna("")
    df["code_postal"] = acheminement.str.extract(r"^(\d{5})\b", expand=False).where(lambda s: s.notna(), None)
    df["ligne_acheminement"] = acheminement.str.replace(r"^\d{5}\s*", "", regex=True).str.strip().replace("", None)
    df["telephone"] = et["telephone"]
    df["nom_ej"] = None
    df = df.astype({c: object for c in df.columns if c not in ("x", "y", "epsg", "lon", "lat")})
    return exiger_categories(strings(validate(df, ETABLISSEMENT, fichier)), fichier)  # index = line number in the file


def parse(folder: Path, spec: dict | None = None) -> dict[str, pd.DataFrame]:
    path = single_file(folder, "d'extraction FINESS des établissements")
    return {"stg_finess_etablissement": parse_file(path, path.name).reset_index(drop=True)}


def check_file(path: Path, *, name: str, spec: dict | None = None) -> None:
    """Parse the whole downloaded file as the build would (raises SourceFormatError)."""
    parse_file(path, name)


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_finess_etablissement": ETABLISSEMENT}
