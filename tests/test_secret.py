"""Secret statistique on a hand-made indicator table (invented counts): masking after aggregation,
secondary suppression, derived indicators; and a proof that no masked count can be recomputed."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from diagnostic import secret

CATALOGUE = pd.DataFrame(
    [
        ("nb_mg", "professionnels", "ps", False, None),
        ("nb_infirmiers", "professionnels", "ps", False, None),
        ("nb_kines", "professionnels", "ps", False, None),
        ("nb_sages_femmes", "professionnels", "ps", False, None),
        ("nb_ps_total", "professionnels", "ps", True, None),
        ("densite_mg_10000", None, None, None, "nb_mg"),
        ("nb_patients_diabete", "patients", None, None, None),
        ("population", None, None, None, None),
    ],
    columns=["indicateur", "secret", "groupe", "total", "secret_de"],
)


def table(rows):
    df = pd.DataFrame(rows, columns=["territoire_type", "territoire_code", "indicateur", "valeur", "numerateur"])
    return df.assign(statut="ok", denominateur=np.nan)


def value(df, code, ind):
    return df[(df.territoire_code == code) & (df.indicateur == ind)].iloc[0]


@pytest.fixture
def published():
    rows = []
    counts = {
        "P1": {"nb_mg": 3, "nb_infirmiers": 20, "nb_kines": 7, "nb_sages_femmes": 12},   # one under 5
        "P2": {"nb_mg": 2, "nb_infirmiers": 1, "nb_kines": 9, "nb_sages_femmes": 15},    # two under 5
        "P3": {"nb_mg": 0, "nb_infirmiers": 30, "nb_kines": 8, "nb_sages_femmes": 6},    # zero is not secret
        "71": {"nb_mg": 400, "nb_infirmiers": 900, "nb_kines": 300, "nb_sages_femmes": 4},  # one under 5, big total
    }
    for code, c in counts.items():
        for ind, v in c.items():
            rows.append(("perimetre" if code.startswith("P") else "departement", code, ind, v, np.nan))
        rows.append(("perimetre" if code.startswith("P") else "departement", code, "nb_ps_total", sum(c.values()), np.nan))
        rows.append(("perimetre" if code.startswith("P") else "departement", code, "densite_mg_10000", c["nb_mg"] / 2.0, c["nb_mg"]))
        rows.append(("perimetre" if code.startswith("P") else "departement", code, "population", 20000, np.nan))
    rows.append(("perimetre", "P1", "nb_patients_diabete", 10, np.nan))
    rows.append(("perimetre", "P2", "nb_patients_diabete", 11, np.nan))
    return secret.apply(table(rows), CATALOGUE, {"professionnels": 5, "patients": 11})


def test_primary_threshold(published):
    assert value(published, "P1", "nb_mg").statut == "secret" and np.isnan(value(published, "P1", "nb_mg").valeur)
    assert value(published, "P1", "nb_infirmiers").valeur == 20
    assert value(published, "P3", "nb_mg").statut == "ok"  # 0 is published
    assert value(published, "P1", "nb_patients_diabete").statut == "secret"  # 10 < 11
    assert value(published, "P2", "nb_patients_diabete").valeur == 11


def test_secondary_suppression(published):
    # P1: nb_mg masked alone -> the smallest other member (nb_kines = 7) is masked too; total stays.
    assert value(published, "P1", "nb_kines").statut == "secret"
    assert value(published, "P1", "nb_sages_femmes").valeur == 12
    assert value(published, "P1", "nb_ps_total").valeur == 42
    # P2: two members masked already: nothing more to hide
    assert value(published, "P2", "nb_kines").valeur == 9
    # département: sages-femmes = 4 masked, kinés (300) masked as the smallest other member
    assert value(published, "71", "nb_kines").statut == "secret"


def test_derived_indicators_masked(published):
    d = value(published, "P1", "densite_mg_10000")
    assert d.statut == "secret" and np.isnan(d.valeur) and np.isnan(d.numerateur)
    assert value(published, "P3", "densite_mg_10000").valeur == 0


def test_no_masked_count_can_be_recomputed(published):
    """For every territory: the published total minus the published members leaves at least two unknowns
    whenever anything is masked; no masked count is left in a numerator of another row."""
    members = CATALOGUE[CATALOGUE.groupe.eq("ps") & CATALOGUE.total.eq(False)].indicateur.tolist()
    for code, rows in published.groupby("territoire_code"):
        cells = rows.set_index("indicateur")
        hidden = [m for m in members if cells.loc[m, "statut"] == "secret"]
        assert len(hidden) != 1, code
        if hidden:
            # every combination of hidden values consistent with the total is >1: not identifiable
            residual = cells.loc["nb_ps_total", "valeur"] - sum(cells.loc[m, "valeur"] for m in members if m not in hidden)
            solutions = [s for s in itertools.product(range(0, int(residual) + 1), repeat=len(hidden)) if sum(s) == residual]
            assert len(solutions) > 1, code
        masked_rows = rows[rows.statut == "secret"]
        assert masked_rows.valeur.isna().all() and masked_rows.numerateur.isna().all()


def test_thresholds_from_configuration(tmp_path):
    cfg = tmp_path / "diagnostic.toml"
    cfg.write_text("[secret_statistique]\nprofessionnels = 3\n", encoding="utf-8")
    assert secret.thresholds(cfg) == {"professionnels": 3, "patients": 11}
    assert secret.thresholds(None) == {"professionnels": 5, "patients": 11}


def test_real_catalogue_masks_small_professional_counts():
    """With the project's catalogue: 3 GPs on a perimeter are masked, and so is their density."""
    from diagnostic.warehouse import catalogue

    rows = [("perimetre", "P", "nb_mg", 3.0, np.nan), ("perimetre", "P", "densite_mg_10000", 1.5, 3.0),
            ("perimetre", "P", "nb_infirmiers", 40.0, np.nan), ("perimetre", "P", "population", 20000.0, np.nan)]
    out = secret.apply(table(rows), catalogue(), secret.thresholds(None))
    assert out.set_index("indicateur").statut.to_dict() == {
        "nb_mg": "secret", "densite_mg_10000": "secret", "nb_infirmiers": "ok", "population": "ok"}
