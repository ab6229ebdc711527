"""Bad territory input, as a corpus of cases: each gets a clear French message naming the problem, or
a documented normalisation reported as a warning; never a traceback, never a file outside reports/<slug>/.
Resolved against the real warehouse built from the mirror."""

from __future__ import annotations

import duckdb
import pytest

from diagnostic.territoire import TerritoireError, resolve

from conftest import run_cli


@pytest.fixture(scope="module")
def con(built_workspace):
    with duckdb.connect(str(built_workspace / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as c:
        yield c


@pytest.fixture(scope="module")
def territoires(built_workspace):
    return built_workspace / "data" / "territoires"


ERRORS = [
    ("communes:71153,99999", ["99999 : code commune inconnu au COG 2026"]),
    ("communes:71055", ["71055 n'est plus une commune au COG 2026", "71134 (Navour-sur-Grosne)", "utilisez 71134"]),
    ("communes:71304", ["71304 n'est plus une commune", "commune déléguée de 71134 (Navour-sur-Grosne)"]),
    ("communes:75101", ["75101 n'est plus une commune", "arrondissement municipal de 75056 (Paris)"]),
    ("communes:", ["ne contient aucune commune"]),
    ("communes: , ,", ["ne contient aucune commune"]),
    ("", ["Aucun territoire indiqué"]),
    ("communes:97501", ["97501 : commune d'une collectivité d'outre-mer, hors du champ"]),
    ("epci:123456789", ["EPCI « 123456789 » inconnu"]),
    ("epci:", ["EPCI non précisé"]),
    ("dep:99", ["Département « 99 » inconnu"]),
    ("dep:975", ["hors du champ couvert"]),
    ("region:27", ["Forme de territoire inconnue « region: »"]),
    ("../../etc/passwd", ["Nom de territoire invalide « ../../etc/passwd »"]),
    ("cpts/../../x", ["Nom de territoire invalide"]),
    ("cpts-qui-n-existe-pas", ["Territoire « cpts-qui-n-existe-pas » inconnu", "cpts-centre-saone-et-loire"]),
]


@pytest.mark.parametrize("spec, expected", ERRORS, ids=[e[0] or "vide" for e in ERRORS])
def test_bad_input_named(con, territoires, spec, expected):
    with pytest.raises(TerritoireError) as exc:
        resolve(spec, con, territoires)
    for fragment in expected:
        assert fragment in str(exc.value)


def test_every_faulty_code_named_at_once(con, territoires):
    with pytest.raises(TerritoireError) as exc:
        resolve("communes:99998,71153,99999,75102", con, territoires)
    msg = str(exc.value)
    assert "99998" in msg and "99999" in msg and "75102" in msg and "71153" not in msg


NORMALISED = [
    ("communes:2a004", ["2A004"], ["« 2a004 » lu comme « 2A004 »"]),
    ("communes: 71153 , 71306,", ["71153", "71306"], []),
    ("communes:71153,71153,71306", ["71153", "71306"], ["71153 présent plusieurs fois"]),
    ("communes:1001", ["01001"], ["« 1001 » lu comme « 01001 »"]),
    ("communes:71153,03185", ["71153", "03185"], ["s'étend sur 2 régions"]),
    ("dep:2a", None, []),
    ("EPCI:247100290", None, []),
]


@pytest.mark.parametrize("spec, communes, warnings", NORMALISED, ids=[n[0] for n in NORMALISED])
def test_normalisations_warned(con, territoires, spec, communes, warnings):
    t = resolve(spec, con, territoires)
    if communes is not None:
        assert t.communes == communes
    for fragment in warnings:
        assert any(fragment in w for w in t.avertissements), t.avertissements


def test_several_regions_all_compared(con, territoires):
    t = resolve("communes:71153,03185", con, territoires)
    sel = t.selection(con)
    assert sorted(sel.loc[sel.territoire_type == "region", "territoire_code"].unique()) == ["27", "84"]
    assert sorted(sel.loc[sel.territoire_type == "departement", "territoire_code"].unique()) == ["03", "71"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ('nom = "X"\n', "clé « communes » manquante"),
        ('communes = ["71153"]\n', "clé « nom » manquante"),
        ('nom = "X"\ncommunes = "71153"\n', "clé « communes » : type str au lieu de list"),
        ('nom = "X"\ncommunes = [71153]\n', "liste de codes INSEE entre guillemets"),
        ('nom = "X"\ncommunes = ["71153"]\nscript = "rm -rf /"\n', "clé « script » inconnue"),
        ('nom = "X"\ncommunes = ["71153"\n', "illisible"),
    ],
)
def test_perimeter_file_checked(con, tmp_path, content, expected):
    (tmp_path / "mauvais.toml").write_text(content, encoding="utf-8")
    with pytest.raises(TerritoireError) as exc:
        resolve("mauvais", con, tmp_path)
    assert expected in str(exc.value)


def test_cli_bad_slug_writes_nothing(built_workspace, mirror_url):
    before = sorted(p.relative_to(built_workspace) for p in built_workspace.rglob("*"))
    proc = run_cli(built_workspace, "run", "../escape", mirror=mirror_url, check=False)
    assert proc.returncode == 2
    assert "Nom de territoire invalide" in proc.stderr and "Traceback" not in proc.stderr
    after = sorted(p.relative_to(built_workspace) for p in built_workspace.rglob("*"))
    assert [p for p in after if p not in before and "lock" not in p.name] == []
    assert not (built_workspace.parent / "escape").exists()


def test_one_class_of_territories_and_of_topics():
    """One `Territoire` (the resolved perimeter and the report's comparison columns) and one `Sujet` in the package."""
    import ast
    from pathlib import Path

    import diagnostic
    from diagnostic.report.tables import territoires
    from diagnostic.territoire import Territoire

    definies: dict[str, list[str]] = {}
    for p in Path(diagnostic.__file__).parent.rglob("*.py"):
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(n, ast.ClassDef) and n.name in ("Territoire", "Sujet"):
                definies.setdefault(n.name, []).append(p.name)
    assert {k: len(v) for k, v in definies.items()} == {"Territoire": 1, "Sujet": 1}, definies
    import pandas as pd

    ind = pd.DataFrame({"territoire_type": ["perimetre", "departement"], "territoire_code": ["cpts-x", "71"],
                        "territoire_nom": ["CPTS X", "Saône-et-Loire"]})
    colonnes = territoires(ind)
    assert all(isinstance(t, Territoire) for t in colonnes)
    assert [t.libelle for t in colonnes] == ["CPTS X", "Saône-et-Loire (71)"]
    perimetre = Territoire("perimetre", "cpts-x", "CPTS X", communes=["71076"])
    assert perimetre.slug == "cpts-x" and perimetre == colonnes[0] and hash(perimetre) == hash(colonnes[0])
