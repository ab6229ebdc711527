-- annuaire_a_verifier: practice sites of the professionals of int_professionnel that the directory cannot place
-- in a commune of the target COG — commune code missing, or unknown to the COG (int_cog_passage) — whose
-- postcode falls in a département of the perimeter of `selection_territoire`: listed apart, with the reason.
-- Grain: one row per (perimeter, professional, site as written). Not a model of the build.
WITH professions(profession, libelle) AS (
    VALUES ('medecin_generaliste', 'Médecin généraliste'), ('specialiste', 'Médecin spécialiste'), ('infirmier', 'Infirmier'),
           ('masseur_kinesitherapeute', 'Masseur-kinésithérapeute'), ('chirurgien_dentiste', 'Chirurgien-dentiste'),
           ('sage_femme', 'Sage-femme'), ('pharmacien', 'Pharmacien')
),
deps AS (
    SELECT DISTINCT s.territoire_code, c.departement
    FROM selection_territoire s JOIN int_commune c ON c.code = s.commune
    WHERE s.territoire_type = 'perimetre'
)
SELECT DISTINCT d.territoire_code, pr.libelle AS profession, a.identifiant, a.civilite_exercice AS civilite, a.nom, a.prenom,
       coalesce(a.enseigne_site, a.raison_sociale_site) AS structure, a.adresse, a.code_postal,
       a.libelle_commune, a.code_commune AS code_commune_fichier,
       CASE WHEN a.code_commune IS NULL THEN 'code commune absent de l''extraction'
            ELSE 'code commune ' || a.code_commune || ' inconnu du COG' END AS motif
FROM stg_rpps_activite a
JOIN int_professionnel p USING (identifiant)
JOIN professions pr ON pr.profession = p.profession
JOIN deps d ON d.departement = CASE WHEN a.code_postal LIKE '97%' THEN left(a.code_postal, 3)
                                    WHEN a.code_postal LIKE '20%' THEN (CASE WHEN a.code_postal < '20200' THEN '2A' ELSE '2B' END)
                                    ELSE left(a.code_postal, 2) END
WHERE a.code_commune IS NULL OR a.code_commune NOT IN (SELECT code_source FROM int_cog_passage)
ORDER BY d.territoire_code, a.code_postal, p.profession, a.nom, a.prenom, a.identifiant
