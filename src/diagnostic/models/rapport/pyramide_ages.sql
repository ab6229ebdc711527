-- reads: mart_age_sexe
-- pyramide_ages: census population by sex and 15-year age band of each territory of `selection_territoire`
-- (perimeters and départements), latest census (mart_age_sexe), for the age pyramid of the report.
-- Grain: one row per (territoire_type, territoire_code, sexe, tranche_age). Weighted census estimates:
-- summed, never rounded before dividing. Run by report/donnees.py for a report's selection.
SELECT s.territoire_type, s.territoire_code, any_value(s.territoire_nom) AS territoire_nom,
       a.sexe, a.tranche_age,
       somme_exacte(a.population) AS population,
       any_value(a.annee) AS annee
FROM selection_territoire s
JOIN mart_age_sexe a ON a.code = s.commune
WHERE s.territoire_type IN ('perimetre', 'departement')
GROUP BY s.territoire_type, s.territoire_code, a.sexe, a.tranche_age
ORDER BY s.territoire_type DESC, s.territoire_code, a.tranche_age, a.sexe
