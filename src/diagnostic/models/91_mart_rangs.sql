-- mart_rangs: where each territory stands among its peers, for each indicator, in France and in its région.
-- Run by `diagnostic batch` (batch.py), not stored by the build. Inputs (registered by the caller):
--   `selection_territoire` (territoire_type, territoire_code, territoire_nom, commune): the peers, all of
--       one kind (every EPCI, every département, or every perimeter of a file);
--   `batch_indicateurs`: the indicateurs.csv contract computed for that selection by 90_mart_indicateurs.sql.
-- Grain: one row per (territoire_type, territoire_code, indicateur).
-- Région of a territory: the région holding the majority of its population (an EPCI may straddle two).
-- Peers: territories of the same kind (national) and of the same kind and région (régional); a value
-- that is missing, NaN or masked (statut not ok/estimation) is neither ranked nor counted as a peer.
-- rang: 1 = best in the direction of `sens` (plus_eleve_favorable: highest first; plus_faible_favorable:
--   lowest first; descriptif: highest first, no judgement); ties share the lowest rank (1, 2, 2, 4).
-- percentile: share of the other peers whose value is strictly lower (percent_rank on ascending values),
--   in [0, 1], whatever the direction: 0 = smallest value, 1 = largest.
WITH sens(indicateur, sens) AS (
    VALUES ('nb_communes', 'descriptif'),
           ('population', 'descriptif'),
           ('superficie_km2', 'descriptif'),
           ('densite_population', 'descriptif'),
           ('apl_mg', 'plus_eleve_favorable'),
           ('apl_mg_prec', 'plus_eleve_favorable'),
           ('evol_apl_mg', 'plus_eleve_favorable'),
           ('part_pop_apl_mg_inf_2_5', 'plus_faible_favorable')
),
pop_region AS (
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
           coalesce(s.sens, 'descriptif') AS sens,
           r.region_code, r.region_nom,
           CASE WHEN i.statut IN ('ok', 'estimation') AND NOT isnan(i.valeur) THEN i.valeur END AS v,
           coalesce(ref.ordre, 999) AS ordre
    FROM batch_indicateurs i
    LEFT JOIN sens s USING (indicateur)
    LEFT JOIN ref_indicateur ref USING (indicateur)
    LEFT JOIN region r USING (territoire_type, territoire_code)
),
rangs AS (
    SELECT *,
           -- `v IS NULL` in each partition keeps missing values out of their peers' ranks and counts
           CASE WHEN sens = 'plus_faible_favorable'
                THEN rank() OVER (PARTITION BY territoire_type, indicateur, v IS NULL ORDER BY v ASC)
                ELSE rank() OVER (PARTITION BY territoire_type, indicateur, v IS NULL ORDER BY v DESC) END AS rang_n,
           count(v) OVER (PARTITION BY territoire_type, indicateur) AS nb_pairs_national,
           percent_rank() OVER (PARTITION BY territoire_type, indicateur, v IS NULL ORDER BY v ASC) AS pct_n,
           CASE WHEN sens = 'plus_faible_favorable'
                THEN rank() OVER (PARTITION BY territoire_type, indicateur, region_code, v IS NULL ORDER BY v ASC)
                ELSE rank() OVER (PARTITION BY territoire_type, indicateur, region_code, v IS NULL ORDER BY v DESC) END AS rang_r,
           count(v) OVER (PARTITION BY territoire_type, indicateur, region_code) AS nb_pairs_region,
           percent_rank() OVER (PARTITION BY territoire_type, indicateur, region_code, v IS NULL ORDER BY v ASC) AS pct_r
    FROM base
)
SELECT territoire_type, territoire_code, territoire_nom, indicateur, libelle, valeur, unite,
       numerateur, denominateur, millesime, source, statut,
       sens,
       CASE WHEN v IS NOT NULL THEN rang_n END AS rang_national,
       nb_pairs_national,
       CASE WHEN v IS NOT NULL THEN pct_n END AS percentile_national,
       region_code, region_nom,
       CASE WHEN v IS NOT NULL THEN rang_r END AS rang_region,
       nb_pairs_region,
       CASE WHEN v IS NOT NULL THEN pct_r END AS percentile_region
FROM rangs
ORDER BY territoire_code, ordre, indicateur
