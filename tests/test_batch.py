"""Batch mode on the real warehouse: every EPCI and every département in one pass, ranked among their peers.

The figures of the CPTS Centre Saône-et-Loire's EPCI must equal those of its single diagnostic; ranks are
checked against a computation in pandas and against the EPCI file of the mirror (région of the majority).
"""

from __future__ import annotations

import json
import tomllib

import numpy as np
import openpyxl
import pandas as pd
import pytest

from diagnostic import batch, warehouse
from diagnostic.config import Workspace
from diagnostic.territoire import TerritoireError

from conftest import DECOUPAGE, PROJECT

CONTRACT = ["territoire_type", "territoire_code", "territoire_nom", "indicateur", "libelle", "valeur", "unite",
            "numerateur", "denominateur", "millesime", "source", "statut"]
RANKS = ["sens", "rang_national", "nb_pairs_national", "percentile_national", "region_code", "region_nom",
         "rang_region", "nb_pairs_region", "percentile_region"]
SLUG = "cpts-centre-saone-et-loire"
EPCI = "247100290"  # CU Le Creusot Montceau-les-Mines, the perimeter of the CPTS
FIGURES = ["valeur", "numerateur", "denominateur"]


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"territoire_code": str, "millesime": str, "region_code": str},
                       float_precision="round_trip", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def ws(built_workspace):
    return Workspace(built_workspace)


@pytest.fixture(scope="module")
def epci(ws):
    paths = batch.run_batch(ws, "epci")
    assert paths == {"csv": ws.reports / "_national" / "epci.csv", "xlsx": ws.reports / "_national" / "epci.xlsx"}
    return read(paths["csv"])


@pytest.fixture(scope="module")
def dep(ws):
    return read(batch.run_batch(ws, "dep")["csv"])


@pytest.fixture(scope="module")
def single(built_workspace):
    """Perimeter rows of the single diagnostic of the CPTS, as written in its indicateurs.csv."""
    df = read(built_workspace / "reports" / SLUG / "indicateurs.csv")
    return df[df.territoire_type == "perimetre"].set_index("indicateur")


@pytest.fixture(scope="module")
def con(ws):
    with warehouse.connect(ws) as c:
        yield c


def test_files_and_columns(ws, epci, dep):
    assert list(epci.columns) == CONTRACT + RANKS
    assert list(dep.columns) == CONTRACT + RANKS
    assert not [p for p in (ws.reports / "_national").iterdir() if p.name.startswith(".")]
    wb = openpyxl.load_workbook(ws.reports / "_national" / "epci.xlsx", read_only=False)
    assert wb.sheetnames == ["Lisez-moi", "Valeurs", "Rangs France", "Rangs région"]
    n_ind = epci.indicateur.nunique()
    for name, column in [("Valeurs", "valeur"), ("Rangs France", "rang_national"), ("Rangs région", "rang_region")]:
        sheet = wb[name]
        assert sheet.freeze_panes == "C2"
        assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(4 + n_ind)}1256"
        assert sheet.max_row == 1 + 1255
        headers = [c.value for c in sheet[1]]
        assert headers[:4] == ["Code", "Nom", "Code région", "Région"]
        row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == EPCI)
        mine = epci[epci.territoire_code == EPCI].set_index("indicateur")[column]
        apl = next(k for k, h in enumerate(headers) if h.startswith("Accessibilité potentielle localisée (APL) aux médecins généralistes"))
        assert row[apl] == pytest.approx(mine["apl_mg"], rel=1e-15)
        expected = [None if pd.isna(v) else v for v in mine.loc[list(dict.fromkeys(epci.indicateur))]]
        got = [row[4 + k] for k in range(n_ind)]
        assert [g is None for g in got] == [e is None for e in expected]
        assert [g for g in got if g is not None] == pytest.approx([e for e in expected if e is not None], rel=1e-15)  # 16 digits in XLSX
    assert wb["Valeurs"].cell(1, 5).value == "Nombre de communes (communes)"


