"""The chart the app shows: read with the session's token (the same searches as the CDS service's prefetch),
assessed by the same code as a CDS Hooks call, and written to with one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from cds_service.app.session import AppSession
from cds_service.protocol.prefetch import PrefetchRequest, PrefetchResolver
from cds_service.services.assessment import Assessment, assess_resources
from cds_service.services.evidence import CaseEvidence, case_evidence
from cds_service.services.prefetch_queries import STAGING_PREFETCH

WRITE_TIMEOUT_SECONDS = 10.0


class ChartError(Exception):
    """The chart could not be read or written; the message is shown to the user."""


@dataclass(frozen=True)
class Chart:
    assessment: Assessment
    evidence: CaseEvidence
    resources: tuple[dict[str, Any], ...]


def read_chart(resolver: PrefetchResolver, session: AppSession) -> Chart:
    if not session.iss or not session.patient:
        raise ChartError("No patient is open.")
    request = PrefetchRequest(context={"patientId": session.patient}, prefetch=None, fhir_server=session.iss,
                              access_token=session.access_token)
    data = resolver.resolve(STAGING_PREFETCH, request)
    if data.incomplete_keys():
        reasons = "; ".join(f"{key}: {data[key].reason}" for key in data.incomplete_keys())
        raise ChartError(f"The chart could not be read completely ({reasons}).")
    resources = tuple(data.all_resources())
    assessment = assess_resources(resources, session.patient, datetime.now(UTC).date())
    return Chart(assessment, case_evidence(assessment.reading, resources), resources)


def post_transaction(session: AppSession, bundle: dict[str, Any]) -> dict[str, Any]:
    """POST a transaction Bundle to the session's FHIR server with its token; the response Bundle."""
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    if session.access_token:
        headers["Authorization"] = f"Bearer {session.access_token}"
    try:
        response = httpx.post(f"{session.iss}", json=bundle, headers=headers, timeout=WRITE_TIMEOUT_SECONDS,
                              follow_redirects=False)
    except httpx.HTTPError:
        raise ChartError("The FHIR server could not be reached; nothing was saved.") from None
    if response.status_code in (401, 403):
        raise ChartError("The FHIR server refused the save (permission). Launch the worksheet from the EHR "
                         "so that it may create Observations.")
    if response.status_code >= 300:
        raise ChartError(f"The FHIR server refused the save (HTTP {response.status_code}); nothing was saved.")
    result: dict[str, Any] = response.json()
    return result
