-- reads: int_commune, stg_ameli_ald_sans_mt, stg_ameli_patientele_mt, stg_ameli_sas,
-- reads: stg_drees_urgences
-- Accès aux soins: yearly series of the Cnam Observatoire de l'accès aux soins (ALD patients without a
-- médecin traitant, population covered by the SAS, mean médecin-traitant patientèle per GP) and of the DREES
-- emergency department visits. Published for départements, régions and France only (DREES: départements).

-- int_urgences_annee: yearly ED visits of each département and the population municipale (fichier des
-- communes, COG cible) of the département. Grain: one row per (annee, departement). complet = the year covers
-- all its days (a département published from a later date has no row for the earlier years).
CREATE OR REPLACE TABLE int_urgences_annee AS
WITH pop AS (
    SELECT departement, sum(population) AS population
    FROM int_commune WHERE champ_france GROUP BY ALL
)
SELECT u.annee, u.departement, u.libelle, u.passages, u.nb_jours,
       u.nb_jours >= (CASE WHEN (u.annee::INTEGER % 4 = 0) THEN 366 ELSE 365 END) AS complet,
       p.population
FROM stg_drees_urgences u
LEFT JOIN pop p USING (departement);

-- int_acces_serie: every published year. Grain: one row per (indicateur, territoire_type, territoire_code, annee).
--   * part_ald_sans_mt, part_pop_couverte_sas, patientele_mt_moyenne_mg: as published (département, région,
--     France rows of the ameli tables, never summed);
--   * passages_urgences (département only): visits of the year, decimals kept;
--   * passages_urgences_10000: visits per 10 000 inhabitants. Région and France: summed over their
--     départements published for the full year, divided by the population of those same départements
--     (the missing ones are left out of both terms). Population: fichier des communes, one vintage for all years.
CREATE OR REPLACE TABLE int_acces_serie AS
WITH urg_dep AS (
    SELECT u.*, c.region
    FROM int_urgences_annee u
    LEFT JOIN (SELECT DISTINCT departement, region FROM int_commune WHERE champ_france) c USING (departement)
    WHERE u.complet AND u.population > 0  -- a département unknown to the communes file is left out of every level
),
urg_niveaux AS (
    SELECT annee, 'departement' AS territoire_type, departement AS territoire_code, any_value(libelle) AS territoire_nom,
           sum(passages) AS passages, sum(population) AS population
    FROM urg_dep GROUP BY ALL
    UNION ALL
    SELECT annee, 'region', region, NULL, sum(passages), sum(population) FROM urg_dep WHERE region IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT annee, 'france', 'FR', 'France', sum(passages), sum(population) FROM urg_dep GROUP BY ALL
)
SELECT 'part_ald_sans_mt' AS indicateur,
       CASE WHEN region = '99' THEN 'france' WHEN departement = '999' THEN 'region' ELSE 'departement' END AS territoire_type,
       CASE WHEN region = '99' THEN 'FR' WHEN departement = '999' THEN region ELSE departement END AS territoire_code,
       NULL::VARCHAR AS territoire_nom, annee, taux AS valeur, NULL::DOUBLE AS numerateur, NULL::DOUBLE AS denominateur,
       statut_publie(statut, taux) AS statut,
       'ameli_ald_mt' AS source
FROM stg_ameli_ald_sans_mt
UNION ALL
SELECT 'part_pop_couverte_sas', territoire_type, territoire_code, territoire_nom, annee, valeur, NULL, NULL,
       statut_publie(statut, valeur),
       'ameli_sas'
FROM stg_ameli_sas
UNION ALL
SELECT 'patientele_mt_moyenne_mg', territoire_type, territoire_code, territoire_nom, annee, valeur, NULL, NULL,
       statut_publie(statut, valeur),
       'ameli_patientele_mt'
FROM stg_ameli_patientele_mt
UNION ALL
SELECT 'passages_urgences', territoire_type, territoire_code, territoire_nom, annee, passages, passages, NULL, 'ok', 'drees_urgences'
FROM urg_niveaux WHERE territoire_type = 'departement'
UNION ALL
SELECT 'passages_urgences_10000', territoire_type, territoire_code, territoire_nom, annee,
       10000 * passages / nullif(population, 0), passages, population,
       CASE WHEN population > 0 THEN 'ok' ELSE 'non_disponible' END, 'drees_urgences+cog'
FROM urg_niveaux;
