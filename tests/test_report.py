"""Report stage: files written from a small hand-made ReportContext.

FIXTURE (hand-made, not real data): 6 square communes of 10 km in EPSG:2154, in two
real département codes so that French articles are exercised:

    y (km)
    6620 +--------+--------+--------+
         | 21001  | 21002  | 21003  |   département 21 (Côte-d'Or)
    6610 +--------+--------+--------+
         | 71001  | 71002  | 71003  |   département 71 (Saône-et-Loire)
    6600 +--------+--------+--------+
        780      790      800      810  x (km)

plus département 58 (Nièvre) as a neighbour outline to the west. The default perimeter is
71001, 71002, 21001 (two départements); 71002 has no APL value (NaN). Figures in the
indicator rows are invented but formatted like the real ones.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import docx
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from shapely.geometry import box

from diagnostic.report import CONTRACT_COLUMNS, ReportContext, write_report
from diagnostic.report import fmt
from diagnostic.report.maps import carte_medecins, classes, fisher_jenks
from diagnostic.report.texte import de_territoire, faits, lecture
from diagnostic.report.tables import Territoire

NNBSP = "\u202f"
KM = 1000.0
X0, Y0 = 780 * KM, 6600 * KM

COMMUNES = [  # code, nom, departement, col, row, population, apl_mg
    ("71001", "Chalon-Fixture", "71", 0, 0, 60000, 3.412),
    ("71002", "Val-Sans-Donnée", "71", 1, 0, 20474, float("nan")),
    ("71003", "Bourg-Gris", "71", 2, 0, 5000, 2.104),
    ("21001", "Beaune-Fixture", "21", 0, 1, 10000, 2.987),
    ("21002", "Mont-Clair", "21", 1, 1, 3000, 1.755),
    ("21003", "Les Essarts", "21", 2, 1, 800, 4.801),
]

CATALOGUE = pd.DataFrame(
    [
        ("nb_communes", "Nombre de communes", "communes", "Communes du COG 2026.", "Territoire"),
        ("population", "Population municipale", "habitants", "Population légale en vigueur au 1er janvier 2026.", "Territoire"),
        ("superficie_km2", "Superficie", "km²", "Somme des superficies communales.", "Territoire"),
        ("densite_population", "Densité de population", "hab./km²", "Population rapportée à la superficie.", "Territoire"),
        ("apl_mg", "APL aux médecins généralistes", "consultations/visites accessibles par an et par habitant standardisé",
         "Moyenne des APL communales pondérée par la population standardisée.", "Offre de soins"),
        ("apl_mg_2022", "APL aux médecins généralistes (2022)", "consultations/visites accessibles par an et par habitant standardisé",
         "Idem, millésime 2022.", "Offre de soins"),
        ("evol_apl_mg", "Évolution de l'APL 2022-2023", "points", "Différence APL 2023 - APL 2022.", "Offre de soins"),
        ("part_pop_apl_mg_inf_2_5", "Part de la population dans une commune où l'APL < 2,5", "%",
         "Population non standardisée des communes sous le seuil, rapportée à la population.", "Offre de soins"),
    ],
    columns=["indicateur", "libelle", "unite", "definition", "theme"],
).assign(ordre=lambda d: range(len(d)))  # as warehouse.catalogue() gives it
MILLESIME = {"superficie_km2": "2018", "apl_mg": "2023", "apl_mg_2022": "2022", "evol_apl_mg": "2022-2023", "part_pop_apl_mg_inf_2_5": "2023"}
SOURCE = {i: "drees_apl" for i in ("apl_mg", "apl_mg_2022", "evol_apl_mg", "part_pop_apl_mg_inf_2_5")}
SOURCE |= {"superficie_km2": "ign_contours", "densite_population": "insee_cog+ign_contours"}  # two sources

# value per territory; None = non_disponible
VALEURS = {
    "perimetre": {"nb_communes": 3, "population": 90474, "superficie_km2": 300.0, "densite_population": 301.58,
                  "apl_mg": 3.12, "apl_mg_2022": 3.2, "evol_apl_mg": -0.08, "part_pop_apl_mg_inf_2_5": 11.05},
    "71": {"nb_communes": 3, "population": 551493, "superficie_km2": 8575.0, "densite_population": 64.31,
           "apl_mg": 3.31, "apl_mg_2022": 3.35, "evol_apl_mg": -0.04, "part_pop_apl_mg_inf_2_5": 18.2},
    "21": {"nb_communes": 3, "population": 534124, "superficie_km2": 8763.0, "densite_population": 60.95,
           "apl_mg": 3.05, "apl_mg_2022": 3.1, "evol_apl_mg": -0.05, "part_pop_apl_mg_inf_2_5": 22.4},
    "27": {"nb_communes": 3699, "population": 2800194, "superficie_km2": 47784.0, "densite_population": 58.6,
           "apl_mg": 3.2, "apl_mg_2022": 3.25, "evol_apl_mg": -0.05, "part_pop_apl_mg_inf_2_5": 15.0},
    "FR": {"nb_communes": 34875, "population": 68401997, "superficie_km2": 632734.0, "densite_population": 108.1,
           "apl_mg": 3.4, "apl_mg_2022": None, "evol_apl_mg": None, "part_pop_apl_mg_inf_2_5": 11.7},
}


def _geom(col: int, row: int):
    return box(X0 + col * 10 * KM, Y0 + row * 10 * KM, X0 + (col + 1) * 10 * KM, Y0 + (row + 1) * 10 * KM)


def make_ctx(nom: str = "CPTS Fixture Saône", perimetre: tuple[str, ...] = ("71001", "71002", "21001"),
             apl: bool = True, extra_indicateur: bool = False) -> ReportContext:
    communes = gpd.GeoDataFrame(
        [
            {"code": c, "nom": n, "departement": d, "region": "27", "population": p,
             "superficie_km2": 100.0, "apl_mg": (a if apl else float("nan")), "perimetre": c in perimetre,
             "geometry": _geom(x, y)}
            for c, n, d, x, y, p, a in COMMUNES
        ],
        geometry="geometry",
        crs="EPSG:2154",
    )
    touched = sorted({d for c, _, d, *_ in COMMUNES if c in perimetre})
    communes = communes[communes["departement"].isin(touched)].reset_index(drop=True)
    departements = gpd.GeoDataFrame(
        [
            {"code": "71", "nom": "Saône-et-Loire", "geometry": box(X0, Y0, X0 + 30 * KM, Y0 + 10 * KM)},
            {"code": "21", "nom": "Côte-d'Or", "geometry": box(X0, Y0 + 10 * KM, X0 + 30 * KM, Y0 + 20 * KM)},
            {"code": "58", "nom": "Nièvre", "geometry": box(X0 - 30 * KM, Y0, X0, Y0 + 20 * KM)},
        ],
        geometry="geometry",
        crs="EPSG:2154",
    )
    territoires = [("perimetre", "cpts-fixture", nom, "perimetre")]
    territoires += [("departement", d, {"71": "Saône-et-Loire", "21": "Côte-d'Or"}[d], d) for d in touched]
    territoires += [("region", "27", "Bourgogne-Franche-Comté", "27"), ("france", "FR", "France", "FR")]
    cat = CATALOGUE.set_index("indicateur")
    rows = []
    for ttype, code, tnom, key in territoires:
        for ind in CATALOGUE["indicateur"]:
            v = VALEURS[key][ind]
            if not apl and ind in SOURCE:
                v = None
            rows.append({
                "territoire_type": ttype, "territoire_code": code, "territoire_nom": tnom, "indicateur": ind,
                "libelle": cat.loc[ind, "libelle"], "valeur": float("nan") if v is None else float(v),
                "unite": cat.loc[ind, "unite"], "numerateur": float("nan"), "denominateur": float("nan"),
                "millesime": MILLESIME.get(ind, "2026"), "source": SOURCE.get(ind, "insee_cog"),
                "statut": "non_disponible" if v is None else "ok",
            })
        if extra_indicateur:
            rows.append({
                "territoire_type": ttype, "territoire_code": code, "territoire_nom": tnom,
                "indicateur": "densite_mg_10000", "libelle": "Médecins généralistes pour 10 000 habitants",
                "valeur": 7.25, "unite": "pour 10 000 habitants", "numerateur": 65.0, "denominateur": 90474.0,
                "millesime": "2025", "source": "rpps", "statut": "estimation" if ttype == "perimetre" else "ok",
            })
    ind = pd.DataFrame(rows)[CONTRACT_COLUMNS].sample(frac=1.0, random_state=1)  # writers must sort
    sources = [
        {"source": "insee_cog", "titre": "Communes, populations légales 2026 (découpage administratif)",
         "producteur": "INSEE", "licence": "Licence Ouverte 2.0",
         "url": "https://unpkg.com/@etalab/decoupage-administratif@6.0.0/data/communes.json", "millesime": "2026",
         "fichier": "communes.json", "recupere_le": "2026-11-24T10:02:00+00:00", "octets": 8615626,
         "sha256": "6cafec09b4e127d08edc47f366b28261bee70cca323fbfcb957dd169fcad9284"},
        {"source": "drees_apl", "titre": "Accessibilité potentielle localisée (APL) aux médecins généralistes",
         "producteur": "DREES", "licence": "Licence Ouverte 2.0",
         "url": "javascript:alert(1)", "millesime": "2022-2023",
         "fichier": "apl_mg.xlsx", "recupere_le": "2026-11-23", "octets": 3803291, "sha256": "ab" * 32},
        {"source": "ign_contours", "titre": "Contours des communes (ADMIN EXPRESS)",
         "producteur": "IGN ; mis en forme par Grégoire David (france-geojson)", "licence": "Licence Ouverte",
         "url": "https://raw.githubusercontent.com/gregoiredavid/france-geojson/master/departements/…",
         "millesime": "2018", "fichier": "3 fichiers", "recupere_le": "2026-11-24", "octets": 1000, "sha256": None},
        {"source": "rpps", "titre": "Annuaire santé (RPPS)", "producteur": "ANS", "licence": "Licence Ouverte 2.0",
         "url": "https://annuaire.sante.fr/…", "millesime": "2025", "fichier": "3 fichiers (liste dans provenance.json)",
         "recupere_le": None, "octets": None, "sha256": None, "disponible": False},
    ]
    return ReportContext(
        slug="cpts-fixture", nom=nom, description="Périmètre défini par une liste de communes (fixture de test).",
        indicateurs=ind, communes=communes, departements=departements, sources=sources, catalogue=CATALOGUE.iloc[::-1].reset_index(drop=True),  # order given by "ordre"
        produit_le=date(2026, 11, 24),
    )


@pytest.fixture(scope="module")
def rendu(tmp_path_factory) -> tuple[ReportContext, Path, list[Path]]:
    ctx = make_ctx()
    out = tmp_path_factory.mktemp("rapport")
    return ctx, out, write_report(ctx, out, svg=True)  # SVG twins only when asked (issue 16)


# --- files -----------------------------------------------------------------------------

def test_all_files_written(rendu):
    _, out, written = rendu
    expected = [
        "indicateurs.csv", "indicateurs_excel.csv", "indicateurs.xlsx", "diagnostic.html", "diagnostic.pdf",
        "diagnostic.docx", "cartes/situation.png", "cartes/situation.svg", "cartes/apl_mg.png", "cartes/apl_mg.svg",
    ]
    for rel in expected:
        assert (out / rel).is_file(), rel
        assert (out / rel).stat().st_size > 0, rel
    assert sorted(p.relative_to(out).as_posix() for p in written) == sorted(expected)


def test_csv_contract_round_trip(rendu):
    ctx, out, _ = rendu
    with open(out / "indicateurs.csv", encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == CONTRACT_COLUMNS
    df = pd.read_csv(out / "indicateurs.csv", dtype={"territoire_code": str, "millesime": str})
    assert len(df) == len(ctx.indicateurs)
    # rows sorted: perimetre, departement, region, france, then catalogue order
    order = ["perimetre", "departement", "region", "france"]
    ranks = df["territoire_type"].map(order.index).tolist()
    assert ranks == sorted(ranks)
    perim = df[df["territoire_type"] == "perimetre"]
    assert perim["indicateur"].tolist() == CATALOGUE["indicateur"].tolist()
    # values round-trip exactly (NaN stays NaN)
    src = ctx.indicateurs.set_index(["territoire_type", "territoire_code", "indicateur"])["valeur"]
    got = df.set_index(["territoire_type", "territoire_code", "indicateur"])["valeur"]
    assert np.array_equal(got.sort_index().to_numpy(), src.sort_index().to_numpy(), equal_nan=True)
    assert set(df["territoire_code"]) == {"cpts-fixture", "71", "21", "27", "FR"}
    assert "2022-2023" in set(df["millesime"])


def test_xlsx_sheets_and_headers(rendu):
    import openpyxl

    _, out, _ = rendu
    wb = openpyxl.load_workbook(out / "indicateurs.xlsx")
    assert wb.sheetnames == ["1. Territoire", "2. Population", "3. Offre de soins", "4. État de santé",
                             "5. Accès aux soins", "Communes", "Sources", "Définitions"]
    ws = wb["1. Territoire"]
    header = [c.value for c in ws[1]]
    assert header == [
        "Thème", "Indicateur", "Unité", "CPTS Fixture Saône", "Côte-d'Or (21)", "Saône-et-Loire (71)",
        "Bourgogne-Franche-Comté", "France", "Millésime", "Source", "Identifiant",
    ]
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref
    pop = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[-1] == "population")
    assert pop[3] == 90474
    assert ws.cell(row=[r[-1] for r in ws.iter_rows(values_only=True)].index("population") + 1, column=4).number_format == "#,##0"
    nd = next(r for r in wb["3. Offre de soins"].iter_rows(min_row=2, values_only=True) if r[-1] == "apl_mg_2022")
    assert nd[7] == "n.d."
    communes = [c.value for c in wb["Communes"][1]]
    assert communes[:4] == ["Code commune", "Commune", "Département", "Région"]
    assert "Population municipale (habitants)" in communes
    codes = [r[0] for r in wb["Communes"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["21001", "71001", "71002"]  # strings, sorted by département then name
    assert [c.value for c in wb["Sources"][1]][:3] == ["Identifiant", "Titre", "Producteur"]
    assert [c.value for c in wb["Définitions"][1]] == ["Identifiant", "Libellé", "Unité", "Définition", "Thème"]
    assert wb["Définitions"].max_row == len(CATALOGUE) + 1
    assert wb["Définitions"]["A2"].value == "nb_communes"  # sorted by the catalogue's "ordre"
    assert ws["A2"].value == "Territoire"
    assert wb["3. Offre de soins"].freeze_panes == "C2" and wb["3. Offre de soins"].auto_filter.ref
    assert "Section à compléter" in " ".join(str(c.value) for row in wb["4. État de santé"].iter_rows() for c in row)
    assert [c.value for c in wb["Sources"][1]][-1] == "Disponible"


def test_html_self_contained_french(rendu):
    _, out, _ = rendu
    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    assert "CPTS Fixture Saône" in html
    assert "<dt>Données au</dt><dd>24 novembre 2026</dd>" in html
    assert "<dt>Produit le</dt><dd>24 novembre 2026</dd>" in html
    for n, titre in enumerate(["Territoire", "Population", "Offre de soins", "État de santé", "Accès aux soins",
                               "Synthèse — points d&#39;appui et points de vigilance"], start=1):
        assert f"{n}. {titre}</h2>" in html, titre
    assert "Source :" in html and "Lecture :" in html
    assert f"90{NNBSP}474" in html  # thousands separator
    assert f"551{NNBSP}493" in html
    assert "3,1" in html and "301,6" in html  # decimal comma
    # composite source "insee_cog+ign_contours": each component named once, with its own vintage
    assert ("Source : INSEE – Communes, populations légales 2026 (découpage administratif), 2026 ; "
            "IGN – Contours des communes (ADMIN EXPRESS), 2018.") in html
    assert "\u22120,08" in html  # signed evolution with a true minus sign
    assert "n.d." in html
    assert 'src="cartes/' not in html and "<img src=\"data:image/png;base64," in html
    assert html.count("data:image/png;base64,") == 2
    assert 'href="javascript' not in html
    assert 'href="https://annuaire.sante.fr/…"' not in html  # abridged address: shown, not linked
    assert "non récupéré" in html
    # Lecture computed from the figures: 90 474 / (551 493 + 534 124) = 8,3 %
    assert f"8,3{NNBSP}%" in html
    assert "de la population cumulée de la Côte-d&#39;Or et de Saône-et-Loire" in html


def test_pngs_are_print_resolution(rendu):
    _, out, _ = rendu
    for name in ("situation.png", "apl_mg.png"):
        with Image.open(out / "cartes" / name) as im:
            assert im.width > 1000
            assert im.height > 500
    svg = (out / "cartes" / "situation.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


# --- escaping, one département, degraded data ------------------------------------------

def test_html_escapes_names(tmp_path):
    ctx = make_ctx(nom="CPTS <b>Test</b> & Co", perimetre=("71001", "71002"))
    write_report(ctx, tmp_path)
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    assert "<b>Test</b>" not in html
    assert "CPTS &lt;b&gt;Test&lt;/b&gt; &amp; Co" in html
    assert "<title>CPTS &lt;b&gt;Test&lt;/b&gt; &amp; Co — Diagnostic territorial</title>" in html
    # one département: share of its population, comparison "dans le département"
    assert f"soit 16,4{NNBSP}% de la population de Saône-et-Loire" in html
    assert "dans le département" in html
    csv_text = (tmp_path / "indicateurs.csv").read_text(encoding="utf-8")
    assert "CPTS <b>Test</b> & Co" in csv_text  # raw in the data file


def test_missing_apl_degrades_section(tmp_path):
    ctx = make_ctx(apl=False)
    ctx.indisponibles = {"drees_apl": "fichier absent du miroir", "ign_contours": "fichier absent du miroir"}  # as RunReport says
    written = write_report(ctx, tmp_path)
    names = {p.name for p in written}
    assert "apl_mg.png" not in names and "situation.png" in names
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    assert "Carte de l&#39;APL non produite" in html
    assert "Source non disponible dans cette édition" in html and "Valeurs absentes des fichiers reçus" not in html
    assert html.count("data:image/png;base64,") == 1


def test_values_missing_from_a_received_file_are_not_an_unavailable_source(tmp_path):
    ctx = make_ctx(apl=False)  # APL rows non_disponible, yet the source is not among the unavailable ones
    write_report(ctx, tmp_path, pdf=False)
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    blocs = [b[:b.index("</ul>")] for b in html.split("Valeurs absentes des fichiers reçus")[1:]]
    assert any("Accessibilité potentielle localisée (APL) aux médecins généralistes</em> : APL" in b for b in blocs)
    assert "Source non disponible dans cette édition" not in html


def test_missing_contours_degrade_maps(tmp_path):
    ctx = make_ctx()
    ctx.communes = ctx.communes.set_geometry(gpd.GeoSeries([None] * len(ctx.communes), crs="EPSG:2154"))
    written = write_report(ctx, tmp_path)
    assert not any(p.suffix == ".png" for p in written)
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    assert "Carte de situation non produite" in html
    assert "data:image/png" not in html


def test_new_indicator_flows_through(tmp_path):
    ctx = make_ctx(extra_indicateur=True)
    write_report(ctx, tmp_path)
    df = pd.read_csv(tmp_path / "indicateurs.csv")
    assert "densite_mg_10000" in set(df["indicateur"])
    # not in the catalogue: after catalogue ids
    perim = df[df["territoire_type"] == "perimetre"]["indicateur"].tolist()
    assert perim[-1] == "densite_mg_10000"
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    assert "Médecins généralistes pour 10 000 habitants" in html
    assert "6. Autres indicateurs</h2>" in html and "7. Synthèse" in html
    assert "estimation" in html
    assert f"7,3{NNBSP}pour 10 000 habitants (estimation)" in html  # the Lecture calls it an estimation
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "indicateurs.xlsx")["6. Autres indicateurs"]
    assert any(r[-1] == "densite_mg_10000" for r in ws.iter_rows(values_only=True))


def test_context_checked(tmp_path):
    ctx = make_ctx()
    ctx.indicateurs = ctx.indicateurs.drop(columns=["statut"])
    with pytest.raises(ValueError, match="statut"):
        write_report(ctx, tmp_path)


# --- sentences and classes ---------------------------------------------------------------

def test_lecture_two_departements():
    ctx = make_ctx()
    text = lecture(faits(ctx), ["apl_mg", "part_pop_apl_mg_inf_2_5"])
    assert text.startswith("Lecture : l'accessibilité potentielle localisée (APL) aux médecins généralistes de la CPTS Fixture Saône est de 3,1")
    assert "3,1 dans le département de la Côte-d'Or, 3,3 dans celui de Saône-et-Loire et 3,4 en France" in text
    assert f"11,1{NNBSP}% de ses habitants" in text
    assert text.endswith(".")


def test_lecture_generic_indicator():
    ctx = make_ctx(extra_indicateur=True)
    text = lecture(faits(ctx), ["densite_mg_10000"])
    assert text is not None and "Médecins généralistes pour 10 000 habitants" in text
    assert "7,3" in text  # 1 decimal for "pour 10 000 habitants"


def test_articles():
    assert de_territoire(Territoire("departement", "69", "Rhône")) == "du Rhône"
    assert de_territoire(Territoire("departement", "01", "Ain")) == "de l'Ain"
    assert de_territoire(Territoire("departement", "71", "Saône-et-Loire")) == "de Saône-et-Loire"
    assert de_territoire(Territoire("departement", "40", "Landes")) == "des Landes"
    assert de_territoire(Territoire("departement", "974", "La Réunion")) == "de La Réunion"
    assert de_territoire(Territoire("region", "84", "Auvergne-Rhône-Alpes")) == "d'Auvergne-Rhône-Alpes"


def test_classes_include_threshold():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.gamma(4, 0.8, 900), [np.nan] * 5])
    b = classes(v)
    assert 2.5 in b
    assert b == sorted(b) and len(b) <= 6
    assert all(abs(x - 2.5) >= 0.25 or x == 2.5 for x in b)
    assert classes(np.array([3.0, 3.5, 4.2])) == sorted(classes(np.array([3.0, 3.5, 4.2])))
    assert classes(np.array([np.nan])) == []


def _ssd(values: np.ndarray, bounds: list[float]) -> float:
    total, lo = 0.0, -np.inf
    for hi in bounds:
        x = values[(values > lo) & (values <= hi)]
        total += float(((x - x.mean()) ** 2).sum())
        lo = hi
    return total


def test_fisher_jenks_agrees_with_mapclassify():
    """Our numpy Fisher-Jenks against mapclassify's (an independent implementation, in float32).

    On the real APL values of each département (the mirror's workbook) and on random samples, the breaks are
    the same, or ours have a within-class sum of squares no larger (float32 near-ties in mapclassify)."""
    import mapclassify
    rng = np.random.default_rng(1)
    samples = [np.round(rng.gamma(2, 1.5, size=int(rng.integers(8, 120))), 2) for _ in range(120)]
    samples.append(np.array([1.0, 1.0, 1.0, 2.0, 5.0, 5.0, 9.0]))
    compared = 0
    for v in samples:
        for k in (2, 3, 5):
            if len(np.unique(v)) <= k:
                continue
            ours = fisher_jenks(v, k)
            theirs = [float(b) for b in mapclassify.FisherJenks(v, k=k).bins]
            assert len(ours) == k and ours[-1] == v.max()
            s = np.sort(v)
            assert np.allclose(ours, theirs) or _ssd(s, ours) <= _ssd(s, theirs) + 1e-9
            compared += 1
    assert compared > 300


# --- fmt -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "x, dec, signe, expected",
    [
        (90474, 0, False, f"90{NNBSP}474"),
        (68401997, 0, False, f"68{NNBSP}401{NNBSP}997"),
        (3.14159, 1, False, "3,1"),
        (1234.5, 2, False, f"1{NNBSP}234,50"),
        (-0.08, 2, True, "\u22120,08"),
        (0.08, 2, True, "+0,08"),
        (-0.001, 1, False, "0,0"),
        (0, 0, True, "0"),
        (float("nan"), 1, False, "n.d."),
        (None, 1, False, "n.d."),
        (np.float64(2.55), 1, False, "2,6"),  # half up on the shortest repr, as Excel shows it
        (0.125, 2, False, "0,13"),
        (np.int64(999), 0, False, "999"),
    ],
)
def test_nombre(x, dec, signe, expected):
    assert fmt.nombre(x, dec, signe=signe) == expected


def test_fmt_helpers():
    assert fmt.pourcent(16.42) == f"16,4{NNBSP}%"
    assert fmt.pourcent(float("nan")) == "n.d."
    assert fmt.avec_unite(90474, "habitants") == f"90{NNBSP}474{NNBSP}habitants"
    assert fmt.valeur(3.123, "consultations/visites accessibles par an et par habitant standardisé") == "3,1"
    assert fmt.valeur(1.0, "%", "non_disponible") == "n.d."
    assert fmt.valeur(4.0, "communes", "secret") == "s"
    assert fmt.valeur(-0.05, "points") == "\u22120,05"
    assert fmt.decimales("habitants") == 0
    assert fmt.decimales("km²") == 1
    assert fmt.decimales("hab./km²") == 1
    assert fmt.decimales("%") == 1
    assert fmt.decimales("points") == 2
    assert fmt.decimales(None) == fmt.DECIMALES_DEFAUT
    assert fmt.format_excel(0) == "#,##0" and fmt.format_excel(2) == "#,##0.00"
    assert fmt.date_fr(date(2026, 1, 1)) == "1er janvier 2026"
    assert fmt.date_fr("2026-11-24T10:02:00+00:00") == "24 novembre 2026"
    assert fmt.date_courte("2026-11-24") == "24/11/2026"
    assert fmt.octets(3803291) == f"3,6{NNBSP}Mo"
    assert fmt.octets(512) == f"512{NNBSP}o"
    assert fmt.liste(["a", "b", "c"]) == "a, b et c"
    assert fmt.liste(["a"]) == "a"
    assert fmt.millesimes(["2023", "2022-2023", None, "2022"]) == ["2022", "2023"]
    assert fmt.millesimes(["2026-04-27", "2025"]) == ["2025", "27 avril 2026"]  # a dated extraction stays whole
    assert fmt.sha_court("ab" * 32) == "abababababab…"
    assert not math.isnan(0.0) and fmt.est_manquant(pd.NA) and fmt.est_manquant(float("nan"))


# --- plan, synthesis, wording -----------------------------------------------------------------

def test_plan_sections_and_empty_sections_say_what_would_fill_them(rendu):
    _, out, _ = rendu
    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    # empty sections say which data would fill them
    assert html.count("Section à compléter.") == 3  # Population, État de santé, Accès aux soins
    assert "Structure par âge de la population" in html
    # Accès aux soins: médecin traitant and soins non programmés, plainly unavailable
    assert "<strong>Médecin traitant.</strong> Source non disponible." in html
    assert "<strong>Soins non programmés.</strong> Source non disponible." in html
    assert "Rezone CPTS (accès réservé)" in html and "échelle des communes" in html  # levels stated
    # annexes A-D with anchors, table of contents linking to them
    for a in ("annexe-a", "annexe-b", "annexe-c", "annexe-d", "section-1", "section-6"):
        assert f'href="#{a}"' in html and f'id="{a}"' in html
    assert "Secret statistique et petits effectifs." in html and "Harmonisation géographique (COG)." in html


def test_theme_routes_new_indicator_to_its_section(tmp_path):
    ctx = make_ctx()
    extra = ctx.indicateurs[ctx.indicateurs["indicateur"] == "population"].copy()
    extra["indicateur"], extra["libelle"], extra["unite"], extra["valeur"] = "part_75_ans_et_plus", "Part des 75 ans ou plus", "%", 11.0
    extra.loc[extra["territoire_type"] == "perimetre", "valeur"] = 14.2
    ctx.indicateurs = pd.concat([ctx.indicateurs, extra], ignore_index=True)
    ctx.catalogue = pd.concat([ctx.catalogue, pd.DataFrame([{
        "indicateur": "part_75_ans_et_plus", "libelle": "Part des 75 ans ou plus", "unite": "%",
        "definition": "Population de 75 ans ou plus rapportée à la population.", "theme": "Population", "ordre": 99}])],
        ignore_index=True)
    write_report(ctx, tmp_path)
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    pop = html[html.index('id="section-2"'):html.index('id="section-3"')]
    assert "Part des 75 ans ou plus" in pop and "<table" in pop
    assert "Structure par âge" not in pop  # the topic is now covered
    assert "Revenus et précarité" in pop
    # 14,2 vs 11,0 in both départements: +3,2 points, within the 5-point margin
    syn = html[html.index('id="section-6"'):html.index('id="annexes"')]
    assert "Part des 75 ans ou plus" in syn.split("Proches du département")[1]


def test_synthese_direction_aware():
    from diagnostic.report.synthese import synthese

    ctx = make_ctx(perimetre=("71001", "71002"))  # one département: 71
    ind = ctx.indicateurs
    perim = ind["territoire_type"] == "perimetre"
    ind.loc[perim & (ind["indicateur"] == "apl_mg"), "valeur"] = 4.0  # 71: 3,31 -> +21 %: appui
    ind.loc[perim & (ind["indicateur"] == "part_pop_apl_mg_inf_2_5"), "valeur"] = 30.0  # 71: 18,2 -> +11,8 pts: vigilance
    s = synthese(ctx)
    appuis = {p.indicateur: p.texte for p in s.appuis}
    vig = {p.indicateur: p.texte for p in s.vigilances}
    assert "apl_mg" in appuis and "part_pop_apl_mg_inf_2_5" in vig
    assert appuis["apl_mg"].startswith("4,0 ") and "3,3 dans le département de Saône-et-Loire (+21" in appuis["apl_mg"]
    assert f"30,0{NNBSP}% pour le territoire, contre 18,2{NNBSP}% dans le département de Saône-et-Loire (+11,8 points)" in vig["part_pop_apl_mg_inf_2_5"]
    # sizes are never compared; density has no direction: context
    every = [p.indicateur for p in s.appuis + s.vigilances + s.contexte]
    assert "population" not in every and "nb_communes" not in every and "superficie_km2" not in every
    assert "densite_population" in [p.indicateur for p in s.contexte]
    # lower APL is a vigilance point
    ind.loc[perim & (ind["indicateur"] == "apl_mg"), "valeur"] = 2.0
    assert "apl_mg" in {p.indicateur for p in synthese(ctx).vigilances}
    # the catalogue may override a direction
    ctx.catalogue = ctx.catalogue.assign(sens=lambda d: d["indicateur"].map({"apl_mg": "hausse_defavorable"}))
    assert "apl_mg" in {p.indicateur for p in synthese(ctx).appuis}


def test_wording_estimations_small_numbers_unavailable(tmp_path):
    ctx = make_ctx(extra_indicateur=True)
    ind = ctx.indicateurs
    sel = (ind["territoire_type"] == "perimetre") & (ind["indicateur"] == "densite_mg_10000")
    ind.loc[sel, "numerateur"] = 12.0  # 12 doctors: small number
    ctx.indisponibles = {"rpps": "HTTP 503 sur annuaire.sante.fr"}
    ctx.avertissements = ["Commune 71999 inconnue du COG 2026, ignorée."]
    write_report(ctx, tmp_path)
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    assert '<sup class="petit">†</sup>' in html and "moins de 30 cas" in html
    assert "Valeur en italique : estimation" in html and "(estimation)" in html
    assert "Les valeurs suivantes sont des estimations" in html and "Médecins généralistes pour 10 000 habitants — CPTS Fixture Saône" in html
    assert "HTTP 503 sur annuaire.sante.fr" in html  # reason printed in the sources annex
    assert "Commune 71999 inconnue du COG 2026" in html


def test_csv_excel_french(rendu):
    ctx, out, _ = rendu
    raw = (out / "indicateurs_excel.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel detects the encoding
    text = raw.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == ";".join(CONTRACT_COLUMNS)
    df = pd.read_csv(out / "indicateurs_excel.csv", sep=";", decimal=",", encoding="utf-8-sig",
                     dtype={"territoire_code": str, "millesime": str})
    assert len(df) == len(ctx.indicateurs)
    ref = pd.read_csv(out / "indicateurs.csv", dtype={"territoire_code": str, "millesime": str})
    assert np.allclose(df["valeur"].to_numpy(), ref["valeur"].to_numpy(), equal_nan=True, atol=1e-6)
    assert "cpts-fixture;CPTS Fixture Saône;densite_population;Densité de population;301,58;hab./km²" in text
    assert ";90474;" in text  # integers without decimals or separators


def test_docx_same_content(rendu):
    import docx

    _, out, _ = rendu
    d = docx.Document(out / "diagnostic.docx")
    heads = [p.text for p in d.paragraphs if p.style.name.startswith("Heading 1")]
    assert heads[:8] == ["Sommaire", "Présentation", "1. Territoire", "2. Population", "3. Offre de soins",
                         "4. État de santé", "5. Accès aux soins", "6. Synthèse — points d'appui et points de vigilance"]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Source : INSEE" in text and "Lecture : la CPTS Fixture Saône compte 90" in text
    assert "Médecin traitant. Source non disponible." in text
    assert len(d.inline_shapes) == 2  # both maps
    t = d.tables[0]
    assert t.rows[0].cells[1].text.startswith("CPTS Fixture Saône")
    assert t.rows[2].cells[1].text == f"90{NNBSP}474"
    assert d.sections[0].page_width.mm == pytest.approx(210, abs=0.5)


def test_age_pyramid_drawn_with_its_lecture(tmp_path):
    """With census counts in the context, the Population section gets the pyramid and a « Lecture : »
    comparing the weight of the 75 and over (hand-made figures)."""
    import pandas as pd

    from diagnostic.report.pyramide import BANDES

    ctx = make_ctx()
    rows = []
    for ttype, code, nom, vieux in (("perimetre", "cpts", ctx.nom, 30.0), ("departement", "71", "Saône-et-Loire", 10.0)):
        for sexe in ("H", "F"):
            for b in BANDES:
                rows.append((ttype, code, nom, sexe, b, vieux if b in ("75-89", "90+") else 20.0, "2022"))
    ctx.pyramide = pd.DataFrame(rows, columns=["territoire_type", "territoire_code", "territoire_nom", "sexe",
                                               "tranche_age", "population", "annee"])
    out = tmp_path / "r"
    out.mkdir()
    write_report(ctx, out, pdf=False)
    assert (out / "graphiques" / "pyramide_ages.png").stat().st_size > 10_000
    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    # 75+: 4 cells of 30 out of 2 x (5 x 20 + 2 x 30) = 320 -> 37,5 %; département 40 / 240 -> 16,7 %
    assert "Pyramide des âges" in html
    assert "75 ans et plus représentent 37,5" in html and "16,7" in html


def test_establishments_listed_and_mapped(tmp_path):
    """FINESS rows of the perimeter (hand-made, as etablissements_perimetre.sql returns them): the named types are
    listed in the Offre de soins section (HTML and Word) and drawn as points; 'autre' is counted, not listed."""
    ctx = make_ctx()
    ctx.etablissements = pd.DataFrame([
        ("cpts-fixture", "710000011", "ÉTABLISSEMENT FICTIF 1", "hopital", "Hôpitaux", "355", "Centre Hospitalier (C.H.)",
         "71001", "Commune A", 4.40, 46.80),
        ("cpts-fixture", "710000037", "ÉTABLISSEMENT FICTIF 3", "msp", "Maisons de santé pluriprofessionnelles", "603",
         "Maison de santé (L.6223-3)", "71002", "Commune B", None, None),
        ("cpts-fixture", "710000060", "ÉTABLISSEMENT FICTIF 9", "autre", "Autres établissements", "354", "SSIAD",
         "71001", "Commune A", 4.41, 46.81),
    ], columns=["territoire_code", "nofinesset", "nom", "groupe", "groupe_libelle", "categetab", "libcategetab",
                "code_commune", "nom_commune", "lon", "lat"])
    written = write_report(ctx, tmp_path, pdf=False)
    assert tmp_path / "cartes" / "etablissements.png" in written
    html = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    section = html[html.index("Établissements de santé et structures de soins des communes du territoire"):]
    section = section[:section.index("</table>")]
    assert section.count("<tr>") == 3  # header + the hospital + the MSP (not geolocated, still listed)
    assert "ÉTABLISSEMENT FICTIF 1" in section and "ÉTABLISSEMENT FICTIF 3" in section
    assert "ÉTABLISSEMENT FICTIF 9" not in html
    assert "1 autre établissement du fichier FINESS" in html
    doc = docx.Document(str(tmp_path / "diagnostic.docx"))
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert {"ÉTABLISSEMENT FICTIF 1", "ÉTABLISSEMENT FICTIF 3"} <= cells


def test_gp_map_masks_small_counts(tmp_path):
    """GPs per commune (RPPS): communes under the threshold carry no count, only the secret flag."""
    ctx = make_ctx()
    ctx.communes["nb_mg"] = [12.0, None, 0.0][: len(ctx.communes)] + [0.0] * max(0, len(ctx.communes) - 3)
    ctx.communes["nb_mg_secret"] = [False, True, False][: len(ctx.communes)] + [False] * max(0, len(ctx.communes) - 3)
    carte = carte_medecins(ctx, tmp_path)
    assert carte is not None and carte.png.exists()
    ctx.communes = ctx.communes.drop(columns=["nb_mg", "nb_mg_secret"])
    assert carte_medecins(ctx, tmp_path / "sans") is None  # no RPPS: no map
