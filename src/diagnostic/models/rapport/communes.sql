-- reads: mart_commune
-- communes: the communes of the départements `_departements` (column d) with the figures of the maps and their
-- outline (geom: WKB, WGS 84), secret statistique already applied by the build (mart_commune). nb_mg_secret:
-- the commune's GP count is masked. Grain: one row per commune, ordered by code.
SELECT code, nom, departement, region, population, superficie_km2, apl_mg,
       nb_mg, statut_nb_mg = 'secret' AS nb_mg_secret,
       niveau_vie_median, statut_niveau_vie_median, taux_pauvrete, statut_taux_pauvrete,
       geom
FROM mart_commune
WHERE departement IN (SELECT d FROM _departements)
ORDER BY code
