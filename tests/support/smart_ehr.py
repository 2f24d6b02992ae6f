"""A small SMART on FHIR EHR for the browser tests: an authorization server (Authlib) in front of the test FHIR
engine, as an EHR is in front of its FHIR store.

- ``{base}/fhir/.well-known/smart-configuration``: SMART App Launch 2.x discovery (PKCE S256, v2 scopes);
- ``{base}/authorize``: approves at once (no login page), PKCE required; an EHR launch's ``launch`` value names
  the patient (``launch_for``), a standalone launch gets ``standalone_patient`` (the patient picker's choice);
- ``{base}/token``: the code exchange, answering ``patient`` and an ``id_token`` naming ``fhirUser``;
- ``{base}/fhir/...``: the FHIR API, proxied to the engine only with a valid bearer token whose scopes allow
  the request (``patient/Observation.rs`` to read, ``.c`` to create), and only for the launch's patient's
  searches. What it saw is in ``requests`` (scope checks, for the tests).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

CLIENT_ID = "nbcds-smart-app"


@dataclass
class _Client:
    redirect_uri: str
    client_id: str = CLIENT_ID

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"  # a public client: PKCE is its proof

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code:
    code: str
    redirect_uri: str
    scope: str
    patient: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class SmartEhr:
    """The stand-in: call ``start()``; ``base_url`` is its origin, ``fhir_base`` the ``iss`` to launch with."""

    engine_base: str  # the FHIR engine's base URL (http://127.0.0.1:port/fhir/R4)
    redirect_uri: str = ""
    standalone_patient: str | None = None
    user: str = "Practitioner/radiologist-1"
    launch_for: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[dict[str, list[str]]] = field(default_factory=list)  # each /authorize query
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url}/fhir"

    def new_launch(self, patient: str) -> str:
        launch = uuid.uuid4().hex
        self.launch_for[launch] = patient
        return launch

    # -- the Flask app ---------------------------------------------------------------------------

    def _grant(self) -> type[grants.AuthorizationCodeGrant]:
        ehr = self

        class Grant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ("none",)

            def save_authorization_code(self, code: str, req: Any) -> None:
                launch = req.payload.data.get("launch")
                patient = ehr.launch_for.get(launch) if launch else ehr.standalone_patient
                ehr._codes[code] = _Code(code, req.payload.redirect_uri, req.scope or "", patient or "",
                                         req.payload.data.get("code_challenge"),
                                         req.payload.data.get("code_challenge_method"))

            def query_authorization_code(self, code: str, client: Any) -> _Code | None:
                return ehr._codes.get(code)

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                ehr._codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> str:
                return authorization_code.patient or "nobody"

            def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
                status, token, headers = super().create_token_response()
                code: _Code = self.request.authorization_code
                token["patient"] = code.patient
                token["id_token"] = _unsigned_jwt({"sub": "radiologist-1", "fhirUser": ehr.user,
                                                   "aud": CLIENT_ID, "iss": ehr.base_url})
                ehr.tokens[token["access_token"]] = {"scope": token.get("scope", ""), "patient": code.patient}
                return status, token, headers

        return Grant

    def app(self) -> Flask:
        app = Flask("smart-ehr")
        server = AuthorizationServer(app, query_client=lambda client_id: _Client(self.redirect_uri)
                                     if client_id == CLIENT_ID else None, save_token=lambda token, req: None)
        server.register_grant(self._grant(), [CodeChallenge(required=True)])

        @app.get("/fhir/.well-known/smart-configuration")
        def configuration() -> Response:
            return jsonify({
                "authorization_endpoint": f"{self.base_url}/authorize", "token_endpoint": f"{self.base_url}/token",
                "code_challenge_methods_supported": ["S256"], "grant_types_supported": ["authorization_code"],
                "scopes_supported": ["launch", "launch/patient", "openid", "fhirUser", "patient/*.rs"],
                "capabilities": ["launch-ehr", "launch-standalone", "client-public", "context-ehr-patient",
                                 "context-standalone-patient", "permission-v2", "permission-patient", "sso-openid-connect"],
            })

        @app.get("/authorize")
        def authorize() -> Response:
            self.authorizations.append(request.args.to_dict(flat=False))
            if request.args.get("aud") != self.fhir_base:
                return Response("aud must be the FHIR server", 400)
            grant = server.get_consent_grant(end_user="user")  # validates the request (PKCE challenge required)
            return server.create_authorization_response(grant_user="user", grant=grant)

        @app.post("/token")
        def token() -> Response:
            return server.create_token_response()

        @app.route("/fhir", defaults={"path": ""}, methods=["GET", "POST"])
        @app.route("/fhir/<path:path>", methods=["GET", "POST"])
        def fhir(path: str) -> Response:
            return self._proxy(path)

        return app

    def _proxy(self, path: str) -> Response:
        bearer = request.headers.get("Authorization", "")
        granted = self.tokens.get(bearer.removeprefix("Bearer ")) if bearer.startswith("Bearer ") else None
        resource = path.split("/")[0] if path else "Bundle"
        self.requests.append({"method": request.method, "path": path, "token": granted is not None})
        if granted is None:
            return Response('{"resourceType":"OperationOutcome"}', 401, content_type="application/fhir+json")
        scopes = set(granted["scope"].split())
        needed = [f"patient/{resource}.rs"] if request.method == "GET" else []
        if request.method == "POST" and not path:  # a transaction: every entry must be allowed
            bundle = request.get_json(silent=True) or {}
            needed = [f"patient/{e['resource']['resourceType']}.c" for e in bundle.get("entry", ())]
        if not all(scope in scopes for scope in needed):
            return Response('{"resourceType":"OperationOutcome"}', 403, content_type="application/fhir+json")
        upstream = requests.request(request.method, f"{self.engine_base}/{path}", params=request.args,
                                    data=request.get_data(), timeout=10,
                                    headers={"Content-Type": request.headers.get("Content-Type", "application/json")})
        return Response(upstream.content, upstream.status_code, content_type="application/fhir+json")

    def start(self) -> SmartEhr:
        server = make_server("127.0.0.1", 0, self.app(), threaded=True)
        self.port = server.server_port
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({**claims, 'iat': int(time.time())})}."
