"""Time-series charts and the wording of the prévention / accès aux soins sections (issue 7 items 4-5), on the
hand-made ReportContext of tests/test_report.py plus invented yearly values (FIXTURE figures, not data)."""

from __future__ import annotations

import pandas as pd
import pytest
from PIL import Image

from diagnostic.report import write_report
from diagnostic.report.donnees import series as series_entrepot
from diagnostic.report.series import SERIES_COLUMNS, a_tracer

from test_report import make_ctx

SERIE = {  # (type, code): {annee: valeur}
    ("departement", "71"): {"2021": 55.0, "2022": 56.5, "2023": 54.2, "2024": 57.1},
    ("departement", "21"): {"2021": 57.0, "2022": 58.5, "2023": None, "2024": 59.0},
    ("region", "27"): {"2021": 56.0, "2022": 57.0, "2023": 55.5, "2024": 58.0},
    ("france", "FR"): {"2021": 56.8, "2022": 56.2, "2023": 54.0, "2024": 54.1},
}
NOMS = {"71": "Saône-et-Loire", "21": "Côte-d'Or", "27": "Bourgogne-Franche-Comté", "FR": "France"}


def ctx_prevention(series: bool = True, disponible: bool = True):
    ctx = make_ctx()
    rows, srows = [], []
    for (ttype, code, nom) in [("perimetre", "cpts-fixture", ctx.nom)] + [(t, c, NOMS[c]) for t, c in SERIE]:
        last = SERIE.get((ttype, code), {}).get("2024") if disponible else None
        rows.append({"territoire_type": ttype, "territoire_code": code, "territoire_nom": nom,
                     "indicateur": "couv_vacc_grippe_65_plus", "libelle": "Couverture vaccinale contre la grippe des 65 ans et plus",
                     "valeur": float("nan") if last is None else last, "unite": "%", "numerateur": float("nan"),
                     "denominateur": float("nan"), "millesime": "2024", "source": "odisse_vaccination_departement",
                     "statut": "non_disponible" if last is None else "ok"})
    for (ttype, code), years in SERIE.items():
        for annee, v in years.items():
            srows.append({"indicateur": "couv_vacc_grippe_65_plus", "territoire_type": ttype, "territoire_code": code,
                          "territoire_nom": NOMS[code], "annee": annee, "valeur": float("nan") if v is None else v,
                          "statut": "non_disponible" if v is None else "ok"})
    ctx.indicateurs = pd.concat([ctx.indicateurs, pd.DataFrame(rows)], ignore_index=True)
    ctx.catalogue = pd.concat([ctx.catalogue, pd.DataFrame([{
        "indicateur": "couv_vacc_grippe_65_plus", "libelle": "Couverture vaccinale contre la grippe des 65 ans et plus",
        "unite": "%", "definition": "Part des 65 ans et plus vaccinés (FIXTURE).", "theme": "Prévention", "ordre": 50,
        "niveau": "departement"}])], ignore_index=True)
    ctx.sources = ctx.sources + [{"source": "odisse_vaccination_departement", "titre": "Couvertures vaccinales par département",
                                  "producteur": "Santé publique France (Odissé)", "licence": "Licence Ouverte 2.0",
                                  "url": "https://odisse.santepubliquefrance.fr/…", "millesime": "2025", "fichier": "csv",
                                  "recupere_le": "2026-11-24", "octets": 10, "sha256": "cd" * 32,
                                  "disponible": disponible}]
    if not disponible:
        ctx.indisponibles = {"odisse_vaccination_departement": "aucun fichier dans le miroir"}
    ctx.series = pd.DataFrame(srows, columns=SERIES_COLUMNS) if series else None
    return ctx


@pytest.fixture(scope="module")
def rendu(tmp_path_factory):
    ctx = ctx_prevention()
    out = tmp_path_factory.mktemp("series")
    return ctx, out, write_report(ctx, out, svg=True)  # SVG twins only when asked (issue 16)


def test_chart_written_png_and_svg_and_listed(rendu):
    _, out, written = rendu
    png, svg = out / "graphiques" / "couv_vacc_grippe_65_plus.png", out / "graphiques" / "couv_vacc_grippe_65_plus.svg"
    assert png in written and svg in written
    with Image.open(png) as im:
        assert im.size[0] >= 1500  # 8 in at 200 dpi
    text = svg.read_text(encoding="utf-8")
    for label in ("Saône-et-Loire (71)", "Côte-d'Or (21)", "Bourgogne-Franche-Comté", "France", "2021", "2024"):
        assert label in text, label


def test_chart_embedded_in_its_section_with_reading_and_level(rendu):
    _, out, _ = rendu
    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    sec = html[html.index(">6. Prévention</h2>"):html.index('id="section-7"')]
    assert sec.count("<img src=\"data:image/png;base64,") == 1
    assert "Évolution : Couverture vaccinale contre la grippe des 65 ans et plus, 2021 à 2024" in sec
    assert "dans le département de Saône-et-Loire, de 55,0\u202f% en 2021 à 57,1\u202f% en 2024" in sec
    assert "en France, de 56,8\u202f% en 2021 à 54,1\u202f% en 2024" in sec
    # item 5: the level of the data and what Rezone CPTS shows
    assert "Donnée départementale : la CPTS n&#39;est pas isolable dans les données ouvertes" in sec
    assert "Ce que montre Rezone CPTS" in sec and "dépistage des cancers" in sec
    assert ">7. Synthèse" in html


