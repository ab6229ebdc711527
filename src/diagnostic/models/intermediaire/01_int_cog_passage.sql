-- reads: stg_cog_ancien_code, stg_cog_commune
-- int_cog_passage: any commune code met in a source -> the commune of the target COG it belongs to.
-- Grain: one row per code_source. Priority: a current commune is itself; an arrondissement municipal
-- belongs to its commune (Paris, Lyon, Marseille); a commune déléguée / associée to its commune
-- nouvelle; a former code (anciensCodes) to the commune that absorbed it.
CREATE OR REPLACE TABLE int_cog_passage AS
WITH candidats AS (
    SELECT code AS code_source, code AS code_commune, 1 AS priorite, 'commune' AS nature
    FROM stg_cog_commune WHERE type = 'commune-actuelle'
    UNION ALL
    SELECT code, parent, 2, 'arrondissement municipal'
    FROM stg_cog_commune WHERE type = 'arrondissement-municipal'
    UNION ALL
    SELECT code, parent, 3, CASE type WHEN 'commune-deleguee' THEN 'commune déléguée' ELSE 'commune associée' END
    FROM stg_cog_commune WHERE type IN ('commune-deleguee', 'commune-associee')
    UNION ALL
    SELECT code_ancien, code, 4, 'ancien code'
    FROM stg_cog_ancien_code
),
valides AS (  -- only targets that are current communes
    SELECT c.* FROM candidats c
    JOIN stg_cog_commune a ON a.code = c.code_commune AND a.type = 'commune-actuelle'
)
SELECT code_source, code_commune, nature,
       count(DISTINCT code_commune) OVER (PARTITION BY code_source, priorite) > 1 AS ambigu
FROM valides
QUALIFY row_number() OVER (PARTITION BY code_source ORDER BY priorite, code_commune) = 1;
