-- int_cog_passage maps each source code once, to a current commune.
SELECT code_source, count(*) AS n FROM int_cog_passage GROUP BY code_source HAVING count(*) > 1
UNION ALL
SELECT p.code_source, 0 FROM int_cog_passage p ANTI JOIN int_commune c ON c.code = p.code_commune
