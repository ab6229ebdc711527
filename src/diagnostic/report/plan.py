"""The plan of a projet de santé's diagnostic, and what each section still lacks.

Sections 1-5 are filled from the catalogue's ``theme``: an indicator whose theme is
"Population" lands in section 2 without any template edit. A theme that matches no section
gets its own section after section 5. Section 6 (synthèse) is computed (see ``synthese.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import fmt


@dataclass(frozen=True)
class Sujet:
    """A topic a section should cover, and what to say when absent. An indicator covers it when its catalogue
    entry names it (``sujet = "<libelle>"`` in ``indicateurs.toml``, or the catalogue rows of local data)."""

    libelle: str
    absent: str  # French: what data exist, at which level, and that none is in hand

    def couvert(self, sujets: dict[str, object], ids: list[str]) -> bool:
        """``sujets``: id -> catalogue ``sujet`` (``tables.cle_catalogue(ctx, "sujet")``)."""
        return any(sujets.get(i) == self.libelle for i in ids)


@dataclass(frozen=True)
class Section:
    cle: str
    titre: str
    themes: tuple[str, ...]  # normalised theme keys (see ``cle_theme``)
    vide: str  # French: what data would fill the section when it holds no indicator
    sujets: tuple[Sujet, ...] = field(default_factory=tuple)
    rezone: str = ""  # French: what Rezone CPTS shows for the CPTS's communes that open data do not
    toujours: bool = True  # False: shown only when the catalogue has indicators for it


SOURCE_ND = "Source non disponible"
NIVEAU_DEPARTEMENT = "donnée départementale : la CPTS n'est pas isolable dans les données ouvertes"
REZONE_ACCES = (
    "Rezone CPTS (Assurance Maladie, accès réservé aux CPTS) montre pour les communes de la CPTS ce que les données "
    "ouvertes ne donnent pas : le nombre d'habitants sans médecin traitant (tous âges), la part des patients en ALD, "
    "le taux de passages aux urgences non suivis d'hospitalisation et l'offre de soins comparée au département, à la "
    "région et à la France. Reportez ces chiffres à côté des valeurs départementales ci-dessus."
)
REZONE_PREVENTION = (
    "Rezone CPTS (Assurance Maladie, accès réservé aux CPTS) montre pour les communes de la CPTS une quinzaine "
    "d'indicateurs de prévention que les données ouvertes ne donnent pas à cette échelle : vaccination (grippe, "
    "HPV…), dépistage des cancers (sein, col de l'utérus, colorectal), polymédication. Reportez ces chiffres à côté "
    "des valeurs départementales ci-dessus."
)

SECTIONS: tuple[Section, ...] = (
    Section(
        "territoire", "Territoire", ("territoire", "geographie"),
        "Cette section présente le nombre de communes, la superficie et la densité du territoire "
        "(INSEE, Code officiel géographique ; IGN, contours communaux).",
    ),
    Section(
        "population", "Population", ("population", "demographie", "territoire_et_population"),
        "Cette section accueillera la structure par âge de la population (part des 75 ans et plus), "
        "son évolution et des indicateurs de précarité (INSEE, recensement de la population et Filosofi).",
        (
            Sujet("Structure par âge",
                  "Structure par âge de la population (INSEE, recensement, données communales) : "
                  "source non disponible dans cette édition."),
            Sujet("Revenus et précarité",
                  f"{SOURCE_ND}. Revenus et pauvreté (INSEE, Filosofi) : niveau de vie médian et taux de pauvreté "
                  "publiés par commune (secret statistique « s » pour les plus petites), jamais additionnés ni "
                  "moyennés sur un ensemble de communes."),
            Sujet("Situation sociale (recensement)",
                  f"{SOURCE_ND}. Personnes de 80 ans ou plus vivant seules, familles monoparentales, chômage des "
                  "15-64 ans et diplômes (INSEE, recensement, Dossier complet par commune)."),
        ),
    ),
    Section(
        "offre", "Offre de soins", ("offre_de_soins", "offre_soins", "offre", "professionnels"),
        "Cette section accueillera l'accessibilité potentielle localisée (APL, DREES), les effectifs et densités "
        "de professionnels de santé (Annuaire santé, ANS) et les structures d'exercice coordonné (FINESS).",
        (
            Sujet("Effectifs et densités de professionnels de santé",
                  "Effectifs de professionnels de santé par commune d'exercice (Annuaire santé / RPPS, ANS, "
                  "données nominatives agrégées par commune) : source non disponible dans cette édition."),
            Sujet("Structures d'exercice coordonné",
                  "Maisons et centres de santé, hôpitaux, EHPAD, pharmacies (FINESS, par établissement géolocalisé) : "
                  "source non disponible dans cette édition."),
        ),
    ),
    Section(
        "etat_sante", "État de santé", ("etat_de_sante", "etat_sante", "sante", "besoins_de_sante", "pathologies"),
        "Cette section accueillera les affections de longue durée (ALD) et la prévalence des pathologies "
        "(Assurance maladie, cartographie des pathologies, publiée par département) et la mortalité "
        "(INSEE, état civil). Aucune n'est disponible dans cette édition.",
        (
            Sujet("Mortalité",
                  f"{SOURCE_ND}. Décès domiciliés par commune de résidence (INSEE, état civil, Dossier complet), "
                  "cumulés sur cinq ans : taux brut de mortalité du territoire et de ses comparateurs ; décès par "
                  "commune de domicile, sexe et âge (INSEE, fichiers détail des décès) : indices comparatifs de "
                  "mortalité générale et prématurée."),
        ),
    ),
    Section(
        "acces", "Accès aux soins", ("acces_aux_soins", "acces_soins", "acces", "recours"),
        "Aucun indicateur d'accès aux soins n'est disponible dans cette édition ; la situation des données est "
        "décrite ci-dessous.",
        (
            Sujet("Médecin traitant",
                  f"{SOURCE_ND}. L'Assurance maladie suit la part des patients sans médecin traitant, dont les "
                  "patients en affection de longue durée (ALD) ; elle met ces chiffres à disposition des CPTS, à "
                  "l'échelle de leur territoire, dans l'outil Rezone CPTS (accès réservé), et en publie une partie en "
                  "données ouvertes (data.ameli.fr) par département, région et France seulement. Aucune de ces "
                  "données n'est disponible dans cette édition : le chiffre du territoire est à reprendre de "
                  "Rezone CPTS."),
            Sujet("Soins non programmés",
                  f"{SOURCE_ND}. Les passages aux urgences sont publiés par département (DREES, séries longues "
                  "quotidiennes 2017-2023) et par établissement (DREES, Statistique annuelle des établissements de "
                  "santé) ; la population couverte par le service d'accès aux soins (SAS) l'est par département "
                  "(Assurance maladie). Ni les passages par commune de résidence, ni l'activité de permanence des soins "
                  "ambulatoires ne sont publiés en données ouvertes à l'échelle des communes."),
            Sujet("Zonage des médecins (ARS)",
                  "Le zonage des médecins (zones d'intervention prioritaire ZIP, d'action complémentaire ZAC) est "
                  "arrêté par chaque ARS et n'est pas publié en fichier national ouvert. La CPTS peut joindre le "
                  "fichier de l'arrêté de sa région (codes par commune, tel que publié) dans le dossier "
                  "data/territoires/<territoire>/local/ : le diagnostic en tire la part de la population en ZIP et en "
                  "ZAC, avec la CPTS comme source."),
        ),
        rezone=REZONE_ACCES,
    ),
    Section(
        "prevention", "Prévention", ("prevention", "vaccination", "depistage"),
        "Cette section accueillera les couvertures vaccinales (grippe, HPV, méningocoque C) et la participation "
        "aux dépistages organisés des cancers (Santé publique France, Odissé), publiées par département, région "
        "et France.",
        (
            Sujet("Couvertures vaccinales",
                  f"{SOURCE_ND}. Santé publique France publie les couvertures vaccinales (grippe des 65 ans et plus, "
                  "HPV, méningocoque C) par département, région et France sur Odissé ; aucune donnée communale ni "
                  "par CPTS n'est ouverte."),
            Sujet("Dépistage organisé des cancers",
                  f"{SOURCE_ND}. La participation aux dépistages organisés des cancers du sein et colorectal est "
                  "publiée par département (Santé publique France, Odissé) ; aucune donnée communale ni par CPTS "
                  "n'est ouverte."),
        ),
        rezone=REZONE_PREVENTION,
        toujours=False,
    ),
)
AUTRES = Section("autres", "Autres indicateurs", (), "")


def cle_theme(theme: str) -> str:
    """``"Offre de soins"`` -> ``"offre_de_soins"`` (accents, case and punctuation folded)."""
    return re.sub(r"[^a-z0-9]+", "_", fmt.cle_tri(theme)).strip("_")


def section_de(theme: str) -> Section | None:
    """The plan section of a catalogue theme; None when the theme is unknown (own section)."""
    k = cle_theme(theme)
    for s in SECTIONS:
        if k in s.themes or k == s.cle:
            return s
    return None


def titre_section(theme: str) -> str:
    s = section_de(theme)
    if s is not None:
        return s.titre
    if not theme:
        return AUTRES.titre
    return theme if (" " in theme or theme != theme.lower()) else theme.replace("_", " ").capitalize()
