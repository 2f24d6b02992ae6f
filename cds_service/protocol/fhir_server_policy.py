"""Which client-named FHIR servers the service will query, and with the client's token.

``fhirServer`` arrives in the request, so it is checked against an optional allow-list (no SSRF
to arbitrary hosts) and plain http is refused outside development (the access token must not
travel in clear text: CDS Hooks 2.0 requires https when production data flows).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cds_service.settings import Settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def permitted_fhir_server(settings: Settings, fhir_server: str | None) -> tuple[str | None, str | None]:
    """(the server to use or None, why it was refused)."""
    if fhir_server is None:
        return None, "no fhirServer was given"
    origin = _origin(fhir_server)
    allowlist = {_origin(item) for item in settings.fhir_server_allowlist}
    if allowlist and origin not in allowlist:
        return None, "the fhirServer is not on this service's allow-list"
    if origin.startswith("http://") and not settings.http_fhir_servers_allowed:
        return None, "the fhirServer is not https (required outside the development profile)"
    return fhir_server, None
