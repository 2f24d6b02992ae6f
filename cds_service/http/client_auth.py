"""Client authentication for every route: a bare 401 on failure, the reason only in the log."""

from __future__ import annotations

import logging

from flask import request

from cds_service.auth import ClientAuthError, ClientTokenVerifier
from cds_service.http.request_log import LOGGER_NAME, note
from cds_service.protocol.errors import CdsError
from cds_service.settings import Settings

logger = logging.getLogger(LOGGER_NAME)


def called_url(settings: Settings) -> str:
    """The URL the client called, as it saw it: the configured public base URL behind a proxy."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + request.path
    return request.base_url


def public_base_url(settings: Settings) -> str:
    """The service's base URL as the client sees it (``NBCDS_PUBLIC_BASE_URL`` behind a proxy)."""
    return (settings.public_base_url or request.url_root).rstrip("/")


def authenticate_client(settings: Settings, verifier: ClientTokenVerifier | None) -> None:
    """Verify the CDS client's JWT when authentication is on; raises a 401 CdsHttpError otherwise."""
    if verifier is None:
        return
    try:
        client = verifier.verify(request.headers.get("Authorization"), called_url(settings))
    except ClientAuthError as error:
        note(auth_failure=error.reason.value)
        raise CdsError(401, "login", "authentication required") from None
    note(client_issuer=client.issuer)
