"""`neuroblastoma-resection-check` (order-sign, and order-select) and its `-select` twin.

CDS Hooks order-sign/order-select: `context.draftOrders` is a Bundle of the orders being signed;
order-select adds `context.selections` (references of the orders just selected). The check warns
before a resection of the primary tumour is signed without MIBG imaging, or with IDRFs present.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cds_service.cds_hooks_schema import assert_valid_cards_response
from tests.cds_service.client_simulator import (
    EPIC,
    PatientData,
    Service,
    draft_orders,
    example_patient,
    hook_request,
    running_service,
)

RESECTION = "neuroblastoma-resection-check"
RESECTION_SELECT = "neuroblastoma-resection-check-select"
PROCEDURE_SYSTEM = "https://neuroblastoma-cds.github.io/fhir/CodeSystem/procedure"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def resection_order(patient_id: str, order_id: str = "resect-1") -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": order_id, "status": "draft", "intent": "order",
            "subject": {"reference": f"Patient/{patient_id}"},
            "code": {"coding": [{"system": PROCEDURE_SYSTEM, "code": "primary-tumour-resection"}],
                     "text": "Resection of adrenal mass"}}


def other_order(patient_id: str) -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": "cbc-1", "status": "draft", "intent": "order",
            "subject": {"reference": f"Patient/{patient_id}"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "58410-2", "display": "CBC panel"}]}}


def without_mibg(data: PatientData) -> PatientData:
    kept = tuple(r for r in data.resources if "mibg" not in r.get("id", ""))
    assert len(kept) < len(data.resources)
    return PatientData(data.patient_id, kept)


def sign(service: Service, data: PatientData, *orders: dict[str, Any], service_id: str = RESECTION,
         hook: str = "order-sign", selections: list[str] | None = None) -> list[dict[str, Any]]:
    context: dict[str, Any] = {"draftOrders": draft_orders(*orders)}
    if selections is not None:
        context["selections"] = selections
    body = hook_request(data.patient_id, hook=hook, prefetch=data.prefetch(), context=context)
    reply = service.client(EPIC).call(service_id, body)
    assert reply.status == 200, reply.body[:300]
    assert reply.header("Cache-Control") == "no-store"
    return assert_valid_cards_response(reply.json)["cards"]


def test_idrfs_present_warn_before_resection(service: Service) -> None:
    data = example_patient("nb-l2-amplified")
    [card] = sign(service, data, resection_order(data.patient_id))
    assert card["indicator"] == "warning"
    assert "image-defined risk factors" in card["summary"]
    assert "Draft order: Resection of adrenal mass." in card["detail"]  # the order's name, never its id
    assert "ServiceRequest/" not in card["detail"] and "(IDRF 16)" in card["detail"]
    assert card["overrideReasons"]


def test_no_mibg_on_record_warns_before_resection(service: Service) -> None:
    data = without_mibg(example_patient("nb-l1-low"))
    [card] = sign(service, data, resection_order(data.patient_id))
    assert "no MIBG scintigraphy" in card["summary"]


def test_an_l1_tumour_with_mibg_done_needs_no_card(service: Service) -> None:
    data = example_patient("nb-l1-low")
    assert sign(service, data, resection_order(data.patient_id)) == []


def test_orders_other_than_resection_need_no_card(service: Service) -> None:
    data = example_patient("nb-l2-amplified")
    assert sign(service, data, other_order(data.patient_id)) == []


def test_order_select_checks_only_the_selected_orders(service: Service) -> None:
    data = example_patient("nb-l2-amplified")
    orders = (resection_order(data.patient_id), other_order(data.patient_id))
    for service_id in (RESECTION, RESECTION_SELECT):
        assert sign(service, data, *orders, service_id=service_id, hook="order-select",
                    selections=["ServiceRequest/cbc-1"]) == []
        [card] = sign(service, data, *orders, service_id=service_id, hook="order-select",
                      selections=["ServiceRequest/resect-1"])
        assert "image-defined risk factors" in card["summary"]


def test_the_select_service_does_not_answer_order_sign(service: Service) -> None:
    data = example_patient("nb-l2-amplified")
    body = hook_request(data.patient_id, hook="order-sign", prefetch=data.prefetch(),
                        context={"draftOrders": draft_orders(resection_order(data.patient_id))})
    assert service.client().call(RESECTION_SELECT, body).status == 400


def test_a_patient_without_neuroblastoma_needs_no_card(service: Service) -> None:
    data = example_patient("nb-l2-amplified")
    prefetch = {**data.prefetch(), "conditions": {"resourceType": "Bundle", "type": "searchset", "total": 0}}
    body = hook_request(data.patient_id, hook="order-sign", prefetch=prefetch,
                        context={"draftOrders": draft_orders(resection_order(data.patient_id))})
    reply = service.client().call(RESECTION, body)
    assert reply.status == 200 and reply.json == {"cards": []}
