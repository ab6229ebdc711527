-- Population indicators (INSEE RP): age structure, ageing index, change since the previous census.
-- Input: `selection_territoire` (territoire_type, territoire_code, territoire_nom, commune).
-- Grain: one row per (territoire_type, territoire_code, indicateur), for every territory of the selection
-- (non_disponible when the census file is not available). Counts are summed over the communes, then
-- divided; Paris, Lyon and Marseille are counted once (06_int_population.sql).
WITH millesime AS (
    SELECT max(millesime) FILTER (WHERE cle = 'rp_pop') AS rp,
           max(millesime) FILTER (WHERE cle = 'rp_pop_prec') AS rp_prec
    FROM meta_source
),
territoires AS (SELECT * FROM territoires_de('selection_territoire')),
age AS (
    SELECT s.territoire_type, s.territoire_code,
           somme_exacte(a.population) AS pop,
           somme_exacte(CASE WHEN a.tranche_age = '00-14' THEN a.population END) AS p0014,
           somme_exacte(CASE WHEN a.tranche_age = '15-29' THEN a.population END) AS p1529,
           somme_exacte(CASE WHEN a.tranche_age = '30-44' THEN a.population END) AS p3044,
           somme_exacte(CASE WHEN a.tranche_age = '45-59' THEN a.population END) AS p4559,
           somme_exacte(CASE WHEN a.tranche_age = '60-74' THEN a.population END) AS p6074,
           somme_exacte(CASE WHEN a.tranche_age IN ('75-89', '90+') THEN a.population END) AS p75p
    FROM selection_territoire s
    JOIN int_commune_age_sexe a ON a.code = s.commune
    WHERE a.annee = (SELECT rp FROM millesime)
    GROUP BY ALL
),
rp AS (
    SELECT s.territoire_type, s.territoire_code,
           somme_exacte(r.pop_65p) AS p65p,
           somme_exacte(r.pop_0019) AS p0019,
           somme_exacte(CASE WHEN p.population IS NOT NULL THEN r.population END) AS pop_fin,
           somme_exacte(CASE WHEN r.population IS NOT NULL THEN p.population END) AS pop_debut
    FROM selection_territoire s
    JOIN int_commune_rp r ON r.code = s.commune AND r.annee = (SELECT rp FROM millesime)
    LEFT JOIN int_commune_rp p ON p.code = s.commune AND p.annee = (SELECT rp_prec FROM millesime)
    GROUP BY ALL
),
base AS (
    SELECT t.*, a.* EXCLUDE (territoire_type, territoire_code), r.* EXCLUDE (territoire_type, territoire_code)
    FROM territoires t
    LEFT JOIN age a USING (territoire_type, territoire_code)
    LEFT JOIN rp r USING (territoire_type, territoire_code)
),
long AS (
    SELECT b.territoire_type, b.territoire_code, b.territoire_nom, i.* FROM base b, millesime m,
    LATERAL (VALUES
        ('part_0_14', 100 * p0014 / nullif(pop, 0), p0014, pop, m.rp),
        ('part_15_29', 100 * p1529 / nullif(pop, 0), p1529, pop, m.rp),
        ('part_30_44', 100 * p3044 / nullif(pop, 0), p3044, pop, m.rp),
        ('part_45_59', 100 * p4559 / nullif(pop, 0), p4559, pop, m.rp),
        ('part_60_74', 100 * p6074 / nullif(pop, 0), p6074, pop, m.rp),
        ('part_75_ans_et_plus', 100 * p75p / nullif(pop, 0), p75p, pop, m.rp),
        ('indice_vieillissement', 100 * p65p / nullif(p0019, 0), p65p, p0019, m.rp),
        ('evol_population_rp', 100 * (pop_fin / nullif(pop_debut, 0) - 1), pop_fin, pop_debut, m.rp_prec || '-' || m.rp)
    ) AS i(indicateur, valeur, numerateur, denominateur, millesime)
)
SELECT *, 'rp_pop' AS source, 'ok' AS statut
FROM long
