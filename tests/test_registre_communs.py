"""Blocks shared by several vintages of the registry (`[communs.<nom>]`, referenced by `{ commun = "<nom>" }`):
written once, read as if written in each vintage, an unknown reference refused in French."""

from __future__ import annotations

import tomllib

import pytest

from conftest import PROJECT
from diagnostic.config import DiagnosticError
from diagnostic.registry import load_registry

VACCINATION = ("odisse_vaccination_departement", "odisse_vaccination_region", "odisse_vaccination_france")

SOURCE = """
[essai_{n}]
titre = "Essai"
producteur = "P"
licence = "LO"
page = "https://exemple.fr"
format = "csv"
parser = "odisse"
latest = "2024"

[essai_{n}.vintages."2024"]
niveau = "region"
table = "stg_essai_{n}"
{mesures}

[essai_{n}.vintages."2024".files]
f = "https://exemple.fr/{n}.csv"
"""
BLOC = """grippe = { champs = ["grip_65plus"], libelle = "(?i)^grippe 65 ans et plus$" }
hpv = { champs = ["hpv1_f", "hpv_f"], libelle = "(?i)^hpv filles 1 dose" }
"""


def registre(tmp_path, texte: str):
    path = tmp_path / "sources.toml"
    path.write_text(texte, encoding="utf-8")
    return load_registry(path)


def test_the_vaccination_measures_are_written_once_and_read_by_the_three_levels():
    texte = (PROJECT / "pipelines" / "sources.toml").read_text(encoding="utf-8")
    assert texte.count('champs = ["grip_65plus"]') == 1
    bloc = tomllib.loads(texte)["communs"]["mesures_vaccination_odisse"]
    sources = load_registry(PROJECT / "pipelines" / "sources.toml")
    assert "communs" not in sources
    for sid in VACCINATION:
        assert sources[sid].vintage()["mesures"] == bloc, sid
    assert len(bloc) == 10 and bloc["grippe_65_plus"] == {"champs": ["grip_65plus"], "libelle": "(?i)^grippe 65 ans et plus$"}


def test_a_reference_reads_as_the_block_written_in_place(tmp_path):
    en_place = registre(tmp_path, "".join(SOURCE.format(n=n, mesures="[essai_%d.vintages.\"2024\".mesures]\n%s" % (n, BLOC))
                                          for n in (1, 2)))
    (tmp_path / "b").mkdir()
    partage = registre(tmp_path / "b", "[communs.vaccins]\n" + BLOC + "".join(
        SOURCE.format(n=n, mesures='mesures = { commun = "vaccins" }') for n in (1, 2)))
    assert partage == en_place
    partage["essai_1"].vintage()["mesures"]["grippe"]["champs"].append("x")  # each vintage holds its own copy
    assert partage["essai_2"].vintage()["mesures"]["grippe"]["champs"] == ["grip_65plus"]


def test_an_unknown_reference_is_refused_naming_it_and_the_known_blocks(tmp_path):
    with pytest.raises(DiagnosticError, match=r"source essai_1, millésime 2024 : bloc commun « vacins » inconnu ; "
                                              r"blocs de la table \[communs\] : « vaccins »\."):
        registre(tmp_path, "[communs.vaccins]\n" + BLOC + SOURCE.format(n=1, mesures='mesures = { commun = "vacins" }'))


def test_a_reference_with_another_key_is_refused(tmp_path):
    with pytest.raises(DiagnosticError, match=r"référence à un bloc commun s'écrit \{ commun = \"<nom>\" \}, sans autre clé"):
        registre(tmp_path, "[communs.vaccins]\n" + BLOC
                 + SOURCE.format(n=1, mesures='mesures = { commun = "vaccins", grippe = 1 }'))
    with pytest.raises(DiagnosticError, match=r"table « communs » : une table par bloc commun est attendue"):
        registre(tmp_path, 'communs = 3\n' + SOURCE.format(n=1, mesures=""))
