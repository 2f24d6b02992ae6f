"""The response contract every robustness test checks, and the service settings they use.

Every answer is one of: a 200 with valid cards (or the feedback receipt), a 400/401/404/412 with a
FHIR OperationOutcome, a 413 for an oversized body (also an OperationOutcome), or, for feedback and
readiness while the store is down, a 503. Never a 500, never a traceback or internal detail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from cds_service.settings import Settings
from tests.cds_service.cds_hooks_schema import assert_operation_outcome, assert_valid_cards_response

SERVICE_STATUSES = frozenset({200, 400, 401, 404, 412, 413})
FEEDBACK_STATUSES = frozenset({200, 400, 401, 404, 413})

# What a leaked traceback or internal error looks like in a body. Checked on every body we get.
INTERNAL_DETAIL = re.compile(
    r"Traceback|File \"|site-packages|\.py\b|sqlalchemy|psycopg|werkzeug|jinja|"
    r"\b(?:Key|Type|Value|Attribute|Index|Name|Unicode\w*|Recursion|Assertion|Runtime|Zero\w*|Overflow|"
    r"Operational|Integrity|Data|Programming|JSONDecode)Error\b|Exception\b"
)


def robustness_settings(database: Path | str, **overrides: Any) -> Settings:
    """Development profile without client JWTs, an own store, short FHIR deadlines, plain-http FHIR allowed."""
    url = database if isinstance(database, str) and "://" in database else f"sqlite:///{database}"
    values: dict[str, Any] = {
        "profile": "development",
        "require_jwt": False,
        "database_url": url,
        "log_level": "WARNING",
        "fhir_deadline_seconds": 1.5,
        "fhir_connect_timeout_seconds": 0.5,
        "fhir_read_timeout_seconds": 1.0,
        "fhir_max_pages": 5,
        "fhir_max_response_bytes": 1_000_000,
        "max_request_bytes": 2_000_000,
    }
    values.update(overrides)
    return Settings(**values)


def strict_json(body: bytes) -> Any:
    """RFC 8259 JSON, UTF-8: NaN and Infinity (Python extensions) are refused."""

    def refuse(name: str) -> None:
        raise AssertionError(f"response body holds {name}, which is not JSON")

    return json.loads(body.decode("utf-8"), parse_constant=refuse)


def assert_no_internal_detail(body: bytes) -> None:
    text = body.decode("utf-8", errors="replace")
    leaked = INTERNAL_DETAIL.search(text)
    assert leaked is None, f"internal detail {leaked.group(0)!r} in a response body: {text[:400]}"


def assert_service_contract(status: int, body: bytes, *, allowed: Collection[int] = SERVICE_STATUSES) -> Any:
    """The contract for `POST /cds-services/{id}`; returns the decoded body."""
    assert status != 500, f"500 from the service: {body[:400]!r}"
    assert status in allowed, f"status {status} not in {sorted(allowed)}: {body[:400]!r}"
    assert_no_internal_detail(body)
    decoded = strict_json(body)
    if status == 200:
        assert_valid_cards_response(decoded)
    else:
        assert_operation_outcome(decoded)
    return decoded


def assert_feedback_contract(status: int, body: bytes, *, allowed: Collection[int] = FEEDBACK_STATUSES) -> Any:
    """The contract for `POST /cds-services/{id}/feedback`; returns the decoded body."""
    assert status != 500, f"500 from feedback: {body[:400]!r}"
    assert status in allowed, f"status {status} not in {sorted(allowed)}: {body[:400]!r}"
    assert_no_internal_detail(body)
    decoded = strict_json(body)
    if status == 200:
        assert set(decoded) == {"stored"}, decoded
        for item in decoded["stored"]:
            assert item["status"] in ("stored", "duplicate"), item
    else:
        assert_operation_outcome(decoded)
    return decoded


def example_request(name: str) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2] / "examples" / "requests"
    return json.loads((root / f"{name}.json").read_text(encoding="utf-8"))


EXAMPLE_REQUESTS = tuple(sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "examples" / "requests")
                                .glob("*.json")))
