-- reads: int_cog_passage, stg_dossier_complet_commune
-- INSEE Dossier complet (RP 2021 social variables, deaths by commune of residence) harmonised to the target COG.
-- Grain: int_commune_dossier_complet one row per commune of the target COG that has at least one row in the file.
-- Weighted census counts (fractional) are summed, never rounded. An arrondissement municipal row is left out when
-- its commune has a row of its own, so each inhabitant is counted once. A NULL cell makes the commune's sum NULL.

CREATE OR REPLACE TABLE int_dossier_complet_lignes AS
SELECT d.*, p.code_commune
FROM stg_dossier_complet_commune d
JOIN int_cog_passage p ON p.code_source = d.code
WHERE NOT (p.nature = 'arrondissement municipal'
           AND EXISTS (SELECT 1 FROM stg_dossier_complet_commune c WHERE c.millesime = d.millesime AND c.code = p.code_commune));

CREATE OR REPLACE TABLE int_dossier_complet_codes_inconnus AS
SELECT d.code FROM stg_dossier_complet_commune d ANTI JOIN int_cog_passage p ON p.code_source = d.code;

-- sum() skips NULLs: a commune whose cell is missing in any of its rows gets NULL (count() = count(*) guard)
CREATE OR REPLACE TABLE int_commune_dossier_complet AS
SELECT code_commune AS code, any_value(millesime) AS millesime, any_value(annees_deces) AS annees_deces,
       CASE WHEN count(population) = count(*) THEN somme_exacte(population) END AS population,
       CASE WHEN count(pop_80p) = count(*) THEN somme_exacte(pop_80p) END AS pop_80p,
       CASE WHEN count(pop_80p_seule) = count(*) THEN somme_exacte(pop_80p_seule) END AS pop_80p_seule,
       CASE WHEN count(familles) = count(*) THEN somme_exacte(familles) END AS familles,
       CASE WHEN count(familles_monoparentales) = count(*) THEN somme_exacte(familles_monoparentales) END AS familles_monoparentales,
       CASE WHEN count(actifs_1564) = count(*) THEN somme_exacte(actifs_1564) END AS actifs_1564,
       CASE WHEN count(chomeurs_1564) = count(*) THEN somme_exacte(chomeurs_1564) END AS chomeurs_1564,
       CASE WHEN count(nscol_15p) = count(*) THEN somme_exacte(nscol_15p) END AS nscol_15p,
       CASE WHEN count(nscol_15p_diplmin) = count(*) AND count(nscol_15p_bepc) = count(*)
            THEN somme_exacte(nscol_15p_diplmin) + somme_exacte(nscol_15p_bepc) END AS nscol_15p_peu_diplomes,
       CASE WHEN count(deces) = count(*) THEN somme_exacte(deces) END AS deces
FROM int_dossier_complet_lignes
GROUP BY code_commune;
