-- Prévention: vaccination coverage and participation in organised cancer screening (Santé publique France,
-- Odissé). Input: `selection_territoire`. Grain: one row per (territoire_type, territoire_code, indicateur), for
-- every territory of the selection. Published for départements, régions and France only (screening:
-- départements only): each territory gets the latest year published for its own level (int_prevention_serie);
-- the perimeter (and an EPCI) gets non_disponible: the CPTS is not isolable in open data. A masked value
-- (NC / NS) keeps its status with no value.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
ids(indicateur, source) AS (
    VALUES ('couv_vacc_grippe_65_plus', 'odisse_vaccination_departement'),
           ('couv_vacc_grippe_65_74', 'odisse_vaccination_departement'),
           ('couv_vacc_grippe_75_plus', 'odisse_vaccination_departement'),
           ('couv_vacc_hpv_filles_1dose', 'odisse_vaccination_departement'),
           ('couv_vacc_hpv_filles_2doses', 'odisse_vaccination_departement'),
           ('couv_vacc_hpv_garcons_1dose', 'odisse_vaccination_departement'),
           ('couv_vacc_hpv_garcons_2doses', 'odisse_vaccination_departement'),
           ('couv_vacc_meningo_c_10_14', 'odisse_vaccination_departement'),
           ('couv_vacc_meningo_c_15_19', 'odisse_vaccination_departement'),
           ('couv_vacc_meningo_c_20_24', 'odisse_vaccination_departement'),
           ('particip_depistage_sein', 'odisse_depistage_sein'),
           ('particip_depistage_colorectal', 'odisse_depistage_colorectal')
),
dernier AS (
    SELECT * FROM int_prevention_serie
    QUALIFY row_number() OVER (PARTITION BY indicateur, territoire_type, territoire_code ORDER BY annee DESC) = 1
)
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, i.indicateur,
       d.valeur, NULL AS numerateur, NULL AS denominateur,
       coalesce(d.annee, m.millesime) AS millesime, coalesce(d.source, i.source) AS source,
       coalesce(d.statut, 'non_disponible') AS statut
FROM territoires t
CROSS JOIN ids i
LEFT JOIN dernier d ON d.indicateur = i.indicateur AND d.territoire_type = t.territoire_type
                   AND d.territoire_code = t.territoire_code
LEFT JOIN meta_source m ON m.cle = i.source
