"""Where the published sources disagree, the result follows the product rule and says so (issue 18).

Each check reads a classified case and, where another published reading would give a different answer, adds a
warning to the trace of every result it would change (so the card, the CLI's ``--json`` trace and the FHIR
result's note all carry it) and, for COG 2021, a step naming the alternative result. docs/clinical-rules.md,
"Where the sources disagree", lists the sources on each side and the product decision:

1. **Day 365 and day 547.** The service counts day 365 as 12 months or older and day 547 as 18 months or older
   (product decision 1: PDQ 2025 "365 days to younger than 547 days"; ANBL1232 "< 547 days"; Brisse 2011
   "547 days"). Cohn 2009 as adapted in PDQ Table 5 ("age > 547 d"), the INSS-era COG schema ("< 548 d") and
   ANBL1531 ("> 547 days") put day 547 under 18 months; SIOPEN HR-NBL2 ("above 365 days") and calendar months
   (12 months is day 366 across a 29 February) put day 365 under 12 months. An age (or an interval) that starts
   or ends on such a day is classified both ways.
2. **COG 2021, L2, MYCN not amplified, 18 months or older.** PDQ Table 3 and the Irwin 2021 abstract: INPC
   unfavourable is high risk, favourable intermediate. NCCN v2.2026 NEUROB-2 ("adapted from Irwin") splits by
   grade and at 5 years: 18 months to < 5 years differentiating intermediate, undifferentiated or poorly
   differentiated high; 5 years or older high whatever the features.
3. **Segmental aberrations beyond 1p and 11q.** COG 2021 counts 1p and 11q (Irwin 2021 abstract); ANBL1232 and
   PDQ (citing NCCN 2024) count losses of 1p, 3p, 4p, 11q and gains of 1q, 2p, 17q; Schleiermacher 2012 (INRG)
   1p, 11q and 17q. A recorded 3p, 4p, 1q, 2p or 17q aberration is classified both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import cast

from neuroblastoma import cog2021
from neuroblastoma.ages import DAYS_12_MONTHS, DAYS_18_MONTHS, AgeBand
from neuroblastoma.biology import DifferentiationGrade, HistologicCategory, InpcClass, MycnStatus
from neuroblastoma.case import Case
from neuroblastoma.facts import Presence
from neuroblastoma.inpc import derive_inpc, five_years_possible
from neuroblastoma.results import RiskLevel, RiskResult, RuleWarning, Stage, StageResult, Trace
from neuroblastoma.risk_factors import possible_mycn
from neuroblastoma.row_wording import RISK_WORDS
from neuroblastoma.sources import ANBL1232, COHN_2009, IRWIN_2021, NCCN_2026, SCHLEIERMACHER_2012

Stages = tuple[StageResult[Enum], ...]
Risks = tuple[RiskResult, ...]
ResultsOf = Callable[[Case], tuple[Stages, Risks]]
Describe = Callable[[Stages, Risks], str]

AGE_BOUNDARY = "sources-disagree-age-boundary"  # the other reading changes a result
AGE_BOUNDARY_SAME = "age-boundary-convention"  # it changes nothing
COG_L2 = "sources-disagree-cog-l2"
SCA_PANEL = "sources-disagree-sca-panel"


@dataclass(frozen=True)
class AgeBoundary:
    """A day two published conventions put in different age bands: the band the service counts it in, with
    its sources, and the other band, with theirs."""

    day: int
    counted: str
    counted_sources: str
    other: str
    other_sources: str


BOUNDARIES = (
    AgeBoundary(DAYS_12_MONTHS, "12 months or older",
                f"PDQ 2025: 'younger than 365 days' is under 12 months; {ANBL1232.key}: under 365 days",
                "under 12 months", "SIOPEN HR-NBL2: 'above 365 days'; 12 calendar months reach day 366 across a "
                "29 February"),
    AgeBoundary(DAYS_18_MONTHS, "18 months or older",
                f"PDQ 2025: 'younger than 547 days' is under 18 months; {ANBL1232.key}: under 547 days; Brisse "
                "2011: 'younger than 18 months (547 days)'", "under 18 months",
                f"PDQ Table 5, adapted from {COHN_2009.key}: over 547 days; the INSS-era COG schema: under 548 "
                "days; ANBL1531: over 547 days"),
)


def _on_boundary(case: Case, boundary: AgeBoundary) -> Case | None:
    """The case read with ``boundary.day`` in the lower band (the day before, by the service's own count), or
    None when neither end of the recorded age is that day (an age strictly inside an interval changes nothing)."""
    age = case.age
    if age is None or boundary.day not in (age.min_days, age.max_days):
        return None
    low = age.min_days - (age.min_days == boundary.day)
    high = age.max_days - (age.max_days == boundary.day)
    return replace(case, age_days=low, age_days_max=high, set_aside_ages=(), age_conflict=None, age_problem=None)


def _with_warning(trace: Trace, warning: RuleWarning, step: str | None = None) -> Trace:
    steps = (*trace.steps, step) if step else trace.steps
    return replace(trace, warnings=(*trace.warnings, warning), steps=steps)


def _stage_key(result: StageResult[Enum]) -> tuple[object, ...]:
    return result.stage, result.candidates


def _risk_key(result: RiskResult) -> tuple[object, ...]:
    return result.outcome, result.candidates, result.out_of_scope


def age_boundaries(case: Case, stages: Stages, risks: Risks, results_of: ResultsOf,
                   describe: Describe) -> tuple[Stages, Risks]:
    """Day 365 or 547 at diagnosis: classified both ways; the results the other reading changes say so."""
    for boundary in BOUNDARIES:
        other_case = _on_boundary(case, boundary)
        if other_case is None:
            continue
        other_stages, other_risks = results_of(other_case)
        changed_stages = [_stage_key(a) != _stage_key(b) for a, b in zip(stages, other_stages, strict=True)]
        changed_risks = [_risk_key(a) != _risk_key(b) for a, b in zip(risks, other_risks, strict=True)]
        head = (f"Age at diagnosis {case.age}: day {boundary.day} is counted as {boundary.counted} "
                f"({boundary.counted_sources}). Counted as {boundary.other} ({boundary.other_sources})")
        if not any(changed_stages) and not any(changed_risks):
            warning = RuleWarning(AGE_BOUNDARY_SAME, f"{head}, the results would be the same.")
            stages = (replace(stages[0], trace=_with_warning(stages[0].trace, warning)), *stages[1:])
            continue
        warning = RuleWarning(AGE_BOUNDARY, f"{head}, it would give {describe(other_stages, other_risks)}.")
        stages = tuple(replace(s, trace=_with_warning(s.trace, warning)) if changed else s
                       for s, changed in zip(stages, changed_stages, strict=True))
        risks = tuple(replace(r, trace=_with_warning(r.trace, warning)) if changed else r
                      for r, changed in zip(risks, changed_risks, strict=True))
    return stages, risks


NCCN_GRADED = frozenset({HistologicCategory.NEUROBLASTOMA, HistologicCategory.GANGLIONEUROBLASTOMA_NODULAR})


def nccn_l2_risk(case: Case, stage: StageResult[Enum]) -> RiskLevel | None:
    """NCCN v2.2026 NEUROB-2 for L2, MYCN not amplified, 18 months or older; None where it does not decide."""
    if stage.stage is not Stage.L2 or possible_mycn(case) != {MycnStatus.NOT_AMPLIFIED}:
        return None
    if case.age is None or case.age.possible_bands() != {AgeBand.FROM_18_MONTHS}:
        return None
    five = five_years_possible(case)
    if five == {True}:
        return RiskLevel.HIGH  # ">= 5 years, any other features: high risk"
    if five != {False} or case.histology not in NCCN_GRADED:
        return None
    if case.grade is DifferentiationGrade.DIFFERENTIATING:
        return RiskLevel.INTERMEDIATE  # "18 months to < 5 years, differentiating per INPC: intermediate risk"
    if case.grade in (DifferentiationGrade.UNDIFFERENTIATED, DifferentiationGrade.POORLY_DIFFERENTIATED):
        return RiskLevel.HIGH  # "undifferentiated or poorly differentiated: high risk"
    return None


_TUMOUR = {HistologicCategory.NEUROBLASTOMA: "neuroblastoma",
           HistologicCategory.GANGLIONEUROBLASTOMA_NODULAR: "nodular ganglioneuroblastoma",
           HistologicCategory.GANGLIONEUROBLASTOMA_INTERMIXED: "intermixed ganglioneuroblastoma",
           HistologicCategory.GANGLIONEUROMA_MATURING: "maturing ganglioneuroma"}


def _l2_words(case: Case, older: bool) -> tuple[str, str]:
    """What the patient is (``aged 18 months to under 5 years, differentiating neuroblastoma, unfavourable
    histology (derived)``) and the NCCN row that applies."""
    inpc = case.inpc if case.inpc is not InpcClass.UNKNOWN else derive_inpc(case).inpc
    histology = f"{inpc.value} histology" if inpc else "INPC class undecided"
    histology += " (derived)" if case.inpc is InpcClass.UNKNOWN and inpc else ""
    graded = case.histology in NCCN_GRADED and case.grade is not DifferentiationGrade.UNKNOWN
    grade = case.grade.value.replace("-", " ") + " " if graded else ""
    tumour = grade + _TUMOUR.get(case.histology, "tumour")
    if older:
        return f"aged 5 years or older, {tumour}, {histology}", "high risk at 5 years or older, whatever the features"
    if case.grade is DifferentiationGrade.DIFFERENTIATING:
        rule = "intermediate risk for a differentiating tumour at 18 months to under 5 years"
    else:
        rule = "high risk for an undifferentiated or poorly differentiated tumour at 18 months to under 5 years"
    return f"aged 18 months to under 5 years, {tumour}, {histology}", rule


def _cog_l2(case: Case, stage: StageResult[Enum], cog: RiskResult) -> RiskResult:
    """COG L2, MYCN not amplified, 18 months or older where PDQ/Irwin and NCCN's adaptation disagree."""
    alternative = nccn_l2_risk(case, stage)
    if cog.risk is None or alternative is None or alternative is cog.risk:
        return cog
    patient, rule = _l2_words(case, five_years_possible(case) == {True})
    warning = RuleWarning(COG_L2, (
        f"COG L2, MYCN not amplified, {patient}: {RISK_WORDS[cog.risk]} risk here (PDQ Table 3, {IRWIN_2021.key} "
        f"abstract). {NCCN_2026.key} NEUROB-2 (adapted from {IRWIN_2021.key}) gives {rule}."))
    step = f"Alternative reading, {NCCN_2026.key} NEUROB-2: {RISK_WORDS[alternative]} risk (not applied)"
    return replace(cog, trace=_with_warning(cog.trace, warning, step))


NOT_WIDER = frozenset({"1p loss", "11q loss"})  # already COG's own SCAs (read from their own Observations)


def _sca_panel(case: Case, stage: StageResult[Enum], cog: RiskResult) -> RiskResult:
    """A recorded SCA beyond 1p/11q, where counting it (the wider definitions) would change the COG result."""
    others = [label for label in case.other_scas if label not in NOT_WIDER]
    if not others or cog.out_of_scope:
        return cog
    # Counted as an SCA, any of them makes COG's SCA factor present, as a 1p aberration would (COG reads 1p or 11q).
    inrgss = cast(StageResult[Stage], stage)  # stages[0] is the INRGSS stage COG 2021 is built on
    wider = cog2021.classify_cog2021(replace(case, chr1p_aberration=Presence.PRESENT), inrgss)
    if wider.risk is None or wider.risk is cog.risk:
        return cog
    ours = f"{RISK_WORDS[cog.risk]} risk here" if cog.risk else "undetermined here"
    schleiermacher = f"; {SCHLEIERMACHER_2012.key}: 1p, 11q, 17q" if "17q gain" in others else ""
    warning = RuleWarning(SCA_PANEL, (
        f"{', '.join(others)}: a segmental aberration in the wider definitions ({ANBL1232.key} and PDQ citing NCCN "
        f"2024: losses of 1p, 3p, 4p, 11q, gains of 1q, 2p, 17q{schleiermacher}). COG 2021 counts 1p and 11q only "
        f"({IRWIN_2021.key} abstract): {ours}; counted, it would give {RISK_WORDS[wider.risk]} risk."))
    step = f"Alternative reading, wider SCA definition ({ANBL1232.key}): {RISK_WORDS[wider.risk]} risk (not applied)"
    trace = replace(cog.trace, warnings=tuple(w for w in cog.trace.warnings if w.code != "other-sca-recorded"))
    return replace(cog, trace=_with_warning(trace, warning, step))


def annotate(case: Case, stages: Stages, risks: Risks, results_of: ResultsOf,
             describe: Describe) -> tuple[Stages, Risks]:
    """Every result with the disagreements of the sources that concern it."""
    risks = tuple(_sca_panel(case, stages[0], _cog_l2(case, stages[0], r)) if r.schema == cog2021.SCHEMA_ID else r
                  for r in risks)
    return age_boundaries(case, stages, risks, results_of, describe)
