-- reads: int_prevention_serie, int_acces_serie
-- mart_series: the yearly series the report draws (prévention and accès aux soins), every published year of
-- the départements, régions and France (the perimeter is not isolable in these data). Stored by the build;
-- the report reads it through models/rapport/series.sql.
-- Grain: one row per (indicateur, territoire_type, territoire_code, annee).
CREATE OR REPLACE TABLE mart_series AS
SELECT * FROM int_prevention_serie
UNION ALL BY NAME
SELECT * FROM int_acces_serie;
