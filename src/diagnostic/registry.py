"""The source registry (`pipelines/sources.toml`): publisher, licence, format and URL per vintage.

Identifiers of this module are English; the fields of `Source` and `Evidence` keep the registry's own TOML keys
(`titre`, `producteur`, `preuve`, `niveau`, `appuis`…), the French names an analyst writes in the file."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from .config import DiagnosticError


SHARED = "communs"  # top-level table of blocks shared by several vintages (not a source)
SHARED_KEY = "commun"  # `{ commun = "<nom>" }`: a reference to the block [communs.<nom>]
EVIDENCE_LEVELS = ("fichier réel", "documentation", "code tiers", "non vérifié")
NOT_GIVEN = "non renseigné"  # shown for a source whose registry entry has no `preuve` table


@dataclass(frozen=True)
class Evidence:
    """How far the reading of a source has been checked against its real format (`[<source>.preuve]`).

    `niveau`: one of EVIDENCE_LEVELS; `appuis`: what it rests on (repository@commit and path, documentation
    page, genuine file and its sha256); `verifie_le`: ISO date of the check; `reste`: what remains unverified."""

    niveau: str
    appuis: tuple[str, ...] = ()
    verifie_le: str = ""
    reste: str = ""

    def as_dict(self) -> dict:
        return {"niveau": self.niveau, "appuis": list(self.appuis), "verifie_le": self.verifie_le, "reste": self.reste}


@dataclass(frozen=True)
class Source:
    id: str
    titre: str
    producteur: str
    licence: str
    page: str
    format: str
    parser: str
    latest: str
    note: str = ""
    vintages: dict = field(default_factory=dict)
    preuve: Evidence | None = None

    def files(self, vintage: str | None = None) -> dict[str, str]:
        """File name on disk -> official URL, for one vintage (the latest by default)."""
        spec = self.vintage(vintage)
        urls = dict(spec.get("files", {}))
        template = spec.get("template")
        if template:
            urls.update({key: template.format(key=key) for key in spec.get("keys", [])})
        return {local_name(url): url for url in urls.values()}

    def format_of(self, vintage: str | None = None) -> str:
        """The format of one vintage's files (`format` of the vintage, else the source's): what the download
        is checked as (`fetch.EXPECT_KINDS`)."""
        return str(self.vintage(vintage).get("format", self.format))

    def json_keys(self, vintage: str | None = None) -> tuple[str, ...]:
        """Top-level keys the vintage's JSON must hold (`cles_json`), checked on download."""
        return tuple(self.vintage(vintage).get("cles_json", ()))

    def vintage(self, vintage: str | None = None) -> dict:
        vintage = vintage or self.latest
        try:
            return self.vintages[vintage]
        except KeyError:
            raise DiagnosticError(
                f"Millésime {vintage!r} inconnu pour la source {self.id} "
                f"(millésimes du registre : {', '.join(sorted(self.vintages))})."
            ) from None


