"""Reader of the FINESS+ structures flux (data.gouv dataset `finess-structures-1`, ANS), the successor of the
`etalab-cs1100507` extraction (not updated since May 2026). Called by `sources/finess.py` when the received
file is gzipped JSON.

Layout (genuine sample `realdata/finess-flux/`, producer schema `ansforge/finess`
`flux/out/data.gouv/structure/schema-structures-v1.json`; where they differ the data wins):
* top level `schemaVersion`, `generatedAt` (ISO timestamp: the extract's date), `gco`, `gcc`, `pmej`;
* `pmej[]` a legal entity: `informationsGeneralesPMEJ.numFinessPm`, `.denominationPm`, and `ege[]` its
  establishments (entités géographiques);
* `ege[]`: `informationsGeneralesEGE.numFinessEge`, `.nomEgeCourt`, `.nomEgeLong`, `.dateOuverture`,
  `.dateFermeture`; `categorieentiteGeographiqueExercice` (3-digit category code, no label);
  `etatObjet` (`A` open, `I` closed: in the sample every `I` has a `dateFermeture` and no `A` has one);
  `adresse[]` (several per establishment: the geographic one has `usageAdresse` `03`, not always first),
  with `cogCommune` (INSEE code), `codePostal`, `ligneAcheminement`, `ligneQuatre` (number and street),
  `coordonneesGeographique` (null for many) holding `coordonneeX/Y` and `directionLongitude/Latitude`:
  usually WGS 84 lon/lat in coordonnee* and the projected pair (Lambert-93 in metropolitan France, local UTM
  overseas: checked to 1e-6° on the sample for metropole, 972, 973, 974) in direction*, but one record has the
  projected pair in coordonnee*, and third-party code reports an ANS sample with the pairs swapped;
  `contact[]` with `telecom.telephone`.

The file is read as a stream (the national monthly file is ~700 MB of JSON once decompressed): legal entities
are decoded one at a time. Grain: one row per open establishment (numFinessEge); closed ones (`etatObjet` other
than `A`, or a `dateFermeture`) are left out. Output: the columns of `finess.ETABLISSEMENT`.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from . import SourceFormatError, exiger_selection

USAGE_GEOGRAPHIQUE = "03"
OUVERT = "A"
# Projection of the projected pair, by the first three characters of the INSEE commune code (default Lambert-93).
EPSG_OUTRE_MER = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "975": 4467, "976": 4471}
# Rough bounds (lon_min, lon_max, lat_min, lat_max) a point of each zone must fall in.
EMPRISES = {
    "metropole": (-5.5, 10.0, 41.0, 51.5),
    "971": (-62.0, -60.8, 15.7, 18.2), "972": (-61.4, -60.7, 14.3, 15.0), "973": (-54.7, -51.5, 2.0, 6.0),
    "974": (55.1, 56.0, -21.5, -20.8), "975": (-56.6, -55.9, 46.7, 47.2), "976": (44.9, 45.4, -13.1, -12.5),
}
CHUNK = 1 << 22
BLANC = re.compile(r"\s*")


def zone(code_commune: str | None) -> str:
    code = code_commune or ""
    return code[:3] if code[:3] in EMPRISES else "metropole"


def epsg_zone(code_commune: str | None) -> int:
    return EPSG_OUTRE_MER.get((code_commune or "")[:3], 2154)


def _stream(path: Path, fichier: str) -> tuple[dict, Iterator[dict]]:
    """(top-level scalars read before `pmej`, iterator over the `pmej` items), decoding one item at a time."""
    try:
        fh = gzip.open(path, "rt", encoding="utf-8")
        buf = fh.read(CHUNK)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SourceFormatError(f"Fichier {fichier} illisible comme JSON compressé (gzip) : {exc}") from exc
    decoder = json.JSONDecoder()
    state = {"buf": buf.lstrip("\ufeff"), "pos": 0, "eof": not buf}

    def more() -> bool:
        """Read on; the amount read grows with the pending text, so an item spanning many chunks is
        decoded a logarithmic number of times, not once per chunk."""
        if state["eof"]:
            return False
        try:
            chunk = fh.read(max(CHUNK, len(state["buf"]) - state["pos"]))
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise SourceFormatError(f"Fichier {fichier} illisible (archive gzip tronquée ?) : {exc}") from exc
        if not chunk:
            state["eof"] = True
            return False
        state["buf"] = state["buf"][state["pos"]:] + chunk
        state["pos"] = 0
        return True

    def skip_ws() -> str:
        while True:
            m = BLANC.match(state["buf"], state["pos"])
            state["pos"] = m.end()
            if state["pos"] < len(state["buf"]):
                return state["buf"][state["pos"]]
            if not more():
                return ""

    def value():
        skip_ws()
        while True:
            try:
                obj, end = decoder.raw_decode(state["buf"], state["pos"])
            except json.JSONDecodeError as exc:
                if more():
                    continue
                raise SourceFormatError(f"Fichier {fichier} : JSON mal formé ({exc.msg}).") from None
            state["pos"] = end
            return obj

    def expect(char: str, where: str) -> None:
        found = skip_ws()
        if found != char:
            raise SourceFormatError(f"Fichier {fichier} : « {char} » attendu {where}, trouvé {found[:20]!r}. "
                                    "Ce n'est pas le flux FINESS+ des structures (finess-structures) ; le format a-t-il changé ?")
        state["pos"] += 1

    expect("{", "au début du fichier")
    head: dict = {}
    while True:
        if skip_ws() == "}":
            break
        key = value()
        expect(":", f"après la clé {key!r}")
        if key == "pmej":
            break
        head[key] = value()
        if skip_ws() == ",":
            state["pos"] += 1
    if "pmej" not in head and skip_ws() != "[":
        raise SourceFormatError(f"Fichier {fichier} : clé « pmej » (entités juridiques) absente ; clés présentes : "
                                f"{', '.join(head) or '(aucune)'}. Le format a-t-il changé ?")

    def items() -> Iterator[dict]:
        expect("[", "pour la liste « pmej »")
        if skip_ws() == "]":
            return
        while True:
            item = value()
            yield item
            c = skip_ws()
            state["pos"] += 1
            if c == "]":
                break
            if c != ",":
                raise SourceFormatError(f"Fichier {fichier} : « , » ou « ] » attendu dans la liste « pmej », trouvé {c!r}.")
        fh.close()

    return head, items()


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value) -> float:
    try:
        return float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        return np.nan


def _in_box(lon: float, lat: float, box: tuple[float, float, float, float]) -> bool:
    return bool(np.isfinite(lon) and np.isfinite(lat) and box[0] <= lon <= box[1] and box[2] <= lat <= box[3])


def coordinates(coord: dict | None, code_commune: str | None) -> tuple[float, float, int | None, float, float, str | None]:
    """(x, y, epsg, lon, lat, note) of a `coordonneesGeographique` object: the WGS 84 pair is the one that falls in
    the zone of the commune; when none does, the projected pair is converted; a point outside the zone is refused."""
    nan = np.nan
    if not coord:
        return nan, nan, None, nan, nan, None
    box, epsg = EMPRISES[zone(code_commune)], epsg_zone(code_commune)
    cx, cy = _number(coord.get("coordonneeX")), _number(coord.get("coordonneeY"))
    dlon, dlat = _number(coord.get("directionLongitude")), _number(coord.get("directionLatitude"))
    if _in_box(cx, cy, box):
        lon, lat, px, py, note = cx, cy, dlon, dlat, "FINESS+ coordonneeX/Y (WGS 84)"
    elif _in_box(dlon, dlat, box):
        lon, lat, px, py, note = dlon, dlat, cx, cy, "FINESS+ directionLongitude/Latitude (WGS 84)"
    else:  # no WGS 84 pair: convert whichever pair is projected
        from .finess import _transformer

        transformer = _transformer(epsg)
        for px, py, where in ((cx, cy, "coordonneeX/Y"), (dlon, dlat, "directionLongitude/Latitude")):
            if transformer is not None and np.isfinite(px) and np.isfinite(py):
                lon, lat = transformer.transform(px, py)
                if _in_box(lon, lat, box):
                    return px, py, epsg, lon, lat, f"FINESS+ {where} (EPSG:{epsg}, converties)"
        return nan, nan, None, nan, nan, "FINESS+ coordonnées hors de la zone de la commune (ignorées)"
    if not (np.isfinite(px) and np.isfinite(py)):
        return nan, nan, None, lon, lat, note
    return px, py, epsg, lon, lat, note


def _address(adresses: list) -> dict:
    geo = [a for a in adresses or [] if isinstance(a, dict) and str(a.get("usageAdresse") or "").strip() == USAGE_GEOGRAPHIQUE]
    return geo[0] if geo else {}


def _street(a: dict) -> str | None:
    rue = _text(a.get("ligneQuatre"))
    if rue is None:
        parts = [_text(a.get(k)) for k in ("numeroVoie", "complementVoie", "typeVoie", "libelleVoie")]
        rue = " ".join(p for p in parts if p) or None
    lieu = _text(a.get("lieuDit"))
    return ", ".join(p for p in (rue, lieu) if p) or None


def _phone(contacts: list) -> str | None:
    for c in contacts or []:
        tel = _text(((c or {}).get("telecom") or {}).get("telephone"))
        if tel:
            return tel
    return None


def parse_file(path: Path, fichier: str, columns: list[str]) -> pd.DataFrame:
    head, items = _stream(path, fichier)
    generated = _text(head.get("generatedAt"))
    m = re.match(r"(\d{4}-\d{2}-\d{2})", generated or "")
    date = m.group(1) if m else None
    rows, etats, usages, total = [], set(), set(), 0
    for pmej in items:
        if not isinstance(pmej, dict):
            raise SourceFormatError(f"Fichier {fichier} : élément de « pmej » qui n'est pas un objet : {str(pmej)[:60]!r}.")
        info_pm = pmej.get("informationsGeneralesPMEJ") or {}
        for ege in pmej.get("ege") or []:
            total += 1
            info = ege.get("informationsGeneralesEGE") or {}
            numero = _text(info.get("numFinessEge"))
            etat = _text(ege.get("etatObjet"))
            etats.add(etat or "(vide)")
            for a in ege.get("adresse") or []:
                usages.add(_text((a or {}).get("usageAdresse")) or "(vide)")
            if etat != OUVERT or _text(info.get("dateFermeture")):
                continue
            a = _address(ege.get("adresse"))
            code = _text(a.get("cogCommune"))
            x, y, epsg, lon, lat, note = coordinates(a.get("coordonneesGeographique"), code)
            rows.append({
                "nofinesset": numero, "nofinessej": _text(info_pm.get("numFinessPm")),
                "rs": _text(info.get("nomEgeCourt")), "rslongue": _text(info.get("nomEgeLong")),
                "code_commune": code, "categetab": _text(ege.get("categorieentiteGeographiqueExercice")),
                "libcategetab": None, "categagretab": None, "libcategagretab": None,
                "dateouv": _text(info.get("dateOuverture")),
                "x": x, "y": y, "source_coord": note, "epsg": epsg, "lon": lon, "lat": lat,
                "date_extraction": date,
                "adresse": _street(a) if a else None, "code_postal": _text(a.get("codePostal")),
                "ligne_acheminement": _text(a.get("ligneAcheminement")), "telephone": _phone(ege.get("contact")),
                "nom_ej": _text(info_pm.get("denominationPm")) or _text(info_pm.get("denominationLonguePmSmsse")),
            })
    if not total:
        raise SourceFormatError(f"Fichier {fichier} : aucun établissement (pmej[].ege[]) dans le flux FINESS+.")
    exiger_selection(rows, fichier, f"aucun établissement ouvert (etatObjet « {OUVERT} » sans date de fermeture)",
                     etats, "états présents")
    exiger_selection(any(r["code_commune"] for r in rows), fichier,
                     f"aucune adresse géographique (usageAdresse « {USAGE_GEOGRAPHIQUE} ») avec une commune",
                     usages, "usages d'adresse présents")
    df = pd.DataFrame(rows, columns=columns)
    df.index = pd.RangeIndex(len(df), name="etablissement")
    return df
