"""Which resources the reader validates: only those whose codes the rules read.

An Observation or Condition whose codes name nothing the rules read is reported unrecognised without
being validated (an invalid one too); everything the rules read is validated as before, and a code too
broken to tell is validated so that it is reported invalid. The report's reasons are bounded, and the
readers are total over arbitrary JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fhir_mappings.reading import case_reader, observation_readers, validation
from fhir_mappings.results_codes import STAGE_CODE
from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.model import Code
from fhir_mappings.terminology.observation_kinds import ObservationKind
from neuroblastoma.facts import Presence
from tests.fhir_mappings.test_reading_value_forms import OBS, P, cc, condition, obs, patient, read, ref

HEIGHT = Code("http://loinc.org", "8302-2", "Body height")
ASTHMA = Code("http://hl7.org/fhir/sid/icd-10-cm", "J45.909", "Unspecified asthma")
INVALID_DATE = {"effectiveDateTime": "2025-02-30T25:00:00Z"}


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The references of the resources read_case validates, in order."""
    seen: list[str] = []
    original = validation.validate

    def spy(resource: dict[str, Any]) -> Any:
        seen.append(ref(resource))
        return original(resource)

    monkeypatch.setattr(validation, "validate", spy)
    yield seen


def test_an_unread_code_is_unrecognised_and_never_validated(validated: list[str]) -> None:
    height = obs(HEIGHT, valueQuantity={"value": 88, "unit": "cm"})
    reading = read(height)
    assert reading.report.unrecognised == (ref(height),)
    assert ref(height) not in validated
    assert validated == ["Patient/p1", "Condition/nb"]


@pytest.mark.parametrize("broken", [INVALID_DATE, {"status": "done"}, {"valueQuantity": "88 cm"},
                                    {"misspeltElement": True}], ids=["date", "status", "value", "element"])
def test_an_invalid_observation_with_an_unread_code_is_unrecognised_not_invalid(broken: dict[str, Any]) -> None:
    height = obs(HEIGHT, **broken)
    reading = read(height)
    assert reading.report.unrecognised == (ref(height),)
    assert reading.report.invalid == ()


@pytest.mark.parametrize("code", [OBS("11q-aberration"), STAGE_CODE, std.LOINC_MYCN_CHR2_RATIO_FISH],
                         ids=["decisive", "existing result", "recorded only"])
def test_an_invalid_observation_with_a_read_code_is_still_invalid_and_skipped(code: Code,
                                                                              validated: list[str]) -> None:
    bad = obs(code, valueBoolean=True, **INVALID_DATE)
    reading = read(bad)
    assert [i.reference for i in reading.report.invalid] == [ref(bad)]
    assert "effectiveDateTime" in reading.report.invalid[0].reason
    assert ref(bad) in validated
    assert reading.report.unrecognised == reading.report.recorded_only == reading.existing_results == ()
    assert reading.case.chr11q_aberration is Presence.UNKNOWN


def test_an_unread_code_among_read_ones_is_still_read() -> None:
    bad = {**obs(OBS("11q-aberration"), valueBoolean=True, **INVALID_DATE), "code": cc(HEIGHT, OBS("11q-aberration"))}
    assert [i.reference for i in read(bad).report.invalid] == [ref(bad)]


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_an_unread_code_with_an_ignored_status_is_validated_as_before(status: str) -> None:
    valid, invalid = obs(HEIGHT, status=status), obs(HEIGHT, status=status, **INVALID_DATE)
    reading = read(valid, invalid)
    assert reading.report.ignored_by_status == (ref(valid),)
    assert [i.reference for i in reading.report.invalid] == [ref(invalid)]
    assert reading.report.unrecognised == ()


