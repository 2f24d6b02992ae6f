"""The CDS client's JWT on every benchmark hook call: a key, the server's settings, a pool of tokens.

Every real call carries ``Authorization: Bearer <JWT>`` (CDS Hooks 2.0, "Trusting CDS Clients"), so the
benchmark server verifies one per call as in production (``NBCDS_REQUIRE_JWT=true`` in the development
profile; only the sandbox issuer stays off):

* a **P-384 key pair** is generated once per benchmark process; the private key never leaves memory, the
  public key is written as a JWK Set into the server's temporary work directory (``jwks_file``: loaded
  at start-up and cached by each worker, like a JWKS URL's keys);
* one **trusted issuer** (``NBCDS_TRUSTED_ISSUERS``) with that file, and ``NBCDS_PUBLIC_BASE_URL`` set to
  the address the benchmark calls, so ``aud`` is the URL called;
* tokens as a client mints them: header ``{"alg": "ES384", "kid", "typ": "JWT"}``, claims ``iss``,
  ``aud`` (the hook endpoint's URL), ``iat`` (now), ``exp`` (``iat`` + 5 minutes, as the CDS Hooks
  sandbox does; longer only for very long runs, never over an hour) and a unique ``jti`` (the service
  keeps a replay cache: every request needs its own token).

Signing costs about 0.2 ms of CPU on the two cores the server uses, so tokens are **minted before each
load run** (``TokenPool.take``), never during one: the load generator only picks the next token of the
pool (``benchmarks.load``). A token a run did not use goes back to the pool for the next run, while it
has enough life left. All tokens of a pool have the same length, so every request, the floor's included,
carries the same number of header bytes.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://ehr.bench.test"
KEY_ID = "nbcds-bench-es384"
ALGORITHM = "ES384"
TOKEN_LIFETIME_SECONDS = 300  # the CDS Hooks sandbox's; the service refuses over 3,600
MAX_TOKEN_LIFETIME_SECONDS = 3600
_COORDINATE_BYTES = 48  # P-384


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64url_int(value: int) -> str:
    return _b64url(value.to_bytes(_COORDINATE_BYTES, "big")).decode("ascii")


@cache
def _private_key() -> ec.EllipticCurvePrivateKey:
    """This process's client key (P-384), generated on first use and kept in memory only."""
    return ec.generate_private_key(ec.SECP384R1())


def public_jwks() -> dict[str, object]:
    """The client's JWK Set: its public key only."""
    numbers = _private_key().public_key().public_numbers()
    return {"keys": [{"kty": "EC", "crv": "P-384", "x": _b64url_int(numbers.x), "y": _b64url_int(numbers.y),
                      "kid": KEY_ID, "use": "sig", "alg": ALGORITHM}]}


def server_environment(directory: Path, base_url: str) -> dict[str, str]:
    """The ``NBCDS_*`` settings of a server that verifies this client's tokens, sent to ``base_url``.

    Writes the public JWK Set to ``directory/client-jwks.json`` (a temporary directory: never committed).
    """
    jwks_file = directory / "client-jwks.json"
    jwks_file.write_text(json.dumps(public_jwks()), encoding="utf-8")
    return {
        "NBCDS_REQUIRE_JWT": "true",
        "NBCDS_TRUST_SANDBOX_ISSUER": "false",
        "NBCDS_TRUSTED_ISSUERS": json.dumps([{"issuer": ISSUER, "jwks_file": str(jwks_file)}]),
        "NBCDS_PUBLIC_BASE_URL": base_url,
    }


def lifetime_for(run_seconds: float) -> int:
    """A token lifetime that outlives a run of ``run_seconds`` (5 minutes unless runs are very long)."""
    return int(min(MAX_TOKEN_LIFETIME_SECONDS, max(TOKEN_LIFETIME_SECONDS, 2 * run_seconds + 120)))


class TokenMinter:
    """Signs client JWTs for one audience (the hook endpoint's URL)."""

    def __init__(self, audience: str, *, lifetime_seconds: int = TOKEN_LIFETIME_SECONDS) -> None:
        if not 0 < lifetime_seconds <= MAX_TOKEN_LIFETIME_SECONDS:
            raise ValueError("a token lifetime must be positive and at most an hour")
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self._header = _b64url(json.dumps({"alg": ALGORITHM, "kid": KEY_ID, "typ": "JWT"},
                                          separators=(",", ":")).encode())
        self._signature = ec.ECDSA(hashes.SHA384())

    def mint(self, count: int) -> list[bytes]:
        """``count`` tokens (compact JWS, ASCII bytes), each with its own ``jti``, issued now."""
        key = _private_key()
        issued_at = int(time.time())
        tokens = []
        for _ in range(count):
            claims = {"iss": ISSUER, "aud": self.audience, "iat": issued_at,
                      "exp": issued_at + self.lifetime_seconds, "jti": str(uuid.uuid4())}
            signing_input = self._header + b"." + _b64url(json.dumps(claims, separators=(",", ":")).encode())
            r, s = decode_dss_signature(key.sign(signing_input, self._signature))
            raw = r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")
            tokens.append(signing_input + b"." + _b64url(raw))
        return tokens


@dataclass(frozen=True)
class TokenBatch:
    """Tokens for one run; ``minted_at`` is when the oldest of them was signed."""

    tokens: list[bytes]
    minted_at: float


class TokenPool:
    """Unused tokens for one server, handed out before each run, minted when the pool runs short."""

    def __init__(self, audience: str, *, lifetime_seconds: int = TOKEN_LIFETIME_SECONDS) -> None:
        self.minter = TokenMinter(audience, lifetime_seconds=lifetime_seconds)
        self._unused: deque[tuple[float, bytes]] = deque()  # (minted at, token), oldest first
        self._lock = threading.Lock()
        self.minted = 0
        self.mint_seconds = 0.0

    def take(self, count: int, *, run_seconds: float = 0.0) -> TokenBatch:
        """``count`` tokens that will still be valid ``run_seconds`` (plus a minute's margin) from now."""
        with self._lock:
            now = time.time()
            oldest_usable = now - (self.minter.lifetime_seconds - run_seconds - 60)
            while self._unused and self._unused[0][0] < oldest_usable:
                self._unused.popleft()
            reused = [self._unused.popleft() for _ in range(min(count, len(self._unused)))]
            minted_at = reused[0][0] if reused else now
            tokens = [token for _, token in reused]
            missing = count - len(tokens)
            if missing > 0:
                started = time.perf_counter()
                tokens += self.minter.mint(missing)
                self.mint_seconds += time.perf_counter() - started
                self.minted += missing
            return TokenBatch(tokens, minted_at)

    def give_back(self, batch: TokenBatch, used: int) -> None:
        """Return the tokens of ``batch`` after the first ``used`` (those a run never sent)."""
        with self._lock:
            self._unused.extendleft((batch.minted_at, token) for token in reversed(batch.tokens[used:]))


def pool_size(rate_per_second: float, seconds: float, concurrency: int) -> int:
    """Tokens to take for a run of ``seconds`` when the fastest such run so far went at ``rate_per_second``.

    Three times that: on this shared machine the same run's speed varies by a factor of two, and a run
    must not run out of tokens (those it does not send go back to the pool for the next run, so the
    margin costs almost no signing)."""
    return math.ceil(3 * rate_per_second * seconds) + 4 * concurrency
