"""CépiDc (Inserm) causes of death by département of residence: the parser on the hand-made answers of
tests/fixtures/cepidc_causes (shapes and field names of the portal's API as third-party code reads them; invented
counts, see tests/fixtures/README.md), then a run with those answers at the registry's URLs in a copy of the
offline mirror. Expected figures are recomputed here from the fixture with the json module."""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import FIXTURES, PROJECT, au_registre, miroir_lie, run_cli, projet_complet
from diagnostic.registry import load_registry
from diagnostic.sources import SelectionVide, SourceFormatError, cepidc

ICI = FIXTURES / "cepidc_causes"
SLUG = "cpts-centre-saone-et-loire"
BFC = ["21", "25", "39", "58", "70", "71", "89", "90"]  # the départements of Bourgogne-Franche-Comté


def spec() -> dict:
    return load_registry(PROJECT / "pipelines" / "sources.toml")["cepidc_causes"].vintage()


def attendus() -> dict[tuple[str, int], int]:
    """(département code, chapter) -> deaths summed over age classes, from the fixture's JSON."""
    codes = {v["label"]: v["code"] for v in json.loads((ICI / "codes_geo").read_text(encoding="utf-8")).values()}
    out = defaultdict(int)
    for r in json.loads((ICI / "mortalityQuery").read_text(encoding="utf-8")):
        out[codes[r["depdom"]], int(r["cause_of_death"].split(".")[0])] += r["sum_dc"]
    return out


def test_deaths_summed_over_ages_and_labels_turned_into_codes():
    df = cepidc.parse(ICI, spec())["stg_cepidc_deces_cause"]
    att = attendus()
    assert len(df) == len(att) == 9 * 18
    assert {(r.departement, r.chapitre): r.deces for r in df.itertuples()} == att
    sl = df[df["departement"] == "71"].set_index("chapitre")
    assert sl.loc[7, ["libelle", "groupe"]].tolist() == ["Maladies de l'appareil circulatoire", "circulatoire"]
    assert sl["groupe"].dropna().to_dict() == {2: "tumeurs", 7: "circulatoire", 8: "respiratoire", 17: "causes_externes"}


def _copie(tmp_path: Path, modifier) -> Path:
    dossier = tmp_path / "cepidc"
    shutil.copytree(ICI, dossier)
    data = json.loads((dossier / "mortalityQuery").read_text(encoding="utf-8"))
    modifier(data)
    (dossier / "mortalityQuery").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return dossier


def test_unknown_departement_label_names_record_and_field(tmp_path):
    dossier = _copie(tmp_path, lambda d: d[4].update(depdom="Seine-et-Loire"))
    with pytest.raises(SourceFormatError, match=r"mortalityQuery, enregistrement 5, champ 'depdom' : département « Seine-et-Loire »"):
        cepidc.parse(dossier, spec())


def test_missing_field_and_unreadable_count(tmp_path):
    dossier = _copie(tmp_path, lambda d: d[0].pop("sum_dc"))
    with pytest.raises(SourceFormatError, match=r"mortalityQuery, enregistrement 1 : champ\(s\) sum_dc absent"):
        cepidc.parse(dossier, spec())
    dossier = _copie(tmp_path / "b", lambda d: d[2].update(sum_dc="12,5"))
    with pytest.raises(SourceFormatError, match=r"enregistrement 3, champ 'sum_dc' : nombre de décès illisible '12,5'"):
        cepidc.parse(dossier, spec())


def test_several_sexes_would_count_deaths_twice(tmp_path):
    dossier = _copie(tmp_path, lambda d: d[7].update(sexe="Hommes"))
    with pytest.raises(SourceFormatError, match=r"champ 'sexe' : plusieurs valeurs \(Hommes, Tous sexes\)"):
        cepidc.parse(dossier, spec())


