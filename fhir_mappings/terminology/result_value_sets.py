"""ValueSets of the results the service writes (stage, risk groups, methods, absent reasons) and their lookups.

Built the same way as ``value_sets``: one list of (code, value) pairs gives the published ValueSet, the
``*_BY_CODING`` lookup (our own earlier results, read back) and the ``*_CODING`` table used to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.local_results import (
    CLASSIFIER_METHOD,
    COG_2021_LEVELS,
    COG_2021_RISK,
    INRG_2009_RISK,
    INRG_GROUP_LETTERS,
    INRG_PRETREATMENT_GROUP,
    INSS_STAGE,
)
from fhir_mappings.terminology.model import Code, CodingKey, ValueSetDef, lookup_table
from fhir_mappings.terminology.value_sets import ours, reverse_table, value_set
from neuroblastoma.inss import InssStage
from neuroblastoma.results import RiskLevel, Stage

#: Observation.code of the INRGSS stage result (mCODE CancerStage / former NeuroblastomaINRGSSStage).
INRGSS_STAGE_TYPE = std.NCIT_INRGSS
_STAGE = (
    (std.NCIT_INRG_STAGE_L1, Stage.L1),
    (std.NCIT_INRG_STAGE_L2, Stage.L2),
    (std.NCIT_INRG_STAGE_M, Stage.M),
    (std.NCIT_INRG_STAGE_MS, Stage.MS),
)
STAGE_BY_CODING: Mapping[CodingKey, Stage] = lookup_table(_STAGE)
STAGE_CODING: Mapping[Stage, Code] = MappingProxyType({stage: code for code, stage in _STAGE})
STAGE_VS = value_set("inrgss-stage", "INRGSS stage",
                      "INRG stages L1, L2, M, MS (NCIt, as mCODE NeuroblastomaRiskGroupValueVS).", _STAGE)

#: Observation.code of the INSS stage result (mCODE's INSS stage profile: SNOMED CT 409720004).
INSS_STAGE_TYPE = std.SCT_INSS_STAGE
_INSS_SNOMED = ((std.SCT_INSS_STAGE_2B, InssStage.STAGE_2B), (std.SCT_INSS_STAGE_3, InssStage.STAGE_3))
_INSS = (*_INSS_SNOMED, *ours(INSS_STAGE, InssStage))
INSS_STAGE_BY_CODING: Mapping[CodingKey, InssStage] = lookup_table(_INSS)
#: The codings written for each INSS stage: the verified SNOMED CT finding first, where there is one, then ours.
INSS_STAGE_WRITTEN: Mapping[InssStage, tuple[Code, ...]] = MappingProxyType({
    stage: tuple(code for code, value in _INSS if value is stage) for stage in InssStage})
INSS_STAGE_VS = value_set(
    "inss-stage", "INSS stage",
    "INSS stages 1, 2A, 2B, 3, 4, 4S: ours for every stage, SNOMED CT for the two verified (2B, 3).", _INSS)

_INRG_RISK = ours(INRG_2009_RISK, RiskLevel)
INRG_2009_RISK_CODING: Mapping[RiskLevel, Code] = reverse_table(_INRG_RISK, INRG_2009_RISK)
INRG_2009_RISK_VS = value_set("inrg-2009-risk", "INRG 2009 risk level", "INRG 2009 pretreatment risk levels.",
                               _INRG_RISK)

_COG_RISK = ours(COG_2021_RISK, COG_2021_LEVELS)
COG_2021_RISK_CODING: Mapping[RiskLevel, Code] = reverse_table(_COG_RISK, COG_2021_RISK)
COG_2021_RISK_VS = value_set("cog-2021-risk", "COG 2021 risk group", "COG 2021 risk groups.", _COG_RISK)

_GENERIC_RISK = (
    (std.SCT_VERY_LOW, RiskLevel.VERY_LOW),
    (std.SCT_LOW_RISK, RiskLevel.LOW),
    (std.NCIT_INTERMEDIATE_RISK, RiskLevel.INTERMEDIATE),
    (std.SCT_HIGH_RISK, RiskLevel.HIGH),
)
#: The generic (mCODE RiskAssessmentValueVS) coding written next to ours for each risk level.
RISK_GENERIC_CODING: Mapping[RiskLevel, Code] = MappingProxyType({level: code for code, level in _GENERIC_RISK})
RISK_GENERIC_VS = value_set(
    "risk-level-generic", "Generic risk level",
    "Generic risk values as mCODE RiskAssessmentValueVS codes them (SNOMED CT and NCIt mixed: mCODE found no "
    "SNOMED CT intermediate-risk code).",
    _GENERIC_RISK,
)
#: Any risk-level coding we write (ours for either schema, or generic) -> level.
RISK_LEVEL_BY_CODING: Mapping[CodingKey, RiskLevel] = lookup_table((*_INRG_RISK, *_COG_RISK, *_GENERIC_RISK))

_GROUP = tuple((INRG_PRETREATMENT_GROUP.code(g), g) for g in INRG_GROUP_LETTERS)
INRG_GROUP_CODING: Mapping[str, Code] = MappingProxyType({g: c for c, g in _GROUP})
INRG_GROUP_BY_CODING: Mapping[CodingKey, str] = lookup_table(_GROUP)
INRG_GROUP_VS = value_set("inrg-pretreatment-group", "INRG 2009 pretreatment group",
                           "Groups A-R (without L and M) of Cohn 2009.", _GROUP)

METHOD_INRGSS = CLASSIFIER_METHOD.code("inrgss-monclair-2009")
METHOD_INSS = CLASSIFIER_METHOD.code("inss-brodeur-1993")
METHOD_INRG_2009 = CLASSIFIER_METHOD.code("inrg-2009-cohn")
METHOD_COG_2021 = CLASSIFIER_METHOD.code("cog-2021-irwin")
CLASSIFIER_METHOD_VS = ValueSetDef("classifier-method", "Classifier method",
                                   "Observation.method of the results this service writes.",
                                   CLASSIFIER_METHOD.codes())


class ResultAbsence(Enum):
    """Why a result Observation carries no value."""

    INDETERMINATE = "indeterminate"  # the inputs cannot decide yet: candidates and missing inputs are listed
    OUT_OF_SCOPE = "out-of-scope"  # e.g. ganglioneuroma, mature: no stage/risk applies (product decision 3)


#: ``Observation.dataAbsentReason`` for a result without value. The standard HL7 codes fit, so we add
#: none of our own: an indeterminate result ("needs input") is ``temp-unknown`` — "there is reason to
#: expect (from the workflow) that the value may become known", namely once the listed inputs are
#: recorded — rather than ``unknown`` (which says nothing about why) or ``not-asked`` (which is about a
#: question nobody asked). Out of scope is ``not-applicable``. On *input* Observations every
#: dataAbsentReason (unknown, asked-unknown, temp-unknown, not-asked, ...) means the fact is unknown,
#: never absent.
DATA_ABSENT_REASON_FOR: Mapping[ResultAbsence, Code] = MappingProxyType({
    ResultAbsence.INDETERMINATE: std.DAR_TEMP_UNKNOWN,
    ResultAbsence.OUT_OF_SCOPE: std.DAR_NOT_APPLICABLE,
})
