-- mart_rangs: where each territory stands among its peers, for each indicator, in France and in its région.
-- Run by `diagnostic batch` (batch.py), not stored by the build. Inputs (registered by the caller):
--   `selection_territoire` (territoire_type, territoire_code, territoire_nom, commune): the peers, all of
--       one kind (every EPCI, every département, or every perimeter of a file);
--   `batch_indicateurs`: the indicateurs.csv contract computed for that selection by the indicator marts
--       (warehouse.indicateurs: every 9x_mart_indicateurs*.sql, then the secret statistique).
-- Grain: one row per (territoire_type, territoire_code, indicateur).
-- Région of a territory: the région holding the majority of its population (an EPCI may straddle two).
-- Peers: territories of the same kind (national) and of the same kind and région (régional); a value
-- that is missing, NaN or masked (statut not ok/estimation) is neither ranked nor counted as a peer.
-- rang: 1 = best in the direction of `sens` (plus_eleve_favorable: highest first; plus_faible_favorable:
--   lowest first; descriptif: highest first, no judgement); ties share the lowest rank (1, 2, 2, 4).
--   `sens` is the catalogue's (ref_indicateur.sens_rang: its `sens_rang`, else its `sens`; see catalogue.py);
--   an id missing from the catalogue is descriptif.
-- percentile: share of the other peers whose value is strictly lower (percent_rank on ascending values),
--   in [0, 1], whatever the direction: 0 = smallest value, 1 = largest.
WITH pop_region AS (
    SELECT s.territoire_type, s.territoire_code, c.region,
           sum(c.population) AS population, count(*) AS nb_communes
    FROM selection_territoire s
    JOIN int_commune c ON c.code = s.commune
    GROUP BY ALL
),
region AS (
    SELECT p.territoire_type, p.territoire_code, p.region AS region_code, r.nom AS region_nom
    FROM pop_region p
    LEFT JOIN stg_cog_region r ON r.code = p.region
    QUALIFY row_number() OVER (PARTITION BY p.territoire_type, p.territoire_code
                               ORDER BY p.population DESC NULLS LAST, p.nb_communes DESC, p.region) = 1
),
base AS (
    SELECT i.*,
           coalesce(ref.sens_rang, 'descriptif') AS sens,
           r.region_code, r.region_nom,
           -- ranked value; `+ 0.0` turns -0.0 into 0.0 so that equal values tie
           CASE WHEN i.statut IN ('ok', 'estimation') AND NOT isnan(i.valeur) THEN i.valeur + 0.0 END AS v,
           coalesce(ref.ordre, 999) AS ordre
    FROM batch_indicateurs i
    LEFT JOIN ref_indicateur ref USING (indicateur)
    LEFT JOIN region r USING (territoire_type, territoire_code)
),
-- windows run on the ranked values only, narrow rows (sorting the wide contract rows costs 10x more)
classes AS (
    SELECT territoire_type, territoire_code, indicateur, region_code, v,
           CASE WHEN sens = 'plus_faible_favorable' THEN v ELSE -v + 0.0 END AS cle  -- ascending: best first
    FROM base
    WHERE v IS NOT NULL
),
rangs AS (
    SELECT territoire_type, territoire_code, indicateur,
           rank() OVER (PARTITION BY territoire_type, indicateur ORDER BY cle) AS rang_national,
           percent_rank() OVER (PARTITION BY territoire_type, indicateur ORDER BY v) AS percentile_national,
           rank() OVER (PARTITION BY territoire_type, indicateur, region_code ORDER BY cle) AS rang_region,
           percent_rank() OVER (PARTITION BY territoire_type, indicateur, region_code ORDER BY v) AS percentile_region
    FROM classes
),
pairs_national AS (
    SELECT territoire_type, indicateur, count(*) AS nb_pairs_national FROM classes GROUP BY ALL
),
pairs_region AS (
    SELECT territoire_type, indicateur, region_code, count(*) AS nb_pairs_region FROM classes GROUP BY ALL
)
SELECT b.territoire_type, b.territoire_code, b.territoire_nom, b.indicateur, b.libelle, b.valeur, b.unite,
       b.numerateur, b.denominateur, b.millesime, b.source, b.statut,
       b.sens,
       k.rang_national,
       coalesce(n.nb_pairs_national, 0) AS nb_pairs_national,
       k.percentile_national,
       b.region_code, b.region_nom,
       k.rang_region,
       coalesce(g.nb_pairs_region, 0) AS nb_pairs_region,
       k.percentile_region
FROM base b
LEFT JOIN rangs k USING (territoire_type, territoire_code, indicateur)
LEFT JOIN pairs_national n USING (territoire_type, indicateur)
LEFT JOIN pairs_region g USING (territoire_type, indicateur, region_code)
ORDER BY b.territoire_code, b.ordre, b.indicateur
