"""`diagnostic verifier`: the format each producer serves, compared with what the parsers read. Offline: a
loopback server serves the genuine files of ../shared/opendata, and above them a folder of this test where the
answers of the portals are written (hand-made, see below). One case per kind of difference: conforme, field
missing, code missing, dead URL, newer vintage, server without Range; exit codes and --json.

Hand-made inputs (never data): the Opendatasoft answers for `ameli_effectifs` (catalogue record, one record,
facets) are built from what the parser itself reads (its `REQUIRED` fields, the registry's `pathologies` codes
and vintage), in the shapes of the Opendatasoft Explore API (v2.0 record `{"dataset": {"fields": […]}}`, v2.1
`{"results": […]}` and `{"facets": [{"name", "facets": [{"name", "value", "count"}]}]}`), and likewise for
`ameli_demographie` (its REQUIRED fields, the GP labels of the registry, « Infirmiers »); the DREES urgences
header is the parser's documented one (`date;dep;libelle_dep;nb_passages`), with a column dropped."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import APL_WORKBOOK, OPENDATA, new_workspace, run_cli
from diagnostic.fetch import probe
from diagnostic.registry import load_registry
from diagnostic.sources import ameli_effectifs


class RangeMirror:
    """A loopback server over several folders (the first holding a path wins), honouring `Range: bytes=a-b` and
    `bytes=-n` unless `ranges` is False (then the whole file, 200). Records each request and its Range header."""

    def __init__(self, roots: list[Path], ranges: bool = True):
        self.roots, self.ranges, self.requests = roots, ranges, []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rel = unquote(urlsplit(self.path).path).lstrip("/")
                mirror.requests.append((rel, self.headers.get("Range")))
                path = next((r / rel for r in mirror.roots if (r / rel).is_file()), None)
                if path is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = path.read_bytes()
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range") or "")
                if mirror.ranges and m:
                    size = len(data)
                    if m.group(1):
                        a, b = int(m.group(1)), min(int(m.group(2) or size - 1), size - 1)
                    else:
                        a, b = max(size - int(m.group(2)), 0), size - 1
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {a}-{b}/{size}")
                    body = data[a:b + 1]
                else:
                    self.send_response(200)
                    body = data
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client closed after the bytes it wanted
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


EFFECTIFS = "data.ameli.fr/api/explore/v2.1/catalog/datasets/effectifs"
URGENCES = "www.data.gouv.fr/api/1/datasets/r/b0005488-e2a9-455a-ae33-b3263d06d119"


def ecrire(root: Path, rel: str, contenu) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(contenu if isinstance(contenu, bytes) else json.dumps(contenu, ensure_ascii=False).encode("utf-8"))


def portail_ameli(root: Path, *, champs: list[str] | None = None, codes: list[str] | None = None,
                  annees: list[str] | None = None) -> None:
    """The answers of data.ameli.fr for dataset `effectifs` (hand-made, from what the parser reads)."""
    spec = load_registry(root.parent / "ws" / "pipelines" / "sources.toml")["ameli_effectifs"]
    champs = list(ameli_effectifs.REQUIRED) if champs is None else champs
    selecteurs = [ameli_effectifs.selecteur(k, v) for k, v in spec.vintage()["pathologies"].items()]
    codes = [v for genre, v in selecteurs if genre == "top"] if codes is None else codes
    libelles = [v for genre, v in selecteurs if genre == "patho_niv1"]
    annees = [spec.latest] if annees is None else annees
    ecrire(root, "data.ameli.fr/api/v2/catalog/datasets/effectifs",
           {"dataset": {"dataset_id": "effectifs", "fields": [{"name": c, "label": c, "type": "text"} for c in champs]}})
    ecrire(root, f"{EFFECTIFS}/records", {"total_count": 1, "results": [{c: (annees[-1] if c == "annee" else "") for c in champs}]})
    ecrire(root, f"{EFFECTIFS}/facets", {"facets": [
        {"name": "annee", "facets": [{"name": a, "value": a, "count": 1, "state": "displayed"} for a in annees]},
        {"name": "top", "facets": [{"name": c, "value": c, "count": 1, "state": "displayed"} for c in codes]},
        {"name": "patho_niv1", "facets": [{"name": c, "value": c, "count": 1, "state": "displayed"} for c in libelles]}]})


@pytest.fixture
def bac(tmp_path):
    """(workspace, folder of the portals' answers served above ../shared/opendata)."""
    ws = new_workspace(tmp_path / "ws")
    root = tmp_path / "portails"
    root.mkdir()
    portail_ameli(root)
    ecrire(root, URGENCES, "date;dep;libelle_dep;nb_passages\r\n2017-01-01;01;Ain;123,5\r\n".encode())
    return ws, root


def verifier(ws: Path, mirror: str, *sources: str, json_: bool = False):
    args = ["verifier", *[a for s in sources for a in ("--source", s)]] + (["--json"] if json_ else [])
    proc = run_cli(ws, *args, mirror=mirror, check=False)
    lignes = {l.split(" : ", 1)[0]: l for l in proc.stdout.splitlines() if " : " in l}
    return proc, lignes


def test_conforme_on_the_genuine_files_and_a_conforming_portal(bac):
    ws, root = bac
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "cog", "contours", "apl_mg", "ameli_effectifs", "drees_urgences")
        demandes = list(m.requests)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for sid in ("cog", "contours", "apl_mg", "ameli_effectifs", "drees_urgences"):
        assert lignes[sid].startswith(f"{sid} : conforme"), lignes[sid]
    assert "feuilles Paramètres, APL 2022, APL 2023" in lignes["apl_mg"]
    assert "102 fichiers lus" in lignes["contours"]
    assert "5 source(s) conforme(s) sur 5." in proc.stderr
    # the least that shows the format: Range requests only, and the 3.8 MB workbook read in small parts
    assert all(r for _, r in demandes if not _.startswith("data.ameli.fr"))
    classeur = [r for p, r in demandes if p.endswith("medecins_generalistes_xlsx")]
    assert classeur[0] == "bytes=-65558"
    lus = sum(int(b) - int(a) + 1 for a, b in (re.fullmatch(r"bytes=(\d+)-(\d+)", r).groups() for r in classeur[1:]))
    assert lus < APL_WORKBOOK.stat().st_size / 4


