"""Issue 7 parsers (Odissé vaccination and screening, ameli SAS and patientèle MT, DREES emergency visits)
on hand-made fixtures in the official layouts (tests/fixtures/odisse_*, ameli_sas, ameli_patientele_mt,
drees_urgences; written by fabriquer_prevention.py, invented figures), then the models 089/089b and the marts
96/97 on a tiny warehouse built as tests/test_indicateurs_sante.py does."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from diagnostic import staging, warehouse
from diagnostic.sources import SelectionVide, SourceFormatError, ameli_acces, catalogue, drees_urgences, odisse

from diagnostic.registry import load_registry
from conftest import FIXTURES, PROJECT
from test_indicateurs_sante import MODULES, SPECS, base_staging, build, mart, perimetre
from test_sources_ameli import copy_with, one

REGISTRE = load_registry(PROJECT / "pipelines" / "sources.toml")  # shared blocks ([communs]) resolved
NOUVELLES = {"odisse_vaccination_departement": odisse, "odisse_vaccination_region": odisse,
             "odisse_vaccination_france": odisse, "odisse_depistage_sein": odisse,
             "odisse_depistage_colorectal": odisse, "ameli_sas": ameli_acces, "ameli_patientele_mt": ameli_acces,
             "drees_urgences": drees_urgences}


def spec(sid: str) -> dict:
    return REGISTRE[sid].vintage()


def parse(sid: str, folder=None):
    return NOUVELLES[sid].parse(folder or FIXTURES / sid, spec(sid))


def copy_dir(tmp_path, sid, edit, name="csv"):
    dest = tmp_path / sid
    dest.mkdir()
    for p in (FIXTURES / sid).iterdir():
        text = p.read_text(encoding="utf-8")
        (dest / p.name).write_text(edit(text) if p.name == name else text, encoding="utf-8")
    return dest


# ------------------------------------------------------------------------------------------------ Odissé
def test_vaccination_departement_levels_kept_apart_and_fields_by_name():
    out = parse("odisse_vaccination_departement")
    df = out["stg_odisse_vaccination_departement"]
    assert one(df, annee="2024", territoire_type="departement", territoire_code="71", mesure="grippe_65_plus").valeur == 55.5
    assert one(df, annee="2023", territoire_type="departement", territoire_code="21", mesure="grippe_75_plus").valeur == 60.5
    assert one(df, annee="2024", territoire_type="departement", territoire_code="01", mesure="grippe_65_plus").valeur == 55.0
    # built-in France row (département code 0) is a France row, never a département
    fr = one(df, annee="2024", territoire_type="france", mesure="hpv_filles_1dose")
    assert (fr.territoire_code, fr.valeur) == ("FR", 54.6)
    assert set(df["territoire_type"]) == {"departement", "france"}
    # méningocoque C: field names as in the genuine JSON export, read without any catalogue record
    champs = out["stg_odisse_vaccination_departement_champs"].set_index("mesure")
    assert champs.loc["meningo_c_10_14", "champ"] == "menc10_14"
    assert champs.loc["grippe_65_plus", "champ"] == "grip_65plus"
    assert set(champs["dataset_id"]) == {"couvertures-vaccinales-des-adolescent-et-adultes-departement"}
    assert one(df, annee="2024", territoire_code="71", mesure="meningo_c_15_19").valeur == 30.25
    assert len(df) == 6 * 10


def test_vaccination_nc_is_a_status_and_empty_is_not_zero():
    df = parse("odisse_vaccination_departement")["stg_odisse_vaccination_departement"]
    nc = one(df, annee="2024", territoire_code="21", mesure="hpv_garcons_1dose")
    assert nc.valeur != nc.valeur and nc.statut == "non_disponible"
    vide = one(df, annee="2023", territoire_code="71", mesure="hpv_garcons_1dose")
    assert vide.valeur != vide.valeur and vide.statut == "non_disponible"


def test_vaccination_region_and_france_files():
    reg = parse("odisse_vaccination_region")["stg_odisse_vaccination_region"]
    assert one(reg, annee="2024", territoire_type="region", territoire_code="27", mesure="grippe_65_plus").valeur == 56.0
    assert one(reg, annee="2024", territoire_type="france", mesure="grippe_65_plus").territoire_code == "FR"
    fr = parse("odisse_vaccination_france")["stg_odisse_vaccination_france"]
    assert set(fr["territoire_code"]) == {"FR"} and set(fr["annee"]) == {"2022", "2023", "2024"}
    assert one(fr, annee="2022", mesure="hpv_garcons_2doses").valeur == 9.1


def test_depistage_fields_found_by_label_periods_and_empty_corsica():
    out = parse("odisse_depistage_sein")
    df = out["stg_odisse_depistage_sein"]
    assert one(df, annee="2024-2025", territoire_code="71").valeur == 52.3
    assert one(df, annee="2022-2023", territoire_code="71").valeur == 50.1
    corse = one(df, annee="2024-2025", territoire_code="2A")
    assert corse.valeur != corse.valeur and corse.statut == "non_disponible"
    assert out["stg_odisse_depistage_sein_champs"]["champ"].tolist() == ["tx_part_sein"]
    colo = parse("odisse_depistage_colorectal")
    assert one(colo["stg_odisse_depistage_colorectal"], territoire_code="21").valeur == 29.8
    assert colo["stg_odisse_depistage_colorectal_champs"]["dataset_id"].iloc[0].endswith("-departement-copie")


def test_label_header_export_is_mapped_back_to_field_names(tmp_path):
    # an export with use_labels=true has labels in the header: mapped back without any catalogue record
    folder = copy_dir(tmp_path, "odisse_vaccination_departement",
                      lambda t: t.replace("an_mesure;dep;libgeo;hpv1_f", "Année;Département Code;Département;HPV filles 1 dose à 15 ans", 1))
    df = odisse.parse(folder, spec("odisse_vaccination_departement"))["stg_odisse_vaccination_departement"]
    assert one(df, annee="2024", territoire_code="71", mesure="hpv_filles_1dose").valeur == 51.2


def test_odisse_measure_matching_no_field_is_an_error_naming_the_fields(tmp_path):
    folder = copy_dir(tmp_path, "odisse_vaccination_departement", lambda t: t.replace(";menc15_19;", ";menc15_19_v2;", 1))
    with pytest.raises(SelectionVide) as err:
        odisse.parse(folder, spec("odisse_vaccination_departement"))
    message = str(err.value)
    assert "meningo_c_15_19" in message and "menc15_19_v2" in message and "champs présents" in message


def test_odisse_malformed_value_names_file_row_and_column(tmp_path):
    folder = copy_dir(tmp_path, "odisse_vaccination_departement", lambda t: t.replace(";55.5;", ";55,5 %;").replace(";50.2;", ";cinquante;"))
    with pytest.raises(SourceFormatError) as err:
        odisse.parse(folder, spec("odisse_vaccination_departement"))
    assert "couvertures-vaccinales-des-adolescent-et-adultes-departement/exports/csv, ligne 2, colonne 'grip_6574'" in str(err.value)


def test_odisse_missing_department_field_is_a_french_error(tmp_path):
    folder = copy_dir(tmp_path, "odisse_vaccination_departement", lambda t: t.replace(";dep;", ";code;", 1))
    with pytest.raises(SourceFormatError, match="champ du code département introuvable"):
        odisse.parse(folder, spec("odisse_vaccination_departement"))


def test_resoudre_id_keeps_registry_id_or_finds_the_renamed_one():
    motif = spec("odisse_depistage_colorectal")["motif_id"]
    registre = spec("odisse_depistage_colorectal")["dataset_id"]
    listing = {"total_count": 2, "results": [{"dataset_id": registre}, {"dataset_id": "cancer-participation-au-depistage-organise-du-cancer-du-sein_dep"}]}
    assert catalogue.resoudre_id(listing, motif, registre) == registre
    renamed = {"results": [{"dataset_id": "cancer-participation-au-depistage-organise-du-cancer-du-colon-rectum-departement"}]}
    assert catalogue.resoudre_id(renamed, motif, registre) == "cancer-participation-au-depistage-organise-du-cancer-du-colon-rectum-departement"
    with pytest.raises(SourceFormatError, match="0 jeu"):
        catalogue.resoudre_id({"results": []}, motif, registre)


def test_odisse_check_file_accepts_export_and_record_rejects_other(tmp_path):
    for p in (FIXTURES / "odisse_vaccination_departement").iterdir():
        odisse.check_file(p, name=p.name, spec=spec("odisse_vaccination_departement"))
    bad = tmp_path / "csv"
    bad.write_text("x;y\n1;2\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="pas de champ d'année"):
        odisse.check_file(bad, name="csv", spec={})
    rec = tmp_path / "rec"
    rec.write_text(json.dumps({"dataset": {"dataset_id": "x"}}), encoding="utf-8")
    with pytest.raises(SourceFormatError, match="fields"):
        odisse.check_file(rec, name="rec", spec={})


# ------------------------------------------------------------------------------------------------ ameli
def test_sas_levels_decimal_comma_and_masks():
    df = parse("ameli_sas")["stg_ameli_sas"]
    assert len(df) == 6  # 'inconnu' row left out
    assert one(df, annee="2025", territoire_type="france").valeur == 72.5
    assert one(df, annee="2024", territoire_type="france").valeur == 60.25
    assert one(df, annee="2025", territoire_type="region", territoire_code="27").valeur == 64.8
    assert one(df, annee="2024", territoire_type="departement", territoire_code="71").valeur == 0.0  # a real 0
    paris = one(df, territoire_code="75")
    assert paris.valeur != paris.valeur and paris.statut == "non_disponible"  # NC, not the _integer twin's 0


def test_patientele_mean_per_gp_thousands_and_ns():
    df = parse("ameli_patientele_mt")["stg_ameli_patientele_mt"]
    assert one(df, annee="2024", territoire_type="france").valeur == 1012.5
    assert one(df, annee="2024", territoire_code="71").valeur == 1210.4
    corse = one(df, territoire_code="2A")
    assert corse.valeur != corse.valeur and corse.statut == "secret"


def test_patientele_profession_matching_no_row_is_an_error_listing_the_professions():
    with pytest.raises(SelectionVide, match="aucune profession ne correspond à « .*infirmi.* » ; professions présentes : "
                                            "Médecins généralistes"):
        ameli_acces.parse(FIXTURES / "ameli_patientele_mt", spec("ameli_patientele_mt") | {"profession": "(?i)infirmi"})


def test_sas_without_france_level_is_an_error(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_sas" / "csv", lambda t: t.replace(";99;FRANCE;", ";00;FRANCE;"))
    with pytest.raises(SelectionVide, match=r"aucune ligne de niveau France \(region = 99\)"):
        ameli_acces.parse(raw, spec("ameli_sas"))


def test_sas_missing_measure_is_a_french_error(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_sas" / "csv", lambda t: t.replace(";taux_population_couverte;", ";taux;"))
    with pytest.raises(SourceFormatError, match=r"absente\(s\) : taux_population_couverte"):
        ameli_acces.parse(raw, spec("ameli_sas"))


def test_ameli_acces_malformed_value_names_row_and_column(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_sas" / "csv", lambda t: t.replace("64,8;", "64,8 pc;"))
    with pytest.raises(SourceFormatError, match="ligne 4, colonne 'taux_population_couverte'"):
        ameli_acces.parse(raw, spec("ameli_sas"))


def test_ameli_acces_rate_above_100_rejected(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "ameli_sas" / "csv", lambda t: t.replace(";100;;100", ";1000;;100"))
    with pytest.raises(SourceFormatError, match="ligne 5, colonne 'valeur'"):
        ameli_acces.parse(raw, spec("ameli_sas"))


# ------------------------------------------------------------------------------------------------ DREES
def test_urgences_yearly_sums_of_decimal_daily_counts():
    df = parse("drees_urgences")["stg_drees_urgences"]
    assert one(df, annee="2022", departement="71").passages == pytest.approx(123.25 * 365)
    assert one(df, annee="2023", departement="71").passages == pytest.approx(120.5 * 365)
    assert one(df, annee="2023", departement="21").nb_jours == 365
    assert one(df, annee="2023", departement="2A").nb_jours == 31  # Corsica partial: kept, flagged incomplete


def test_urgences_french_dates_of_the_documentation_also_read(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "drees_urgences" / "b0005488-e2a9-455a-ae33-b3263d06d119",
                    lambda t: re.sub(r"(\d{4})-(\d{2})-(\d{2});", r"\3/\2/\1;", t))
    df = drees_urgences.parse(raw)["stg_drees_urgences"]
    assert one(df, annee="2022", departement="71").nb_jours == 365
    assert one(df, annee="2023", departement="71").passages == pytest.approx(120.5 * 365)


def test_urgences_mixed_or_other_date_forms_refused_with_the_line(tmp_path):
    # one format per file: a French date among ISO ones is a format change, named with its line
    raw = copy_with(tmp_path, FIXTURES / "drees_urgences" / "b0005488-e2a9-455a-ae33-b3263d06d119",
                    lambda t: t.replace("2022-01-05;", "05/01/2022;"))
    with pytest.raises(SourceFormatError, match=r"ligne 6, colonne 'date' : date illisible '05/01/2022' \(1 ligne\(s\) "
                                                r"dans ce cas ; formats acceptés, un seul par fichier : AAAA-MM-JJ ou JJ/MM/AAAA\)"):
        drees_urgences.parse(raw)
    (tmp_path / "b").mkdir()
    raw2 = copy_with(tmp_path / "b", FIXTURES / "drees_urgences" / "b0005488-e2a9-455a-ae33-b3263d06d119",
                     lambda t: t.replace("2023-", "2023/"))
    with pytest.raises(SourceFormatError, match="ligne 367, colonne 'date' : date illisible '2023/01-01' \\(761 ligne"):
        drees_urgences.parse(raw2)


def test_urgences_malformed_date_and_count_name_row_and_column(tmp_path):
    raw = copy_with(tmp_path, FIXTURES / "drees_urgences" / "b0005488-e2a9-455a-ae33-b3263d06d119",
                    lambda t: t.replace("2022-01-03;71;Saône-et-Loire;123.25", "2022-01-03;71;Saône-et-Loire;beaucoup"))
    with pytest.raises(SourceFormatError, match="ligne 4, colonne 'nb_passages'"):
        drees_urgences.parse(raw)
    (tmp_path / "b").mkdir()
    raw2 = copy_with(tmp_path / "b", FIXTURES / "drees_urgences" / "b0005488-e2a9-455a-ae33-b3263d06d119",
                     lambda t: t.replace("2022-01-05;", "2022-13-45;"))
    with pytest.raises(SourceFormatError, match="ligne 6, colonne 'date'"):
        drees_urgences.parse(raw2)


# ------------------------------------------------------------------------------------------------ models and marts
@pytest.fixture(scope="module")
def con():
    staged = base_staging()
    for sid, module in MODULES.items():
        staged[sid] = module.parse(FIXTURES / sid, SPECS.get(sid, {}))
    for sid in NOUVELLES:
        staged[sid] = parse(sid)
    yield build(staged)


def test_marts_give_each_territory_its_own_level(con):
    assert mart(con, "departement", "71", "couv_vacc_grippe_65_plus")["valeur"] == 55.5
    # région 27: the région file, not the département file
    assert mart(con, "region", "27", "couv_vacc_grippe_65_plus")["valeur"] == 56.0
    # France: the France file (54.1) wins over the département file's built-in France row (54.0)
    fr = mart(con, "france", "FR", "couv_vacc_grippe_65_plus")
    assert (fr["valeur"], fr["millesime"], fr["source"]) == (54.1, "2024", "odisse_vaccination_france")
    sein = mart(con, "departement", "71", "particip_depistage_sein")
    assert (sein["valeur"], sein["millesime"]) == (52.3, "2024-2025")
    assert mart(con, "region", "27", "particip_depistage_sein")["statut"] == "non_disponible"  # département only
    assert mart(con, "departement", "71", "part_pop_couverte_sas")["valeur"] == 100.0
    assert mart(con, "departement", "2A", "patientele_mt_moyenne_mg")["statut"] == "secret"


def test_perimeter_is_never_given_a_departement_value(con):
    p = perimetre(con, ["71153", "71134"])
    for ind in ("couv_vacc_grippe_65_plus", "particip_depistage_sein", "part_pop_couverte_sas",
                "patientele_mt_moyenne_mg", "passages_urgences", "passages_urgences_10000"):
        assert p.loc[ind, "statut"] == "non_disponible" and p.loc[ind, "valeur"] != p.loc[ind, "valeur"], ind


def test_urgences_rate_per_10000_and_gaps(con):
    # population municipale of the fixture's 71 communes: 300 + 200 = 500
    row = mart(con, "departement", "71", "passages_urgences_10000")
    assert row["valeur"] == pytest.approx(10000 * 120.5 * 365 / 500)
    assert row["millesime"] == "passages 2023, population 2026"
    assert mart(con, "departement", "71", "passages_urgences")["valeur"] == pytest.approx(120.5 * 365)
    # 2A: only January 2023 published -> no yearly figure, never a partial sum
    assert mart(con, "departement", "2A", "passages_urgences")["statut"] == "non_disponible"
    # région / France: only départements published for the whole year and known to the communes file
    assert mart(con, "france", "FR", "passages_urgences_10000")["valeur"] == pytest.approx(10000 * 120.5 * 365 / 500)
    assert mart(con, "france", "FR", "passages_urgences")["statut"] == "non_disponible"


def test_series_hold_every_year_for_the_report(con):
    s = con.sql("SELECT indicateur, territoire_type, territoire_code, annee, valeur FROM mart_series").df()
    ald = s[(s["indicateur"] == "part_ald_sans_mt") & (s["territoire_type"] == "france")].sort_values("annee")
    assert ald["valeur"].tolist() == [4.6, 3.8]
    grippe = s[(s["indicateur"] == "couv_vacc_grippe_65_plus") & (s["territoire_code"] == "71")]
    assert sorted(grippe["annee"]) == ["2023", "2024"]
    assert set(s.loc[s["indicateur"] == "passages_urgences", "annee"]) == {"2022", "2023"}


def test_offline_guards_build_the_marts_without_any_new_source():
    staged = base_staging()
    for sid, module in MODULES.items():
        staged[sid] = module.parse(FIXTURES / sid, SPECS.get(sid, {}))
    for sid in NOUVELLES:
        staged[sid] = {}
    db = build(staged)
    rows = db.sql("SELECT DISTINCT statut FROM mart_indicateurs WHERE indicateur LIKE 'couv_vacc_%' "
                  "OR indicateur LIKE 'particip_%' OR indicateur LIKE 'passages_%'").fetchall()
    assert rows == [("non_disponible",)]
    assert db.sql("SELECT count(*) FROM mart_series").fetchone()[0] == 5  # the colleague's ALD rows only


def test_parsed_tables_match_the_generated_staging_tables():
    """Tables the parsers give on their fixtures have the columns and types of the empty tables generated from
    their schemas (staging.py) when the source is unavailable."""
    db = duckdb.connect()
    for sid, module in NOUVELLES.items():
        parsed = parse(sid)
        assert sorted(parsed) == sorted(module.tables(spec(sid))), sid
        for name, schema in module.tables(spec(sid)).items():
            staging.create(db, name, parsed[name])
            db.execute(staging.ddl(f"{name}_vide", schema))
            assert db.sql(f"DESCRIBE {name}_vide").fetchall() == db.sql(f"DESCRIBE {name}").fetchall(), name


def test_depistage_measure_matching_no_field_is_an_error_never_a_gap(tmp_path):
    """Screening field names were never seen: a record whose labels match no registry pattern stops the reading
    and names the fields the file holds."""
    sid = "odisse_depistage_sein"
    record = "cancer-participation-au-depistage-organise-du-cancer-du-sein_dep"
    folder = copy_dir(tmp_path, sid, lambda t: t.replace("tx_part_sein", "indice_sein"))
    (folder / record).write_text((FIXTURES / sid / record).read_text(encoding="utf-8")
                                 .replace('"tx_part_sein"', '"indice_sein"').replace("Taux de participation (%)", "Indice (%)"),
                                 encoding="utf-8")
    with pytest.raises(SelectionVide) as err:
        odisse.parse(folder, spec(sid))
    message = str(err.value)
    assert "depistage_sein" in message and "indice_sein (Indice (%))" in message


def test_depistage_two_fields_matching_the_label_is_an_error_naming_the_file(tmp_path):
    """Two fields of the (hand-made) catalogue record whose labels match the measure's pattern: the reading stops
    and names the file and both fields, never picks one."""
    sid = "odisse_depistage_sein"
    record = "cancer-participation-au-depistage-organise-du-cancer-du-sein_dep"
    folder = copy_dir(tmp_path, sid, lambda t: t)
    (folder / record).write_text((FIXTURES / sid / record).read_text(encoding="utf-8")
                                 .replace('"Département"', '"Département (taux)"'), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"^Fichier \S+/csv : plusieurs champs correspondent à .* : lib_dep, tx_part_sein ;"):
        odisse.parse(folder, spec(sid))

