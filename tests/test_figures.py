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