def test_one_row_per_territory_and_indicator(epci, dep, con):
    assert set(epci.territoire_type) == {"epci"} and set(dep.territoire_type) == {"departement"}
    assert epci.groupby("indicateur").size().eq(1255).all()
    assert epci.territoire_code.nunique() == 1255
    assert dep.groupby("indicateur").size().eq(101).all()
    assert set(epci.indicateur) <= set(con.sql("SELECT indicateur FROM ref_indicateur").df().indicateur)
    assert set(dep.indicateur) == set(epci.indicateur) and {"apl_mg", "population"} <= set(epci.indicateur)
    assert not epci.duplicated(["territoire_code", "indicateur"]).any()


def test_cpts_epci_same_figures_as_single_diagnostic(epci, single):
    rows = epci[epci.territoire_code == EPCI].set_index("indicateur")
    assert sorted(rows.index) == sorted(single.index)
    rows = rows.loc[single.index]
    for col in ["libelle", "unite", "millesime", "source", "statut"]:
        assert rows[col].fillna("").tolist() == single[col].fillna("").tolist(), col
    for ind in ["nb_communes", "population"]:  # sums of integers: exact whatever the order
        assert rows.at[ind, "valeur"] == single.at[ind, "valeur"]
    for col in FIGURES:
        assert rows[col].isna().tolist() == single[col].isna().tolist(), col
        pd.testing.assert_series_equal(rows[col], single[col], check_exact=True)


def test_cpts_epci_figures_bitwise_equal(epci, single):
    rows = epci[epci.territoire_code == EPCI].set_index("indicateur").loc[single.index]
    for col in FIGURES:
        pd.testing.assert_series_equal(rows[col], single[col], check_exact=True)


def test_departement_71_same_figures_as_single_diagnostic(dep, built_workspace):
    single = read(built_workspace / "reports" / SLUG / "indicateurs.csv")
    single = single[single.territoire_type == "departement"].set_index("indicateur")
    rows = dep[dep.territoire_code == "71"].set_index("indicateur").loc[single.index]
    for col in FIGURES:
        pd.testing.assert_series_equal(rows[col], single[col], check_exact=True)


@pytest.mark.parametrize("kind", ["epci", "dep"])
def test_ranks_and_percentiles(kind, epci, dep):
    """Ranks are 1..n with ties sharing the lowest rank; rank = 1 + number of strictly better peers;
    percentile = share of the other peers with a strictly lower value; missing values are not ranked."""
    df = {"epci": epci, "dep": dep}[kind]
    ranked = df[df.rang_national.notna()]
    assert df.loc[df.rang_national.isna(), "statut"].isin(["non_disponible", "secret"]).all()
    assert df.loc[df.statut.isin(["non_disponible", "secret"]), ["rang_national", "rang_region", "percentile_national"]].isna().all().all()
    for scope, by in [("national", ["indicateur"]), ("region", ["indicateur", "region_code"])]:
        for _, g in ranked.groupby(by):
            n = len(g)
            assert (g[f"nb_pairs_{scope}"] == n).all()
            assert g[f"rang_{scope}"].min() == 1 and g[f"rang_{scope}"].max() <= n
            ascending = g.sens.iloc[0] == "plus_faible_favorable"
            expected = g.valeur.rank(method="min", ascending=ascending)
            assert (g[f"rang_{scope}"] == expected).all()
            pct = g[f"percentile_{scope}"]
            assert pct.between(0, 1).all()
            if n > 1:
                assert (pct == (g.valeur.rank(method="min") - 1) / (n - 1)).all()
    # ties exist (number of communes) and share their rank
    ties = ranked[(ranked.indicateur == "nb_communes")].groupby("valeur").rang_national.agg(["nunique", "size"])
    assert (ties["size"] > 1).any() and (ties["nunique"] == 1).all()


def test_sens_per_indicator(epci):
    sens = epci.drop_duplicates("indicateur").set_index("indicateur").sens
    assert sens["apl_mg"] == "plus_eleve_favorable"
    assert sens["part_pop_apl_mg_inf_2_5"] == "plus_faible_favorable"
    assert {sens[i] for i in ["population", "superficie_km2", "densite_population", "nb_communes"]} == {"descriptif"}


