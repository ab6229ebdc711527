"""Parsers of the data.ameli.fr Opendatasoft CSV exports (cartographie des pathologies `effectifs`,
`demographie-effectifs-et-les-densites`, `patients-longueduree-annuelle`) on hand-made fixtures whose headers,
labels and codes come from the evidence recorded in pipelines/sources.toml (`[<source>.preuve]`): `;`, field
names or labels in the header, built-in totals (dept 999, region 99, tsage, sexe 9, tout_age, tout sexe),
masks NS / NC / empty Ntop (tests/fixtures/ameli_*, invented figures)."""

from __future__ import annotations

import pytest

from diagnostic.sources import SelectionVide, SourceFormatError, ameli_ald_mt, ameli_demographie, ameli_effectifs

from conftest import FIXTURES, one

PATHOLOGIES = {"pathologies": {"diabete": "DIA_CAT_CAT", "ald": "ALD_CAT_CAT", "cancers": "CAN_CAT_CAT",
                               "cardioneurovasculaire": {"patho_niv1": "Maladies cardioneurovasculaires"},
                               "psychiatrie": {"patho_niv1": "Maladies psychiatriques"}}}




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
    # INF_CAT_CAT and RES_CAT_EXC not asked; the sub-pathologies MCV_SCO_CAT and PSY_PSC_IND never taken
    assert set(effectifs["pathologie"]) == {"diabete", "ald", "cancers", "cardioneurovasculaire", "psychiatrie"}
    assert len(effectifs) == (20 * 2 * 2 + 2 + 20 + 4) + 3 + 2 * 3
    total = one(effectifs, pathologie="diabete", region="99", dept="999", cla_age_5="tsage", sexe="9")
    assert (total.ntop, total.npop, total.prev) == (450000.0, 6000000.0, 7.5)
    assert one(effectifs, pathologie="diabete", dept="71", cla_age_5="95et+", sexe="2").ntop == 120.0


def test_effectifs_group_chosen_by_level_1_label_is_its_total_row(effectifs):
    cardio = effectifs[effectifs["pathologie"] == "cardioneurovasculaire"]
    assert set(cardio["top"]) == {"MCV_CAT_CAT"}  # not the « Maladie coronaire » row of the same group
    assert one(cardio, region="99").ntop == 510000.0
    assert one(effectifs, pathologie="psychiatrie", region="27").ntop == 12000.0


def test_effectifs_label_designating_two_codes_is_refused(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_effectifs" / "effectifs.csv",
                    lambda t: t.replace(";Maladie coronaire;;MCV_SCO_CAT;", ";;;MCV_SCO_CAT;"))
    with pytest.raises(SourceFormatError, match="« Maladies cardioneurovasculaires » .* 2 codes « top » au lieu d'un : "
                                                "MCV_CAT_CAT, MCV_SCO_CAT"):
        ameli_effectifs.parse(raw, PATHOLOGIES)


def test_effectifs_masked_count_is_a_status_never_zero(effectifs):
    masked = one(effectifs, pathologie="diabete", dept="71", cla_age_5="10-14", sexe="1")
    assert masked.ntop != masked.ntop and masked.statut == "secret"  # NaN, not 0
    ald = one(effectifs, pathologie="ald", dept="71", cla_age_5="tsage", sexe="9")
    assert ald.prev != ald.prev and ald.statut == "secret"
    assert effectifs.loc[effectifs["ntop"].notna(), "statut"].isna().all()


def test_effectifs_labels_or_field_names_in_the_header(tmp_path):
    # the fixture has the labels (Ntop;Npop, Niveau prioritaire); the API export the field names (ntop;npop,
    # niveau_prioritaire), and a portal view was seen with spaces (« patho niv1 », « libelle classe age »)
    raw = copy_with(tmp_path, FIXTURES / "ameli_effectifs" / "effectifs.csv",
                    lambda t: t.replace("Ntop;Npop", "ntop;npop").replace("Niveau prioritaire", "niveau_prioritaire")
                    .replace("patho_niv1", "patho niv1", 1).replace("libelle_classe_age", "libelle classe age", 1))
    assert len(ameli_effectifs.parse(raw, PATHOLOGIES)["stg_ameli_effectifs"]) == 115


