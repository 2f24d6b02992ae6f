"""INSS stage (1, 2A, 2B, 3, 4, 4S), computed in parallel with INRGSS (Brodeur 1993).

Brodeur GM et al., J Clin Oncol 1993;11:1466-77, the revised International Neuroblastoma Staging System, as
reproduced verbatim in Cochrane CD010685 Table 3, the CAP neuroblastoma checklist and EJRNM 2020 Table 1:

- 1: localized tumour with complete gross excision, with or without microscopic residual disease;
  representative ipsilateral lymph nodes negative for tumour microscopically (nodes attached to and removed
  with the primary may be positive);
- 2A: localized tumour with incomplete gross excision; representative ipsilateral non-adherent lymph nodes
  negative microscopically;
- 2B: localized tumour with or without complete gross excision, with ipsilateral non-adherent lymph nodes
  positive for tumour; enlarged contralateral lymph nodes must be negative microscopically;
- 3: unresectable unilateral tumour infiltrating across the midline*, with or without regional lymph node
  involvement; or localized unilateral tumour with contralateral regional lymph node involvement; or midline
  tumour with bilateral extension by infiltration (unresectable) or by lymph node involvement;
- 4: any primary tumour with dissemination to distant lymph nodes, bone, bone marrow, liver, skin and/or other
  organs (except as defined for 4S);
- 4S: localized primary tumour (as defined for 1, 2A or 2B) with dissemination limited to skin, liver and/or
  bone marrow** (limited to infants < 1 year of age).

\\* The midline is the vertebral column: a tumour from one side must infiltrate to or beyond the opposite side
of the vertebral column. \\*\\* Marrow involvement in 4S is minimal (< 10 % of nucleated cells); the MIBG scan,
if performed, is negative in the marrow. Multifocal primaries are staged by the greatest extent, with the
suffix M (e.g. 3M).

INSS is postsurgical (PDQ: "a postsurgical staging system that uses tumor location with respect to midline
structures, lymph node status, and, importantly, extent of upfront surgical resection"): before surgery it is
open, as expected, and the operative and pathology facts it waits for are ``Trace.awaiting``, never missing
data. Product decisions (docs/clinical-rules.md, "INSS"): "unresectable" is read as an incomplete gross
excision (a tumour judged unresectable and only biopsied is recorded as incomplete); not yet resected leaves
the excision open; distant disease is assessed as for INRGSS (Brisse 2011); 4S is < 365 days (the COG
INSS-era "< 365 d"); a 4S primary needs no surgery to be "as defined for 1, 2A or 2B" when the facts that make
a stage 3 (midline infiltration, contralateral nodes) are absent.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from enum import Enum
from typing import Any

from neuroblastoma.ages import DAYS_12_MONTHS, AgeBand
from neuroblastoma.assessments import ABSENT, PRESENT, UNKNOWN, Assessment, cited, unique
from neuroblastoma.biology import ResectionExtent
from neuroblastoma.case import Case, FactKey, ImagingModality
from neuroblastoma.facts import all_present
from neuroblastoma.marrow_imaging import resolved_scans
from neuroblastoma.metastatic_spread import DistantDisease, assess_distant_disease
from neuroblastoma.registry import StagingSystem
from neuroblastoma.results import MissingInput, StageResult, Trace, one_per_fact
from neuroblastoma.risk_table import Factor, Row, TableMatch, known, match_table
from neuroblastoma.row_wording import describe_row
from neuroblastoma.sources import BRODEUR_1993, RULESET_VERSION
from neuroblastoma.staging import marrow_condition, sites_condition


class InssStage(Enum):
    """INSS stages (Brodeur 1993)."""

    STAGE_1 = "1"
    STAGE_2A = "2A"
    STAGE_2B = "2B"
    STAGE_3 = "3"
    STAGE_4 = "4"
    STAGE_4S = "4S"


S1, S2A, S2B, S3, S4, S4S = InssStage
B = BRODEUR_1993.key
DECIDES_4S = "decides INSS 4S versus 4 (Brodeur 1993)"

# The facts the INSS waits for after surgery (Trace.awaiting): the extent of gross excision, the nodes as the
# pathologist reports them, and infiltration across the midline (imaging or the operative findings).
SURGICAL_FACTS = frozenset({FactKey.RESECTION, FactKey.NODES_IPSILATERAL, FactKey.NODES_CONTRALATERAL,
                            FactKey.MIDLINE})

EXCISION = Factor("extent of gross excision", FactKey.RESECTION,
                  frozenset({ResectionExtent.COMPLETE, ResectionExtent.INCOMPLETE}),
                  "complete gross excision is INSS 1 (or 2B), incomplete 2A (or 2B, or 3 across the midline)")
IPSILATERAL = Factor("ipsilateral non-adherent nodes (histology)", FactKey.NODES_IPSILATERAL,
                     frozenset({PRESENT, ABSENT}), "positive ipsilateral non-adherent nodes make it INSS 2B")
CONTRALATERAL = Factor("contralateral regional nodes (histology)", FactKey.NODES_CONTRALATERAL,
                       frozenset({PRESENT, ABSENT}), "positive contralateral regional nodes make it INSS 3")
MIDLINE = Factor("infiltration across the midline", FactKey.MIDLINE, frozenset({PRESENT, ABSENT}),
                 "an unresectable tumour infiltrating across the midline is INSS 3")

COMPLETE, INCOMPLETE = frozenset({ResectionExtent.COMPLETE}), frozenset({ResectionExtent.INCOMPLETE})
YES, NO = frozenset({PRESENT}), frozenset({ABSENT})


def _row(label: str, stage: InssStage, printed: str, **when: frozenset[Hashable]) -> Row[InssStage]:
    factors = {"excision": EXCISION, "ipsilateral": IPSILATERAL, "contralateral": CONTRALATERAL,
               "midline": MIDLINE}
    return Row(label, stage, {factors[name]: values for name, values in when.items()}, f"{B}, stage {printed}")


# Brodeur 1993, the locoregional stages, one row per printed clause (disjoint, total: tests/neuroblastoma).
LOCOREGIONAL_ROWS: tuple[Row[InssStage], ...] = (
    _row("3 contralateral nodes", S3, "3: localized unilateral tumour with contralateral regional lymph node "
         "involvement (or a midline tumour with bilateral extension by lymph node involvement)",
         contralateral=YES),
    _row("3 across the midline", S3, "3: unresectable unilateral tumour infiltrating across the midline (or a "
         "midline tumour with bilateral extension by infiltration, unresectable)",
         contralateral=NO, midline=YES, excision=INCOMPLETE),
    _row("2B complete", S2B, "2B: localized tumour with complete gross excision and ipsilateral non-adherent "
         "nodes positive; contralateral nodes negative", contralateral=NO, ipsilateral=YES, excision=COMPLETE),
    _row("2B incomplete", S2B, "2B: localized tumour without complete gross excision and ipsilateral "
         "non-adherent nodes positive; contralateral nodes negative",
         contralateral=NO, midline=NO, ipsilateral=YES, excision=INCOMPLETE),
    _row("2A", S2A, "2A: localized tumour with incomplete gross excision; ipsilateral non-adherent nodes negative",
         contralateral=NO, midline=NO, ipsilateral=NO, excision=INCOMPLETE),
    _row("1", S1, "1: localized tumour with complete gross excision (with or without microscopic residual); "
         "ipsilateral nodes negative", contralateral=NO, ipsilateral=NO, excision=COMPLETE),
)

CITATIONS: dict[InssStage, str] = {
    **{row.outcome: row.citation for row in reversed(LOCOREGIONAL_ROWS)},
    S3: f"{B}, stage 3: unresectable unilateral tumour infiltrating across the midline; or localized unilateral "
        f"tumour with contralateral regional lymph node involvement; or midline tumour with bilateral extension",
    S4: f"{B}, stage 4: dissemination to distant lymph nodes, bone, bone marrow, liver, skin and/or other organs "
        f"(except 4S); distant sites as for INRGSS (Brisse 2011)",
    S4S: f"{B}, stage 4S: localized primary (as for 1, 2A or 2B), dissemination limited to skin, liver and/or "
         f"bone marrow (< 10 % of nucleated cells; MIBG, if performed, negative in the marrow), age < 1 year "
         f"(< {DAYS_12_MONTHS} days)",
}


def _possible(case: Case) -> dict[Factor, frozenset[Hashable]]:
    excision = case.resection if case.resection in (ResectionExtent.COMPLETE, ResectionExtent.INCOMPLETE) else None
    return {
        EXCISION: known(EXCISION, excision),
        IPSILATERAL: known(IPSILATERAL, case.nodes_ipsilateral if case.nodes_ipsilateral.known else None),
        CONTRALATERAL: known(CONTRALATERAL, case.nodes_contralateral if case.nodes_contralateral.known else None),
        MIDLINE: known(MIDLINE, case.midline_infiltration if case.midline_infiltration.known else None),
    }


def _decided(match: TableMatch[Any], possible: dict[Factor, frozenset[Hashable]]) -> tuple[FactKey, ...]:
    named = {factor for row in match.rows for factor in row.when}
    return tuple(f.fact for f in possible if f in named and len(possible[f]) == 1)


def _awaited(match: TableMatch[Any], why: str | None = None) -> tuple[MissingInput, ...]:
    return tuple(MissingInput(f.fact, why or f.why) for f in match.missing)


def _value_word(values: frozenset[Hashable]) -> str:
    value = next(iter(values))
    return value.value if len(values) == 1 and isinstance(value, Enum) else "not recorded"


def _locoregional(case: Case) -> tuple[frozenset[InssStage], Assessment, tuple[str, ...]]:
    """The INSS stages the operative and nodal facts allow, when there is no distant disease."""
    possible = _possible(case)
    match: TableMatch[Any] = match_table(LOCOREGIONAL_ROWS, possible)
    stages = frozenset(match.outcomes)
    basis = tuple(f"{describe_row(row)} → {row.outcome.value}" if not match.determinate else describe_row(row)
                  for row in match.rows)
    steps = tuple(f"{factor.name}: {_value_word(values)}" for factor, values in possible.items())
    if case.resection is ResectionExtent.COMPLETE and case.microscopic_residual is PRESENT:
        steps += ("Microscopic residual after complete gross excision: still stage 1 (Brodeur 1993)",)
    if case.resection is ResectionExtent.NOT_RESECTED:
        steps += ("Not resected yet: the extent of gross excision is known after surgery",)
    verdict = (f"Locoregional INSS stage {match.outcomes[0].value}: {' or '.join(basis)}" if match.determinate
               else "Locoregional INSS stage: " + "; ".join(basis))
    presence = PRESENT if match.determinate else UNKNOWN
    return stages, Assessment(presence, (*steps, verdict), _decided(match, possible), _awaited(match)), basis


def _age_4s(case: Case) -> Assessment:
    """4S: younger than 1 year, < 365 days at diagnosis (the COG INSS-era "< 365 d"; ages.py)."""
    age = case.age
    if age is None:
        why = f"age at diagnosis (birth date and diagnosis date) {DECIDES_4S}"
        return Assessment(UNKNOWN, ("Age at diagnosis unknown",), (), (MissingInput(FactKey.AGE, why),))
    bands = age.possible_bands()
    if bands == {AgeBand.UNDER_12_MONTHS}:
        return Assessment(PRESENT, (f"Age at diagnosis {age}: under 1 year ({DAYS_12_MONTHS} days)",), (FactKey.AGE,))
    if AgeBand.UNDER_12_MONTHS not in bands:
        return Assessment(ABSENT, (f"Age at diagnosis {age}: 1 year ({DAYS_12_MONTHS} days) or older: not 4S",),
                          (FactKey.AGE,))
    why = f"the recorded age ({age}) lies on both sides of {DAYS_12_MONTHS} days; the exact age {DECIDES_4S}"
    return Assessment(UNKNOWN, (f"Age at diagnosis {age}: straddles {DAYS_12_MONTHS} days",), (),
                      (MissingInput(FactKey.AGE, why),))


def _mibg_marrow(case: Case) -> Assessment:
    """4S: the MIBG scan, if performed, negative in the marrow (Brodeur 1993 footnote; INRGSS MS is stricter:
    it needs a negative scan)."""
    scans = [s for s in resolved_scans(case) if s.modality is ImagingModality.MIBG]
    if not scans:
        return Assessment(PRESENT, ("No MIBG scan on record: Brodeur 1993 asks for a negative marrow on MIBG only "
                                    "if it was performed",))
    clear = [s for s in scans if not s.equivocal]
    if any(s.bone_marrow is PRESENT for s in clear):
        return Assessment(ABSENT, (cited("MIBG uptake in the marrow: not 4S", clear[0].source),),
                          (FactKey.FUNCTIONAL_IMAGING,))
    if any(s.bone_marrow is ABSENT for s in clear):
        return Assessment(PRESENT, ("MIBG negative in the marrow",), (FactKey.FUNCTIONAL_IMAGING,))
    why = f"an MIBG result for the bone marrow (uptake or not) {DECIDES_4S}"
    return Assessment(UNKNOWN, ("MIBG marrow result undecided",), (), (MissingInput(FactKey.FUNCTIONAL_IMAGING, why),))


# Whether the primary is a stage 3 primary, the clauses of stage 3 against the rest (disjoint, total).
PRIMARY_3_ROWS: tuple[Row[bool], ...] = (
    Row("3: contralateral nodes", True, {CONTRALATERAL: YES}, CITATIONS[S3]),
    Row("3: unresectable across the midline", True, {CONTRALATERAL: NO, MIDLINE: YES, EXCISION: INCOMPLETE},
        CITATIONS[S3]),
    Row("not 3: not across the midline", False, {CONTRALATERAL: NO, MIDLINE: NO}, f"{B}, stages 1, 2A, 2B"),
    Row("not 3: resected across the midline", False, {CONTRALATERAL: NO, MIDLINE: YES, EXCISION: COMPLETE},
        f"{B}, stages 1, 2B"),
)


def _primary_4s(case: Case) -> Assessment:
    """4S: a localized primary as defined for 1, 2A or 2B, i.e. not a stage 3 primary (PDQ: an INSS 3 primary
    with a 4S pattern of metastases is stage 4). No surgery is needed when neither stage 3 clause can hold."""
    possible = _possible(case)
    match = match_table(PRIMARY_3_ROWS, possible)
    if not match.determinate:
        why = f"whether the primary is a stage 3 primary (midline infiltration, contralateral nodes) {DECIDES_4S}"
        return Assessment(UNKNOWN, ("Primary: stage 3 or not undecided",), (), _awaited(match, why))
    if match.outcomes[0]:
        return Assessment(ABSENT, ("Primary is a stage 3 primary: not 4S (an INSS 3 primary with a 4S pattern is "
                                   "stage 4)",), _decided(match, possible))
    return Assessment(PRESENT, ("Primary localized as for stage 1, 2A or 2B",), _decided(match, possible))


FOUR_S = {PRESENT: frozenset({S4S}), ABSENT: frozenset({S4}), UNKNOWN: frozenset({S4, S4S})}


def _four_s(case: Case, distant: DistantDisease) -> Assessment:
    """4S if every condition holds (Kleene AND); only conditions still in doubt name what they need."""
    conditions = (_age_4s(case), sites_condition(distant, DECIDES_4S), marrow_condition(case, distant.marrow,
                                                                                         DECIDES_4S),
                  _mibg_marrow(case), _primary_4s(case))
    presence = all_present(c.presence for c in conditions)
    deciding = [c for c in conditions if c.presence is (ABSENT if presence is ABSENT else PRESENT)]
    in_doubt = [] if presence is ABSENT else [c for c in conditions if c.presence is UNKNOWN]
    verdict = {PRESENT: "all 4S conditions hold", ABSENT: "a 4S condition fails: 4",
               UNKNOWN: "4S conditions undecided: 4 or 4S"}[presence]
    return Assessment(presence, (*(s for c in conditions for s in c.steps), f"INSS 4S: {verdict}"),
                      unique(f for c in deciding for f in c.decided_by), unique(m for c in in_doubt for m in c.missing),
                      unique(w for c in conditions for w in c.warnings))


def _ordered(stages: Iterable[InssStage]) -> tuple[InssStage, ...]:
    order = tuple(InssStage)
    return tuple(sorted(set(stages), key=order.index))


def _split(missing: Iterable[MissingInput]) -> tuple[tuple[MissingInput, ...], tuple[MissingInput, ...]]:
    """(missing, awaiting): the operative and pathology facts are awaited, the others (shared with INRGSS) missing."""
    items = one_per_fact(missing)
    return (tuple(m for m in items if m.fact not in SURGICAL_FACTS),
            tuple(m for m in items if m.fact in SURGICAL_FACTS))



def assign_inss(case: Case) -> StageResult[InssStage]:
    """The INSS stage: 4 or 4S with distant disease, else 1, 2A, 2B or 3 from the operative and nodal facts;
    while distant disease is undecided, both (Brodeur 1993)."""
    distant = assess_distant_disease(case)
    stages, locoregional, basis = _locoregional(case)
    four_s = _four_s(case, distant)
    deciding: tuple[Assessment, ...]
    if distant.presence is PRESENT:
        candidates, deciding, basis = FOUR_S[four_s.presence], (distant.assessment, four_s), ()
    elif distant.presence is ABSENT:
        candidates, deciding = stages, (distant.assessment, locoregional)
    else:
        candidates, deciding = stages | FOUR_S[four_s.presence], (distant.assessment, locoregional, four_s)
    ordered = _ordered(candidates)
    stage = ordered[0] if len(ordered) == 1 else None
    multifocal = (("Multifocal primaries: staged by the greatest extent and written with the suffix M, e.g. 3M "
                   "(Brodeur 1993)",) if len(case.primaries) > 1 or case.multifocal is PRESENT else ())
    conclusion = (f"INSS stage {stage.value}" if stage
                  else f"INSS undecided: {', '.join(s.value for s in ordered)} remain possible")
    missing, awaiting = _split(m for a in deciding for m in a.missing)
    trace = Trace(
        rule=f"INSS-{stage.value}" if stage else "INSS-INDETERMINATE",
        citation=CITATIONS[stage] if stage else "; ".join(CITATIONS[s] for s in ordered),
        decided_by=unique(f for a in deciding for f in a.decided_by),
        missing=missing,
        warnings=unique(w for a in (distant.assessment, four_s) for w in a.warnings),
        steps=unique((*(s for a in deciding for s in a.steps), *multifocal, conclusion)),
        basis=basis if stage and distant.presence is ABSENT else (),
        awaiting=awaiting,
    )
    return StageResult(INSS_ID, stage, ordered, trace, RULESET_VERSION)


INSS_ID = "inss"
INSS = StagingSystem(INSS_ID, "INSS", "INSS stage", BRODEUR_1993, assign_inss, tuple(InssStage), postsurgical=True)
