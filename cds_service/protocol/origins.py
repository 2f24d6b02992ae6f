"""One rule for origins and URLs, used everywhere a URL is compared or trusted.

Every place that compares URLs uses this module: the FHIR-server allow-list and the tokenless list,
``next`` links while paging (same origin only), the JWT ``aud`` check, the CORS origin list and the
JWKS URL check. Before, four normalisers disagreed (``https://host`` vs ``https://host:443``).

- ``Origin.of(url)``: the RFC 6454 origin of an absolute http(s) URL: lower-case scheme and host, the
  port made explicit (80/443 by default). ``None`` for anything else: a relative URL, another scheme,
  credentials in the URL (``requests`` would turn them into a Basic ``Authorization`` header), a bad port.
- ``str(origin)``: the RFC 6454 serialisation, as browsers send it in the ``Origin`` header (default
  port omitted): ``https://host:443`` and ``https://HOST`` both give ``https://host``.
- ``canonical_url(url)``: an endpoint URL for comparison (the JWT ``aud``): the origin's
  serialisation, the path with repeated slashes collapsed (the sandbox calls ``.../cds-services//id``)
  and without a trailing slash, the query kept, the fragment dropped. A value that is not an absolute
  http(s) URL (MELD's ``aud`` "sand_man") is only stripped of surrounding whitespace.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["DEFAULT_PORTS", "Origin", "canonical_url", "is_loopback_host"]

DEFAULT_PORTS = {"http": 80, "https": 443}
_REPEATED_SLASHES = re.compile(r"/{2,}")


@dataclass(frozen=True)
class Origin:
    """An RFC 6454 origin: scheme, host and explicit port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: object) -> Origin | None:
        """The origin of an absolute http(s) URL without credentials; None for anything else."""
        if not isinstance(url, str) or any(ch.isspace() or not ch.isprintable() for ch in url):
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a bad port, an unbalanced IPv6 bracket
            return None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
            return None
        return cls(scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS[scheme])

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def canonical_url(url: str) -> str:
    """``url`` in the form used to compare endpoint URLs (see the module docstring)."""
    text = url.strip()
    origin = Origin.of(text)
    if origin is None:
        return text
    parts = urlsplit(text)
    path = _REPEATED_SLASHES.sub("/", parts.path).rstrip("/")
    return urlunsplit((origin.scheme, str(origin).split("://", 1)[1], path, parts.query, ""))


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or a loopback IP address (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