def test_chart_in_word_document(rendu):
    import docx

    _, out, _ = rendu
    d = docx.Document(out / "diagnostic.docx")
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Évolution : Couverture vaccinale contre la grippe des 65 ans et plus" in text
    assert len(d.inline_shapes) >= 2  # situation map + chart (+ APL map)


def test_one_year_or_no_series_gives_no_chart(tmp_path):
    ctx = ctx_prevention(series=False)
    assert a_tracer(ctx) == {}
    ctx = ctx_prevention()
    ctx.series = ctx.series[ctx.series["annee"] == "2024"]
    assert a_tracer(ctx) == {}
    written = write_report(ctx, tmp_path)
    assert not any("graphiques" in str(p) for p in written)


def test_masked_year_is_a_gap_not_zero(rendu):
    ctx, _, _ = rendu
    rows = a_tracer(ctx)["couv_vacc_grippe_65_plus"]
    gap = rows[(rows["territoire_code"] == "21") & (rows["annee"] == "2023")]
    assert gap["statut"].iloc[0] == "non_disponible" and gap["valeur"].isna().all()


def test_offline_prevention_section_says_source_not_available(tmp_path):
    ctx = ctx_prevention(series=False, disponible=False)
    write_report(ctx, tmp_path)
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    sec = html[html.index(">6. Prévention</h2>"):html.index('id="section-7"')]
    assert "Source non disponible dans cette édition" in sec and "aucun fichier dans le miroir" in sec
    assert "Ce que montre Rezone CPTS" in sec
    assert "<strong>Dépistage organisé des cancers.</strong> Source non disponible." in sec


def test_prevention_section_absent_without_prevention_indicators(tmp_path):
    write_report(make_ctx(), tmp_path)
    assert "Prévention</h2>" not in (tmp_path / "diagnostic.html").read_text(encoding="utf-8")


def test_departement_level_inferred_without_catalogue_niveau(tmp_path):
    ctx = ctx_prevention()
    ctx.catalogue = ctx.catalogue.drop(columns=["niveau"])
    write_report(ctx, tmp_path)
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    assert "Donnée départementale : la CPTS n&#39;est pas isolable" in html


def test_series_of_the_warehouse_filtered_to_the_report_territories():
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE mart_series AS SELECT * FROM (VALUES "
                "('x', 'departement', '71', NULL, '2023', 1.0, NULL, NULL, 'ok', 's'),"
                "('x', 'departement', '13', NULL, '2023', 2.0, NULL, NULL, 'ok', 's')) "
                "t(indicateur, territoire_type, territoire_code, territoire_nom, annee, valeur, numerateur, denominateur, statut, source)")
    ind = pd.DataFrame({"territoire_type": ["departement"], "territoire_code": ["71"], "territoire_nom": ["Saône-et-Loire"]})
    s = series_entrepot(con, ind)
    assert list(s.columns) == SERIES_COLUMNS and s["territoire_code"].tolist() == ["71"]
    assert s["territoire_nom"].tolist() == ["Saône-et-Loire"]
    assert series_entrepot(duckdb.connect(), ind).empty


def test_chart_on_the_reused_figure_has_the_pixels_of_a_new_one(tmp_path):
    """Each chart is drawn on the Figure and Axes of the previous one, emptied (``series._figure_vierge``):
    whatever came before (more years, rotated labels, other scales), its pixels are those of a new Figure."""
    import numpy as np

    from diagnostic.report import mpl, series
    from diagnostic.report.tables import meta, territoires

    ctx = ctx_prevention()
    ind = "couv_vacc_grippe_65_plus"
    base = a_tracer(ctx)[ind]
    longues = pd.concat([base.assign(annee=base["annee"] + "-" + str(k), valeur=base["valeur"] * 40 + k)
                         for k in range(3)], ignore_index=True)  # 12 years, labels rotated, values >= 100
    courtes = base[base["annee"].isin(["2022", "2023"])].assign(valeur=lambda d: d["valeur"] / 50)
    terr = [t for t in territoires(ctx.indicateurs) if t.type in series.STYLES]

    def dessin(rows, png):
        annees = sorted(set(rows["annee"]), key=series.cle_annee)
        series._dessiner(ctx, ind, rows, meta(ctx)[ind], annees, terr, png, None)
        return np.asarray(Image.open(png))

    suite = [longues, base, courtes, longues, courtes, base]
    reutilisee = [dessin(rows, tmp_path / f"r{i}.png") for i, rows in enumerate(suite)]
    for i, rows in enumerate(suite):
        series._figure.clear()  # a new Figure and Axes
        assert (dessin(rows, tmp_path / f"n{i}.png") == reutilisee[i]).all(), i
    fig, ax = series._figure[0]  # the title set at y=1 is where matplotlib would place it
    ax._autotitlepos = True
    ax._update_title_position(fig.canvas.get_renderer())
    assert ax._left_title.get_position()[1] == 1.0
    fig, ax = series._figure_vierge()  # emptied after a chart: the margins of a new Axes, before tight_layout
    neuve = mpl.Figure(figsize=fig.get_size_inches(), dpi=fig.dpi).add_subplot()
    assert ax.get_position().bounds == neuve.get_position().bounds and not ax.lines and not ax.texts
