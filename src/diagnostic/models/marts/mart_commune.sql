-- reads: int_commune, int_commune_professionnel, int_commune_filosofi, geo_commune, stg_rpps_activite
-- mart_commune: every commune of the target COG that has an outline, with the figures the report's maps draw
-- and its outline (geom: WKB, WGS 84). nb_mg: general practitioners with an activity in the commune
-- (distinct professionals, counted as the indicator nb_mg), 0 when the RPPS extraction is in hand and names
-- none there; without the extraction NULL and statut_nb_mg non_disponible. The secret statistique of nb_mg is
-- applied by the build right after this model (warehouse.masquer: diagnostic.secret.apply, the same masking as
-- the indicator rows), so no reader ever sees a count under the threshold. Filosofi figures keep INSEE's own
-- status (statut_*). Grain: one row per commune (code).
CREATE OR REPLACE TABLE mart_commune AS
WITH mg AS (
    SELECT code, count(DISTINCT identifiant) AS nb FROM int_commune_professionnel
    WHERE profession = 'medecin_generaliste' GROUP BY code
),
rpps AS (SELECT count(*) > 0 AS ok FROM stg_rpps_activite)
SELECT c.code, c.nom, c.departement, c.region, c.population, c.superficie_km2, c.apl_mg,
       CASE WHEN rpps.ok THEN coalesce(mg.nb, 0) END AS nb_mg,
       CASE WHEN rpps.ok THEN 'ok' ELSE 'non_disponible' END AS statut_nb_mg,
       f.niveau_vie_median, f.statut_niveau_vie_median, f.taux_pauvrete, f.statut_taux_pauvrete,
       g.geom
FROM int_commune c JOIN geo_commune g USING (code)
CROSS JOIN rpps
LEFT JOIN mg USING (code)
LEFT JOIN int_commune_filosofi f USING (code);
