-- Causes of death (CépiDc). Input: `selection_territoire`. Grain: one row per (territoire_type, territoire_code,
-- indicateur), for every territory of the selection. Published by département of residence only: départements
-- get their deaths, régions and France the sums of theirs (int_cepidc_territoire); the perimeter (and any set of
-- communes) is non_disponible. deces_causes_total: all causes (the 18 chapters); part_deces_<groupe>: deaths of
-- the group's chapter (registry `groupes`) / all causes, in %.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
ids(indicateur, groupe) AS (
    VALUES ('deces_causes_total', NULL),
           ('part_deces_tumeurs', 'tumeurs'),
           ('part_deces_circulatoire', 'circulatoire'),
           ('part_deces_respiratoire', 'respiratoire'),
           ('part_deces_causes_externes', 'causes_externes')
),
totaux AS (
    SELECT DISTINCT territoire_type, territoire_code, millesime, deces_total FROM int_cepidc_territoire
),
valeurs AS (
    SELECT t.territoire_type, t.territoire_code, 'deces_causes_total' AS indicateur, t.deces_total AS valeur,
           NULL::DOUBLE AS numerateur, NULL::DOUBLE AS denominateur, t.millesime
    FROM totaux t
    UNION ALL
    SELECT c.territoire_type, c.territoire_code, 'part_deces_' || c.groupe, 100 * c.deces / c.deces_total,
           c.deces, c.deces_total, c.millesime
    FROM int_cepidc_territoire c
    WHERE c.groupe IS NOT NULL AND c.deces_total > 0
),
m AS (SELECT max(millesime) AS millesime FROM meta_source WHERE cle = 'cepidc_causes')
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, i.indicateur,
       v.valeur, v.numerateur, v.denominateur,
       coalesce(v.millesime, (SELECT millesime FROM m)) AS millesime, 'cepidc_causes' AS source,
       CASE WHEN v.valeur IS NOT NULL THEN 'ok' ELSE 'non_disponible' END AS statut
FROM territoires t
CROSS JOIN ids i
LEFT JOIN valeurs v ON v.indicateur = i.indicateur AND v.territoire_type = t.territoire_type
                   AND v.territoire_code = t.territoire_code
