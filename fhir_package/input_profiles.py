"""One profile per kind of Observation the service reads, generated from the terminology tables.

``ObservationKind`` and ``OBSERVATION_KIND_BY_CODING`` (``observation_kinds.py``) say which codes denote the
kind; ``SHAPES`` (``observation_shapes.py``) says what the value, components, body site and method carry. A
kind with one code has it as a pattern; a kind with several (ours and a LOINC code for the same fact, the 20
IDRFs) has ``code`` bound to the ValueSet of exactly those codes: the catalogue's when one matches, else one
generated here (``observation-code-<kind>``). A value taken from several ValueSets (present/absent or a
symptom) is bound to their union (``observation-value-<kind>``).
"""

from __future__ import annotations

from fhir_mappings.terminology.catalogue import VALUE_SETS
from fhir_mappings.terminology.model import Code, ValueSetDef
from fhir_mappings.terminology.observation_kinds import OBSERVATION_CODE_VS, OBSERVATION_KIND_BY_CODING, ObservationKind
from fhir_mappings.terminology.observation_shapes import SHAPES, ObservationShape, ValueShape
from fhir_package import elements as el
from fhir_package.elements import Json, Profile

_NO_SHAPE_NOTE = ("No value shape is described for this kind yet (fhir_mappings/terminology/observation_shapes.py): "
                  "only its code is constrained.")


def kind_codes(kind: ObservationKind) -> tuple[Code, ...]:
    """The Observation codes that denote ``kind``, in the order the terminology lists them."""
    return tuple(code for code in OBSERVATION_CODE_VS.members if OBSERVATION_KIND_BY_CODING[code.key] is kind)


def shape_of(kind: ObservationKind) -> ObservationShape:
    """The kind's row in ``SHAPES``, or a shape that constrains its code only."""
    return SHAPES.get(kind) or ObservationShape(kind_codes(kind)[0].display, None, note=_NO_SHAPE_NOTE)


def _listed(codes: tuple[Code, ...]) -> str:
    return "; ".join(f"{c.system}#{c.code} ({c.display})" for c in codes)


def _codes_text(kind: ObservationKind, codes: tuple[Code, ...]) -> str:
    """The codes themselves, or (more than four) the ValueSet that lists them."""
    if len(codes) <= 4:
        return _listed(codes)
    value_set = code_value_set(kind)
    return f"one of the {len(codes)} codes of ValueSet {value_set.url if value_set else ''}"


def code_value_set(kind: ObservationKind) -> ValueSetDef | None:
    """The ValueSet of a kind's codes when it has several: the catalogue's with exactly them, else a new one."""
    codes = kind_codes(kind)
    if len(codes) == 1:
        return None
    keys = frozenset(c.key for c in codes)
    for value_set in VALUE_SETS:
        if value_set.keys() == keys:
            return value_set
    return ValueSetDef(f"observation-code-{kind.value}", f"Observation codes: {shape_of(kind).title}",
                       f"The Observation.code values that report one fact ({kind.value}): {_listed(codes)}.", codes)


def value_value_set(name: str, title: str, value: ValueShape) -> ValueSetDef | None:
    """The one ValueSet of a value, or the union of several (each coding once, in their order) named ``name``."""
    if len(value.value_sets) <= 1:
        return value.value_sets[0] if value.value_sets else None
    members = tuple(dict.fromkeys(m for value_set in value.value_sets for m in value_set.members))
    united = ", ".join(value_set.name for value_set in value.value_sets)
    return ValueSetDef(name, f"Values: {title}", f"Every value the service reads here: the union of {united}.",
                       members)


def _value_short(value: ValueShape) -> str:
    unit = f", UCUM '{value.unit.code}' ({value.unit.display})" if value.unit else ""
    return " or ".join(value.types) + unit


def _description(kind: ObservationKind, shape: ObservationShape, codes: tuple[Code, ...]) -> str:
    role = "The service reads it" if kind.decisive else "The service records it; it never decides a result"
    return (f"{shape.title}: an input Observation of kind '{kind.value}'. {role} (case fact '{kind.fact.value}'). "
            f"Observation.code: {_codes_text(kind, codes)}. {shape.note}").strip()


def _elements(kind: ObservationKind, shape: ObservationShape, codes: tuple[Code, ...],
              new_value_sets: list[ValueSetDef]) -> list[Json]:
    def known(value_set: ValueSetDef | None) -> ValueSetDef | None:
        if value_set is not None and value_set not in VALUE_SETS and value_set not in new_value_sets:
            new_value_sets.append(value_set)
        return value_set

    elements = [el.root(shape.title, _description(kind, shape, codes)),
                el.fixed_code("Observation.code", codes, known(code_value_set(kind)),
                              _codes_text(kind, codes) if len(codes) > 4 else "; ".join(c.display for c in codes))]
    if shape.value is not None:
        elements.append(el.typed_value("Observation.value[x]", shape.value.types,
                                       known(value_value_set(f"observation-value-{kind.value}", shape.title,
                                                             shape.value)), _value_short(shape.value)))
    if shape.body_site is not None:
        elements.append(el.element("Observation.bodySite", short=shape.body_site.title,
                                   binding=el.binding(shape.body_site, "extensible")))
    if shape.method is not None:
        elements.append(el.element("Observation.method", short=shape.method.title,
                                   binding=el.binding(shape.method, "extensible")))
    if shape.interpretation is not None:
        codes_text = ", ".join(m.code for m in shape.interpretation.members)
        elements.append(el.element("Observation.interpretation", short=f"{shape.interpretation.title} ({codes_text})",
                                   definition=f"{shape.interpretation.description} ValueSet "
                                              f"{shape.interpretation.url}; HL7 POS/NEG/IND are a value form."))
    if shape.parts:
        elements.append(el.component_slicing())
        for part in shape.parts:
            elements += el.component_slice(part.code.code, part.code, part.value.types,
                                           known(value_value_set(f"observation-value-{kind.value}-{part.code.code}",
                                                                 part.code.display, part.value)),
                                           _value_short(part.value))
    return elements


def profile_id(kind: ObservationKind) -> str:
    return f"observation-{kind.value}"


def input_profiles() -> tuple[tuple[Profile, ...], tuple[ValueSetDef, ...]]:
    """Every input kind's profile, and the ValueSets generated for them (in first-use order)."""
    new_value_sets: list[ValueSetDef] = []
    profiles = []
    for kind in ObservationKind:
        shape, codes = shape_of(kind), kind_codes(kind)
        resource = el.structure_definition(profile_id(kind), shape.title, _description(kind, shape, codes),
                                           el.OBSERVATION, _elements(kind, shape, codes, new_value_sets))
        profiles.append(Profile(resource, codes, "input"))
    return tuple(profiles), tuple(new_value_sets)
