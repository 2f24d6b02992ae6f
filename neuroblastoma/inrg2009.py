"""INRG 2009 pretreatment classification: groups A–R and their risk (Cohn et al., JCO 2009;27:289–297).

The table below is Cohn 2009 Table 2 (the INRG consensus pretreatment classification schema) as
reprinted in PDQ Neuroblastoma Treatment (HP) Table 4 (from Pinto et al., JCO 2015;33:3008), row
for row, top to bottom. "–" in the paper (factor not used by the row) is a factor the row omits.
Product decisions (clinical-rules.md): row N applies at any age (decision 3); row A is applied as
printed and warns when MYCN is amplified (decision 3); ganglioneuroma, mature, is out of scope;
ploidy: DNA index ≤ 1 is diploid, hypodiploid included (decision 5); 11q is the only SCA (decision 6).
"""

from __future__ import annotations

from collections.abc import Hashable

from neuroblastoma.ages import AgeBand
from neuroblastoma.biology import DifferentiationGrade, HistologicCategory, MycnStatus, PloidyCategory
from neuroblastoma.case import Case, FactKey
from neuroblastoma.facts import Presence
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
    shared_factors,
    table_trace,
)
from neuroblastoma.risk_table import Factor, Row, known, match_table
from neuroblastoma.sources import COHN_2009, RULESET_VERSION

H = HistologicCategory
G = DifferentiationGrade

HISTOLOGY = Factor(
    "histologic category", FactKey.HISTOLOGY,
    frozenset({H.NEUROBLASTOMA, H.GANGLIONEUROBLASTOMA_NODULAR, H.GANGLIONEUROBLASTOMA_INTERMIXED,
               H.GANGLIONEUROMA_MATURING}),
    "GN maturing / GNB intermixed histology is very low risk (group A) in L1/L2",
)
GRADE = Factor(
    "grade of differentiation", FactKey.GRADE,
    frozenset({G.UNDIFFERENTIATED, G.POORLY_DIFFERENTIATED, G.DIFFERENTIATING}),
    "for L2 at ≥ 18 months, differentiating tumours are low risk (E) and others intermediate (H)",
)
CHR_11Q = Factor(
    "11q aberration", FactKey.CHR_11Q, frozenset({Presence.PRESENT, Presence.ABSENT}),
    "an 11q aberration raises the risk of L2 and MS tumours without MYCN amplification",
)
PLOIDY = Factor(
    "ploidy", FactKey.PLOIDY, frozenset({PloidyCategory.HYPERDIPLOID, PloidyCategory.DIPLOID}),
    "for M under 18 months, hyperdiploid tumours are low risk (F) and diploid ones intermediate (I/J)",
)

GN_MATURING_OR_GNB_INTERMIXED = frozenset({H.GANGLIONEUROMA_MATURING, H.GANGLIONEUROBLASTOMA_INTERMIXED})
ANY_EXCEPT_A = frozenset({H.NEUROBLASTOMA, H.GANGLIONEUROBLASTOMA_NODULAR})  # "any, except GN maturing/GNB intermixed"
NB_OR_GNB_NODULAR = frozenset({H.NEUROBLASTOMA, H.GANGLIONEUROBLASTOMA_NODULAR})
POORLY_OR_UNDIFFERENTIATED = frozenset({G.POORLY_DIFFERENTIATED, G.UNDIFFERENTIATED})

L1, L2, M, MS = (frozenset({s}) for s in (Stage.L1, Stage.L2, Stage.M, Stage.MS))
UNDER_12 = frozenset({AgeBand.UNDER_12_MONTHS})
FROM_12_TO_18 = frozenset({AgeBand.FROM_12_TO_18_MONTHS})
FROM_18 = frozenset({AgeBand.FROM_18_MONTHS})
AMP = frozenset({MycnStatus.AMPLIFIED})
NA = frozenset({MycnStatus.NOT_AMPLIFIED})
YES = frozenset({Presence.PRESENT})
NO = frozenset({Presence.ABSENT})
HYPERDIPLOID = frozenset({PloidyCategory.HYPERDIPLOID})
DIPLOID = frozenset({PloidyCategory.DIPLOID})

VERY_LOW, LOW, INTERMEDIATE, HIGH = RiskLevel.VERY_LOW, RiskLevel.LOW, RiskLevel.INTERMEDIATE, RiskLevel.HIGH
TABLE = "Cohn 2009 Table 2 (PDQ Table 4)"


def _row(group: str, risk: RiskLevel, printed_row: str, **when: frozenset[Hashable]) -> Row[RiskOutcome]:
    factors = {"stage": STAGE, "age": AGE, "histology": HISTOLOGY, "grade": GRADE,
               "mycn": MYCN, "chr11q": CHR_11Q, "ploidy": PLOIDY}
    return Row(f"row {group}", RiskOutcome(risk, group),
               {factors[name]: values for name, values in when.items()}, f"{TABLE}, {printed_row}")


