"""The client's `fhirServer`: a validated base URL and its origin (scheme, host, port).

The origin decides where the access token may go: a `next` link is followed, with the token, only
when its origin equals the `fhirServer`'s. Credentials in a URL (`https://user:pw@host`) are refused,
because `requests` would turn them into a Basic `Authorization` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

__all__ = ["FhirBase", "InvalidFhirServerError", "Origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidFhirServerError(ValueError):
    """The `fhirServer` is not an absolute http(s) URL without credentials, query or fragment."""


@dataclass(frozen=True)
class Origin:
    """RFC 6454 origin: lower-case scheme and host, explicit port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an absolute http(s) URL; None for anything else (relative, other scheme,
        credentials in the URL, bad port)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
            return None
        return cls(scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme])

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass(frozen=True)
class FhirBase:
    """A FHIR server's base URL, without a trailing slash."""

    url: str
    origin: Origin

    @classmethod
    def parse(cls, url: str) -> FhirBase:
        """Validate a `fhirServer` value (with or without trailing slash)."""
        if not isinstance(url, str) or any(ch.isspace() for ch in url):
            raise InvalidFhirServerError("fhirServer must be a URL without whitespace")
        origin = Origin.of(url)
        if origin is None:
            raise InvalidFhirServerError("fhirServer must be an absolute http(s) URL without credentials")
        parts = urlsplit(url)
        if parts.query or parts.fragment or "?" in url or "#" in url:
            raise InvalidFhirServerError("fhirServer must not have a query or fragment")
        return cls(url.rstrip("/"), origin)

    def join(self, relative: str) -> str:
        """`Patient/1` → `{base}/Patient/1` (the relative reference is a rendered template)."""
        return f"{self.url}/{relative.lstrip('/')}"

    def resolve_link(self, link: str, page_url: str | None) -> str:
        """Absolute form of a Bundle link (FHIR says absolute; relative ones are resolved against the
        page they came from, or the base when the page was prefetched)."""
        return urljoin(page_url or f"{self.url}/", link)
