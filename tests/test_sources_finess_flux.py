"""The FINESS+ structures flux (data.gouv `finess-structures-1`) read on the genuine sample of
../shared/realdata/finess-flux/ untouched: structure and quirks (closed establishments, geographic address
not first, coordinates in either pair, none at all), never counts as if national. Expected values are
computed here from the JSON with the standard library, independently of the reader."""

from __future__ import annotations

import gzip
import json
import math

import pandas as pd
import pytest

from diagnostic.sources import SourceFormatError, SelectionVide, finess, finess_flux

from conftest import PROJECT
from test_fetch import Reply, client, server  # noqa: F401 - the loopback server and its client (fixtures)
from test_sources_finess import lambert93_to_wgs84

REALDATA = PROJECT.parent / "shared" / "realdata" / "finess-flux"
SAMPLE = REALDATA / "finess-structures-mensuel-202607-echantillon_json.gz"


@pytest.fixture(scope="module")
def raw() -> dict:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def eges(raw) -> dict[str, dict]:
    return {e["informationsGeneralesEGE"]["numFinessEge"]: {**e, "_pm": pm["informationsGeneralesPMEJ"]}
            for pm in raw["pmej"] for e in pm["ege"]}


@pytest.fixture(scope="module", name="etab")
def etab_fixture() -> pd.DataFrame:
    return finess.parse_file(SAMPLE, SAMPLE.name).set_index("nofinesset")


def geographic(e: dict) -> dict:
    return next(a for a in e["adresse"] if a["usageAdresse"] == "03")


def test_sample_is_the_genuine_file():
    import hashlib

    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest().startswith("2a5dd226")


def test_only_open_establishments_are_kept(etab, eges):
    ouverts = {n for n, e in eges.items() if e["etatObjet"] == "A" and not e["informationsGeneralesEGE"]["dateFermeture"]}
    fermes = set(eges) - ouverts
    assert len(eges) == 1753 and len(fermes) == 912  # the sample's structure (README of realdata)
    assert set(etab.index) == ouverts and not (set(etab.index) & fermes)
    assert list(etab.reset_index().columns) == list(finess.tables()["stg_finess_etablissement"].columns)
    assert set(etab["date_extraction"]) == {"2026-08-13"}  # generatedAt of the file


def test_the_geographic_address_is_used_not_the_first(etab, eges):
    not_first = [n for n in etab.index if eges[n]["adresse"][0]["usageAdresse"] != "03"]
    assert not_first  # the sample holds open establishments whose 03 address is not first
    for n in not_first:
        a = geographic(eges[n])
        assert etab.at[n, "code_commune"] == a["cogCommune"]
        assert etab.at[n, "code_postal"] == a["codePostal"] and etab.at[n, "ligne_acheminement"] == a["ligneAcheminement"]
    differ = [n for n in not_first if eges[n]["adresse"][0]["cogCommune"] != geographic(eges[n])["cogCommune"]
              or eges[n]["adresse"][0].get("ligneQuatre") != geographic(eges[n]).get("ligneQuatre")]
    assert differ, "the sample should hold a first address that differs from the geographic one"


def test_names_category_legal_entity_and_phone(etab, eges):
    convert = etab.loc["010780195"]
    assert (convert.rs, convert.rslongue, convert.categetab) == ("CLINIQUE CONVERT", "CLINIQUE DOCTEUR CONVERT", "365")
    assert (convert.nofinessej, convert.nom_ej, convert.dateouv) == ("010000156", "CLINIQUE CONVERT", "1956-11-16")
    assert (convert.adresse, convert.code_postal, convert.telephone) == ("62 AVENUE DE JASSERON, BP 132", "01000", "0428631234")
    for n in etab.index:
        assert etab.at[n, "categetab"] == eges[n]["categorieentiteGeographiqueExercice"]


def test_coordinates_wgs84_in_either_pair_and_missing_ones(etab, eges):
    sans = [n for n in etab.index if geographic(eges[n]).get("coordonneesGeographique") is None]
    assert sans and etab.loc[sans, "lon"].isna().all() and etab.loc[sans, "x"].isna().all()
    avec = etab.index.difference(sans)
    assert etab.loc[avec, "lon"].notna().all()
    swapped = []
    for n in avec:
        c = geographic(eges[n])["coordonneesGeographique"]
        if abs(float(c["coordonneeX"])) > 180:  # the projected pair written in coordonneeX/Y
            swapped.append(n)
            lon, lat = float(c["directionLongitude"]), float(c["directionLatitude"])
        else:
            lon, lat = float(c["coordonneeX"]), float(c["coordonneeY"])
        assert (etab.at[n, "lon"], etab.at[n, "lat"]) == pytest.approx((lon, lat), abs=1e-9)
    assert swapped == ["010002285"]
    p = etab.loc["010002285"]
    assert (p.x, p.y, p.epsg) == (882630.01, 6542638.96, 2154)
    # its projected pair is indeed Lambert-93 of its WGS 84 pair (IGN formulas, not pyproj)
    assert lambert93_to_wgs84(p.x, p.y) == pytest.approx((p.lon, p.lat), abs=1e-5)