# Cohn 2009 Table 2, top to bottom.
#         group  risk          printed row                          conditions
ROWS: tuple[Row[RiskOutcome], ...] = (
    _row("A", VERY_LOW, "L1/L2 GN maturing, GNB intermixed", stage=L1 | L2, histology=GN_MATURING_OR_GNB_INTERMIXED),
    _row("B", VERY_LOW, "L1 any except GN maturing or GNB intermixed, NA", stage=L1, histology=ANY_EXCEPT_A, mycn=NA),
    _row("K", HIGH, "L1 any except GN maturing or GNB intermixed, Amp", stage=L1, histology=ANY_EXCEPT_A, mycn=AMP),
    _row("D", LOW, "L2 <18 mo, NA, 11q no", stage=L2, age=UNDER_18_MONTHS, histology=ANY_EXCEPT_A, mycn=NA,
         chr11q=NO),
    _row("G", INTERMEDIATE, "L2 <18 mo, NA, 11q yes", stage=L2, age=UNDER_18_MONTHS, histology=ANY_EXCEPT_A,
         mycn=NA, chr11q=YES),
    _row("E", LOW, "L2 ≥18 mo, GNB nodular/NB, differentiating, NA, 11q no", stage=L2, age=FROM_18,
         histology=NB_OR_GNB_NODULAR, grade=frozenset({G.DIFFERENTIATING}), mycn=NA, chr11q=NO),
    _row("H", INTERMEDIATE, "L2 ≥18 mo, GNB nodular/NB, differentiating, NA, 11q yes", stage=L2, age=FROM_18,
         histology=NB_OR_GNB_NODULAR, grade=frozenset({G.DIFFERENTIATING}), mycn=NA, chr11q=YES),
    _row("H", INTERMEDIATE, "L2 ≥18 mo, GNB nodular/NB, poorly differentiated or undifferentiated, NA",
         stage=L2, age=FROM_18, histology=NB_OR_GNB_NODULAR, grade=POORLY_OR_UNDIFFERENTIATED, mycn=NA),
    _row("N", HIGH, "L2 Amp (any age; product decision 3)", stage=L2, histology=ANY_EXCEPT_A, mycn=AMP),
    _row("F", LOW, "M <18 mo, NA, hyperdiploid", stage=M, age=UNDER_18_MONTHS, mycn=NA, ploidy=HYPERDIPLOID),
    _row("I", INTERMEDIATE, "M <12 mo, NA, diploid", stage=M, age=UNDER_12, mycn=NA, ploidy=DIPLOID),
    _row("J", INTERMEDIATE, "M 12 to <18 mo, NA, diploid", stage=M, age=FROM_12_TO_18, mycn=NA, ploidy=DIPLOID),
    _row("O", HIGH, "M <18 mo, Amp", stage=M, age=UNDER_18_MONTHS, mycn=AMP),
    _row("P", HIGH, "M ≥18 mo", stage=M, age=FROM_18),
    _row("C", VERY_LOW, "MS <18 mo, NA, 11q no", stage=MS, age=UNDER_18_MONTHS, mycn=NA, chr11q=NO),
    _row("Q", HIGH, "MS <18 mo, NA, 11q yes", stage=MS, age=UNDER_18_MONTHS, mycn=NA, chr11q=YES),
    _row("R", HIGH, "MS <18 mo, Amp", stage=MS, age=UNDER_18_MONTHS, mycn=AMP),
)


def _possible_histology(case: Case) -> frozenset[Hashable]:
    return known(HISTOLOGY, None if case.histology is H.UNKNOWN else case.histology)


def _possible_ploidy(case: Case) -> frozenset[Hashable]:
    """DNA index ≤ 1 is diploid for INRG, hypodiploid included (INRG Data Commons dictionary)."""
    category = case.ploidy.effective_category
    if category is None:
        return PLOIDY.domain
    if category is PloidyCategory.HYPODIPLOID:
        category = PloidyCategory.DIPLOID
    return known(PLOIDY, category)


def _warnings(case: Case, group: str | None) -> tuple[RuleWarning, ...]:
    warnings = list(mycn_gain_warning(case))
    if group == "A" and case.mycn is MycnStatus.AMPLIFIED:
        warnings.append(RuleWarning(
            "inrg-row-a-mycn-amplified",
            "Group A is applied as printed, but Cohn 2009 does not consider MYCN amplification in GN "
            "maturing / GNB intermixed tumours: confirm the pathology.",
        ))
    if case.ploidy.effective_category is PloidyCategory.HYPODIPLOID:
        warnings.append(RuleWarning(
            "ploidy-convention",
            "Hypodiploid (DNA index < 1) counts as diploid in INRG 2009 but as favourable in COG 2021.",
        ))
    return tuple(warnings)


def classify_inrg2009(case: Case, stage: StageInput) -> RiskResult:
    """The INRG 2009 pretreatment group and risk, or indeterminate with candidates and missing inputs."""
    if is_mature_ganglioneuroma(case):
        return RiskResult(SCHEMA_ID, None, (), out_of_scope_trace("INRG 2009", COHN_2009.key), RULESET_VERSION,
                          out_of_scope=True)
    possible = {
        **shared_factors(case, stage),
        HISTOLOGY: _possible_histology(case),
        GRADE: known(GRADE, None if case.grade is G.UNKNOWN else case.grade),
        CHR_11Q: known(CHR_11Q, case.chr11q_aberration if case.chr11q_aberration.known else None),
        PLOIDY: _possible_ploidy(case),
    }
    match = match_table(ROWS, possible)
    outcome = match.outcomes[0] if match.determinate else None
    warnings = _warnings(case, outcome.group if outcome else None)
    trace = table_trace("INRG 2009", match, possible, warnings)
    return RiskResult(SCHEMA_ID, outcome, match.outcomes, trace, RULESET_VERSION)


SCHEMA_ID = "inrg2009"
SCHEMA = RiskSchema(SCHEMA_ID, "INRG 2009", "INRG", COHN_2009, "inrgss", classify_inrg2009, groups=True)
