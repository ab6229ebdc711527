-- reads: int_cog_passage, stg_poplegale_commune, stg_rp_pop_age_sexe, stg_rp_pop_commune
-- Population by age and sex (INSEE RP) and populations légales, harmonised to the target COG.

-- int_rp_lignes: the RP rows kept, with the commune of the target COG they belong to. Grain: one row per
-- (annee, code of the file) that maps to a current commune. The file holds Paris, Lyon and Marseille
-- both as communes and as arrondissements municipaux: an arrondissement row is dropped when its
-- commune has a row of its own for the same census, so that each inhabitant is counted once.
CREATE OR REPLACE TABLE int_rp_lignes AS
SELECT r.annee, r.code, p.code_commune, p.nature
FROM stg_rp_pop_commune r
JOIN int_cog_passage p ON p.code_source = r.code
WHERE NOT (p.nature = 'arrondissement municipal'
           AND EXISTS (SELECT 1 FROM stg_rp_pop_commune c WHERE c.annee = r.annee AND c.code = p.code_commune));

-- int_commune_age_sexe: population by sex (H, F) and 15-year age band (00-14, 15-29, 30-44, 45-59,
-- 60-74, 75-89, 90+), for the age pyramid and the indirect standardisation.
-- Grain: one row per (annee, code = commune of the target COG, sexe, tranche_age). Weighted census
-- estimates (decimals): sum them, never round before dividing.
CREATE OR REPLACE TABLE int_commune_age_sexe AS
SELECT a.annee, l.code_commune AS code, a.sexe, a.tranche_age, sum(a.population) AS population
FROM stg_rp_pop_age_sexe a
JOIN int_rp_lignes l ON l.annee = a.annee AND l.code = a.code
GROUP BY ALL;

-- int_commune_rp: census totals. Grain: one row per (annee, code = commune of the target COG).
CREATE OR REPLACE TABLE int_commune_rp AS
SELECT r.annee, l.code_commune AS code,
       sum(r.population) AS population,
       sum(r.pop_0019) AS pop_0019,
       sum(r.pop_65p) AS pop_65p,
       count(*) AS nb_lignes_source
FROM stg_rp_pop_commune r
JOIN int_rp_lignes l ON l.annee = r.annee AND l.code = r.code
GROUP BY ALL;

-- Rows of the census file that match no commune of the target COG.
CREATE OR REPLACE TABLE int_rp_codes_inconnus AS
SELECT r.annee, r.code, r.population
FROM stg_rp_pop_commune r
ANTI JOIN int_cog_passage p ON p.code_source = r.code;

-- int_commune_population_legale: populations légales of the registered vintage, ready for the marts
-- (sum them over `selection_territoire`). Grain: one row per (millesime, code = commune of the target
-- COG). pmun = population municipale (for ratios); ptot double-counts people « comptés à part ».
-- Arrondissements municipaux are dropped when their commune is in the file, as for the census.
CREATE OR REPLACE TABLE int_commune_population_legale AS
SELECT l.millesime, l.en_vigueur, p.code_commune AS code,
       sum(l.pmun) AS population_municipale,
       sum(l.ptot) AS population_totale,
       count(*) AS nb_lignes_source
FROM stg_poplegale_commune l
JOIN int_cog_passage p ON p.code_source = l.code
WHERE NOT (p.nature = 'arrondissement municipal'
           AND EXISTS (SELECT 1 FROM stg_poplegale_commune c WHERE c.millesime = l.millesime AND c.code = p.code_commune))
GROUP BY ALL;
