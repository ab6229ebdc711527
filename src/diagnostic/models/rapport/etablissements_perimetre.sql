-- reads: mart_etablissement
-- etablissements_perimetre: the FINESS establishments (mart_etablissement) located in the communes of the
-- perimeter of `selection_territoire` (territoire_type 'perimetre'), for the list and the map of the report.
-- Grain: one row per (perimeter, establishment). Ordered by groupe (report order, 'autre' last), commune name,
-- establishment name. Run by report/donnees.py for a report's selection.
SELECT s.territoire_code, e.nofinesset, e.nom, e.groupe, e.groupe_libelle, e.categetab, e.libcategetab,
       e.code_commune, e.nom_commune, e.lon, e.lat
FROM (SELECT DISTINCT territoire_code, commune FROM selection_territoire WHERE territoire_type = 'perimetre') s
JOIN mart_etablissement e ON e.code_commune = s.commune
ORDER BY s.territoire_code, e.groupe_ordre, e.nom_commune, e.code_commune, e.nom, e.nofinesset
