"""Figures drawn once (issue 16): PNG only unless SVG is asked for, and the PNG the same either way."""

from __future__ import annotations

from diagnostic.report import write_report

from test_report import make_ctx


def test_svg_only_when_asked_and_png_unchanged(tmp_path):
    ctx = make_ctx()
    sans, avec = tmp_path / "sans", tmp_path / "avec"
    sans.mkdir(), avec.mkdir()
    ecrits = write_report(ctx, sans, pdf=False, word=False)
    write_report(ctx, avec, pdf=False, word=False, svg=True)
    assert not list(sans.rglob("*.svg"))
    assert sorted(p.relative_to(sans).as_posix() for p in ecrits if p.suffix == ".png") == [
        "cartes/apl_mg.png", "cartes/situation.png"]
    assert sorted(p.relative_to(avec).as_posix() for p in avec.rglob("*.svg")) == ["cartes/apl_mg.svg", "cartes/situation.svg"]
    for png in ("cartes/apl_mg.png", "cartes/situation.png"):
        assert (sans / png).read_bytes() == (avec / png).read_bytes(), png
    assert ".svg" not in (sans / "diagnostic.html").read_text(encoding="utf-8")


def test_unchanged_chart_taken_from_the_cache_changed_one_redrawn(tmp_path):
    from PIL import Image

    from test_series import SERIE, ctx_prevention

    cache = tmp_path / "cache"
    nom = "graphiques/couv_vacc_grippe_65_plus.png"

    def rapport(dossier: str, ctx) -> bytes:
        out = tmp_path / dossier
        out.mkdir()
        write_report(ctx, out, pdf=False, word=False, cache_figures=cache)
        return (out / nom).read_bytes()

    premier = rapport("un", ctx_prevention())
    entrees = [p for p in cache.glob("*.png") if p.read_bytes() == premier]
    assert len(entrees) == 1
    avant = len(list(cache.glob("*.png")))  # the chart and the maps
    # the cached file is what the next report with the same inputs gets: mark it to see it come back
    Image.new("RGB", (40, 20), "red").save(entrees[0])
    marque = entrees[0].read_bytes()
    assert rapport("deux", ctx_prevention()) == marque
    # one value of the series changed: another key, the chart drawn again
    SERIE[("france", "FR")]["2024"] = 55.0
    try:
        troisieme = rapport("trois", ctx_prevention())
    finally:
        SERIE[("france", "FR")]["2024"] = 54.1
    assert troisieme not in (marque, premier)
    assert len(list(cache.glob("*.png"))) > avant  # a new entry for the chart


