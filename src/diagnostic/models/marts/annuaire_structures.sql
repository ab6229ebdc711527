-- annuaire_structures: the FINESS establishments and services of the perimeter of `selection_territoire`
-- (territoire_type 'perimetre') for the directory of actors. Open establishments only (the parser leaves the
-- closed ones out), commune of the geographic address harmonised to the target COG (int_cog_passage).
-- Grain: one row per (perimeter, establishment). Ordered by commune name, group, name. Not a model of the
-- build: run for a report's selection.
SELECT s.territoire_code,
       g.ordre AS groupe_ordre,
       coalesce(a.groupe, e.groupe) AS groupe,
       g.libelle AS groupe_libelle,
       e.categetab,
       coalesce(e.libcategetab, a.libelle) AS libelle_categorie,
       e.nom,
       e.nom_long,
       e.nofinesset,
       e.nofinessej,
       e.nom_ej,
       e.adresse,
       e.code_postal,
       e.code AS code_commune,
       c.nom AS nom_commune,
       e.telephone,
       e.dateouv,
       e.lon,
       e.lat
FROM (SELECT DISTINCT territoire_code, commune FROM selection_territoire WHERE territoire_type = 'perimetre') s
JOIN int_etablissement e ON e.code = s.commune
LEFT JOIN int_annuaire_categorie a ON a.categetab = e.categetab
JOIN int_annuaire_groupe g ON g.groupe = coalesce(a.groupe, e.groupe)
LEFT JOIN int_commune c ON c.code = e.code
ORDER BY s.territoire_code, c.nom, e.code, g.ordre, e.nom, e.nofinesset
