"""Parsers of the data.ameli.fr Opendatasoft CSV exports (cartographie des pathologies `effectifs`,
`demographie-effectifs-et-les-densites`, `patients-longueduree-annuelle`) on hand-made fixtures in the
official format: `;`, field names in the header, built-in totals (dept 999, region 99, tsage, sexe 9,
tout_age, tout sexe), masks NS / NC / empty Ntop (tests/fixtures/ameli_*, invented figures)."""

from __future__ import annotations

import pytest

from diagnostic.sources import SourceFormatError, ameli_ald_mt, ameli_demographie, ameli_effectifs

from conftest import FIXTURES, one

PATHOLOGIES = {"pathologies": {"diabete": "DIA_CAT_CAT", "ald": "ALD_CAT_CAT", "cancers": "CAN_CAT_CAT"}}




def copy_with(tmp_path, src, edit):
    (tmp_path / "raw").mkdir()
    dest = tmp_path / "raw" / src.name
    dest.write_text(edit(src.read_text(encoding="utf-8")), encoding="utf-8")
    return dest.parent


# ----------------------------------------------------------------------------------------------- effectifs
@pytest.fixture(scope="module")
def effectifs():
    return ameli_effectifs.parse(FIXTURES / "ameli_effectifs", PATHOLOGIES)["stg_ameli_effectifs"]


def test_effectifs_keeps_registered_pathologies_and_builtin_totals_as_rows(effectifs):
    assert set(effectifs["pathologie"]) == {"diabete", "ald"}  # INF_CAT_CAT not asked; CAN_CAT_CAT absent (warned)
    assert len(effectifs) == 20 * 2 * 2 + 2 + 20 + 4 + 3
    total = one(effectifs, pathologie="diabete", region="99", dept="999", cla_age_5="tsage", sexe="9")
    assert (total.ntop, total.npop, total.prev) == (450000.0, 6000000.0, 7.5)
    assert one(effectifs, pathologie="diabete", dept="71", cla_age_5="95et+", sexe="2").ntop == 120.0


def test_effectifs_masked_count_is_a_status_never_zero(effectifs):
    masked = one(effectifs, pathologie="diabete", dept="71", cla_age_5="10-14", sexe="1")
    assert masked.ntop != masked.ntop and masked.statut == "secret"  # NaN, not 0
    ald = one(effectifs, pathologie="ald", dept="71", cla_age_5="tsage", sexe="9")
    assert ald.prev != ald.prev and ald.statut == "secret"
    assert effectifs.loc[effectifs["ntop"].notna(), "statut"].isna().all()


def test_effectifs_lower_case_field_names_also_read(tmp_path):
    # the JSON / parquet field names are lower case (ntop, npop, niveau_prioritaire)
    raw = copy_with(tmp_path, FIXTURES / "ameli_effectifs" / "effectifs.csv",
                    lambda t: t.replace("Ntop;Npop", "ntop;npop").replace("Niveau prioritaire", "niveau_prioritaire"))
    assert len(ameli_effectifs.parse(raw, PATHOLOGIES)["stg_ameli_effectifs"]) == 109


def test_effectifs_malformed_value_names_file_row_and_column(tmp_path):
    # line 3 of the file: diabète, département 75, 00-04, hommes
    raw = copy_with(tmp_path, FIXTURES / "ameli_effectifs" / "effectifs.csv",
                    lambda t: t.replace(";11;75;10;1000;1.000;", ";11;75;dix;1000;1.000;", 1))
    with pytest.raises(SourceFormatError) as err:
        ameli_effectifs.parse(raw, PATHOLOGIES)
    assert "effectifs.csv, ligne 3, colonne 'ntop'" in str(err.value)


def test_effectifs_unknown_top_codes_listed(tmp_path):
    with pytest.raises(SourceFormatError, match="codes de niveau 1 trouvés : ALD_CAT_CAT, DIA_CAT_CAT, INF_CAT_CAT"):
        ameli_effectifs.parse(FIXTURES / "ameli_effectifs", {"pathologies": {"diabete": "DIABETE"}})


# --------------------------------------------------------------------------------------------- démographie
@pytest.fixture(scope="module")
def demographie():
    return ameli_demographie.parse(FIXTURES / "ameli_demographie", {})["stg_ameli_demographie"]


