-- Access to care: share of ALD patients without a médecin traitant (Cnam, Observatoire de l'accès aux
-- soins). Input: `selection_territoire`. Grain: one row per (territoire_type, territoire_code,
-- indicateur), for every territory of the selection. Published for départements, régions and France
-- only (int_ameli_ald_sans_mt); other territories get non_disponible. A masked value (NC) keeps its
-- status with no value.
WITH millesime AS (
    SELECT max(millesime) FILTER (WHERE cle = 'ameli_ald_mt') AS ald
    FROM meta_source
),
territoires AS (
    SELECT territoire_type, territoire_code, any_value(territoire_nom) AS territoire_nom
    FROM selection_territoire
    GROUP BY ALL
)
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'part_ald_sans_mt' AS indicateur, r.libelle,
       a.taux::DOUBLE AS valeur, r.unite, NULL::DOUBLE AS numerateur, NULL::DOUBLE AS denominateur,
       coalesce(a.annee, m.ald)::VARCHAR AS millesime, 'ameli_ald_mt' AS source,
       CASE WHEN a.statut IS NOT NULL THEN a.statut WHEN a.taux IS NULL OR isnan(a.taux) THEN 'non_disponible' ELSE 'ok' END AS statut
FROM territoires t
CROSS JOIN millesime m
LEFT JOIN int_ameli_ald_sans_mt a ON a.territoire_type = t.territoire_type AND a.territoire_code = t.territoire_code
JOIN ref_indicateur r ON r.indicateur = 'part_ald_sans_mt'
