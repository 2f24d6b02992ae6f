"""The batch runner: patients' FHIR resources from files answered by the same call pipeline as the service.

Each patient becomes a ``patient-view`` call of ``neuroblastoma-staging`` whose prefetch holds that
patient's resources (the Patient, a searchset of Conditions, a searchset of Observations), so a record
classified from files gets exactly the answer — classification, data notes, "no neuroblastoma" — the
service gives when an EHR sends the same resources. Nothing is fetched and nothing is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cds_service.protocol.pipeline import CallResult, Dependencies, answer_call
from cds_service.protocol.prefetch import FetchPolicy, FhirClient, PrefetchResolver
from cds_service.services import REGISTRY, staging
from cds_service.settings import Settings

Resource = dict[str, Any]


@dataclass(frozen=True)
class PatientRecord:
    """One patient's resources as read from files (Conditions and Observations of other patients are
    ignored by the reader, as when an EHR sends them)."""

    patient_id: str
    resources: tuple[Resource, ...]


def _searchset(resources: Iterable[Resource]) -> Resource:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": resource, "search": {"mode": "match"}} for resource in resources]}


def patient_view_body(record: PatientRecord) -> dict[str, Any]:
    """The hook request an EHR would send for this patient with every prefetch key satisfied."""
    patient = next((r for r in record.resources if r.get("resourceType") == "Patient"
                    and r.get("id") == record.patient_id), None)
    of_type = {kind: [r for r in record.resources if r.get("resourceType") == kind]
               for kind in ("Condition", "Observation")}
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"patientId": record.patient_id},
        "prefetch": {"patient": patient, "conditions": _searchset(of_type["Condition"]),
                     "observations": _searchset(of_type["Observation"])},
    }


class BatchRunner:
    """Answers patients one by one with the staging service's declaration and no FHIR server."""

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        declaration = REGISTRY.get(staging.ID)
        if declaration is None:  # pragma: no cover - declared in cds_service.services
            raise LookupError(staging.ID)
        self.declaration = declaration
        self.dependencies = Dependencies(settings, PrefetchResolver(FhirClient(), FetchPolicy()))

    def answer(self, record: PatientRecord) -> CallResult:
        return answer_call(self.declaration, patient_view_body(record), self.dependencies)