def test_demographie_keeps_the_one_gp_profession(demographie):
    assert set(demographie["profession_sante"]) == {"Médecins généralistes (hors MEP)"}
    assert len(demographie) == 4 * 10 * 3  # 4 territories x (9 classes + tout âge) x 3 sexes
    row = one(demographie, departement="71", classe_age="60-64", libelle_sexe="tout sexe")
    assert (row.effectif, row.age_min) == (40.0, 60)
    assert one(demographie, departement="71", classe_age=">=70", libelle_sexe="hommes").age_min == 70
    assert one(demographie, departement="71", classe_age="<35", libelle_sexe="femmes").age_min == 0
    total = one(demographie, departement="71", classe_age="tout_age", libelle_sexe="tout sexe")
    assert total.effectif == 200.0 and total.age_min is None or str(total.age_min) == "<NA>"
    assert total.densite == 95.3  # decimal comma


def test_demographie_ns_is_a_status_never_zero(demographie):
    row = one(demographie, departement="75", classe_age="60-64", libelle_sexe="tout sexe")
    assert row.effectif != row.effectif and row.effectif_statut == "secret"


def test_demographie_profession_pattern_must_match_one_label():
    with pytest.raises(SourceFormatError, match="professions du fichier : Infirmiers, Médecins généralistes"):
        ameli_demographie.parse(FIXTURES / "ameli_demographie", {"profession_mg": "^Médecins"})


def test_demographie_malformed_value_names_file_row_and_column(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_demographie" / "demographie-effectifs-et-les-densites.csv",
                    lambda t: t.replace("De 35 à 39 ans;femmes;7.5;", "De 35 à 39 ans;femmes;7.5 ETP;", 1))
    with pytest.raises(SourceFormatError) as err:
        ameli_demographie.parse(raw, {})
    assert "ligne 6, colonne 'effectif'" in str(err.value)


# ------------------------------------------------------------------------------------ ALD sans médecin traitant
def test_ald_sans_mt_levels_masks_and_decimal_comma():
    df = ameli_ald_mt.parse(FIXTURES / "ameli_ald_mt", {})["stg_ameli_ald_sans_mt"]
    assert len(df) == 5  # the 'inconnu' row belongs to no territory
    assert one(df, annee="2024", region="27", departement="71").taux == 6.25
    assert one(df, annee="2023", region="99", departement="999").taux == 4.6
    paris = one(df, annee="2024", departement="75")
    assert paris.taux != paris.taux and paris.statut == "non_disponible"  # NC, not the _integer twin's 0


def test_ald_sans_mt_malformed_value(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_ald_mt" / "patients-longueduree-annuelle.csv",
                    lambda t: t.replace("5,1;5.1", "5,1 pts;5.1"))
    with pytest.raises(SourceFormatError, match="ligne 4, colonne 'taux_patients_ald_sans_mt'"):
        ameli_ald_mt.parse(raw, {})


def test_ald_sans_mt_missing_column(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_ald_mt" / "patients-longueduree-annuelle.csv",
                    lambda t: t.replace("taux_patients_ald_sans_mt;", "taux;"))
    with pytest.raises(SourceFormatError, match=r"absente\(s\) : taux_patients_ald_sans_mt"):
        ameli_ald_mt.parse(raw, {})


def test_empty_tables_match_the_staging_guards():
    """empty() gives the columns and types the models' guards declare (06-08 *.sql)."""
    import duckdb

    from diagnostic import warehouse

    con = duckdb.connect()
    for module in (ameli_effectifs, ameli_demographie, ameli_ald_mt):
        for name, df in module.empty().items():
            con.register("_e", df)
            got = con.sql("SELECT column_name, column_type FROM (DESCRIBE _e)").fetchall()
            con.unregister("_e")
            sql = warehouse.model_sql("08_int_sante.sql")
            guard = sql[sql.index(f"CREATE TABLE IF NOT EXISTS {name} ("):]
            con.execute(guard[: guard.index(";") + 1])
            assert con.sql(f"SELECT column_name, column_type FROM (DESCRIBE {name})").fetchall() == got, name


def test_integer_typed_codes_get_their_leading_zero_back(tmp_path):
    # Opendatasoft integer fields lose the leading zero (région 01 = Guadeloupe exported as 1)
    raw = copy_with(tmp_path, FIXTURES / "ameli_ald_mt" / "patients-longueduree-annuelle.csv",
                    lambda t: t.replace("2024;11;Île-de-France;75;Paris;NC", "2024;1;Guadeloupe;971;Guadeloupe;7,5"))
    df = ameli_ald_mt.parse(raw, {})["stg_ameli_ald_sans_mt"]
    assert one(df, departement="971").region == "01"
