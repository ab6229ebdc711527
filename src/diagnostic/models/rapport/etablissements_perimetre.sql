-- etablissements_perimetre: the FINESS establishments located in the communes of the perimeter of
-- `selection_territoire` (territoire_type 'perimetre'), for the list and the map of the report.
-- Grain: one row per (perimeter, establishment). lon / lat are WGS84, NULL when the file gives no
-- coordinates or a projection the parser does not recognise. Ordered by groupe (report order, 'autre'
-- last), commune name, establishment name. Not a model of the build: run for a report's selection.
SELECT s.territoire_code,
       e.nofinesset,
       e.nom,
       e.groupe,
       g.libelle AS groupe_libelle,
       e.categetab,
       e.libcategetab,
       e.code AS code_commune,
       c.nom AS nom_commune,
       e.lon,
       e.lat
FROM (SELECT DISTINCT territoire_code, commune FROM selection_territoire WHERE territoire_type = 'perimetre') s
JOIN int_etablissement e ON e.code = s.commune
JOIN int_groupe_etablissement g ON g.groupe = e.groupe
LEFT JOIN int_commune c ON c.code = e.code
ORDER BY s.territoire_code, g.ordre, c.nom, e.code, e.nom, e.nofinesset
