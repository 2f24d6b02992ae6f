"""Case → FHIR Bundle → Case: the encoder writes exactly what the reader reads.

For every example case and for random cases: ``read_case([case_to_bundle(case)], patient)`` gives back
the same case on every rule-relevant field (labels, sources and evidence aside) and the same
classification; every Bundle is valid R4 (fhir.resources R4B) and survives JSON; every fact's
evidence points at a resource in the Bundle; the committed examples/fhir files are up to date.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples import build_fhir_examples
from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.reading.values import codings
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.codes import VERIFIED_IN
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.systems import is_ours
from fhir_mappings.writing.case_to_fhir import case_to_bundle
from fhir_mappings.writing.elements import (
    LATERALITY_STANDARD,
    MYCN_LOINC_ANSWER,
    NODE_BODY_STRUCTURE,
    SITE_BODY_STRUCTURE,
)
from neuroblastoma.anatomy import Compartment, Laterality
from neuroblastoma.biology import MycnStatus
from neuroblastoma.case import Case, IdrfCall, ImagingModality, PrimaryTumour, Unattributed
from neuroblastoma.case_json import case_from_json, case_to_json
from neuroblastoma.classification import classify
from neuroblastoma.facts import Presence
from tests.examples import CASE_FILES
from tests.neuroblastoma import case_strategies as cs

# ---- comparing cases ----------------------------------------------------------------------------

_NOT_RULE_FIELDS = {"label", "source", "idrfSummarySource"}


# Lists whose order means nothing to the rules: the reader gives them in a canonical order (by resource id).
_UNORDERED = {"metastases", "lymphNodes", "effusions", "idrfs", "extensions", "otherScas", "functionalImaging",
              "idrfCalls"}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: sorted(_strip(v), key=lambda item: json.dumps(item, sort_keys=True)) if k in _UNORDERED
                else _strip(v) for k, v in value.items() if k not in _NOT_RULE_FIELDS}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def rule_fields(case: Case) -> dict[str, Any]:
    """The case JSON without labels, sources and evidence (case_to_json already omits evidence)."""
    return _strip(case_to_json(case))


def canonical(case: Case) -> Case:
    """The reader's canonical form of a case; each rewrite means the same to the rules.

    An exact age has no upper bound (the reader gives it as ``age_days_max == age_days``); scans are
    listed in modality order.
    """
    order = list(ImagingModality)
    return dataclasses.replace(
        case,
        age_days_max=None if case.age_days_max == case.age_days else case.age_days_max,
        functional_imaging=tuple(sorted(case.functional_imaging, key=lambda s: order.index(s.modality))),
    )


def classification_facts(case: Case) -> dict[str, Any]:
    """What the rules conclude, without the wording that cites labels or sources."""
    result = classify(case)
    return {
        "stage": result.stage.stage,
        "stage_candidates": set(result.stage.candidates),
        "inrg": (result.risk("inrg2009").group, result.risk("inrg2009").risk, result.risk("inrg2009").out_of_scope),
        "inrg_candidates": {(c.group, c.risk) for c in result.risk("inrg2009").candidates},
        "cog": (result.risk("cog2021").risk, result.risk("cog2021").out_of_scope),
        "cog_candidates": {c.risk for c in result.risk("cog2021").candidates},
        "missing": {m.fact for m in result.missing},
        "warnings": {w.code for w in result.all_warnings},
    }


def resource_refs(bundle: dict[str, Any]) -> set[str]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}


def assert_round_trip(case: Case, bundle: dict[str, Any]) -> None:
    reading = read_case([bundle], case.patient)
    report = reading.report
    assert not (report.invalid or report.unrecognised or report.ignored_by_status or report.preliminary
                or report.discordances or report.other_patients or report.notes), report
    assert reading.has_neuroblastoma
    assert rule_fields(canonical(reading.case)) == rule_fields(canonical(case))
    assert classification_facts(reading.case) == classification_facts(case)
    refs = resource_refs(bundle)
    for evidence in reading.case.evidence:
        assert set(evidence.sources) <= refs, evidence


# ---- the example cases --------------------------------------------------------------------------

EXAMPLE_CASES = {path.stem: case_from_json(json.loads(path.read_text(encoding="utf-8"))) for path in CASE_FILES}


@pytest.mark.parametrize("name", sorted(EXAMPLE_CASES))
def test_example_case_round_trips_through_fhir(name: str) -> None:
    case = EXAMPLE_CASES[name]
    bundle = case_to_bundle(case)
    assert rule_fields(canonical(case)) == rule_fields(case), "the examples are already in canonical form"
    assert_round_trip(case, bundle)


@pytest.mark.parametrize("bundle_type", ["transaction", "collection"])
@pytest.mark.parametrize("name", sorted(EXAMPLE_CASES))
def test_bundle_is_valid_r4_and_survives_json(name: str, bundle_type: str) -> None:
    bundle = case_to_bundle(EXAMPLE_CASES[name], bundle_type=bundle_type)  # type: ignore[arg-type]
    model = Bundle.model_validate(bundle)
    assert json.loads(model.model_dump_json()) == bundle
    assert json.loads(json.dumps(bundle)) == bundle
    ids = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]
    assert len(ids) == len(set(ids)), "ids are unique"
    for entry in bundle["entry"]:
        path = f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        assert entry["fullUrl"].endswith("/" + path)
        if bundle_type == "transaction":
            assert entry["request"] == {"method": "PUT", "url": path}
        else:
            assert "request" not in entry


def test_transaction_bundles_fit_one_medplum_transaction() -> None:
    # Medplum refuses a transaction with more than 50 PUT entries (tests/support/fhir_engine.py).
    assert max(len(case_to_bundle(case)["entry"]) for case in EXAMPLE_CASES.values()) <= 50


def test_conventions_of_the_written_resources() -> None:
    case = EXAMPLE_CASES["nb-l2-infant"]
    bundle = case_to_bundle(case)
    resources = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    patient = resources["nb-l2-infant"]
    assert patient["birthDate"] == "2024-08-01"
    assert patient["name"][0]["text"] == "Example Child"
    condition = resources["nb-l2-infant-neuroblastoma"]
    assert codings(condition["code"]) == [("http://snomed.info/sct", "432328008")]
    assert condition["onsetDateTime"] == "2025-06-01"
    mycn = resources["nb-l2-infant-mycn"]
    assert codings(mycn["code"]) == [("http://loinc.org", "93796-1")]
    assert codings(mycn["valueCodeableConcept"]) == [("http://loinc.org", "LA9634-2")]
    for resource in resources.values():
        if resource["resourceType"] == "Observation":
            assert resource["status"] == "final"
            assert resource["subject"] == {"reference": "Patient/nb-l2-infant"}
            assert resource["effectiveDateTime"] == "2025-06-01"
    assert codings(resources["nb-l2-infant-idrf-15"]["category"]) == [
        ("http://terminology.hl7.org/CodeSystem/observation-category", "imaging")]
    assert codings(mycn["category"]) == [("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")]


def test_mycn_gain_uses_our_code_and_ids_prefix_applies_to_every_id() -> None:
    case = dataclasses.replace(EXAMPLE_CASES["nb-l1-low"], mycn=MycnStatus.GAIN)
    bundle = case_to_bundle(case, ids_prefix="demo-")
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert all(i.startswith("demo-nb-l1-low") for i in ids)
    mycn = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "demo-nb-l1-low-mycn")
    assert codings(mycn["code"]) == [OBSERVATION_CODES.code("mycn-status").key]
    assert codings(mycn["valueCodeableConcept"]) == [vs.MYCN_STATUS_CODING[MycnStatus.GAIN].key]
    reading = read_case([bundle], "demo-nb-l1-low")
    assert reading.case.mycn is MycnStatus.GAIN
    assert reading.case.patient == "demo-nb-l1-low"


def test_age_in_days_goes_to_onset_age_and_the_date_to_recorded_date() -> None:
    exact = dataclasses.replace(EXAMPLE_CASES["nb-l1-low"], age_days=500)
    interval = dataclasses.replace(EXAMPLE_CASES["nb-l1-low"], age_days=426, age_days_max=455)
    for case in (exact, interval):
        bundle = case_to_bundle(case)
        condition = bundle["entry"][1]["resource"]
        assert "onsetDateTime" not in condition
        assert condition["recordedDate"] == "2025-06-01"
        Bundle.model_validate(bundle)
        assert_round_trip(case, bundle)
    assert case_to_bundle(exact)["entry"][1]["resource"]["onsetAge"]["code"] == "d"
    assert case_to_bundle(interval)["entry"][1]["resource"]["onsetRange"]["high"]["value"] == 455


def test_only_known_facts_are_written() -> None:
    bare = Case(patient="nb-bare", primaries=(PrimaryTumour(Compartment.PELVIS),))
    bundle = case_to_bundle(bare)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Condition", "Observation"]
    assert "birthDate" not in bundle["entry"][0]["resource"]
    assert_round_trip(bare, bundle)


def test_unknown_segmental_aberration_label_is_refused() -> None:
    with pytest.raises(ValueError, match="segmental aberration"):
        case_to_bundle(dataclasses.replace(EXAMPLE_CASES["nb-l1-low"], other_scas=("7q gain",)))


def test_standard_codings_written_mean_the_same_as_ours() -> None:
    """Every standard code the encoder writes before ours maps, in the reading tables, to the same value."""
    for site, code in SITE_BODY_STRUCTURE.items():
        assert vs.METASTATIC_SITE_BY_CODING[code.key] is site
    for region, code in NODE_BODY_STRUCTURE.items():
        assert vs.NODAL_REGION_BY_CODING[code.key] is region
    for side, code in LATERALITY_STANDARD.items():
        assert vs.LATERALITY_BY_CODING[code.key] is side
    for status, code in MYCN_LOINC_ANSWER.items():
        assert vs.MYCN_STATUS_BY_CODING[code.key] is status


def test_every_coding_written_comes_from_the_terminology() -> None:
    infrastructure = {"http://terminology.hl7.org/CodeSystem/condition-clinical",
                      "http://terminology.hl7.org/CodeSystem/condition-ver-status"}

    def walk(value: Any) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            found = [(value["system"], value["code"])] if "system" in value and "code" in value and \
                isinstance(value["code"], str) and "value" not in value else []
            return found + [key for item in value.values() for key in walk(item)]
        if isinstance(value, list):
            return [key for item in value for key in walk(item)]
        return []

    for case in EXAMPLE_CASES.values():
        for system, code in walk(case_to_bundle(case)):
            assert is_ours(system) or (system, code) in VERIFIED_IN or system in infrastructure, (system, code)


# ---- the committed files ------------------------------------------------------------------------

def test_committed_fhir_examples_are_up_to_date() -> None:
    assert build_fhir_examples.stale_files() == [], "run: python -m examples.build_fhir_examples"
    assert build_fhir_examples.main(["--check"]) == 0


def test_every_case_file_has_a_fhir_example() -> None:
    assert {p.stem for p in build_fhir_examples.FHIR_DIR.glob("*.json")} == set(EXAMPLE_CASES)


# ---- random cases -------------------------------------------------------------------------------

def _sites(draw: st.DrawFn) -> list[tuple[Compartment | None, Laterality]]:
    sites: list[tuple[Compartment | None, Laterality]] = draw(st.lists(
        st.tuples(st.sampled_from(Compartment), st.sampled_from(Laterality)), min_size=1, max_size=3, unique=True))
    if len(sites) == 1 and draw(st.booleans()) and draw(st.booleans()):
        sites = [(None, Laterality.UNKNOWN)]  # compartment not reported: the Condition stands for the primary
    return sites


@st.composite
def encodable_primaries(draw: st.DrawFn) -> tuple[PrimaryTumour, ...]:
    """Primaries the reader can tell apart (distinct sites), each with its own IDRFs (one of each code),
    extensions (one per site) and overall call: with several, the encoder ties them by ``focus``."""
    primaries = []
    for compartment, side in _sites(draw):
        idrfs = draw(st.lists(cs.idrf_findings, max_size=3, unique_by=lambda f: f.code).map(tuple)
                     | cs.every_idrf_itemised())
        extensions = draw(st.lists(cs.tumour_extensions, max_size=2, unique_by=lambda e: (e.compartment, e.side)))
        primaries.append(PrimaryTumour(compartment, side, tuple(extensions), idrfs, draw(cs.presences)))
    return tuple(primaries)


# Untied findings the encoder can write so that the reader leaves them untied: IDRFs and overall calls
# without focus, body site or side (an untied extension has a side, which may tie it).
encodable_untied = st.builds(
    Unattributed, idrfs=st.lists(cs.idrf_findings, max_size=2, unique_by=lambda f: f.code).map(tuple),
    idrf_calls=st.lists(st.builds(IdrfCall, presence=cs.known_presences), max_size=1).map(tuple))


def _unique(strategy: st.SearchStrategy[Any], key: Any, max_size: int = 3) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(strategy, max_size=max_size, unique_by=key).map(tuple)


@st.composite
def encodable_cases(draw: st.DrawFn) -> Case:
    case = draw(cs.cases(
        patient=st.just("patient-1"),
        primaries=encodable_primaries(),
        lymph_nodes=_unique(cs.nodal_findings, lambda n: (n.region, n.side)),
        metastases=_unique(cs.metastasis_findings, lambda m: m.site),
        functional_imaging=_unique(cs.functional_imaging, lambda s: s.modality),
        effusions=_unique(cs.effusions, lambda e: e.kind, 2),
        other_scas=_unique(st.sampled_from(("17q gain", "3p loss", "4p loss", "1q gain", "2p gain")), lambda s: s),
        idrf_all_primaries=st.builds(IdrfCall, presence=cs.presences),
        unattributed=encodable_untied,
        age_problem=st.none(), age_conflict=st.none(), set_aside_ages=st.just(()),
    ))
    if len(case.primaries) > 1:
        case = dataclasses.replace(case, multifocal=Presence.PRESENT)
    else:
        case = dataclasses.replace(case, unattributed=Unattributed())
    return case


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encodable_cases())
def test_random_cases_round_trip_through_fhir(case: Case) -> None:
    bundle = case_to_bundle(case, bundle_type="collection")
    Bundle.model_validate(bundle)
    assert_round_trip(case, bundle)