MALFORMED_CODES = [
    ("a string", "8302-2"),
    ("a number", 5),
    ("a list of concepts", [cc(HEIGHT)]),
    ("coding not a list", {"coding": HEIGHT.coding()}),
    ("coding a number", {"coding": 5}),
    ("a coding not an object", {"coding": ["http://loinc.org|8302-2"]}),
    ("a non-string system", {"coding": [{"system": 5, "code": "8302-2"}]}),
    ("a non-string code", {"coding": [{"system": "http://loinc.org", "code": {"value": "8302-2"}}]}),
]


@pytest.mark.parametrize("code", [c for _, c in MALFORMED_CODES], ids=[n for n, _ in MALFORMED_CODES])
def test_an_observation_whose_code_is_too_broken_to_tell_is_reported_invalid(code: Any) -> None:
    broken = {**obs(HEIGHT), "code": code}
    reading = read(broken)
    assert [i.reference for i in reading.report.invalid] == [ref(broken)]
    assert reading.report.unrecognised == ()


def test_an_observation_without_a_code_is_reported_invalid() -> None:
    codeless = obs(HEIGHT)
    del codeless["code"]
    assert [i.reference for i in read(codeless).report.invalid] == [ref(codeless)]


def _other_condition(code: Any, **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "other", "code": code, "subject": {"reference": f"Patient/{P}"},
            **elements}


def test_an_invalid_condition_with_an_unread_code_is_unrecognised_not_invalid(validated: list[str]) -> None:
    asthma = _other_condition(cc(ASTHMA), onsetDateTime="2025-13-45")
    reading = read(asthma)
    assert reading.report.unrecognised == (ref(asthma),)
    assert reading.report.invalid == ()
    assert ref(asthma) not in validated
    assert reading.has_neuroblastoma


def test_an_invalid_neuroblastoma_condition_is_still_invalid() -> None:
    reading = read(condition(onsetDateTime="2025-13-45"), with_condition=False)
    assert [i.reference for i in reading.report.invalid] == ["Condition/nb"]
    assert not reading.has_neuroblastoma


def test_an_invalid_secondary_neoplasm_condition_is_still_invalid() -> None:
    liver = _other_condition(cc(std.SCT_SECONDARY_LIVER), onsetDateTime="2025-13-45")
    reading = read(liver)
    assert [i.reference for i in reading.report.invalid] == [ref(liver)]
    assert reading.case.metastases == ()


def test_a_neuroblastoma_histology_extension_makes_a_condition_read() -> None:
    histology = {"url": case_reader.MCODE_HISTOLOGY_EXTENSION, "valueCodeableConcept": cc(std.ICDO3_NEUROBLASTOMA)}
    bad = _other_condition(cc(ASTHMA), extension=[histology], onsetDateTime="2025-13-45")
    assert [i.reference for i in read(bad).report.invalid] == [ref(bad)]


@pytest.mark.parametrize("elements", [
    {"code": "J45.909"},
    {"code": {"coding": 5}},
    {"code": cc(ASTHMA), "extension": {"url": case_reader.MCODE_HISTOLOGY_EXTENSION}},
    {"code": cc(ASTHMA), "extension": [{"url": case_reader.MCODE_HISTOLOGY_EXTENSION, "valueCodeableConcept": 5}]},
], ids=["code a string", "coding a number", "extension not a list", "histology concept a number"])
def test_a_condition_whose_codes_are_too_broken_to_tell_is_reported_invalid(elements: dict[str, Any]) -> None:
    broken = {**_other_condition(None), **elements}
    reading = read(broken)
    assert [i.reference for i in reading.report.invalid] == [ref(broken)]
    assert reading.report.unrecognised == ()


def test_the_patient_is_always_validated(validated: list[str]) -> None:
    reading = case_reader.read_case([patient(birthDate="2024-13-01"), condition()], P)
    assert [i.reference for i in reading.report.invalid] == ["Patient/p1"]
    assert validated[0] == "Patient/p1"


# ---- validation outcomes and their size --------------------------------------------------------------

