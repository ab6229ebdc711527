-- The comparators of one or several perimeters: every département and région their communes lie in, and
-- France. Input: `_perimetres` (territoire_type, territoire_code, territoire_nom, commune). Not a model of the
-- build: run for a report's selection (territoire.Territoire.selection, rapports.selection).
SELECT t.* FROM int_territoire_commune t
WHERE (t.territoire_type = 'departement' AND t.territoire_code IN
        (SELECT departement FROM int_commune WHERE code IN (SELECT commune FROM _perimetres)))
   OR (t.territoire_type = 'region' AND t.territoire_code IN
        (SELECT region FROM int_commune WHERE code IN (SELECT commune FROM _perimetres)))
   OR t.territoire_type = 'france'
