-- reads: int_commune, stg_cog_departement, stg_cog_epci, stg_cog_region
-- int_territoire_commune: membership of communes in the standard territories.
-- Grain: one row per (territoire_type, territoire_code, commune). France = metro + DROM.
CREATE OR REPLACE TABLE int_territoire_commune AS
SELECT 'departement' AS territoire_type, c.departement AS territoire_code, d.nom AS territoire_nom, c.code AS commune
FROM int_commune c JOIN stg_cog_departement d ON d.code = c.departement
WHERE c.champ_france
UNION ALL
SELECT 'region', c.region, r.nom, c.code
FROM int_commune c JOIN stg_cog_region r ON r.code = c.region
WHERE c.champ_france
UNION ALL
SELECT 'france', 'FR', 'France (métropole et DROM)', c.code
FROM int_commune c
WHERE c.champ_france
UNION ALL
SELECT 'epci', e.code, e.nom, c.code
FROM int_commune c JOIN stg_cog_epci e ON e.code = c.epci;