def test_the_outcome_follows_the_content_not_the_id() -> None:
    good = obs(OBS("11q-aberration"), valueBoolean=True)
    bad = {**good, **INVALID_DATE}
    for _ in range(2):
        assert validation.validate(good) is None
        assert validation.validate(bad) is not None
        assert validation.validate({**good, "status": "done"}) is not None


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The references fhir.resources actually validates (cache misses), with an empty cache."""
    validation.clear_validation_cache()
    seen: list[str] = []
    original = validation._reason_invalid

    def spy(resource: dict[str, Any], resource_type: str) -> Any:
        seen.append(ref(resource))
        return original(resource, resource_type)

    monkeypatch.setattr(validation, "_reason_invalid", spy)
    yield seen
    validation.clear_validation_cache()


def test_the_same_content_is_validated_once_and_reported_every_time(checked: list[str]) -> None:
    bad = obs(ELEVEN_Q, valueBoolean=True, status="done")
    for _ in range(2):
        assert [i.reference for i in read(bad).report.invalid] == [ref(bad)]
    assert checked.count(ref(bad)) == 1
    changed = {**bad, "status": "finished"}  # new content: validated again
    assert [i.reference for i in read(changed).report.invalid] == [ref(bad)]
    assert checked.count(ref(bad)) == 2


def test_the_cache_holds_digests_and_bounded_reasons_only(checked: list[str]) -> None:
    """What a worker keeps between calls: 32-byte digests and reasons of at most MAX_REASON characters,
    never a resource or a value from it, and at most the cache's size of them."""
    for number in range(50):
        read(obs(ELEVEN_Q, valueBoolean=True, status="Z" * 10_000 + str(number), id=f"o{number}"))
    cached = dict(validation._OUTCOMES.items())
    assert len(cached) == 52  # the 50 Observations, the Patient and the Condition
    assert all(isinstance(key, bytes) and len(key) == 32 for key in cached)
    assert all(reason is None or len(reason) <= validation.MAX_REASON for reason in cached.values())
    assert not any("Z" * 50 in (reason or "") for reason in cached.values())
    assert validation._OUTCOMES.maxsize == 4096


HUGE = "Z" * 1_000_000


@pytest.mark.parametrize("elements", [
    {"status": HUGE},
    {HUGE: True},
    {"id": HUGE},
    {"effectiveDateTime": HUGE},
    {"valueQuantity": {"value": HUGE}},
    {"component": [{"code": cc(HEIGHT), HUGE: 1}]},
], ids=["status", "member name", "id", "date", "quantity", "component member"])
def test_an_invalid_resource_costs_a_bounded_report_whatever_it_holds(elements: dict[str, Any]) -> None:
    bad = {**obs(ELEVEN_Q, valueBoolean=True), **elements}
    (invalid,) = read(bad).report.invalid
    assert len(invalid.reason) <= validation.MAX_REASON and len(invalid.reference) <= validation.MAX_REFERENCE
    assert "Z" * 50 not in invalid.reason  # the value is never echoed whole


def test_short_reasons_are_kept_whole() -> None:
    bad = obs(ELEVEN_Q, valueBoolean=True, status="done")
    (invalid,) = read(bad).report.invalid
    assert invalid.reason == "status: 'done' is not an Observation status (required binding)"


# ---- decisive findings: validated when the conflict rule needs them ---------------------------------
# A decisive Observation is read before it is validated; the conflict rule validates the candidates in
# the order they would win and the ones disagreeing with the winner, never a superseded one that agrees.

ELEVEN_Q = OBS("11q-aberration")


def _older(days: int, **elements: Any) -> dict[str, Any]:
    return obs(ELEVEN_Q, effectiveDateTime=f"2025-05-{days:02d}", **elements)


def test_a_superseded_agreeing_observation_is_never_validated(validated: list[str]) -> None:
    newest, older = obs(ELEVEN_Q, valueBoolean=True), _older(1, valueBoolean=True)
    reading = read(older, newest)
    assert ref(newest) in validated and ref(older) not in validated
    assert reading.case.chr11q_aberration is Presence.PRESENT
    assert reading.sources[-1] == ref(newest) and reading.report.discordances == ()