def test_field_missing_blocks(bac):
    ws, root = bac
    ecrire(root, URGENCES, "date;dep;libelle_dep\r\n2017-01-01;01;Ain\r\n".encode())
    portail_ameli(root, champs=[c for c in ameli_effectifs.REQUIRED if c != "ntop"])
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "drees_urgences", "ameli_effectifs")
    assert proc.returncode == 1
    assert lignes["drees_urgences"] == "drees_urgences : champ absent : nb_passages (3 colonnes lues)"
    assert lignes["ameli_effectifs"].startswith("ameli_effectifs : champ absent : ntop")
    assert "écart bloquant pour : ameli_effectifs, drees_urgences." in proc.stderr


def test_code_missing_blocks(bac):
    ws, root = bac
    pathologies = load_registry(ws / "pipelines" / "sources.toml")["ameli_effectifs"].vintage()["pathologies"]
    cle, code = next(iter(pathologies.items()))
    autres = [c for c in pathologies.values() if isinstance(c, str) and c != code]
    portail_ameli(root, codes=autres)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "ameli_effectifs")
    assert proc.returncode == 1
    assert lignes["ameli_effectifs"].startswith(f"ameli_effectifs : code introuvable : {code} (pathologie {cle} ; "
                                                f"codes « top » de niveau 1 : {', '.join(sorted(autres)[:12])}")


