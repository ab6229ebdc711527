"""What an Opendatasoft portal's catalogue says before a download: the id of a dataset that may have been
renamed (Odissé, `resoudre_id`), and the attachments a dataset lists (DREES APL workbooks).

Attachment ids change between publications (`…_apl_aux_infirmieres_xlsx`, then `indicateur_d_apl_aux_infirmiers_xlsx`
in third-party code): `diagnostic.ingest` reads the dataset's metadata before download and picks each file by a
registry pattern (`pieces_jointes`); the registry's URL stays the fallback. Pure functions, no pandera: this runs
at every ingest, before any parser.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from . import SourceFormatError

ID_PIECE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # an attachment id usable as the last URL segment
MIME_XLSX = "spreadsheetml"
AUTRES_EXTENSIONS = {"pdf", "zip", "7z", "csv", "xls", "ods", "odt", "doc", "docx", "txt", "json", "html", "ppt", "pptx"}
MIME_NEUTRES = {"", "application/octet-stream", "binary/octet-stream"}


def pieces_jointes(metadonnees: dict) -> list[dict]:
    """The attachments a dataset's metadata lists, as [{"id", "titre", "mimetype"}]. Accepted Opendatasoft shapes:
    the v2.0 record `GET /api/v2/catalog/datasets/<id>` (`{"dataset": {"attachments": [{id, title, mimetype, url}]}}`),
    the same record unwrapped (v2.1), and the attachments listing `GET …/catalog/datasets/<id>/attachments`
    (`{"attachments": [{href, metas: {"mime-type", title, id?, url?}}]}`, the id then being the last segment of
    `href` when `metas` has none)."""
    data = metadonnees.get("dataset") if isinstance(metadonnees, dict) and isinstance(metadonnees.get("dataset"), dict) else metadonnees
    rows = data.get("attachments") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SourceFormatError("Métadonnées du jeu : liste « attachments » absente (format Opendatasoft attendu).")
    out = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        metas = row.get("metas") if isinstance(row.get("metas"), dict) else {}
        ident = row.get("id") or metas.get("id") or urlsplit(str(row.get("href") or "")).path.rstrip("/").rsplit("/", 1)[-1]
        mime = row.get("mimetype") or metas.get("mime-type") or metas.get("mimetype") or metas.get("mimeType") or ""
        out.append({"id": str(ident or ""), "titre": str(row.get("title") or metas.get("title") or ""), "mimetype": str(mime)})
    return out


def est_xlsx(piece: dict) -> bool | None:
    """True for an xlsx workbook, False for another kind of file (PDF note, zip…), None when nothing says."""
    mime = piece["mimetype"].strip().lower()
    if MIME_XLSX in mime:
        return True
    for nom, sep in ((piece["titre"].strip(), "."), (piece["id"], "_")):
        ext = nom.rsplit(sep, 1)[-1].lower() if sep in nom else ""
        if ext == "xlsx":
            return True
        if ext in AUTRES_EXTENSIONS:
            return False
    return None if mime in MIME_NEUTRES else False


def choisir_piece_jointe(pieces: list[dict], motif: str) -> dict:
    """The one xlsx attachment whose id or title matches `motif` (regex); an attachment of unknown type is taken
    only when no xlsx matches. None or several: SourceFormatError naming them."""
    try:
        found = [p for p in pieces if re.search(motif, p["id"]) or re.search(motif, p["titre"])]
    except re.error as exc:
        raise SourceFormatError(f"motif « {motif} » invalide dans le registre ({exc})") from exc
    xlsx = [p for p in found if est_xlsx(p)]
    pool = xlsx or [p for p in found if est_xlsx(p) is None]
    if len(pool) == 1:
        return pool[0]
    if not pool:
        autres = f" (autres fichiers : {', '.join(p['id'] for p in found)})" if found else ""
        raise SourceFormatError(f"aucune pièce jointe xlsx ne correspond à « {motif} »{autres}")
    raise SourceFormatError(f"{len(pool)} pièces jointes correspondent à « {motif} » "
                            f"({', '.join(p['id'] for p in pool)}) au lieu d'une")


def urls_des_pieces_jointes(metadonnees: dict, motifs: dict[str, str],
                            urls: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Registry key -> download URL for each attachment found in the metadata: the registry URL (`urls[key]`,
    `…/attachments/<id>`) with its last segment replaced by the id picked by `motifs[key]`. Keys left out (no
    pattern, none or several matches) keep the registry URL; the second item lists French warnings about them."""
    pieces = [p for p in pieces_jointes(metadonnees) if ID_PIECE.match(p["id"])]
    choisies, avertissements = {}, []
    for key, url in urls.items():
        motif = motifs.get(key)
        if not motif:
            continue
        try:
            piece = choisir_piece_jointe(pieces, motif)
        except SourceFormatError as exc:
            avertissements.append(f"{key} : {exc}")
            continue
        choisies[key] = f"{url.rsplit('/', 1)[0]}/{quote(piece['id'], safe='')}"
    return choisies, avertissements


# ---------------------------------------------------------------------------- dataset ids in the catalogue
def resoudre_id(records: dict | list, motif: str, prefere: str | None = None) -> str:
    """Pick the dataset id to download from a catalogue listing (`GET …/catalog/datasets?where=…&select=dataset_id`,
    v2.1 JSON `{"results": [{"dataset_id": …}, …]}`): the registry's id (`prefere`) when the catalogue still
    serves it, else the one id matching `motif` (regex). A provisional id (`…-copie`) that was renamed is
    thus found again; several or no candidates is an error naming them."""
    rows = records.get("results", []) if isinstance(records, dict) else records
    ids = [str(r.get("dataset_id")) for r in rows if isinstance(r, dict) and r.get("dataset_id")]
    if prefere and prefere in ids:
        return prefere
    found = sorted(i for i in ids if re.search(motif, i))
    if len(found) != 1:
        raise SourceFormatError(
            f"Catalogue Odissé : {len(found)} jeu(x) correspondant à « {motif} » ({', '.join(found) or 'aucun'}) au "
            f"lieu d'un ; identifiant du registre : {prefere or 'aucun'}."
        )
    return found[0]


def url_catalogue(portail: str, motif_sql: str) -> str:
    """The catalogue query that lists candidate ids (ODSQL `search` on the id words)."""
    return (f"{portail.rstrip('/')}/api/explore/v2.1/catalog/datasets?select=dataset_id&limit=100"
            f"&where={quote(motif_sql)}")