def test_an_invalid_superseded_agreeing_observation_is_not_reported() -> None:
    newest, older = obs(ELEVEN_Q, valueBoolean=True), _older(1, valueBoolean=True, status="done")
    reading = read(older, newest)
    assert reading.report.invalid == ()  # it could change nothing: the product decision in the guide
    assert reading.case.chr11q_aberration is Presence.PRESENT


def test_an_invalid_superseded_disagreeing_observation_is_reported_and_not_discordant() -> None:
    newest, older = obs(ELEVEN_Q, valueBoolean=True), _older(1, valueBoolean=False, status="done")
    reading = read(older, newest)
    assert [i.reference for i in reading.report.invalid] == [ref(older)]
    assert reading.report.discordances == ()
    assert reading.case.chr11q_aberration is Presence.PRESENT


def test_a_valid_superseded_disagreeing_observation_is_validated_and_discordant(validated: list[str]) -> None:
    newest, older = obs(ELEVEN_Q, valueBoolean=True), _older(1, valueBoolean=False)
    reading = read(older, newest)
    assert ref(older) in validated
    assert [(d.winner, d.others) for d in reading.report.discordances] == [(ref(newest), (ref(older),))]


def test_an_invalid_newest_observation_is_reported_and_the_next_one_wins() -> None:
    newest = obs(ELEVEN_Q, valueBoolean=True, misspeltElement=1)
    middle, oldest = _older(2, valueBoolean=False), _older(1, valueBoolean=False, status="done")
    reading = read(oldest, middle, newest)
    assert [i.reference for i in reading.report.invalid] == [ref(newest)]  # the oldest agrees with the winner
    assert reading.case.chr11q_aberration is Presence.ABSENT
    assert ref(middle) in reading.sources and reading.report.discordances == ()


def test_a_lone_invalid_decisive_observation_is_reported_and_not_used() -> None:
    bad = obs(ELEVEN_Q, valueBoolean=True, status="done")
    reading = read(bad)
    assert [i.reference for i in reading.report.invalid] == [ref(bad)]
    assert reading.case.chr11q_aberration is Presence.UNKNOWN and ref(bad) not in reading.sources


def test_the_invalid_are_reported_in_reading_order_whenever_validated() -> None:
    first = obs(OBS("1p-aberration"), valueBoolean=True, status="done")  # decisive: validated at resolve time
    second = obs(std.LOINC_MYCN_CHR2_RATIO_FISH, valueQuantity={"value": 1.2}, status="done")  # validated at once
    reading = read(first, second)
    assert [i.reference for i in reading.report.invalid] == [ref(first), ref(second)]


@pytest.mark.parametrize("value", [{"nested": True}, [True]])
def test_a_decisive_observation_of_the_wrong_shape_is_reported_invalid(value: Any) -> None:
    """Readers are total: a value of the wrong shape reads as no value, so the Observation is validated at
    once and reported invalid (not unrecognised, not an error)."""
    bad = obs(ELEVEN_Q, valueBoolean=value)
    reading = read(bad)
    assert [i.reference for i in reading.report.invalid] == [ref(bad)]
    assert reading.report.unrecognised == ()


def test_a_reader_raising_anything_but_unreadable_value_is_a_bug_and_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """No catch-all of shape errors: readers are total, so a TypeError is a bug, whatever the resource."""
    def brittle(resource: dict[str, Any]) -> Any:
        return resource["valueBoolean"]["nested"]  # TypeError on a boolean

    monkeypatch.setitem(observation_readers.READERS, ObservationKind.CHR_11Q, brittle)  # type: ignore[arg-type]
    for status in ("final", "done"):
        with pytest.raises(TypeError):
            read(obs(ELEVEN_Q, valueBoolean=True, status=status))
