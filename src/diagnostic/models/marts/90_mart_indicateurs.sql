-- mart_indicateurs: the indicateurs.csv contract, computed from commune grain for any set of territories.
-- Every 9x_mart_indicateurs*.sql returns the rows of the contract without label and unit (contrat.LIGNE), which
-- the `contrat` macro (00_macros.sql) takes from the catalogue; a missing value makes the statut non_disponible.
-- Input: `selection_territoire` (territoire_type, territoire_code, territoire_nom, commune), one row per
-- (territory, commune). The same query serves the perimeter and its comparators: counts are summed,
-- then divided; rates are never summed. Sums of decimals are exact (somme_exacte, 00_macros.sql), so that a
-- territory gets bit-identical figures whichever selection it is computed in (single diagnostic or batch).
-- Grain: one row per (territoire_type, territoire_code, indicateur).
WITH millesime AS (
    SELECT
        max(millesime) FILTER (WHERE cle = 'cog') AS cog,
        max(millesime) FILTER (WHERE cle = 'contours') AS contours,
        max(millesime) FILTER (WHERE cle = 'apl_mg') AS apl,
        max(millesime) FILTER (WHERE cle = 'apl_mg_prec') AS apl_prec
    FROM meta_source
),
agg AS (
    SELECT s.territoire_type, s.territoire_code, any_value(s.territoire_nom) AS territoire_nom,
           count(*) AS nb_communes,
           -- population municipale: the populations légales (PMUN, equal to the COG file's figure), the COG
           -- file for a commune they lack (Mayotte) or when the source is unavailable; the source says which
           sum(coalesce(pl.population_municipale, c.population)) AS population,
           count(pl.code) AS nb_communes_poplegale,
           somme_exacte(c.superficie_km2) AS superficie_km2,
           count(c.superficie_km2) AS nb_communes_avec_contour,
           sum(c.population) FILTER (WHERE c.superficie_km2 IS NOT NULL) AS population_avec_contour,
           somme_exacte(c.apl_mg * c.apl_pop_standardisee) AS apl_num,
           somme_exacte(CASE WHEN c.apl_mg IS NOT NULL THEN c.apl_pop_standardisee END) AS apl_den,
           somme_exacte(c.apl_mg_prec * c.apl_pop_standardisee_prec) AS apl_prec_num,
           somme_exacte(CASE WHEN c.apl_mg_prec IS NOT NULL THEN c.apl_pop_standardisee_prec END) AS apl_prec_den,
           somme_exacte(c.apl_pop_inf_2_5) AS apl_pop_inf,
           somme_exacte(c.apl_pop_totale) AS apl_pop_tot
    FROM selection_territoire s
    JOIN int_commune c ON c.code = s.commune
    LEFT JOIN int_commune_population_legale pl ON pl.code = c.code
    GROUP BY s.territoire_type, s.territoire_code
),
long AS (
    SELECT a.*, i.* FROM agg a, millesime m,
    LATERAL (VALUES
        ('nb_communes', nb_communes::DOUBLE, NULL::DOUBLE, NULL::DOUBLE, m.cog, 'cog', 'ok'),
        ('population', population::DOUBLE, NULL, NULL, m.cog,
            CASE WHEN nb_communes_poplegale = nb_communes THEN 'poplegale'
                 WHEN nb_communes_poplegale > 0 THEN 'poplegale+cog' ELSE 'cog' END, 'ok'),
        ('superficie_km2', superficie_km2, NULL, NULL, m.contours, 'contours',
            CASE WHEN nb_communes_avec_contour = nb_communes THEN 'ok' ELSE 'estimation' END),
        ('densite_population', population_avec_contour / superficie_km2, population_avec_contour::DOUBLE, superficie_km2,
            m.cog, 'cog+contours', 'ok'),
        ('apl_mg', apl_num / apl_den, apl_num, apl_den, m.apl, 'apl_mg', 'ok'),
        ('apl_mg_prec', apl_prec_num / apl_prec_den, apl_prec_num, apl_prec_den, m.apl_prec, 'apl_mg', 'ok'),
        ('evol_apl_mg', apl_num / apl_den - apl_prec_num / apl_prec_den, NULL, NULL, m.apl_prec || '-' || m.apl, 'apl_mg', 'ok'),
        ('part_pop_apl_mg_inf_2_5', 100 * apl_pop_inf / apl_pop_tot, apl_pop_inf, apl_pop_tot, m.apl, 'apl_mg', 'ok')
    ) AS i(indicateur, valeur, numerateur, denominateur, millesime, source, statut)
)
SELECT territoire_type, territoire_code, territoire_nom, indicateur, valeur, numerateur, denominateur, millesime,
       source, statut
FROM long
