"""The codes of the results this service writes: each staging system's and risk schema's coding by id.

Shared by reading (our own earlier results are recognised on record) and writing (results_to_fhir).

A staging system or risk schema registered in the domain without an entry here is still written: its
stage or risk level goes into a generic result (our ``risk-group`` code, the method named in text, the
generic risk-level codes), so a new schema shows up in the FHIR output before it has codes of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from fhir_mappings.terminology import result_value_sets as rvs
from fhir_mappings.terminology.codes import SCT_INRGSS_METHOD
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.model import Code, CodingKey
from neuroblastoma.results import RiskOutcome

MCODE_CANCER_STAGE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-stage"


@dataclass(frozen=True)
class StageCoding:
    """The Observation code, method codings, value codings per stage (standard first), and profile of a stage
    result."""

    code: Code
    method: tuple[Code, ...]
    value: Mapping[Enum, tuple[Code, ...]]
    profile: str | None = None


@dataclass(frozen=True)
class RiskComponent:
    """A component carrying the risk level when the value is something else (the INRG group)."""

    code: Code
    level: Callable[[RiskOutcome], tuple[Code, ...]]


@dataclass(frozen=True)
class RiskCoding:
    """The Observation code, method codings and value codings of a risk result."""

    code: Code
    method: tuple[Code, ...]
    value: Callable[[RiskOutcome], tuple[Code, ...]]
    component: RiskComponent | None = None


def _generic_level(outcome: RiskOutcome) -> tuple[Code, ...]:
    return (rvs.RISK_GENERIC_CODING[outcome.risk],)


STAGE_CODINGS: Mapping[str, StageCoding] = MappingProxyType({
    "inrgss": StageCoding(rvs.INRGSS_STAGE_TYPE, (SCT_INRGSS_METHOD, rvs.METHOD_INRGSS),
                          MappingProxyType({stage: (code,) for stage, code in rvs.STAGE_CODING.items()}),
                          MCODE_CANCER_STAGE),
    "inss": StageCoding(rvs.INSS_STAGE_TYPE, (rvs.METHOD_INSS,),
                        MappingProxyType({stage: codes for stage, codes in rvs.INSS_STAGE_WRITTEN.items()}),
                        MCODE_CANCER_STAGE),
})

RISK_CODINGS: Mapping[str, RiskCoding] = MappingProxyType({
    "inrg2009": RiskCoding(
        OBSERVATION_CODES.code("inrg-2009-risk-group"), (rvs.METHOD_INRG_2009,),
        lambda outcome: (rvs.INRG_GROUP_CODING[outcome.group or ""],),
        RiskComponent(OBSERVATION_CODES.code("inrg-2009-risk-level"),
                      lambda outcome: (rvs.INRG_2009_RISK_CODING[outcome.risk],
                                       rvs.RISK_GENERIC_CODING[outcome.risk]))),
    "cog2021": RiskCoding(
        OBSERVATION_CODES.code("cog-2021-risk-group"), (rvs.METHOD_COG_2021,),
        lambda outcome: (rvs.COG_2021_RISK_CODING[outcome.risk], rvs.RISK_GENERIC_CODING[outcome.risk])),
})

STAGE_CODE = STAGE_CODINGS["inrgss"].code
INRG_2009_RISK_CODE = RISK_CODINGS["inrg2009"].code
COG_2021_RISK_CODE = RISK_CODINGS["cog2021"].code

#: The coding of a risk schema that has none of its own.
GENERIC_RISK_CODING = RiskCoding(OBSERVATION_CODES.code("risk-group"), (), _generic_level)


def risk_coding(schema: str) -> RiskCoding:
    return RISK_CODINGS.get(schema, GENERIC_RISK_CODING)


#: Observation codes of every result this service writes (so results already on record are recognised).
RESULT_OBSERVATION_CODINGS: frozenset[CodingKey] = frozenset(
    {coding.code.key for coding in STAGE_CODINGS.values()} | {coding.code.key for coding in RISK_CODINGS.values()}
    | {GENERIC_RISK_CODING.code.key})

