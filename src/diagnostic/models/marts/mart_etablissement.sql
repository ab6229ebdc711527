-- reads: int_etablissement, int_groupe_etablissement, int_commune
-- mart_etablissement: the FINESS establishments with their group (label and report order) and the name of
-- their commune (target COG), for the list and the map of the report. lon / lat are WGS84, NULL when the file
-- gives no coordinates or a projection the parser does not recognise. Grain: one row per establishment of
-- int_etablissement.
CREATE OR REPLACE TABLE mart_etablissement AS
SELECT e.nofinesset, e.nom, e.groupe, g.libelle AS groupe_libelle, g.ordre AS groupe_ordre, e.categetab,
       e.libcategetab, e.code AS code_commune, c.nom AS nom_commune, e.lon, e.lat
FROM int_etablissement e
JOIN int_groupe_etablissement g ON g.groupe = e.groupe
LEFT JOIN int_commune c ON c.code = e.code;
