-- Access to care: share of ALD patients without a médecin traitant (Cnam, Observatoire de l'accès aux
-- soins). Input: `selection_territoire`. Grain: one row per (territoire_type, territoire_code,
-- indicateur), for every territory of the selection. Published for départements, régions and France
-- only (int_ameli_ald_sans_mt); other territories get non_disponible. A masked value (NC) keeps its
-- status with no value.
WITH millesime AS (
    SELECT max(millesime) FILTER (WHERE cle = 'ameli_ald_mt') AS ald
    FROM meta_source
),
territoires AS (SELECT * FROM territoires_de('selection_territoire'))
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'part_ald_sans_mt' AS indicateur,
       a.taux AS valeur, NULL AS numerateur, NULL AS denominateur,
       coalesce(a.annee, m.ald) AS millesime, 'ameli_ald_mt' AS source, statut_publie(a.statut, a.taux) AS statut
FROM territoires t
CROSS JOIN millesime m
LEFT JOIN int_ameli_ald_sans_mt a ON a.territoire_type = t.territoire_type AND a.territoire_code = t.territoire_code
