-- Harmonisation loses no APL population: the workbook's rows that match a current commune sum to the
-- same standardised population after aggregation.
SELECT a.millesime, sum(a.pop_standardisee) AS avant, any_value(h.apres) AS apres
FROM stg_apl_mg a
JOIN int_cog_passage p ON p.code_source = a.code
JOIN (SELECT millesime, sum(pop_standardisee) AS apres FROM int_commune_apl GROUP BY millesime) h USING (millesime)
GROUP BY a.millesime
HAVING abs(sum(a.pop_standardisee) - any_value(h.apres)) > 1e-6 * sum(a.pop_standardisee)
