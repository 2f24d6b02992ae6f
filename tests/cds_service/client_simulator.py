"""A CDS client simulator: sends requests the way the CDS Hooks sandbox, Epic and Oracle Health do.

Written from cds-hooks-notes §2.1 (the sandbox, recorded), §2.2 (the sandbox launched from a SMART
sandbox), §2.5 (Epic, Oracle) and §2.6 (what a repeatable harness should cover). It speaks to the
service either through Flask's test client or over real HTTP (`requests`), with the same API:

    client = CdsClient(FlaskTransport(app.test_client()), profile=SANDBOX)
    reply = client.call("neuroblastoma-staging", hook_request(patient_id, prefetch=...))

Every call carries a JWT minted for exactly that call (`aud` = the URL called, a fresh `jti`),
signed with keys generated at test time: ES384 for the sandbox and Oracle styles, RS384 for Epic
(with Epic's `sub` and `nbf`). `trusted_issuers_setting()` is the matching NBCDS_TRUSTED_ISSUERS.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.http.app import create_app
from cds_service.http.request_log import LOGGER_NAME, JsonLineFormatter
from cds_service.services.prefetch_queries import STAGING_PREFETCH
from cds_service.settings import Settings
from cds_service.store import Store
from fhir_mappings.writing.case_to_fhir import case_to_bundle
from neuroblastoma.case_json import case_from_json
from tests.examples import EXAMPLES, case_document

# --------------------------------------------------------------------------- keys and tokens

SANDBOX_STYLE_ISSUER = "https://sandbox.cds-hooks.test"  # a self-hosted sandbox with our test key
EPIC_ISSUER = "https://fhir.epic-hospital.test/api/FHIR/R4"
ORACLE_ISSUER = "https://cds-hooks.oracle-health.test"
UNTRUSTED_ISSUER = "https://rogue.example.net"

ES_KID = "test-es384-1"
RS_KID = "test-rs384-1"


@dataclass(frozen=True)
class ClientKeys:
    es384: ec.EllipticCurvePrivateKey
    rs384: rsa.RSAPrivateKey
    other_es384: ec.EllipticCurvePrivateKey  # a key nobody trusts

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set of the trusted keys (the RSA key without `alg`, as many JWKS publish it)."""
        es = ECAlgorithm.to_jwk(self.es384.public_key(), as_dict=True)
        es.update({"kid": ES_KID, "use": "sig", "alg": "ES384"})
        rs = RSAAlgorithm.to_jwk(self.rs384.public_key(), as_dict=True)
        rs.update({"kid": RS_KID, "use": "sig"})
        return {"keys": [es, rs]}


@functools.cache
def client_keys() -> ClientKeys:
    """Generated once per test session (an RSA key takes a while)."""
    return ClientKeys(
        es384=ec.generate_private_key(ec.SECP384R1()),
        rs384=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        other_es384=ec.generate_private_key(ec.SECP384R1()),
    )


