-- Comparative mortality index (ICM), general and premature (under 65), by indirect standardisation on France's death
-- rates by sex x age band over the pooled years (état-civil detail files, census population of the central year).
-- Input: `selection_territoire`. Grain: one row per (territoire_type, territoire_code, indicateur).
-- numerateur = observed deaths O, denominateur = expected deaths E (population x years x France's rate, summed over
-- sex, band and communes), valeur = 100 x O / E. The 95 % interval (exact Poisson on O) is computed by the report from
-- O and E (report/mortalite.py). A territory with a commune whose population by sex and age is missing is
-- non_disponible; so is every territory when France's rates cover less than `icm_couverture_min` % of its population.
-- Under `deces_min` observed deaths the index is withheld (statut secret: too few deaths to be read). France's index is
-- 100 by construction (its own rates): its row says so with O = E = France's deaths.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
ref AS (
    SELECT any_value(periode) AS periode, any_value(couverture) AS couverture, sum(deces) AS deces,
           sum(deces) FILTER (WHERE tranche IN ('00-14', '15-29', '30-44', '45-59', '60-64')) AS deces_65
    FROM int_mortalite_reference
),
agg AS (
    SELECT s.territoire_type, s.territoire_code, count(*) = count(m.code) AS complet,
           sum(m.deces) AS o, somme_exacte(m.attendus) AS e, sum(m.deces_65) AS o65, somme_exacte(m.attendus_65) AS e65
    FROM selection_territoire s
    LEFT JOIN int_commune_mortalite m ON m.code = s.commune
    GROUP BY ALL
),
valeurs AS (
    SELECT territoire_type, territoire_code, 'icm_general' AS indicateur, o AS num, e AS den, complet,
           (SELECT deces FROM ref) AS ref_france FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'icm_premature', o65, e65, complet, (SELECT deces_65 FROM ref) FROM agg
),
statuts AS (
    SELECT v.*,
           CASE WHEN (SELECT couverture FROM ref) IS NULL OR (SELECT couverture FROM ref) < seuil('icm_couverture_min')
                     OR ref_france IS NULL OR ref_france <= 0 THEN 'non_disponible'
                WHEN territoire_type = 'france' THEN 'ok'
                WHEN NOT coalesce(complet, false) OR den IS NULL OR den <= 0 THEN 'non_disponible'
                WHEN num < seuil('deces_min') THEN 'secret'
                ELSE 'ok' END AS statut
    FROM valeurs v
)
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, v.indicateur,
       CASE WHEN v.statut = 'ok' AND v.territoire_type = 'france' THEN 100.0
            WHEN v.statut = 'ok' THEN 100.0 * v.num / v.den END AS valeur,
       CASE WHEN v.statut = 'ok' AND v.territoire_type = 'france' THEN v.ref_france
            WHEN v.statut = 'ok' THEN v.num END AS numerateur,
       CASE WHEN v.statut = 'ok' AND v.territoire_type = 'france' THEN v.ref_france
            WHEN v.statut = 'ok' THEN v.den END AS denominateur,
       (SELECT periode FROM ref) AS millesime, 'etatcivil_deces+dossier_complet' AS source, v.statut
FROM territoires t
JOIN statuts v USING (territoire_type, territoire_code)
