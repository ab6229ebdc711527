-- Health professionals (Annuaire Santé / RPPS), APL to the other professions (DREES), share of GPs aged
-- 60 and over (ameli). Input: `selection_territoire`. Grain: one row per (territoire_type,
-- territoire_code, indicateur), for every territory of the selection.
--   * nb_<profession>: DISTINCT practitioners with at least one activity in a commune of the territory
--     (never a sum of commune counts: a practitioner with sites in two communes of the territory counts
--     once; one with sites in two territories counts once in each).
--   * densite_<profession>_10000: that count per 10 000 inhabitants (population municipale of the
--     communes file, as the `population` indicator).
--   * apl_<profession>: APL averaged with the standardised population as weight (as apl_mg).
--   * part_mg_60_ans_et_plus: published for départements, régions and France only; other territories
--     get non_disponible.
-- A source that is not available (empty staging table) gives non_disponible, never 0.
WITH millesime AS (
    SELECT max(millesime) FILTER (WHERE cle = 'rpps') AS rpps,
           max(millesime) FILTER (WHERE cle = 'cog') AS cog,
           max(millesime) FILTER (WHERE cle = 'apl_autres') AS apl,
           max(millesime) FILTER (WHERE cle = 'ameli_demographie') AS demographie
    FROM meta_source
),
territoires AS (SELECT * FROM territoires_de('selection_territoire')),
professions(profession, suffixe) AS (
    VALUES ('medecin_generaliste', 'mg'), ('specialiste', 'specialistes'), ('infirmier', 'infirmiers'),
           ('masseur_kinesitherapeute', 'kines'), ('chirurgien_dentiste', 'dentistes'),
           ('sage_femme', 'sages_femmes'), ('pharmacien', 'pharmaciens')
),
rpps_disponible AS (SELECT count(*) > 0 AS ok FROM stg_rpps_activite),
population AS (
    SELECT s.territoire_type, s.territoire_code, sum(c.population) AS population
    FROM selection_territoire s
    JOIN int_commune c ON c.code = s.commune
    GROUP BY ALL
),
effectifs AS (
    SELECT s.territoire_type, s.territoire_code, p.profession, count(DISTINCT p.identifiant) AS nb
    FROM selection_territoire s
    JOIN int_commune_professionnel p ON p.code = s.commune
    GROUP BY ALL
),
rpps AS (
    SELECT t.territoire_type, t.territoire_code, t.territoire_nom, pr.suffixe,
           CASE WHEN d.ok THEN coalesce(e.nb, 0) END::DOUBLE AS nb,
           pop.population::DOUBLE AS population
    FROM territoires t
    CROSS JOIN professions pr
    CROSS JOIN rpps_disponible d
    LEFT JOIN effectifs e ON e.territoire_type = t.territoire_type AND e.territoire_code = t.territoire_code
                         AND e.profession = pr.profession
    LEFT JOIN population pop ON pop.territoire_type = t.territoire_type AND pop.territoire_code = t.territoire_code
),
apl_professions(profession) AS (VALUES ('infirmiers'), ('kines'), ('sages_femmes'), ('dentistes')),
apl AS (
    SELECT s.territoire_type, s.territoire_code, a.profession,
           somme_exacte(a.apl * a.pop_standardisee) AS num,
           somme_exacte(CASE WHEN a.apl IS NOT NULL THEN a.pop_standardisee END) AS den
    FROM selection_territoire s
    JOIN int_commune_apl_autres a ON a.code = s.commune AND a.millesime = (SELECT apl FROM millesime)
    GROUP BY ALL
),
long AS (
    SELECT territoire_type, territoire_code, territoire_nom, 'nb_' || suffixe AS indicateur, nb AS valeur,
           NULL::DOUBLE AS numerateur, NULL::DOUBLE AS denominateur, m.rpps AS millesime, 'rpps' AS source,
           NULL::VARCHAR AS statut_source
    FROM rpps, millesime m
    UNION ALL
    SELECT territoire_type, territoire_code, territoire_nom, 'densite_' || suffixe || '_10000',
           10000 * nb / nullif(population, 0), nb, population, m.rpps || ' (population ' || m.cog || ')', 'rpps+cog', NULL
    FROM rpps, millesime m
    UNION ALL
    SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'apl_' || p.profession,
           a.num / nullif(a.den, 0), a.num, a.den, m.apl, 'apl_autres', NULL
    FROM territoires t
    CROSS JOIN apl_professions p
    CROSS JOIN millesime m
    LEFT JOIN apl a ON a.territoire_type = t.territoire_type AND a.territoire_code = t.territoire_code
                   AND a.profession = p.profession
    UNION ALL
    SELECT t.territoire_type, t.territoire_code, t.territoire_nom, 'part_mg_60_ans_et_plus',
           CASE WHEN g.coupure_60 AND g.statut_masque IS NULL THEN 100 * g.effectif_60_plus / nullif(g.effectif_total, 0) END,
           CASE WHEN g.statut_masque IS NULL THEN g.effectif_60_plus END,
           CASE WHEN g.statut_masque IS NULL THEN g.effectif_total END,
           coalesce(g.annee, m.demographie), 'ameli_demographie', g.statut_masque
    FROM territoires t
    CROSS JOIN millesime m
    LEFT JOIN int_ameli_mg_age g ON g.territoire_type = t.territoire_type AND g.territoire_code = t.territoire_code
)
SELECT * EXCLUDE (statut_source), coalesce(statut_source, 'ok') AS statut
FROM long
