"""The app's session: one encrypted, HttpOnly cookie; the access token never reaches the browser's scripts.

The SMART flow runs on the server (docs/smart-app.md says why): the token response is kept in this cookie,
encrypted and authenticated with a Fernet key (AES-128-CBC + HMAC-SHA256), so no server-side session store
is needed and every gunicorn worker can read it. The cookie expires with the token (at most 8 hours), is
``Secure`` over https and ``SameSite=None; Partitioned`` there, so that an EHR can embed the app in an iframe
(CHIPS); over plain http (development) it is ``SameSite=Lax``.

The key: ``NBCDS_APP_SESSION_KEY``. In the development profile without one, a key is generated once into
``NBCDS_APP_KEY_FILE`` (created exclusively, so workers starting together share it; never commit it).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import Request, Response

from cds_service.settings import Settings

logger = logging.getLogger("nbcds")

COOKIE = "nbcds_app"
MAX_AGE_SECONDS = 8 * 3600


class AppNotConfiguredError(RuntimeError):
    """Production without ``NBCDS_APP_SESSION_KEY``: the app answers 503 (the CDS service is unaffected)."""


@dataclass
class AppSession:
    """Who is looking at which patient on which FHIR server, with which token (or none: an open server)."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    iss: str | None = None
    patient: str | None = None
    access_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    expires_at: float | None = None
    fhir_user: str | None = None
    view: str = "decision-path"
    # A launch in progress: the state and PKCE verifier to check at the callback, and where the token is.
    state: str | None = None
    code_verifier: str | None = field(default=None, repr=False)
    token_endpoint: str | None = None

    @property
    def signed_in(self) -> bool:
        fresh = self.expires_at is None or self.expires_at > time.time()
        return bool(self.iss and self.patient) and fresh

    @property
    def can_write(self) -> bool:
        """The worksheet saves only when the token's scope allows creating Observations (or the server is open)."""
        if self.access_token is None:
            return True
        scopes = set((self.scope or "").split())
        return bool(scopes & {"patient/Observation.c", "patient/Observation.write", "patient/Observation.cud",
                              "patient/Observation.crud", "patient/Observation.cruds", "patient/*.write",
                              "patient/*.c", "patient/*.*"})


def _development_key(settings: Settings) -> bytes:
    path = Path(settings.app_key_file)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)
    logger.warning("development profile: the app's session key was generated", extra={"fields": {"file": str(path)}})
    return key


def session_cipher(settings: Settings) -> Fernet:
    if settings.app_session_key is not None:
        return Fernet(settings.app_session_key.get_secret_value().encode())
    if settings.profile == "development":
        return Fernet(_development_key(settings))
    raise AppNotConfiguredError("NBCDS_APP_SESSION_KEY is not set")


def load_session(request: Request, cipher: Fernet) -> AppSession:
    """The request's session, or a fresh one (no cookie, tampered, expired, or written by an older release)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return AppSession()
    try:
        values: dict[str, Any] = json.loads(cipher.decrypt(raw.encode(), ttl=MAX_AGE_SECONDS))
        return AppSession(**values)
    except (InvalidToken, ValueError, TypeError):
        return AppSession()


def save_session(response: Response, session: AppSession, cipher: Fernet, *, secure: bool) -> None:
    token = cipher.encrypt(json.dumps(asdict(session), separators=(",", ":")).encode()).decode()
    response.set_cookie(COOKIE, token, max_age=MAX_AGE_SECONDS, httponly=True, secure=secure, path="/app",
                        samesite="None" if secure else "Lax", partitioned=secure)