def local_name(url: str) -> str:
    """The file name a URL is stored under: the last segment of its path."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def load_registry(path: Path) -> dict[str, Source]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DiagnosticError(f"Registre des sources illisible ({path}) : {exc}") from exc
    shared = read_shared(data.pop(SHARED, {}), path)
    sources = {}
    for sid, spec in data.items():
        spec = dict(spec)
        if isinstance(spec.get("vintages"), dict):
            spec["vintages"] = {v: resolve_shared(t, shared, f"Registre {path}, source {sid}, millésime {v}")
                                for v, t in spec["vintages"].items()}
        evidence = read_evidence(sid, spec.pop("preuve", None), path)
        try:
            sources[sid] = Source(id=sid, preuve=evidence, **spec)
        except TypeError as exc:
            raise DiagnosticError(f"Entrée {sid!r} du registre {path} invalide : {exc}") from exc
    return sources


def read_shared(table, path: Path | str) -> dict[str, dict]:
    """The `[communs.<nom>]` tables: blocks several vintages share (e.g. the measures of the three Odissé
    vaccination levels), each written once and referenced by name (`mesures = { commun = "<nom>" }`)."""
    if not isinstance(table, dict) or not all(isinstance(t, dict) for t in table.values()):
        raise DiagnosticError(f"Registre {path}, table « {SHARED} » : une table par bloc commun est attendue "
                              f"([{SHARED}.<nom>]).")
    return table


def resolve_shared(value, shared: dict[str, dict], where: str):
    """`value` with every `{ commun = "<nom>" }` replaced by a copy of the block `[communs.<nom>]` (an unknown name
    is refused, naming the blocks the registry holds)."""
    if isinstance(value, dict):
        if SHARED_KEY in value:
            name = value[SHARED_KEY]
            if set(value) != {SHARED_KEY} or not isinstance(name, str):
                raise DiagnosticError(f"{where} : une référence à un bloc commun s'écrit {{ {SHARED_KEY} = \"<nom>\" }}, "
                                      f"sans autre clé (trouvé : {value!r}).")
            if name not in shared:
                known = ", ".join(f"« {n} »" for n in sorted(shared)) or "aucun"
                raise DiagnosticError(f"{where} : bloc commun « {name} » inconnu ; blocs de la table [{SHARED}] : {known}.")
            return copy.deepcopy(shared[name])
        return {k: resolve_shared(v, shared, where) for k, v in value.items()}
    return value


def evidence_summary(source: Source) -> str:
    """The evidence in a few words, for `diagnostic status`: « fichier réel (01/12/2026) », « non renseigné »."""
    p = source.preuve
    if p is None:
        return NOT_GIVEN
    if not p.verifie_le:
        return p.niveau
    return f"{p.niveau} ({date.fromisoformat(p.verifie_le).strftime('%d/%m/%Y')})"


def read_evidence(sid: str, table, path: Path | str) -> Evidence | None:
    """The `[<sid>.preuve]` table checked: known keys only, `niveau` one of EVIDENCE_LEVELS, `verifie_le` a date
    (TOML date or "YYYY-MM-DD"), `appuis` a list of strings, `reste` a string. None when the table is absent."""
    if table is None:
        return None
    where = f"Registre {path}, source {sid}, table « preuve »"
    if not isinstance(table, dict):
        raise DiagnosticError(f"{where} : une table est attendue ([{sid}.preuve]).")
    unknown = sorted(set(table) - {"niveau", "appuis", "verifie_le", "reste"})
    if unknown:
        raise DiagnosticError(f"{where} : clé(s) inconnue(s) : {', '.join(unknown)} "
                              "(clés permises : niveau, appuis, verifie_le, reste).")
    niveau = table.get("niveau")
    if niveau not in EVIDENCE_LEVELS:
        raise DiagnosticError(f"{where} : niveau {niveau!r} invalide ; niveaux permis : "
                              + ", ".join(f"« {n} »" for n in EVIDENCE_LEVELS) + ".")
    appuis = table.get("appuis", [])
    if isinstance(appuis, str):
        appuis = [appuis]
    if not isinstance(appuis, list) or not all(isinstance(a, str) for a in appuis):
        raise DiagnosticError(f"{where} : « appuis » doit être une liste de textes.")
    verifie_le = table.get("verifie_le", "")
    if isinstance(verifie_le, date):
        verifie_le = verifie_le.isoformat()[:10]
    elif isinstance(verifie_le, str) and verifie_le.strip():
        try:
            verifie_le = date.fromisoformat(verifie_le.strip()).isoformat()
        except ValueError:
            raise DiagnosticError(f"{where} : « verifie_le » = {verifie_le!r} n'est pas une date (AAAA-MM-JJ).") from None
    elif verifie_le not in ("", None):
        raise DiagnosticError(f"{where} : « verifie_le » = {verifie_le!r} n'est pas une date (AAAA-MM-JJ).")
    reste = table.get("reste", "")
    if not isinstance(reste, str):
        raise DiagnosticError(f"{where} : « reste » doit être un texte.")
    return Evidence(niveau=niveau, appuis=tuple(a.strip() for a in appuis), verifie_le=verifie_le or "", reste=reste.strip())
