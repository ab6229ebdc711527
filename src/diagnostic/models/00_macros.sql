-- somme_exacte(x): the sum of a DOUBLE column, computed exactly and so independent of the order of the rows.
-- A floating-point sum's last bit follows the order in which DuckDB's threads add the rows; summing the
-- values rounded to 1e-9 as DECIMAL(18, 9) (64-bit integers, added in 128 bits) gives the same figure
-- whatever the plan, so a territory's figures are bitwise equal in its own diagnostic and in the batch.
-- Bound: |x| < 1e9 per row (a larger value stops the build with a cast error, never a wrong figure).
-- Integer columns (population municipale, counts) are summed with sum(): already exact.
CREATE OR REPLACE MACRO somme_exacte(x) AS sum(x::DECIMAL(18, 9))::DOUBLE;

-- bande_derivee(x): a census population obtained by difference of weighted counts (e.g. 60-64 = 15-64 - 15-29 -
-- 30-44 - 45-59): 0 for a tiny negative left by the weights' rounding, NULL (cell missing) below -0.5, where the
-- variables disagree and no figure may use the band.
CREATE OR REPLACE MACRO bande_derivee(x) AS CASE WHEN x >= 0 THEN x WHEN x > -0.5 THEN 0.0 END;

-- seuil(nom): a threshold of pipelines/diagnostic.toml (table meta_seuil, written by the build from the
-- configuration): never write a threshold's figure in a model.
CREATE OR REPLACE MACRO seuil(nom) AS (SELECT valeur FROM meta_seuil WHERE cle = nom);

-- statut_publie(statut, valeur): the status of a figure as published: the provider's mask (secret,
-- non_disponible) when the row has one, else non_disponible for a missing value, else ok.
CREATE OR REPLACE MACRO statut_publie(statut, valeur) AS
    CASE WHEN statut IS NOT NULL THEN statut WHEN valeur IS NULL OR isnan(valeur) THEN 'non_disponible' ELSE 'ok' END;

-- statut_contrat(statut, valeur): a computed figure (ok, estimation) without a value is non_disponible; any
-- other status is kept. Applied to every indicator row by contrat() below: a mart need not repeat it.
CREATE OR REPLACE MACRO statut_contrat(statut, valeur) AS
    CASE WHEN statut IN ('ok', 'estimation') AND (valeur IS NULL OR isnan(valeur)) THEN 'non_disponible' ELSE statut END;

-- territoires_de(selection): the territories of a selection (territoire_type, territoire_code, territoire_nom,
-- commune; by name, e.g. 'selection_territoire'). Grain: one row per (territoire_type, territoire_code).
CREATE OR REPLACE MACRO territoires_de(selection) AS TABLE
    SELECT territoire_type, territoire_code, any_value(territoire_nom) AS territoire_nom
    FROM query_table(selection)
    GROUP BY ALL;

-- contrat(lignes): the indicateurs.csv contract (diagnostic/contrat.py COLONNES, in that order) from the rows of
-- the indicator marts (by name: territoire_type, territoire_code, territoire_nom, indicateur, valeur, numerateur,
-- denominateur, millesime, source, statut). Label and unit come from the catalogue (ref_indicateur), plus its
-- `ordre` for sorting; an id missing from the catalogue keeps its row with no label (the build stops on it).
CREATE OR REPLACE MACRO contrat(lignes) AS TABLE
    SELECT l.territoire_type, l.territoire_code, l.territoire_nom, l.indicateur, r.libelle,
           l.valeur::DOUBLE AS valeur, r.unite, l.numerateur::DOUBLE AS numerateur,
           l.denominateur::DOUBLE AS denominateur, l.millesime::VARCHAR AS millesime, l.source,
           statut_contrat(l.statut, l.valeur::DOUBLE) AS statut, r.ordre
    FROM query_table(lignes) l
    LEFT JOIN ref_indicateur r ON r.indicateur = l.indicateur;
