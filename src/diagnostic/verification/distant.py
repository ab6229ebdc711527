"""What a remote file shows of its format, read with as few bytes as possible through the download layer
(`diagnostic.fetch.probe`: mirror, timeouts, TLS context): the first bytes of a text file, the member list of a
zip (its central directory, read from the end with an HTTP Range request), the first decompressed bytes of one
member, the sheet names and the first rows of an xlsx workbook.

A server that ignores Range sends the whole body: only its first bytes are read, then the stream is closed; a
zip is then read from its local headers at the start (`Archive.complete` False when the list may be partial)."""

from __future__ import annotations

import html
import re
import struct
import zlib
from dataclasses import dataclass

from ..fetch import Probe, probe

TETE = 65536  # bytes read at the start of a text file
QUEUE = 65536 + 22  # bytes read at the end of a zip: its end-of-central-directory record and, mostly, the directory
SANS_RANGE = 2_000_000  # bytes of the start of a zip read when the server ignores Range
DEBUT_MEMBRE = 262_144  # compressed bytes of a member read to show its first lines
FIN_MAX = 50_000_000  # compressed bytes of a member read whole to reach its end (the footer of a parquet file)


class UrlMorte(Exception):
    """The server answered an HTTP error (404, 410, 403…)."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


class FormatInattendu(Exception):
    """The bytes received are not of the expected kind (HTML page instead of a zip…); French message."""


def lire(url: str, **kwargs) -> Probe:
    """`probe`, with an HTTP error raised as UrlMorte."""
    p = probe(url, **kwargs)
    if p.status >= 400:
        raise UrlMorte(p.status)
    return p


def texte(data: bytes) -> str:
    """Bytes of a text file (UTF-8 with or without BOM, else Windows-1252), a cut multibyte character dropped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # the read stopped inside a character
            return data[:exc.start].decode("utf-8", errors="replace")
        return data.decode("cp1252", errors="replace")


def premieres_lignes(data: bytes, n: int = 2) -> list[str]:
    """The first `n` complete lines of a text (a last line cut by the read is left out, unless it is the only one)."""
    lignes = texte(data).replace("\r\n", "\n").split("\n")
    complete = lignes[:-1] if len(lignes) > 1 else lignes
    return complete[:n]


