-- Accès aux soins (besides part_ald_sans_mt, mart 95): population covered by the SAS, mean médecin-traitant
-- patientèle per GP (Cnam), emergency department visits (DREES). Input: `selection_territoire`. Grain: one
-- row per (territoire_type, territoire_code, indicateur), for every territory of the selection. Each
-- territory gets the latest year published (or computed, for the visits rate) for its own level
-- (int_acces_serie); the perimeter (and an EPCI) gets non_disponible: these data stop at the département.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
ids(indicateur, source) AS (
    VALUES ('part_pop_couverte_sas', 'ameli_sas'),
           ('patientele_mt_moyenne_mg', 'ameli_patientele_mt'),
           ('passages_urgences', 'drees_urgences'),
           ('passages_urgences_10000', 'drees_urgences')
),
dernier AS (
    SELECT * FROM int_acces_serie
    WHERE indicateur IN (SELECT indicateur FROM ids)
    QUALIFY row_number() OVER (PARTITION BY indicateur, territoire_type, territoire_code ORDER BY annee DESC) = 1
),
cog AS (SELECT max(millesime) AS millesime FROM meta_source WHERE cle = 'cog')
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, i.indicateur,
       d.valeur, d.numerateur, d.denominateur,
       CASE WHEN i.indicateur = 'passages_urgences_10000' AND d.annee IS NOT NULL
            THEN 'passages ' || d.annee || ', population ' || (SELECT millesime FROM cog)
            ELSE coalesce(d.annee, m.millesime) END AS millesime,
       coalesce(d.source, i.source) AS source,
       coalesce(d.statut, 'non_disponible') AS statut
FROM territoires t
CROSS JOIN ids i
LEFT JOIN dernier d ON d.indicateur = i.indicateur AND d.territoire_type = t.territoire_type
                   AND d.territoire_code = t.territoire_code
LEFT JOIN meta_source m ON m.cle = i.source