def test_effectifs_malformed_value_names_file_row_and_column(tmp_path):
    # line 3 of the file: diabète, département 75, 00-04, hommes
    raw = copy_with(tmp_path, FIXTURES / "ameli_effectifs" / "effectifs.csv",
                    lambda t: t.replace(";11;75;10;1000;1.000;", ";11;75;dix;1000;1.000;", 1))
    with pytest.raises(SourceFormatError) as err:
        ameli_effectifs.parse(raw, PATHOLOGIES)
    assert "effectifs.csv, ligne 3, colonne 'ntop'" in str(err.value)


def test_effectifs_malformed_value_after_rows_not_kept_names_its_file_line(tmp_path):
    src = FIXTURES / "ameli_effectifs" / "effectifs.csv"
    cible = ";PSY_CAT_CAT;tsage;9;27;999;12000;"
    ligne = next(i for i, li in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1) if cible in li)
    raw = copy_with(tmp_path, src, lambda t: t.replace(cible, cible.replace("12000", "12 000 env.")))
    with pytest.raises(SourceFormatError, match=f"effectifs.csv, ligne {ligne}, colonne 'ntop'"):
        ameli_effectifs.parse(raw, {"pathologies": {"psychiatrie": {"patho_niv1": "Maladies psychiatriques"}}})
    assert ligne > 100  # the rows before it (diabetes, ALD…) were not kept: the line is the file's, not the selection's


def test_effectifs_code_matching_no_row_is_an_error_listing_the_codes(tmp_path):
    with pytest.raises(SelectionVide, match="aucun code « top » ne correspond à « MCV_CAT_CAX » .*codes « top » de niveau 1 "
                                            "présents : ALD_CAT_CAT ; CAN_CAT_CAT ; DIA_CAT_CAT ; INF_CAT_CAT ; MCV_CAT_CAT ; "
                                            "PSY_CAT_CAT ; RES_CAT_EXC. Le format"):
        ameli_effectifs.parse(FIXTURES / "ameli_effectifs", {"pathologies": {"diabete": "DIA_CAT_CAT",
                                                                             "cardio": "MCV_CAT_CAX"}})


def test_effectifs_label_matching_no_group_total_is_an_error_listing_the_groups():
    with pytest.raises(SelectionVide, match="pathologie de niveau 1 « Maladies cardio-neurovasculaires » .*groupes de "
                                            "niveau 1 présents : Cancers ; Diabète ; Maladies cardioneurovasculaires"):
        ameli_effectifs.parse(FIXTURES / "ameli_effectifs",
                              {"pathologies": {"cardio": {"patho_niv1": "Maladies cardio-neurovasculaires"}}})


