-- Every commune of France (metro + DROM) has a population and belongs to one département and région.
SELECT code, 'population manquante' AS probleme FROM int_commune WHERE champ_france AND population IS NULL
UNION ALL
SELECT c.code, 'département ou région inconnu' FROM int_commune c
WHERE champ_france AND (c.departement NOT IN (SELECT code FROM stg_cog_departement)
                        OR c.region NOT IN (SELECT code FROM stg_cog_region))
