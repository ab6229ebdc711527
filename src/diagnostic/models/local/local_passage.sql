-- reads: int_cog_passage
-- local_passage: the commune of the target COG of each commune code of a CPTS's local file (`_codes`:
-- code_source), through int_cog_passage (former codes, communes déléguées, arrondissements); NULL when the
-- code is unknown (local.py stops on it). Grain: one row per code of the file. Run by local.py (a query of
-- models/local/, not a model of the build).
SELECT c.code_source, p.code_commune FROM _codes c LEFT JOIN int_cog_passage p USING (code_source)
