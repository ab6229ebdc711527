"""End to end on the real files of the mirror: the CPTS Centre Saône-et-Loire, cold run through a
loopback HTTP server, figures checked against computations done here independently of the pipeline."""

from __future__ import annotations

import io
import json
import tomllib

import duckdb
import openpyxl
import pandas as pd
import pytest

from conftest import APL_WORKBOOK, DECOUPAGE, PROJECT, run_cli

CONTRACT = ["territoire_type", "territoire_code", "territoire_nom", "indicateur", "libelle", "valeur", "unite",
            "numerateur", "denominateur", "millesime", "source", "statut"]
SLUG = "cpts-centre-saone-et-loire"


@pytest.fixture(scope="module")
def communes_json():
    return json.loads((DECOUPAGE / "communes.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def perimetre():
    return tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text(encoding="utf-8"))["communes"]


@pytest.fixture(scope="module")
def indicateurs(built_workspace):
    df = pd.read_csv(built_workspace / "reports" / SLUG / "indicateurs.csv", dtype={"territoire_code": str, "millesime": str})
    return df


def value(df, ttype, indicateur, code=None):
    rows = df[(df.territoire_type == ttype) & (df.indicateur == indicateur)]
    if code is not None:
        rows = rows[rows.territoire_code == code]
    assert len(rows) == 1, (ttype, indicateur, code, rows)
    return rows.iloc[0]


def apl_rows(sheet: str) -> pd.DataFrame:
    """The APL workbook read with openpyxl (not the pipeline's reader): code, apl, pop std, pop totale."""
    wb = openpyxl.load_workbook(io.BytesIO(APL_WORKBOOK.read_bytes()), read_only=True)  # no extension: pass bytes
    rows = list(wb[sheet].iter_rows(min_row=11, values_only=True))
    return pd.DataFrame([r[:6] for r in rows if r[0]], columns=["code", "nom", "apl", "apl65", "popstd", "poptot"])


def test_report_files(built_workspace):
    out = built_workspace / "reports" / SLUG
    for name in ["indicateurs.csv", "indicateurs.xlsx", "diagnostic.html", "provenance.json"]:
        assert (out / name).stat().st_size > 0, name
    assert len(list((out / "cartes").glob("*.png"))) >= 2
    assert not list((built_workspace / "reports").glob(".*tmp"))


def test_contract_columns(indicateurs):
    assert list(indicateurs.columns) == CONTRACT
    assert set(indicateurs.territoire_type) == {"perimetre", "departement", "region", "france"}
    assert set(indicateurs.statut) <= {"ok", "secret", "non_disponible", "estimation"}
    assert indicateurs.loc[indicateurs.territoire_type == "departement", "territoire_code"].unique().tolist() == ["71"]
    assert indicateurs.loc[indicateurs.territoire_type == "region", "territoire_code"].unique().tolist() == ["27"]


def test_population_and_communes(indicateurs, communes_json, perimetre):
    assert len(perimetre) == 34
    assert value(indicateurs, "perimetre", "nb_communes").valeur == 34
    expected = sum(c["population"] for c in communes_json if c["type"] == "commune-actuelle" and c["code"] in perimetre)
    assert value(indicateurs, "perimetre", "population").valeur == expected == 90346
    dep = sum(c["population"] for c in communes_json if c["type"] == "commune-actuelle" and c["departement"] == "71")
    assert value(indicateurs, "departement", "population").valeur == dep
    assert value(indicateurs, "perimetre", "population").millesime == "2026"


def test_france_population_is_sum_of_communes(indicateurs, communes_json):
    scope = [c for c in communes_json if c["type"] == "commune-actuelle" and c["zone"] in ("metro", "drom")]
    assert value(indicateurs, "france", "nb_communes").valeur == len(scope) == 34875
    assert value(indicateurs, "france", "population").valeur == sum(c["population"] for c in scope)


@pytest.mark.parametrize("sheet, indicateur", [("APL 2023", "apl_mg"), ("APL 2022", "apl_mg_prec")])
def test_apl_weighted_by_standardised_population(indicateurs, perimetre, sheet, indicateur):
    df = apl_rows(sheet)
    rows = df[df.code.isin(perimetre)]
    assert len(rows) == 34  # no merged commune in this perimeter: one workbook row per commune
    expected = (rows.apl * rows.popstd).sum() / rows.popstd.sum()
    assert value(indicateurs, "perimetre", indicateur).valeur == pytest.approx(expected, rel=1e-12)


def test_share_under_2_5_uses_non_standardised_population(indicateurs, perimetre):
    df = apl_rows("APL 2023")
    rows = df[df.code.isin(perimetre)]
    expected = 100 * rows.loc[rows.apl < 2.5, "poptot"].sum() / rows.poptot.sum()
    row = value(indicateurs, "perimetre", "part_pop_apl_mg_inf_2_5")
    assert row.valeur == pytest.approx(expected, rel=1e-12)
    assert row.numerateur == rows.loc[rows.apl < 2.5, "poptot"].sum()


def test_apl_departement_maps_no_row_away(indicateurs):
    """Saône-et-Loire: the département's APL equals the weighted mean over the workbook's rows of 71
    (merged communes included: harmonisation moves rows between codes, never drops them)."""
    df = apl_rows("APL 2023")
    rows = df[df.code.str.startswith("71")]
    expected = (rows.apl * rows.popstd).sum() / rows.popstd.sum()
    assert value(indicateurs, "departement", "apl_mg").valeur == pytest.approx(expected, rel=1e-9)


def test_evolution_is_difference_of_vintages(indicateurs):
    for ttype in ["perimetre", "departement", "region", "france"]:
        evol = value(indicateurs, ttype, "evol_apl_mg").valeur
        assert evol == pytest.approx(value(indicateurs, ttype, "apl_mg").valeur - value(indicateurs, ttype, "apl_mg_prec").valeur)


def test_area_and_density(indicateurs):
    surface = value(indicateurs, "perimetre", "superficie_km2")
    assert surface.statut == "ok"
    assert 700 < surface.valeur < 780  # CU Le Creusot Montceau: 742 km² on simplified IGN contours
    density = value(indicateurs, "perimetre", "densite_population")
    assert density.valeur == pytest.approx(density.numerateur / density.denominateur)


def test_epci_form_gives_same_figures(built_workspace, indicateurs, mirror_url):
    run_cli(built_workspace, "run", "epci:247100290", mirror=mirror_url)
    other = pd.read_csv(built_workspace / "reports" / "epci-247100290" / "indicateurs.csv", dtype={"territoire_code": str, "millesime": str})
    a = indicateurs.drop(columns=["territoire_code", "territoire_nom"]).reset_index(drop=True)
    b = other.drop(columns=["territoire_code", "territoire_nom"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_warm_run_does_not_rebuild(built_workspace, mirror_url):
    before = (built_workspace / "data" / "processed" / "diagnostic.duckdb").stat().st_mtime_ns
    run_cli(built_workspace, "run", SLUG, mirror=mirror_url)
    assert (built_workspace / "data" / "processed" / "diagnostic.duckdb").stat().st_mtime_ns == before


def test_manifest_records_every_download(built_workspace, opendata):
    import hashlib

    manifest = json.loads((built_workspace / "data" / "raw" / "cog" / "2026" / "manifest.json").read_text())
    rec = manifest["communes.json"]
    assert rec["url"] == "https://unpkg.com/@etalab/decoupage-administratif@6.0.0/data/communes.json"
    assert rec["sha256"] == hashlib.sha256((DECOUPAGE / "communes.json").read_bytes()).hexdigest()
    assert rec["bytes"] == (DECOUPAGE / "communes.json").stat().st_size


def test_geometry_stored_once(built_workspace):
    with duckdb.connect(str(built_workspace / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as con:
        n, missing = con.sql("SELECT count(*), count(*) FILTER (WHERE superficie_km2 IS NULL) FROM geo_commune").fetchone()
        deps = con.sql("SELECT count(*) FROM geo_departement").fetchone()[0]
    assert missing == 0 and deps == 101
    # 34 875 communes of France, less 7 re-created since 2018 whose land lies in their former commune nouvelle
    assert n == 34875 - 7


def test_unknown_and_former_codes_named(built_workspace, mirror_url):
    proc = run_cli(built_workspace, "run", "communes:71153,99999,71055", mirror=mirror_url, check=False)
    assert proc.returncode == 2
    assert "99999 : code commune inconnu au COG 2026" in proc.stderr
    assert "71055 n'est plus une commune" in proc.stderr and "71134 (Navour-sur-Grosne)" in proc.stderr
    assert "Traceback" not in proc.stderr
