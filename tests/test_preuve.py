"""Evidence of each source's format (`[<source>.preuve]` in the registry): validated when the registry is read,
shown by `diagnostic status`, in the report's sources annex (HTML, PDF, Word) and in provenance.json."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import PROJECT, new_workspace, run_cli
from diagnostic.config import DiagnosticError
from diagnostic.registry import EVIDENCE_LEVELS, load_registry

SOURCE = """
[essai]
titre = "Essai"
producteur = "P"
licence = "LO"
page = "https://exemple.fr"
format = "csv"
parser = "rpps"
latest = "2024"

[essai.vintages."2024".files]
f = "https://exemple.fr/f.csv"
"""


def registre(tmp_path, preuve: str):
    path = tmp_path / "sources.toml"
    path.write_text(SOURCE + preuve, encoding="utf-8")
    return load_registry(path)


def test_preuve_read_with_toml_date_or_text(tmp_path):
    r = registre(tmp_path, '[essai.preuve]\nniveau = "code tiers"\nappuis = ["github:o/r@abc f.py — en-tête"]\n'
                           'verifie_le = 2026-12-01\nreste = "les codes"\n')
    p = r["essai"].preuve
    assert (p.niveau, p.appuis, p.verifie_le, p.reste) == ("code tiers", ("github:o/r@abc f.py — en-tête",), "2026-12-01", "les codes")
    r = registre(tmp_path, '[essai.preuve]\nniveau = "non vérifié"\nverifie_le = "2026-11-30"\n')
    assert r["essai"].preuve.verifie_le == "2026-11-30" and r["essai"].preuve.appuis == ()
    assert registre(tmp_path, "")["essai"].preuve is None


@pytest.mark.parametrize("table, attendu", [
    ('niveau = "fichier réel"\nsource = "x"\n', "clé(s) inconnue(s) : source"),
    ('niveau = "vérifié"\n', "niveau 'vérifié' invalide"),
    ('niveau = "documentation"\nverifie_le = "01/12/2026"\n', "« verifie_le » = '01/12/2026' n'est pas une date"),
    ('niveau = "documentation"\nappuis = [1]\n', "« appuis » doit être une liste de textes"),
])
def test_preuve_refused_with_a_french_message_naming_source_and_key(tmp_path, table, attendu):
    with pytest.raises(DiagnosticError) as exc:
        registre(tmp_path, "[essai.preuve]\n" + table)
    assert "source essai, table « preuve »" in str(exc.value)
    assert attendu in str(exc.value)


def test_registry_evidence_of_the_sources_read_from_genuine_files():
    sources = load_registry(PROJECT / "pipelines" / "sources.toml")
    niveaux = {sid: s.preuve.niveau for sid, s in sources.items() if s.preuve}
    assert {k: niveaux[k] for k in ("cog", "contours", "apl_mg", "apl_autres")} == {
        "cog": "fichier réel", "contours": "fichier réel", "apl_mg": "fichier réel", "apl_autres": "code tiers"}
    assert set(niveaux.values()) <= set(EVIDENCE_LEVELS)
    for sid in ("cog", "contours", "apl_mg", "apl_autres"):
        p = sources[sid].preuve
        assert p.appuis and p.verifie_le == "2026-12-01"
    assert any("sha256 6cafec09" in a for a in sources["cog"].preuve.appuis)  # the sha256 of communes.json in the mirror


def test_status_shows_the_evidence_column(tmp_path):
    ws = new_workspace(tmp_path / "ws")
    out = run_cli(ws, "status", env={"COLUMNS": "320"}).stdout
    assert "preuve" in out
    lignes = {l.split("│")[1].strip(): l for l in out.splitlines() if l.count("│") > 3}
    assert "fichier réel (01/12/2026)" in lignes["cog"]
    assert "code tiers (01/12/2026)" in lignes["apl_autres"]
    sans = [sid for sid, s in load_registry(ws / "pipelines" / "sources.toml").items() if s.preuve is None]
    for sid in sans:
        assert "non renseigné" in lignes[sid]


def test_evidence_in_provenance_and_in_the_sources_annex(built_workspace):
    out = built_workspace / "reports" / "cpts-centre-saone-et-loire"
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))["sources"]
    cog = [e for e in prov if e["source"] == "cog"]
    assert len(cog) == 4 and all(e["preuve_niveau"] == "fichier réel" and e["preuve_verifie_le"] == "2026-12-01" for e in cog)
    assert all(isinstance(e["preuve_appuis"], list) for e in prov if e["source"] in load_registry(built_workspace / "pipelines" / "sources.toml"))
    sources = load_registry(built_workspace / "pipelines" / "sources.toml")
    for e in prov:
        if e["source"] in sources and sources[e["source"]].preuve is None:
            assert e["preuve_niveau"] == "non renseigné"

    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    annexe = html[html.index('id="preuves"'):]
    annexe = annexe[:annexe.index("</div>")]
    assert annexe.count("<p>") == len(sources)  # one paragraph per registry source
    assert "<code>cog</code> — <strong>fichier réel</strong>, vérifié le 01/12/2026" in annexe
    assert "code tiers" in annexe and "<em>Appuis :</em> npm @etalab/decoupage-administratif 6.0.0" in annexe
    assert "Reste à vérifier :</em> Contours au COG 2018" in annexe

    import docx

    d = docx.Document(out / "diagnostic.docx")
    titres = [p.text for p in d.paragraphs]
    assert "Vérification du format de chaque source" in titres
    table = next(t for t in d.tables if t.rows[0].cells[1].text == "Niveau de preuve")
    rangs = {r.cells[0].text.split("\n")[-1]: r for r in table.rows[1:]}
    assert set(rangs) == set(sources)
    assert rangs["apl_mg"].cells[1].text.startswith("fichier réel") and rangs["apl_mg"].cells[2].text == "01/12/2026"
    assert rangs["rpps"].cells[1].text.startswith(sources["rpps"].preuve.niveau if sources["rpps"].preuve else "non renseigné")

    texte = subprocess.run(["pdftotext", str(out / "diagnostic.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "Vérification du format de chaque source" in texte and "Reste à vérifier :" in texte
    assert texte.count("Appuis :") >= sum(1 for s in sources.values() if s.preuve and s.preuve.appuis)