def test_effectifs_all_ages_and_both_sexes_totals_are_required(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_effectifs" / "effectifs.csv", lambda t: t.replace(";tsage;", ";tous;"))
    with pytest.raises(SelectionVide, match="aucune ligne de classe d'âge « tsage » \\(tous âges\\) .* valeurs de cla_age_5 "
                                            "présentes : 00-04 ; 05-09"):
        ameli_effectifs.parse(raw, PATHOLOGIES)


def test_effectifs_registry_selector_of_another_shape_is_refused():
    with pytest.raises(SourceFormatError, match="pathologie « cardio » : un code « top » ou"):
        ameli_effectifs.parse(FIXTURES / "ameli_effectifs", {"pathologies": {"cardio": {"niv1": "Cancers"}}})


# --------------------------------------------------------------------------------------------- démographie
@pytest.fixture(scope="module")
def demographie():
    return ameli_demographie.parse(FIXTURES / "ameli_demographie", {})["stg_ameli_demographie"]


HORS_MEP = "Médecins généralistes (hors médecins à expertise particulière - MEP)"
MEP = "Médecins généralistes à expertise particulière (MEP)"


def test_demographie_keeps_both_gp_labels_and_never_their_aggregate(demographie):
    assert set(demographie["profession_sante"]) == {HORS_MEP, MEP}  # not « Ensemble des médecins généralistes »
    assert len(demographie) == 2 * 4 * 13 * 3  # 2 labels x 4 territories x (11 classes + inconnu + tout âge) x 3 sexes
    row = one(demographie, profession_sante=HORS_MEP, departement="71", classe_age="60-64", libelle_sexe="tout sexe")
    assert (row.annee, row.effectif, row.age_min) == ("2024", 40.0, 60)  # annee read from the date 2024-01-01
    assert one(demographie, profession_sante=MEP, departement="71", classe_age="60-64", libelle_sexe="tout sexe").effectif == 1.0
    assert one(demographie, profession_sante=HORS_MEP, departement="71", classe_age=">=70", libelle_sexe="hommes").age_min == 70
    assert one(demographie, profession_sante=HORS_MEP, departement="71", classe_age="<25", libelle_sexe="femmes").age_min == 0
    for classe in ("tout_age", "inconnu"):
        row = one(demographie, profession_sante=HORS_MEP, departement="75", classe_age=classe, libelle_sexe="tout sexe")
        assert str(row.age_min) == "<NA>"
    total = one(demographie, profession_sante=HORS_MEP, departement="71", classe_age="tout_age", libelle_sexe="tout sexe")
    assert (total.effectif, total.densite) == (200.0, 95.3)  # decimal comma


def test_demographie_unknown_age_never_counted_in_an_age_band():
    # the code of « âge inconnu » was not seen: even a numeric one gives no lower bound
    assert ameli_demographie.age_min("99", "âge inconnu") is None
    assert ameli_demographie.age_min("60-64", "de 60 à 64 ans") == 60
    assert ameli_demographie.age_min("<25", "moins de 25 ans") == 0


def test_demographie_ns_is_a_status_never_zero(demographie):
    row = one(demographie, profession_sante=HORS_MEP, departement="75", classe_age="60-64", libelle_sexe="tout sexe")
    assert row.effectif != row.effectif and row.effectif_statut == "secret"


def test_demographie_year_as_a_plain_year_also_read(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_demographie" / "demographie-effectifs-et-les-densites.csv",
                    lambda t: t.replace("\n2024-01-01;", "\n2024;"))
    assert set(ameli_demographie.parse(raw, {})["stg_ameli_demographie"]["annee"]) == {"2024"}


def test_demographie_gp_label_matching_no_row_is_an_error_listing_the_professions(tmp_path):
    # the label of the earlier fixture, never seen online: the selection must fail loudly, never give no GP
    with pytest.raises(SelectionVide, match="aucune profession ne correspond à « Médecins généralistes \\(hors MEP\\) » ; "
                                            "professions présentes : Ensemble des médecins généralistes ; Infirmiers ; "
                                            "Médecins généralistes \\(hors médecins"):
        ameli_demographie.parse(FIXTURES / "ameli_demographie", {"professions_mg": ["Médecins généralistes (hors MEP)"]})


def test_demographie_row_repeated_per_vision_flag_is_refused_never_double_counted(tmp_path):
    def repeat(text):
        line = next(li for li in text.splitlines() if ";71;Saône-et-Loire;60-64;" in li and HORS_MEP in li)
        return text + line.replace(";;;", ";;1;") + "\n"
    raw = copy_with(tmp_path, FIXTURES / "ameli_demographie" / "demographie-effectifs-et-les-densites.csv", repeat)
    with pytest.raises(SourceFormatError, match="mal formé"):
        ameli_demographie.parse(raw, {})


def test_demographie_totals_and_age_cut_the_models_select_on_are_required(tmp_path):
    src = FIXTURES / "ameli_demographie" / "demographie-effectifs-et-les-densites.csv"
    raw = copy_with(tmp_path, src, lambda t: t.replace(";tout sexe;", ";ensemble;"))
    with pytest.raises(SelectionVide, match="aucune ligne « tout sexe » pour les généralistes ; sexes présents : ensemble ; "
                                            "femmes ; hommes"):
        ameli_demographie.parse(raw, {})
    (tmp_path / "b").mkdir()
    raw = copy_with(tmp_path / "b", src, lambda t: t.replace(";60-64;de 60 à 64 ans;", ";60-69;de 60 à 69 ans;")
                    .replace(";65-69;de 65 à 69 ans;", ";65-99;de 65 à 99 ans;").replace(";60-69;", ";61-69;"))
    with pytest.raises(SelectionVide, match="aucune classe d'âge ne commence à 60 ans .* classes d'âge présentes : 25-29 "):
        ameli_demographie.parse(raw, {})
    (tmp_path / "c").mkdir()
    raw = copy_with(tmp_path / "c", src, lambda t: t.replace(";tout_age;Tout âge;", ";ensemble;Ensemble;"))
    with pytest.raises(SelectionVide, match="aucune classe d'âge « Tout âge » \\(tout_age\\)"):
        ameli_demographie.parse(raw, {})


def test_demographie_malformed_value_names_file_row_and_column(tmp_path):
    # line 12 of the file: hors MEP, département 71, « de 35 à 39 ans », femmes
    raw = copy_with(tmp_path, FIXTURES / "ameli_demographie" / "demographie-effectifs-et-les-densites.csv",
                    lambda t: t.replace("de 35 à 39 ans;femmes;7.5;", "de 35 à 39 ans;femmes;7.5 ETP;", 1))
    with pytest.raises(SourceFormatError) as err:
        ameli_demographie.parse(raw, {})
    assert "ligne 12, colonne 'effectif'" in str(err.value)


# ------------------------------------------------------------------------------------ ALD sans médecin traitant
def test_ald_sans_mt_levels_masks_and_decimal_comma():
    df = ameli_ald_mt.parse(FIXTURES / "ameli_ald_mt", {})["stg_ameli_ald_sans_mt"]
    assert len(df) == 5  # the 'inconnu' row belongs to no territory
    assert one(df, annee="2024", region="27", departement="71").taux == 6.25
    assert one(df, annee="2023", region="99", departement="999").taux == 4.6
    paris = one(df, annee="2024", departement="75")
    assert paris.taux != paris.taux and paris.statut == "non_disponible"  # NC, not the _integer twin's 0


def test_ald_sans_mt_without_france_level_is_an_error(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_ald_mt" / "patients-longueduree-annuelle.csv",
                    lambda t: t.replace("\n2023;99;", "\n2023;FR;").replace("\n2024;99;", "\n2024;FR;"))
    with pytest.raises(SelectionVide, match="aucune ligne de niveau France \\(region = 99\\) ; codes de région présents : "
                                            "11 ; 27 ; FR"):
        ameli_ald_mt.parse(raw, {})


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


def test_integer_typed_codes_get_their_leading_zero_back(tmp_path):
    # Opendatasoft integer fields lose the leading zero (région 01 = Guadeloupe exported as 1)
    raw = copy_with(tmp_path, FIXTURES / "ameli_ald_mt" / "patients-longueduree-annuelle.csv",
                    lambda t: t.replace("2024;11;Île-de-France;75;Paris;NC", "2024;1;Guadeloupe;971;Guadeloupe;7,5"))
    df = ameli_ald_mt.parse(raw, {})["stg_ameli_ald_sans_mt"]
    assert one(df, departement="971").region == "01"