def test_an_all_ages_record_or_a_cell_read_twice_would_count_deaths_twice(tmp_path):
    """The deaths of a cell are summed over the ten-year classes: a « Tous âges » record beside them, or the same
    (département, class, chapter) twice, is refused, naming the record."""
    dossier = _copie(tmp_path, lambda d: d.append({**d[0], "cl_age10": "Tous âges"}))
    with pytest.raises(SourceFormatError, match=r"enregistrement 325, champ 'cl_age10' : classe d'âge 'Tous âges'"):
        cepidc.parse(dossier, spec())
    dossier = _copie(tmp_path / "b", lambda d: d.append(dict(d[3])))
    with pytest.raises(SourceFormatError, match=r"enregistrement 325 : département \d\d, classe d'âge '[^']+', chapitre \d+ déjà lus"):
        cepidc.parse(dossier, spec())
    dossier = _copie(tmp_path / "c", lambda d: d[5].pop("cl_age10"))
    with pytest.raises(SourceFormatError, match=r"enregistrement 6 : champ\(s\) cl_age10 absent"):
        cepidc.parse(dossier, spec())


def test_a_cause_group_whose_chapter_is_missing_lists_the_chapters_present(tmp_path):
    def sans_17(d):
        d[:] = [r for r in d if not r["cause_of_death"].startswith("17.")]
    dossier = _copie(tmp_path, sans_17)
    with pytest.raises(SelectionVide, match=r"aucun chapitre 17 dont le libellé correspond à « \(\?i\)externe » "
                                            r"\(groupe causes_externes\) ; chapitres présents : .*7\. Maladies de l'appareil circulatoire"):
        cepidc.parse(dossier, spec())


@pytest.fixture(scope="module")
def run_cepidc(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("cepidc")
    miroir = miroir_lie(tmp / "miroir")
    for nom in ("mortalityQuery", "codes_geo"):
        shutil.copyfile(ICI / nom, au_registre(miroir, "cepidc_causes", nom))
    ws = projet_complet(tmp / "ws")
    run_cli(ws, "run", SLUG, "--sans-pdf", mirror=str(miroir))
    return ws


def test_departement_and_region_rows_perimeter_and_incomplete_france_not_available(run_cepidc):
    with open(run_cepidc / "reports" / SLUG / "indicateurs.csv", encoding="utf-8", newline="") as fh:
        rows = {(r["territoire_type"], r["indicateur"]): r for r in csv.DictReader(fh) if r["source"] == "cepidc_causes"}
    att = attendus()
    total_71 = sum(v for (d, _), v in att.items() if d == "71")
    r = rows["departement", "deces_causes_total"]
    assert (float(r["valeur"]), r["statut"], r["millesime"], r["territoire_code"]) == (total_71, "ok", "2023", "71")
    r = rows["departement", "part_deces_tumeurs"]
    assert (float(r["numerateur"]), float(r["denominateur"])) == (att["71", 2], total_71)
    assert float(r["valeur"]) == pytest.approx(100 * att["71", 2] / total_71, abs=1e-9)
    # the région: deaths of its eight départements summed, then divided (never an average of their parts)
    total_bfc = sum(v for (d, _), v in att.items() if d in BFC)
    r = rows["region", "part_deces_causes_externes"]
    assert (r["territoire_code"], float(r["numerateur"]), float(r["denominateur"])) == ("27", sum(att[d, 17] for d in BFC), total_bfc)
    assert float(rows["region", "deces_causes_total"]["valeur"]) == total_bfc
    # France: most départements absent from the answer -> no sum; the perimeter is not published
    for t in ("france", "perimetre"):
        for ind in ("deces_causes_total", "part_deces_tumeurs", "part_deces_circulatoire", "part_deces_respiratoire",
                    "part_deces_causes_externes"):
            assert (rows[t, ind]["valeur"], rows[t, ind]["statut"]) == ("", "non_disponible"), (t, ind)


def test_report_shows_the_causes_in_the_health_section(run_cepidc):
    from html import unescape

    html = unescape((run_cepidc / "reports" / SLUG / "diagnostic.html").read_text(encoding="utf-8"))
    sante = html[html.index('id="section-4"'):html.index('id="section-5"')]
    assert "Part des décès dus aux maladies de l'appareil circulatoire" in sante
    assert "causes médicales de décès" in html.lower()
