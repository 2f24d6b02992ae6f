"""Client authentication for every route: a bare 401 on failure, the reason only in the log."""

from __future__ import annotations

import logging

from flask import request

from cds_service.auth import AuthFailureReason, ClientAuthError, ClientTokenVerifier
from cds_service.http.request_log import LOGGER_NAME, note
from cds_service.protocol.errors import CdsError
from cds_service.settings import Settings

logger = logging.getLogger(LOGGER_NAME)


def endpoint_urls(settings: Settings) -> tuple[str, ...]:
    """The URLs of the endpoint called, as clients are configured to call it: a configured base URL + the path.

    Never the request's ``Host`` or ``X-Forwarded-*`` headers: a caller sets those, so trusting them let a
    token minted for another service pass the audience check (issue 16).
    """
    return tuple(base + request.path for base in settings.public_base_urls)


def public_base_url(settings: Settings) -> str:
    """The service's base URL as the client sees it (``NBCDS_PUBLIC_BASE_URL`` behind a proxy)."""
    return (settings.public_base_url or request.url_root).rstrip("/")


def authenticate_client(settings: Settings, verifier: ClientTokenVerifier | None) -> None:
    """Verify the CDS client's JWT when authentication is on; raises a 401 CdsError otherwise."""
    if verifier is None:
        return
    try:
        client = verifier.verify(request.headers.get("Authorization"), endpoint_urls(settings))
    except ClientAuthError as error:
        note(auth_failure=error.reason.value)
        if error.reason is AuthFailureReason.WRONG_AUDIENCE:
            # Not secret, and what an integrator needs: which URL the EHR was configured with.
            logger.warning("client JWT audience mismatch", extra={"fields": {
                "client_issuer": error.issuer, "expected_audience": list(error.expected_audiences),
                "received_audience": list(error.received_audiences)}})
        raise CdsError(401, "login", "authentication required") from None
    note(client_issuer=client.issuer)
