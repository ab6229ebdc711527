-- Observed and expected prevalence of the main pathologies (Cnam, cartographie des pathologies).
-- Input: `selection_territoire`. Grain: one row per (territoire_type, territoire_code, indicateur), for
-- every territory of the selection.
--   * prevalence_<p>: the rate published by the Cnam for the territory's own level (département, région,
--     France: int_ameli_prevalence); not published for other territories (non_disponible). A masked
--     count is statut 'secret', never 0.
--   * prevalence_attendue_<p> (statut 'estimation'): indirect standardisation, computed from commune
--     grain by the same code for every territory. Each commune's census population by sex and age band
--     (int_commune_age_sexe, latest census) is multiplied by its own département's rate for that sex and
--     band (int_ameli_taux_age_sexe); expected cases are summed over the communes, then divided by the
--     population. A territory with a commune whose département has no rate gets non_disponible.
WITH millesime AS (
    SELECT max(millesime) FILTER (WHERE cle = 'ameli_effectifs') AS ameli,
           max(millesime) FILTER (WHERE cle = 'rp_pop') AS rp
    FROM meta_source
),
territoires AS (SELECT * FROM territoires_de('selection_territoire')),
pathologies(pathologie) AS (
    VALUES ('diabete'), ('cardioneurovasculaire'), ('cancers'), ('psychiatrie'), ('respiratoire'), ('ald')
),
annee_taux AS (SELECT max(annee) AS annee FROM int_ameli_taux_age_sexe),
population AS (  -- census population of each commune of the selection, by sex and age band
    SELECT s.territoire_type, s.territoire_code, s.commune, c.departement, a.sexe, a.tranche_age, a.population
    FROM selection_territoire s
    JOIN int_commune c ON c.code = s.commune
    JOIN int_commune_age_sexe a ON a.code = s.commune AND a.annee = (SELECT rp FROM millesime)
    WHERE a.population IS NOT NULL
),
attendu AS (
    SELECT p.territoire_type, p.territoire_code, pa.pathologie,
           somme_exacte(p.population * t.taux) AS cas_attendus,
           somme_exacte(p.population) AS population,
           count(*) FILTER (WHERE t.taux IS NULL) AS sans_taux
    FROM population p
    CROSS JOIN pathologies pa
    LEFT JOIN int_ameli_taux_age_sexe t ON t.pathologie = pa.pathologie AND t.departement = p.departement
                                        AND t.sexe = p.sexe AND t.tranche_age = p.tranche_age
    GROUP BY ALL
),
long AS (
    SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'prevalence_' || pa.pathologie AS indicateur,
           o.prev AS valeur, o.ntop AS numerateur, o.npop AS denominateur,
           coalesce(o.annee, m.ameli) AS millesime, 'ameli_effectifs' AS source,
           statut_publie(o.statut, o.prev) AS statut
    FROM territoires t
    CROSS JOIN pathologies pa
    CROSS JOIN millesime m
    LEFT JOIN int_ameli_prevalence o ON o.pathologie = pa.pathologie AND o.territoire_type = t.territoire_type
                                     AND o.territoire_code = t.territoire_code
    UNION ALL
    SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'prevalence_attendue_' || pa.pathologie,
           CASE WHEN a.sans_taux = 0 THEN 100 * a.cas_attendus / nullif(a.population, 0) END,
           CASE WHEN a.sans_taux = 0 THEN a.cas_attendus END,
           CASE WHEN a.sans_taux = 0 THEN a.population END,
           'taux ' || coalesce((SELECT annee FROM annee_taux), m.ameli) || ', population RP ' || m.rp,
           'ameli_effectifs+rp_pop',
           CASE WHEN a.sans_taux = 0 AND a.population > 0 THEN 'estimation' ELSE 'non_disponible' END
    FROM territoires t
    CROSS JOIN pathologies pa
    CROSS JOIN millesime m
    LEFT JOIN attendu a ON a.territoire_type = t.territoire_type AND a.territoire_code = t.territoire_code
                       AND a.pathologie = pa.pathologie
)
SELECT * FROM long
