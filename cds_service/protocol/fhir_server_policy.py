"""Which client-named FHIR servers the service will query, and with the client's token.

``fhirServer`` arrives in the request, so it is checked against an optional allow-list (no SSRF
to arbitrary hosts) and plain http is refused outside development (the access token must not
travel in clear text: CDS Hooks 2.0 requires https when production data flows).

Servers are compared by RFC 6454 origin (``cds_service.protocol.origins``): ``https://ehr.example``,
``https://EHR.example:443/fhir`` and ``https://ehr.example/r4`` are the same server.
"""

from __future__ import annotations

from cds_service.protocol.origins import Origin
from cds_service.settings import Settings


def permitted_fhir_server(settings: Settings, fhir_server: object) -> tuple[str | None, str | None]:
    """(the server to use or None, why it was refused). Total: any value gives an answer."""
    if fhir_server is None:
        return None, "no fhirServer was given"
    origin = Origin.of(fhir_server)
    if origin is None or not isinstance(fhir_server, str):
        return None, "the fhirServer is not an absolute http(s) URL without credentials"
    allowlist = settings.fhir_server_allowlist
    if allowlist and origin not in {Origin.of(item) for item in allowlist}:
        return None, "the fhirServer is not on this service's allow-list"
    if origin.scheme == "http" and not settings.http_fhir_servers_allowed:
        return None, "the fhirServer is not https (required outside the development profile)"
    return fhir_server, None
