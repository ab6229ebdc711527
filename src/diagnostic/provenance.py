"""Provenance: every file a report relies on, from the registry and the download manifests."""

from __future__ import annotations

from .config import Workspace
from .fetch import read_manifest
from .ingest import raw_folder
from .registry import NOT_GIVEN, Source


def preuve(source: Source) -> dict:
    """The evidence of a source's format as provenance keys: level, what it rests on, date checked, what
    remains unverified (« non renseigné » when the registry has no `preuve` table for it)."""
    p = source.preuve
    if p is None:
        return {"preuve_niveau": NOT_GIVEN, "preuve_appuis": [], "preuve_verifie_le": None, "preuve_reste": ""}
    return {"preuve_niveau": p.niveau, "preuve_appuis": list(p.appuis), "preuve_verifie_le": p.verifie_le or None,
            "preuve_reste": p.reste}


def files(ws: Workspace, sources: dict[str, Source], vintages: dict[str, str] | None = None) -> list[dict]:
    """One entry per raw file of the vintage used (default: latest): source, titles, URL, vintage,
    retrieval date, size, sha256, and the evidence of the source's format (`preuve_*`)."""
    out = []
    for sid, source in sources.items():
        vintage = (vintages or {}).get(sid, source.latest)
        manifest = read_manifest(raw_folder(ws, source, vintage))
        for name, url in source.files(vintage).items():
            rec = manifest.get(name)
            out.append(
                {
                    "source": sid,
                    "titre": source.titre,
                    "producteur": source.producteur,
                    "licence": source.licence,
                    "url": rec["url"] if rec else url,  # the URL actually used (an Odissé id may be re-resolved)
                    "millesime": vintage,
                    "fichier": name,
                    "recupere_le": rec["retrieved_at"] if rec else None,
                    "octets": rec["bytes"] if rec else None,
                    "sha256": rec["sha256"] if rec else None,
                    "disponible": rec is not None,
                    **({"nature_fichier": source.vintage(vintage)["nature_fichier"]}  # what this vintage's file is
                       if source.vintage(vintage).get("nature_fichier") else {}),
                    **preuve(source),
                }
            )
    return out


def summary(entries: list[dict], max_files: int = 3) -> list[dict]:
    """The provenance table of the report: a source with many files (one per département) is summed
    up in one row that sends the reader to provenance.json."""
    by_source: dict[str, list[dict]] = {}
    for e in entries:
        by_source.setdefault(e["source"], []).append(e)
    out = []
    for group in by_source.values():
        if len(group) <= max_files:
            out.extend(group)
            continue
        held = [e for e in group if e["disponible"]]
        dates = sorted(e["recupere_le"] for e in held)
        out.append(
            {
                **group[0],
                "url": group[0]["url"].rsplit("/", 2)[0] + "/…",
                "fichier": f"{len(group)} fichiers (liste et empreintes dans provenance.json)",
                "recupere_le": dates[-1] if dates else None,
                "octets": sum(e["octets"] for e in held) if held else None,
                "sha256": None,
                "disponible": len(held) == len(group),
            }
        )
    return out
