-- reads: int_commune
-- local_zonage: the share of the population living in each zone of the ARS zonage of GPs (`_local`: one row per
-- commune of the target COG with its strongest qualification, see local.py) for the territories of
-- `selection_territoire`: population municipale of the territory's communes in the zone over that of its
-- communes in the file. Grain: one row per (territoire_type, territoire_code, zone of $zones). A territory gets a
-- value only when all its communes are in the file.
-- Parameters: $zones (the zones, strongest first), $annee (year of the order), $source (the local source id).
-- Not a model of the build: run by local.py (models/local/) for a report's selection.
WITH cov AS (  -- communes of each territory, and how many the file covers
    SELECT territoire_type, territoire_code, any_value(territoire_nom) AS territoire_nom,
           count(*) AS n_communes, count(l.commune) AS n_couvertes
    FROM selection_territoire s LEFT JOIN (SELECT DISTINCT commune FROM _local) l USING (commune)
    GROUP BY ALL
),
zones AS (SELECT unnest($zones::VARCHAR[]) AS zone),
agg AS (
    SELECT s.territoire_type, s.territoire_code, z.zone,
           sum(c.population) FILTER (WHERE l.zonage = z.zone) AS pop_zone, sum(c.population) AS pop
    FROM selection_territoire s JOIN _local l USING (commune) JOIN int_commune c ON c.code = s.commune
    CROSS JOIN zones z
    GROUP BY ALL
)
SELECT c.territoire_type, c.territoire_code, c.territoire_nom, 'part_pop_zonage_' || lower(z.zone) AS indicateur,
       z.zone AS libelle,
       CASE WHEN c.n_couvertes = c.n_communes THEN 100 * coalesce(a.pop_zone, 0) / nullif(a.pop, 0) END AS valeur,
       '%' AS unite,
       CASE WHEN c.n_couvertes = c.n_communes THEN coalesce(a.pop_zone, 0) END AS numerateur,
       CASE WHEN c.n_couvertes = c.n_communes THEN a.pop END AS denominateur,
       $annee AS millesime, $source AS source,
       CASE WHEN c.n_couvertes = c.n_communes AND a.pop > 0 THEN 'ok' ELSE 'non_disponible' END AS statut,
       NULL AS producteur, true AS taux
FROM cov c CROSS JOIN zones z
LEFT JOIN agg a ON a.territoire_type = c.territoire_type AND a.territoire_code = c.territoire_code AND a.zone = z.zone