def test_level_1_label_missing_blocks(bac):
    # the cardio-neurovascular and psychiatric groups are chosen by their level-1 label (registry selectors)
    ws, root = bac
    portail_ameli(root)
    facettes = json.loads((root / EFFECTIFS / "facets").read_text(encoding="utf-8"))
    niv1 = next(f for f in facettes["facets"] if f["name"] == "patho_niv1")
    niv1["facets"] = [f for f in niv1["facets"] if f["value"] != "Maladies psychiatriques"]
    ecrire(root, f"{EFFECTIFS}/facets", facettes)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "ameli_effectifs")
    assert proc.returncode == 1
    assert lignes["ameli_effectifs"].startswith("ameli_effectifs : code introuvable : libellé « Maladies psychiatriques » "
                                                "(pathologie psychiatrie ; groupes de niveau 1 : Maladies cardioneurovasculaires")


DEMOGRAPHIE = "data.ameli.fr/api/explore/v2.1/catalog/datasets/demographie-effectifs-et-les-densites"


def portail_demographie(root: Path, professions: list[str]) -> None:
    """The answers of data.ameli.fr for `demographie-effectifs-et-les-densites` (hand-made, from what the parser
    reads: its REQUIRED fields, the year of the registry, the professions given)."""
    from diagnostic.sources import ameli_demographie

    champs = list(ameli_demographie.REQUIRED)
    ecrire(root, "data.ameli.fr/api/v2/catalog/datasets/demographie-effectifs-et-les-densites",
           {"dataset": {"dataset_id": "demographie-effectifs-et-les-densites",
                        "fields": [{"name": c, "label": c, "type": "date" if c == "annee" else "text"} for c in champs]}})
    ecrire(root, f"{DEMOGRAPHIE}/records", {"total_count": 1, "results": [{c: ("2024-01-01" if c == "annee" else "")
                                                                           for c in champs}]})
    ecrire(root, f"{DEMOGRAPHIE}/facets", {"facets": [
        {"name": "annee", "facets": [{"name": "2024", "value": "2024", "count": 1, "state": "displayed"}]},
        {"name": "profession_sante", "facets": [{"name": p, "value": p, "count": 1, "state": "displayed"}
                                                for p in professions]}]})


def test_gp_labels_of_the_demographie_checked(bac):
    ws, root = bac
    hors_mep = "Médecins généralistes (hors médecins à expertise particulière - MEP)"
    mep = "Médecins généralistes à expertise particulière (MEP)"
    portail_demographie(root, [hors_mep, mep, "Infirmiers"])
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "ameli_demographie")
    assert proc.returncode == 0 and lignes["ameli_demographie"].startswith("ameli_demographie : conforme"), proc.stdout
    portail_demographie(root, [hors_mep, "Infirmiers"])  # the MEP label gone: the GP count would be wrong
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "ameli_demographie")
    assert proc.returncode == 1
    assert lignes["ameli_demographie"].startswith(f"ameli_demographie : code introuvable : profession « {mep} » "
                                                  f"(professions : Infirmiers, {hors_mep})"), lignes["ameli_demographie"]


def test_dead_url_blocks(bac):
    ws, root = bac
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "rpps", "cog")
    assert proc.returncode == 1
    assert lignes["rpps"] == "rpps : URL morte (HTTP 404) (ressources du jeu data.gouv non lues)"
    assert lignes["cog"].startswith("cog : conforme")


def test_newer_vintage_reported_without_blocking(bac):
    ws, root = bac
    source = load_registry(ws / "pipelines" / "sources.toml")["ameli_effectifs"]
    suivante = str(int(source.latest) + 1)
    portail_ameli(root, annees=[source.latest, suivante])
    ecrire(root, "unpkg.com/@etalab/decoupage-administratif/package.json",
           {"name": "@etalab/decoupage-administratif", "version": "7.0.0"})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "ameli_effectifs", "cog")
    assert proc.returncode == 0, proc.stdout
    assert lignes["ameli_effectifs"].startswith(f"ameli_effectifs : nouveau millésime disponible : {suivante} "
                                                f"(registre : {source.latest})")
    assert lignes["cog"].startswith("cog : nouveau millésime disponible : @etalab/decoupage-administratif 7.0.0 "
                                    "(registre : 6.0.0)")


