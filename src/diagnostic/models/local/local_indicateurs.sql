-- local_indicateurs: the contract rows of a CPTS's local indicators (long format, `_local`: one row per commune
-- of the target COG, indicator and year, see local.py) for the territories of `selection_territoire`.
-- Grain: one row per (territoire_type, territoire_code, indicateur), latest year of each indicator. Counts are
-- summed over the territory's communes; with a denominator on every row, the value is 100 × Σ valeur /
-- Σ denominateur. A territory gets a value only when all its communes are in the file and none is masked.
-- Parameter: $source (the local source id). Not a model of the build: run by local.py (models/local/) for a report's selection.
WITH ind AS (
    SELECT indicateur, any_value(libelle) AS libelle, any_value(unite) AS unite, max(annee) AS annee,
           string_agg(DISTINCT source, ', ') AS producteur,
           bool_and(denominateur IS NOT NULL) AS taux
    FROM _local GROUP BY ALL
),
cov AS (  -- communes of each territory, and how many the file covers
    SELECT territoire_type, territoire_code, any_value(territoire_nom) AS territoire_nom,
           count(*) AS n_communes, count(l.commune) AS n_couvertes
    FROM selection_territoire s LEFT JOIN (SELECT DISTINCT commune FROM _local) l USING (commune)
    GROUP BY ALL
),
agg AS (
    SELECT s.territoire_type, s.territoire_code, l.indicateur,
           sum(l.valeur) AS valeur, sum(l.denominateur) AS denominateur,
           count(DISTINCT l.commune) AS n, bool_or(l.statut = 'secret') AS secret,
           bool_or(l.statut IS NOT NULL) AS masque
    FROM selection_territoire s JOIN _local l USING (commune)
    WHERE l.annee = (SELECT annee FROM ind WHERE ind.indicateur = l.indicateur)
    GROUP BY ALL
)
SELECT c.territoire_type, c.territoire_code, c.territoire_nom, i.indicateur, i.libelle,
       CASE WHEN a.n = c.n_communes AND NOT a.masque THEN
            CASE WHEN i.taux THEN 100 * a.valeur / nullif(a.denominateur, 0) ELSE a.valeur END END AS valeur,
       CASE WHEN i.taux THEN '%' ELSE coalesce(i.unite, '') END AS unite,
       CASE WHEN a.n = c.n_communes AND NOT a.masque THEN a.valeur END AS numerateur,
       CASE WHEN a.n = c.n_communes AND NOT a.masque AND i.taux THEN a.denominateur END AS denominateur,
       i.annee AS millesime, $source AS source,
       CASE WHEN a.n = c.n_communes AND a.secret THEN 'secret'
            WHEN a.n = c.n_communes AND NOT a.masque THEN 'ok' ELSE 'non_disponible' END AS statut,
       i.producteur, i.taux
FROM cov c CROSS JOIN ind i
LEFT JOIN agg a ON a.territoire_type = c.territoire_type AND a.territoire_code = c.territoire_code
               AND a.indicateur = i.indicateur
