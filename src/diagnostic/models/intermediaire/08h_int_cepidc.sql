-- reads: int_commune, stg_cepidc_deces_cause
-- Causes of death (CépiDc, Inserm), by département of residence: deaths of the year by chapter of the European
-- shortlist, summed over age classes by the parser. Counts only: a région or France sums the deaths of its
-- départements (those of int_commune, champ France), and only when each of them is in the file; a part is a
-- sum divided by a sum, never an average of rates.
-- Grain: int_cepidc_territoire one row per (territoire_type, territoire_code, chapitre), territoire_type
-- 'departement', 'region' or 'france'; `deces_total` = the 18 chapters together (all causes).

CREATE OR REPLACE TABLE int_cepidc_territoire AS
WITH deps AS (
    SELECT DISTINCT departement, region FROM int_commune WHERE champ_france
),
niveaux AS (
    SELECT 'departement' AS territoire_type, departement AS territoire_code, departement FROM deps
    UNION ALL SELECT 'region', region, departement FROM deps
    UNION ALL SELECT 'france', 'FR', departement FROM deps
),
presents AS (
    SELECT n.territoire_type, n.territoire_code,
           count(*) AS nb_departements,
           count(*) FILTER (WHERE n.departement IN (SELECT departement FROM stg_cepidc_deces_cause)) AS nb_publies
    FROM niveaux n GROUP BY ALL
),
lignes AS (
    SELECT n.territoire_type, n.territoire_code, s.millesime, s.chapitre, s.libelle, s.groupe, sum(s.deces) AS deces
    FROM niveaux n
    JOIN stg_cepidc_deces_cause s USING (departement)
    JOIN presents p USING (territoire_type, territoire_code)
    WHERE p.nb_publies = p.nb_departements
    GROUP BY ALL
)
SELECT *, sum(deces) OVER (PARTITION BY territoire_type, territoire_code) AS deces_total
FROM lignes;
