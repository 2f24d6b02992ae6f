"""What both neuroblastoma services do first: read the case from the call's FHIR data and classify it.

Also what the audit record and the CLI need from that: a digest of the inputs (the same data always gives
the same digest) and the mapper's notes on data it could not use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cds_service.protocol.registry import ServiceCall
from cds_service.services.data_notes import data_notes
from fhir_mappings.reading.case_reader import CaseReading, read_case
from neuroblastoma.case_json import case_to_json
from neuroblastoma.classification import classify
from neuroblastoma.results import Classification
from neuroblastoma.sources import RULESET_VERSION


def inputs_digest(reading: CaseReading) -> str:
    """A digest of the mapped inputs and the rule set: the same data always gives the same digest."""
    payload = json.dumps({"case": case_to_json(reading.case), "sources": reading.sources, "ruleset": RULESET_VERSION},
                         sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Assessment:
    """The case read from a call's data and, when the patient has a neuroblastoma, its classification."""

    reading: CaseReading
    classification: Classification | None
    digest: str
    notes: tuple[str, ...]


def assess_resources(resources: Iterable[Any], patient_id: str | None, today: date) -> Assessment:
    """Read and classify one patient's resources (a service call's data, or what the app read from the chart);
    ``today`` is when the question is asked (a diagnosis after it is implausible)."""
    reading = read_case(resources, patient_id, today)
    classification = classify(reading.case) if reading.has_neuroblastoma else None
    return Assessment(reading, classification, inputs_digest(reading), data_notes(reading))


def assess(call: ServiceCall) -> Assessment:
    return assess_resources(call.data.all_resources(), call.request.patient_id, call.received_at.date())