def trusted_issuers_setting(jwks_url: str | None = None) -> str:
    """NBCDS_TRUSTED_ISSUERS for the three client styles: the JWKS inline, or served at `jwks_url`."""
    source: dict[str, Any] = {"jwks_url": jwks_url} if jwks_url else {"jwks": client_keys().jwks()}
    return json.dumps([{"issuer": issuer, **source} for issuer in (SANDBOX_STYLE_ISSUER, EPIC_ISSUER, ORACLE_ISSUER)])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_jwt(
    aud: str | list[str],
    *,
    iss: str = SANDBOX_STYLE_ISSUER,
    alg: str = "ES384",
    lifetime: int = 300,
    iat_offset: float = 0,
    kid: str | None = None,
    jku: str | None = None,
    key: Any = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """A CDS Hooks client JWT (header alg/kid/typ[/jku]; claims iss, aud, exp, iat, jti)."""
    keys = client_keys()
    now = time.time() + iat_offset
    iat = round(now)  # the sandbox rounds: iat may lie up to 0.5 s in the future
    claims: dict[str, Any] = {"iss": iss, "aud": aud, "exp": iat + lifetime, "iat": iat, "jti": str(uuid.uuid4())}
    claims.update(extra_claims or {})
    if key is None:
        key = keys.es384 if alg == "ES384" else keys.rs384
    headers: dict[str, Any] = {"kid": kid or (ES_KID if alg == "ES384" else RS_KID), "typ": "JWT"}
    if jku:
        headers["jku"] = jku
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def unsigned_jwt(aud: str, *, iss: str = SANDBOX_STYLE_ISSUER) -> str:
    """`alg: none`: a token anyone can write. Must be refused."""
    now = int(time.time())
    header = {"alg": "none", "typ": "JWT", "kid": ES_KID}
    claims = {"iss": iss, "aud": aud, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    return f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}."


# --------------------------------------------------------------------------- client styles


@dataclass(frozen=True)
class ClientProfile:
    """How one kind of CDS client signs and sends its requests."""

    name: str
    issuer: str
    alg: str
    content_type: str
    scope: str
    sends_patient_in_authorization: bool
    extra_claims: Mapping[str, Any] = field(default_factory=dict)
    not_before_seconds: int | None = None  # Epic: nbf about iat - 5 min
    jku: str | None = None
    iat_offset: float = 0.0


#: The sandbox (§2.1): ES384 with `jku`, `exp = iat + 300`, iat rounded (may be 0.5 s ahead), no tenant.
#: Launched from a SMART sandbox it sends its own hard-coded scope string and no `patient` (§2.2).
SANDBOX = ClientProfile(
    name="sandbox", issuer=SANDBOX_STYLE_ISSUER, alg="ES384", content_type="application/json",
    scope="patient/*.* user/*.* launch openid profile online_access", sends_patient_in_authorization=False,
    iat_offset=0.5,
)
#: Epic (§2.5): RS384, `sub` = the CDS client id and `nbf` ≈ iat − 5 min; SMART v1 scopes.
EPIC = ClientProfile(
    name="epic", issuer=EPIC_ISSUER, alg="RS384", content_type="application/json",
    scope="patient/Patient.read patient/Condition.read patient/Observation.read", sends_patient_in_authorization=True,
    extra_claims={"sub": "epic-cds-client-1"}, not_before_seconds=300,
)
#: Oracle Health (§2.5) as a 3.0-era client: SMART v2 scopes, `application/fhir+json`, a `tenant`.
ORACLE = ClientProfile(
    name="oracle", issuer=ORACLE_ISSUER, alg="ES384", content_type="application/fhir+json",
    scope="patient/Patient.rs patient/Condition.rs patient/Observation.rs", sends_patient_in_authorization=True,
    extra_claims={"tenant": "ec2458f2-1e24-41c8-b71b-0e701af7583d"},
)
PROFILES = (SANDBOX, EPIC, ORACLE)
SMART_V1_WILDCARD = "patient/*.read"
SMART_V2_OBSERVATION = "patient/Observation.rs"


# --------------------------------------------------------------------------- transports


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class Transport(Protocol):
    base_url: str

    def send(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply: ...


class FlaskTransport:
    """Flask's test client; the service sees `https://localhost` as its base URL."""

    def __init__(self, test_client: Any, base_url: str = "https://localhost") -> None:
        self.client = test_client
        self.base_url = base_url

    def send(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply:
        response = self.client.open(path, method=method, headers=dict(headers), data=body,
                                    base_url=self.base_url)
        return Reply(response.status_code, dict(response.headers), response.get_data())


class HttpTransport:
    """Real HTTP to a running service."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply:
        response = self.session.request(method, self.base_url + path, headers=dict(headers), data=body,
                                        timeout=self.timeout, allow_redirects=False)
        return Reply(response.status_code, dict(response.headers), response.content)


# --------------------------------------------------------------------------- the client

ORIGIN = "http://localhost:8080"  # where the sandbox's page is served from (a browser client)
_AUTO = object()


class CdsClient:
    """One CDS client. `token=` on any call: `_AUTO` (mint one), None (no Authorization) or a JWT."""

    def __init__(self, transport: Transport, profile: ClientProfile = SANDBOX, origin: str | None = ORIGIN) -> None:
        self.transport = transport
        self.profile = profile
        self.origin = origin

    # -- tokens ---------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.transport.base_url + path

    def token_for(self, path: str, **overrides: Any) -> str:
        profile = self.profile
        claims = dict(profile.extra_claims)
        if profile.not_before_seconds is not None:
            claims["nbf"] = int(time.time()) - profile.not_before_seconds
        claims.update(overrides.pop("extra_claims", {}))
        options: dict[str, Any] = {"iss": profile.issuer, "alg": profile.alg, "jku": profile.jku,
                                   "iat_offset": profile.iat_offset}
        options.update(overrides)
        aud = options.pop("aud", self.url(path))
        return mint_jwt(aud, extra_claims=claims, **options)

    def _headers(self, path: str, token: Any, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.origin:
            headers["Origin"] = self.origin
        if token is _AUTO:
            token = self.token_for(path)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        headers.update(extra or {})
        return headers

    # -- calls ----------------------------------------------------------------------------
    def discovery(self, *, token: Any = _AUTO, headers: Mapping[str, str] | None = None) -> Reply:
        path = "/cds-services"
        return self.transport.send("GET", path, self._headers(path, token, headers), None)

    def call(self, service_id: str, body: Any = None, *, raw: bytes | None = None, token: Any = _AUTO,
             content_type: str | None = None, headers: Mapping[str, str] | None = None,
             path: str | None = None) -> Reply:
        """POST a hook request (`body` as JSON, or `raw` bytes as they are)."""
        path = path or f"/cds-services/{service_id}"
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        sent = {"Content-Type": content_type or self.profile.content_type, **(headers or {})}
        return self.transport.send("POST", path, self._headers(path, token, sent), data)

    def feedback(self, service_id: str, body: Any, *, token: Any = _AUTO, raw: bytes | None = None,
                 content_type: str = "application/json") -> Reply:
        path = f"/cds-services/{service_id}/feedback"
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        return self.transport.send("POST", path, self._headers(path, token, {"Content-Type": content_type}), data)

    def preflight(self, path: str, method: str = "POST",
                  request_headers: str | None = "authorization,content-type") -> Reply:
        """An OPTIONS preflight exactly as the sandbox's browser sends it (§2.1)."""
        headers = {"Origin": self.origin or ORIGIN, "Access-Control-Request-Method": method}
        if request_headers:
            headers["Access-Control-Request-Headers"] = request_headers
        return self.transport.send("OPTIONS", path, headers, None)


# --------------------------------------------------------------------------- request bodies


def fhir_authorization(access_token: str, profile: ClientProfile = SANDBOX, *, patient: str | None = None,
                       scope: str | None = None, extension: bool = False) -> dict[str, Any]:
    """`fhirAuthorization` as the given client fills it in (the sandbox: no `patient`, its fixed scope)."""
    authorization: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": scope or profile.scope,
        "subject": f"{profile.name}-cds-client",
    }
    if patient and profile.sends_patient_in_authorization:
        authorization["patient"] = patient
    if extension:
        authorization["extension"] = {"org.example.ehr.session": {"tier": "test"}}
    return authorization


def hook_request(
    patient_id: str,
    *,
    hook: str = "patient-view",
    prefetch: Mapping[str, Any] | None = None,
    fhir_server: str | None = None,
    authorization: Mapping[str, Any] | None = None,
    user_id: str = "Practitioner/COREPRACTITIONER1",
    hook_instance: str | None = None,
    context: Mapping[str, Any] | None = None,
    extension: bool = False,
    unknown_fields: bool = False,
) -> dict[str, Any]:
    """A CDS Hooks 2.0 request body. `prefetch=None` leaves the member out (no prefetch at all)."""
    body: dict[str, Any] = {
        "hookInstance": hook_instance or str(uuid.uuid4()),
        "hook": hook,
        "context": {"userId": user_id, "patientId": patient_id, **(context or {})},
    }
    if fhir_server:
        body["fhirServer"] = fhir_server
    if authorization:
        body["fhirAuthorization"] = dict(authorization)
    if prefetch is not None:
        body["prefetch"] = dict(prefetch)
    if extension:
        body["extension"] = {"com.example.ehr.encounter-class": "outpatient"}
        body["context"]["extension"] = {"com.example.ehr.department": "oncology"}
    if unknown_fields:
        body["hookVersion"] = "1.0"  # a 3.0 field a 2.0 service must tolerate
        body["encounterClass"] = {"code": "AMB"}
        body["context"]["encounterId"] = "enc-1"
    return body


def draft_orders(*resources: Mapping[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": dict(r)} for r in resources]}


# --------------------------------------------------------------------------- FHIR data


def searchset(resources: list[dict[str, Any]], *, outcome: Mapping[str, Any] | None = None,
              next_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle; `outcome` adds an OperationOutcome entry with `search.mode = outcome` (Epic does)."""
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"http://ehr.test/fhir/{r['resourceType']}/{r.get('id', uuid.uuid4())}", "resource": r,
         "search": {"mode": "match"}}
        for r in resources
    ]
    if outcome is not None:
        entries.append({"resource": dict(outcome), "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if entries:
        bundle["entry"] = entries
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def operation_outcome(code: str = "exception", severity: str = "error", text: str = "search failed") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text}]}


def _template_codes(template: str) -> set[tuple[str, str]]:
    query = parse_qs(urlsplit(template).query)
    return {tuple(item.split("|", 1)) for item in query.get("code", [""])[0].split(",") if "|" in item}  # type: ignore[misc]


OBSERVATION_TEMPLATE_CODES = _template_codes(STAGING_PREFETCH["observations"])


def _matches_template_codes(observation: Mapping[str, Any]) -> bool:
    codings = (observation.get("code") or {}).get("coding") or []
    return any((c.get("system"), c.get("code")) in OBSERVATION_TEMPLATE_CODES for c in codings)


@dataclass(frozen=True)
class PatientData:
    """One patient's FHIR resources, and the prefetch a client would build from them."""

    patient_id: str
    resources: tuple[dict[str, Any], ...]

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["resourceType"] == resource_type]

    @property
    def patient(self) -> dict[str, Any]:
        return next(r for r in self.resources if r["resourceType"] == "Patient" and r["id"] == self.patient_id)

    @property
    def observations(self) -> list[dict[str, Any]]:
        """The Observations the `observations` template asks for (P8: prefetch equals the query)."""
        return [r for r in self.of_type("Observation") if _matches_template_codes(r)]

    def with_resources(self, *extra: dict[str, Any]) -> PatientData:
        return replace(self, resources=(*self.resources, *extra))

    def prefetch(self, *, keys: tuple[str, ...] = ("patient", "conditions", "observations"),
                 outcome_entries: bool = False) -> dict[str, Any]:
        """Full prefetch, or only `keys` (a partial prefetch: the other keys are absent, P1)."""
        outcome = operation_outcome("informational", "information", "results limited to the patient's chart")
        values = {
            "patient": self.patient,
            "conditions": searchset(self.of_type("Condition"), outcome=outcome if outcome_entries else None),
            "observations": searchset(self.observations, outcome=outcome if outcome_entries else None),
        }
        return {key: values[key] for key in keys}

    def transaction(self) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "transaction",
                "entry": [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
                          for r in self.resources]}


EXAMPLE_FHIR = EXAMPLES / "fhir"


@functools.cache
def example_patient(name: str) -> PatientData:
    """A shipped example as FHIR: `examples/fhir/<name>.json` when published, else built from the case JSON.

    Cached: treat the resources as read-only (copy before changing one).
    """
    path = EXAMPLE_FHIR / f"{name}.json"
    bundle = (json.loads(path.read_text(encoding="utf-8")) if path.exists()
              else case_to_bundle(case_from_json(case_document(name)), bundle_type="collection"))
    resources = tuple(entry["resource"] for entry in bundle["entry"])
    patients = [r["id"] for r in resources if r["resourceType"] == "Patient"]
    assert len(patients) == 1, f"{name}: expected one Patient, found {patients}"
    return PatientData(patients[0], resources)


def example_source(name: str) -> str:
    return "examples/fhir" if (EXAMPLE_FHIR / f"{name}.json").exists() else "case_to_bundle"


# --------------------------------------------------------------------------- feedback bodies


def rfc3339_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def accepted(card_uuid: str, *suggestion_uuids: str, timestamp: str | None = None) -> dict[str, Any]:
    return {"card": card_uuid, "outcome": "accepted",
            "acceptedSuggestions": [{"id": s} for s in suggestion_uuids],
            "outcomeTimestamp": timestamp or rfc3339_now()}


def overridden(card_uuid: str, reason: Mapping[str, Any] | None = None, *, comment: str | None = None,
               timestamp: str | None = None) -> dict[str, Any]:
    """As the sandbox sends it: `reason` with code and system only, no display, no userComment."""
    entry: dict[str, Any] = {"card": card_uuid, "outcome": "overridden", "outcomeTimestamp": timestamp or rfc3339_now()}
    override: dict[str, Any] = {}
    if reason:
        override["reason"] = {k: v for k, v in reason.items() if k in ("system", "code")}
    if comment:
        override["userComment"] = comment
    if override:
        entry["overrideReason"] = override
    return entry


# --------------------------------------------------------------------------- loopback JWKS


@dataclass
class JwksServer:
    url: str
    requests: int = 0


@contextmanager
def serve_jwks(jwks: Mapping[str, Any] | None = None) -> Iterator[JwksServer]:
    """Publish a JWK Set on 127.0.0.1 (the client's `jku`), counting fetches."""
    body = json.dumps(jwks or client_keys().jwks()).encode()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                state.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = JwksServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/.well-known/jwks.json")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- reading cards


def observations_in(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The resources a card's suggestion would write, keyed by their code (`system|code`)."""
    found: dict[str, dict[str, Any]] = {}
    for suggestion in card.get("suggestions", ()):
        for action in suggestion.get("actions", ()):
            resource = action.get("resource")
            if resource:
                coding = resource["code"]["coding"][0]
                found[f"{coding['system']}|{coding['code']}"] = {**resource, "_action": action["type"]}
    return found


def codes_of(concept: Mapping[str, Any] | None) -> set[str]:
    return {c["code"] for c in (concept or {}).get("coding", ())}


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID.match(value) is not None


def example_names() -> list[str]:
    return sorted(path.stem for path in (EXAMPLES / "cases").glob("*.json"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the service under test


TEST_AUDIT_HASH_KEY = "test-audit-hash-key-of-at-least-32-characters"


def service_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Production-like settings for a test: JWT required from our three client styles, a fresh store.

    The store is an in-memory SQLite database (a file costs a WAL set-up per test; pass
    `database_url=f"sqlite:///{tmp_path}/x.sqlite3"` when a test needs one). Plain-http FHIR servers
    are allowed (the test servers listen on 127.0.0.1 without TLS). The public base URL is the test
    client's (`https://localhost`: the JWT audience); patients are audited as keyed hashes (the production
    default). The FHIR-server allow-list is left empty (any server: the test servers' ports are random), so
    `/readyz` reports that one production problem unless a test sets it.
    """
    values: dict[str, Any] = {
        "profile": "production",
        "public_base_url": "https://localhost",
        "audit_hash_key": TEST_AUDIT_HASH_KEY,
        "trusted_issuers": trusted_issuers_setting(),
        "allow_http_fhir_servers": True,
        "database_url": "sqlite://",
        "fhir_deadline_seconds": 3.0,
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Service:
    """A service built by the app factory, with a client of each style."""

    app: Flask
    settings: Settings

    def client(self, profile: ClientProfile = SANDBOX, origin: str | None = ORIGIN) -> CdsClient:
        return CdsClient(FlaskTransport(self.app.test_client()), profile, origin)

    @property
    def store(self) -> Store:
        return self.app.extensions["nbcds"].store


@contextmanager
def running_service(tmp_path: Path, **overrides: Any) -> Iterator[Service]:
    settings = service_settings(tmp_path, **overrides)
    app = create_app(settings)
    service_runtime = app.extensions["nbcds"]
    try:
        yield Service(app, settings)
    finally:
        service_runtime.close()


# --------------------------------------------------------------------------- the service's log


def json_log_lines(records: Iterable[logging.LogRecord]) -> list[str]:
    """The records as the service writes them: one JSON object per line (request_log.JsonLineFormatter)."""
    formatter = JsonLineFormatter()
    return [formatter.format(record) for record in records]


def request_lines(caplog: Any) -> list[dict[str, Any]]:
    """The per-request log lines (`event: request`) written while `caplog` captured."""
    lines = [json.loads(line) for line in json_log_lines(caplog.records)
             if json.loads(line)["logger"] == LOGGER_NAME]
    return [line for line in lines if line["event"] == "request"]
