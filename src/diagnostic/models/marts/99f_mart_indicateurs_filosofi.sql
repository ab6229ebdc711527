-- Situation sociale (INSEE Filosofi). Input: `selection_territoire`. Grain: one row per (territoire_type,
-- territoire_code, indicateur), for every territory of the selection.
-- niveau_vie_median, taux_pauvrete: a median and a rate are not additive, so a territory gets the value only
-- when INSEE publishes it for exactly that territory: a territory made of one commune (its row of the commune
-- file), or whose communes are exactly those of one département, one région or one EPCI (that level's file;
-- an EPCI only when `composition_verifiee`, see int_filosofi_territoire). `s` -> statut secret. Any other set of
-- communes, and France (no France file is read), is non_disponible: no value is ever derived from communes.
-- nb_personnes_menages_fiscaux: counts summed over the communes where they are published.
-- part_pop_*_publie: population municipale of the communes where the value is published / population.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
m AS (SELECT max(millesime) AS millesime FROM meta_source WHERE cle = 'filosofi'),
taille AS (
    SELECT territoire_type, territoire_code, count(DISTINCT commune) AS n FROM selection_territoire GROUP BY ALL
),
taille_niveau AS (
    SELECT territoire_type AS niveau, territoire_code AS code, count(*) AS n
    FROM int_territoire_commune WHERE territoire_type IN ('epci', 'departement', 'region') GROUP BY ALL
),
-- the territory of a Filosofi level whose communes are exactly the selection territory's
egal AS (
    SELECT s.territoire_type, s.territoire_code, t.territoire_type AS niveau, t.territoire_code AS code
    FROM (SELECT DISTINCT territoire_type, territoire_code, commune FROM selection_territoire) s
    JOIN int_territoire_commune t ON t.commune = s.commune AND t.territoire_type IN ('epci', 'departement', 'region')
    JOIN taille ts ON ts.territoire_type = s.territoire_type AND ts.territoire_code = s.territoire_code
    JOIN taille_niveau tn ON tn.niveau = t.territoire_type AND tn.code = t.territoire_code
    GROUP BY s.territoire_type, s.territoire_code, t.territoire_type, t.territoire_code, ts.n, tn.n
    HAVING count(*) = ts.n AND count(*) = tn.n
),
publie AS (
    SELECT e.territoire_type, e.territoire_code, f.niveau_vie_median AS med, f.statut_niveau_vie_median AS statut_med,
           f.taux_pauvrete AS tp, f.statut_taux_pauvrete AS statut_tp
    FROM egal e
    JOIN int_filosofi_territoire f ON f.niveau = e.niveau AND f.code = e.code AND f.composition_verifiee
    QUALIFY row_number() OVER (PARTITION BY e.territoire_type, e.territoire_code
                               ORDER BY CASE e.niveau WHEN 'departement' THEN 1 WHEN 'region' THEN 2 ELSE 3 END) = 1
),
agg AS (
    SELECT s.territoire_type, s.territoire_code,
           count(*) AS nb_communes,
           count(f.code) AS nb_communes_filosofi,
           any_value(f.niveau_vie_median) AS med_commune, any_value(f.statut_niveau_vie_median) AS statut_med_commune,
           any_value(f.taux_pauvrete) AS tp_commune, any_value(f.statut_taux_pauvrete) AS statut_tp_commune,
           sum(f.nb_personnes_menages_fiscaux) AS personnes,
           sum(c.population) AS population,
           sum(c.population) FILTER (WHERE f.statut_niveau_vie_median = 'ok') AS pop_med,
           sum(c.population) FILTER (WHERE f.statut_taux_pauvrete = 'ok') AS pop_tp
    FROM selection_territoire s
    LEFT JOIN int_commune c ON c.code = s.commune
    LEFT JOIN int_commune_filosofi f ON f.code = s.commune
    GROUP BY ALL
),
-- the published value of exactly this territory: its commune's row, else its level's file
publie_ici AS (
    SELECT a.*,
           CASE WHEN nb_communes = 1 THEN med_commune ELSE p.med END AS med,
           CASE WHEN nb_communes = 1 THEN statut_med_commune ELSE p.statut_med END AS statut_med,
           CASE WHEN nb_communes = 1 THEN tp_commune ELSE p.tp END AS tp,
           CASE WHEN nb_communes = 1 THEN statut_tp_commune ELSE p.statut_tp END AS statut_tp
    FROM agg a LEFT JOIN publie p USING (territoire_type, territoire_code)
),
valeurs AS (
    SELECT territoire_type, territoire_code, 'niveau_vie_median' AS indicateur,
           CASE WHEN statut_med = 'ok' THEN med END AS valeur,
           NULL::DOUBLE AS numerateur, NULL::DOUBLE AS denominateur,
           CASE WHEN statut_med IN ('ok', 'secret') THEN statut_med ELSE 'non_disponible' END AS statut
    FROM publie_ici
    UNION ALL
    SELECT territoire_type, territoire_code, 'taux_pauvrete',
           CASE WHEN statut_tp = 'ok' THEN tp END, NULL, NULL,
           CASE WHEN statut_tp IN ('ok', 'secret') THEN statut_tp ELSE 'non_disponible' END
    FROM publie_ici
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
