-- Query run on a selection (not stored by the build): RPPS practitioners practising in the perimeter, by profession group of
-- int_professionnel, the denominators of the survey's response rates (enquetes/__init__.py).
-- Grain: one row per profession. A practitioner with several activities in the perimeter counts once.
SELECT p.profession, count(DISTINCT p.identifiant) AS nb
FROM selection_territoire s
JOIN int_commune_professionnel p ON p.code = s.commune
WHERE s.territoire_type = 'perimetre'
GROUP BY ALL
