-- annuaire_professionnels: the health professionals of the perimeter of `selection_territoire`
-- (territoire_type 'perimetre') at each of their practice sites, for the directory of actors. The same
-- professionals as the offer-of-care indicators (int_professionnel: the six professions, a doctor counted when
-- a savoir-faire is published), their sites' communes harmonised to the target COG (int_cog_passage: a former
-- commune code or an arrondissement is mapped to its commune). Duplicated rows of the extract fall into one.
-- Grain: one row per (perimeter, professional, practice site); a site is (commune, site name, address, postcode).
-- `nb_sites`: the professional's practice sites in the whole extract (any commune). Not a model of the build.
WITH professions(profession, ordre, libelle) AS (
    VALUES ('medecin_generaliste', 1, 'Médecin généraliste'), ('specialiste', 2, 'Médecin spécialiste'),
           ('infirmier', 3, 'Infirmier'), ('masseur_kinesitherapeute', 4, 'Masseur-kinésithérapeute'),
           ('chirurgien_dentiste', 5, 'Chirurgien-dentiste'), ('sage_femme', 6, 'Sage-femme'),
           ('pharmacien', 7, 'Pharmacien')
),
sites AS (
    SELECT identifiant,
           count(DISTINCT coalesce(code_commune, '') || '|' || coalesce(raison_sociale_site, '') || '|'
                 || coalesce(adresse, '') || '|' || coalesce(code_postal, '')) AS nb_sites
    FROM stg_rpps_activite
    GROUP BY identifiant
),
activite AS (
    SELECT a.*, p.profession, c.code_commune AS code
    FROM stg_rpps_activite a
    JOIN int_professionnel p USING (identifiant)
    JOIN int_cog_passage c ON c.code_source = a.code_commune
),
perimetre AS (SELECT DISTINCT territoire_code, commune FROM selection_territoire WHERE territoire_type = 'perimetre')
SELECT s.territoire_code,
       a.profession,
       pr.ordre AS profession_ordre,
       pr.libelle AS profession_libelle,
       string_agg(DISTINCT a.libelle_savoir_faire, ' ; ' ORDER BY a.libelle_savoir_faire) AS savoir_faire,
       CASE WHEN bool_or(a.code_mode_exercice = 'L') AND bool_or(a.code_mode_exercice = 'S') THEN 'Mixte (libéral et salarié)'
            ELSE string_agg(DISTINCT a.libelle_mode_exercice, ' ; ' ORDER BY a.libelle_mode_exercice) END AS mode_exercice,
       a.identifiant,
       any_value(a.civilite_exercice) AS civilite,
       any_value(a.nom) AS nom,
       any_value(a.prenom) AS prenom,
       si.nb_sites,
       coalesce(a.enseigne_site, a.raison_sociale_site) AS structure,
       a.raison_sociale_site,
       min(a.finess_site) AS finess_site,
       a.adresse,
       a.code_postal,
       a.code AS code_commune,
       c.nom AS nom_commune,
       min(a.code_commune) FILTER (WHERE a.code_commune <> a.code) AS code_commune_fichier,
       min(a.telephone) AS telephone,
       min(a.telephone_2) AS telephone_2,
       min(a.email) AS email
FROM perimetre s
JOIN activite a ON a.code = s.commune
JOIN professions pr ON pr.profession = a.profession
JOIN sites si ON si.identifiant = a.identifiant
LEFT JOIN int_commune c ON c.code = a.code
GROUP BY s.territoire_code, a.profession, pr.ordre, pr.libelle, a.identifiant, si.nb_sites, a.enseigne_site,
         a.raison_sociale_site, a.adresse, a.code_postal, a.code, c.nom
ORDER BY s.territoire_code, c.nom, a.code, pr.ordre, nom, prenom, a.identifiant, structure, a.adresse
