"""Prefetch resolution with the FHIR fallback (CDS Hooks 2.0 § "Prefetch").

The HTTP layer builds one `FhirClient` (its event loop and connection pool start on first use, in
each worker process) and one `PrefetchResolver` at start-up, then per call::

    request = PrefetchRequest.from_hook_request(body)
    result = resolver.resolve(service.prefetch, request)  # UnsafeTokenValueError → 400
    result["patient"].status, result.all_resources(), result.status_by_key()

and decides from the per-key statuses which keys are essential and when to answer 412.
"""

from .bundles import SearchsetPage, read_searchset
from .fhir_base import FhirBase, InvalidFhirServerError
from .fhir_client import FailureKind, FhirClient, FhirClientSettings, FhirFetchError, RequestLimits
from .resolve import FetchPolicy, PrefetchRequest, PrefetchResolver, resolve_prefetch
from .result import KeyResult, PrefetchResult, PrefetchStatus
from .templates import (
    InvalidTemplateError,
    UnsafeTokenValueError,
    UserTokens,
    render_template,
    validate_template,
)

__all__ = [
    "FailureKind",
    "FetchPolicy",
    "FhirBase",
    "FhirClient",
    "FhirClientSettings",
    "FhirFetchError",
    "InvalidFhirServerError",
    "InvalidTemplateError",
    "KeyResult",
    "PrefetchRequest",
    "PrefetchResolver",
    "PrefetchResult",
    "PrefetchStatus",
    "RequestLimits",
    "SearchsetPage",
    "UnsafeTokenValueError",
    "UserTokens",
    "read_searchset",
    "render_template",
    "resolve_prefetch",
    "validate_template",
]
