-- reads: geo_departement
-- mart_departement: the outline of every département (geom: WKB, WGS 84), for the maps of the report.
-- Grain: one row per département (code).
CREATE OR REPLACE TABLE mart_departement AS
SELECT code, nom, geom FROM geo_departement;