def _est_html(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \r\n\t")[:32].lower().startswith((b"<!doctype html", b"<html"))


@dataclass
class Membre:
    nom: str
    methode: int
    taille_compressee: int
    position: int  # offset of its local header


class Archive:
    """A remote zip (or xlsx): its member list and the first bytes of a member."""

    def __init__(self, url: str):
        self.url = url
        self.membres: dict[str, Membre] = {}
        self.complete = True
        fin = lire(url, suffix=QUEUE, max_bytes=SANS_RANGE)
        self.ranged = fin.ranged
        if _est_html(fin.data):
            raise FormatInattendu("page HTML au lieu d'une archive ZIP")
        if fin.ranged:
            self._repertoire(fin)
        else:  # the server sent the file from its start
            self._debut = fin.data
            self._en_tetes_locaux(fin.data)
            self.complete = self.complete and fin.total is not None and len(fin.data) >= fin.total

    def _repertoire(self, fin: Probe) -> None:
        data = fin.data
        eocd = data.rfind(b"PK\x05\x06")
        if eocd < 0 or len(data) < eocd + 22:
            raise FormatInattendu("fin de répertoire ZIP introuvable (ce n'est pas une archive ZIP)")
        n, taille, position = struct.unpack("<HII", data[eocd + 10:eocd + 20])
        if position == 0xFFFFFFFF or taille == 0xFFFFFFFF:  # ZIP64: the locator gives the real end record
            loc = data.rfind(b"PK\x06\x07", 0, eocd)
            if loc < 0:
                raise FormatInattendu("archive ZIP64 sans localisateur")
            (pos64,) = struct.unpack("<Q", data[loc + 8:loc + 16])
            rec = lire(self.url, start=pos64, end=pos64 + 55).data
            n, taille, position = struct.unpack("<QQQ", rec[32:56])
        debut_queue = (fin.total or len(data)) - len(data)
        if position >= debut_queue and fin.total:
            cd = data[position - debut_queue:position - debut_queue + taille]
        else:
            cd = lire(self.url, start=position, end=position + taille - 1, max_bytes=taille).data
        i = 0
        while i + 46 <= len(cd) and cd[i:i + 4] == b"PK\x01\x02":
            methode, = struct.unpack("<H", cd[i + 10:i + 12])
            csize, = struct.unpack("<I", cd[i + 20:i + 24])
            nlen, elen, clen = struct.unpack("<HHH", cd[i + 28:i + 34])
            offset, = struct.unpack("<I", cd[i + 42:i + 46])
            nom = cd[i + 46:i + 46 + nlen].decode("utf-8", errors="replace")
            extra = cd[i + 46 + nlen:i + 46 + nlen + elen]
            if csize == 0xFFFFFFFF or offset == 0xFFFFFFFF:  # ZIP64 extra field (id 1): sizes then offset
                vals = list(struct.unpack("<" + "Q" * ((len(extra) - 4) // 8), extra[4:4 + 8 * ((len(extra) - 4) // 8)])) \
                    if extra[:2] == b"\x01\x00" else []
                if struct.unpack("<I", cd[i + 24:i + 28])[0] == 0xFFFFFFFF and vals:
                    vals.pop(0)  # uncompressed size
                if csize == 0xFFFFFFFF and vals:
                    csize = vals.pop(0)
                if offset == 0xFFFFFFFF and vals:
                    offset = vals.pop(0)
            self.membres[nom] = Membre(nom, methode, csize, offset)
            i += 46 + nlen + elen + clen
        if len(self.membres) != n:
            self.complete = False

    def _en_tetes_locaux(self, data: bytes) -> None:
        i = 0
        if not data.startswith(b"PK\x03\x04"):
            raise FormatInattendu("signature ZIP absente au début du fichier")
        while i + 30 <= len(data) and data[i:i + 4] == b"PK\x03\x04":
            flags, methode = struct.unpack("<HH", data[i + 6:i + 10])
            csize, = struct.unpack("<I", data[i + 18:i + 22])
            nlen, elen = struct.unpack("<HH", data[i + 26:i + 30])
            nom = data[i + 30:i + 30 + nlen].decode("utf-8", errors="replace")
            self.membres[nom] = Membre(nom, methode, csize, i)
            if flags & 0x08 or csize == 0xFFFFFFFF:  # sizes after the data: the next header cannot be found
                self.complete = False
                return
            i += 30 + nlen + elen + csize

    def _donnees(self, nom: str) -> int:
        """The offset of the (compressed) data of member `nom`, after its local header."""
        m = self.membres[nom]
        if self.ranged:
            head = lire(self.url, start=m.position, end=m.position + 29 + 1024, max_bytes=1054).data
        else:
            head = self._debut[m.position:m.position + 30 + 1024]
        if head[:4] != b"PK\x03\x04":
            raise FormatInattendu(f"en-tête local du fichier {nom} illisible")
        nlen, elen = struct.unpack("<HH", head[26:30])
        return m.position + 30 + nlen + elen

    def debut(self, nom: str, octets: int = DEBUT_MEMBRE) -> bytes | None:
        """The first decompressed bytes of member `nom` (None when they cannot be read without Range)."""
        m = self.membres[nom]
        start = self._donnees(nom)
        n = min(m.taille_compressee, octets) if m.taille_compressee else octets
        if self.ranged:
            brut = lire(self.url, start=start, end=start + n - 1, max_bytes=n).data
        elif start + n <= len(self._debut) or start < len(self._debut):
            brut = self._debut[start:start + n]
        else:
            return None
        if m.methode == 0:
            return brut
        if m.methode != 8:
            raise FormatInattendu(f"méthode de compression {m.methode} du fichier {nom} non lue")
        d = zlib.decompressobj(-15)
        try:
            return d.decompress(brut)
        except zlib.error as exc:
            raise FormatInattendu(f"fichier {nom} de l'archive illisible ({exc})") from None

    def fin(self, nom: str, octets: int = QUEUE) -> bytes | None:
        """The last `octets` bytes of member `nom` (the footer of a parquet file): a Range read of its end when it
        is stored, else the whole member decompressed (at most FIN_MAX compressed bytes). None when out of reach
        (a compressed member beyond FIN_MAX, or beyond the start read from a server without Range)."""
        m = self.membres[nom]
        if m.methode != 0 and m.taille_compressee > FIN_MAX:
            return None
        start = self._donnees(nom)
        if not self.ranged and start + m.taille_compressee > len(self._debut):
            return None
        if m.methode != 0:
            return self.debut(nom, m.taille_compressee)[-octets:]
        a, b = max(start, start + m.taille_compressee - octets), start + m.taille_compressee
        return lire(self.url, start=a, end=b - 1, max_bytes=b - a).data if self.ranged else self._debut[a:b]


# ---------------------------------------------------------------------------- xlsx


def _attr(tag: str, nom: str) -> str | None:
    m = re.search(rf'\b{nom}="([^"]*)"', tag)
    return html.unescape(m.group(1)) if m else None


def feuilles(archive: Archive) -> dict[str, str]:
    """Sheet name -> member path of an xlsx (from xl/workbook.xml and its relationships)."""
    wb = texte(archive.debut("xl/workbook.xml", 1_000_000) or b"")
    rels = texte(archive.debut("xl/_rels/workbook.xml.rels", 1_000_000) or b"") if "xl/_rels/workbook.xml.rels" in archive.membres else ""
    cibles = {}
    for tag in re.findall(r"<Relationship\b[^>]*>", rels):
        cible = (_attr(tag, "Target") or "").lstrip("/")
        cibles[_attr(tag, "Id")] = cible if cible.startswith("xl/") else f"xl/{cible}"
    out = {}
    for tag in re.findall(r"<sheet\b[^>]*>", wb):
        out[_attr(tag, "name") or ""] = cibles.get(_attr(tag, "r:id"), "")
    return out


def chaines_partagees(archive: Archive, toutes: bool = False) -> list[str]:
    """The first shared strings of an xlsx (ordered by first use in the workbook), or all of them (`toutes`:
    the whole member is read, when a header cell refers to a string beyond the first ones)."""
    if "xl/sharedStrings.xml" not in archive.membres:
        return []
    m = archive.membres["xl/sharedStrings.xml"]
    xml = texte(archive.debut("xl/sharedStrings.xml", m.taille_compressee if toutes else DEBUT_MEMBRE) or b"")
    return ["".join(html.unescape(t) for t in re.findall(r"<t\b[^>]*>(.*?)</t>", si, flags=re.S))
            for si in re.findall(r"<si\b[^>]*>(.*?)</si>", xml, flags=re.S)]


def _colonne(ref: str) -> int:
    n = 0
    for c in re.sub(r"\d", "", ref):
        n = n * 26 + ord(c) - 64
    return n - 1


def premieres_lignes_feuille(archive: Archive, membre: str, n: int = 30) -> list[list[str]]:
    """The first `n` complete rows of a sheet, as texts ('' for an empty cell). Shared strings are read as far
    as these rows need."""
    xml = texte(archive.debut(membre, 32_768) or b"")
    corps_lignes = re.findall(r"<row\b[^>]*>(.*?)</row>", xml, flags=re.S)[:n]
    indices = [int(i) for c in corps_lignes for i in re.findall(r'<c\b[^>]*\bt="s"[^>]*>\s*<v>(\d+)</v>', c)]
    chaines = chaines_partagees(archive)
    if indices and max(indices) >= len(chaines):
        chaines = chaines_partagees(archive, toutes=True)
    rows = []
    for corps in corps_lignes:
        cells: dict[int, str] = {}
        for attrs, contenu in re.findall(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", corps, flags=re.S):
            ref = _attr(attrs, "r") or ""
            kind = _attr(attrs, "t")
            v = re.search(r"<v>(.*?)</v>", contenu or "", flags=re.S)
            if kind == "s" and v:
                k = int(v.group(1))
                val = chaines[k] if k < len(chaines) else ""
            elif kind == "inlineStr":
                val = "".join(html.unescape(t) for t in re.findall(r"<t\b[^>]*>(.*?)</t>", contenu or "", flags=re.S))
            else:
                val = html.unescape(v.group(1)) if v else ""
            if ref:
                cells[_colonne(ref)] = val
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)] if cells else [])
    return rows


def registry_name(url: str) -> str:
    """The file name a URL is stored under (as `diagnostic.registry.local_name`)."""
    from ..registry import local_name

    return local_name(url)
