-- reads: int_cog_passage, stg_finess_etablissement
-- FINESS establishments (FINESS+ structures flux, or the older geolocated extraction etalab-cs1100507: one
-- staging table for both, see sources/finess.py), harmonised to the target COG, with the
-- groupe the report counts. Runs after 01_int_cog_passage.sql ("075_" sorts between "06_" and "07_").

-- int_groupe_etablissement: the groupes, in report order, with their French label. Grain: one row per groupe.
CREATE OR REPLACE TABLE int_groupe_etablissement AS
SELECT * FROM (VALUES
    (1, 'hopital', 'Hôpitaux'),
    (2, 'clinique', 'Cliniques'),
    (3, 'clcc', 'Centres de lutte contre le cancer'),
    (4, 'ehpad', 'EHPAD'),
    (5, 'centre_sante', 'Centres de santé'),
    (6, 'msp', 'Maisons de santé pluriprofessionnelles'),
    (7, 'pharmacie', 'Pharmacies'),
    (8, 'laboratoire', 'Laboratoires de biologie médicale'),
    (9, 'autre', 'Autres établissements')
) t(ordre, groupe, libelle);

-- int_categorie_etablissement: FINESS category (categetab) -> groupe; any other category is 'autre'.
-- Codes and labels checked against the ANS nomenclature TRE_R66 « Catégorie d'établissements » (NOS,
-- version 2026-05-05, FHIR CodeSystem TRE-R66-CategorieEtablissement) and lines of the 2026 extract
-- quoted by third-party code. Confidence: H = code and label read in TRE_R66 or in a verbatim line;
-- M = label read, but the grouping is a choice (category is not legal status).
--   hopital   101 Centre Hospitalier Régional (C.H.R.) — CHU are CHR in FINESS (H); 106 Centre hospitalier,
--             ex Hôpital local (H); 114 Hôpital des armées (H); 292 Centre Hospitalier Spécialisé lutte
--             Maladies Mentales (H, label from third-party lists); 355 Centre Hospitalier (C.H.) (H).
--   clinique  109 Etablissement de santé privé autorisé en SSR (H); 122 Etablissement Soins Obstétriques
--             Chirurgico-Gynécologiques (H); 128 Etablissement de Soins Chirurgicaux (H); 129 Etablissement
--             de Soins Médicaux (H); 365 Etablissement de Soins Pluridisciplinaire (H). Grouping M: these
--             categories also hold private non-profit (ESPIC) establishments; public CH are never there.
--             Not 108: it is « Etablissement de Convalescence et de Repos », closed in 2013 (not CHU).
--   clcc      131 Centre de Lutte Contre Cancer (H).
--   ehpad     500 Etablissement d'hébergement pour personnes âgées dépendantes (H); not 501/502 (EHPA).
--   centre_sante 124 Centre de Santé (H).
--   msp       603 Maison de santé (L.6223-3) (H). 604 is the CPTS (registered as juridical entity and seat
--             only, « pas des structures de soins » in TRE_R66): left in 'autre'.
--   pharmacie 620 Pharmacie d'Officine (H); not 627 propharmacie, 628 minière, 629 mutualiste, 641 antenne.
--   laboratoire 611 Laboratoire de Biologie Médicale (H); 610 Laboratoire d'Analyses, 612 Autre LBM sans
--             FSE (labels H, still active in TRE_R66; grouping M).
CREATE OR REPLACE TABLE int_categorie_etablissement AS
SELECT * FROM (VALUES
    ('101', 'hopital'), ('106', 'hopital'), ('114', 'hopital'), ('292', 'hopital'), ('355', 'hopital'),
    ('109', 'clinique'), ('122', 'clinique'), ('128', 'clinique'), ('129', 'clinique'), ('365', 'clinique'),
    ('131', 'clcc'),
    ('500', 'ehpad'),
    ('124', 'centre_sante'),
    ('603', 'msp'),
    ('620', 'pharmacie'),
    ('610', 'laboratoire'), ('611', 'laboratoire'), ('612', 'laboratoire')
) t(categetab, groupe);

-- int_etablissement: FINESS establishments located in a commune of the target COG. Grain: one row per
-- establishment (nofinesset, a geographic site: a hospital with three sites has three rows). `code` =
-- commune of the target COG (an arrondissement or a former commune code is mapped by int_cog_passage),
-- `code_source` = the code built from the file. `nom` = raison sociale (long one when the short is empty).
CREATE OR REPLACE TABLE int_etablissement AS
SELECT e.nofinesset, e.nofinessej,
       coalesce(e.rs, e.rslongue) AS nom,
       e.rslongue AS nom_long,
       coalesce(c.groupe, 'autre') AS groupe,
       e.categetab, e.libcategetab, e.categagretab, e.libcategagretab,
       p.code_commune AS code,
       e.code_commune AS code_source,
       e.dateouv, e.x, e.y, e.epsg, e.lon, e.lat,
       e.adresse, e.code_postal, e.ligne_acheminement, e.telephone, e.nom_ej
FROM stg_finess_etablissement e
JOIN int_cog_passage p ON p.code_source = e.code_commune
LEFT JOIN int_categorie_etablissement c ON c.categetab = e.categetab;

-- int_commune_etablissements: establishments per commune and groupe (each establishment is in one commune:
-- commune counts add up). Grain: one row per (code, groupe).
CREATE OR REPLACE TABLE int_commune_etablissements AS
SELECT code, groupe, count(*) AS nb
FROM int_etablissement
GROUP BY ALL;

-- Establishments whose commune code matches no commune of the target COG (empty codes left out).
CREATE OR REPLACE TABLE int_finess_codes_inconnus AS
SELECT e.code_commune AS code, count(*) AS nb_lignes, count(DISTINCT e.nofinesset) AS nb_etablissements
FROM stg_finess_etablissement e
ANTI JOIN int_cog_passage p ON p.code_source = e.code_commune
WHERE e.code_commune IS NOT NULL
GROUP BY ALL;
