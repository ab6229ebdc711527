-- reads: geo_commune, int_commune_apl, meta_source, stg_cog_commune, stg_cog_epci_membre
-- int_commune: one row per commune (commune-actuelle) of the target COG, with everything the
-- indicators need at commune grain. Population = population municipale of the communes file.
-- `champ_france` = metropolitan France and the five DROM (COM excluded, see DESIGN.md).
CREATE OR REPLACE TABLE int_commune AS
SELECT c.code,
       c.nom,
       c.departement,
       c.region,
       c.zone,
       c.zone IN ('metro', 'drom') AS champ_france,
       m.epci,
       c.population,
       g.superficie_km2,
       a23.apl_mg AS apl_mg,
       a23.pop_standardisee AS apl_pop_standardisee,
       a23.pop_totale AS apl_pop_totale,
       a23.pop_apl_inf_2_5 AS apl_pop_inf_2_5,
       a22.apl_mg AS apl_mg_prec,
       a22.pop_standardisee AS apl_pop_standardisee_prec
FROM stg_cog_commune c
LEFT JOIN stg_cog_epci_membre m ON m.commune = c.code
LEFT JOIN geo_commune g ON g.code = c.code
LEFT JOIN int_commune_apl a23 ON a23.code = c.code AND a23.millesime = (SELECT millesime FROM meta_source WHERE cle = 'apl_mg')
LEFT JOIN int_commune_apl a22 ON a22.code = c.code AND a22.millesime = (SELECT millesime FROM meta_source WHERE cle = 'apl_mg_prec')
WHERE c.type = 'commune-actuelle';
