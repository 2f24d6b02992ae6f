"""COG 2021 revised neuroblastoma risk classification (Irwin et al., JCO 2021;39:3229–3241).

Rows mirror PDQ Neuroblastoma Treatment (HP) Table 3 "Risk Groups Used by the COG", which
summarises Irwin 2021 Table 2, with the intermediate group ("all others") written out as explicit
rows from PDQ's intermediate-risk list so the table is total. Corroboration per row: ASCO Post
summary of Irwin 2021 (Aug 2021) and the Irwin 2021 abstract. Product decisions (clinical-rules.md):
SCA means 1p and/or 11q aberration (decision 6); ploidy DNA index > 1 favourable, = 1 (diploid)
unfavourable, < 1 (hypodiploid) favourable by COG convention (decision 5); MS low risk requires a
documented asymptomatic infant (decision 7); L1 MYCN-amplified depends on resection (decision 4).
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum

from neuroblastoma.ages import AgeBand
from neuroblastoma.biology import InpcClass, MycnStatus, PloidyCategory, ResectionExtent
from neuroblastoma.case import Case, FactKey
from neuroblastoma.facts import Presence, any_present
from neuroblastoma.inpc import annotate_inpc, possible_inpc
from neuroblastoma.registry import RiskSchema
from neuroblastoma.results import RiskLevel, RiskOutcome, RiskResult, RuleWarning, Stage
from neuroblastoma.risk_factors import (
    AGE,
    MYCN,
    STAGE,
    UNDER_18_MONTHS,
    StageInput,
    is_mature_ganglioneuroma,
    mycn_gain_warning,
    out_of_scope_trace,
    possible_ages,
    possible_stages,
    shared_factors,
    table_trace,
)
from neuroblastoma.risk_table import Factor, Row, known, match_table
from neuroblastoma.sources import IRWIN_2021, RULESET_VERSION


class CogPloidy(Enum):
    FAVOURABLE = "favourable (DNA index > 1 or < 1)"
    UNFAVOURABLE = "unfavourable (diploid, DNA index = 1)"


INPC = Factor("INPC histology", FactKey.INPC, frozenset({InpcClass.FAVOURABLE, InpcClass.UNFAVOURABLE}),
              "unfavourable histology raises the risk of L2 (≥ 18 months) and M/MS (12–18 months)")
SCA = Factor("segmental chromosome aberration (1p/11q)", FactKey.SCA,
             frozenset({Presence.PRESENT, Presence.ABSENT}),
             "a 1p or 11q aberration raises the risk of M/MS at 12–18 months and of MS infants")
PLOIDY = Factor("ploidy", FactKey.PLOIDY, frozenset(CogPloidy),
                "a diploid tumour raises the risk of M/MS at 12–18 months and of MS infants")
SYMPTOMS = Factor("MS symptoms", FactKey.SYMPTOMS, frozenset({Presence.PRESENT, Presence.ABSENT}),
                  "only an asymptomatic MS infant with favourable biology is low risk")
RESECTION = Factor("extent of resection", FactKey.RESECTION,
                   frozenset({ResectionExtent.COMPLETE, ResectionExtent.INCOMPLETE}),
                   "L1 MYCN-amplified: low risk if completely resected, high risk with residual tumour")

L1, L2, M, MS = (frozenset({s}) for s in (Stage.L1, Stage.L2, Stage.M, Stage.MS))
M_OR_MS = M | MS
UNDER_12 = frozenset({AgeBand.UNDER_12_MONTHS})
FROM_12_TO_18 = frozenset({AgeBand.FROM_12_TO_18_MONTHS})
FROM_18 = frozenset({AgeBand.FROM_18_MONTHS})
AMP = frozenset({MycnStatus.AMPLIFIED})
NA = frozenset({MycnStatus.NOT_AMPLIFIED})
FH = frozenset({InpcClass.FAVOURABLE})
UH = frozenset({InpcClass.UNFAVOURABLE})
YES = frozenset({Presence.PRESENT})
NO = frozenset({Presence.ABSENT})
FAVOURABLE_PLOIDY = frozenset({CogPloidy.FAVOURABLE})
DIPLOID = frozenset({CogPloidy.UNFAVOURABLE})
COMPLETE = frozenset({ResectionExtent.COMPLETE})
INCOMPLETE = frozenset({ResectionExtent.INCOMPLETE})

LOW, INTERMEDIATE, HIGH = RiskLevel.LOW, RiskLevel.INTERMEDIATE, RiskLevel.HIGH
T3 = "Irwin 2021 (PDQ Table 3)"


def _row(label: str, risk: RiskLevel, printed_row: str, **when: frozenset[Hashable]) -> Row[RiskOutcome]:
    factors = {"stage": STAGE, "age": AGE, "mycn": MYCN, "inpc": INPC, "sca": SCA, "ploidy": PLOIDY,
               "symptoms": SYMPTOMS, "resection": RESECTION}
    return Row(label, RiskOutcome(risk), {factors[name]: values for name, values in when.items()}, f"{T3}, {printed_row}")


# PDQ Table 3 (Irwin 2021): high-risk rows H1–H6, low-risk rows L1–L3, then PDQ's intermediate list.
ROWS: tuple[Row[RiskOutcome], ...] = (
    _row("H1 M ≥18 mo", HIGH, "high risk: M, age ≥18 months", stage=M, age=FROM_18),
    _row("H2 M <18 mo Amp", HIGH, "high risk: M, age <18 months, MYCN amplified", stage=M, age=UNDER_18_MONTHS, mycn=AMP),
    _row("H3 MS Amp", HIGH, "high risk: MS, MYCN amplified", stage=MS, age=UNDER_18_MONTHS, mycn=AMP),
    _row("H3 L2 Amp", HIGH, "high risk: L2, MYCN amplified (any age)", stage=L2, mycn=AMP),
    _row("H4 L2 ≥18 mo UH", HIGH, "high risk: L2, age ≥18 months, MYCN NA, unfavourable histology", stage=L2, age=FROM_18, mycn=NA, inpc=UH),
    _row("H5 M/MS 12-18 mo UH", HIGH, "high risk: M or MS, 12–18 months, MYCN NA, UH", stage=M_OR_MS, age=FROM_12_TO_18, mycn=NA, inpc=UH),
    _row("H5 M/MS 12-18 mo SCA", HIGH, "high risk: M or MS, 12–18 months, MYCN NA, SCA", stage=M_OR_MS, age=FROM_12_TO_18, mycn=NA, inpc=FH, sca=YES),
    _row("H5 M/MS 12-18 mo diploid", HIGH, "high risk: M or MS, 12–18 months, MYCN NA, diploid", stage=M_OR_MS, age=FROM_12_TO_18, mycn=NA, inpc=FH, sca=NO, ploidy=DIPLOID),
    _row("H6 L1 Amp residual", HIGH, "high risk: L1, MYCN amplified, incompletely resected", stage=L1, mycn=AMP, resection=INCOMPLETE),
    _row("L1 L1 NA", LOW, "low risk: L1, MYCN NA", stage=L1, mycn=NA),
    _row("L2 L1 Amp resected", LOW, "low risk: L1, MYCN amplified, completely resected", stage=L1, mycn=AMP, resection=COMPLETE),
    _row("L3 MS <12 mo favourable", LOW, "low risk: MS, <12 months, MYCN NA, asymptomatic, FH, no SCA, hyperdiploid", stage=MS, age=UNDER_12, mycn=NA, symptoms=NO, inpc=FH, sca=NO, ploidy=FAVOURABLE_PLOIDY),
    _row("I L2 <18 mo", INTERMEDIATE, "intermediate: L2, <18 months, MYCN NA", stage=L2, age=UNDER_18_MONTHS, mycn=NA),
    _row("I L2 ≥18 mo FH", INTERMEDIATE, "intermediate: L2, ≥18 months, MYCN NA, FH", stage=L2, age=FROM_18, mycn=NA, inpc=FH),
    _row("I M <12 mo", INTERMEDIATE, "intermediate: M, <12 months, MYCN NA", stage=M, age=UNDER_12, mycn=NA),
    _row("I M/MS 12-18 mo favourable", INTERMEDIATE, "intermediate: M or MS, 12–18 months, MYCN NA, FH, no SCA, hyperdiploid", stage=M_OR_MS, age=FROM_12_TO_18, mycn=NA, inpc=FH, sca=NO, ploidy=FAVOURABLE_PLOIDY),
    _row("I MS <12 mo symptomatic", INTERMEDIATE, "intermediate: MS, <12 months, MYCN NA, symptomatic", stage=MS, age=UNDER_12, mycn=NA, symptoms=YES),
    _row("I MS <12 mo UH", INTERMEDIATE, "intermediate: MS, <12 months, MYCN NA, UH", stage=MS, age=UNDER_12, mycn=NA, symptoms=NO, inpc=UH),
    _row("I MS <12 mo SCA", INTERMEDIATE, "intermediate: MS, <12 months, MYCN NA, SCA", stage=MS, age=UNDER_12, mycn=NA, symptoms=NO, inpc=FH, sca=YES),
    _row("I MS <12 mo diploid", INTERMEDIATE, "intermediate: MS, <12 months, MYCN NA, diploid", stage=MS, age=UNDER_12, mycn=NA, symptoms=NO, inpc=FH, sca=NO, ploidy=DIPLOID),
)


def _possible_sca(case: Case) -> frozenset[Hashable]:
    """COG 2021 SCA status is 1p and/or 11q aberration (Irwin 2021 abstract)."""
    presence = any_present((case.chr1p_aberration, case.chr11q_aberration))
    return known(SCA, presence if presence.known else None)


def _possible_ploidy(case: Case) -> frozenset[Hashable]:
    category = case.ploidy.effective_category
    if category is None:
        return PLOIDY.domain
    return known(PLOIDY, CogPloidy.UNFAVOURABLE if category is PloidyCategory.DIPLOID else CogPloidy.FAVOURABLE)


def _possible_resection(case: Case) -> frozenset[Hashable]:
    """Not yet resected is the pretreatment state: both outcomes stay possible (decision 4)."""
    if case.resection in (ResectionExtent.COMPLETE, ResectionExtent.INCOMPLETE):
        return known(RESECTION, case.resection)
    return RESECTION.domain


UNSTABLE_MS_INFANT = (
    "Practice guidance (PDQ; COG ANBL0531): a symptomatic MS infant too unstable for biopsy may start "
    "intermediate-risk chemotherapy first, with the biopsy when safe; it becomes high risk if {found} is then found "
    "(PDQ Table 3). The COG 2021 group stays undetermined until then.")


def unstable_ms_infant(case: Case, stage: StageInput) -> tuple[RuleWarning, ...]:
    """PDQ (intermediate-risk section, after Irwin 2021's MS list): "For infants with stage MS tumors who are too
    unstable to undergo biopsy before starting treatment, chemotherapy is initiated, and a biopsy is obtained when
    safe"; COG ANBL0531 enrolled 4S infants "unable to undergo biopsy" on its intermediate-risk trial. SRC-A's
    "reassignment to high-risk if MYCN amplification is later identified" is not stated in the sources; it follows
    from Table 3 (MS MYCN-amplified: high), and from 12 months unfavourable histology, a 1p/11q aberration or a
    diploid tumour make MS high too, which SRC-A leaves out. Guidance only: the result stays undetermined."""
    if possible_stages(stage) != {Stage.MS} or case.ms_symptoms is not Presence.PRESENT:
        return ()
    if case.mycn is not MycnStatus.UNKNOWN:
        return ()
    older = AgeBand.FROM_12_TO_18_MONTHS in possible_ages(case, frozenset({Stage.MS}))
    found = ("MYCN amplification, unfavourable histology, a 1p/11q aberration or a diploid tumour" if older
             else "MYCN amplification")
    return (RuleWarning("unstable-ms-infant-practice", UNSTABLE_MS_INFANT.format(found=found)),)


def _warnings(case: Case, stage: StageInput) -> tuple[RuleWarning, ...]:
    warnings = list(mycn_gain_warning(case))
    warnings += unstable_ms_infant(case, stage)
    if case.ploidy.effective_category is PloidyCategory.HYPODIPLOID:
        warnings.append(RuleWarning(
            "ploidy-convention",
            "Hypodiploid (DNA index < 1) is treated as favourable for COG 2021, following the COG "
            "convention (PDQ, INSS-era footnotes); INRG 2009 counts it as diploid.",
        ))
    if case.other_scas:
        warnings.append(RuleWarning(
            "other-sca-recorded",
            "Other segmental aberrations (" + ", ".join(case.other_scas) + ") are recorded; COG 2021 "
            "uses only 1p and 11q.",
        ))
    return tuple(warnings)


def classify_cog2021(case: Case, stage: StageInput) -> RiskResult:
    """The COG 2021 risk group, or indeterminate with candidates and missing inputs."""
    if is_mature_ganglioneuroma(case):
        return RiskResult(SCHEMA_ID, None, (), out_of_scope_trace("COG 2021", IRWIN_2021.key), RULESET_VERSION,
                          out_of_scope=True)
    possible = {
        **shared_factors(case, stage),
        INPC: possible_inpc(case),  # the pathologist's call, else what its parts decide (inpc.py, Shimada 1999)
        SCA: _possible_sca(case),
        PLOIDY: _possible_ploidy(case),
        SYMPTOMS: known(SYMPTOMS, case.ms_symptoms if case.ms_symptoms.known else None),
        RESECTION: _possible_resection(case),
    }
    match = match_table(ROWS, possible)
    outcome = match.outcomes[0] if match.determinate else None
    trace = annotate_inpc(table_trace("COG 2021", match, possible, _warnings(case, stage)), case)
    return RiskResult(SCHEMA_ID, outcome, match.outcomes, trace, RULESET_VERSION)


SCHEMA_ID = "cog2021"
SCHEMA = RiskSchema(SCHEMA_ID, "COG 2021", "COG", IRWIN_2021, "inrgss", classify_cog2021)