def test_expected_vintage_absent_blocks_a_refined_export(bac):
    ws, root = bac
    source = load_registry(ws / "pipelines" / "sources.toml")["ameli_effectifs"]
    precedente = str(int(source.latest) - 1)
    portail_ameli(root, annees=[precedente])
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "ameli_effectifs")
    assert proc.returncode == 1  # the export asks refine=annee:<latest>: it would be empty
    assert lignes["ameli_effectifs"].startswith(f"ameli_effectifs : millésime attendu absent : {source.latest} "
                                                f"(dernier publié : {precedente})")


def test_server_without_range(bac):
    """The server ignores Range: the first bytes are read and the stream closed; a zip is read from its start
    (the workbook's sheets are there, its header row is not: said, never taken for a difference)."""
    ws, root = bac
    with RangeMirror([root, OPENDATA], ranges=False) as m:
        proc, lignes = verifier(ws, m.url, "cog", "drees_urgences", "apl_mg")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lignes["drees_urgences"] == ("drees_urgences : conforme (serveur sans requêtes partielles : début du fichier "
                                        "lu, puis connexion fermée ; 4 colonnes lues)")
    assert lignes["cog"].startswith("cog : conforme (serveur sans requêtes partielles")
    assert lignes["apl_mg"].startswith("apl_mg : conforme (serveur sans requêtes partielles : classeur non lu au-delà de son début")
    assert "feuilles Paramètres, APL 2022, APL 2023" in lignes["apl_mg"]


def test_json_for_scripts(bac):
    ws, root = bac
    with RangeMirror([root, OPENDATA]) as m:
        proc, _ = verifier(ws, m.url, "rpps", "apl_mg", json_=True)
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["bloquant"] is True
    apl, rpps = out["sources"]
    assert rpps == {"source": "rpps", "conforme": False, "bloquant": True,
                    "ligne": "rpps : URL morte (HTTP 404) (ressources du jeu data.gouv non lues)",
                    "constats": [{"genre": "url_morte", "texte": "URL morte (HTTP 404)", "detail": "HTTP 404",
                                  "fichier": None, "bloquant": True}], "notes": ["ressources du jeu data.gouv non lues"]}
    assert apl["conforme"] is True and apl["constats"] == []


def test_unknown_source_refused(bac):
    ws, _ = bac
    proc = run_cli(ws, "verifier", "--source", "inconnue", mirror=str(OPENDATA), check=False)
    assert proc.returncode == 2 and "Source(s) inconnue(s) : inconnue" in proc.stderr


def test_probe_reads_a_range_or_the_start(tmp_path):
    data = bytes(range(256)) * 1000
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "f.bin").write_bytes(data)
    with RangeMirror([tmp_path]) as m:
        p = probe("https://h/f.bin", start=1000, end=1009, mirror=m.url)
        assert (p.status, p.ranged, p.data, p.total) == (206, True, data[1000:1010], len(data))
        q = probe("https://h/f.bin", suffix=5, mirror=m.url)
        assert q.data == data[-5:]
        assert probe("https://h/absent", mirror=m.url).status == 404
    with RangeMirror([tmp_path], ranges=False) as m:
        p = probe("https://h/f.bin", start=0, max_bytes=100, mirror=m.url)
        assert (p.status, p.ranged, p.data, p.total) == (200, False, data[:100], len(data))
    local = probe("https://h/f.bin", suffix=5, mirror=str(tmp_path))
    assert (local.ranged, local.data) == (True, data[-5:])


REALDATA = OPENDATA.parent / "realdata"
ODISSE_DEP = "couvertures-vaccinales-des-adolescent-et-adultes-departement"


