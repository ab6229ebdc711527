-- reads: mart_departement
-- departements: the outline of every département (geom: WKB, WGS 84). Grain: one row per département.
SELECT code, nom, geom FROM mart_departement
