-- Situation sociale (RP 2021) and crude death rate (état civil, deaths by commune of residence, five pooled
-- years) from INSEE's Dossier complet. Input: `selection_territoire`. Grain: one row per (territoire_type,
-- territoire_code, indicateur), for every territory of the selection. Numerators and denominators are summed
-- over the communes (weighted, fractional, never rounded) then divided; a territory with a commune missing from
-- the file, or a missing cell, is non_disponible. Crude death rate = deaths of the pooled years / (years x
-- census population) x 1 000; under the threshold `deces_min` of pipelines/diagnostic.toml it is withheld. Weighted
-- counts are summed with somme_exacte: a floating-point sum over thousands of communes would depend on the order.
WITH territoires AS (SELECT * FROM territoires_de('selection_territoire')),
m AS (SELECT max(millesime) AS millesime FROM meta_source WHERE cle = 'dossier_complet'),
agg AS (
    SELECT s.territoire_type, s.territoire_code, count(*) = count(d.code) AS complet,
           any_value(d.annees_deces) AS annees_deces,
           somme_exacte(d.population) AS population, count(d.population) = count(*) AS ok_pop,
           somme_exacte(d.pop_80p) AS pop_80p, somme_exacte(d.pop_80p_seule) AS pop_80p_seule,
           count(d.pop_80p) = count(*) AND count(d.pop_80p_seule) = count(*) AS ok_80p,
           somme_exacte(d.familles) AS familles, somme_exacte(d.familles_monoparentales) AS mono,
           count(d.familles) = count(*) AND count(d.familles_monoparentales) = count(*) AS ok_fam,
           somme_exacte(d.actifs_1564) AS actifs, somme_exacte(d.chomeurs_1564) AS chomeurs,
           count(d.actifs_1564) = count(*) AND count(d.chomeurs_1564) = count(*) AS ok_chom,
           somme_exacte(d.nscol_15p) AS nscol, somme_exacte(d.nscol_15p_peu_diplomes) AS peu_dipl,
           count(d.nscol_15p) = count(*) AND count(d.nscol_15p_peu_diplomes) = count(*) AS ok_dipl,
           sum(d.deces) AS deces, count(d.deces) = count(*) AS ok_deces
    FROM selection_territoire s
    LEFT JOIN int_commune_dossier_complet d ON d.code = s.commune
    GROUP BY ALL
),
valeurs AS (
    SELECT territoire_type, territoire_code, 'part_80_ans_et_plus_seuls' AS indicateur, pop_80p_seule AS num,
           pop_80p AS den, 100.0 AS facteur, complet AND ok_80p AS ok, NULL::VARCHAR AS millesime_propre FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'part_familles_monoparentales', mono, familles, 100.0, complet AND ok_fam, NULL FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'taux_chomage_15_64', chomeurs, actifs, 100.0, complet AND ok_chom, NULL FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'part_peu_diplomes_15_plus', peu_dipl, nscol, 100.0, complet AND ok_dipl, NULL FROM agg
    UNION ALL
    SELECT territoire_type, territoire_code, 'taux_mortalite_brut', deces,
           population * (1 + split_part(annees_deces, '-', 2)::INTEGER - split_part(annees_deces, '-', 1)::INTEGER),
           1000.0, complet AND ok_deces AND ok_pop, annees_deces FROM agg
),
statuts AS (
    SELECT *, CASE WHEN NOT coalesce(ok, false) OR den IS NULL OR den <= 0 THEN 'non_disponible'
                   WHEN indicateur = 'taux_mortalite_brut' AND num < seuil('deces_min') THEN 'secret'
                   ELSE 'ok' END AS statut
    FROM valeurs
)
SELECT t.territoire_type, t.territoire_code, t.territoire_nom, v.indicateur,
       CASE WHEN v.statut = 'ok' THEN v.facteur * v.num / v.den END AS valeur,
       CASE WHEN v.statut = 'ok' THEN v.num END AS numerateur,
       CASE WHEN v.statut = 'ok' THEN v.den END AS denominateur,
       coalesce(v.millesime_propre, (SELECT millesime FROM m)) AS millesime, 'dossier_complet' AS source, v.statut
FROM territoires t
JOIN statuts v USING (territoire_type, territoire_code)