def test_rank_of_cpts_epci_computed_independently(epci):
    """Région of each EPCI from the mirror's epci.json and communes.json (majority of the population),
    then the APL rank of the CPTS's EPCI in France and in its région counted in pandas."""
    communes = pd.DataFrame(json.loads((DECOUPAGE / "communes.json").read_text(encoding="utf-8")))
    communes = communes[communes.type == "commune-actuelle"].set_index("code")
    members = pd.DataFrame(
        [(e["code"], m["code"]) for e in json.loads((DECOUPAGE / "epci.json").read_text(encoding="utf-8")) for m in e["membres"]],
        columns=["epci", "commune"],
    )
    members["region"] = members.commune.map(communes.region)
    members["population"] = members.commune.map(communes.population)
    by_region = members.groupby(["epci", "region"]).population.sum().reset_index()
    majority = by_region.sort_values(["epci", "population"], ascending=[True, False]).drop_duplicates("epci").set_index("epci").region
    assert majority[EPCI] == "27"

    apl = epci[epci.indicateur == "apl_mg"].set_index("territoire_code")
    assert (apl.region_code == majority.reindex(apl.index)).all()
    mine = apl.at[EPCI, "valeur"]
    others = apl.valeur.dropna()
    assert apl.at[EPCI, "rang_national"] == 1 + (others > mine).sum()
    regional = others[majority.reindex(others.index) == "27"]
    assert apl.at[EPCI, "rang_region"] == 1 + (regional > mine).sum()
    assert apl.at[EPCI, "nb_pairs_region"] == len(regional)
    # lower is better for the share of the population under 2.5
    part = epci[epci.indicateur == "part_pop_apl_mg_inf_2_5"].set_index("territoire_code")
    assert part.at[EPCI, "rang_national"] == 1 + (part.valeur.dropna() < part.at[EPCI, "valeur"]).sum()


def test_rangs_pour(con, epci):
    rows = batch.rangs_pour(con, "epci", EPCI)
    assert len(rows) == epci.indicateur.nunique() and set(rows.territoire_code) == {EPCI}
    expected = epci[epci.territoire_code == EPCI].reset_index(drop=True)
    for col in ["rang_national", "rang_region", "nb_pairs_national"]:
        assert rows[col].fillna(-1).astype(int).tolist() == expected[col].fillna(-1).astype(int).tolist(), col
    assert batch.rangs_pour(con, "dep", "1").territoire_code.unique().tolist() == ["01"]
    with pytest.raises(TerritoireError, match="EPCI « 123456789 » inconnu"):
        batch.rangs_pour(con, "epci", "123456789")


def _cpts_communes() -> list[str]:
    return tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text(encoding="utf-8"))["communes"]


def test_perimeters_file_toml_and_csv(ws, tmp_path, single):
    communes = _cpts_communes()
    toml = tmp_path / "cpts-bfc.toml"
    toml.write_text(
        '[[perimetre]]\nnom = "CPTS Centre Saône-et-Loire"\ncommunes = [' + ", ".join(f'"{c}"' for c in communes) + "]\n"
        '[[perimetre]]\ncode = "autun-et-aze"\nnom = "Autun et Azé"\ncommunes = ["71014", "71016"]\n',
        encoding="utf-8",
    )
    paths = batch.run_batch(ws, "perimetres", toml)
    assert paths["csv"].name == "perimetres-cpts-bfc.csv" and paths["xlsx"].is_file()
    df = read(paths["csv"])
    assert set(df.territoire_type) == {"perimetre"}
    assert set(df.territoire_code) == {"cpts-centre-saone-et-loire", "autun-et-aze"}
    assert df.groupby("indicateur").size().eq(2).all() and set(df.nb_pairs_national) <= {0, 1, 2}
    rows = df[df.territoire_code == "cpts-centre-saone-et-loire"].set_index("indicateur").loc[single.index]
    for col in FIGURES:
        pd.testing.assert_series_equal(rows[col], single[col], check_exact=True)

    csv = tmp_path / "cpts-bfc-excel.csv"  # as saved by a French Excel: ';', codes that lost their zero kept as text
    csv.write_text("nom;commune\n" + "".join(f"CPTS Centre Saône-et-Loire;{c}\n" for c in communes)
                   + "Autun et Azé;71014\nAutun et Azé;71016\n", encoding="utf-8-sig")
    other = read(batch.run_batch(ws, "perimetres", csv)["csv"])
    pd.testing.assert_frame_equal(other.sort_values(["territoire_code", "indicateur"]).reset_index(drop=True),
                                  df.sort_values(["territoire_code", "indicateur"]).reset_index(drop=True),
                                  check_exact=True)


