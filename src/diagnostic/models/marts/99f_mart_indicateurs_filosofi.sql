-- Situation sociale (INSEE Filosofi). Input: `selection_territoire`. Grain: one row per (territoire_type,
-- territoire_code, indicateur), for every territory of the selection.
-- niveau_vie_median, taux_pauvrete: a median and a rate are not additive, so a territory gets the value only
-- when INSEE publishes it for exactly that territory: here a territory made of one commune, whose value is
-- published (`s` -> statut secret). Any set of communes (CPTS, EPCI, département, région, France) is
-- non_disponible: the Filosofi files of those levels are not read, and no value is derived from communes.
-- nb_personnes_menages_fiscaux: counts summed over the communes where they are published.
-- part_pop_*_publie: population municipale of the communes where the value is published / population.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
m AS (SELECT max(millesime) AS millesime FROM meta_source WHERE cle = 'filosofi'),
agg AS (
    SELECT s.territoire_type, s.territoire_code,
           count(*) AS nb_communes,
           count(f.code) AS nb_communes_filosofi,
           any_value(f.niveau_vie_median) AS med, any_value(f.statut_niveau_vie_median) AS statut_med,
           any_value(f.taux_pauvrete) AS tp, any_value(f.statut_taux_pauvrete) AS statut_tp,
           sum(f.nb_personnes_menages_fiscaux) AS personnes,
           sum(c.population) AS population,
           sum(c.population) FILTER (WHERE f.statut_niveau_vie_median = 'ok') AS pop_med,
           sum(c.population) FILTER (WHERE f.statut_taux_pauvrete = 'ok') AS pop_tp
    FROM selection_territoire s
    LEFT JOIN int_commune c ON c.code = s.commune
    LEFT JOIN int_commune_filosofi f ON f.code = s.commune
    GROUP BY ALL
),
valeurs AS (
    SELECT territoire_type, territoire_code, 'niveau_vie_median' AS indicateur,
           CASE WHEN nb_communes = 1 AND statut_med = 'ok' THEN med END AS valeur,
           NULL::DOUBLE AS numerateur, NULL::DOUBLE AS denominateur,
           CASE WHEN nb_communes = 1 AND statut_med = 'ok' THEN 'ok'
                WHEN nb_communes = 1 AND statut_med = 'secret' THEN 'secret' ELSE 'non_disponible' END AS statut
    FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'taux_pauvrete',
           CASE WHEN nb_communes = 1 AND statut_tp = 'ok' THEN tp END, NULL, NULL,
           CASE WHEN nb_communes = 1 AND statut_tp = 'ok' THEN 'ok'
                WHEN nb_communes = 1 AND statut_tp = 'secret' THEN 'secret' ELSE 'non_disponible' END
    FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'nb_personnes_menages_fiscaux', personnes, NULL, NULL,
           CASE WHEN personnes IS NOT NULL THEN 'ok' ELSE 'non_disponible' END
    FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'part_pop_niveau_vie_publie',
           100 * coalesce(pop_med, 0) / population, coalesce(pop_med, 0), population,
           CASE WHEN nb_communes_filosofi > 0 AND population > 0 THEN 'ok' ELSE 'non_disponible' END
    FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'part_pop_taux_pauvrete_publie',
           100 * coalesce(pop_tp, 0) / population, coalesce(pop_tp, 0), population,
           CASE WHEN nb_communes_filosofi > 0 AND population > 0 THEN 'ok' ELSE 'non_disponible' END
    FROM agg
)
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, v.indicateur,
       CASE WHEN v.statut = 'ok' THEN v.valeur END AS valeur,
       CASE WHEN v.statut = 'ok' THEN v.numerateur END AS numerateur,
       CASE WHEN v.statut = 'ok' THEN v.denominateur END AS denominateur,
       (SELECT millesime FROM m) AS millesime, 'filosofi' AS source, v.statut
FROM territoires t
JOIN valeurs v USING (territoire_type, territoire_code)
