-- FINESS establishments per groupe (hôpitaux, cliniques, CLCC, EHPAD, centres de santé, MSP, pharmacies,
-- laboratoires; 'autre' is not published). Input: `selection_territoire`. Grain: one row per
-- (territoire_type, territoire_code, indicateur), for every territory of the selection.
--   * nb_etab_<groupe>: sum over the communes of the territory of the commune counts (an establishment is
--     in one commune only, so territories add up). 0 when the territory has none.
--   * millesime: the extraction date written in the file's first line, else the registry vintage.
-- A source that is not available (empty staging table) gives non_disponible, never 0.
WITH millesime AS (
    SELECT coalesce((SELECT max(date_extraction) FROM stg_finess_etablissement),
                    max(millesime) FILTER (WHERE cle = 'finess')) AS finess
    FROM meta_source
),
territoires AS (SELECT * FROM territoires_de('selection_territoire')),
groupes AS (SELECT groupe FROM int_groupe_etablissement WHERE groupe <> 'autre'),
finess_disponible AS (SELECT count(*) > 0 AS ok FROM stg_finess_etablissement),
effectifs AS (
    SELECT s.territoire_type, s.territoire_code, e.groupe, sum(e.nb) AS nb
    FROM selection_territoire s
    JOIN int_commune_etablissements e ON e.code = s.commune
    GROUP BY ALL
)
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'nb_etab_' || g.groupe AS indicateur,
       CASE WHEN d.ok THEN coalesce(e.nb, 0) END AS valeur, NULL AS numerateur, NULL AS denominateur,
       m.finess AS millesime, 'finess' AS source,
       CASE WHEN d.ok THEN 'ok' ELSE 'non_disponible' END AS statut
FROM territoires t
CROSS JOIN groupes g
CROSS JOIN finess_disponible d
CROSS JOIN millesime m
LEFT JOIN effectifs e ON e.territoire_type = t.territoire_type AND e.territoire_code = t.territoire_code
                     AND e.groupe = g.groupe
