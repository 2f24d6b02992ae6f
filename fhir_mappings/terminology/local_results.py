"""Our CodeSystems for the results: INRG 2009 pretreatment groups and risk levels, COG 2021 risk
groups, and the classifier methods (schema and rule-set) that produced them.

The group and risk definitions are generated from the domain's own printed tables
(``neuroblastoma.inrg2009.ROWS``, ``neuroblastoma.cog2021.ROWS``), so the codes we publish and the
rules we run cannot drift apart. No standard code exists for the group letters A–R, for
neuroblastoma-specific risk groups, or for the classifiers (clinical-rules.md §6.1).
"""

from __future__ import annotations

from fhir_mappings.terminology.model import Concept, LocalCodeSystem, PropertyDef, PropertyType
from neuroblastoma import cog2021, inrg2009, inss
from neuroblastoma.results import RiskLevel

COHN = "Cohn et al., J Clin Oncol 2009;27:289-297, Table 2 (reprinted as PDQ Neuroblastoma Treatment Table 4)"
IRWIN = "Irwin et al., J Clin Oncol 2021;39:3229-3241 (summarised as PDQ Neuroblastoma Treatment Table 3)"
MONCLAIR = "Monclair et al., J Clin Oncol 2009;27:298-303"
BRODEUR = "Brodeur et al., J Clin Oncol 1993;11:1466-1477"

_RISK_DISPLAY = {
    RiskLevel.VERY_LOW: "Very low risk",
    RiskLevel.LOW: "Low risk",
    RiskLevel.INTERMEDIATE: "Intermediate risk",
    RiskLevel.HIGH: "High risk",
}

# ---- inrg-2009-risk ----------------------------------------------------------------------------

INRG_2009_RISK = LocalCodeSystem(
    name="inrg-2009-risk",
    title="INRG 2009 pretreatment risk level",
    description=(
        f"The four pretreatment risk levels of the INRG classification ({COHN}). Generic codes for the same "
        "levels (SNOMED CT 260362008, 723505004, 723509005; NCIt C102402, as mCODE RiskAssessmentValueVS "
        "uses them) are written alongside; no neuroblastoma-specific very-low/low/intermediate-risk code "
        "was found (clinical-rules §6.1)."
    ),
    concepts=tuple(
        Concept(
            level.value, _RISK_DISPLAY[level],
            f"INRG 2009 {_RISK_DISPLAY[level].lower()}: pretreatment groups "
            + ", ".join(sorted({r.outcome.group or '' for r in inrg2009.ROWS if r.outcome.risk is level}))
            + f" ({COHN}).",
        )
        for level in RiskLevel
    ),
)

# ---- inrg-pretreatment-group --------------------------------------------------------------------


def _group_concept(group: str) -> Concept:
    rows = [r for r in inrg2009.ROWS if r.outcome.group == group]
    risk = rows[0].outcome.risk
    if any(r.outcome.risk is not risk for r in rows):  # pragma: no cover - the domain table guarantees it
        raise ValueError(f"INRG group {group} has rows of different risk")
    printed = "; or ".join(r.citation.split(", ", 1)[-1] for r in rows)
    return Concept(
        group,
        f"INRG pretreatment group {group} ({_RISK_DISPLAY[risk].lower()})",
        f"INRG 2009 pretreatment group {group}: {printed}; {_RISK_DISPLAY[risk].lower()} ({COHN}).",
        (("riskLevel", INRG_2009_RISK.code(risk.value)),),
    )


INRG_GROUP_LETTERS: tuple[str, ...] = tuple(sorted({r.outcome.group or '' for r in inrg2009.ROWS}))

INRG_PRETREATMENT_GROUP = LocalCodeSystem(
    name="inrg-pretreatment-group",
    title="INRG 2009 pretreatment group (A-R)",
    description=(
        f"The 16 pretreatment groups of the INRG consensus classification ({COHN}), lettered A to R without "
        "L and M. No standard terminology codes the group letters. Each concept carries its risk level."
    ),
    properties=(PropertyDef("riskLevel", PropertyType.CODING, "The group's INRG 2009 risk level."),),
    concepts=tuple(_group_concept(group) for group in INRG_GROUP_LETTERS),
)

# ---- cog-2021-risk -----------------------------------------------------------------------------

COG_2021_LEVELS: tuple[RiskLevel, ...] = (RiskLevel.LOW, RiskLevel.INTERMEDIATE, RiskLevel.HIGH)


def _cog_concept(level: RiskLevel) -> Concept:
    printed = "; ".join(
        r.citation.split(", ", 1)[-1].split(": ", 1)[-1] for r in cog2021.ROWS if r.outcome.risk is level
    )
    return Concept(
        level.value, f"COG {_RISK_DISPLAY[level].lower()}",
        f"Children's Oncology Group 2021 {_RISK_DISPLAY[level].lower()} ({IRWIN}): {printed}.",
    )


