"""Decoding a request body as strict JSON (RFC 8259); anything else is a 400 saying what is wrong.

Strict: UTF-8 only, no NaN/Infinity (Python extensions), no lone surrogate escapes (they could not be
encoded again), a bounded nesting depth and number length. The error says where, never what.
"""

from __future__ import annotations

import json
import re

from cds_service.protocol.errors import bad_request

JSON_MEDIA_TYPES = ("application/json", "application/fhir+json", "application/json+fhir")

# A \uD800-\uDFFF escape: only legal as half of a pair; a lone one cannot be encoded as UTF-8 later.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def decode_json(raw: bytes, media_type: str | None) -> object:
    """The body as a JSON value; a wrong content type, bad encoding or bad JSON raises a 400 ``CdsError``."""
    if (media_type or "").lower() not in JSON_MEDIA_TYPES:
        raise bad_request("the request body must be JSON (Content-Type: application/json)")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant)
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    except UnicodeDecodeError:
        raise bad_request("the request body is not valid UTF-8") from None
    except UnicodeEncodeError:
        raise bad_request("the request body has a lone surrogate \\u escape (RFC 8259 §8.2)") from None
    except json.JSONDecodeError as error:
        raise bad_request(f"the request body is not valid JSON (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise bad_request("the request body is nested too deeply") from None
    except ValueError:  # NaN/Infinity, or an integer over Python's 4300-digit conversion limit
        raise bad_request("the request body is not valid JSON (NaN, Infinity or a number too long)") from None
    return value
