-- reads: int_cog_passage, int_territoire_commune, stg_filosofi_commune, stg_filosofi_territoire
-- Filosofi (INSEE, revenus et pauvreté) harmonised to the target COG.
-- Grain: int_commune_filosofi one row per commune of the target COG that has at least one row in the file.
--
-- Paris, Lyon and Marseille appear in the file both as communes and as arrondissements municipaux: an
-- arrondissement row is left out when its commune has a row of its own, so each household is counted once.
-- Counts (fiscal households, persons) are summed over the file's rows of a commune, where published.
-- The median standard of living and the poverty rate are never aggregated: a commune gets them only when
-- exactly one row of the file maps to it (a commune merged since the file's geography gets none:
-- statut 'fusionnee'). statut: 'ok', 'secret' (`s`), 'non_disponible' (`nd`), 'fusionnee'.

CREATE OR REPLACE TABLE int_filosofi_lignes AS
SELECT f.*, p.code_commune
FROM stg_filosofi_commune f
JOIN int_cog_passage p ON p.code_source = f.code
WHERE NOT (p.nature = 'arrondissement municipal'
           AND EXISTS (SELECT 1 FROM stg_filosofi_commune c WHERE c.millesime = f.millesime AND c.code = p.code_commune));

CREATE OR REPLACE TABLE int_filosofi_codes_inconnus AS
SELECT f.code FROM stg_filosofi_commune f ANTI JOIN int_cog_passage p ON p.code_source = f.code;

CREATE OR REPLACE TABLE int_commune_filosofi AS
SELECT code_commune AS code, any_value(millesime) AS millesime, count(*) AS nb_lignes,
       sum(nb_menages_fiscaux) AS nb_menages_fiscaux,
       sum(nb_personnes_menages_fiscaux) AS nb_personnes_menages_fiscaux,
       bool_and(statut_effectifs = 'ok') AS effectifs_publies,
       CASE WHEN count(*) = 1 THEN any_value(niveau_vie_median) END AS niveau_vie_median,
       CASE WHEN count(*) = 1 THEN any_value(statut_niveau_vie_median) ELSE 'fusionnee' END AS statut_niveau_vie_median,
       CASE WHEN count(*) = 1 THEN any_value(taux_pauvrete) END AS taux_pauvrete,
       CASE WHEN count(*) = 1 THEN any_value(statut_taux_pauvrete) ELSE 'fusionnee' END AS statut_taux_pauvrete
FROM int_filosofi_lignes
GROUP BY code_commune;

-- int_filosofi_territoire: INSEE's own values for the EPCI, départements and régions of its files, with a check of
-- the territory's composition. Grain: one row per (niveau, code) of the files.
-- The files are in the geography of the commune file (2023): a département or a région has not changed since, an
-- EPCI may have. So an EPCI's values apply to the EPCI of the target COG only when its fiscal households, as
-- INSEE publishes them, equal exactly the sum over its current communes (each published, none missing from the
-- commune file): `composition_verifiee`. Households, not persons: in the genuine commune file the households of
-- Paris, Lyon and Marseille equal the sums over their arrondissements, their persons do not (Paris 1 958 437
-- against 1 958 441, Marseille 773 344 against 773 347: INSEE's rounding). Levels without that check: true.
CREATE OR REPLACE TABLE int_filosofi_territoire AS
WITH communes AS (
    SELECT t.territoire_type AS niveau, t.territoire_code AS code,
           count(*) AS nb_communes,
           count(*) FILTER (WHERE f.code IS NULL) AS nb_absentes,
           count(*) FILTER (WHERE NOT f.effectifs_publies) AS nb_effectifs_secrets,
           sum(f.nb_personnes_menages_fiscaux) AS personnes_communes,
           sum(f.nb_menages_fiscaux) AS menages_communes
    FROM int_territoire_commune t
    LEFT JOIN int_commune_filosofi f ON f.code = t.commune
    WHERE t.territoire_type IN ('epci', 'departement', 'region')
    GROUP BY ALL
)
SELECT s.*, c.nb_communes, c.nb_absentes, c.nb_effectifs_secrets, c.personnes_communes, c.menages_communes,
       CASE WHEN s.niveau <> 'epci' THEN true
            ELSE coalesce(c.nb_absentes = 0 AND c.nb_effectifs_secrets = 0 AND s.statut_effectifs = 'ok'
                          AND c.menages_communes = s.nb_menages_fiscaux, false) END AS composition_verifiee
FROM stg_filosofi_territoire s
LEFT JOIN communes c USING (niveau, code)
WHERE s.millesime = (SELECT max(millesime) FROM stg_filosofi_territoire);
