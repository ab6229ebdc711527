"""`diagnostic verifier`: with internet access, the format each producer serves today compared with what the
parsers read (columns, codes and labels selected on, the vintage expected, a newer vintage on offer), fetching
the least that shows it (`distant`), one check per kind of source (`controles`), one French line per source
(`constats`). Network format check only; the local integrity of the raw files is `diagnostic status --verifier`."""

from __future__ import annotations

import logging

from ..config import DiagnosticError, Workspace
from ..fetch import FetchError
from ..registry import Source
from .constats import Constat, Resultat
from .controles import CONTROLES, datagouv_recent, opendatasoft, vivant
from .distant import FormatInattendu, UrlMorte

__all__ = ["Constat", "Resultat", "verifier"]

log = logging.getLogger(__name__)


def _urls(ws: Workspace, source: Source) -> dict[str, str]:
    """The URLs a run would download: the registry's, with an Odissé id or a DREES attachment re-resolved
    through the portal's catalogue as `diagnostic.ingest` does."""
    from ..ingest import resolved_urls

    return resolved_urls(ws, source)


def verifier_source(ws: Workspace, source: Source) -> Resultat:
    res = Resultat(source.id)
    controle = CONTROLES.get(source.parser, vivant)
    try:
        urls = _urls(ws, source)
    except (FetchError, DiagnosticError) as exc:
        res.erreur(exc)
        return res
    if controle is opendatasoft:
        try:
            controle(res, source, urls)
        except (UrlMorte, FetchError, FormatInattendu) as exc:
            res.erreur(exc)
        return res
    for name, url in urls.items():
        try:
            controle(res, source, {name: url})
        except (UrlMorte, FetchError, FormatInattendu) as exc:
            res.erreur(exc, name if len(urls) > 1 else "")
    if len(urls) > 1:
        res.notes.append(f"{len(urls)} fichiers lus")
    try:
        datagouv_recent(res, source, urls)
    except FetchError as exc:
        res.notes.append(f"ressources du jeu data.gouv non lues ({exc.cause})")
    return res


def verifier(ws: Workspace, sources: dict[str, Source], seulement: list[str] | None = None) -> list[Resultat]:
    """The check of each registered source (or of those named in `seulement`), in registry order."""
    inconnues = [s for s in seulement or [] if s not in sources]
    if inconnues:
        raise DiagnosticError(f"Source(s) inconnue(s) : {', '.join(inconnues)} (registre : {', '.join(sources)}).")
    return [verifier_source(ws, source) for sid, source in sources.items() if not seulement or sid in seulement]
