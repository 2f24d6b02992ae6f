"""Every name the benchmarks take from the service's own code (``cds_service``), in one place.

The benchmarks drive the service through its HTTP interface (``POST /cds-services/neuroblastoma-staging``,
``Authorization: Bearer <JWT>``, settings from ``NBCDS_*`` variables), which is stable. A few things reach
inside the service's Python packages, and the modules they live in may move when the service is
reorganised; each is imported here, lazily (so importing this module imports no service code), and
nowhere else in ``benchmarks/``:

* ``create_app`` and the runtime's clean-up (``app.extensions["nbcds"].close()``): the benchmark WSGI app
  (``benchmarks.wsgi``), the in-process breakdown and profiles;
* ``request_json``: the floor endpoint decodes the request body exactly as a service call does;
* ``nbcds serve`` (``cds_service.cli.main``) and its gunicorn application class (``cds_service.server``,
  whose ``load`` is swapped for the benchmark app): ``python -m benchmarks.serve``;
* ``FhirClient``, ``RequestLimits``, ``render_template`` and ``STAGING_PREFETCH``: row 4's baseline (the
  service's own FHIR client sending the service's own prefetch queries);
* ``BREAKDOWN_PHASES``: the functions on the request path the in-process breakdown times.

The domain packages (``neuroblastoma``, ``fhir_mappings``) and the tests' helpers (``tests.support``) are
imported where they are used: they are not part of the service's shell.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

#: The hook endpoint (the service's HTTP interface, not an internal).
SERVICE_PATH = "/cds-services/neuroblastoma-staging"

# (label, module, attribute): the request path of POST /cds-services/neuroblastoma-staging, in order.
# A phase whose module or attribute is missing (moved, renamed) is left out of the breakdown.
BREAKDOWN_PHASES = (
    ("decode JSON body", "cds_service.http.service_calls", "decode_json"),
    ("client JWT (ES384, cached JWKS)", "cds_service.http.service_calls", "authenticate_client"),
    ("check request", "cds_service.protocol.pipeline", "parse_hook_request"),
    ("resolve prefetch", "cds_service.protocol.pipeline", "resolve_prefetch"),
    ("read FHIR → case (incl. validation)", "cds_service.services.assessment", "read_case"),
    ("rules (classify)", "cds_service.services.assessment", "classify"),
    ("inputs digest", "cds_service.services.assessment", "inputs_digest"),
    ("FHIR result resources and plans", "cds_service.services.staging", "_actions"),
    ("stage/risk card", "cds_service.services.cards.stage_risk_card", "stage_risk_card"),
    ("audit + issued cards (store)", "cds_service.audit", "AuditObserver.call_finished"),
    ("response JSON", "cds_service.http.service_calls", "jsonify"),
)


# ------------------------------------------------------------------------------------- the Flask app


def create_app() -> Any:
    """The production Flask app, configured from the ``NBCDS_*`` environment."""
    from cds_service.http.app import create_app as create

    return create()


def dispose_app(app: Any) -> None:
    """Release what ``create_app`` opened (the FHIR client's connections, the store's pool)."""
    app.extensions["nbcds"].close()


@cache
def _read_json_body() -> Callable[[], object]:
    from cds_service.http.service_calls import request_json

    return request_json


def read_json_body() -> object:
    """The current request's body decoded as the service decodes it (400 on a bad type or bad JSON)."""
    return _read_json_body()()


# ------------------------------------------------------------------------------------- nbcds serve


def run_nbcds_serve(argv: list[str], load_application: Callable[[], Any]) -> int:
    """``nbcds serve ARGV`` with gunicorn loading ``load_application()`` instead of the production app."""
    from cds_service import server
    from cds_service.cli import main as nbcds_main

    server._Gunicorn.load = lambda _self: load_application()  # type: ignore[method-assign]
    return int(nbcds_main(["serve", *argv]) or 0)


# ------------------------------------------------------------------------------- row 4's baseline


class FhirQueries:
    """The service's three prefetch queries for a patient, sent with the service's own FHIR client."""

    def __init__(self, base_url: str, token: str) -> None:
        from cds_service.protocol.prefetch import FhirClient

        self.base_url = base_url
        self.token = token
        self._client = FhirClient()

    @staticmethod
    def keys() -> tuple[str, ...]:
        from cds_service.services.prefetch_queries import STAGING_PREFETCH

        return tuple(STAGING_PREFETCH)

    def urls(self, patient_id: str) -> Mapping[str, str]:
        from cds_service.protocol.prefetch.templates import render_template
        from cds_service.services.prefetch_queries import STAGING_PREFETCH

        return {key: f"{self.base_url}/{render_template(template, {'patientId': patient_id})}"
                for key, template in STAGING_PREFETCH.items()}

    def get(self, url: str, *, deadline: float) -> dict[str, Any]:
        from cds_service.protocol.prefetch import RequestLimits

        return self._client.get_resource(url, token=self.token, limits=RequestLimits(deadline=deadline))

    def close(self) -> None:
        self._client.close()


def import_attribute(module_name: str, attribute: str) -> tuple[Any, Any] | None:
    """(owner, attribute value) for a breakdown phase — the module, or the class of a ``Class.method`` —
    or None if it is not there any more."""
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    *classes, name = attribute.split(".")
    for class_name in classes:
        owner = getattr(owner, class_name, None)
        if owner is None:
            return None
    value = getattr(owner, name, None)
    return None if value is None else (owner, value)
