-- reads: stg_ameli_ald_sans_mt, stg_ameli_demographie, stg_ameli_effectifs
-- ameli (Cnam) département / région / France tables, and the département rates by sex and age band used
-- for the expected prevalence.

-- int_ameli_taux_age_sexe: prevalence rate of each pathology by département, sex and census age band,
-- latest year of the Cartographie. Grain: one row per (pathologie, departement, sexe, tranche_age).
-- Built from detail rows only: the table's own totals (dept '999', cla_age_5 'tsage', sexe '9') are
-- left out. The 5-year classes are summed into the census bands (00-04..10-14 -> 00-14, ..., 90-94 and
-- 95et+ -> 90+), counts first, then divided: taux = Ntop / Npop over the classes whose Ntop is known.
-- A class with a masked Ntop (small count) is left out of both terms; a band with every class masked
-- gets rate 0 (counts below the masking threshold). nb_classes_masquees says how often that happened.
CREATE OR REPLACE TABLE int_ameli_taux_age_sexe AS
WITH detail AS (
    SELECT pathologie, annee, dept AS departement,
           CASE sexe WHEN '1' THEN 'H' WHEN '2' THEN 'F' END AS sexe,
           CASE WHEN debut < 15 THEN '00-14' WHEN debut < 30 THEN '15-29' WHEN debut < 45 THEN '30-44'
                WHEN debut < 60 THEN '45-59' WHEN debut < 75 THEN '60-74' WHEN debut < 90 THEN '75-89'
                ELSE '90+' END AS tranche_age,
           ntop, npop
    FROM (SELECT *, TRY_CAST(left(cla_age_5, 2) AS INTEGER) AS debut FROM stg_ameli_effectifs)
    WHERE dept <> '999' AND cla_age_5 <> 'tsage' AND sexe IN ('1', '2') AND debut IS NOT NULL
      AND annee = (SELECT max(annee) FROM stg_ameli_effectifs)
)
SELECT pathologie, annee, departement, sexe, tranche_age,
       sum(ntop) AS ntop,
       sum(npop) FILTER (WHERE ntop IS NOT NULL) AS npop,
       coalesce(sum(ntop) / nullif(sum(npop) FILTER (WHERE ntop IS NOT NULL), 0), 0) AS taux,
       count(*) FILTER (WHERE ntop IS NULL) AS nb_classes_masquees
FROM detail
GROUP BY ALL;

-- The ameli tables describe départements, régions and France, with their own codes for the levels:
-- France = region '99'; région = departement '999' (other regions); département = any other row. The
-- tables below give each row the territory it describes in the terms of the indicator contract
-- (territoire_type, territoire_code), so that a mart joins a territory of the selection to its own row
-- and never adds a built-in total to detail rows. Latest year of each table.

-- int_ameli_prevalence: observed prevalence, all ages, both sexes (the table's own total rows).
-- Grain: one row per (pathologie, territoire_type, territoire_code).
CREATE OR REPLACE TABLE int_ameli_prevalence AS
SELECT pathologie, annee,
       CASE WHEN region = '99' THEN 'france' WHEN dept = '999' THEN 'region' ELSE 'departement' END AS territoire_type,
       CASE WHEN region = '99' THEN 'FR' WHEN dept = '999' THEN region ELSE dept END AS territoire_code,
       ntop, npop, prev, statut
FROM stg_ameli_effectifs
WHERE cla_age_5 = 'tsage' AND sexe = '9' AND annee = (SELECT max(annee) FROM stg_ameli_effectifs);

-- int_ameli_mg_age: general practitioners aged 60 and over (liberal, all sexes).
-- Grain: one row per (territoire_type, territoire_code). The staging table holds one row set per GP label
-- of the registry (« hors MEP » and « MEP »): they are added up. effectif_total = the sum of their « tout âge »
-- rows; effectif_60_plus = sum of the age classes starting at 60 or later (only meaningful when a class
-- starts at 60: coupure_60); statut_masque = the provider mask met in those cells, if any.
CREATE OR REPLACE TABLE int_ameli_mg_age AS
WITH d AS (
    SELECT *,
           CASE WHEN region = '99' THEN 'france' WHEN departement = '999' THEN 'region' ELSE 'departement' END AS territoire_type,
           CASE WHEN region = '99' THEN 'FR' WHEN departement = '999' THEN region ELSE departement END AS territoire_code,
           age_min IS NULL AND (lower(classe_age) LIKE 'tout%' OR lower(coalesce(libelle_classe_age, '')) LIKE 'tout%') AS total
    FROM stg_ameli_demographie
    WHERE libelle_sexe = 'tout sexe' AND annee = (SELECT max(annee) FROM stg_ameli_demographie)
)
SELECT territoire_type, territoire_code, any_value(annee) AS annee,
       sum(effectif) FILTER (WHERE age_min >= 60) AS effectif_60_plus,
       sum(effectif) FILTER (WHERE total) AS effectif_total,
       coalesce(bool_or(age_min = 60), false) AS coupure_60,
       CASE WHEN bool_or(effectif_statut = 'secret') FILTER (WHERE age_min >= 60 OR total) THEN 'secret'
            WHEN bool_or(effectif_statut IS NOT NULL OR effectif IS NULL) FILTER (WHERE age_min >= 60 OR total) THEN 'non_disponible'
       END AS statut_masque
FROM d
GROUP BY ALL;

-- int_ameli_ald_sans_mt: share of ALD patients without a médecin traitant, latest year.
-- Grain: one row per (territoire_type, territoire_code).
CREATE OR REPLACE TABLE int_ameli_ald_sans_mt AS
SELECT annee,
       CASE WHEN region = '99' THEN 'france' WHEN departement = '999' THEN 'region' ELSE 'departement' END AS territoire_type,
       CASE WHEN region = '99' THEN 'FR' WHEN departement = '999' THEN region ELSE departement END AS territoire_code,
       taux, statut
FROM stg_ameli_ald_sans_mt
WHERE annee = (SELECT max(annee) FROM stg_ameli_ald_sans_mt);
