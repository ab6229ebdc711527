"""The genuine populations légales 2023 (../shared/realdata/poplegale-2023, `donnees_communes.csv` untouched, put in a
zip as `ensemble.zip` holds it) at the registry's URL in a copy of the offline mirror: `diagnostic run` names them as
the source of the population, with the same figures as the COG communes file, Mayotte from the COG file, and the
population totale of the département equal to INSEE's own département row."""

from __future__ import annotations

import csv
import json
import zipfile

import pytest

from conftest import DECOUPAGE, PROJECT, au_registre, miroir_lie, run_cli, projet_complet

REEL = PROJECT.parent / "shared" / "realdata" / "poplegale-2023"
SLUG = "cpts-centre-saone-et-loire"

pytestmark = pytest.mark.skipif(not REEL.is_dir(), reason="fichiers réels absents (../shared/realdata/poplegale-2023)")


def test_run_with_the_genuine_populations_legales(tmp_path):
    miroir = miroir_lie(tmp_path / "miroir")
    archive = au_registre(miroir, "poplegale", "ensemble.zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(REEL / "donnees_communes.csv", "donnees_communes.csv")  # bytes untouched
    ws = projet_complet(tmp_path / "ws")
    run_cli(ws, "run", SLUG, "--sans-pdf", mirror=str(miroir))

    with open(ws / "reports" / SLUG / "indicateurs.csv", encoding="utf-8", newline="") as fh:
        rows = {(r["territoire_type"], r["indicateur"]): r for r in csv.DictReader(fh)}
    # independent figures: the COG communes file (population) and INSEE's département row (PTOT)
    cog = json.loads((DECOUPAGE / "communes.json").read_text(encoding="utf-8"))
    actuelles = [c for c in cog if c["type"] == "commune-actuelle"]
    sl = sum(c["population"] for c in actuelles if c["departement"] == "71")
    france = sum(c.get("population") or 0 for c in actuelles if c["zone"] in ("metro", "drom"))
    with open(REEL / "donnees_departements.csv", encoding="utf-8", newline="") as fh:
        ptot_71 = [int(r["PTOT"]) for r in csv.DictReader(fh, delimiter=";") if r["DEP"] == "71"]

    assert (float(rows["perimetre", "population"]["valeur"]), rows["perimetre", "population"]["source"]) == (90346.0, "poplegale")
    assert (float(rows["departement", "population"]["valeur"]), rows["departement", "population"]["source"]) == (sl, "poplegale")
    assert sl == 550_310
    # France holds Mayotte, absent from the populations légales: its population comes from the COG file, said so
    assert (float(rows["france", "population"]["valeur"]), rows["france", "population"]["source"]) == (france, "poplegale+cog")
    assert france == 68_350_798
    assert [float(rows["departement", "population_totale"]["valeur"])] == ptot_71 == [564_938]
    assert rows["departement", "population_totale"]["statut"] == "ok"
    assert rows["france", "population_totale"]["statut"] == "non_disponible"
