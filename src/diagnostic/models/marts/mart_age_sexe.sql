-- reads: int_commune_age_sexe
-- mart_age_sexe: census population by sex and 15-year age band of every commune of the target COG, latest
-- census only (the vintage of rp_pop the build used, meta_source), for the age pyramid of the report.
-- Weighted census estimates, never rounded. Grain: one row per (code, sexe, tranche_age).
CREATE OR REPLACE TABLE mart_age_sexe AS
SELECT code, sexe, tranche_age, population, annee
FROM int_commune_age_sexe
WHERE annee = (SELECT millesime FROM meta_source WHERE cle = 'rp_pop');
