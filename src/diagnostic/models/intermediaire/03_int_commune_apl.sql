-- reads: int_cog_passage, stg_apl_mg
-- int_commune_apl: DREES APL to médecins généralistes harmonised to the target COG.
-- Grain: one row per (millesime, commune of the target COG). Several workbook rows fall into one commune
-- (arrondissements municipaux, communes merged since): APL is averaged with the standardised population
-- as weight (DREES note), populations are summed, and the population living under the threshold
-- (seuil apl_sous_densite of pipelines/diagnostic.toml, 2.5 by default; column names keep "2_5") is
-- counted on the workbook's own rows (non-standardised population) before summing.
CREATE OR REPLACE TABLE int_commune_apl AS
SELECT a.millesime,
       p.code_commune AS code,
       sum(a.apl_mg * a.pop_standardisee) / nullif(sum(a.pop_standardisee), 0) AS apl_mg,
       sum(a.pop_standardisee) AS pop_standardisee,
       sum(a.pop_totale) AS pop_totale,
       coalesce(sum(a.pop_totale) FILTER (WHERE a.apl_mg < seuil('apl_sous_densite')), 0) AS pop_apl_inf_2_5,
       any_value(a.annee_population) AS annee_population,
       count(*) AS nb_lignes_source
FROM stg_apl_mg a
JOIN int_cog_passage p ON p.code_source = a.code
GROUP BY ALL;

-- Rows of the workbook that match no commune of the target COG (reported by the data tests).
CREATE OR REPLACE TABLE int_apl_codes_inconnus AS
SELECT a.millesime, a.code, a.nom, a.pop_totale
FROM stg_apl_mg a
ANTI JOIN int_cog_passage p ON p.code_source = a.code;
