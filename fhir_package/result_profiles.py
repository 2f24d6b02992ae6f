"""One profile per result the service writes, generated from the live tables that write them.

``STAGE_CODINGS`` gives each staging system's profile (the INRGSS stage on mCODE CancerStage), ``RISK_CODINGS``
each risk schema's, and ``GENERIC_RISK_CODING`` the result of a schema without codes of its own
(``results_codes.py``). The value's ValueSet is found, not named: the smallest catalogue ValueSet that holds a
coding of every value the writer can produce (for a risk schema, every outcome it can write). A result
written by the service is ``preliminary`` until a clinician accepts it, then ``final`` (an invariant).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fhir_mappings.results_codes import GENERIC_RISK_CODING, RISK_CODINGS, STAGE_CODINGS, RiskCoding, StageCoding
from fhir_mappings.terminology.catalogue import VALUE_SETS
from fhir_mappings.terminology.local_results import INRG_GROUP_LETTERS
from fhir_mappings.terminology.model import Code, ValueSetDef
from fhir_package import elements as el
from fhir_package.elements import Json, Profile
from neuroblastoma.classification import RISK_SCHEMAS, STAGING_SYSTEMS
from neuroblastoma.results import RiskLevel, RiskOutcome

#: mCODE's PrimaryCancerCondition: the only target mCODE CancerStage allows for ``focus``.
MCODE_PRIMARY_CANCER_CONDITION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"
RESULT_STATUS = el.invariant(
    "nbcds-result-status", "A result is preliminary until a clinician accepts it, then final.",
    "status = 'preliminary' or status = 'final'")


def _codes(value: Code | tuple[Code, ...]) -> tuple[Code, ...]:
    return value if isinstance(value, tuple) else (value,)


def covering_value_set(values: Iterable[tuple[Code, ...]]) -> ValueSetDef | None:
    """The smallest catalogue ValueSet holding at least one coding of every written value (None if none does)."""
    written = [frozenset(code.key for code in codes) for codes in values]
    covering = [vs for vs in VALUE_SETS if all(keys & vs.keys() for keys in written)]
    return min(covering, key=lambda vs: len(vs.members), default=None)


def risk_outcomes() -> tuple[RiskOutcome, ...]:
    """Every outcome a risk schema can write: each risk level, alone and with each INRG group letter."""
    groups: tuple[str | None, ...] = (None, *INRG_GROUP_LETTERS)
    return tuple(RiskOutcome(level, group) for group in groups for level in RiskLevel)


def written_values(value: Callable[[RiskOutcome], tuple[Code, ...]]) -> tuple[tuple[Code, ...], ...]:
    """The value codings a risk writer produces, over every outcome it accepts (others raise KeyError)."""
    found = []
    for outcome in risk_outcomes():
        try:
            found.append(value(outcome))
        except KeyError:
            continue
    return tuple(dict.fromkeys(found))


def _common(title: str, description: str, code: Code, value_set: ValueSetDef | None, method: tuple[Code, ...],
            focus_target: str) -> list[Json]:
    method_element = (el.element("Observation.method", short="The classifier and rule set", min=1,
                                 patternCodeableConcept=el.concept_pattern(*method)) if method else
                      el.element("Observation.method", short="method.text names the schema and rule set", min=1))
    return [
        el.root(title, description, [RESULT_STATUS]),
        el.element("Observation.status", short="preliminary until a clinician accepts it, then final"),
        el.element("Observation.code", short=code.display, patternCodeableConcept=el.concept_pattern(code)),
        el.reference("Observation.focus", focus_target, "The neuroblastoma Condition", 1, "1"),
        el.typed_value("Observation.value[x]", ("CodeableConcept",), value_set,
                       value_set.title if value_set else "The result"),
        el.element("Observation.dataAbsentReason", short="temp-unknown: indeterminate (the note lists what is "
                                                         "missing); not-applicable: out of scope"),
        method_element,
        el.reference("Observation.derivedFrom", el.OBSERVATION, "The input Observations that decided the result"),
    ]


def _stage_profile(system_id: str, coding: StageCoding) -> Profile:
    system = STAGING_SYSTEMS.get(system_id)
    value_set = covering_value_set(_codes(v) for v in coding.value.values())
    on_mcode = coding.profile is not None
    description = (f"The {system.title} stage ({system.source.key}) as this service writes it: code "
                   f"{coding.code.system}#{coding.code.code}, the stage from {value_set.url if value_set else '-'}, "
                   f"the method, focus on the neuroblastoma Condition, and the deciding Observations in derivedFrom. "
                   f"Indeterminate: no value, dataAbsentReason temp-unknown and a note naming what is missing."
                   + (" Derived from mCODE CancerStage (mCODE STU4), whose focus is a PrimaryCancerCondition."
                      if on_mcode else ""))
    elements = _common(f"{system.title} stage (result)", description, coding.code, value_set, coding.method,
                       MCODE_PRIMARY_CANCER_CONDITION if on_mcode else el.CONDITION)
    resource = el.structure_definition(f"{system_id}-stage", f"{system.title} stage (result)", description,
                                       coding.profile or el.OBSERVATION, elements)
    return Profile(resource, (coding.code,), "result")


def _risk_profile(profile_id: str, title: str, coding: RiskCoding, what: str) -> Profile:
    value_set = covering_value_set(written_values(coding.value))
    description = (f"{what} as this service writes it: code {coding.code.system}#{coding.code.code}, the value from "
                   f"{value_set.url if value_set else '-'}, focus on the neuroblastoma Condition, the deciding "
                   f"Observations in derivedFrom. Indeterminate: no value, dataAbsentReason temp-unknown; out of "
                   f"scope (ganglioneuroma, mature): not-applicable.")
    elements = _common(title, description, coding.code, value_set, coding.method, el.CONDITION)
    if coding.component is not None:
        component = coding.component
        level_set = covering_value_set(written_values(component.level))
        elements += [el.component_slicing(),
                     *el.component_slice(component.code.code, component.code, ("CodeableConcept",), level_set,
                                         level_set.title if level_set else "The risk level")]
    resource = el.structure_definition(profile_id, title, description, el.OBSERVATION, elements)
    return Profile(resource, (coding.code,), "result")


def result_profiles() -> tuple[Profile, ...]:
    """The stage profiles, then one per risk schema with codes, then the generic risk-group result."""
    stages = [_stage_profile(system_id, coding) for system_id, coding in STAGE_CODINGS.items()]
    risks = []
    for schema_id, coding in RISK_CODINGS.items():
        schema = RISK_SCHEMAS.get(schema_id)
        risks.append(_risk_profile(f"{schema_id}-risk-group", f"{schema.title} risk group (result)", coding,
                                   f"The {schema.title} risk group ({schema.source.key})"))
    generic = _risk_profile("risk-group", "Risk group of another schema (result)", GENERIC_RISK_CODING,
                            "The risk level under a risk schema that has no code of its own (method.text names it)")
    return (*stages, *risks, generic)