def test_projected_pairs_are_checked_against_lambert93_and_utm(etab):
    metro = etab[etab["code_commune"].str[:2].ne("97") & etab["x"].notna()]
    for row in metro.head(50).itertuples():
        assert lambert93_to_wgs84(row.x, row.y) == pytest.approx((row.lon, row.lat), abs=1e-5)
    outre_mer = etab[etab["code_commune"].str[:2].eq("97") & etab["x"].notna()]
    assert set(outre_mer["epsg"]) <= {5490, 2972, 2975}


def test_a_projected_pair_alone_is_converted_and_an_out_of_zone_point_refused():
    lon, lat = lambert93_to_wgs84(873766.07, 6570414.61)
    x, y, epsg, lo, la, note = finess_flux.coordinates(
        {"coordonneeX": "873766.07", "coordonneeY": "6570414.61", "directionLatitude": None, "directionLongitude": None},
        "01053")
    assert (x, y, epsg) == (873766.07, 6570414.61, 2154) and (lo, la) == pytest.approx((lon, lat), abs=1e-6)
    assert "converties" in note
    # WGS 84 of Bourg-en-Bresse given for a commune of Guadeloupe: outside the zone, not kept
    x, y, epsg, lo, la, note = finess_flux.coordinates(
        {"coordonneeX": "5.254203", "coordonneeY": "46.211257", "directionLatitude": "x", "directionLongitude": "y"}, "97101")
    assert math.isnan(lo) and math.isnan(la) and epsg is None and "hors de la zone" in note


def test_reading_in_small_chunks_gives_the_same_rows(etab, monkeypatch):
    monkeypatch.setattr(finess_flux, "CHUNK", 997)
    small = finess.parse_file(SAMPLE, SAMPLE.name).set_index("nofinesset")
    pd.testing.assert_frame_equal(small, etab)


def test_the_parser_picks_the_flux_by_its_content(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "finess-structures-mensuel-202608.json.gz").symlink_to(SAMPLE)
    df = finess.parse(tmp_path / "raw", {})["stg_finess_etablissement"]
    assert len(df) == 841 and df["nofinesset"].is_unique
    finess.check_file(SAMPLE, name=SAMPLE.name)


def write(tmp_path, obj, name="f.json.gz") -> str:
    path = tmp_path / name
    path.write_bytes(gzip.compress(json.dumps(obj).encode()))
    with pytest.raises(SourceFormatError) as err:
        finess.parse_file(path, name)
    return err


def test_bad_flux_files_are_refused_in_french(tmp_path):
    ege = {"informationsGeneralesEGE": {"numFinessEge": "010000001", "dateFermeture": "2020-01-01"},
           "categorieentiteGeographiqueExercice": "500", "etatObjet": "I",
           "adresse": [{"usageAdresse": "03", "cogCommune": "01053", "coordonneesGeographique": None}]}
    err = write(tmp_path, {"schemaVersion": "v1.0.0", "generatedAt": "2026-08-13T00:00:00Z", "pmej": [{"ege": [ege]}]})
    assert err.type is SelectionVide and "aucun établissement ouvert" in str(err.value) and "états présents : I" in str(err.value)
    ouvert = {**ege, "etatObjet": "A", "informationsGeneralesEGE": {"numFinessEge": "010000001", "dateFermeture": None},
              "adresse": [{"usageAdresse": "06", "cogCommune": "01053"}]}
    err = write(tmp_path, {"generatedAt": "2026-08-13", "pmej": [{"ege": [ouvert]}]})
    assert err.type is SelectionVide and "usageAdresse « 03 »" in str(err.value) and "usages d'adresse présents : 06" in str(err.value)
    err = write(tmp_path, {"generatedAt": "2026-08-13", "structures": []})
    assert "clé « pmej »" in str(err.value) and "generatedAt, structures" in str(err.value)
    path = tmp_path / "tronque.json.gz"
    path.write_bytes(SAMPLE.read_bytes()[:50_000])
    with pytest.raises(SourceFormatError, match="tronque.json.gz"):
        finess.parse_file(path, path.name)


