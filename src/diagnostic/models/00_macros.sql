-- somme_exacte(x): the sum of a DOUBLE column, computed exactly and so independent of the order of the rows.
-- A floating-point sum's last bit follows the order in which DuckDB's threads add the rows; summing the
-- values rounded to 1e-9 as DECIMAL(18, 9) (64-bit integers, added in 128 bits) gives the same figure
-- whatever the plan, so a territory's figures are bitwise equal in its own diagnostic and in the batch.
-- Bound: |x| < 1e9 per row (a larger value stops the build with a cast error, never a wrong figure).
-- Integer columns (population municipale, counts) are summed with sum(): already exact.
CREATE OR REPLACE MACRO somme_exacte(x) AS sum(x::DECIMAL(18, 9))::DOUBLE;
