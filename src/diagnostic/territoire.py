"""TERRITOIRE -> the communes of the target COG it covers, with French errors.

Accepted forms: a named perimeter `data/territoires/<slug>.toml` (nom, communes, cog, description),
`epci:<SIREN>`, `dep:<code>`, `communes:<code>,<code>,...`.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .config import DiagnosticError

if TYPE_CHECKING:  # the class is imported by report/ (tables, texte, maps): no warehouse, no duckdb at import time
    import duckdb

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
TOML_KEYS = {"nom": str, "communes": list, "cog": int, "description": str,
             "objectifs": object}  # objectifs: checked by suivi.objectifs (a faulty one never stops the run)


class TerritoireError(DiagnosticError):
    """The TERRITOIRE given cannot be resolved; the message names every faulty code."""


@dataclass(eq=False)
class Territoire:
    """A territory: the perimeter of a diagnostic (``type`` ``perimetre``, ``code`` its slug, with its communes,
    description, perimeter file and objectives) or one of its comparators as the report names it (``departement``,
    ``region``, ``france``, ``epci``: type, code and name only, e.g. a column of the report's tables). Two
    territories are equal when their type, code and name are."""

    type: str
    code: str
    nom: str
    description: str = ""
    communes: list[str] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)
    fichier: Path | None = None  # the perimeter file of a named territory
    objectifs: object = None  # its `objectifs` key as read (see suivi.objectifs)

    @property
    def slug(self) -> str:
        """The perimeter's slug (``reports/<slug>/``): its code."""
        return self.code

    @property
    def libelle(self) -> str:
        """The name as the report prints it: a département's name followed by its code."""
        if self.type == "departement" and self.code and self.code not in self.nom:
            return f"{self.nom} ({self.code})"
        return self.nom

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Territoire) and (self.type, self.code, self.nom) == (other.type, other.code, other.nom)

    def __hash__(self) -> int:
        return hash((self.type, self.code, self.nom))

    def selection(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """Rows (territoire_type, territoire_code, territoire_nom, commune) for the perimeter and its
        comparators: every département and région it touches, and France."""
        from .warehouse import model_sql

        perimetre = pd.DataFrame(
            {"territoire_type": "perimetre", "territoire_code": self.slug, "territoire_nom": self.nom, "commune": self.communes}
        )
        con.register("_perimetres", perimetre)
        try:
            comparateurs = con.sql(model_sql("comparateurs.sql")).df()
        finally:
            con.unregister("_perimetres")
        return pd.concat([perimetre, comparateurs], ignore_index=True)


def normalise_code(code: str) -> str:
    code = code.strip().upper()
    if re.fullmatch(r"\d{4}", code):  # a code that lost its leading zero in a spreadsheet
        code = "0" + code
    return code


def resolve(spec: str, con: duckdb.DuckDBPyConnection, territoires_dir: Path) -> Territoire:
    spec = (spec or "").strip()
    if not spec:
        raise TerritoireError(
            "Aucun territoire indiqué. Exemples : TERRITOIRE=cpts-centre-saone-et-loire, "
            "TERRITOIRE=epci:247100290, TERRITOIRE=dep:71, TERRITOIRE=communes:71076,71153"
        )
    kind, _, value = spec.partition(":")
    kind = kind.strip().lower()
    if not _:
        return _named(spec, con, territoires_dir)
    if kind == "epci":
        return _epci(value.strip(), con)
    if kind == "dep":
        return _departement(value.strip(), con)
    if kind == "communes":
        codes = [c for c in value.split(",")]
        digest = hashlib.sha1(",".join(sorted(normalise_code(c) for c in codes if c.strip())).encode()).hexdigest()[:8]
        return _communes(codes, con, slug=f"communes-{digest}", nom="Territoire de communes choisies",
                         description="Périmètre défini par une liste de communes.")
    raise TerritoireError(f"Forme de territoire inconnue « {kind}: » (formes acceptées : epci:, dep:, communes:, ou un nom de fichier de data/territoires/).")


def _named(slug: str, con, territoires_dir: Path) -> Territoire:
    if not SLUG.fullmatch(slug):
        raise TerritoireError(
            f"Nom de territoire invalide « {slug} » : lettres minuscules, chiffres et tirets seulement "
            "(le fichier correspondant est data/territoires/<nom>.toml)."
        )
    path = territoires_dir / f"{slug}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in territoires_dir.glob("*.toml"))
        raise TerritoireError(f"Territoire « {slug} » inconnu : aucun fichier {path}. Territoires disponibles : {', '.join(known) or 'aucun'}.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TerritoireError(f"Fichier de périmètre {path} illisible : {exc}") from exc
    problems = [f"clé « {k} » manquante" for k in ("nom", "communes") if k not in data]
    problems += [f"clé « {k} » inconnue" for k in data if k not in TOML_KEYS]
    problems += [
        f"clé « {k} » : type {type(v).__name__} au lieu de {TOML_KEYS[k].__name__}"
        for k, v in data.items() if k in TOML_KEYS and not isinstance(v, TOML_KEYS[k])
    ]
    if not problems and not all(isinstance(c, str) for c in data["communes"]):
        problems.append("« communes » doit être une liste de codes INSEE entre guillemets (ex. \"71076\")")
    if problems:
        raise TerritoireError(f"Fichier de périmètre {path} invalide : " + " ; ".join(problems) + ".")
    t = _communes(data["communes"], con, slug=slug, nom=data["nom"], description=data.get("description", ""))
    t.fichier, t.objectifs = path, data.get("objectifs")
    return t


def _epci(siren: str, con) -> Territoire:
    if not siren:
        raise TerritoireError("EPCI non précisé : indiquez son numéro SIREN, par exemple epci:247100290.")
    row = con.execute("SELECT code, nom FROM stg_cog_epci WHERE code = ?", [siren]).fetchone()
    if row is None:
        raise TerritoireError(f"EPCI « {siren} » inconnu au 1er janvier {_cog(con)} (attendu : le numéro SIREN à 9 chiffres d'un EPCI à fiscalité propre).")
    communes = [r[0] for r in con.execute("SELECT code FROM int_commune WHERE epci = ? ORDER BY code", [siren]).fetchall()]
    return Territoire("perimetre", f"epci-{siren}", row[1], description=f"Périmètre de l'EPCI {row[1]} (SIREN {siren}, {len(communes)} communes).", communes=communes)


def _departement(code: str, con) -> Territoire:
    code = code.upper().zfill(2) if code.isdigit() and len(code) < 2 else code.upper()
    row = con.execute("SELECT code, nom FROM stg_cog_departement WHERE code = ?", [code]).fetchone()
    if row is None:
        raise TerritoireError(f"Département « {code} » inconnu (exemples de codes : 01, 2A, 71, 974).")
    communes = [r[0] for r in con.execute("SELECT code FROM int_commune WHERE departement = ? AND champ_france ORDER BY code", [code]).fetchall()]
    if not communes:
        raise TerritoireError(f"Le territoire « {code} » ({row[1]}) est hors du champ couvert (France métropolitaine et DROM).")
    return Territoire("perimetre", f"dep-{code.lower()}", row[1], description=f"Périmètre du département {row[1]} ({code}).", communes=communes)


def _cog(con) -> str:
    return con.sql("SELECT millesime FROM meta_source WHERE cle = 'cog'").fetchone()[0]


def _communes(raw_codes: list[str], con, *, slug: str, nom: str, description: str) -> Territoire:
    warnings: list[str] = []
    codes: list[str] = []
    for raw in raw_codes:
        code = normalise_code(str(raw))
        if not code:
            continue
        if code != str(raw).strip():
            warnings.append(f"Code « {str(raw).strip()} » lu comme « {code} ».")
        if code in codes:
            warnings.append(f"Code {code} présent plusieurs fois : compté une seule fois.")
            continue
        codes.append(code)
    if not codes:
        raise TerritoireError(f"Le territoire « {nom} » ne contient aucune commune.")
    con.register("_codes", pd.DataFrame({"code": codes, "rang": range(len(codes))}))
    try:
        rows = con.sql(
            """
            SELECT k.code, c.code IS NOT NULL AS actuelle, c.champ_france, p.code_commune, p.nature, a.nom AS nom_actuel
            FROM _codes k
            LEFT JOIN int_commune c ON c.code = k.code
            LEFT JOIN int_cog_passage p ON p.code_source = k.code AND c.code IS NULL
            LEFT JOIN int_commune a ON a.code = p.code_commune
            ORDER BY k.rang
            """
        ).fetchall()
    finally:
        con.unregister("_codes")
    cog = _cog(con)
    errors = []
    for code, actuelle, champ, current, nature, current_nom in rows:
        if actuelle and champ:
            continue
        if actuelle:
            errors.append(f"{code} : commune d'une collectivité d'outre-mer, hors du champ couvert (France métropolitaine et DROM)")
        elif current:
            article = {"ancien code": "ancien code de la commune", "commune déléguée": "commune déléguée de", "commune associée": "commune associée à", "arrondissement municipal": "arrondissement municipal de"}[nature]
            errors.append(f"{code} n'est plus une commune au COG {cog} : {article} {current} ({current_nom}) ; utilisez {current}")
        else:
            errors.append(f"{code} : code commune inconnu au COG {cog}")
    if errors:
        raise TerritoireError(f"Territoire « {nom} » : " + " ; ".join(errors) + ".")
    con.register("_codes", pd.DataFrame({"code": codes}))
    try:
        regions = [r for (r,) in con.sql("SELECT DISTINCT r.nom FROM int_commune c JOIN stg_cog_region r ON r.code = c.region WHERE c.code IN (SELECT code FROM _codes) ORDER BY 1").fetchall()]
    finally:
        con.unregister("_codes")
    if len(regions) > 1:
        warnings.append(f"Le périmètre s'étend sur {len(regions)} régions ({', '.join(regions)}) : chacune sert de comparateur.")
    return Territoire("perimetre", slug, nom, description=description, communes=codes, avertissements=warnings)
