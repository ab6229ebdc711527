-- reads:
-- Groups of the directory of actors (annuaire.xlsx, « Acteurs du territoire »): the groups of
-- int_groupe_etablissement, with the establishments they leave in 'autre' sorted into medico-social and
-- social groups, and the label of each category the flux does not carry (FINESS+ gives the code only).
-- Runs after 075_int_etablissements.sql ("076_" sorts between "075_" and "07_").
-- Labels: DREES nomenclature « Catégories ouvertes - Caractéristiques » (data.gouv « FINESS - Extraction des
-- principales nomenclatures », situation au 01-06-2021), as transcribed in
-- github:mThorlak/observatoire-offre-medicosociale-enfance@a594ebc0 referentiels/nomenclature_categorie_finess.csv,
-- and ANS TRE_R66 for the codes of 075_int_etablissements.sql. Grouping: a choice, stated here.

-- int_annuaire_groupe: the directory's groups in sheet order. Grain: one row per groupe.
CREATE OR REPLACE TABLE int_annuaire_groupe AS
SELECT * FROM (VALUES
    (1, 'hopital', 'Hôpitaux'),
    (2, 'clinique', 'Cliniques'),
    (3, 'clcc', 'Centres de lutte contre le cancer'),
    (4, 'had', 'Hospitalisation à domicile'),
    (5, 'ehpad', 'EHPAD'),
    (6, 'personnes_agees', 'Autres structures pour personnes âgées'),
    (7, 'centre_sante', 'Centres de santé'),
    (8, 'msp', 'Maisons de santé pluriprofessionnelles'),
    (9, 'pharmacie', 'Pharmacies'),
    (10, 'laboratoire', 'Laboratoires de biologie médicale'),
    (11, 'domicile', 'Soins et aide à domicile (SSIAD, SAAD, SPASAD)'),
    (12, 'sante_mentale', 'Santé mentale (CMP, CATTP, CMPP)'),
    (13, 'addictologie', 'Addictologie (CSAPA, CAARUD)'),
    (14, 'pmi', 'Protection maternelle et infantile (consultations)'),
    (15, 'handicap', 'Établissements et services pour personnes handicapées'),
    (16, 'social', 'Hébergement et accompagnement social'),
    (17, 'autre', 'Autres structures')
) t(ordre, groupe, libelle);

-- int_annuaire_categorie: category -> label, and the directory group of categories int_categorie_etablissement
-- leaves in 'autre' (NULL: the groupe of int_etablissement is kept). Grain: one row per categetab.
CREATE OR REPLACE TABLE int_annuaire_categorie AS
SELECT * FROM (VALUES
    ('101', NULL, 'Centre Hospitalier Régional (C.H.R.)'),
    ('106', NULL, 'Centre hospitalier, ex Hôpital local'),
    ('109', NULL, 'Etablissement de santé privé autorisé en SSR'),
    ('124', NULL, 'Centre de Santé'),
    ('127', 'had', 'Hospitalisation à Domicile'),
    ('156', 'sante_mentale', 'Centre Médico-Psychologique (C.M.P.)'),
    ('165', 'social', 'Appartement de Coordination Thérapeutique (A.C.T.)'),
    ('166', 'social', 'Etablissement d''Accueil Mère-Enfant'),
    ('177', 'social', 'Maison d''Enfants à Caractère Social'),
    ('178', 'addictologie', 'Centre d''Accueil et d''Accompagnement à la Réduction des risques pour Usagers de Drogues (C.A.A.R.U.D.)'),
    ('182', 'handicap', 'Service d''Éducation Spéciale et de Soins à Domicile'),
    ('183', 'handicap', 'Institut Médico-Educatif (I.M.E.)'),
    ('189', 'sante_mentale', 'Centre Médico-Psycho-Pédagogique (C.M.P.P.)'),
    ('190', 'handicap', 'Centre Action Médico-Sociale Précoce (C.A.M.S.P.)'),
    ('197', 'addictologie', 'Centre de soins, d''accompagnement et de prévention en addictologie (CSAPA)'),
    ('202', 'personnes_agees', 'Résidences autonomie'),
    ('209', 'domicile', 'Service Polyvalent Aide et Soins A Domicile (S.P.A.S.A.D.)'),
    ('214', 'social', 'Centre Hébergement & Réinsertion Sociale (C.H.R.S.)'),
    ('219', 'social', 'Autre Centre d''Accueil'),
    ('230', 'pmi', 'Etablissement Consultation Protection Infantile'),
    ('246', 'handicap', 'Etablissement et Service d''Aide par le Travail (E.S.A.T.)'),
    ('255', 'handicap', 'Maison d''Accueil Spécialisée (M.A.S.)'),
    ('258', 'social', 'Maisons Relais - Pensions de Famille'),
    ('292', NULL, 'Centre Hospitalier Spécialisé lutte Maladies Mentales'),
    ('354', 'domicile', 'Service de Soins Infirmiers A Domicile (S.S.I.A.D)'),
    ('355', NULL, 'Centre Hospitalier (C.H.)'),
    ('365', NULL, 'Etablissement de Soins Pluridisciplinaire'),
    ('382', 'handicap', 'Foyer de Vie pour Adultes Handicapés'),
    ('425', 'sante_mentale', 'Centre d''Accueil Thérapeutique à temps partiel (C.A.T.T.P.)'),
    ('437', 'handicap', 'Foyer d''Accueil Médicalisé pour Adultes Handicapés (F.A.M.)'),
    ('443', 'social', 'Centre Accueil Demandeurs Asile (C.A.D.A.)'),
    ('445', 'handicap', 'Service d''accompagnement médico-social adultes handicapés'),
    ('446', 'handicap', 'Service d''Accompagnement à la Vie Sociale (S.A.V.S.)'),
    ('448', 'handicap', 'Etablissement d''Accueil Médicalisé en tout ou partie personnes handicapées'),
    ('449', 'handicap', 'Etablissement d''Accueil Non Médicalisé pour personnes handicapées'),
    ('460', 'domicile', 'Service d''Aide et d''Accompagnement à Domicile (S.A.A.D.)'),
    ('500', NULL, 'Etablissement d''hébergement pour personnes âgées dépendantes'),
    ('603', NULL, 'Maison de santé (L.6223-3)'),
    ('611', NULL, 'Laboratoire de Biologie Médicale'),
    ('620', NULL, 'Pharmacie d''Officine')
) t(categetab, groupe, libelle);