def test_perimeters_file_errors_are_those_of_a_single_territory(ws, tmp_path):
    bad = tmp_path / "mauvais.toml"
    bad.write_text('[[perimetre]]\nnom = "A"\ncommunes = ["71153", "99999"]\n'
                   '[[perimetre]]\nnom = "B"\ncommunes = ["71055"]\n'
                   '[[perimetre]]\nnom = "C"\ncommunes = ["71153"]\n', encoding="utf-8")
    with pytest.raises(TerritoireError) as exc:
        batch.run_batch(ws, "perimetres", bad)
    msg = str(exc.value)
    assert "Territoire « A » : 99999 : code commune inconnu au COG 2026" in msg
    assert "Territoire « B » : 71055 n'est plus une commune au COG 2026" in msg and "utilisez 71134" in msg
    assert "« C »" not in msg
    assert not (ws.reports / "_national" / "perimetres-mauvais.csv").exists()

    dup = tmp_path / "doublon.toml"
    dup.write_text('[[perimetre]]\nnom = "A"\ncommunes = ["71153"]\n[[perimetre]]\nnom = "A"\ncommunes = ["71040"]\n', encoding="utf-8")
    with pytest.raises(TerritoireError, match="code\\(s\\) de périmètre en double : a"):
        batch.run_batch(ws, "perimetres", dup)
    ints = tmp_path / "entiers.toml"
    ints.write_text('[[perimetre]]\nnom = "A"\ncommunes = [71153]\n', encoding="utf-8")
    with pytest.raises(TerritoireError, match="entre guillemets"):
        batch.run_batch(ws, "perimetres", ints)
    with pytest.raises(TerritoireError, match="introuvable"):
        batch.run_batch(ws, "perimetres", tmp_path / "absent.toml")


def test_perimeters_file_warnings(con, tmp_path):
    f = tmp_path / "avertis.csv"
    f.write_text("code,nom,commune\nx,X,1001\nx,X,01001\n", encoding="utf-8")
    sel, warnings = batch.selection(con, "perimetres", f)
    assert sel.commune.tolist() == ["01001"]
    assert any("lu comme « 01001 »" in w for w in warnings)
    assert any("plusieurs fois" in w for w in warnings)


def test_unknown_kind(ws):
    with pytest.raises(Exception, match="Mode de traitement par lot inconnu « region »"):
        batch.run_batch(ws, "region")


def test_figures_do_not_depend_on_row_order_or_threads(ws):
    """Every territory's figures are bitwise equal whatever the order of the selection's rows and DuckDB's
    thread count: the marts' sums of decimals are exact (somme_exacte). With plain floating-point sums the
    last bit of France's or a région's sums follows the order of the terms, and this test fails."""
    with warehouse.connect(ws) as con:
        sel = con.sql("SELECT * FROM int_territoire_commune WHERE territoire_type IN ('france', 'region', 'departement')"
                      " ORDER BY ALL").df()
        con.execute("SET threads = 2")
        a = warehouse.indicateurs(con, sel)
        con.execute("SET threads = 1")
        b = warehouse.indicateurs(con, sel.iloc[::-1].reset_index(drop=True))
        c = warehouse.indicateurs(con, sel.sample(frac=1, random_state=7).reset_index(drop=True))
    key = ["territoire_type", "territoire_code", "indicateur"]
    for other in (b, c):
        m = a.merge(other, on=key, suffixes=("", "_autre"), validate="one_to_one")
        assert len(m) == len(a) == len(other)
        for col in FIGURES:
            x, y = m[col].to_numpy(dtype=float), m[f"{col}_autre"].to_numpy(dtype=float)
            same = (x == y) | (np.isnan(x) & np.isnan(y))
            assert same.all(), m.loc[~same, key + [col, f"{col}_autre"]].head().to_string()