def test_odisse_conforme_on_the_fields_of_the_genuine_export(bac):
    """Odissé answers built from the genuine API export (realdata, JSON, values untouched): the record served is
    its latest record, the catalogue's fields are its keys (labels from the genuine portal header, through
    `odisse.LIBELLES`), the years are its years. Without the catalogue record, the fields of the record are used."""
    from diagnostic.sources.odisse import LIBELLES

    ws, root = bac
    records = json.loads((REALDATA / "odisse-vaccination" / f"{ODISSE_DEP}.json").read_text(encoding="utf-8"))
    dernier = max(records, key=lambda r: r["an_mesure"])
    libelles = {v: k for k, v in LIBELLES.items()}
    base = f"odisse.santepubliquefrance.fr/api/explore/v2.1/catalog/datasets/{ODISSE_DEP}"
    ecrire(root, f"odisse.santepubliquefrance.fr/api/v2/catalog/datasets/{ODISSE_DEP}",
           {"dataset": {"dataset_id": ODISSE_DEP, "fields": [{"name": k, "label": libelles.get(k, k)} for k in dernier]}})
    ecrire(root, f"{base}/records", {"total_count": len(records), "results": [dernier]})
    annees = sorted({r["an_mesure"] for r in records})
    ecrire(root, f"{base}/facets", {"facets": [{"name": "an_mesure", "facets": [{"name": a, "value": a, "count": 1} for a in annees]}]})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "odisse_vaccination_departement")
        demandes = [p for p, _ in m.requests]
    assert annees[-1] == "2024"
    assert proc.returncode == 0, proc.stdout
    assert lignes["odisse_vaccination_departement"] == f"odisse_vaccination_departement : conforme ({len(dernier)} champs au catalogue)"
    assert f"{base}/records" in demandes and f"{base}/facets" in demandes

    (root / f"odisse.santepubliquefrance.fr/api/v2/catalog/datasets/{ODISSE_DEP}").unlink()
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "odisse_vaccination_departement")
    assert proc.returncode == 0, proc.stdout
    assert lignes["odisse_vaccination_departement"].startswith(
        "odisse_vaccination_departement : conforme (fiche du catalogue absente : champs lus sur un enregistrement")


def test_zip_member_and_its_header(bac, tmp_path):
    """A zip read from its end: the member the parser reads and its header. The archive is made here around the
    genuine `donnees_communes.csv` of the populations légales 2023 (realdata, bytes untouched; `ensemble.zip`
    itself is not at hand); an archive without it misses the member the parser reads."""
    import zipfile

    ws, root = bac
    genuine = (REALDATA / "poplegale-2023" / "donnees_communes.csv").read_bytes()
    cible = root / "www.insee.fr/fr/statistiques/fichier/8680726/ensemble.zip"
    cible.parent.mkdir(parents=True)
    with zipfile.ZipFile(cible, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("donnees_regions.csv", (REALDATA / "poplegale-2023" / "donnees_regions.csv").read_bytes())
        z.writestr("donnees_communes.csv", genuine)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "poplegale")
        lus = [r for p, r in m.requests if p.endswith("ensemble.zip")]
    assert proc.returncode == 0, proc.stdout
    assert lignes["poplegale"] == "poplegale : conforme (donnees_communes.csv : 7/7 colonnes attendues)"
    assert lus[0].startswith("bytes=-") and len(lus) == 3  # directory, local header, first compressed bytes

    with zipfile.ZipFile(cible, "w", zipfile.ZIP_DEFLATED) as z:  # an archive without the communes file
        z.writestr("donnees_regions.csv", (REALDATA / "poplegale-2023" / "donnees_regions.csv").read_bytes())
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "poplegale")
    assert proc.returncode == 1
    assert lignes["poplegale"] == ("poplegale : champ absent : fichier « donnees_communes.csv » dans l'archive "
                                   "(contenu : donnees_regions.csv)")