COG_2021_RISK = LocalCodeSystem(
    name="cog-2021-risk",
    title="COG 2021 neuroblastoma risk group",
    description=(
        f"The three risk groups of the revised COG classification ({IRWIN}). NCIt C177631 ('Children's Oncology "
        "Group Neuroblastoma Risk Group Staging System') is a candidate for the system itself, seen only in "
        "one mapping that also misuses neighbouring codes (clinical-rules §6.1 ⚠); it is not used."
    ),
    concepts=tuple(_cog_concept(level) for level in COG_2021_LEVELS),
)

# ---- inss-stage -----------------------------------------------------------------------------------

_INSS_STANDARD = {
    inss.InssStage.STAGE_2B: "SNOMED CT 409724008 (mCODE examples) is written alongside.",
    inss.InssStage.STAGE_3: "SNOMED CT 409725009 (an mCODE example) is written alongside.",
}

INSS_STAGE = LocalCodeSystem(
    name="inss-stage",
    title="International Neuroblastoma Staging System (INSS) stage",
    description=(
        f"The six INSS stages ({BRODEUR}), written in parallel with the INRGSS stage. Observation.code is SNOMED "
        "CT 409720004. SNOMED CT codes were verified only for stages 2B (409724008) and 3 (409725009) and are "
        "written beside ours; the SNOMED CT codes of stages 1, 2A, 4 and 4S and NCIt C85417-C85422 (one LinkML "
        "source only) were not verified and are not used."
    ),
    concepts=tuple(
        Concept(stage.value, f"INSS stage {stage.value}",
                f"{inss.CITATIONS[stage]}. {_INSS_STANDARD.get(stage, 'No verified standard code.')}")
        for stage in inss.InssStage
    ),
)

# ---- classifier-method -------------------------------------------------------------------------

CLASSIFIER_METHOD = LocalCodeSystem(
    name="classifier-method",
    title="Classifier method (schema and rule-set)",
    description=(
        "Observation.method of the results this service writes: which published schema the result follows "
        "and that this service's rule-set (its version is written with every result) applied it."
    ),
    concepts=(
        Concept(
            "inrgss-monclair-2009", "INRGSS per Monclair 2009 (nbcds rule-set)",
            f"INRG Staging System ({MONCLAIR}) with the IDRF and metastasis rules of Brisse et al., Radiology "
            "2011, as implemented by this service's rule-set. Written together with SNOMED CT 1287643004 "
            "'International Neuroblastoma Risk Group staging system (tumor staging)' (mCODE STU4 "
            "CancerStagingMethodVS), which names the system but not the implementation; it was requested in 2023 "
            "(USCRS-34952), so editions older than 2024 may lack it (clinical-rules §6.1 ⚠).",
        ),
        Concept(
            "inss-brodeur-1993", "INSS per Brodeur 1993 (nbcds rule-set)",
            f"International Neuroblastoma Staging System, revised ({BRODEUR}), computed in parallel with INRGSS from "
            "the operative and pathology facts (extent of gross excision, nodes, midline infiltration) and the "
            "distant-disease rules of Brisse 2011, as implemented by this service's rule-set.",
        ),
        Concept(
            "inrg-2009-cohn", "INRG 2009 pretreatment classification per Cohn 2009 (nbcds rule-set)",
            f"INRG consensus pretreatment classification ({COHN}), groups A-R, as implemented by this service's "
            "rule-set with the product decisions recorded in clinical-rules.md.",
        ),
        Concept(
            "cog-2021-irwin", "COG 2021 risk classification per Irwin 2021 (nbcds rule-set)",
            f"Revised COG neuroblastoma risk classification ({IRWIN}), as implemented by this service's rule-set "
            "with the product decisions recorded in clinical-rules.md. NCIt C177631 is a candidate code for the "
            "COG system (one mapping only, ⚠).",
        ),
    ),
)

# ---- data-quality --------------------------------------------------------------------------------

DATA_QUALITY = LocalCodeSystem(
    name="data-quality",
    title="Data-quality problems behind a neuroblastoma classification",
    description=(
        "Problems in the record that a result rests on, named so a clinician can fix the record: the code of "
        "the warning in the card, the CLI and the audit record, and a meta.tag of the stage and risk "
        "Observations the service writes (docs/clinical-rules.md, 'Real EHR records')."
    ),
    concepts=(
        Concept("implausible-date", "Implausible date on record",
                "A diagnosis before the birth date, a diagnosis or birth after the day of the call, or an onset age "
                "that is not a possible age: the age at diagnosis is not used (Cohn 2009 thresholds undecided)."),
        Concept("diagnosis-dates-disagree", "Diagnosis dates disagree",
                "Several neuroblastoma Conditions give diagnosis dates on both sides of an age threshold that "
                "changes a result: onsets that disagree leave it undetermined; a later recorded date set aside "
                "by the rule (earliest onset) would change it."),
        Concept("equivocal-focus-unresolved", "Equivocal focus without a recorded resolution",
                "The metastatic work-up is reported negative but an equivocal focus has no recorded confirmation "
                "or exclusion by cross-sectional imaging or biopsy (Brisse 2011)."),
    ),
)

RESULT_CODE_SYSTEMS: tuple[LocalCodeSystem, ...] = (
    INSS_STAGE, INRG_PRETREATMENT_GROUP, INRG_2009_RISK, COG_2021_RISK, CLASSIFIER_METHOD, DATA_QUALITY,
)
