"""SMART App Launch 2.x, server side: discovery, the authorization request with PKCE, the token exchange.

- **EHR launch**: the EHR opens ``/app/launch?iss=…&launch=…``; the app asks for ``launch`` and the patient
  scopes. **Standalone launch**: ``/app/launch?iss=…`` (no ``launch``); the app asks for ``launch/patient`` so
  the authorization server lets the user pick the patient.
- **Scopes**, the fewest that work: ``patient/Patient.rs patient/Condition.rs patient/Observation.rs``; the
  worksheet adds ``patient/Observation.c`` and ``patient/Provenance.c`` (the Provenance of what it writes).
  A server whose ``.well-known/smart-configuration`` does not announce ``permission-v2`` gets the v1 forms
  (``.read``/``.write``). ``openid fhirUser`` names the author of a saved worksheet.
- **PKCE** S256 always (SMART 2.x requires it), ``state`` checked at the callback, the ``aud`` parameter set to
  the FHIR server. A public client by default; ``NBCDS_APP_CLIENT_SECRET`` makes it confidential.
- **Open-server mode** (testing without authorization): ``/app/launch?iss=…&patient=…`` for a server listed in
  ``NBCDS_ALLOW_TOKENLESS_FHIR_SERVERS``: no OAuth at all, reads and writes without a token.

The FHIR server named by ``iss`` comes from the browser, so it must pass the service's own FHIR-server policy
(allow-list, https outside development) before anything is fetched from it. Authlib does the OAuth 2.0 work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from cds_service.app.session import AppSession
from cds_service.protocol.fhir_server_policy import permitted_fhir_server
from cds_service.protocol.origins import Origin
from cds_service.settings import Settings

READ_RESOURCES = ("Patient", "Condition", "Observation")
WRITE_RESOURCES = ("Observation", "Provenance")
TIMEOUT_SECONDS = 5.0


class LaunchError(Exception):
    """A launch that cannot go on; the message is shown to the user (no token, no internal detail)."""


@dataclass(frozen=True)
class SmartConfiguration:
    authorization_endpoint: str
    token_endpoint: str
    v2_scopes: bool
    capabilities: frozenset[str]


def scopes(*, ehr_launch: bool, write: bool, v2: bool) -> str:
    """The scope string for a launch: read always, create only for the worksheet."""
    read, create = (".rs", ".c") if v2 else (".read", ".write")
    wanted = ["launch" if ehr_launch else "launch/patient", "openid", "fhirUser"]
    wanted += [f"patient/{name}{read}" for name in READ_RESOURCES]
    if write:
        wanted += [f"patient/{name}{create}" for name in WRITE_RESOURCES]
    return " ".join(wanted)


def checked_server(settings: Settings, iss: str | None) -> str:
    """``iss`` if the service may talk to it (the same policy as CDS Hooks ``fhirServer``)."""
    server, refusal = permitted_fhir_server(settings, iss)
    if server is None:
        raise LaunchError(f"This FHIR server cannot be used: {refusal}.")
    return server.rstrip("/")


def is_open_server(settings: Settings, iss: str) -> bool:
    return Origin.of(iss) in {Origin.of(item) for item in settings.allow_tokenless_fhir_servers}


def discover(iss: str) -> SmartConfiguration:
    """``{iss}/.well-known/smart-configuration`` (SMART App Launch 2.x §2.1)."""
    try:
        response = requests.get(f"{iss}/.well-known/smart-configuration", timeout=TIMEOUT_SECONDS,
                                headers={"Accept": "application/json"}, allow_redirects=False)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        capabilities = frozenset(c for c in document.get("capabilities", ()) if isinstance(c, str))
        return SmartConfiguration(str(document["authorization_endpoint"]), str(document["token_endpoint"]),
                                  "permission-v2" in capabilities, capabilities)
    except (requests.RequestException, ValueError, KeyError, TypeError):
        raise LaunchError("The FHIR server's SMART configuration could not be read.") from None


def _client(settings: Settings, redirect_uri: str, scope: str | None = None) -> OAuth2Session:
    secret = settings.app_client_secret.get_secret_value() if settings.app_client_secret else None
    return OAuth2Session(settings.app_client_id, secret, redirect_uri=redirect_uri, scope=scope,
                         code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic" if secret
                         else "none")


def authorization_url(settings: Settings, session: AppSession, iss: str, launch: str | None, view: str,
                      redirect_uri: str) -> str:
    """Start the launch: remember state and verifier in the session; the URL to send the browser to."""
    configuration = discover(iss)
    scope = scopes(ehr_launch=launch is not None, write=view == "worksheet", v2=configuration.v2_scopes)
    session.state, session.code_verifier = generate_token(32), generate_token(64)
    session.iss, session.view, session.token_endpoint = iss, view, configuration.token_endpoint
    session.patient = session.access_token = None
    extra = {"aud": iss, **({"launch": launch} if launch else {})}
    url, _ = _client(settings, redirect_uri, scope).create_authorization_url(
        configuration.authorization_endpoint, state=session.state, code_verifier=session.code_verifier, **extra)
    return str(url)


def complete_launch(settings: Settings, session: AppSession, code: str | None, state: str | None,
                    redirect_uri: str) -> None:
    """The callback: check ``state``, exchange the code with the PKCE verifier, keep what the app needs."""
    if not code or not state or state != session.state or not session.token_endpoint or not session.code_verifier:
        raise LaunchError("This sign-in is not the one the app started. Launch the app again.")
    try:
        token = _client(settings, redirect_uri).fetch_token(session.token_endpoint, code=code,
                                                            code_verifier=session.code_verifier,
                                                            timeout=TIMEOUT_SECONDS)
    except Exception:  # Authlib raises OAuthError, requests errors, ValueError: the user just signs in again
        raise LaunchError("The sign-in could not be completed. Launch the app again.") from None
    patient = token.get("patient")
    if not isinstance(patient, str) or not patient:
        raise LaunchError("The EHR did not say which patient to open (no patient in the token response).")
    session.access_token = str(token["access_token"])
    session.scope = str(token.get("scope") or "")
    session.patient = patient
    expires_in = token.get("expires_in")
    session.expires_at = time.time() + float(expires_in) if isinstance(expires_in, int | float) else None
    session.fhir_user = _fhir_user(token)
    session.state = session.code_verifier = session.token_endpoint = None


def _fhir_user(token: dict[str, Any]) -> str | None:
    """The ``fhirUser`` of the id_token, read only to name the author in a Provenance. The id_token came straight
    from the token endpoint over TLS, which OpenID Connect Core §3.1.3.7 accepts instead of its signature; it is
    never used to grant anything."""
    import jwt

    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        return None
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    user = claims.get("fhirUser")
    return user if isinstance(user, str) and len(user) < 512 else None
