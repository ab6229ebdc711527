-- reads: stg_odisse_depistage_colorectal, stg_odisse_depistage_colorectal_champs, stg_odisse_depistage_sein,
-- reads: stg_odisse_depistage_sein_champs, stg_odisse_vaccination_departement,
-- reads: stg_odisse_vaccination_departement_champs, stg_odisse_vaccination_france,
-- reads: stg_odisse_vaccination_france_champs, stg_odisse_vaccination_region,
-- reads: stg_odisse_vaccination_region_champs
-- Prévention: vaccination coverage and organised cancer screening (Santé publique France, Odissé), as
-- published for départements, régions and France. No commune, EPCI or CPTS level exists in open data.

-- int_prevention_serie: every published year. Grain: one row per (indicateur, territoire_type, territoire_code,
-- annee). A file's built-in total rows (France or région rows inside the département file) are used only when
-- the file of that level has no row for the same measure, territory and year: never added to detail rows.
-- indicateur = 'couv_vacc_' || mesure (vaccination) or 'particip_' || mesure (screening).
CREATE OR REPLACE TABLE int_prevention_serie AS
WITH brut AS (
    SELECT 'couv_vacc_' || mesure AS indicateur, *, 'odisse_vaccination_departement' AS source,
           CASE WHEN territoire_type = 'departement' THEN 0 ELSE 1 END AS priorite
    FROM stg_odisse_vaccination_departement
    UNION ALL BY NAME
    SELECT 'couv_vacc_' || mesure AS indicateur, *, 'odisse_vaccination_region' AS source,
           CASE WHEN territoire_type = 'region' THEN 0 ELSE 1 END AS priorite
    FROM stg_odisse_vaccination_region
    UNION ALL BY NAME
    SELECT 'couv_vacc_' || mesure AS indicateur, *, 'odisse_vaccination_france' AS source, 0 AS priorite
    FROM stg_odisse_vaccination_france
    UNION ALL BY NAME
    SELECT 'particip_' || mesure AS indicateur, *, 'odisse_depistage_sein' AS source,
           CASE WHEN territoire_type = 'departement' THEN 0 ELSE 1 END AS priorite
    FROM stg_odisse_depistage_sein
    UNION ALL BY NAME
    SELECT 'particip_' || mesure AS indicateur, *, 'odisse_depistage_colorectal' AS source,
           CASE WHEN territoire_type = 'departement' THEN 0 ELSE 1 END AS priorite
    FROM stg_odisse_depistage_colorectal
)
SELECT indicateur, territoire_type, territoire_code, territoire_nom, annee, valeur,
       NULL::DOUBLE AS numerateur, NULL::DOUBLE AS denominateur,
       statut_publie(statut, valeur) AS statut,
       source
FROM brut
QUALIFY row_number() OVER (PARTITION BY indicateur, territoire_type, territoire_code, annee ORDER BY priorite, source) = 1;
