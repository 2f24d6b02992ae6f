"""The client's `fhirServer`: a validated base URL and its origin (`cds_service.protocol.origins`).

The origin decides where the access token may go: a `next` link is followed, with the token, only
when its origin equals the `fhirServer`'s. Credentials in a URL (`https://user:pw@host`) are refused,
because an HTTP client would turn them into a Basic `Authorization` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from cds_service.protocol.origins import Origin

__all__ = ["FhirBase", "InvalidFhirServerError"]


class InvalidFhirServerError(ValueError):
    """The `fhirServer` is not an absolute http(s) URL without credentials, query or fragment."""


@dataclass(frozen=True)
class FhirBase:
    """A FHIR server's base URL, without a trailing slash."""

    url: str
    origin: Origin

    @classmethod
    def parse(cls, url: object) -> FhirBase:
        """Validate a `fhirServer` value (with or without trailing slash); total: anything else raises
        `InvalidFhirServerError` (an unbalanced `http://[::1` included)."""
        origin = Origin.of(url)
        if origin is None or not isinstance(url, str):
            raise InvalidFhirServerError("fhirServer must be an absolute http(s) URL without credentials")
        if "?" in url or "#" in url:
            raise InvalidFhirServerError("fhirServer must not have a query or fragment")
        return cls(url.rstrip("/"), origin)

    def join(self, relative: str) -> str:
        """`Patient/1` → `{base}/Patient/1` (the relative reference is a rendered template)."""
        return f"{self.url}/{relative.lstrip('/')}"

    def resolve_link(self, link: str, page_url: str | None) -> str | None:
        """Absolute form of a Bundle link, or None when it is not a URL at all. FHIR says links are
        absolute; relative ones are resolved against the page they came from, or the base when the
        page was prefetched."""
        try:
            return urljoin(page_url or f"{self.url}/", link)
        except ValueError:  # e.g. an unbalanced IPv6 bracket
            return None

    def is_same_origin(self, url: str | None) -> bool:
        """Whether `url` may be sent the access token: its origin is the FHIR server's."""
        return url is not None and Origin.of(url) == self.origin
