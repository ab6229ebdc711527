-- Population totale (INSEE populations légales, PTOT): the population municipale plus the people « comptés à
-- part » (students, boarders, people in communities counted at another address). A context figure: it counts
-- some people twice across communes, so it is never a denominator. Input: `selection_territoire`.
-- Grain: one row per (territoire_type, territoire_code, indicateur), for every territory of the selection.
-- Given only when every commune of the territory is in the file: Mayotte, absent from the populations légales
-- (published apart), makes a territory that holds it non_disponible, as does an unavailable source.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
pl AS (
    SELECT s.territoire_type, s.territoire_code, count(*) AS nb_communes, count(p.code) AS nb_communes_pl,
           sum(p.population_totale) AS ptot, any_value(p.millesime) AS millesime
    FROM selection_territoire s
    LEFT JOIN int_commune_population_legale p ON p.code = s.commune
    GROUP BY ALL
)
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'population_totale' AS indicateur,
       CASE WHEN pl.nb_communes_pl = pl.nb_communes THEN pl.ptot END AS valeur, NULL AS numerateur, NULL AS denominateur,
       coalesce(pl.millesime, (SELECT max(millesime) FROM meta_source WHERE cle = 'poplegale')) AS millesime,
       'poplegale' AS source,
       CASE WHEN pl.nb_communes_pl = pl.nb_communes AND pl.ptot IS NOT NULL THEN 'ok' ELSE 'non_disponible' END AS statut
FROM territoires t
LEFT JOIN pl USING (territoire_type, territoire_code)
