"""Which draft orders the resection check recognises (issue 17): ours, and SNOMED CT's verified generic excision.

The recognised codes are pinned here, in the ValueSet, in the service's discovery description and in
docs/ehr-integration.md, so an integrator whose order gets ``{"cards": []}`` can see why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cds_service.services import REGISTRY
from cds_service.services.resection import ID, is_primary_resection
from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.local_procedures import PROCEDURES, RESECTION_ORDER_VS
from tests.cds_service.client_simulator import Service, example_patient, running_service
from tests.cds_service.test_resection_service import sign

ROOT = Path(__file__).resolve().parents[2]
EXCISION = std.SCT_EXCISION_OF_NEOPLASM.coding()
OURS = PROCEDURES.code("primary-tumour-resection").coding()


def order(code: dict[str, str], **fields: Any) -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": "resect-1", "status": "draft", "intent": "order",
            "subject": {"reference": "Patient/p"}, "code": {"coding": [code]}, **fields}


def site(code: std.Code) -> list[dict[str, Any]]:
    return [{"coding": [code.coding()]}]


def test_the_recognised_codes_are_ours_and_the_verified_snomed_excision() -> None:
    assert {m.key for m in RESECTION_ORDER_VS.members} == {
        (PROCEDURES.url, "primary-tumour-resection"), ("http://snomed.info/sct", "370612006")}
    assert std.VERIFIED_IN[std.SCT_EXCISION_OF_NEOPLASM.key]  # where the code was checked


@pytest.mark.parametrize(("fields", "recognised"), [
    ({}, True),                                                        # no body site: the order's tumour
    ({"bodySite": site(std.SCT_ADRENAL_STRUCTURE)}, True),             # an adrenal tumour
    ({"bodySite": site(std.SCT_MEDIASTINAL_STRUCTURE)}, True),         # a thoracic primary
    ({"bodySite": site(std.SCT_SKIN_STRUCTURE)}, False),               # placed elsewhere
    ({"bodySite": site(std.SCT_SKIN_STRUCTURE), "reasonCode": site(std.SCT_NEUROBLASTOMA)}, True),
])
def test_a_snomed_excision_of_a_neoplasm_is_read_with_its_body_site_and_reason(
        fields: dict[str, Any], recognised: bool) -> None:
    assert is_primary_resection(order(EXCISION, **fields)) is recognised


def test_our_code_is_a_resection_wherever_the_order_places_it() -> None:
    assert is_primary_resection(order(OURS, bodySite=site(std.SCT_SKIN_STRUCTURE)))
    assert not is_primary_resection(order({"system": "http://snomed.info/sct", "code": "387713003"}))  # surgery


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def test_a_snomed_coded_adrenal_tumour_excision_gets_the_card(service: Service) -> None:
    data = example_patient("nb-l2-amplified")
    excision = order(EXCISION, bodySite=site(std.SCT_ADRENAL_STRUCTURE),
                     subject={"reference": f"Patient/{data.patient_id}"})
    [card] = sign(service, data, excision)
    assert "image-defined risk factors" in card["summary"]
    skin = order(EXCISION, bodySite=site(std.SCT_SKIN_STRUCTURE), subject={"reference": f"Patient/{data.patient_id}"})
    assert sign(service, data, skin) == []


def test_discovery_says_which_orders_are_recognised() -> None:
    [description] = [s.description for s in REGISTRY if s.id == ID]
    assert "primary-tumour-resection" in description and "370612006" in description
    assert PROCEDURES.url in description


def test_the_integration_guide_lists_exactly_the_recognised_codes() -> None:
    text = (ROOT / "docs" / "ehr-integration.md").read_text(encoding="utf-8")
    section = text.split("## Orders the resection check recognises", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", section, re.MULTILINE))
    assert listed == {m.key for m in RESECTION_ORDER_VS.members}