def test_finess_flux_and_a_newer_monthly_file_on_data_gouv(bac):
    """The genuine FINESS+ sample (realdata, bytes untouched) served at the registry's address: its start shows
    the flux's keys. The dataset's resources on data.gouv (hand-made answer in the shape of `/api/1/datasets/<slug>/`,
    `{"resources": [{"url"}]}`) list a later monthly file: a newer vintage, not blocking."""
    ws, root = bac
    source = load_registry(ws / "pipelines" / "sources.toml")["finess"]
    url = source.files()[next(iter(source.files()))]
    chemin = url.split("://", 1)[1]
    ecrire(root, chemin, (REALDATA / "finess-flux" / "finess-structures-mensuel-202607-echantillon_json.gz").read_bytes())
    m_url = re.match(r"^https://static\.data\.gouv\.fr/resources/([^/]+)/(\d{8})-\d{6}/(.*?)(\d{6})(\.json\.gz)$", url)
    assert m_url, url  # the registry's address of the monthly flux
    jeu, _, debut, mois, fin = m_url.groups()
    suivant = f"{int(mois[:4]) + (mois[4:] == '12')}{int(mois[4:]) % 12 + 1:02d}"
    plus_recent = f"https://static.data.gouv.fr/resources/{jeu}/29991001-021500/{debut}{suivant}{fin}"
    ecrire(root, f"www.data.gouv.fr/api/1/datasets/{jeu}", {"resources": [{"url": url}, {"url": plus_recent}]})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "finess")
    assert proc.returncode == 0, proc.stdout
    assert lignes["finess"] == (f"finess : nouveau millésime disponible : {debut}{suivant}{fin} du 01/10/2999 "
                                f"(registre : {debut}{mois}{fin}) (flux FINESS+ v1.0.0 du 2026-08-13)")


def test_census_archive_in_the_melodi_long_format(bac):
    """INSEE now publishes the census as Melodi long files: an archive holding `DS_RP_POPULATION_PRINC_2023_data.csv`
    is read by its header (the one quoted in the registry's evidence for rp_pop, hand-made file), not reported as a
    missing legacy member; without `OBS_VALUE` the field is missing."""
    import zipfile

    ws, root = bac
    source = load_registry(ws / "pipelines" / "sources.toml")["rp_pop"]
    cible = root / source.files()[next(iter(source.files()))].split("://", 1)[1]
    cible.parent.mkdir(parents=True)
    for entete, attendu, code in (("AGE;GEO;GEO_OBJECT;RP_MEASURE;SEX;TIME_PERIOD;OBS_VALUE", "rp_pop : conforme (DS_RP_POPULATION_PRINC_2023_data.csv (format long Melodi))", 0),
                                  ("AGE;GEO;GEO_OBJECT;RP_MEASURE;SEX;TIME_PERIOD", "rp_pop : champ absent : OBS_VALUE (DS_RP_POPULATION_PRINC_2023_data.csv) (DS_RP_POPULATION_PRINC_2023_data.csv (format long Melodi))", 1)):
        with zipfile.ZipFile(cible, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("DS_RP_POPULATION_PRINC_2023_data.csv", entete + "\n")
        with RangeMirror([root, OPENDATA]) as m:
            proc, lignes = verifier(ws, m.url, "rp_pop")
        assert (proc.returncode, lignes["rp_pop"]) == (code, attendu)


def test_codes_read_by_group_by_when_not_a_facet(bac):
    """A field the portal does not offer as a facet: its values come from `/exports/json?select=…&group_by=…`
    (hand-made answer, a JSON list of one-key rows as the export gives); a missing code is still found."""
    ws, root = bac
    pathologies = load_registry(ws / "pipelines" / "sources.toml")["ameli_effectifs"].vintage()["pathologies"]
    codes = [v for v in pathologies.values() if isinstance(v, str)]
    assert codes, "the registry selects some pathology by a `top` code"
    portail_ameli(root)
    facettes = json.loads((root / f"{EFFECTIFS}/facets").read_text(encoding="utf-8"))
    facettes["facets"] = [f for f in facettes["facets"] if f["name"] == "annee"]
    ecrire(root, f"{EFFECTIFS}/facets", facettes)
    ecrire(root, f"{EFFECTIFS}/exports/json", [{"top": c} for c in codes[1:]])
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "ameli_effectifs")
    assert proc.returncode == 1
    assert lignes["ameli_effectifs"].startswith(f"ameli_effectifs : code introuvable : {codes[0]} (pathologie ")
