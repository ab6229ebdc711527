-- reads: int_cog_passage, int_commune, stg_etatcivil_deces, stg_etatcivil_deces_exclus, stg_dossier_complet_age_sexe
-- Comparative mortality index (ICM): deaths by commune of residence x sex x age band (INSEE, état-civil detail files,
-- pooled years) and the census population by sex x age band (Dossier complet, RP of the central year), harmonised to
-- the target COG; France's death rates by sex x age band; each commune's observed and expected deaths.
-- Bands: 0-14, 15-29, 30-44, 45-59, 60-64, 65-74, 75-89, 90+ (the census bands, 60-74 split at 65:
-- 60-64 = X1564 - X1529 - X3044 - X4559, 65-74 = X6074 - (60-64), X = H (men) or F (women)). Premature = under 65.
-- Counts are summed, rates never: a rate is computed once, for France, from summed deaths and summed population.
-- Deaths without a commune of residence in France (abroad, not given, birth year not given: stg_etatcivil_deces_exclus)
-- are in no figure, France included, since the census population by commune does not hold them either.

-- Grain: one row per code of the death files that matches no commune of the COG (collectivités d'outre-mer, unknown).
CREATE OR REPLACE TABLE int_etatcivil_deces_codes_inconnus AS
SELECT DISTINCT d.code FROM stg_etatcivil_deces d ANTI JOIN int_cog_passage p ON p.code_source = d.code;

-- Grain: one row per (code commune of the target COG, sexe, tranche): deaths of the pooled years.
CREATE OR REPLACE TABLE int_commune_deces_age_sexe AS
SELECT p.code_commune AS code, d.sexe, d.tranche, sum(d.deces) AS deces
FROM stg_etatcivil_deces d
JOIN int_cog_passage p ON p.code_source = d.code
GROUP BY ALL;

-- Grain: one row per reason a death is left out of every figure: its count over the pooled years.
CREATE OR REPLACE TABLE int_mortalite_exclus AS
SELECT motif, sum(deces) AS deces FROM stg_etatcivil_deces_exclus GROUP BY motif;

-- Grain: one row per (code commune of the target COG, sexe, tranche): census population (weighted, fractional);
-- NULL when a cell of the commune is missing, or when a band derived by difference is negative beyond the rounding of
-- weighted counts (-0.5: the census variables disagree), so that the commune is not covered (no figure uses it) rather
-- than its deaths of that band counted in O and missing from E; a tiny negative is 0. An arrondissement municipal row is left out when its commune has a
-- row of its own (as in int_commune_dossier_complet).
CREATE OR REPLACE TABLE int_commune_population_age_sexe AS
WITH lignes AS (
    SELECT d.*, p.code_commune
    FROM stg_dossier_complet_age_sexe d
    JOIN int_cog_passage p ON p.code_source = d.code
    WHERE NOT (p.nature = 'arrondissement municipal'
               AND EXISTS (SELECT 1 FROM stg_dossier_complet_age_sexe c WHERE c.millesime = d.millesime AND c.code = p.code_commune))
),
bandes AS (
    SELECT code_commune, '1' AS sexe, h0014 AS p0014, h1529 AS p1529, h3044 AS p3044, h4559 AS p4559,
           bande_derivee(h1564 - h1529 - h3044 - h4559) AS p6064,
           bande_derivee(h6074 - bande_derivee(h1564 - h1529 - h3044 - h4559)) AS p6574,
           h7589 AS p7589, h90p AS p90p
    FROM lignes
    UNION ALL
    SELECT code_commune, '2', f0014, f1529, f3044, f4559, bande_derivee(f1564 - f1529 - f3044 - f4559),
           bande_derivee(f6074 - bande_derivee(f1564 - f1529 - f3044 - f4559)), f7589, f90p
    FROM lignes
),
longues AS (
    SELECT b.code_commune, b.sexe, t.tranche,
           CASE t.tranche WHEN '00-14' THEN p0014 WHEN '15-29' THEN p1529 WHEN '30-44' THEN p3044 WHEN '45-59' THEN p4559
                          WHEN '60-64' THEN p6064 WHEN '65-74' THEN p6574 WHEN '75-89' THEN p7589 ELSE p90p END AS population
    FROM bandes b
    CROSS JOIN (VALUES ('00-14'), ('15-29'), ('30-44'), ('45-59'), ('60-64'), ('65-74'), ('75-89'), ('90+')) t(tranche)
)
SELECT code_commune AS code, sexe, tranche,
       CASE WHEN count(population) = count(*) THEN somme_exacte(population) END AS population
FROM longues
GROUP BY ALL;

-- Grain: one row per commune of France (metro + DROM) of the target COG: is its population by sex and age complete.
CREATE OR REPLACE TABLE int_commune_mortalite_couverte AS
SELECT c.code, c.population AS population_cog,
       coalesce((SELECT count(*) = 16 AND count(p.population) = 16 FROM int_commune_population_age_sexe p
                 WHERE p.code = c.code), false) AS couverte
FROM int_commune c
WHERE c.champ_france;

-- Grain: one row per (sexe, tranche): France's deaths, population and yearly death rate over the communes of France
-- whose population by sex and age is complete; `couverture` = % of France's population municipale (COG) they hold.
CREATE OR REPLACE TABLE int_mortalite_reference AS
WITH annees AS (
    SELECT count(DISTINCT annee) AS n, min(annee) || '-' || max(annee) AS periode FROM stg_etatcivil_deces
),
couv AS (
    SELECT 100.0 * sum(population_cog) FILTER (WHERE couverte) / sum(population_cog) AS couverture
    FROM int_commune_mortalite_couverte
),
pop AS (
    SELECT p.sexe, p.tranche, somme_exacte(p.population) AS population
    FROM int_commune_population_age_sexe p
    JOIN int_commune_mortalite_couverte c ON c.code = p.code AND c.couverte
    GROUP BY ALL
),
morts AS (
    SELECT d.sexe, d.tranche, sum(d.deces) AS deces
    FROM int_commune_deces_age_sexe d
    JOIN int_commune_mortalite_couverte c ON c.code = d.code AND c.couverte
    GROUP BY ALL
)
SELECT p.sexe, p.tranche, coalesce(m.deces, 0) AS deces, p.population, a.n AS annees, a.periode,
       CASE WHEN p.population > 0 AND a.n > 0 THEN coalesce(m.deces, 0) / (p.population * a.n) END AS taux,
       (SELECT couverture FROM couv) AS couverture
FROM pop p
CROSS JOIN annees a
LEFT JOIN morts m USING (sexe, tranche)
WHERE a.n > 0;

-- Grain: one row per commune of France with a complete population by sex and age: observed deaths and deaths expected
-- at France's rates (population x years x rate, summed over sex and band), all ages and under 65.
CREATE OR REPLACE TABLE int_commune_mortalite AS
SELECT c.code,
       coalesce(sum(d.deces), 0) AS deces,
       somme_exacte(p.population * r.annees * r.taux) AS attendus,
       coalesce(sum(d.deces) FILTER (WHERE p.tranche IN ('00-14', '15-29', '30-44', '45-59', '60-64')), 0) AS deces_65,
       somme_exacte(CASE WHEN p.tranche IN ('00-14', '15-29', '30-44', '45-59', '60-64')
                         THEN p.population * r.annees * r.taux ELSE 0 END) AS attendus_65
FROM int_commune_mortalite_couverte c
JOIN int_commune_population_age_sexe p ON p.code = c.code
JOIN int_mortalite_reference r USING (sexe, tranche)
LEFT JOIN int_commune_deces_age_sexe d ON d.code = p.code AND d.sexe = p.sexe AND d.tranche = p.tranche
WHERE c.couverte
GROUP BY c.code;
