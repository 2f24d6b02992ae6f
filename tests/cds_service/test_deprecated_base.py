"""Over HTTP: a client still sending the deprecated base (``https://nbcds.example.org/fhir``) gets the same cards
as one sending the canonical base, for the staging service and the resection check (implementation guide,
section 1); and nothing the service answers is under example.org."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from fhir_mappings.terminology.systems import NBCDS_DEPRECATED_FHIR_BASE, NBCDS_FHIR_BASE
from tests.cds_service.client_simulator import (
    EPIC,
    Service,
    draft_orders,
    example_patient,
    hook_request,
    running_service,
)
from tests.fhir_mappings.test_canonical_base import codes_under_example_org


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("deprecated-base")) as running:
        yield running


def _old_base(document: Any) -> Any:
    return json.loads(json.dumps(document).replace(NBCDS_FHIR_BASE, NBCDS_DEPRECATED_FHIR_BASE))


def _cards(service: Service, service_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    reply = service.client(EPIC).call(service_id, body)
    assert reply.status == 200, reply.body[:300]
    return reply.json["cards"]


@pytest.mark.parametrize("name", ["nb-l2-infant", "nb-ms-infant", "nb-indeterminate-mycn"])
def test_old_base_prefetch_gets_the_same_cards(service: Service, name: str) -> None:
    data = example_patient(name)
    body = hook_request(data.patient_id, prefetch=data.prefetch())
    old_body = {**body, "prefetch": _old_base(body["prefetch"])}
    assert NBCDS_DEPRECATED_FHIR_BASE in json.dumps(old_body)
    cards = _cards(service, "neuroblastoma-staging", body)
    assert cards and _cards(service, "neuroblastoma-staging", old_body) == cards
    assert not codes_under_example_org(cards)


def test_a_resection_order_coded_under_the_old_base_is_recognised(service: Service) -> None:
    data = example_patient("nb-l2-amplified")
    order = {"resourceType": "ServiceRequest", "id": "resect-1", "status": "draft", "intent": "order",
             "subject": {"reference": f"Patient/{data.patient_id}"},
             "code": {"coding": [{"system": f"{NBCDS_FHIR_BASE}/CodeSystem/procedure",
                                  "code": "primary-tumour-resection"}]}}
    body = hook_request(data.patient_id, hook="order-sign", prefetch=data.prefetch(),
                        context={"draftOrders": draft_orders(order)})
    old_body = {**body, "context": _old_base(body["context"])}
    cards = _cards(service, "neuroblastoma-resection-check", body)
    assert cards and _cards(service, "neuroblastoma-resection-check", old_body) == cards


def test_discovery_names_nothing_under_example_org(service: Service) -> None:
    reply = service.client(EPIC).discovery()
    assert reply.status == 200
    assert not codes_under_example_org(reply.json)
    assert NBCDS_FHIR_BASE in json.dumps(reply.json)