def test_rgb_png_has_matplotlib_pixels(tmp_path):
    """The RGB PNG written from one rendering (unfiltered rows, ``figures._png``) holds the pixels of matplotlib's
    own (RGBA, opaque) PNG, its resolution and text, the placeholder layout engine left by tight_layout dropped
    (no dry-run draw before it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    from diagnostic.report.figures import png_rgb

    fig, ax = plt.subplots(figsize=(5.3, 2.7), dpi=100)
    ax.plot([2019, 2020, 2021], [54.2, 55.0, 53.1], marker="o")
    ax.set_title("Évolution : couverture vaccinale")
    fig.tight_layout()
    fig.savefig(tmp_path / "mpl.png", dpi=200)
    assert fig.get_layout_engine() is not None  # matplotlib's PNG above was drawn after a dry run
    png_rgb(fig, tmp_path / "rgb.png", dpi=200, metadata={"Title": "Évolution", "Description": "≥ 5 %"})
    assert fig.get_layout_engine() is None
    plt.close(fig)
    with Image.open(tmp_path / "mpl.png") as a, Image.open(tmp_path / "rgb.png") as b:
        assert a.mode == "RGBA" and b.mode == "RGB" and b.size == a.size == (1060, 540)
        assert b.text == {"Title": "Évolution", "Description": "≥ 5 %"}  # latin-1 and not (tEXt, iTXt)
        assert tuple(round(d) for d in b.info["dpi"]) == (200, 200)
        ref = np.asarray(a)
        assert (ref[..., 3] == 255).all()
        assert (ref[..., :3] == np.asarray(b)).all()


def test_unchanged_map_taken_from_the_cache_changed_one_redrawn(tmp_path):
    from PIL import Image

    cache = tmp_path / "cache"

    def rapport(dossier: str, ctx) -> bytes:
        out = tmp_path / dossier
        out.mkdir()
        write_report(ctx, out, pdf=False, word=False, cache_figures=cache)
        return (out / "cartes" / "situation.png").read_bytes()

    premier = rapport("un", make_ctx())
    entrees = [p for p in cache.glob("*.png") if p.read_bytes() == premier]
    assert len(entrees) == 1
    Image.new("RGB", (40, 20), "red").save(entrees[0])
    marque = entrees[0].read_bytes()
    assert rapport("deux", make_ctx()) == marque
    html = (tmp_path / "deux" / "diagnostic.html").read_text(encoding="utf-8")
    assert "Carte 1 – Situation du territoire" in html  # its caption comes back with it
    autre = make_ctx()
    autre.nom = "CPTS Autre nom"  # the title of the map changes: drawn again
    assert rapport("trois", autre) not in (marque, premier)


def test_map_cache_key_holds_every_context_field_the_maps_read():
    """A map is taken from the cache when the context fields of its key are unchanged: maps.py and filosofi.py
    must read no other field than CHAMPS_CARTES (a new one goes into it), the actors map and the age pyramid
    none other than theirs in CHAMPS_FIGURES."""
    import inspect
    import importlib
    import re
    from pathlib import Path

    import diagnostic.report.annuaire as annuaire
    import diagnostic.report.filosofi as filosofi
    import diagnostic.report.maps as maps
    from diagnostic.report.figures import AIDES_CARTES, CHAMPS_CARTES, CHAMPS_FIGURES

    pyramide = importlib.import_module("diagnostic.report.pyramide")  # the package exports a function of that name
    definies = set(re.findall(r"^def ([a-z_]+)\(", Path(maps.__file__).read_text(encoding="utf-8"), re.M))
    for source, champs in ((Path(maps.__file__).read_text(encoding="utf-8"), CHAMPS_CARTES),
                           (Path(filosofi.__file__).read_text(encoding="utf-8"), CHAMPS_CARTES),
                           (inspect.getsource(annuaire.carte), CHAMPS_FIGURES["diagnostic.report.annuaire.carte"]),
                           (inspect.getsource(pyramide.pyramide), CHAMPS_FIGURES["diagnostic.report.pyramide.pyramide"])):
        lus = set(re.findall(r"\bctx\.([a-z_]+)", source)) | set(re.findall(r"getattr\(ctx,\s*[\"']([a-z_]+)", source))
        assert lus and lus <= set(champs), lus - set(champs)
        # functions of other modules handed the whole context: only those whose reads CHAMPS_CARTES holds
        locales = set(re.findall(r"^def ([a-z_]+)\(", source, re.M))
        aides = set(re.findall(r"\b([a-z_]+)\(ctx\s*[,)]", source)) - definies - locales - {"getattr"}
        assert aides <= set(AIDES_CARTES), aides - set(AIDES_CARTES)


def test_filosofi_actors_and_pyramid_taken_from_the_cache(tmp_path):
    """The Filosofi maps, the actors map and the age pyramid come back from the cache with their captions."""
    from PIL import Image

    from diagnostic.report.figures import carte_en_cache, reglages
    from diagnostic.report.pyramide import pyramide

    cache = tmp_path / "cache"
    ctx = make_ctx()
    import pandas as pd

    ctx.pyramide = pd.DataFrame(
        [("perimetre", "p", "P", s, b, 100 + i, "2022") for i, (s, b) in enumerate((s, b) for s in "HF" for b in ("00-14", "15-29"))]
        + [("departement", "71", "Saône-et-Loire", s, b, 1000, "2022") for s in "HF" for b in ("00-14", "15-29")],
        columns=["territoire_type", "territoire_code", "territoire_nom", "sexe", "tranche_age", "population", "annee"])
    with reglages(cache=cache):
        premiere = carte_en_cache(ctx, pyramide, tmp_path / "un")
    assert [c.png for c in premiere] == [tmp_path / "un" / "pyramide_ages.png"]
    entree = next(cache.glob("*.png"))
    Image.new("RGB", (40, 20), "red").save(entree)
    with reglages(cache=cache):
        seconde = carte_en_cache(ctx, pyramide, tmp_path / "deux")
    assert [(c.cle, c.titre, c.legende) for c in seconde] == [(c.cle, c.titre, c.legende) for c in premiere]
    assert seconde[0].png.read_bytes() == entree.read_bytes()
    ctx.pyramide.loc[0, "population"] = 500  # another input: drawn again
    with reglages(cache=cache):
        troisieme = carte_en_cache(ctx, pyramide, tmp_path / "trois")
    assert troisieme[0].png.read_bytes() != entree.read_bytes()


def test_word_text_by_segments_writes_the_same_xml(tmp_path):
    """``docx_texte.par_segments`` (run text by segments, issue 16) writes the document.xml python-docx writes
    with its own loop per character (tabs and line breaks included)."""
    import zipfile

    from docx.oxml.text.run import _RunContentAppender

    from diagnostic.report import document as modele
    from diagnostic.report.word import _write_docx, write_docx

    ctx = make_ctx()
    ctx.avertissements = ["Deux lignes\nd'avertissement,\tavec une tabulation\r\net un retour."]
    doc = modele.document(ctx, [])
    avant = _RunContentAppender.add_text
    write_docx(doc, tmp_path / "segments.docx")
    assert _RunContentAppender.add_text is avant  # restored
    _write_docx(doc, tmp_path / "python_docx.docx")
    xml = [zipfile.ZipFile(tmp_path / f).read("word/document.xml") for f in ("segments.docx", "python_docx.docx")]
    assert xml[0] == xml[1]
    assert b"<w:tab/>" in xml[0] and b"<w:br/>" in xml[0]
