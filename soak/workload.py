"""The soak's clients: a fixed number of threads sending a fixed mix of calls until the time is up.

Mix (weights): full prefetch 60 % (every key sent, any of the example patients), partial prefetch 25 %
(only `patient` sent, for a patient held by the FHIR engine: the service fetches `conditions` and
`observations` from it) and feedback 15 % (one entry on a card an earlier call returned, with its own
timestamp, so every entry is new). Every call is a valid request: any answer other than 200 counts as
an error.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

STAGING = "/cds-services/neuroblastoma-staging"
MIX = (("full", 60), ("partial", 25), ("feedback", 15))


@dataclass(frozen=True)
class Sample:
    started: float  # seconds since the load began
    kind: str
    status: int  # 0: no HTTP answer (connection error, client timeout)
    latency_ms: float


def _patient_data(bundle: dict[str, Any]) -> tuple[str, dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    resources = [entry["resource"] for entry in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    conditions = [r for r in resources if r["resourceType"] == "Condition"]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    return patient["id"], patient, conditions, observations


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}


class Workload:
    """Builds the requests, sends them from `concurrency` threads, and keeps every sample."""

    def __init__(self, base_url: str, fhir_server: str, bundles: dict[str, dict[str, Any]],
                 on_fhir_server: set[str], *, seed: int = 20_251_121) -> None:
        self.base_url = base_url
        self.fhir_server = fhir_server
        self.patients = [_patient_data(bundle) for bundle in bundles.values()]
        self.fetchable = [_patient_data(bundle) for name, bundle in bundles.items() if name in on_fhir_server]
        self.samples: list[Sample] = []
        self.cards: deque[tuple[str, str | None]] = deque(maxlen=500)
        self.acknowledged = 0  # feedback entries the service answered "stored"
        self.duplicates = 0
        self.service_ok = 0
        self.service_answered = 0  # service calls with any HTTP answer (each one is audited)
        self.failures: deque[str] = deque(maxlen=20)
        self._lock = threading.Lock()
        self._clock = itertools.count()
        self._seed = seed

    # -- requests ------------------------------------------------------------------------------
    def _hook_request(self, rng: random.Random, partial: bool) -> dict[str, Any]:
        patient_id, patient, conditions, observations = rng.choice(self.fetchable if partial else self.patients)
        body: dict[str, Any] = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                                "context": {"userId": "Practitioner/soak", "patientId": patient_id}}
        if partial:
            body["fhirServer"] = self.fhir_server
            body["prefetch"] = {"patient": patient}
        else:
            body["prefetch"] = {"patient": patient, "conditions": _searchset(conditions),
                                "observations": _searchset(observations)}
        return body

    def _feedback(self, rng: random.Random) -> dict[str, Any] | None:
        with self._lock:
            if not self.cards:
                return None
            card, suggestion = rng.choice(self.cards)
            tick = next(self._clock)
        when = (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(milliseconds=tick)).isoformat().replace("+00:00", "Z")
        if suggestion is not None and rng.random() < 0.5:
            entry = {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}],
                     "outcomeTimestamp": when}
        else:
            entry = {"card": card, "outcome": "overridden", "outcomeTimestamp": when,
                     "overrideReason": {"reason": {"system": "http://terminology.hl7.org/CodeSystem/"
                                                             "non-adherence-reason-codes",
                                                   "code": "need-more-info", "display": "Need more information"}}}
        return {"feedback": [entry]}

    # -- the load --------------------------------------------------------------------------------
    def run(self, *, seconds: float, concurrency: int) -> float:
        """Send calls for `seconds` from `concurrency` threads; returns the load's start (monotonic)."""
        began = time.monotonic()
        ends = began + seconds
        threads = [threading.Thread(target=self._client, args=(index, began, ends), name=f"soak-client-{index}")
                   for index in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return began

    def _client(self, index: int, began: float, ends: float) -> None:
        rng = random.Random(self._seed + index)  # noqa: S311 - a workload, not a secret
        kinds, weights = zip(*MIX, strict=True)
        with requests.Session() as session:
            while time.monotonic() < ends:
                kind = rng.choices(kinds, weights)[0]
                if kind == "feedback":
                    body = self._feedback(rng)
                    if body is None:
                        kind, body = "full", self._hook_request(rng, partial=False)
                else:
                    body = self._hook_request(rng, partial=kind == "partial")
                path = f"{STAGING}/feedback" if kind == "feedback" else STAGING
                self._send(session, kind, path, body, began)

    def _send(self, session: requests.Session, kind: str, path: str, body: dict[str, Any], began: float) -> None:
        started = time.monotonic()
        status, answer = 0, None
        try:
            response = session.post(self.base_url + path, json=body, timeout=15)
            status = response.status_code
            answer = response.json() if status == 200 else None
            if status != 200:
                self.failures.append(f"{kind} {status}: {response.text[:200]}")
        except (requests.RequestException, ValueError) as error:
            self.failures.append(f"{kind}: {type(error).__name__}")
        latency_ms = (time.monotonic() - started) * 1000
        self.samples.append(Sample(started - began, kind, status, latency_ms))
        if kind != "feedback" and status:
            with self._lock:
                self.service_answered += 1
        if answer is None:
            return
        with self._lock:
            if kind == "feedback":
                for item in answer.get("stored", ()):
                    if item["status"] == "stored":
                        self.acknowledged += 1
                    else:
                        self.duplicates += 1
            else:
                self.service_ok += 1
                for card in answer.get("cards", ()):
                    suggestions = card.get("suggestions") or [{}]
                    self.cards.append((card["uuid"], suggestions[0].get("uuid")))
