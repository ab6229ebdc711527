-- reads: mart_series
-- series: the yearly series of the report (mart_series), for report/donnees.py, which keeps the rows of the
-- report's territories. Grain: one row per (indicateur, territoire_type, territoire_code, annee).
SELECT indicateur, territoire_type, territoire_code, annee, valeur, statut FROM mart_series
