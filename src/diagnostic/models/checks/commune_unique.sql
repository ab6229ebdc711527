-- int_commune has one row per commune code.
SELECT code, count(*) AS n FROM int_commune GROUP BY code HAVING count(*) > 1