# ------------------------------------------------------------------------ download check (loopback server)
def _refused_kept(server, client, tmp_path, body: bytes, headers: dict | None = None) -> str:
    """Serve `body` where the latest FINESS vintage is expected, over a previous file (the genuine sample):
    the download is refused as ingest checks it, the previous file kept untouched; the French message."""
    from diagnostic.fetch import FetchError, fetch
    from diagnostic.ingest import file_check
    from diagnostic.registry import load_registry

    source = load_registry(PROJECT / "pipelines" / "sources.toml")["finess"]
    dest = tmp_path / "finess-structures-mensuel-202608.json.gz"
    dest.write_bytes(SAMPLE.read_bytes())
    url = server.script("/resources/finess-structures-1/finess-structures-mensuel-202608.json.gz",
                        Reply(body=body, headers=headers or {}))
    with pytest.raises(FetchError) as err:
        fetch(url, dest, expect=source.format_of(), json_keys=source.json_keys(), refresh=True, client=client,
              check=lambda p: file_check(source)(p, name=dest.name), backoff=0.01, progress=False)
    assert dest.read_bytes() == SAMPLE.read_bytes() and not list(tmp_path.glob("*.part"))
    assert url in str(err.value)
    return str(err.value)


def test_registry_format_per_vintage():
    from diagnostic.registry import load_registry

    source = load_registry(PROJECT / "pipelines" / "sources.toml")["finess"]
    assert (source.format_of(), source.json_keys()) == ("json.gz", ("schemaVersion", "pmej"))
    assert (source.format_of("2026-05-12"), source.json_keys("2026-05-12")) == ("csv", ())


def test_a_genuine_flux_download_replaces_the_previous_file(server, client, tmp_path):
    from diagnostic.fetch import fetch
    from diagnostic.registry import load_registry

    source = load_registry(PROJECT / "pipelines" / "sources.toml")["finess"]
    dest = tmp_path / "finess-structures-mensuel-202608.json.gz"
    dest.write_bytes(b"previous")
    url = server.script("/f.json.gz", Reply(body=SAMPLE.read_bytes()))
    got = fetch(url, dest, expect=source.format_of(), json_keys=source.json_keys(), refresh=True, client=client,
                backoff=0.01, progress=False)
    assert got.downloaded and dest.read_bytes() == SAMPLE.read_bytes()


def test_an_html_page_keeps_the_previous_file(server, client, tmp_path):
    msg = _refused_kept(server, client, tmp_path, b"<!DOCTYPE html><html><body>Maintenance</body></html>",
                        {"Content-Type": "text/html"})
    assert "page HTML au lieu d'un fichier json.gz" in msg


def test_a_truncated_gzip_keeps_the_previous_file(server, client, tmp_path):
    body = gzip.compress(json.dumps({"schemaVersion": "v1.0.0", "pmej": [{"x": "y" * 5000}]}).encode())
    assert "archive gzip corrompue ou tronquée" in _refused_kept(server, client, tmp_path, body[: len(body) // 2])


def test_a_gzip_with_a_bad_crc_keeps_the_previous_file(server, client, tmp_path):
    body = bytearray(gzip.compress(json.dumps({"schemaVersion": "v1.0.0", "pmej": []}).encode()))
    body[-8] ^= 0xFF  # the CRC-32 of the gzip trailer
    assert "archive gzip corrompue ou tronquée" in _refused_kept(server, client, tmp_path, bytes(body))


def test_gzipped_json_without_the_flux_keys_keeps_the_previous_file(server, client, tmp_path):
    msg = _refused_kept(server, client, tmp_path, gzip.compress(b'{"type": "FeatureCollection", "features": []}'))
    assert "sans la ou les clés attendues : schemaVersion, pmej" in msg and "features, type" in msg
    msg = _refused_kept(server, client, tmp_path, gzip.compress(b'{"schemaVersion": "v1.0.0"}'))
    assert "clés attendues : pmej " in msg


def test_gzipped_text_that_is_not_json_keeps_the_previous_file(server, client, tmp_path):
    msg = _refused_kept(server, client, tmp_path, gzip.compress(b"<html><body>erreur</body></html>"))
    assert "le contenu décompressé n'est pas du JSON" in msg


def test_a_corrupt_file_without_gzip_signature_is_refused_by_the_parser_check(server, client, tmp_path):
    msg = _refused_kept(server, client, tmp_path, b"\x00\x01garbage;not;finess\n" * 10)
    assert "contenu refusé, le fichier précédent est conservé" in msg
