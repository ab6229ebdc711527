-- reads: int_cog_passage, stg_apl_autres, stg_rpps_activite
-- Health professionals (RPPS / Annuaire Santé) and APL to the other professions (DREES), harmonised to
-- the target COG.

-- int_professionnel: the profession group of each practitioner. Grain: one row per (identifiant,
-- profession). A doctor is a « médecin généraliste » when one of his rows carries a savoir-faire of
-- general practice, a « spécialiste » when he has another savoir-faire and none of general practice;
-- a doctor without any savoir-faire is not counted.
CREATE OR REPLACE TABLE int_professionnel AS
WITH personne AS (
    SELECT identifiant, code_profession,
           bool_or(savoir_faire_mg) AS mg,
           bool_or(code_savoir_faire IS NOT NULL) AS a_savoir_faire
    FROM stg_rpps_activite
    GROUP BY ALL
)
SELECT identifiant,
       CASE code_profession
           WHEN '10' THEN CASE WHEN mg THEN 'medecin_generaliste' WHEN a_savoir_faire THEN 'specialiste' END
           WHEN '21' THEN 'pharmacien'
           WHEN '40' THEN 'chirurgien_dentiste'
           WHEN '50' THEN 'sage_femme'
           WHEN '60' THEN 'infirmier'
           WHEN '70' THEN 'masseur_kinesitherapeute'
       END AS profession
FROM personne
WHERE profession IS NOT NULL;

-- int_commune_professionnel: where each practitioner practises. Grain: one row per (profession,
-- identifiant, code = commune of the target COG): several activities in one commune make one row; a
-- practitioner with sites in two communes has two rows, so territories count DISTINCT identifiants.
CREATE OR REPLACE TABLE int_commune_professionnel AS
SELECT DISTINCT p.profession, a.identifiant, c.code_commune AS code
FROM stg_rpps_activite a
JOIN int_professionnel p USING (identifiant)
JOIN int_cog_passage c ON c.code_source = a.code_commune;

-- Activity rows whose commune code matches no commune of the target COG (empty codes left out).
CREATE OR REPLACE TABLE int_rpps_codes_inconnus AS
SELECT a.code_commune AS code, count(*) AS nb_lignes, count(DISTINCT a.identifiant) AS nb_professionnels
FROM stg_rpps_activite a
ANTI JOIN int_cog_passage c ON c.code_source = a.code_commune
WHERE a.code_commune IS NOT NULL
GROUP BY ALL;

-- int_commune_apl_autres: DREES APL to infirmiers, kinés, sages-femmes, chirurgiens-dentistes, by the
-- rule of 03_int_commune_apl.sql (GPs). Grain: one row per (profession, millesime, code = commune of the
-- target COG). Several workbook rows in one commune (arrondissements municipaux, merged communes): APL
-- averaged with the standardised population as weight, populations summed.
CREATE OR REPLACE TABLE int_commune_apl_autres AS
SELECT a.profession, a.millesime, p.code_commune AS code,
       sum(a.apl * a.pop_standardisee) / nullif(sum(a.pop_standardisee) FILTER (WHERE a.apl IS NOT NULL), 0) AS apl,
       sum(a.pop_standardisee) FILTER (WHERE a.apl IS NOT NULL) AS pop_standardisee,
       sum(a.pop_totale) AS pop_totale,
       any_value(a.annee_population) AS annee_population,
       count(*) AS nb_lignes_source
FROM stg_apl_autres a
JOIN int_cog_passage p ON p.code_source = a.code
GROUP BY ALL;

CREATE OR REPLACE TABLE int_apl_autres_codes_inconnus AS
SELECT a.profession, a.millesime, a.code, a.nom, a.pop_totale
FROM stg_apl_autres a
ANTI JOIN int_cog_passage p ON p.code_source = a.code;
