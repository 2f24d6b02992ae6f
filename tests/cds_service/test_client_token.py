"""Tests of the CDS client JWT verification (cds_service.auth).

Keys are generated at test time; the issuers' JWK Sets are served on loopback by a tiny
http.server that counts requests, so caching and the refetch rate limit can be asserted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.warnings import InsecureKeyLengthWarning

from cds_service.auth import (
    SANDBOX_ISSUER,
    SANDBOX_JKU,
    SANDBOX_JWKS_PATH,
    AuthFailureReason,
    ClientAuthError,
    ClientTokenVerifier,
    InMemoryReplayCache,
    ReplayCacheFullError,
    TrustedIssuer,
    TrustedIssuerConfigError,
    parse_trusted_issuers,
    sandbox_trusted_issuer,
)
from cds_service.protocol.origins import canonical_url

ISS = "https://ehr.example.org/fhir"
OTHER_ISS = "https://meld.example.org"
CALLED = "https://cds.example.org/cds-services/nb-staging"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"


# --------------------------------------------------------------------------- keys and tokens


@dataclass(frozen=True)
class Keys:
    es: ec.EllipticCurvePrivateKey
    es2: ec.EllipticCurvePrivateKey
    rs: rsa.RSAPrivateKey
    rs_small: rsa.RSAPrivateKey
    es256: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        es=ec.generate_private_key(ec.SECP384R1()),
        es2=ec.generate_private_key(ec.SECP384R1()),
        rs=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rs_small=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 - on purpose
        es256=ec.generate_private_key(ec.SECP256R1()),
    )


def public_jwk(private_key: Any, kid: str, alg: str | None) -> dict[str, Any]:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "use": "sig"})
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def default_jwks(keys: Keys) -> dict[str, Any]:
    # The RSA key carries no "alg": it must still be usable for RS384 (PyJWT would assume RS256).
    return {"keys": [public_jwk(keys.es, "es-1", "ES384"), public_jwk(keys.rs, "rs-1", None)]}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def raw_token(header: dict[str, Any], payload: Any, sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode('ascii')))}"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISS,
        "aud": CALLED,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    for name, value in overrides.items():
        if value is DROP:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


DROP = object()


def make_token(
    private_key: Any,
    kid: str,
    alg: str = "ES384",
    headers: dict[str, Any] | None = None,
    **claim_overrides: Any,
) -> str:
    return jwt.encode(
        claims(**claim_overrides),
        private_key,
        algorithm=alg,
        headers={"kid": kid, "typ": "JWT", **(headers or {})},
    )


def bearer(token: str) -> str:
    return f"Bearer {token}"


def reason_of(verifier: ClientTokenVerifier, header: str | None, url: str = CALLED) -> AuthFailureReason:
    with pytest.raises(ClientAuthError) as info:
        verifier.verify(header, url)
    return info.value.reason


# --------------------------------------------------------------------------- loopback JWKS server


@dataclass
class JwksServer:
    jwks: dict[str, Any]
    status: int = 200
    requests: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        state: JwksServer = self.server.state  # type: ignore[attr-defined]
        with state.lock:
            state.requests += 1
            body, status = json.dumps(state.jwks).encode(), state.status
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", "http://127.0.0.1:9/elsewhere.json")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def jwks_server(keys: Keys) -> Iterator[JwksServer]:
    state = JwksServer(jwks=default_jwks(keys))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def verifier(jwks_server: JwksServer) -> ClientTokenVerifier:
    return ClientTokenVerifier([TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url)])


# --------------------------------------------------------------------------- valid tokens


def test_valid_es384_token_and_jwks_is_cached(
    verifier: ClientTokenVerifier, jwks_server: JwksServer, keys: Keys
) -> None:
    token_claims = claims()
    token = jwt.encode(token_claims, keys.es, algorithm="ES384", headers={"kid": "es-1"})
    client = verifier.verify(bearer(token), CALLED)
    assert client.issuer == ISS
    assert client.kid == "es-1"
    assert client.jti == token_claims["jti"]
    assert client.tenant is None
    assert client.subject is None
    assert client.expires_at.timestamp() == token_claims["exp"]
    assert jwks_server.requests == 1
    for _ in range(3):
        verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    assert jwks_server.requests == 1


def test_valid_rs384_token(verifier: ClientTokenVerifier, keys: Keys) -> None:
    client = verifier.verify(bearer(make_token(keys.rs, "rs-1", alg="RS384")), CALLED)
    assert client.kid == "rs-1"


def test_epic_style_token_with_sub_and_nbf(verifier: ClientTokenVerifier, keys: Keys) -> None:
    now = int(time.time())
    token = make_token(keys.rs, "rs-1", alg="RS384", sub="epic-client-id", nbf=now - 300, iat=now)
    client = verifier.verify(bearer(token), CALLED)
    assert client.subject == "epic-client-id"


def test_bearer_scheme_is_case_insensitive(verifier: ClientTokenVerifier, keys: Keys) -> None:
    verifier.verify(f"bearer  {make_token(keys.es, 'es-1')} ", CALLED)


# --------------------------------------------------------------------------- time claims


def test_expired_token_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    now = int(time.time())
    token = make_token(keys.es, "es-1", iat=now - 600, exp=now - 120)
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.EXPIRED


def test_recently_expired_token_within_leeway_accepted(verifier: ClientTokenVerifier, keys: Keys) -> None:
    now = int(time.time())
    verifier.verify(bearer(make_token(keys.es, "es-1", iat=now - 300, exp=now - 10)), CALLED)


def test_nbf_in_future_beyond_leeway_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    now = int(time.time())
    token = make_token(keys.es, "es-1", nbf=now + 300, exp=now + 600)
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.NOT_YET_VALID


def test_iat_slightly_ahead_accepted_thanks_to_leeway(jwks_server: JwksServer, keys: Keys) -> None:
    """The sandbox computes iat = Math.round(now): up to 0.5 s in the future."""
    ahead = math.ceil(time.time() + 0.5)
    issuer = TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url)
    ClientTokenVerifier([issuer]).verify(
        bearer(make_token(keys.es, "es-1", iat=ahead, exp=ahead + 300)), CALLED
    )
    strict = ClientTokenVerifier([issuer], leeway_seconds=0)
    token = make_token(keys.es, "es-1", iat=ahead, exp=ahead + 300)
    assert reason_of(strict, bearer(token)) is AuthFailureReason.NOT_YET_VALID


def test_missing_exp_and_iat_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", exp=DROP))) is AuthFailureReason.MISSING_EXP
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", iat=DROP))) is AuthFailureReason.MISSING_IAT


def test_string_exp_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    # PyJWT alone would accept "1234..." because it only calls int() on it.
    token = make_token(keys.es, "es-1", exp=str(int(time.time()) + 300))
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.INVALID_EXP


def test_overlong_lifetime_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    now = int(time.time())
    token = make_token(keys.es, "es-1", iat=now, exp=now + 7200)
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.LIFETIME_TOO_LONG


# --------------------------------------------------------------------------- audience


def test_wrong_audience_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.es, "es-1", aud="https://cds.example.org/cds-services/other")
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.WRONG_AUDIENCE


def test_missing_and_malformed_audience_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", aud=DROP))) is AuthFailureReason.MISSING_AUD
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", aud=[]))) is AuthFailureReason.INVALID_AUD
    assert (
        reason_of(verifier, bearer(make_token(keys.es, "es-1", aud=[CALLED, 3])))
        is AuthFailureReason.INVALID_AUD
    )


def test_audience_array_containing_called_url_accepted(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.es, "es-1", aud=["https://elsewhere.example/x", CALLED])
    verifier.verify(bearer(token), CALLED)


@pytest.mark.parametrize(
    ("aud", "called"),
    [
        # The sandbox with a discovery URL typed with a trailing slash: both aud and path have "//".
        (
            "https://cds.example.org/cds-services//nb-staging",
            "https://cds.example.org/cds-services//nb-staging",
        ),
        ("https://cds.example.org/cds-services//nb-staging", CALLED),
        (CALLED, "https://cds.example.org/cds-services//nb-staging"),
        ("https://cds.example.org/cds-services/", "https://cds.example.org/cds-services"),
        ("https://CDS.example.org:443/cds-services/nb-staging/feedback", CALLED + "/feedback"),
    ],
)
def test_audience_url_normalisation(verifier: ClientTokenVerifier, keys: Keys, aud: str, called: str) -> None:
    verifier.verify(bearer(make_token(keys.es, "es-1", aud=aud)), called)


def test_normalisation_does_not_merge_distinct_endpoints(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.es, "es-1", aud="https://cds.example.org/cds-services//nb-staging")
    assert reason_of(verifier, bearer(token), CALLED + "/feedback") is AuthFailureReason.WRONG_AUDIENCE
    assert canonical_url("http://h:8080//a//b/") == "http://h:8080/a/b"
    assert canonical_url("sand_man") == "sand_man"


def test_override_audience_only_for_configured_issuer(jwks_server: JwksServer, keys: Keys) -> None:
    verifier = ClientTokenVerifier(
        [
            TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url),
            TrustedIssuer(issuer=OTHER_ISS, jwks_url=jwks_server.url, audiences=("sand_man",)),
        ]
    )
    verifier.verify(bearer(make_token(keys.es, "es-1", iss=OTHER_ISS, aud="sand_man")), CALLED)
    # The configured extra audience does not replace the spec's own rule.
    verifier.verify(bearer(make_token(keys.es, "es-1", iss=OTHER_ISS)), CALLED)
    token = make_token(keys.es, "es-1", iss=ISS, aud="sand_man")
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.WRONG_AUDIENCE


# --------------------------------------------------------------------------- issuer, algorithm, keys


def test_unknown_issuer_rejected_without_fetching(
    verifier: ClientTokenVerifier, jwks_server: JwksServer, keys: Keys
) -> None:
    token = make_token(keys.es, "es-1", iss="https://attacker.example")
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.UNKNOWN_ISSUER
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", iss=DROP))) is AuthFailureReason.MISSING_ISS
    assert jwks_server.requests == 0


def test_alg_none_rejected(verifier: ClientTokenVerifier) -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "es-1"})
    assert reason_of(verifier, bearer(unsigned)) is AuthFailureReason.MALFORMED_TOKEN
    with_junk_signature = raw_token({"alg": "none", "kid": "es-1", "typ": "JWT"}, claims(), lambda _: b"x")
    assert reason_of(verifier, bearer(with_junk_signature)) is AuthFailureReason.UNSUPPORTED_ALG


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_signed_with_public_key_pem_rejected(
    verifier: ClientTokenVerifier, jwks_server: JwksServer, keys: Keys, alg: str
) -> None:
    """The classic key-confusion attack: HMAC keyed with the (public) verification key."""
    pem = keys.rs.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    token = raw_token(
        {"alg": alg, "kid": "rs-1", "typ": "JWT"}, claims(), lambda m: hmac.new(pem, m, digest).digest()
    )
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.UNSUPPORTED_ALG
    assert jwks_server.requests == 0


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS384", "EdDSA"])
def test_other_asymmetric_algorithms_rejected(verifier: ClientTokenVerifier, alg: str) -> None:
    token = raw_token({"alg": alg, "kid": "es-1"}, claims(), lambda _: b"signature")
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.UNSUPPORTED_ALG


def test_algorithm_must_match_the_key(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.rs, "es-1", alg="RS384")  # RS384 header, kid of the EC key
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.ALG_KEY_MISMATCH


def test_signature_by_another_key_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.es2, "es-1")
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.BAD_SIGNATURE


def test_missing_kid_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = jwt.encode(claims(), keys.es, algorithm="ES384")
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.MISSING_KID


def test_unsupported_typ_and_crit_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.es, "es-1", headers={"typ": "at+jwt"})
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.UNSUPPORTED_TYP
    token = raw_token({"alg": "ES384", "kid": "es-1", "crit": ["exp"], "exp": 1}, claims(), lambda _: b"s")
    assert reason_of(verifier, bearer(token)) in {
        AuthFailureReason.UNSUPPORTED_CRIT,
        AuthFailureReason.MALFORMED_TOKEN,
    }


def test_weak_and_foreign_keys_in_jwks_are_ignored(jwks_server: JwksServer, keys: Keys) -> None:
    jwks_server.jwks = {
        "keys": [
            public_jwk(keys.rs_small, "rsa-1024", None),
            public_jwk(keys.es256, "p256", "ES256"),
            {**public_jwk(keys.es2, "enc-key", "ES384"), "use": "enc"},
            {"kty": "oct", "kid": "hmac", "k": b64url(b"secret")},
            public_jwk(keys.es, "es-1", "ES384"),
        ]
    }
    verifier = ClientTokenVerifier([TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url)])
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    assert verifier.jwks_cache.kids(ISS) == {"es-1"}
    with pytest.warns(InsecureKeyLengthWarning):
        weak = make_token(keys.rs_small, "rsa-1024", alg="RS384")
    assert reason_of(verifier, bearer(weak)) is AuthFailureReason.UNKNOWN_KID


# --------------------------------------------------------------------------- key rotation and refetch


def test_unknown_kid_refetches_once_per_interval(jwks_server: JwksServer, keys: Keys) -> None:
    clock = FakeClock()
    verifier = ClientTokenVerifier(
        [TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url)], jwks_min_refetch_seconds=5, monotonic=clock
    )
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    assert jwks_server.requests == 1

    # The client rotates to a new key.
    jwks_server.jwks = {"keys": [*default_jwks(keys)["keys"], public_jwk(keys.es2, "es-2", "ES384")]}
    new_key_token = make_token(keys.es2, "es-2")

    # Within the interval of the first fetch: no refetch yet.
    assert reason_of(verifier, bearer(new_key_token)) is AuthFailureReason.UNKNOWN_KID
    assert jwks_server.requests == 1

    clock.advance(6)
    client = verifier.verify(bearer(new_key_token), CALLED)
    assert client.kid == "es-2"
    assert jwks_server.requests == 2

    # A second unknown kid within the interval must not hit the server again.
    clock.advance(1)
    assert reason_of(verifier, bearer(make_token(keys.es, "es-3"))) is AuthFailureReason.UNKNOWN_KID
    assert reason_of(verifier, bearer(make_token(keys.es, "es-4"))) is AuthFailureReason.UNKNOWN_KID
    assert jwks_server.requests == 2
    # Known keys keep working without any fetch.
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    assert jwks_server.requests == 2

    clock.advance(5)
    assert reason_of(verifier, bearer(make_token(keys.es, "es-3"))) is AuthFailureReason.UNKNOWN_KID
    assert jwks_server.requests == 3


def test_stale_jwks_is_refreshed_and_withdrawn_key_stops_working(jwks_server: JwksServer, keys: Keys) -> None:
    clock = FakeClock()
    verifier = ClientTokenVerifier(
        [TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url)], jwks_max_age_seconds=600, monotonic=clock
    )
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    jwks_server.jwks = {"keys": [public_jwk(keys.es2, "es-2", "ES384")]}
    clock.advance(601)
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1"))) is AuthFailureReason.UNKNOWN_KID
    assert jwks_server.requests == 2


def test_failed_refetch_keeps_known_keys(jwks_server: JwksServer, keys: Keys) -> None:
    clock = FakeClock()
    verifier = ClientTokenVerifier(
        [TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url)], jwks_max_age_seconds=600, monotonic=clock
    )
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    jwks_server.status = 500
    clock.advance(601)
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    assert jwks_server.requests == 2


@pytest.mark.parametrize("status", [404, 500, 302])
def test_jwks_endpoint_failure_is_rate_limited(jwks_server: JwksServer, keys: Keys, status: int) -> None:
    jwks_server.status = status  # a redirect is not followed either
    verifier = ClientTokenVerifier([TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url)])
    for _ in range(3):
        assert reason_of(verifier, bearer(make_token(keys.es, "es-1"))) is AuthFailureReason.JWKS_UNAVAILABLE
    assert jwks_server.requests == 1


def test_unreachable_jwks_endpoint(keys: Keys) -> None:
    # Port 9 (discard) on loopback is closed in the test environment: connection refused, fast.
    verifier = ClientTokenVerifier(
        [TrustedIssuer(issuer=ISS, jwks_url="http://127.0.0.1:9/jwks.json")], jwks_fetch_deadline_seconds=0.5
    )
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1"))) is AuthFailureReason.JWKS_UNAVAILABLE


def test_jwks_file_source_is_reread_on_rotation(tmp_path: Path, keys: Keys) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(keys.es, "es-1", "ES384")]}))
    clock = FakeClock()
    verifier = ClientTokenVerifier([TrustedIssuer(issuer=ISS, jwks_file=str(path))], monotonic=clock)
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    path.write_text(json.dumps({"keys": [public_jwk(keys.es2, "es-2", "ES384")]}))
    clock.advance(6)
    verifier.verify(bearer(make_token(keys.es2, "es-2")), CALLED)


def test_inline_jwks_source(keys: Keys) -> None:
    verifier = ClientTokenVerifier([TrustedIssuer(issuer=ISS, jwks=default_jwks(keys))])
    verifier.verify(bearer(make_token(keys.rs, "rs-1", alg="RS384")), CALLED)


# --------------------------------------------------------------------------- jti, jku, tenant


def test_replayed_jti_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.es, "es-1")
    verifier.verify(bearer(token), CALLED)
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.REPLAYED_JTI
    # Same jti in a freshly signed token is a replay too.
    jti = str(uuid.uuid4())
    verifier.verify(bearer(make_token(keys.es, "es-1", jti=jti)), CALLED)
    assert reason_of(verifier, bearer(make_token(keys.rs, "rs-1", alg="RS384", jti=jti))) is (
        AuthFailureReason.REPLAYED_JTI
    )


def test_failed_verification_does_not_burn_the_jti(verifier: ClientTokenVerifier, keys: Keys) -> None:
    jti = str(uuid.uuid4())
    forged = make_token(keys.es2, "es-1", jti=jti)
    assert reason_of(verifier, bearer(forged)) is AuthFailureReason.BAD_SIGNATURE
    verifier.verify(bearer(make_token(keys.es, "es-1", jti=jti)), CALLED)


def test_missing_or_invalid_jti_rejected(verifier: ClientTokenVerifier, keys: Keys) -> None:
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", jti=DROP))) is AuthFailureReason.MISSING_JTI
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", jti=""))) is AuthFailureReason.INVALID_JTI
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1", jti=42))) is AuthFailureReason.INVALID_JTI


def test_jku_must_be_configured_for_the_issuer(jwks_server: JwksServer, keys: Keys) -> None:
    allowed = "https://ehr.example.org/api/epic/2019/Security/Open/PublicKeys/123/jwks"
    verifier = ClientTokenVerifier(
        [TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url, allowed_jku=(allowed,))]
    )
    evil = make_token(keys.es, "es-1", headers={"jku": "https://attacker.example/jwks.json"})
    assert reason_of(verifier, bearer(evil)) is AuthFailureReason.UNTRUSTED_JKU
    assert jwks_server.requests == 0
    verifier.verify(bearer(make_token(keys.es, "es-1", headers={"jku": jwks_server.url})), CALLED)
    verifier.verify(bearer(make_token(keys.es, "es-1", headers={"jku": allowed})), CALLED)
    assert jwks_server.requests == 1  # the allowed jku is compared, never fetched


def test_tenant_allow_list(jwks_server: JwksServer, keys: Keys) -> None:
    verifier = ClientTokenVerifier(
        [TrustedIssuer(issuer=ISS, jwks_url=jwks_server.url, tenants=("hospital-a", "hospital-b"))]
    )
    assert (
        verifier.verify(bearer(make_token(keys.es, "es-1", tenant="hospital-a")), CALLED).tenant
        == "hospital-a"
    )
    token = make_token(keys.es, "es-1", tenant="hospital-z")
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.TENANT_NOT_ALLOWED
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1"))) is AuthFailureReason.TENANT_NOT_ALLOWED
    token = make_token(keys.es, "es-1", tenant=["hospital-a"])
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.INVALID_TENANT


def test_tenant_is_optional_without_allow_list(verifier: ClientTokenVerifier, keys: Keys) -> None:
    assert verifier.verify(bearer(make_token(keys.es, "es-1", tenant="t1")), CALLED).tenant == "t1"


# --------------------------------------------------------------------------- header parsing


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, AuthFailureReason.MISSING_AUTHORIZATION),
        ("", AuthFailureReason.MISSING_AUTHORIZATION),
        ("   ", AuthFailureReason.MISSING_AUTHORIZATION),
        ("Basic dXNlcjpwYXNz", AuthFailureReason.NOT_BEARER),
        ("eyJhbGciOiJFUzM4NCJ9.e30.c2ln", AuthFailureReason.NOT_BEARER),
        ("Bearer", AuthFailureReason.MALFORMED_TOKEN),
        ("Bearer garbage", AuthFailureReason.MALFORMED_TOKEN),
        ("Bearer a.b.c", AuthFailureReason.MALFORMED_TOKEN),
        ("Bearer a.b", AuthFailureReason.MALFORMED_TOKEN),
        ("Bearer a b c", AuthFailureReason.MALFORMED_TOKEN),
        ("Bearer e30.e30.c2ln", AuthFailureReason.UNSUPPORTED_ALG),
        ("Bearer W10.e30.c2ln", AuthFailureReason.MALFORMED_TOKEN),  # header is a JSON list
        ("Bearer " + "a" * 20000, AuthFailureReason.TOKEN_TOO_LARGE),
    ],
)
def test_malformed_authorization_headers(
    verifier: ClientTokenVerifier, header: str | None, reason: AuthFailureReason
) -> None:
    assert reason_of(verifier, header) is reason


def test_error_never_contains_the_token(verifier: ClientTokenVerifier, keys: Keys) -> None:
    token = make_token(keys.es2, "es-1")
    with pytest.raises(ClientAuthError) as info:
        verifier.verify(bearer(token), CALLED)
    assert str(info.value) == "bad_signature"
    assert info.value.issuer == ISS
    assert token not in repr(info.value.args)


# --------------------------------------------------------------------------- sandbox (dev profile)


def test_shipped_sandbox_jwks_loads_with_expected_kid(keys: Keys) -> None:
    assert SANDBOX_JWKS_PATH.parts[-3:] == ("cds_service", "static", "sandbox-cds-hooks-jwks.json")
    jwks = json.loads(SANDBOX_JWKS_PATH.read_text(encoding="utf-8"))
    assert [(k["kid"], k["kty"], k["crv"], k["alg"]) for k in jwks["keys"]] == [
        (SANDBOX_KID, "EC", "P-384", "ES384")
    ]
    assert not any("d" in k for k in jwks["keys"])  # public key only

    issuer = sandbox_trusted_issuer()
    assert issuer.issuer == SANDBOX_ISSUER == "https://sandbox.cds-hooks.org"
    assert SANDBOX_JKU in issuer.accepted_jku
    verifier = ClientTokenVerifier([issuer])
    assert verifier.jwks_cache.kids(SANDBOX_ISSUER) == {SANDBOX_KID}

    # A token shaped like the sandbox's reaches the signature check (jku allowed, kid found)...
    token = make_token(keys.es, SANDBOX_KID, iss=SANDBOX_ISSUER, headers={"jku": SANDBOX_JKU})
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.BAD_SIGNATURE
    # ...while a jku pointing elsewhere is refused.
    token = make_token(
        keys.es, SANDBOX_KID, iss=SANDBOX_ISSUER, headers={"jku": "https://evil.example/jwks.json"}
    )
    assert reason_of(verifier, bearer(token)) is AuthFailureReason.UNTRUSTED_JKU


# --------------------------------------------------------------------------- configuration


def test_parse_trusted_issuers_from_json(tmp_path: Path, keys: Keys) -> None:
    jwks_file = tmp_path / "oracle.json"
    jwks_file.write_text(json.dumps(default_jwks(keys)))
    raw = json.dumps(
        [
            {"issuer": "https://cds-hooks.cerner.com", "jwks_file": str(jwks_file), "tenants": ["t1"]},
            {"issuer": OTHER_ISS, "jwks_url": "https://meld.example.org/jwks", "audiences": ["sand_man"]},
            {"issuer": ISS, "jwks": default_jwks(keys), "allowed_jku": ["https://ehr.example.org/jwks"]},
        ]
    )
    issuers = parse_trusted_issuers(raw)
    assert [i.issuer for i in issuers] == ["https://cds-hooks.cerner.com", OTHER_ISS, ISS]
    assert issuers[0].tenants == ("t1",)
    assert issuers[1].audiences == ("sand_man",)
    assert issuers[2].allowed_jku == ("https://ehr.example.org/jwks",)
    ClientTokenVerifier(issuers)
    assert parse_trusted_issuers("") == ()
    assert parse_trusted_issuers(None) == ()


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        '{"issuer": "x"}',
        '[{"issuer": "x"}]',
        '[{"issuer": "x", "jwks_url": "https://a/jwks", "jwks_file": "/tmp/j.json"}]',
        '[{"issuer": "x", "jwks_url": "http://keys.example.org/jwks"}]',
        '[{"issuer": "x", "jwks_url": "file:///etc/passwd"}]',
        '[{"issuer": "x", "jwks_url": "https://a/jwks", "audiences": "sand_man"}]',
        '[{"issuer": "x", "jwks_url": "https://a/jwks", "audience": ["typo"]}]',
        '[{"issuer": "", "jwks_url": "https://a/jwks"}]',
        '[{"issuer": "x", "jwks": {"no": "keys"}}]',
        '[{"issuer": "x", "jwks_url": "https://a/jwks"}, {"issuer": "x", "jwks_url": "https://b/jwks"}]',
    ],
)
def test_invalid_trusted_issuer_config_rejected(raw: str) -> None:
    with pytest.raises(TrustedIssuerConfigError):
        parse_trusted_issuers(raw)


def test_unusable_inline_or_file_jwks_fails_at_startup(tmp_path: Path, keys: Keys) -> None:
    with pytest.raises(TrustedIssuerConfigError):
        ClientTokenVerifier(
            [TrustedIssuer(issuer=ISS, jwks={"keys": [public_jwk(keys.es256, "k", "ES256")]})]
        )
    with pytest.raises(TrustedIssuerConfigError):
        ClientTokenVerifier([TrustedIssuer(issuer=ISS, jwks_file=str(tmp_path / "missing.json"))])


# --------------------------------------------------------------------------- replay cache


def test_replay_cache_expiry_and_bound() -> None:
    clock = FakeClock(100.0)
    cache = InMemoryReplayCache(max_entries=2, clock=clock)
    assert cache.check_and_store("i", "a", 110.0)
    assert not cache.check_and_store("i", "a", 110.0)
    assert cache.check_and_store("j", "a", 110.0)  # jti is scoped by issuer
    with pytest.raises(ReplayCacheFullError):
        cache.check_and_store("i", "b", 120.0)
    clock.advance(10)  # both entries expire exactly now
    assert len(cache) == 0
    assert cache.check_and_store("i", "b", 120.0)
    assert cache.check_and_store("i", "a", 120.0)


def test_replay_cache_is_thread_safe() -> None:
    cache = InMemoryReplayCache()
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        fresh = cache.check_and_store("iss", "same-jti", time.time() + 60)
        with lock:
            results.append(fresh)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True]


def test_replay_cache_full_is_an_auth_failure(keys: Keys) -> None:
    verifier = ClientTokenVerifier(
        [TrustedIssuer(issuer=ISS, jwks=default_jwks(keys))], replay_cache=InMemoryReplayCache(max_entries=1)
    )
    verifier.verify(bearer(make_token(keys.es, "es-1")), CALLED)
    assert reason_of(verifier, bearer(make_token(keys.es, "es-1"))) is AuthFailureReason.REPLAY_CACHE_FULL


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def offline_verifier(keys: Keys) -> ClientTokenVerifier:
    return ClientTokenVerifier(
        [
            TrustedIssuer(issuer=ISS, jwks=default_jwks(keys)),
            TrustedIssuer(issuer=OTHER_ISS, jwks=default_jwks(keys), audiences=("sand_man",), tenants=("t",)),
        ]
    )


def _only_client_auth_error(verifier: ClientTokenVerifier, header: str) -> None:
    try:
        verifier.verify(header, CALLED)
    except ClientAuthError as exc:
        assert isinstance(exc.reason, AuthFailureReason)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(
        st.text(),
        st.text().map(lambda s: "Bearer " + s),
        st.from_regex(r"\ABearer [A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}\Z"),
    )
)
def test_random_authorization_headers_only_raise_client_auth_error(
    offline_verifier: ClientTokenVerifier, header: str
) -> None:
    _only_client_auth_error(offline_verifier, header)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
_MISSING = object()


def _maybe(*plausible: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(_MISSING), st.sampled_from(plausible), _JSON)


def _times() -> st.SearchStrategy[Any]:
    now = int(time.time())
    return st.one_of(_maybe(now, now - 30, now - 3600, now + 300, now + 10**6), st.integers(), st.floats())


# Start from a well-formed, correctly signed token and perturb a few fields, so that most examples
# get past parsing and exercise the issuer, key, claim and replay checks with odd values.
_HEADER_MUTATIONS: dict[str, st.SearchStrategy[Any]] = {
    "alg": _maybe("ES384", "RS384", "none", "HS256", "ES256"),
    "kid": _maybe("es-1", "rs-1", "nope", ""),
    "typ": _maybe("JWT", "jwt", "at+jwt"),
    "jku": _maybe("https://attacker.example/jwks.json"),
    "crit": _maybe(["b64"], ["exp"], []),
    "b64": _maybe(False, True),
}
_CLAIM_MUTATIONS: dict[str, st.SearchStrategy[Any]] = {
    "iss": _maybe(ISS, OTHER_ISS, "https://unknown.example"),
    "aud": _maybe(CALLED, [CALLED], "sand_man", ["sand_man", 1], CALLED + "//", "https://[::1"),
    "exp": _times(),
    "iat": _times(),
    "nbf": _times(),
    "jti": _maybe("a", "", "x" * 300),
    "tenant": _maybe("t", "u"),
    "sub": _maybe("s"),
}


@st.composite
def _perturbed_tokens(draw: st.DrawFn) -> tuple[dict[str, Any], Any, str]:
    now = int(time.time())
    signer = draw(st.sampled_from(["es", "rs", "junk"]))
    header: dict[str, Any] = {
        "alg": "RS384" if signer == "rs" else "ES384",
        "kid": f"{signer}-1",
        "typ": "JWT",
    }
    payload: Any = {
        "iss": draw(st.sampled_from([ISS, OTHER_ISS])),
        "aud": CALLED,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "tenant": "t",
    }
    for target, mutations in ((header, _HEADER_MUTATIONS), (payload, _CLAIM_MUTATIONS)):
        for name in draw(st.lists(st.sampled_from(sorted(mutations)), max_size=3, unique=True)):
            value = draw(mutations[name])
            if value is _MISSING:
                target.pop(name, None)
            else:
                target[name] = value
    if draw(st.integers(0, 19)) == 7:
        payload = draw(_JSON)  # not even a JSON object
    return header, payload, signer


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token_parts=_perturbed_tokens())
def test_random_structured_tokens_only_raise_client_auth_error(
    offline_verifier: ClientTokenVerifier, keys: Keys, token_parts: tuple[dict[str, Any], Any, str]
) -> None:
    header, payload, signer = token_parts

    def sign(message: bytes) -> bytes:
        if signer == "es":
            return ECAlgorithm(ECAlgorithm.SHA384).sign(message, keys.es)
        if signer == "rs":
            return RSAAlgorithm(RSAAlgorithm.SHA384).sign(message, keys.rs)
        return b"junk"

    _only_client_auth_error(offline_verifier, bearer(raw_token(header, payload, sign)))
