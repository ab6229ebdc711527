"""`diagnostic verifier` on the CépiDc portal's API answers (source `cepidc_causes`): the département list and
the first record of the deaths answer, read from the start of the file through the loopback server of
test_verifier. One case per kind of difference: conforme, field missing, unexpected chapter form, département
list without its fields, age class `cl_age10` missing, aggregate (« Tous âges ») or empty, the same (département,
class, chapter) twice. Inputs: the hand-made answers of tests/fixtures/cepidc_causes (see its README entry),
changed here on one record or one entry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import FIXTURES, OPENDATA, au_registre
from test_verifier import RangeMirror, bac, verifier  # noqa: F401 (bac: the fixture)

ICI = FIXTURES / "cepidc_causes"


def _servir(root: Path, deces=None, codes=None) -> None:
    for nom, contenu in (("mortalityQuery", deces), ("codes_geo", codes)):
        cible = au_registre(root, "cepidc_causes", nom)
        if contenu is None:
            shutil.copyfile(ICI / nom, cible)
        else:
            cible.write_text(json.dumps(contenu, ensure_ascii=False), encoding="utf-8")


def _deces() -> list[dict]:
    return json.loads((ICI / "mortalityQuery").read_text(encoding="utf-8"))


def test_cepidc_conforme_then_a_field_missing(bac):
    ws, root = bac
    _servir(root)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "cepidc_causes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lignes["cepidc_causes"] == ("cepidc_causes : conforme (premier enregistrement : depdom, sexe, cl_age10, "
                                       "cause_of_death, sum_dc ; 324 enregistrements lus, classes d'âge : 65-74, "
                                       "75-84 ; 9 départements ; 2 fichiers lus)")

    deces = _deces()
    deces[0]["nb_dc"] = deces[0].pop("sum_dc")
    _servir(root, deces=deces)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "cepidc_causes")
    assert proc.returncode == 1
    assert lignes["cepidc_causes"].startswith("cepidc_causes : champ absent : sum_dc (mortalityQuery) (")


def test_cepidc_chapter_form_and_departement_list(bac):
    ws, root = bac
    deces = _deces()
    deces[0]["cause_of_death"] = "Tumeurs"
    _servir(root, deces=deces, codes={"71": {"libelle": "Saône-et-Loire", "code": "71"}})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "cepidc_causes")
    assert proc.returncode == 1
    ligne = lignes["cepidc_causes"]
    assert "format inattendu : cause « Tumeurs » (attendu : « N. libellé ») (mortalityQuery)" in ligne
    assert "champ absent : label, code (objet des départements) (codes_geo)" in ligne


def test_cepidc_age_class_missing_blocks(bac):
    ws, root = bac
    deces = _deces()
    del deces[5]["cl_age10"]
    _servir(root, deces=deces)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "cepidc_causes")
    assert proc.returncode == 1
    assert lignes["cepidc_causes"].startswith("cepidc_causes : champ absent : cl_age10 (mortalityQuery) (")


def test_cepidc_aggregate_or_empty_age_class_blocks(bac):
    ws, root = bac
    deces = _deces()
    tous_ages = [dict(r, cl_age10="Tous âges") for r in deces[:18]]  # the first département's 18 chapters, all ages
    deces[20]["cl_age10"] = " "
    _servir(root, deces=deces[:19] + tous_ages + deces[19:])
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "cepidc_causes")
    assert proc.returncode == 1
    assert lignes["cepidc_causes"].startswith(
        "cepidc_causes : format inattendu : classe d'âge « Tous âges » (enregistrement 20 ; classes décennales "
        "attendues, un total d'âges compterait les décès deux fois) (mortalityQuery) ; format inattendu : classe "
        "d'âge «   » (enregistrement 39 ; classes décennales attendues, un total d'âges compterait les décès deux "
        "fois) (mortalityQuery) (premier enregistrement : ")
    assert "classes d'âge : , 65-74, 75-84, Tous âges ;" in lignes["cepidc_causes"]


def test_cepidc_same_cell_twice_blocks(bac):
    ws, root = bac
    deces = _deces()
    _servir(root, deces=deces[:30] + [deces[2], deces[3]] + deces[30:])
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "cepidc_causes")
    assert proc.returncode == 1
    assert lignes["cepidc_causes"].startswith(
        "cepidc_causes : format inattendu : département « Ain », classe d'âge « 65-74 », chapitre 3 deux fois "
        "(enregistrements 3 et 31 ; les décès seraient comptés deux fois) (mortalityQuery) (premier enregistrement")
